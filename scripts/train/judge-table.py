"""The test-split judgement of demo-model candidates as one Markdown table, from `kn experiment report <dir> --json`
outputs: python3 scripts/train/judge-table.py '<label>=<report.json>' ...  (MaTrice, AMIG, Random, each
language's own set, and the knock-out at k = 1, 4, 16; ΔP and flip rate over the queries the model knew)."""
import json,sys
L=['zh','en','fr','fi','hu','ja','ko']
rows=[]
for arg in sys.argv[1:]:
    label,path=arg.rsplit('=',1)
    d=json.load(open(path))
    for m in [m for m in ['matrice','amig','random'] if m in d['methods']]:
        v=d['methods'][m]; ls=v['languages']
        sup=[ls[l]['suppress'] for l in L]
        mean=sum(sup)/7
        flips=sum(ls[l]['flipRate']*ls[l]['known'] for l in L)/sum(ls[l]['known'] for l in L)
        enh=sum(ls[l]['enhance'] for l in L)/7
        cov=v.get('coverageMean')
        rows.append(f"| {label} | {m} | {v['selectedMedian']} | {cov if cov is None else round(cov,2)} | {mean*100:.1f} % | "+" | ".join(f"{x*100:.1f}" for x in sup)+f" | {flips*100:.1f} % | {enh*100:+.1f} % |")
    s=d['perLanguageSets']
    own=[s[l]['suppress'] for l in L]
    rows.append(f"| {label} | own sets | {'/'.join(str(s[l]['selectedMedian']) for l in L)} | — | {sum(own)/7*100:.1f} % | "+" | ".join(f"{x*100:.1f}" for x in own)+" | — | — |")
    k=d['knockout']; idx=[k['k'].index(x) for x in (1,4,16)]
    top='/'.join('%.1f'%(k['top'][i]*100) for i in idx); rnd='/'.join('%.1f'%(k['random'][i]*100) for i in idx)
    rows.append(f"| {label} | knock-out top-k by S, k = 1/4/16 | — | — | {top} % (Random {rnd} %) | "+" | ".join('' for _ in L)+" | — | — |")
print("| model | method | median selection | coverage | suppress ΔP mean of 7 | "+" | ".join(L)+" | flip rate | enhance ΔP |")
print("|---|---|---|---|---|"+"---|"*7+"---|---|")
print("\n".join(rows))

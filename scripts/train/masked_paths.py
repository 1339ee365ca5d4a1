"""Where does a masked demo model's fact come from at the mask position? Direct logit attribution + ablations.

  .cache/venv-ref/bin/python scripts/train/masked_paths.py --hf <HF BertForMaskedLM folder> \
      --queries <file from scripts/train/dump-queries.ts --split all> [--facts 20] [--split dev] [--seed 1] [--out f.json]

For each picked fact (known: trained-template top-1 correct on >= half of its queries in >= 4 languages; seeded
pick from the split), on its trained-template queries, at the mask position:

Direct logit attribution (DLA), exact: the model's computation at the mask position is written as a sum of
components (word / position / type embedding, layer-0 attention split by source position: subject tokens,
template tokens, the mask itself, [CLS]/[SEP], the value and output biases; each layer's FFN output (its neurons) and
FFN bias; every LayerNorm's beta; the MLM head's biases). Every LayerNorm's scale 1/std and the MLM head transform's
ReLU gate are frozen at their actual values, so the map from the residual stream to the logits is affine and the
components' scores sum exactly to (logit of the correct object) - (mean logit over the vocabulary). A component's
score is its share of that margin: how much reaches the logit directly, not through a later FFN.

Ablations (relative change of P(correct), mean over queries): zero the layer-0 attention output at the mask position;
remove only the subject tokens' value contributions to it; zero each layer's FFN activations (bias kept); knock out
the top-k neurons (k = 1, 4, 16) of the query by DLA score and by activation x gradient.
Also: the layer-0 attention weights from the mask position per source group (mean over heads).
"""
import argparse
import json
import math
import random
from collections import defaultdict

import numpy as np
import torch
from transformers import BertForMaskedLM

LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko']


def subject_positions(q, same_template):
    """positions of q's tokens outside the common prefix / suffix with another fact's query of the template (the widest
    such span over the other facts: a subject that shares a boundary token with one other subject still counts whole;
    template tokens merged with the subject by the tokenizer count as subject)"""
    ids = q['ids']
    best = None
    for o in same_template:
        if o['fact'] == q['fact'] or o['subject'] == q['subject']:
            continue
        oi = o['ids']
        a = 0
        while a < min(len(ids), len(oi)) and ids[a] == oi[a]:
            a += 1
        b = 0
        while b < min(len(ids), len(oi)) - a and ids[-1 - b] == oi[-1 - b]:
            b += 1
        span = set(range(a, len(ids) - b))
        if best is None or len(span) > len(best):
            best = span
    return best or set()


class Decomp:
    """a residual-stream vector as a dict of named components (their sum is the actual vector)"""

    def __init__(self, comps):
        self.c = dict(comps)

    def total(self):
        return sum(self.c.values())

    def add(self, name, v):
        self.c[name] = self.c.get(name, 0) + v

    def linear(self, W, b, bias_name):
        out = {k: v @ W.T for k, v in self.c.items()}
        d = Decomp(out)
        if b is not None:
            d.add(bias_name, b)
        return d

    def layernorm(self, ln, beta_name):
        x = self.total()
        mu, var = x.mean(), x.var(unbiased=False)
        s = torch.sqrt(var + ln.eps)
        out = {k: ln.weight * (v - v.mean()) / s for k, v in self.c.items()}
        d = Decomp(out)
        d.add(beta_name, ln.bias)
        return d

    def gate(self, mask):
        return Decomp({k: v * mask for k, v in self.c.items()})


@torch.no_grad()
def analyse(model, q, subj, ablate=None):
    """margin scores per component, P(correct), layer-0 attention weights per source group"""
    bert = model.bert
    ids = torch.tensor(q['ids'])
    T, p, y = len(ids), q['position'], q['label']
    E = bert.embeddings
    word = E.word_embeddings.weight[ids]
    pos = E.position_embeddings.weight[:T]
    typ = E.token_type_embeddings.weight[0].expand(T, -1)
    x_all = E.LayerNorm(word + pos + typ)
    r = Decomp({'emb.word': word[p], 'emb.pos': pos[p], 'emb.type': typ[p]}).layernorm(E.LayerNorm, 'emb.ln.beta')
    assert torch.allclose(r.total(), x_all[p], atol=1e-4)
    groups = []
    for j in range(T):
        tid = int(ids[j])
        if j == p:
            groups.append('mask')
        elif j in subj:
            groups.append('subj')
        elif j == 0 or j == T - 1:
            groups.append('special')
        else:
            groups.append('template')
    neuron_scores, acts_out, attn_w = [], [], None
    layers = bert.encoder.layer
    ffn_contribs = []
    for l, lay in enumerate(layers):
        sa = lay.attention.self
        H, dh = sa.num_attention_heads, sa.attention_head_size
        Q = (x_all @ sa.query.weight.T + sa.query.bias).view(T, H, dh)
        K = (x_all @ sa.key.weight.T + sa.key.bias).view(T, H, dh)
        Vw = (x_all @ sa.value.weight.T).view(T, H, dh)
        scores = torch.einsum('hd,thd->ht', Q[p], K) / math.sqrt(dh)
        probs = scores.softmax(-1)  # [H, T]
        if l == 0:
            attn_w = probs
        Wo, bo = lay.attention.output.dense.weight, lay.attention.output.dense.bias
        attn_vec_all = None
        if Wo.abs().max() > 0:
            # full-sequence attention output (for the other positions' next layer input)
            Qa, Ka = Q.transpose(0, 1), K.transpose(0, 1)
            Va = (x_all @ sa.value.weight.T + sa.value.bias).view(T, H, dh).transpose(0, 1)
            pa = (Qa @ Ka.transpose(1, 2) / math.sqrt(dh)).softmax(-1)
            ctx_all = (pa @ Va).transpose(0, 1).reshape(T, H * dh)
            attn_vec_all = ctx_all @ Wo.T + bo
            for g in ('subj', 'template', 'mask', 'special'):
                sel = torch.tensor([gg == g for gg in groups], dtype=torch.float32)
                ctx = (probs[:, :, None] * sel[None, :, None] * Vw.transpose(0, 1)).sum(1).reshape(-1)  # [H*dh]
                if ablate == ('nosubj', l) and g == 'subj':
                    continue
                if ablate == ('attn', l):
                    continue
                r.add(f'L{l}.attn.{g}', ctx @ Wo.T)
            if ablate != ('attn', l):
                r.add(f'L{l}.attn.vbias', sa.value.bias @ Wo.T)
                r.add(f'L{l}.attn.obias', bo)
        else:
            r.add(f'L{l}.attn.obias', bo)
        r = r.layernorm(lay.attention.output.LayerNorm, f'L{l}.ln1.beta')
        h = r.total()
        pre = h @ lay.intermediate.dense.weight.T + lay.intermediate.dense.bias
        a = lay.intermediate.intermediate_act_fn(pre)
        if isinstance(ablate, tuple) and ablate[0] == 'ffn' and ablate[1] == l:
            a = torch.zeros_like(a)
        if isinstance(ablate, tuple) and ablate[0] == 'neurons':
            a = a.clone()
            for (ll, i) in ablate[1]:
                if ll == l:
                    a[i] = 0
        acts_out.append(a)
        W2, b2 = lay.output.dense.weight, lay.output.dense.bias
        contrib = W2 * a[None, :]  # [d, F]: neuron i writes column i
        ffn_contribs.append(contrib)
        r.add(f'L{l}.ffn', contrib.sum(1))
        r.add(f'L{l}.ffn.bias', b2)
        r = r.layernorm(lay.output.LayerNorm, f'L{l}.ln2.beta')
        # next layer's input at every position (positions interact only through attention)
        if l + 1 < len(layers):
            if attn_vec_all is not None:
                h1 = lay.attention.output.LayerNorm(x_all + attn_vec_all)
            else:
                h1 = lay.attention.output.LayerNorm(x_all + bo)
            act_all = lay.intermediate.intermediate_act_fn(h1 @ lay.intermediate.dense.weight.T + lay.intermediate.dense.bias)
            x_new = lay.output.LayerNorm(act_all @ W2.T + b2 + h1)
            x_new[p] = r.total()
            x_all = x_new
    tr = model.cls.predictions.transform
    pre = r.total() @ tr.dense.weight.T + tr.dense.bias
    gate = (pre > 0).float()
    r2 = r.linear(tr.dense.weight, tr.dense.bias, 'head.dense.bias').gate(gate).layernorm(tr.LayerNorm, 'head.ln.beta')
    dec = model.cls.predictions.decoder.weight  # [V, d]
    dbias = model.cls.predictions.bias if hasattr(model.cls.predictions, 'bias') else model.cls.predictions.decoder.bias
    direction = dec[y] - dec.mean(0)
    scores = {k: float(v @ direction) for k, v in r2.c.items()}
    scores['head.dec.bias'] = float(dbias[y] - dbias.mean())
    logits = r2.total() @ dec.T + dbias
    sm = logits.softmax(-1)
    # against the competitors as the model weighs them: logit_y - E_softmax[logit] (the gradient of log P(y))
    direction2 = dec[y] - sm @ dec
    scores_c = {k: float(v @ direction2) for k, v in r2.c.items()}
    scores_c['head.dec.bias'] = float(dbias[y] - sm @ dbias)
    prob = float(logits.softmax(-1)[y])
    margin = float(logits[y] - logits.mean())
    out = {'scores': scores, 'scores_c': scores_c, 'margin_c': float(logits[y] - sm @ logits), 'p': prob, 'margin': margin, 'top1': int(logits.argmax()) == y,
           'attn0': {g: float(sum(attn_w[:, j].mean() for j in range(T) if groups[j] == g)) for g in ('subj', 'template', 'mask', 'special')}}
    return out


def forward_logits(model, q):
    ids = torch.tensor([q['ids']])
    return model(input_ids=ids).logits[0, q['position']]


def knock(model, q, neurons):
    """P(correct) with the given (layer, neuron) activations zeroed at the mask position"""
    handles = []
    by_layer = defaultdict(list)
    for l, i in neurons:
        by_layer[l].append(i)
    for l, idx in by_layer.items():
        act = model.bert.encoder.layer[l].intermediate

        def hook(_m, _i, out, idx=idx):
            out = out.clone()
            out[0, q['position'], idx] = 0
            return out
        handles.append(act.register_forward_hook(hook))
    try:
        with torch.no_grad():
            return float(forward_logits(model, q).softmax(-1)[q['label']])
    finally:
        for h in handles:
            h.remove()


def attribution_acts_grad(model, q):
    """activation x gradient of log P(correct) per FFN neuron at the mask position: [(layer, neuron, score)]"""
    acts = {}
    hs = []
    for l, lay in enumerate(model.bert.encoder.layer):
        def hook(_m, _i, out, l=l):
            out.retain_grad()
            acts[l] = out
        hs.append(lay.intermediate.register_forward_hook(hook))
    try:
        lp = forward_logits(model, q).log_softmax(-1)[q['label']]
        lp.backward()
    finally:
        for h in hs:
            h.remove()
    model.zero_grad(set_to_none=True)
    res = []
    for l, a in acts.items():
        s = (a[0, q['position']] * a.grad[0, q['position']]).detach()
        for i in range(s.shape[0]):
            res.append((l, i, float(s[i])))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hf', required=True)
    ap.add_argument('--queries', required=True)
    ap.add_argument('--facts', type=int, default=20)
    ap.add_argument('--split', default='dev')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out')
    a = ap.parse_args()
    torch.manual_seed(0)
    model = BertForMaskedLM.from_pretrained(a.hf).eval()
    rows = json.load(open(a.queries))
    by_tpl = defaultdict(list)
    for q in rows:
        by_tpl[q['template']].append(q)
    trained = [q for q in rows if not q['heldout'] and q['split'] == a.split]
    by_fact = defaultdict(list)
    for q in trained:
        by_fact[q['fact']].append(q)
    facts = sorted(by_fact)
    random.Random(a.seed).shuffle(facts)
    picked = []
    with torch.no_grad():
        for f in facts:
            ok = defaultdict(list)
            for q in by_fact[f]:
                ok[q['lang']].append(int(forward_logits(model, q).argmax()) == q['label'])
            if sum(1 for l in LANGS if ok[l] and sum(ok[l]) * 2 >= len(ok[l])) >= 4:
                picked.append(f)
            if len(picked) >= a.facts:
                break
    print(f'{len(picked)} facts: {picked}')
    n_layers = len(model.bert.encoder.layer)
    agg = defaultdict(list)  # component -> score per query (against the mean logit)
    agg_c = defaultdict(list)  # the same against the softmax-weighted mean logit (the competitors)
    abl = defaultdict(list)
    attn0 = defaultdict(list)
    per_lang_abl = defaultdict(lambda: defaultdict(list))
    for f in picked:
        for q in by_fact[f]:
            subj = subject_positions(q, by_tpl[q['template']])
            base = analyse(model, q, subj)
            p0 = float(forward_logits(model, q).softmax(-1)[q['label']])
            assert abs(p0 - base['p']) < 1e-3, (p0, base['p'])
            m = base['margin']
            s = base['scores']
            assert abs(sum(s.values()) - m) < 1e-2 * max(1, abs(m)), (sum(s.values()), m)
            groups = {
                'embeddings (word+pos+type of [MASK])': ['emb.word', 'emb.pos', 'emb.type'],
                'L0 attention: subject tokens (OV)': ['L0.attn.subj'],
                'L0 attention: template tokens': ['L0.attn.template'],
                'L0 attention: [MASK] itself': ['L0.attn.mask'],
                'L0 attention: [CLS]/[SEP]': ['L0.attn.special'],
            }
            for l in range(1, n_layers):
                groups[f'L{l} attention (all sources)'] = [f'L{l}.attn.{g}' for g in ('subj', 'template', 'mask', 'special')]
            for l in range(n_layers):
                groups[f'L{l} FFN neurons'] = [f'L{l}.ffn']
            groups['biases and LayerNorm betas'] = [k for k in s if k.endswith(('bias', 'beta'))]
            for name, keys in groups.items():
                agg[name].append(sum(s.get(k, 0.0) for k in keys))
                agg_c[name].append(sum(base['scores_c'].get(k, 0.0) for k in keys))
            agg['margin (logit - mean logit)'].append(m)
            agg_c['margin (logit - mean logit)'].append(base['margin_c'])
            for g, w in base['attn0'].items():
                attn0[g].append(w)
            abl_cases = [('L0 attention output zeroed', ('attn', 0)), ('L0 attention without subject tokens', ('nosubj', 0))]
            abl_cases += [(f'L{l} FFN activations zeroed', ('ffn', l)) for l in range(n_layers)]
            for name, spec in abl_cases:
                pa = analyse(model, q, subj, ablate=spec)['p']
                abl[name].append((pa - p0) / p0)
                per_lang_abl[name][q['lang']].append((pa - p0) / p0)
            # top-k neurons by activation x gradient (of this query), knocked out
            ag = sorted(attribution_acts_grad(model, q), key=lambda t: -t[2])
            for k in (1, 4, 16, 64):
                pk = knock(model, q, [(l, i) for l, i, _ in ag[:k]])
                abl[f'top-{k} neurons by act x grad knocked out'].append((pk - p0) / p0)
            agg['p'].append(p0)
    nq = len(agg['p'])
    print(f'\n{nq} trained-template queries of {len(picked)} {a.split} facts; mean P(correct) {np.mean(agg["p"]):.3f}')
    print('\nDirect logit attribution at the mask position (frozen LN scales / head gate; sums exactly to the margin; share = sum of scores / sum of margins):')
    print('| component | vs mean logit: score | share | vs softmax-weighted logit: score | share |')
    print('|---|---|---|---|---|')
    ms = np.array(agg['margin (logit - mean logit)'])
    ms_c = np.array(agg_c['margin (logit - mean logit)'])
    res = {'facts': picked, 'queries': nq, 'meanP': float(np.mean(agg['p'])), 'dla': {}, 'ablation': {}, 'attn0': {}}
    for name, v in agg.items():
        if name == 'p':
            continue
        v, vc = np.array(v), np.array(agg_c[name])
        share, share_c = float(v.sum() / ms.sum()), float(vc.sum() / ms_c.sum())
        res['dla'][name] = {'mean': float(v.mean()), 'share': share, 'meanVsSoftmax': float(vc.mean()), 'shareVsSoftmax': share_c}
        print(f'| {name} | {v.mean():+.2f} | {100 * share:+.1f} % | {vc.mean():+.2f} | {100 * share_c:+.1f} % |')
    print('\nAblations at the mask position (relative change of P(correct), mean over queries):')
    print('| ablation | dP mean | ' + ' | '.join(LANGS) + ' |')
    print('|---|---|' + '---|' * len(LANGS))
    for name, v in abl.items():
        pl = per_lang_abl.get(name, {})
        res['ablation'][name] = {'mean': float(np.mean(v)), **{l: float(np.mean(pl[l])) for l in LANGS if pl.get(l)}}
        cells = ' | '.join(f'{100 * np.mean(pl[l]):+.0f}' if pl.get(l) else '' for l in LANGS)
        print(f'| {name} | {100 * np.mean(v):+.1f} % | {cells} |')
    print('\nLayer-0 attention weight from the mask position (mean over heads and queries):')
    for g, v in attn0.items():
        res['attn0'][g] = float(np.mean(v))
        print(f'  {g}: {np.mean(v):.3f}')
    if a.out:
        json.dump(res, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()

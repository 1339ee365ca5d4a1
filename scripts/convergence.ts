/**
 * `npx tsx scripts/convergence.ts --model bundled:demo-causal --split dev --facts 10 [--settings q:M,...] --out <dir>`: how the IG
 * quadrature (docs/METHOD.md "SAIG") and its number of points M change what MaTrice finds.
 *
 * The facts are the experiment runner's (pickFacts: seeded, stratified, known in ≥ min(4, langs) languages;
 * `--split dev|test` restricts them to a bundled model's split.json). Every query of each fact is attributed
 * under each setting of SETTINGS and under REFERENCE (attribution cache: the CLI's folder, so a re-run only
 * re-scores), then, per setting:
 *  - completeness: per query max_i |Σ_j attr_ij − (P(w̄) − P(w'_i))| / P(w̄) (runFact's `completeness`), median
 *    and 90th percentile over all queries of all facts;
 *  - MaTrice (DEFAULT_SETTINGS, and β2 = 0.5): Jaccard overlap of the selection with the reference's selection
 *    (mean over facts; two empty sets count 1), selection size (median over facts), suppress ΔP (×0; per fact
 *    the mean over languages of the per-language mean ΔP over known queries, then the mean over facts);
 *  - cost: wall time of the attribution per fact (ms): mean time of the queries computed in this run × the mean
 *    number of queries per fact; when a fact's queries all came from the cache, its first query is attributed
 *    once more, uncached and not stored, to time it.
 * Writes <out>/table.md (the command above the table) and <out>/convergence.json; progress on stderr.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { langsArg, ATTRIBUTION_CACHE } from '../src/cli/matrice-cmd';
import { parseCli, intOpt } from '../src/cli/args';
import { cliBackendOrder, nodeBackend, useBackend } from '../src/cli/node-engine';
import { splitCandidates } from '../src/cli/results';
import { openLocal } from '../src/data/node';
import { KnError, loadModelArg } from '../src/engine/index';
import { checkQuadrature, type Quadrature } from '../src/engine/attribution/attribute';
import { attributeCached } from '../src/engine/interventions/manipulate';
import { DEFAULT_SETTINGS, type MatriceSettings, type NeuronId } from '../src/engine/selection/scoring';
import { pickFacts } from '../src/engine/experiments/manipulate';
import { FactSession } from '../src/engine/session/session';
import { FolderStore } from '../src/engine/source/source-node';

interface Setting {
  key: string;
  quadrature: Quadrature;
  steps: number;
}
const setting = (quadrature: Quadrature, steps: number): Setting => ({ key: `${quadrature} M=${steps}`, quadrature: checkQuadrature(quadrature), steps });
const SETTINGS: Setting[] = [
  setting('riemann-right', 20),
  setting('riemann-right', 50),
  setting('riemann-right', 100),
  setting('gauss-legendre', 8),
  setting('gauss-legendre', 16),
  setting('gauss-legendre', 32),
];
const REFERENCE = setting('gauss-legendre', 64);
/** the MaTrice readings compared: the defaults, and β2 = 0.5 (the default may change) */
const VARIANTS: { key: string; settings: Partial<MatriceSettings> }[] = [
  { key: 'default', settings: {} },
  { key: 'beta2=0.5', settings: { beta2: 0.5 } },
];

/** type-7 quantile (linear between order statistics); NaN for no values */
function quantile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p,
    lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function jaccard(a: NeuronId[], b: NeuronId[]): number {
  const A = new Set(a.map(([l, j]) => `${l}:${j}`)),
    B = new Set(b.map(([l, j]) => `${l}:${j}`));
  if (!A.size && !B.size) return 1;
  let inter = 0;
  for (const x of A) if (B.has(x)) inter++;
  return inter / (A.size + B.size - inter);
}

interface FactSettingResult {
  /** per query: max over layers and baselines of |Σ attr − (P(w̄) − P(w'))| / P(w̄) */
  completeness: number[];
  queries: number;
  cachedQueries: number;
  /** wall time of the attribution; time and number of the queries computed (not cached, or timed apart) */
  ms: number;
  freshMs: number;
  fresh: number;
  matrice: Record<string, { neurons: NeuronId[]; size: number; jaccard: number; suppressDeltaP: number }>;
}

const OPTIONS = {
  model: { type: 'string' },
  split: { type: 'string' },
  facts: { type: 'string' },
  langs: { type: 'string' },
  seed: { type: 'string' },
  dtype: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  'no-cache': { type: 'boolean' },
  settings: { type: 'string' },
} as const;

/** `--settings riemann-right:20,gauss-legendre:20` (default SETTINGS); the reference is always computed */
function settingsArg(value: string | undefined): Setting[] {
  if (value === undefined) return SETTINGS;
  return value.split(',').map((part) => {
    const [q, m] = part.split(':');
    if (m === undefined) throw new KnError('bad-input', `--settings: each item is <quadrature>:<M>, got "${part}"`);
    return setting(checkQuadrature(q, '--settings quadrature'), intOpt(m, 'settings M', 1, 1000, 20));
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const { values: v } = parseCli(argv, OPTIONS);
  if (!v.out) throw new KnError('bad-input', '--out <dir> is required');
  const modelArg = v.model ?? 'bundled:demo-causal';
  const nFacts = intOpt(v.facts, 'facts', 1, 100000, 10);
  const seed = intOpt(v.seed, 'seed', 0, 2 ** 31 - 1, 1);
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const dtype = v.dtype ?? 'int8';
  if (dtype !== 'f32' && dtype !== 'int8') throw new KnError('bad-input', `--dtype must be f32 or int8, got "${dtype}"`);
  const quote = (s: string) => (/^[\w@:./,=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const command = ['npx tsx scripts/convergence.ts', ...argv.map(quote)].join(' ');
  const log = (s: string) => process.stderr.write(`convergence: ${s}\n`);

  useBackend(cliBackendOrder(v.backend));
  const backend = await nodeBackend();
  const model = await loadModelArg(modelArg, { dtype, maxDeviceBytes: backend.limits?.maxDeviceBytes, maxTensorBytes: backend.limits?.maxTensorBytes });
  const store = v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE);
  try {
    const bench = await openLocal();
    const candidates = await splitCandidates(modelArg, v.split);
    const t0 = Date.now();
    const facts = await pickFacts(model, bench, {
      facts: nFacts,
      langs,
      seed,
      candidates,
      onProgress: (p) => log(`picking facts: ${p.picked}/${nFacts} kept of ${p.probed} probed`),
    });
    log(`${facts.length} facts: ${facts.join(' ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    const all = [REFERENCE, ...settingsArg(v.settings)];
    const perFact: { fact: string; queries: number; results: Record<string, FactSettingResult> }[] = [];
    for (const [fi, fact] of facts.entries()) {
      const s = await FactSession.open(model, bench, fact, langs, { topK: 1 });
      const results: Record<string, FactSettingResult> = {};
      const ref: Record<string, NeuronId[]> = {};
      for (const st of all) {
        // per query: time from the previous query's end, and whether it came from the cache
        let last = performance.now(),
          cachedBefore = 0,
          freshMs = 0;
        const start = last;
        const attributed = await s.localize({
          steps: st.steps,
          quadrature: st.quadrature,
          store,
          onProgress: (p) => {
            if (p.pointsTotal !== 0 || p.queriesDone === 0) return;
            const now = performance.now();
            if (p.cached === cachedBefore) freshMs += now - last;
            cachedBefore = p.cached;
            last = now;
          },
        });
        const ms = performance.now() - start;
        let fresh = attributed.filter((q) => !q.cached).length;
        if (fresh === 0) {
          const t = performance.now();
          await attributeCached(model, s.queries[0], { steps: st.steps, quadrature: st.quadrature });
          freshMs = performance.now() - t;
          fresh = 1;
        }
        const completeness = attributed.map((q) => q.completeness.maxAbs / Math.max(q.attribution.pFull, 1e-12)).filter(Number.isFinite);
        const matrice: FactSettingResult['matrice'] = {};
        for (const vr of VARIANTS) {
          const sel = s.select('matrice', vr.settings);
          if (st === REFERENCE) ref[vr.key] = sel.neurons;
          const langsDp = Object.values((await s.manipulate(sel.neurons, 0)).languages)
            .map((l) => l.deltaP)
            .filter(Number.isFinite);
          matrice[vr.key] = { neurons: sel.neurons, size: sel.neurons.length, jaccard: jaccard(sel.neurons, ref[vr.key]), suppressDeltaP: mean(langsDp) };
        }
        const cached = attributed.filter((q) => q.cached).length;
        results[st.key] = { completeness, queries: attributed.length, cachedQueries: cached, ms, freshMs, fresh, matrice };
        log(
          `fact ${fi + 1}/${facts.length} ${fact} · ${st.key}: ${attributed.length} queries (${cached} cached) in ${(ms / 1000).toFixed(1)} s · completeness median ${(100 * quantile(completeness, 0.5)).toFixed(2)} % · ` +
            VARIANTS.map((vr) => `${vr.key}: ${matrice[vr.key].size} neurons, J ${matrice[vr.key].jaccard.toFixed(2)}`).join(' · '),
        );
      }
      perFact.push({ fact, queries: s.queries.length, results });
    }
    const queriesPerFact = mean(perFact.map((f) => f.queries));
    const settings = all.map((st) => {
      const rs = perFact.map((f) => f.results[st.key]);
      const comp = rs.flatMap((r) => r.completeness);
      const fresh = rs.reduce((a, r) => a + r.fresh, 0);
      const freshMs = rs.reduce((a, r) => a + r.freshMs, 0);
      const msPerFact = (freshMs / fresh) * queriesPerFact;
      return {
        key: st.key,
        quadrature: st.quadrature,
        steps: st.steps,
        reference: st === REFERENCE,
        completeness: { median: quantile(comp, 0.5), p90: quantile(comp, 0.9), max: Math.max(...comp), queries: comp.length },
        matrice: Object.fromEntries(
          VARIANTS.map((vr) => [
            vr.key,
            {
              jaccardMean: mean(rs.map((r) => r.matrice[vr.key].jaccard)),
              sizeMedian: quantile(
                rs.map((r) => r.matrice[vr.key].size),
                0.5,
              ),
              suppressDeltaPMean: mean(rs.map((r) => r.matrice[vr.key].suppressDeltaP).filter(Number.isFinite)),
            },
          ]),
        ),
        msPerFact,
        timedQueries: fresh,
      };
    });
    const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toPrecision(3)} %` : '–');
    const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
    const rows = settings.map((r) => {
      const m = VARIANTS.map((vr) => r.matrice[vr.key]);
      return `| ${r.key}${r.reference ? ' (reference)' : ''} | ${pct(r.completeness.median)} | ${pct(r.completeness.p90)} | ${m.map((x) => `${f3(x.jaccardMean)} | ${x.sizeMedian} | ${f3(x.suppressDeltaPMean)}`).join(' | ')} | ${Math.round(r.msPerFact)} |`;
    });
    const table = [
      `| setting | completeness median | completeness p90 | ${VARIANTS.map((vr) => `Jaccard vs ref (${vr.key}) | size median (${vr.key}) | suppress ΔP (${vr.key})`).join(' | ')} | ms / fact |`,
      `|---|---:|---:|${VARIANTS.map(() => '---:|---:|---:|').join('')}---:|`,
      ...rows,
    ].join('\n');
    const md = [
      `# IG quadrature convergence: ${modelArg}`,
      '',
      '```',
      command,
      '```',
      '',
      `${facts.length} facts${v.split ? ` of the ${v.split} split` : ''} (${facts.join(', ')}), ${perFact.reduce((a, f) => a + f.queries, 0)} queries, languages ${langs.join(', ')}, ${dtype} weights, backend ${backend.name}. ` +
        `Completeness: per query max_i |Σ_j attr_ij − (P(w̄) − P(w'_i))| / P(w̄) over layers and ⟨PAD⟩ baselines, median / 90th percentile over queries. ` +
        `MaTrice default = DEFAULT_SETTINGS (α1 ${DEFAULT_SETTINGS.alpha1}, α2 ${DEFAULT_SETTINGS.alpha2}, β1 ${DEFAULT_SETTINGS.beta1}, β2 ${DEFAULT_SETTINGS.beta2}, τ ${DEFAULT_SETTINGS.tau}, norm ${DEFAULT_SETTINGS.norm}, attr-norm ${DEFAULT_SETTINGS.attrNorm}); ` +
        `Jaccard against the ${REFERENCE.key} selection of the same reading (mean over facts); suppress ΔP: ×0, mean over languages of the per-language mean over known queries, mean over facts. ` +
        `ms / fact: attribution wall time per fact (${model.info.kind} model, one thread): mean time of the queries computed in this run (a fact entirely cached: its first query timed uncached) × ${queriesPerFact.toFixed(1)} queries per fact.`,
      '',
      table,
      '',
    ].join('\n');
    await mkdir(v.out, { recursive: true });
    await writeFile(join(v.out, 'table.md'), md);
    const json = {
      command,
      model: { id: modelArg, contentHash: model.info.contentHash, dtype, kind: model.info.kind },
      backend: backend.name,
      split: v.split ?? null,
      seed,
      langs,
      facts,
      reference: REFERENCE.key,
      variants: VARIANTS,
      settings,
      perFact: perFact.map((f) => ({
        fact: f.fact,
        queries: f.queries,
        results: Object.fromEntries(
          Object.entries(f.results).map(([k, r]) => [
            k,
            {
              completenessMedian: quantile(r.completeness, 0.5),
              completenessMax: Math.max(...r.completeness),
              cachedQueries: r.cachedQueries,
              ms: Math.round(r.ms),
              matrice: r.matrice,
            },
          ]),
        ),
      })),
    };
    await writeFile(join(v.out, 'convergence.json'), JSON.stringify(json, null, 1) + '\n');
    process.stdout.write(md);
  } finally {
    model.dispose();
  }
}

main().catch((e) => {
  process.stderr.write(`convergence: error${e instanceof KnError ? ` [${e.code}]` : ''}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof KnError ? 2 : 1);
});

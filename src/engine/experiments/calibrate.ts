/**
 * Calibration of MaTrice's std weights and threshold (docs/METHOD.md "Calibration"): the paper gives no values
 * for α2, β2 or τ, so they are chosen on facts the model knows (dev split only), from one set of attributions per
 * fact (re-scoring is arithmetic, the grid costs a few batched forwards per setting). Per fact and grid setting:
 * MaTrice's set, its coverage, P after suppressing it and after suppressing a Random set of the same size; per
 * (α2, τ) the languages' own sets. The summary is the frontier (selection size against ΔP) and the setting the
 * rule picks. Environment-free: rows go to a RowSink (NDJSON in Node).
 */
import { LEGACY_QUADRATURE, type Quadrature } from '../attribution/attribute';
import { DEFAULT_BASELINE, type Baseline } from '../rules';
import type { Lang } from '../../data/types';
import { languageCoverage, randomNeurons, resolveSettings, scoreMatrice, scoreNoUaL, type MatriceSettings, type NeuronId } from '../selection/scoring';
import { FactSession } from '../session/session';
import { factLanguageDeltaP, flipRate, meanOf, median, stat } from '../report/report';
import type { RowQuery } from './manipulate';
import { metaDifference, p6, rowHeadProblem, runPlugin, type ExperimentPlugin, type FactContext, type ModelRef, type RowSink, type RunProgress } from './core';
import { lineChart } from '../report/svg';

export const CALIBRATION_VERSION = 1;

// the grid, the rule and the grid's option text live in a module without the engine's heavy imports (the page reads them)
import { RULE, type CalibrationGrid } from '../rules/calibration';
export { DEFAULT_GRID, RULE, parseGrid, type CalibrationGrid } from '../rules/calibration';

export interface CalibrationMeta {
  v: number;
  experiment: 'calibrate';
  model: ModelRef;
  /** the settings the grid varies from (norm, attrNorm, α1, β1) */
  base: MatriceSettings;
  grid: CalibrationGrid;
  steps: number;
  baseline: Baseline;
  /** the IG quadrature; omitted = LEGACY_QUADRATURE (riemann-right), as in folders written before the option */
  quadrature?: Quadrature;
  seed: number;
  langs: Lang[];
  facts: string[];
  request: { facts: number; split: string | null; minKnownLangs: number };
  /** `--shard k/n` (and each process of `--jobs N`): every n-th fact from k − 1; null: all (and every folder before shards) */
  shard: { k: number; n: number } | null;
}

export interface CalibrationCell {
  /** MaTrice's neurons under this setting, their coverage, P after ×0 (aligned with the row's queries), top-1 after */
  neurons: NeuronId[];
  coverage: number[];
  suppress: number[];
  top1: boolean[];
  /** a Random set of the same size: P after ×0 */
  random: number[];
}

export interface CalibrationRow {
  v: number;
  fact: string;
  index: number;
  queries: RowQuery[];
  /** per setting key (settingKey): the cell */
  cells: Record<string, CalibrationCell>;
  /** per `a<α2>/t<τ>`: each language's own set size and P after ×0 on all queries (its language's are read) */
  own: Record<string, Partial<Record<Lang, { n: number; suppress: number[] }>>>;
}

export const settingKey = (a2: number, b2: number, tau: number) => `a${a2}/b${b2}/t${tau}`;
const ownKey = (a2: number, tau: number) => `a${a2}/t${tau}`;

/** One fact: localize once, then every grid setting from the same attributions, all manipulations in one batch. */
export async function calibrateFact(o: FactContext<CalibrationMeta>, factId: string, index: number): Promise<CalibrationRow> {
  const { model, bench, meta } = o;
  const s = await FactSession.open(model, bench, factId, meta.langs, { topK: 1 });
  await s.localize({ steps: meta.steps, baseline: meta.baseline, quadrature: meta.quadrature ?? LEGACY_QUADRATURE, store: o.store, signal: o.signal });
  const fa = s.fa!;
  const jobs: { neurons: NeuronId[]; factor: number }[] = [];
  const job = (neurons: NeuronId[]) => jobs.push({ neurons, factor: 0 }) - 1;
  const own: Record<string, Record<string, NeuronId[]>> = {};
  const ownJobs: { key: string; lang: Lang; j: number; n: number }[] = [];
  for (const a2 of meta.grid.alpha2) {
    for (const tau of meta.grid.tau) {
      const k = ownKey(a2, tau);
      own[k] = scoreNoUaL(fa, { ...meta.base, alpha2: a2, tau }).perLanguageSelected;
      for (const [lang, ns] of Object.entries(own[k])) ownJobs.push({ key: k, lang: lang as Lang, j: job(ns), n: ns.length });
    }
  }
  const plan: { key: string; neurons: NeuronId[]; coverage: number[]; sup: number; rnd: number }[] = [];
  for (const a2 of meta.grid.alpha2) {
    for (const b2 of meta.grid.beta2) {
      for (const tau of meta.grid.tau) {
        const key = settingKey(a2, b2, tau);
        const neurons = scoreMatrice(fa, { ...meta.base, alpha2: a2, beta2: b2, tau }).selected;
        const rnd = randomNeurons(neurons.length, fa.numLayers, fa.ffnSize, `${meta.seed}:${factId}:${key}`);
        plan.push({ key, neurons, coverage: languageCoverage(neurons, own[ownKey(a2, tau)]), sup: job(neurons), rnd: job(rnd) });
      }
    }
  }
  const res = await s.manipulateMany(jobs, 1);
  const probs = (j: number) => res[j].rows.map((r) => p6(r.after));
  const cells: CalibrationRow['cells'] = {};
  for (const x of plan)
    cells[x.key] = { neurons: x.neurons, coverage: x.coverage, suppress: probs(x.sup), top1: res[x.sup].rows.map((r) => r.correctAfter), random: probs(x.rnd) };
  const ownOut: CalibrationRow['own'] = {};
  for (const x of ownJobs) (ownOut[x.key] ??= {})[x.lang] = { n: x.n, suppress: probs(x.j) };
  const queries: RowQuery[] = s.queries.map((q) => ({ lang: q.lang, template: q.templateId, before: p6(q.before), known: q.known }));
  return { v: CALIBRATION_VERSION, fact: factId, index, queries, cells, own: ownOut };
}

/**
 * The first field two calibration metas differ in, or null: the model's label or path may differ, not its
 * weights; a missing quadrature is the legacy one (folders written before the option). CLI and page alike.
 */
export function calibrationMismatch(a: CalibrationMeta, b: CalibrationMeta): string | null {
  return metaDifference(a, b, ['v', 'model', 'base', 'grid', 'steps', 'baseline', 'quadrature', 'seed', 'langs', 'request']);
}

/** The command line that reproduces a calibration (the CLI prints it; the page's run records the same). */
export function calibrateCommand(m: CalibrationMeta): string {
  const g = m.grid;
  return [
    `npm run -s kn -- experiment calibrate --model ${m.model.id} --facts ${m.request.facts}`,
    m.request.split ? `--split ${m.request.split}` : '',
    `--langs ${m.langs.join(',')} --seed ${m.seed} --steps ${m.steps}${m.baseline !== DEFAULT_BASELINE ? ` --baseline ${m.baseline}` : ''} --quadrature ${m.quadrature ?? LEGACY_QUADRATURE}`,
    `--grid-alpha2 ${g.alpha2.join(',')} --grid-beta2 ${g.beta2.join(',')} --grid-tau ${g.tau.join(',')} --out <dir>`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** The calibration on the runner core (its meta comparison ignores the shard: the CLI checks it apart). */
export const CALIBRATE: ExperimentPlugin<CalibrationMeta, CalibrationRow> = {
  experiments: ['calibrate'],
  what: 'calibration',
  phase: true,
  start: (o) => (fact, index) => calibrateFact(o, fact, index),
  rowProblem: (r, meta) => calibrationRowProblem(r, meta),
  mismatch: (a, b) => calibrationMismatch(a, b),
};

/** Runs the facts of the meta's shard that the sink has not finished; resumable, cancellable between facts. */
export const runCalibration = (o: FactContext<CalibrationMeta> & { sink: RowSink<CalibrationRow>; onProgress?: (p: RunProgress) => void }) =>
  runPlugin(CALIBRATE, o);

/** Why a parsed row cannot be read against this meta, or null. */
export function calibrationRowProblem(r: unknown, meta: CalibrationMeta): string | null {
  const head = rowHeadProblem(r, CALIBRATION_VERSION, meta);
  if (head) return head;
  const o = r as Partial<CalibrationRow>;
  if (!Array.isArray(o.queries) || !o.cells || !o.own) return 'missing queries, cells or own';
  const n = o.queries.length;
  for (const a2 of meta.grid.alpha2)
    for (const b2 of meta.grid.beta2)
      for (const t of meta.grid.tau) {
        const c = o.cells[settingKey(a2, b2, t)];
        if (
          !c ||
          !Array.isArray(c.suppress) ||
          c.suppress.length !== n ||
          !Array.isArray(c.random) ||
          c.random.length !== n ||
          !Array.isArray(c.top1) ||
          c.top1.length !== n ||
          !Array.isArray(c.coverage) ||
          !Array.isArray(c.neurons) ||
          c.coverage.length !== c.neurons.length
        ) {
          return `setting ${settingKey(a2, b2, t)} missing or misaligned (a results folder of another grid?)`;
        }
      }
  return null;
}

// ------------------------------------------------------------------------------------------- summary

export interface FrontierPoint {
  key: string;
  alpha2: number;
  beta2: number;
  tau: number;
  selectedMedian: number;
  /** selectedMedian / (numLayers · ffnSize) */
  selectedShare: number;
  empty: number;
  coverageMean: number | null;
  /** mean over languages of the per-language mean ΔP over facts (known queries) */
  suppress: number | null;
  perLanguage: Record<string, number | null>;
  /** pooled flip rate over the languages' known queries */
  flipRate: number | null;
  randomSuppress: number | null;
  /** the languages' own sets under the same (α2, τ): mean over languages of their ΔP on their own queries */
  ownSuppress: number | null;
  eligible: boolean;
  /** why not eligible ('' when it is) */
  why: string;
}

export interface CalibrationSummary {
  experiment: 'calibrate';
  model: string;
  facts: number;
  langs: string[];
  base: MatriceSettings;
  steps: number;
  rule: string;
  frontier: FrontierPoint[];
  /** the setting the rule picks; null when none qualifies */
  chosen: { alpha2: number; beta2: number; tau: number; key: string } | null;
  problems: string[];
}

export const RULE_TEXT = `the largest mean suppression (most negative ΔP over the 7 languages' known queries) among settings whose median selection is at least ${RULE.minSelectedMedian} neuron and at most ${RULE.maxShare * 100} % of the model's FFN neurons, whose coverage is at least ${Math.round(RULE.minCoverageShare * 7)} of 7 languages (${(RULE.minCoverageShare * 100).toFixed(0)} % of the languages run), and whose Random set of the same size changes P by at most ${RULE.maxRandom * 100} % (|ΔP|); ties go to the larger β2`;

/** The rule on a frontier (each point's eligibility set here): the chosen point or null. Exported for tests. */
export function choose(points: FrontierPoint[], langCount: number): FrontierPoint | null {
  for (const p of points) {
    const why: string[] = [];
    if (p.selectedMedian < RULE.minSelectedMedian) why.push(`median selection ${p.selectedMedian} < ${RULE.minSelectedMedian} (empty on most facts)`);
    if (p.selectedShare > RULE.maxShare) why.push(`median selection ${(p.selectedShare * 100).toFixed(2)} % > ${RULE.maxShare * 100} %`);
    if (p.coverageMean === null || p.coverageMean < RULE.minCoverageShare * langCount - 1e-9)
      why.push(`coverage ${p.coverageMean === null ? '—' : p.coverageMean.toFixed(2)} < ${(RULE.minCoverageShare * langCount).toFixed(2)}`);
    if (p.randomSuppress === null || Math.abs(p.randomSuppress) > RULE.maxRandom)
      why.push(`Random |ΔP| ${p.randomSuppress === null ? '—' : (Math.abs(p.randomSuppress) * 100).toFixed(1) + ' %'} > ${RULE.maxRandom * 100} %`);
    if (p.suppress === null) why.push('no ΔP');
    p.eligible = why.length === 0;
    p.why = why.join('; ');
  }
  const ok = points.filter((p) => p.eligible);
  if (!ok.length) return null;
  return ok.reduce((best, p) => (p.suppress! < best.suppress! - 1e-12 || (Math.abs(p.suppress! - best.suppress!) <= 1e-12 && p.beta2 > best.beta2) ? p : best));
}

export function summarizeCalibration(meta: CalibrationMeta, rows: CalibrationRow[], problems: string[] = []): CalibrationSummary {
  const langs = meta.langs;
  const total = meta.model.numLayers * meta.model.ffnSize;
  const frontier: FrontierPoint[] = [];
  for (const a2 of meta.grid.alpha2)
    for (const b2 of meta.grid.beta2)
      for (const tau of meta.grid.tau) {
        const key = settingKey(a2, b2, tau);
        const sizes = rows.map((r) => r.cells[key].neurons.length);
        const perLanguage: Record<string, number | null> = {};
        const rnd: (number | null)[] = [];
        const ownL: (number | null)[] = [];
        for (const lang of langs) {
          perLanguage[lang] = stat(rows.map((r) => factLanguageDeltaP(r as never, r.cells[key].suppress, lang))).mean;
          rnd.push(stat(rows.map((r) => factLanguageDeltaP(r as never, r.cells[key].random, lang))).mean);
          ownL.push(
            stat(rows.filter((r) => r.own[ownKey(a2, tau)]?.[lang]).map((r) => factLanguageDeltaP(r as never, r.own[ownKey(a2, tau)][lang]!.suppress, lang)))
              .mean,
          );
        }
        let known = 0,
          flipped = 0;
        for (const lang of langs) {
          const fr = flipRate(rows as never, lang, (r) => (r as unknown as CalibrationRow).cells[key].top1);
          const k = rows.reduce((a, r) => a + r.queries.filter((q) => q.lang === lang && q.known).length, 0);
          if (fr !== null) {
            known += k;
            flipped += fr * k;
          }
        }
        const med = median(sizes) ?? 0;
        frontier.push({
          key,
          alpha2: a2,
          beta2: b2,
          tau,
          selectedMedian: med,
          selectedShare: med / total,
          empty: sizes.filter((x) => x === 0).length,
          coverageMean: meanOf(rows.flatMap((r) => r.cells[key].coverage)),
          suppress: meanOf(langs.map((l) => perLanguage[l])),
          perLanguage,
          flipRate: known ? flipped / known : null,
          randomSuppress: meanOf(rnd),
          ownSuppress: meanOf(ownL),
          eligible: false,
          why: '',
        });
      }
  const c = choose(frontier, langs.length);
  return {
    experiment: 'calibrate',
    model: meta.model.id,
    facts: rows.length,
    langs,
    base: meta.base,
    steps: meta.steps,
    rule: RULE_TEXT,
    frontier,
    chosen: c ? { alpha2: c.alpha2, beta2: c.beta2, tau: c.tau, key: c.key } : null,
    problems,
  };
}

/** The block a model card carries (public/models/<name>/calibration.json): what the page, CLI and runner default to. */
export interface CalibrationBlock {
  format: 'kn-calibration';
  version: 1;
  contentHash: string;
  settings: Pick<MatriceSettings, 'alpha1' | 'alpha2' | 'beta1' | 'beta2' | 'tau' | 'norm' | 'attrNorm'>;
  steps: number;
  facts: number;
  split: string | null;
  command: string;
  measured: { suppress: number | null; coverageMean: number | null; selectedMedian: number; randomSuppress: number | null; flipRate: number | null };
}

export function calibrationBlock(meta: CalibrationMeta, s: CalibrationSummary, command: string): CalibrationBlock | null {
  if (!s.chosen) return null;
  const p = s.frontier.find((x) => x.key === s.chosen!.key)!;
  return {
    format: 'kn-calibration',
    version: 1,
    contentHash: meta.model.contentHash,
    settings: { ...resolveSettings({ ...meta.base, alpha2: p.alpha2, beta2: p.beta2, tau: p.tau }) },
    steps: meta.steps,
    facts: s.facts,
    split: meta.request.split,
    command,
    measured: { suppress: p.suppress, coverageMean: p.coverageMean, selectedMedian: p.selectedMedian, randomSuppress: p.randomSuppress, flipRate: p.flipRate },
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);

/** report.md, frontier.csv, frontier.svg and calibration.json. */
export function calibrationFiles(meta: CalibrationMeta, s: CalibrationSummary, command: string): Record<string, string> {
  const langs = s.langs;
  const head = ['α2', 'β2', 'τ', 'median selection', 'empty', 'coverage', 'ΔP suppress', ...langs, 'flip rate', 'Random ΔP', 'own sets ΔP', 'eligible'];
  const sorted = [...s.frontier].sort((a, b) => a.selectedMedian - b.selectedMedian || (a.suppress ?? 0) - (b.suppress ?? 0));
  const rowsMd = sorted.map((p) => [
    String(p.alpha2),
    String(p.beta2),
    String(p.tau),
    String(p.selectedMedian),
    `${p.empty}/${s.facts}`,
    p.coverageMean === null ? '—' : p.coverageMean.toFixed(2),
    pct(p.suppress),
    ...langs.map((l) => pct(p.perLanguage[l])),
    pct(p.flipRate),
    pct(p.randomSuppress),
    pct(p.ownSuppress),
    p.key === s.chosen?.key ? '**chosen**' : p.eligible ? 'yes' : `no: ${p.why}`,
  ]);
  const md = [
    `# Calibration of MaTrice on ${s.model}`,
    '',
    `Reproduce: \`${command}\``,
    '',
    `${s.facts} facts the model knows (${meta.request.split ?? 'any'} split; never the test split), languages ${langs.join(', ')}; M = ${meta.steps}, baseline ${meta.baseline}; Eq. 9 \`${meta.base.norm}\`, Eq. 5 \`${meta.base.attrNorm}\`, α1 = ${meta.base.alpha1}, β1 = ${meta.base.beta1}. ` +
      `Each setting re-scores the same attributions. ΔP: per fact and language the mean over the known queries, then the mean over facts, then over languages. Coverage: per selected neuron, the languages whose own selection (same α2, τ) holds it, of ${langs.length}.`,
    '',
    `**Rule**: ${s.rule}.`,
    '',
    s.chosen
      ? `**Chosen**: α2 = ${s.chosen.alpha2}, β2 = ${s.chosen.beta2}, τ = ${s.chosen.tau}.`
      : "**No setting qualifies** under the rule; METHOD's defaults stay.",
    '',
    '![frontier](frontier.svg)',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rowsMd.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...(s.problems.length ? ['## Problems', '', ...s.problems.map((p) => `- ${p}`), ''] : []),
  ].join('\n');
  const csvCell = (v: string | number | null) => (v === null ? '' : String(v));
  const csv =
    [
      [
        'alpha2',
        'beta2',
        'tau',
        'selected_median',
        'empty',
        'coverage',
        'suppress',
        ...langs.map((l) => `suppress_${l}`),
        'flip_rate',
        'random_suppress',
        'own_suppress',
        'eligible',
      ].join(','),
      ...sorted.map((p) =>
        [
          p.alpha2,
          p.beta2,
          p.tau,
          p.selectedMedian,
          p.empty,
          p.coverageMean,
          p.suppress,
          ...langs.map((l) => p.perLanguage[l]),
          p.flipRate,
          p.randomSuppress,
          p.ownSuppress,
          p.eligible ? 1 : 0,
        ]
          .map(csvCell)
          .join(','),
      ),
    ].join('\n') + '\n';
  // the frontier: per τ, ΔP against the median selection size (sizes on x), MaTrice and its Random
  const xs = [...new Set(s.frontier.map((p) => Math.max(1, p.selectedMedian)))].sort((a, b) => a - b);
  const series: { name: string; values: (number | null)[]; color?: string }[] = [];
  const colors = ['#1f77b4', '#2ca02c', '#9467bd'];
  meta.grid.tau.forEach((tau, i) => {
    const best = (pick: (p: FrontierPoint) => number | null) =>
      xs.map((x) => {
        const v = s.frontier
          .filter((p) => p.tau === tau && Math.max(1, p.selectedMedian) === x)
          .map(pick)
          .filter((y): y is number => y !== null);
        return v.length ? Math.min(...v) : null;
      });
    series.push({ name: `MaTrice τ = ${tau}`, values: best((p) => p.suppress), color: colors[i % colors.length] });
  });
  series.push({
    name: 'Random, same size',
    values: xs.map((x) => meanOf(s.frontier.filter((p) => Math.max(1, p.selectedMedian) === x).map((p) => p.randomSuppress))),
    color: '#7f7f7f',
  });
  const svg = lineChart({
    title: `Calibration frontier: suppress ΔP against median selection size (${s.facts} facts)`,
    x: xs,
    xLabel: 'median selection (neurons)',
    series,
    percent: true,
  });
  const block = calibrationBlock(meta, s, command);
  return { 'report.md': md, 'frontier.csv': csv, 'frontier.svg': svg, ...(block ? { 'calibration.json': JSON.stringify(block, null, 1) + '\n' } : {}) };
}

/**
 * The manipulation experiment at benchmark scale (paper Fig. 4, Fig. 5, Table II, plus a knock-out curve):
 * pick facts the model knows (seeded, stratified by relation), localize each once, select with every
 * method from the same attributions, suppress and enhance, and hand one row per fact to a sink (NDJSON
 * in Node, IndexedDB in the browser). Environment-free: no file system, no DOM.
 */
import type { RmlLama } from '../../data/loader';
import type { Lang, Relation } from '../../data/types';
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import { LEGACY_QUADRATURE } from '../attribution/attribute';
import { ENHANCE_FACTOR, KNOCKOUT_K, SUPPRESS_FACTOR } from '../rules';
import { METHODS, type Method } from '../interventions/manipulate';
import { languageCoverage, resolveSettings, sampleWithoutReplacement, scoreMatrice, type MatriceSettings, type NeuronId } from '../selection/scoring';
import { FactSession } from '../session/session';
import * as core from './core';

// the core's shapes, where they were before it (report.ts, the tests and scripts import them from here)
export { candidateSessions, p6, parseShard, shardIndices, type FactTiming, type RowSink, type RunProgress } from './core';

export const ROW_VERSION = 1;
/** every method, MaTrice first */
export const DEFAULT_METHODS: readonly string[] = METHODS;

/** A method and the Eq. 5 / Eq. 9 reading it runs under: `matrice` or `matrice@language/layer` (norm/attrNorm). */
export interface MethodSpec {
  key: string;
  method: Method;
  settings: Partial<MatriceSettings>;
}

const NORMS = ['language', 'neuron', 'scale'] as const;
const ATTR_NORMS = ['layer', 'global', 'none'] as const;

/**
 * `matrice`, or `matrice@<norm>/<attr-norm>[/a<α2>][/b<β2>]` (an Eq. 9 / Eq. 5 reading, optionally with the
 * UaQ / UaL std weights), e.g. `matrice@scale/none/b0`.
 */
export function parseMethodSpec(s: string): MethodSpec {
  const [m, reading] = s.trim().split('@');
  if (!METHODS.includes(m as Method)) throw new KnError('bad-input', `unknown method "${m}"; one of ${METHODS.join(', ')} (optionally @<norm>/<attr-norm>)`);
  if (reading === undefined) return { key: m, method: m as Method, settings: {} };
  const [norm, attrNorm, ...weights] = reading.split('/');
  if (!(NORMS as readonly string[]).includes(norm) || !(ATTR_NORMS as readonly string[]).includes(attrNorm)) {
    throw new KnError('bad-input', `method "${s}": the reading must be <${NORMS.join('|')}>/<${ATTR_NORMS.join('|')}>[/a<α2>][/b<β2>]`);
  }
  const settings: Partial<MatriceSettings> = { norm: norm as MatriceSettings['norm'], attrNorm: attrNorm as MatriceSettings['attrNorm'] };
  for (const w of weights) {
    const x = Number(w.slice(1));
    if (!/^[ab]-?\d+(\.\d+)?$/.test(w) || !Number.isFinite(x)) throw new KnError('bad-input', `method "${s}": "${w}" must be a<α2> or b<β2>, e.g. b0.5`);
    settings[w[0] === 'a' ? 'alpha2' : 'beta2'] = x;
  }
  return { key: `${m}@${reading}`, method: m as Method, settings };
}

/**
 * Every Eq. 9 × Eq. 5 reading of MaTrice, then, on the default reading, the std weights of UaQ (α2) and UaL
 * (β2) lowered; each with its Random of the same size. All from the same attributions.
 */
export function readingSpecs(): MethodSpec[] {
  const out: MethodSpec[] = [];
  const add = (r: string) => out.push(parseMethodSpec(`matrice@${r}`), parseMethodSpec(`random@${r}`));
  for (const n of NORMS) for (const a of ATTR_NORMS) add(`${n}/${a}`);
  for (const w of ['a0', 'b0.5', 'b0', 'a0/b0']) add(`scale/none/${w}`);
  return out;
}

export interface ExperimentMeta extends core.RunMeta {
  experiment: 'manipulate';
  /** the k of the knock-out curve */
  knockout: number[];
}

/** Query-level record: P before and whether the target was top-1. */
export interface RowQuery {
  lang: Lang;
  template: string;
  before: number;
  known: boolean;
}

export interface FactRow {
  v: number;
  fact: string;
  /** position in meta.facts */
  index: number;
  relation: Relation;
  queries: RowQuery[];
  /**
   * per method key: its neurons and P(correct) after suppress (×0) / enhance (×2), aligned with `queries`;
   * `coverage` (aligned with `neurons`): in how many languages' own selections each neuron is (languageCoverage,
   * under the method's settings); `suppressTop1` (aligned with `queries`): whether the target is still top-1
   * after suppression. Both absent in rows written before they existed (the report then says "—").
   */
  methods: Record<string, { neurons: NeuronId[]; suppress: number[]; enhance: number[]; coverage?: number[]; suppressTop1?: boolean[] }>;
  /** each language's own (Dai-style) neurons and P after suppressing them, aligned with that language's queries */
  perLanguage: Partial<Record<Lang, { neurons: NeuronId[]; suppress: number[]; suppressTop1?: boolean[] }>>;
  /** P after suppressing the top-k neurons by S and k random ones, per k of meta.knockout, aligned with `queries` */
  knockout: { top: number[][]; random: number[][] };
  /** IG completeness: max over the fact's queries, layers and baselines of |Σ attr − (P(w̄) − P(w'))| / P(w̄) */
  completeness: number;
}

export interface PickOptions extends core.CandidateOptions {
  facts: number;
  /** a fact is known when at least this many languages are (default min(4, langs)) */
  minKnownLangs?: number;
  onProgress?: (p: { probed: number; picked: number }) => void;
}

/**
 * Seeded, stratified sample of facts the model knows (candidateSessions' order), a fact kept when at least
 * `minKnownLangs` of its languages are known (FactSession.knownLanguages), until `facts` are kept or the
 * candidates run out.
 */
export async function pickFacts(model: LoadedModel, bench: RmlLama, o: PickOptions): Promise<string[]> {
  const minKnown = o.minKnownLangs ?? core.minKnownLangsFor(o.langs);
  const { picked, probed } = await core.pickCandidates(model, bench, o, (s) => s.knownLanguages().length >= minKnown);
  if (picked.length === 0) {
    throw new KnError(
      'bad-input',
      `the model knows none of the ${probed} facts tried (a fact counts when ≥ ${minKnown} of ${o.langs.join(', ')} are answered top-1 on at least half of their queries)`,
    );
  }
  return picked;
}

export interface RunOptions extends core.FactContext<ExperimentMeta> {
  methods: MethodSpec[];
  sink: core.RowSink<FactRow>;
  onProgress?: (p: core.RunProgress) => void;
}

/** One fact: localize once, every method from the same attributions, suppress/enhance, knock-out. */
export async function runFact(o: Omit<RunOptions, 'sink' | 'onProgress'>, factId: string, index: number): Promise<FactRow> {
  const { model, bench, meta } = o;
  const s = await FactSession.open(model, bench, factId, meta.langs, { topK: 1 });
  const attributed = await s.localize({
    steps: meta.steps,
    baseline: meta.baseline,
    quadrature: meta.quadrature ?? LEGACY_QUADRATURE,
    store: o.store,
    signal: o.signal,
  });
  const queries: RowQuery[] = s.queries.map((q) => ({ lang: q.lang, template: q.templateId, before: core.p6(q.before), known: q.known }));
  // every manipulation of the fact, then all of them in one batched pass (FactSession.manipulateMany)
  const jobs: { neurons: NeuronId[]; factor: number; langs?: Lang[] }[] = [];
  const job = (neurons: NeuronId[], factor: number, langs?: Lang[]) => jobs.push({ neurons, factor, langs }) - 1;
  const plan: { key: string; neurons: NeuronId[]; coverage: number[]; sup: number; enh: number }[] = [];
  for (const m of o.methods) {
    const settings = { ...meta.settings, ...m.settings };
    const sel = s.select(m.method, settings, `${meta.seed}:${factId}`);
    const coverage = languageCoverage(sel.neurons, s.selectPerLanguage(settings) as Record<string, NeuronId[]>);
    plan.push({ key: m.key, neurons: sel.neurons, coverage, sup: job(sel.neurons, SUPPRESS_FACTOR), enh: job(sel.neurons, ENHANCE_FACTOR) });
  }
  const own = Object.entries(s.selectPerLanguage(meta.settings)) as [Lang, NeuronId[]][];
  const ownJobs = own.map(([lang, neurons]) => ({ lang, neurons, j: job(neurons, SUPPRESS_FACTOR, [lang]) }));
  // knock-out: top-k by S (ties by position) against k random neurons, nested sets
  const S = scoreMatrice(s.fa!, meta.settings).S;
  const F = model.cfg.ffn,
    L = model.cfg.numLayers;
  const kMax = Math.min(Math.max(...meta.knockout), L * F);
  const flat: { i: number; v: number }[] = [];
  S.forEach((row, l) => row.forEach((v, j) => flat.push({ i: l * F + j, v: Number.isFinite(v) ? v : -Infinity })));
  flat.sort((a, b) => b.v - a.v || a.i - b.i);
  const top = flat.slice(0, kMax).map((x) => [Math.floor(x.i / F), x.i % F] as NeuronId);
  const rnd = sampleWithoutReplacement(kMax, L * F, `${meta.seed}:${factId}:knockout`).map((i) => [Math.floor(i / F), i % F] as NeuronId);
  const koJobs = meta.knockout.map((k) => ({ top: job(top.slice(0, k), SUPPRESS_FACTOR), random: job(rnd.slice(0, k), SUPPRESS_FACTOR) }));
  const res = await s.manipulateMany(jobs, 1);
  const probs = (j: number) => res[j].rows.map((r) => core.p6(r.after));
  const top1 = (j: number) => res[j].rows.map((r) => r.correctAfter);
  const methods: FactRow['methods'] = {};
  for (const x of plan) methods[x.key] = { neurons: x.neurons, suppress: probs(x.sup), enhance: probs(x.enh), coverage: x.coverage, suppressTop1: top1(x.sup) };
  const perLanguage: FactRow['perLanguage'] = {};
  for (const x of ownJobs) perLanguage[x.lang] = { neurons: x.neurons, suppress: probs(x.j), suppressTop1: top1(x.j) };
  const knockout: FactRow['knockout'] = { top: koJobs.map((x) => probs(x.top)), random: koJobs.map((x) => probs(x.random)) };
  // relative to the query's P(correct), not to P(w̄) − P(w'): a baseline that barely moves P makes that ratio explode
  let completeness = 0;
  for (const q of attributed) {
    const r = q.completeness.maxAbs / Math.max(q.attribution.pFull, 1e-12);
    if (Number.isFinite(r)) completeness = Math.max(completeness, r);
  }
  return { v: ROW_VERSION, fact: factId, index, relation: s.relation, queries, methods, perLanguage, knockout, completeness: core.p6(completeness) };
}

/** The manipulation experiment on the runner core: a fact's row by runFact, its schema by rowProblem. */
export const MANIPULATE: core.ExperimentPlugin<ExperimentMeta, FactRow, { methods: MethodSpec[] }> = {
  experiments: ['manipulate'],
  phase: true,
  start: (o) => (fact, index) => runFact(o, fact, index),
  rowProblem: (r, meta) => rowProblem(r, meta),
  mismatch: (a, b, ignoreShard) => metaMismatch(a, b, ignoreShard),
};

/** Runs the facts of the meta's shard that the sink has not finished; resumable, cancellable between facts. */
export const runManipulation = (o: RunOptions): Promise<{ written: number; skipped: number }> => core.runPlugin(MANIPULATE, o);

/** The meta of a run; `facts` filled by pickFacts. The legacy quadrature is left out (as folders before the option). */
export function makeMeta(
  p: Omit<ExperimentMeta, 'v' | 'experiment' | 'settings' | 'knockout'> & { settings?: Partial<MatriceSettings>; knockout?: number[] },
): ExperimentMeta {
  const { quadrature, ...rest } = p;
  return {
    v: ROW_VERSION,
    experiment: 'manipulate',
    ...rest,
    ...(quadrature !== undefined && quadrature !== LEGACY_QUADRATURE ? { quadrature } : {}),
    settings: resolveSettings(p.settings ?? {}),
    knockout: p.knockout ?? [...KNOCKOUT_K],
  };
}

/** The fields two runs must share to be merged or resumed into one; the first that differs, or null. */
export function metaMismatch(a: ExperimentMeta, b: ExperimentMeta, ignoreShard = false): string | null {
  const fields: (keyof ExperimentMeta)[] = [...core.RUN_META_FIELDS, 'knockout', 'facts', 'request'];
  if (!ignoreShard) fields.push('shard');
  return core.metaDifference(a, b, fields, ['model', 'settings', 'request']);
}

/** Checks a parsed NDJSON row has the shape the report reads; returns an error message or null. */
export function rowProblem(r: unknown, meta: ExperimentMeta): string | null {
  const head = core.rowHeadProblem(r, ROW_VERSION, meta);
  if (head) return head;
  const o = r as Partial<FactRow>;
  if (!Array.isArray(o.queries) || !o.methods || typeof o.methods !== 'object' || !o.knockout) return 'missing queries, methods or knockout';
  const n = o.queries.length;
  for (const k of meta.methods) {
    const m = o.methods[k];
    if (!m || !Array.isArray(m.suppress) || m.suppress.length !== n || !Array.isArray(m.enhance) || m.enhance.length !== n || !Array.isArray(m.neurons))
      return `method ${k} missing or misaligned`;
    if (m.coverage !== undefined && (!Array.isArray(m.coverage) || m.coverage.length !== m.neurons.length))
      return `method ${k}: coverage misaligned with its neurons`;
    if (m.suppressTop1 !== undefined && (!Array.isArray(m.suppressTop1) || m.suppressTop1.length !== n))
      return `method ${k}: suppressTop1 misaligned with the queries`;
  }
  if (!Array.isArray(o.knockout.top) || o.knockout.top.length !== meta.knockout.length) return 'knockout misaligned';
  return null;
}

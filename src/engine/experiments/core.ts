/**
 * The one runner core every benchmark-scale experiment shares (manipulate, readings, calibrate, edit,
 * enhance, inject): pick facts (seeded, stratified, a plugin's predicate), run the facts of a shard that
 * the sink has not finished (resumable, cancellable between facts, a fact written whole or not at all),
 * the meta and row checks that resume and merge rely on. Generic over the meta `M` and the row `R`; an
 * experiment is a plugin (ExperimentPlugin) bringing its `runFact`, its row check and its meta fields.
 * Environment-free: rows go to a RowSink (NDJSON files in Node, IndexedDB or memory in the page).
 */
import { timeLeftMs } from '../../shared/estimate';
import type { RmlLama } from '../../data/loader';
import { RELATIONS, type Lang, type Relation } from '../../data/types';
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import { LEGACY_QUADRATURE, minKnownLangsFor, type Baseline, type Quadrature } from '../rules';
import type { BytesStore } from '../attribution/cache';
import { sampleWithoutReplacement, type MatriceSettings } from '../selection/scoring';
import { FactSession } from '../session/session';

/** What a results folder records of its model: the same weights are the same model, whatever `id` (label, path, URL) says. */
export interface ModelRef {
  id: string;
  contentHash: string;
  dtype: string;
  kind: string;
  numLayers: number;
  ffnSize: number;
}

/**
 * The meta fields of a manipulation and an edit / enhance / inject run (each adds its own): what was run, the
 * picked facts and the shard. A calibration varies the settings over a grid and has its own.
 */
export interface RunMeta {
  v: number;
  model: ModelRef;
  settings: MatriceSettings;
  steps: number;
  baseline: Baseline;
  /** the IG quadrature; omitted = LEGACY_QUADRATURE (riemann-right), as in every folder written before the option */
  quadrature?: Quadrature;
  seed: number;
  langs: Lang[];
  methods: string[];
  /** the picked facts, in run order (the same for every shard) */
  facts: string[];
  /** what was asked for */
  request: { facts: number; relations: Relation[]; split: string | null; minKnownLangs: number };
  shard: { k: number; n: number } | null;
}

/** the pickers' default: a fact counts as known in this many of the run's languages (a rule) */
export { minKnownLangsFor };

/** Every runner's meta has the picked facts (in run order, the same for every shard) and its shard. */
export interface ShardedMeta {
  facts: string[];
  shard?: { k: number; n: number } | null;
}

/** Every runner's row names its fact and the fact's position in meta.facts. */
export interface FactRowBase {
  fact: string;
  index: number;
}

export interface FactTiming {
  fact: string;
  ms: number;
}

/** Where a runner's rows go (NDJSON files in Node, IndexedDB in the page); every runner uses it. */
export interface RowSink<R = unknown> {
  /** facts already finished (a re-run skips them) */
  finished(): Promise<Set<string>>;
  write(row: R, timing: FactTiming): Promise<void>;
}

export interface RunProgress {
  phase: 'pick' | 'run';
  done: number;
  total: number;
  skipped: number;
  fact?: string;
  elapsedMs: number;
  /** estimated time left; null until one fact is done */
  etaMs: number | null;
}

/** Probabilities in rows: 6 significant digits (deterministic, small files). */
export const p6 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : 0);

/** `k/n` (1-based) → {k, n}; refuses anything else. */
export function parseShard(s: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = m ? Number(m[1]) : NaN,
    n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new KnError('bad-input', `--shard must be k/n with 1 ≤ k ≤ n (e.g. 2/3), got "${s}"`);
  return { k, n };
}

/** The facts of shard k/n: every n-th of the picked list, starting at k − 1. */
export function shardIndices(total: number, shard: { k: number; n: number } | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (!shard || i % shard.n === shard.k - 1) out.push(i);
  return out;
}

// ------------------------------------------------------------------------------------------- pick

export interface CandidateOptions {
  relations?: readonly Relation[];
  langs: readonly Lang[];
  seed: number;
  /** restrict to these fact ids (e.g. a model's test split) */
  candidates?: readonly string[];
  signal?: AbortSignal;
}

/**
 * The candidate facts in the runners' one order, each opened as a FactSession (probed once): each
 * relation's facts shuffled with `${seed}:${relation}`, taken round-robin over relations (stratified). A fact
 * missing in a language is passed over. The consumer stops when it has what it needs.
 */
export async function* candidateSessions(model: LoadedModel, bench: RmlLama, o: CandidateOptions): AsyncGenerator<FactSession> {
  const relations = o.relations?.length ? o.relations : RELATIONS;
  const allowed = o.candidates ? new Set(o.candidates) : null;
  const queues: string[][] = [];
  for (const r of relations) {
    const shard = await bench.shard(r, o.langs[0]);
    const ids = shard.facts.map((f) => f.id).filter((id) => !allowed || allowed.has(id));
    const order = sampleWithoutReplacement(ids.length, ids.length, `${o.seed}:${r}`);
    queues.push(order.map((i) => ids[i]));
  }
  while (queues.some((q) => q.length)) {
    for (const q of queues) {
      const id = q.shift();
      if (!id) continue;
      if (o.signal?.aborted) throw new KnError('cancelled', 'experiment cancelled');
      try {
        yield await FactSession.open(model, bench, id, o.langs, { topK: 1 });
      } catch (e) {
        if (e instanceof KnError && e.code === 'bad-input') continue; // a fact missing in a language
        throw e;
      }
    }
  }
}

/**
 * The candidates (candidateSessions' order) a plugin's predicate keeps, while `more` says more are wanted
 * (default: fewer than `facts` kept). `keep` sees the facts kept so far.
 */
export async function pickCandidates(
  model: LoadedModel,
  bench: RmlLama,
  o: CandidateOptions & { facts: number; onProgress?: (p: { probed: number; picked: number }) => void },
  keep: (s: FactSession, picked: readonly string[]) => boolean,
  more: (picked: readonly string[]) => boolean = (picked) => picked.length < o.facts,
): Promise<{ picked: string[]; probed: number }> {
  const picked: string[] = [];
  let probed = 0;
  if (more(picked)) {
    for await (const s of candidateSessions(model, bench, o)) {
      probed++;
      if (keep(s, picked)) picked.push(s.factId);
      o.onProgress?.({ probed, picked: picked.length });
      if (!more(picked)) break;
    }
  }
  return { picked, probed };
}

// ------------------------------------------------------------------------------------------- run

/** What every runner is given: the model, the benchmark, the meta, the attribution cache, cancellation. */
export interface FactContext<M> {
  model: LoadedModel;
  bench: RmlLama;
  meta: M;
  /** attribution cache */
  store?: BytesStore;
  signal?: AbortSignal;
}

export interface RunFactsOptions<M extends ShardedMeta, R, P> {
  meta: M;
  sink: RowSink<R>;
  signal?: AbortSignal;
  onProgress?: (p: P) => void;
  /** one fact's row (the plugin's runFact, bound to the run) */
  runFact: (fact: string, index: number) => Promise<R>;
  /** the cancel message's subject ('experiment', 'calibration') */
  what?: string;
  /** progress objects carry `phase: 'run'` (manipulate, calibrate) or no phase (edit, enhance, inject) */
  phase?: boolean;
}

/** Runs the facts of the meta's shard that the sink has not finished; resumable, cancellable between facts. */
export async function runFacts<M extends ShardedMeta, R, P = RunProgress>(o: RunFactsOptions<M, R, P>): Promise<{ written: number; skipped: number }> {
  const { meta } = o;
  const todo = shardIndices(meta.facts.length, meta.shard ?? null);
  const finished = await o.sink.finished();
  const pending = todo.filter((i) => !finished.has(meta.facts[i]));
  const skipped = todo.length - pending.length;
  const t0 = performance.now();
  let written = 0;
  const cancelled = () => new KnError('cancelled', `${o.what ?? 'experiment'} cancelled after ${written} facts (finished facts are kept; run again to resume)`);
  const progress = (p: Omit<RunProgress, 'phase'>) => o.onProgress?.((o.phase ? { phase: 'run', ...p } : p) as P);
  for (const i of pending) {
    if (o.signal?.aborted) throw cancelled();
    const fact = meta.facts[i];
    const elapsedMs = performance.now() - t0;
    progress({ done: written, total: pending.length, skipped, fact, elapsedMs, etaMs: timeLeftMs({ elapsedMs, finished: written, total: pending.length }) });
    const f0 = performance.now();
    let row: R;
    try {
      row = await o.runFact(fact, i);
    } catch (e) {
      if (o.signal?.aborted) throw cancelled();
      throw e;
    }
    // a fact is written whole or not at all
    await o.sink.write(row, { fact, ms: Math.round(performance.now() - f0) });
    written++;
  }
  progress({ done: written, total: pending.length, skipped, elapsedMs: performance.now() - t0, etaMs: 0 });
  return { written, skipped };
}

// ------------------------------------------------------------------------------------------- checks

/** The fields every run's meta shares and two runs must agree on to be resumed or merged, in the order they are checked. */
export const RUN_META_FIELDS = ['v', 'experiment', 'model', 'settings', 'steps', 'baseline', 'quadrature', 'seed', 'langs', 'methods'] as const;

/**
 * The first of `fields` two metas differ in, or null (resume and merge). The model is the same when its
 * weights are (the path or URL it was loaded from may differ); a missing quadrature is the legacy one.
 * `detail`: for these object fields name the inner key that differs, and shorten long values with '…'
 * (the manipulation runner's wording); otherwise both values are cut at 80 characters.
 */
export function metaDifference<M extends object>(a: M, b: M, fields: readonly (keyof M)[], detail: readonly (keyof M)[] | null = null): string | null {
  const strip = (m: M) => {
    const x = m as M & { model?: object; quadrature?: string };
    return { ...m, model: { ...x.model, id: undefined }, quadrature: x.quadrature ?? LEGACY_QUADRATURE } as unknown as M;
  };
  const [sa, sb] = [strip(a), strip(b)];
  for (const f of fields) {
    const x = sa[f],
      y = sb[f];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    if (!detail) return `${String(f)} (${(JSON.stringify(x) ?? 'undefined').slice(0, 80)} vs ${(JSON.stringify(y) ?? 'undefined').slice(0, 80)})`;
    if (detail.includes(f)) {
      const xo = (x ?? {}) as Record<string, unknown>,
        yo = (y ?? {}) as Record<string, unknown>;
      for (const k of new Set([...Object.keys(xo), ...Object.keys(yo)])) {
        if (JSON.stringify(xo[k]) !== JSON.stringify(yo[k])) return `${String(f)}.${k} (${JSON.stringify(xo[k])} vs ${JSON.stringify(yo[k])})`;
      }
    }
    const show = (v: unknown) => {
      const t = JSON.stringify(v) ?? 'undefined';
      return t.length > 80 ? t.slice(0, 77) + '…' : t;
    };
    return `${String(f)} (${show(x)} vs ${show(y)})`;
  }
  return null;
}

/**
 * The checks every row starts with: an object, of the runner's row version (and, when given, of the meta's
 * experiment), about a fact of the run's fact list. The plugin checks the rest (its row schema).
 */
export function rowHeadProblem(r: unknown, version: number, meta: ShardedMeta & { experiment?: string }, experiment = false): string | null {
  if (!r || typeof r !== 'object') return 'not an object';
  const o = r as { v?: unknown; experiment?: unknown; fact?: unknown };
  if (o.v !== version) return `row version ${String(o.v)} (expected ${version})`;
  if (experiment && o.experiment !== meta.experiment) return `a ${String(o.experiment)} row in a ${meta.experiment} run`;
  if (typeof o.fact !== 'string' || !meta.facts.includes(o.fact)) return `fact ${JSON.stringify(o.fact)} is not in this run's fact list`;
  return null;
}

/** The report's note when picked facts are not finished yet (a shard's folder holds its own facts only), or null. */
export function unfinishedNote(meta: ShardedMeta, finished: number): string | null {
  const missing = meta.shard ? 0 : meta.facts.length - finished;
  return missing > 0 ? `${missing} of ${meta.facts.length} picked facts are not finished yet (the report covers ${finished})` : null;
}

// ------------------------------------------------------------------------------------------- plugins

/**
 * An experiment on the core: its meta and row types, how a fact runs (`start` opens per-run state, e.g. a
 * cache of unrelated queries, and gives the fact runner), its row schema check and its meta comparison.
 * The report (tables, CSV, SVG) lives in engine/report and is chosen by the CLI and the page per kind.
 */
export interface ExperimentPlugin<M extends ShardedMeta, R extends FactRowBase, O = object> {
  /** the meta.experiment values it runs */
  readonly experiments: readonly string[];
  /** the cancel message's subject */
  readonly what?: string;
  /** progress objects carry `phase: 'run'` */
  readonly phase?: boolean;
  start(o: FactContext<M> & O): (fact: string, index: number) => Promise<R>;
  rowProblem(r: unknown, meta: M): string | null;
  /** the first field two runs differ in (the shard ignored when asked: merge), or null */
  mismatch(a: M, b: M, ignoreShard?: boolean): string | null;
}

/** Runs a plugin's experiment: the core loop with the plugin's fact runner. */
export function runPlugin<M extends ShardedMeta, R extends FactRowBase, O, P = RunProgress>(
  plugin: ExperimentPlugin<M, R, O>,
  o: FactContext<M> & O & { sink: RowSink<R>; onProgress?: (p: P) => void },
): Promise<{ written: number; skipped: number }> {
  return runFacts<M, R, P>({
    meta: o.meta,
    sink: o.sink,
    signal: o.signal,
    onProgress: o.onProgress,
    runFact: plugin.start(o),
    what: plugin.what,
    phase: plugin.phase,
  });
}

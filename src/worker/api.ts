/**
 * The engine worker's API as seen from the page (through Comlink). Every method that can fail rejects
 * with a plain `{ code, message }` object (KnError does not survive structured clone with its code);
 * the page turns it back into a KnError with `toKnError`.
 *
 * Explorer calls (listFacts … manipulate) work on the worker's "current fact": `factQueries` or
 * `localize` make a fact current; `localize` also keeps its FactAttributions in the worker, so
 * `score` / `neuronStats` only re-score (never a gradient) and `manipulate` only runs forward passes.
 */
import type { Baseline, Quadrature } from '../engine/rules';
import type { BackendInfo, DeviceWeights, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../shared/types';
import type { ExperimentProgress, ExperimentReport, ExperimentRequest, ExperimentRunResult, SavedExperiment } from './experiments';
import type { CalibrationReport } from './experiments';
import type { ManipulationRow, Method, TopToken } from '../engine/interventions';
import type { ConvergenceCheck } from '../engine/session';
import type { LanguageSummary, MatriceSettings, NeuronId } from '../engine/selection';
import type { ActiveEdit, EditRequest, EditSpec, EditView, TeachCancelOutcome, TeachHoldPoint, TeachProgress, TeachRequest, TeachView } from './edits';

export type { ActiveEdit, EditRequest, EditSpec, EditView, TeachCancelOutcome, TeachHoldPoint, TeachProgress, TeachRequest, TeachView } from './edits';

export interface SerializedError {
  code: string;
  message: string;
}

export interface MemoryReport {
  /** bytes held by tfjs tensors on the active backend */
  numBytes: number;
  numTensors: number;
  /** WebGPU only: bytes of GPU buffers allocated */
  numBytesInGPU?: number;
}

export type WorkerEvent =
  | { type: 'device-lost'; message: string; backend: BackendInfo }
  | { type: 'backend-changed'; backend: BackendInfo };

/** A fact with its labels in every language of the benchmark. */
export interface FactSummary {
  id: string;
  relation: string;
  /** lang → subject / object label */
  labels: Record<string, { subject: string; object: string }>;
  /** the language whose subject or object matched the search (absent without a search) */
  matchedLang?: string;
  /** which label matched in that language */
  matchedField?: 'subject' | 'object';
}

/**
 * In how many languages the loaded model knows a fact (the one rule, src/data/probing.ts isKnownLanguage:
 * at least half of a language's queries answered top-1 correctly); null when it was not probed (the worker
 * was busy with an attribution or an edit: only cached answers are given then).
 */
export interface FactKnownHint {
  factId: string;
  /** the known languages (k = known.length), null when not probed */
  known: string[] | null;
  /** the languages asked */
  langs: string[];
}

export interface FactList {
  relation: string;
  /** facts matching the search, at most `limit` */
  facts: FactSummary[];
  /** how many facts matched in all */
  total: number;
}

export type { TopToken } from '../engine/interventions';

/** One query of the current fact, probed on the loaded model. */
export interface FactQueryRow {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  /** the target token as the tokenizer shows it */
  targetToken: string;
  /** P(correct): the probability of the target's first token at the target position */
  pCorrect: number;
  rank: number;
  correct: boolean;
  top: TopToken[];
}

export interface FactQueries {
  factId: string;
  relation: string;
  labels: Record<string, { subject: string; object: string }>;
  langs: string[];
  queries: FactQueryRow[];
  /** queries that could not be built or probed (target outside the vocabulary, too long, …) */
  skipped: { lang: string; templateId: string; reason: string }[];
}

export interface LocalizeOptions {
  langs: string[];
  /** M, the quadrature points of the integrated gradients (default the engine's DEFAULT_STEPS) */
  steps?: number;
  baseline?: Baseline;
  /** the IG quadrature (default the engine's DEFAULT_QUADRATURE) */
  quadrature?: Quadrature;
  /** resolve with `complete: false` instead of computing when any query is not in the cache */
  cacheOnly?: boolean;
}

export interface LocalizeProgress {
  queriesDone: number;
  queriesTotal: number;
  pointsDone: number;
  pointsTotal: number;
  cached: number;
  elapsedMs: number;
  /** estimated time left (null until there is something to extrapolate from) */
  etaMs: number | null;
}

export interface LocalizedQuery {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  cached: boolean;
  /** the IG completeness error: max over layers and baselines of |Σ_j Attr_i − (P(w̄) − P(w'_i))| */
  completeness: { maxAbs: number; maxRel: number };
  /** P(w̄), the model's probability of the target */
  pFull: number;
}

export interface LocalizeResult {
  /** false only with `cacheOnly` when some query was not cached (nothing was computed) */
  complete: boolean;
  factId: string;
  langs: string[];
  steps: number;
  baseline: Baseline;
  numLayers: number;
  ffnSize: number;
  queries: LocalizedQuery[];
  /** queries read from the attribution cache (with `complete: false`: those of `queriesTotal` that are cached) */
  cachedCount: number;
  /** with `complete: false`: how many queries localizing attributes (cachedCount of them are read from the cache) */
  queriesTotal?: number;
  /** the largest completeness error over all queries */
  maxCompleteness: { maxAbs: number; maxRel: number };
  ms: number;
  skipped: { lang: string; templateId: string; reason: string }[];
}

/** The convergence check's options: the method and settings whose selection is compared (engine FactSession.checkConvergence). */
export interface ConvergenceOptions {
  method: Method;
  settings: Partial<MatriceSettings>;
  seed?: number;
}

/** The engine's ConvergenceCheck for the current fact, with the fact and the time it took. */
export interface ConvergenceResult extends ConvergenceCheck {
  factId: string;
  ms: number;
}

export interface ScoreResult {
  method: Method;
  /** which score the heatmap shows: MaTrice's S, or w/o UaQ's S (AMIG / w/o UaL / Random show MaTrice's S) */
  heatmapOf: 'matrice' | 'no-uaq';
  /** layers × (ffnSize / bin) cells: max of S over each bin of `bin` consecutive neurons */
  S: number[][];
  bin: number;
  numLayers: number;
  ffnSize: number;
  selected: NeuronId[];
  /** 𝒯 = τ · max S of the heatmap's score (MaTrice / w/o UaQ; null when not defined) */
  threshold: number | null;
  maxS: number;
  /** Fig. 4: share of the selected neurons per layer */
  layerDistribution: number[];
  /**
   * language coverage (engine `languageCoverage`, docs/METHOD.md): per selected neuron (in `selected`'s order)
   * the number of languages whose own selection (w/o UaL per language, same settings) contains it, 0..languages;
   * `mean` over the selected neurons (null when none). Absent for a stored (read-only) exploration.
   */
  coverage?: { perNeuron: number[]; mean: number | null; languages: number };
  /** Eq. 5 denominators at fault (zero / negative / near-zero), counted */
  warnings: number;
  ms: number;
}

export interface NeuronStatsResult {
  neuron: NeuronId;
  /** s̄_k per language (Eq. 9, what UaL averages) */
  perLanguage: { lang: string; value: number; raw: number }[];
  mean: number;
  std: number;
  S: number;
  threshold: number;
  selected: boolean;
}

/** The engine's manipulation row of a fact's query (its template is always known). */
export interface ManipulateRow extends ManipulationRow {
  templateId: string;
}

export interface ManipulateResult {
  factor: number;
  neurons: NeuronId[];
  rows: ManipulateRow[];
  /** per language: mean P before/after; ΔP and the ratio over the known queries (NaN when none), engine `perLanguage` */
  languages: Record<string, LanguageSummary>;
  ms: number;
}

/** Each language's own neurons beside the shared (MaTrice) set, both scaled on that language's queries. */
export interface LanguageSetsResult {
  shared: NeuronId[];
  factor: number;
  languages: {
    lang: string;
    /** the language's own neurons: UaQ over its queries, the same dynamic threshold */
    own: NeuronId[];
    /** how many of them are in the shared set */
    overlap: number;
    /** that language's queries with its own set scaled / with the shared set scaled (ΔP over known queries) */
    ownResult: LanguageSummary;
    sharedResult: LanguageSummary;
  }[];
  ms: number;
}

/** The current fact's attributions, for export (raw per query as float32, layer-major flat). */
export interface AttributionsExport {
  factId: string;
  steps: number;
  baseline: Baseline;
  numLayers: number;
  ffnSize: number;
  modelHash: string;
  languages: Record<string, { queries: { text: string; templateId: string; raw: Float32Array }[] }>;
}

export interface EngineWorkerApi {
  /**
   * Pick and verify the tfjs backend. `prefer` forces an order, e.g. ['wasm']. `threads`: wasm's threads (the page's
   * ?threads=auto|off|N; more than one only where the page is cross-origin isolated)
   */
  init(prefer?: string[], opts?: { deviceWeights?: DeviceWeights; threads?: string }): Promise<BackendInfo>;
  /** Register a listener for asynchronous events (device lost ...). Pass a Comlink.proxy. */
  subscribe(cb: (e: WorkerEvent) => void): Promise<void>;
  /** Load a model (replacing the current one). `onProgress` must be a Comlink.proxy. */
  load(spec: ModelSourceSpec, dtype: WeightDtype, onProgress?: (p: Progress) => void): Promise<ModelInfo>;
  /** Next-token (causal) or mask (masked) prediction on the loaded model. */
  probe(prompt: string, target?: string, topK?: number): Promise<ProbeResult>;
  /** Abort a load or a localization in progress (it rejects with code 'cancelled'). */
  cancel(): Promise<void>;
  memory(): Promise<MemoryReport>;
  /** Drop the loaded model. */
  unload(): Promise<void>;
  /** Test hook: behave as if the WebGPU device had been lost (a real loss cannot be provoked from JS). */
  simulateDeviceLost(reason: string): Promise<void>;

  /** Facts of a relation; `query` searches subjects and objects in every language (case- and accent-insensitive). */
  listFacts(relation: string, query?: string, limit?: number): Promise<FactList>;
  /** For each fact, the languages of `langs` the loaded model knows (probed top-1, cached per model content hash). */
  factsKnown(factIds: string[], langs: string[]): Promise<FactKnownHint[]>;
  /** Every query of the fact in `langs` for the loaded model's kind, with top-k and P(correct). */
  factQueries(factId: string, langs: string[], topK?: number): Promise<FactQueries>;
  /** Attribute every query of the fact (cached in IndexedDB 'kn-attributions'); keeps the result. */
  localize(factId: string, opts: LocalizeOptions, onProgress?: (p: LocalizeProgress) => void): Promise<LocalizeResult>;
  /**
   * Re-attribute the current fact's queries whose completeness error is above COMPLETENESS_FLAG with RECHECK
   * (cached in 'kn-attributions') and compare the method's selection with and without them; a new check or a
   * localize aborts the previous one (it rejects with code 'cancelled'). Refused when the fact is not localized.
   */
  checkConvergence(factId: string, opts: ConvergenceOptions, onProgress?: (p: LocalizeProgress) => void): Promise<ConvergenceResult>;
  /** Stop the convergence check in progress (it rejects with code 'cancelled'); nothing else is cancelled. */
  cancelCheck(): Promise<void>;
  /** Re-score the kept attributions with a method and settings (no gradient). */
  score(method: Method, settings: Partial<MatriceSettings>, seed?: number, maxCells?: number): Promise<ScoreResult>;
  /** One neuron's s̄_k per language, mean ± std and S. */
  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): Promise<NeuronStatsResult>;
  /** Scale the neurons' activations by `factor` on every query of the current fact. */
  manipulate(neurons: NeuronId[], factor: number, topK?: number): Promise<ManipulateResult>;
  /** Each language's own neurons beside MaTrice's shared set, both scaled by `factor` on that language's queries. */
  languageSets(settings: Partial<MatriceSettings>, factor?: number): Promise<LanguageSetsResult>;
  /** The kept attributions (null when nothing was localized). */
  exportAttributions(): Promise<AttributionsExport | null>;

  /** Edit the current fact from English (erase / update the neurons) and evaluate it in every language (worker/edits.ts). */
  editApply(req: EditRequest): Promise<EditView>;
  /** Re-apply an erase / update a link or file names. */
  editReplay(spec: EditSpec): Promise<ActiveEdit>;
  /** Undo the last edit (or check that `id` is the last), or with `all` every edit; returns the edits left. */
  editUndo(id?: string, all?: boolean): Promise<ActiveEdit[]>;
  editList(): Promise<ActiveEdit[]>;
  /** Get the current fact's unrelated queries ready, so the first edit answers as fast as the next. */
  editPrepare(): Promise<void>;
  /** Teach a fact the model does not know: localize, train only its top-k neurons, evaluate every language. */
  teach(req: TeachRequest, onProgress?: (p: TeachProgress) => void): Promise<TeachView>;
  /** 'cancelled': the teach stops and nothing is kept; 'finished': it had passed its last step (the fact is taught); 'idle' */
  teachCancel(): Promise<TeachCancelOutcome>;
  /** Test seam: park the next teaches at a point of their last step (EditState.setHold); null removes it. */
  teachHold(point: TeachHoldPoint | null): Promise<void>;

  /** Experiments view (worker/experiments.ts): run or resume a benchmark-scale experiment, rows in IndexedDB 'kn-experiments'. */
  experimentRun(req: ExperimentRequest, onProgress?: (p: ExperimentProgress) => void): Promise<ExperimentRunResult>;
  /** Stop the running experiment after the current step; finished facts are kept. */
  experimentCancel(): Promise<void>;
  experimentList(): Promise<{ runs: SavedExperiment[]; storage: 'indexeddb' | 'memory'; storageNote: string | null }>;
  experimentReport(id: string): Promise<ExperimentReport>;
  experimentDelete(id: string): Promise<void>;
  /** A calibration run's report ("Calibrate on this model"): the CLI's files, the summary and the chosen block. */
  calibrationReport(id: string): Promise<CalibrationReport>;
  /**
   * "Use these settings for this model": keeps the run's calibration block in IndexedDB 'kn-calibrations' keyed by
   * the weights' content hash (worker/calibrations.ts); returns the loaded model's info with its effective
   * calibration (the one stored on this page, else the folder's calibration.json, else none).
   */
  calibrationUse(id: string): Promise<ModelInfo>;
  /** "Forget this calibration": drops the one stored for the loaded weights; returns their info as calibrationUse. */
  calibrationForget(): Promise<ModelInfo>;
}

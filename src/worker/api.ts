/**
 * The engine worker's API as seen from the page (through Comlink). Every method that can fail rejects
 * with a plain `{ code, message }` object (KnError does not survive structured clone with its code);
 * the page turns it back into a KnError with `toKnError`.
 *
 * Explorer calls (listFacts … manipulate) work on the worker's "current fact" (the engine's ExplorerState,
 * src/engine/session/explorer.ts): `factQueries` or `localize` make a fact current; `localize` also keeps its
 * FactAttributions in the worker, so `score` / `neuronStats` only re-score (never a gradient) and `manipulate`
 * only runs forward passes.
 *
 * The contract is a leaf: it imports no worker file (the explorer's messages are the engine's types, the edits'
 * are written here; the worker's files import them from here).
 */
import type { BackendInfo, DeviceWeights, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../shared/types';
import type { ExperimentProgress, ExperimentReport, ExperimentRequest, ExperimentRunResult, SavedExperiment } from './experiments';
import type { CalibrationReport } from './experiments';
import type { AppliedEdit, Method } from '../engine/interventions';
import type { Lang } from '../engine/rules';
import type { EditCell } from '../engine/report';
import type { MatriceSettings, NeuronId } from '../engine/selection';
import type {
  AttributionsExport, ConvergenceOptions, ConvergenceResult, FactKnownHint, FactList, FactQueries, LanguageSetsResult,
  LocalizeOptions, LocalizeProgress, LocalizeResult, ManipulateResult, NeuronStatsResult, ScoreResult,
} from '../engine/session';

export type {
  AttributionsExport, ConvergenceOptions, ConvergenceResult, FactKnownHint, FactList, FactQueries, FactQueryRow, FactSummary,
  LanguageSetsResult, LocalizedQuery, LocalizeOptions, LocalizeProgress, LocalizeResult, ManipulateResult, ManipulateRow,
  NeuronStatsResult, ScoreResult,
} from '../engine/session';
export type { TopToken } from '../engine/interventions';

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

// ------------------------------------------------------------------------------------------------ edits

/** What the share link and the exploration file keep of an edit (enough to make it again); worker/edit-spec.ts labels it. */
/** A fact the user typed: one language's subject and object for a relation. */
export interface TypedFact {
  relation: string;
  lang: string;
  subject: string;
  object: string;
}

type Neuron = [number, number];

export type EditSpec =
  | { kind: 'erase'; fact: string; neurons: Neuron[] }
  | { kind: 'update'; fact: string; neurons: Neuron[]; newObject: string; lambda1: number; lambda2: number }
  | { kind: 'inject'; fact: string | TypedFact; neurons: Neuron[]; lang: string; trainSteps: number; lr: number };


/** where the test seam `setHold` parks a teach (see EditState.setHold) */
export const TEACH_HOLD_POINTS = ['teach-commit', 'teach-done'] as const;
export type TeachHoldPoint = (typeof TEACH_HOLD_POINTS)[number];
/** what a cancel found: a teach it stopped, a teach that had already finished, or nothing running */
export type TeachCancelOutcome = 'cancelled' | 'finished' | 'idle';

export interface EditRequest {
  kind: 'erase' | 'update';
  neurons: NeuronId[];
  /** update: the new object, as the English query should answer it */
  newObject?: string;
  lambda1?: number;
  lambda2?: number;
}

export interface TokenAt {
  token: string;
  prob: number;
}

export interface EditQueryView {
  lang: string;
  templateId: string;
  prompt: string;
  role: 'edited' | 'paraphrase';
  /** the model answered the old object top-1 before the edit */
  known: boolean;
  before: { pOld: number; top: TokenAt };
  after: { pOld: number; top: TokenAt };
  /** after the edit: the old object is still top-1 / (update) the new object is top-1 */
  oldTop: boolean;
  newTop?: boolean;
}

export interface UnrelatedView {
  lang: string;
  factId: string;
  prompt: string;
  before: string;
  after: string;
  same: boolean;
}

/** An applied edit, as the page lists it. */
export interface ActiveEdit {
  id: string;
  kind: AppliedEdit['kind'];
  label: string;
  neurons: number;
  notes: string[];
  precision: AppliedEdit['precision'];
  spec: EditSpec;
}

export interface EditView {
  active: ActiveEdit;
  factId: string;
  editPrompt: string;
  oldObject: string;
  newObject?: string;
  queries: EditQueryView[];
  unrelated: UnrelatedView[];
  /** per language: reliability / generality / locality (shares with their counts, editCell) */
  languages: Record<string, EditCell>;
  /** the int8 model's float32 overlay vs re-quantizing in place (src/engine/interventions/edit.ts) */
  requantization?: AppliedEdit['requantization'];
  ms: { edit: number; evaluate: number; total: number };
}

export interface TeachRequest {
  /** a benchmark fact id, or a typed fact */
  fact: string | TypedFact;
  /** the languages to localize in and to check after (default: all 7) */
  langs?: string[];
  /** the language whose queries are trained on (default: the typed fact's language, else English) */
  trainLang?: string;
  /** neurons trained: the top-k by S (default 10) */
  k?: number;
  trainSteps?: number;
  lr?: number;
  /** IG steps M of the localization (default 20) */
  steps?: number;
  settings?: Partial<MatriceSettings>;
  /** train these neurons instead of localizing (a link's replay) */
  neurons?: NeuronId[];
}

export interface TeachProgress {
  phase: 'localize' | 'train' | 'evaluate';
  done: number;
  total: number;
  loss?: number;
  correct?: number;
  elapsedMs: number;
}

export interface TeachQueryView {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  before: { p: number; correct: boolean; top: string };
  after: { p: number; correct: boolean; top: string };
  trained: boolean;
}

export interface TeachView {
  active: ActiveEdit | null;
  /** why nothing was changed (cancel, divergence), else null */
  stopped: string | null;
  converged: boolean;
  factId: string;
  labels: Partial<Record<Lang, { subject: string; object: string }>>;
  trainLang: string;
  neurons: NeuronId[];
  queries: TeachQueryView[];
  /** per language: [correct, total] before and after */
  languages: Record<string, { before: [number, number]; after: [number, number] }>;
  /** queries of unrelated facts whose top-1 is unchanged after the training: [same, total] */
  old: [number, number];
  notes: string[];
  skipped: { lang: string; templateId: string; reason: string }[];
  losses: number[];
  ms: { localize: number; train: number; evaluate: number; total: number };
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

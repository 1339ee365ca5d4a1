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
 * The contract is a leaf: it imports no worker file; the messages are the engine's types (engine/session views.ts,
 * edit-views.ts) and the edit specs of src/shared/edit-spec.ts.
 */
import type { BackendInfo, DeviceWeights, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../shared/types';
import type { CalibrationReport, ExperimentProgress, ExperimentReport, ExperimentRequest, ExperimentRunResult, SavedExperiment } from '../engine/experiments';
import type { Method } from '../engine/interventions';
import type { MatriceSettings, NeuronId } from '../engine/selection';
import type * as S from '../engine/session';
import type { EditSpec } from '../shared/edit-spec';
import type { AtlasProgress } from '../engine/atlas';

/** The messages: the engine session's types (views.ts, edit-views.ts), re-exported as the contract. */
export type * from '../engine/session';

export type { TopToken } from '../engine/interventions';
export type { EditSpec, TypedFact } from '../shared/edit-spec';

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

/** The in-page atlas build (worker/atlas.ts): how many facts to build the loaded model's atlas from. */
export interface AtlasBuildRequest {
  facts: number;
  /** the languages (default: all the benchmark's) */
  langs?: string[];
}
export interface AtlasBuildStatus {
  /** a finished atlas (atlas.json) is stored for the loaded model */
  built: boolean;
  /** the facts of a build begun (0 when none), and how many are done */
  facts: number;
  done: number;
  storage: 'indexeddb' | 'memory';
  running?: boolean;
}
export interface AtlasBuildResultView {
  pages: number;
  bytes: number;
  written: number;
  skipped: number;
  problems: string[];
  ms: number;
}
export type { AtlasProgress };

export type WorkerEvent = { type: 'device-lost'; message: string; backend: BackendInfo } | { type: 'backend-changed'; backend: BackendInfo };

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
  listFacts(relation: string, query?: string, limit?: number): Promise<S.FactList>;
  /** For each fact, the languages of `langs` the loaded model knows (probed top-1, cached per model content hash). */
  factsKnown(factIds: string[], langs: string[]): Promise<S.FactKnownHint[]>;
  /** Every query of the fact in `langs` for the loaded model's kind, with top-k and P(correct). */
  factQueries(factId: string, langs: string[], topK?: number): Promise<S.FactQueries>;
  /** Attribute every query of the fact (cached in IndexedDB 'kn-attributions'); keeps the result. */
  localize(factId: string, opts: S.LocalizeOptions, onProgress?: (p: S.LocalizeProgress) => void): Promise<S.LocalizeResult>;
  /**
   * Re-attribute the current fact's queries whose completeness error is above COMPLETENESS_FLAG with RECHECK
   * (cached in 'kn-attributions') and compare the method's selection with and without them; a new check or a
   * localize aborts the previous one (it rejects with code 'cancelled'). Refused when the fact is not localized.
   */
  checkConvergence(factId: string, opts: S.ConvergenceOptions, onProgress?: (p: S.LocalizeProgress) => void): Promise<S.ConvergenceResult>;
  /** Stop the convergence check in progress (it rejects with code 'cancelled'); nothing else is cancelled. */
  cancelCheck(): Promise<void>;
  /** Re-score the kept attributions with a method and settings (no gradient). */
  score(method: Method, settings: Partial<MatriceSettings>, seed?: number, maxCells?: number): Promise<S.ScoreResult>;
  /** One neuron's s̄_k per language, mean ± std and S. */
  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): Promise<S.NeuronStatsResult>;
  /** Scale the neurons' activations by `factor` on every query of the current fact. */
  manipulate(neurons: NeuronId[], factor: number, topK?: number): Promise<S.ManipulateResult>;
  /** Each language's own neurons beside MaTrice's shared set, both scaled by `factor` on that language's queries. */
  languageSets(settings: Partial<MatriceSettings>, factor?: number): Promise<S.LanguageSetsResult>;
  /** The kept attributions (null when nothing was localized). */
  exportAttributions(): Promise<S.AttributionsExport | null>;

  /** Edit the current fact from English (erase / update the neurons) and evaluate it in every language (engine/session/edits.ts). */
  editApply(req: S.EditRequest): Promise<S.EditView>;
  /** Re-apply an erase / update a link or file names. */
  editReplay(spec: EditSpec): Promise<S.ActiveEdit>;
  /** Undo the last edit (or check that `id` is the last), or with `all` every edit; returns the edits left. */
  editUndo(id?: string, all?: boolean): Promise<S.ActiveEdit[]>;
  editList(): Promise<S.ActiveEdit[]>;
  /** Get the current fact's unrelated queries ready, so the first edit answers as fast as the next. */
  editPrepare(): Promise<void>;
  /** Teach a fact the model does not know: localize, train only its top-k neurons, evaluate every language. */
  teach(req: S.TeachRequest, onProgress?: (p: S.TeachProgress) => void): Promise<S.TeachView>;
  /** 'cancelled': the teach stops and nothing is kept; 'finished': it had passed its last step (the fact is taught); 'idle' */
  teachCancel(): Promise<S.TeachCancelOutcome>;
  /** Test seam: park the next teaches at a point of their last step (EditState.setHold); null removes it. */
  teachHold(point: S.TeachHoldPoint | null): Promise<void>;

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

  /** Build (or resume) the loaded model's atlas in IndexedDB 'kn-atlas' (worker/atlas.ts, engine/atlas buildAtlas). */
  atlasBuild(req: AtlasBuildRequest, onProgress?: (p: AtlasProgress) => void): Promise<AtlasBuildResultView>;
  /** Stop the build after the current fact (finished facts are kept; it rejects with code 'cancelled'). */
  atlasCancel(): Promise<void>;
  atlasStatus(): Promise<AtlasBuildStatus>;
  /** One file of the loaded model's stored atlas ('atlas.json', 'neurons/L0-3.json'), null when there is none. */
  atlasGet(key: string): Promise<unknown | null>;
  atlasForget(): Promise<void>;
}

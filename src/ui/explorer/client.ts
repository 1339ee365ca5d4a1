/// <reference types="vite/client" />
/**
 * Page-side handle on the engine worker for the explorer: the EngineClient calls plus the explorer
 * API (facts, localize, score, neuronStats, manipulate). Wraps Comlink and turns the worker's
 * `{code, message}` rejections back into KnError.
 */
import * as Comlink from 'comlink';
import { EngineClient } from '../engine-client';
import type { Method } from '../../engine/interventions';
import type { MatriceSettings, NeuronId } from '../../engine/selection';
import type {
  AttributionsExport,
  ConvergenceOptions,
  ConvergenceResult,
  FactKnownHint,
  FactList,
  FactQueries,
  LanguageSetsResult,
  LocalizeOptions,
  LocalizeProgress,
  LocalizeResult,
  ManipulateResult,
  NeuronStatsResult,
  ScoreResult,
  EditRequest,
  EditSpec,
  TeachHoldPoint,
  TeachProgress,
  TeachRequest,
} from '../../worker/api';
import type { ExperimentProgress, ExperimentRequest } from '../../worker/experiments';

/** Plain copies: Svelte $state proxies cannot be structured-cloned to the worker. */
const plain = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** The worker's per-language sets, for the view (which imports no worker module). */
export type { LanguageSetsResult };

export class ExplorerClient extends EngineClient {
  listFacts(relation: string, query?: string, limit?: number): Promise<FactList> {
    return this.call(() => this.api.listFacts(relation, query, limit));
  }
  factsKnown(factIds: string[], langs: string[]): Promise<FactKnownHint[]> {
    return this.call(() => this.api.factsKnown(plain(factIds), plain(langs)));
  }
  factQueries(factId: string, langs: string[], topK?: number): Promise<FactQueries> {
    return this.call(() => this.api.factQueries(factId, plain(langs), topK));
  }
  localize(factId: string, opts: LocalizeOptions, onProgress?: (p: LocalizeProgress) => void): Promise<LocalizeResult> {
    return this.call(() => this.api.localize(factId, plain(opts), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  checkConvergence(factId: string, opts: ConvergenceOptions, onProgress?: (p: LocalizeProgress) => void): Promise<ConvergenceResult> {
    return this.call(() => this.api.checkConvergence(factId, plain(opts), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  cancelCheck(): Promise<void> {
    return this.call(() => this.api.cancelCheck());
  }
  score(method: Method, settings: Partial<MatriceSettings>, seed?: number, maxCells?: number): Promise<ScoreResult> {
    return this.call(() => this.api.score(method, plain(settings), seed, maxCells));
  }
  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): Promise<NeuronStatsResult> {
    return this.call(() => this.api.neuronStats(plain(neuron), plain(settings)));
  }
  manipulate(neurons: NeuronId[], factor: number, topK?: number): Promise<ManipulateResult> {
    return this.call(() => this.api.manipulate(plain(neurons), factor, topK));
  }

  languageSets(settings: Partial<MatriceSettings>, factor = 0): Promise<LanguageSetsResult> {
    return this.call(() => this.api.languageSets(plain(settings), factor));
  }
  exportAttributions(): Promise<AttributionsExport | null> {
    return this.call(() => this.api.exportAttributions());
  }

  // edits (engine/session/edits.ts)
  editApply(req: EditRequest) {
    return this.call(() => this.api.editApply(plain(req)));
  }
  editReplay(spec: EditSpec) {
    return this.call(() => this.api.editReplay(plain(spec)));
  }
  editUndo(id?: string, all = false) {
    return this.call(() => this.api.editUndo(id, all));
  }
  editPrepare() {
    return this.call(() => this.api.editPrepare());
  }
  editList() {
    return this.call(() => this.api.editList());
  }
  teach(req: TeachRequest, onProgress?: (p: TeachProgress) => void) {
    return this.call(() => this.api.teach(plain(req), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  /** Test seam: see EngineWorkerApi.teachHold (e2e/edit.spec.ts puts a cancel on either side of a teach's last step). */
  teachHold(point: TeachHoldPoint | null) {
    return this.call(() => this.api.teachHold(point));
  }
  teachCancel() {
    return this.call(() => this.api.teachCancel());
  }

  // the Experiments view (worker/experiments.ts)
  experimentRun(req: ExperimentRequest, onProgress?: (p: ExperimentProgress) => void) {
    return this.call(() => this.api.experimentRun(plain(req), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  experimentCancel() {
    return this.call(() => this.api.experimentCancel());
  }
  experimentList() {
    return this.call(() => this.api.experimentList());
  }
  experimentReport(id: string) {
    return this.call(() => this.api.experimentReport(id));
  }
  experimentDelete(id: string) {
    return this.call(() => this.api.experimentDelete(id));
  }
}

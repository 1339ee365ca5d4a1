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
import type * as Api from '../../worker/api';
import type { ExperimentProgress, ExperimentRequest } from '../../worker/experiments';

/** Plain copies: Svelte $state proxies cannot be structured-cloned to the worker. */
const plain = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** The worker's per-language sets, for the view (which imports no worker module). */
export type LanguageSetsResult = Api.LanguageSetsResult;

export class ExplorerClient extends EngineClient {
  listFacts(relation: string, query?: string, limit?: number): Promise<Api.FactList> {
    return this.call(() => this.api.listFacts(relation, query, limit));
  }
  factsKnown(factIds: string[], langs: string[]): Promise<Api.FactKnownHint[]> {
    return this.call(() => this.api.factsKnown(plain(factIds), plain(langs)));
  }
  factQueries(factId: string, langs: string[], topK?: number): Promise<Api.FactQueries> {
    return this.call(() => this.api.factQueries(factId, plain(langs), topK));
  }
  localize(factId: string, opts: Api.LocalizeOptions, onProgress?: (p: Api.LocalizeProgress) => void): Promise<Api.LocalizeResult> {
    return this.call(() => this.api.localize(factId, plain(opts), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  checkConvergence(factId: string, opts: Api.ConvergenceOptions, onProgress?: (p: Api.LocalizeProgress) => void): Promise<Api.ConvergenceResult> {
    return this.call(() => this.api.checkConvergence(factId, plain(opts), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  cancelCheck(): Promise<void> {
    return this.call(() => this.api.cancelCheck());
  }
  score(method: Method, settings: Partial<MatriceSettings>, seed?: number, maxCells?: number): Promise<Api.ScoreResult> {
    return this.call(() => this.api.score(method, plain(settings), seed, maxCells));
  }
  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): Promise<Api.NeuronStatsResult> {
    return this.call(() => this.api.neuronStats(plain(neuron), plain(settings)));
  }
  manipulate(neurons: NeuronId[], factor: number, topK?: number): Promise<Api.ManipulateResult> {
    return this.call(() => this.api.manipulate(plain(neurons), factor, topK));
  }

  // the in-page atlas build (worker/atlas.ts): progress, cancel, resume; the Atlas view reads a finished one with atlasGet
  atlasBuild(req: Api.AtlasBuildRequest, onProgress?: (p: Api.AtlasProgress) => void): Promise<Api.AtlasBuildResultView> {
    return this.call(() => this.api.atlasBuild(plain(req), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  atlasCancel(): Promise<void> {
    return this.call(() => this.api.atlasCancel());
  }
  atlasStatus(): Promise<Api.AtlasBuildStatus> {
    return this.call(() => this.api.atlasStatus());
  }
  atlasGet(key: string): Promise<unknown | null> {
    return this.call(() => this.api.atlasGet(key));
  }
  atlasForget(): Promise<void> {
    return this.call(() => this.api.atlasForget());
  }

  languageSets(settings: Partial<MatriceSettings>, factor = 0): Promise<Api.LanguageSetsResult> {
    return this.call(() => this.api.languageSets(plain(settings), factor));
  }
  exportAttributions(): Promise<Api.AttributionsExport | null> {
    return this.call(() => this.api.exportAttributions());
  }

  // edits (engine/session/edits.ts)
  editApply(req: Api.EditRequest) {
    return this.call(() => this.api.editApply(plain(req)));
  }
  editReplay(spec: Api.EditSpec) {
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
  teach(req: Api.TeachRequest, onProgress?: (p: Api.TeachProgress) => void) {
    return this.call(() => this.api.teach(plain(req), onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  /** Test seam: see EngineWorkerApi.teachHold (e2e/edit.spec.ts puts a cancel on either side of a teach's last step). */
  teachHold(point: Api.TeachHoldPoint | null) {
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

/// <reference types="vite/client" />
/**
 * Page-side handle on the engine worker for the explorer: the EngineClient calls plus the explorer
 * API (facts, localize, score, neuronStats, manipulate). Wraps Comlink and turns the worker's
 * `{code, message}` rejections back into KnError.
 */
import * as Comlink from 'comlink';
import { KnError, toKnError } from '../../engine/errors';
import type { BackendInfo, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../../engine/types';
import type { Method } from '../../engine/matrice/experiments';
import type { MatriceSettings, NeuronId } from '../../engine/matrice/scoring';
import type {
  AttributionsExport,
  EngineWorkerApi,
  FactList,
  FactQueries,
  LocalizeOptions,
  LocalizeProgress,
  LocalizeResult,
  ManipulateResult,
  MemoryReport,
  NeuronStatsResult,
  ScoreResult,
  WorkerEvent,
} from '../../worker/api';

/** Plain copies: Svelte $state proxies cannot be structured-cloned to the worker. */
const plain = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

export class ExplorerClient {
  private worker: Worker;
  private api: Comlink.Remote<EngineWorkerApi>;
  private failed: Promise<never>;

  constructor() {
    this.worker = new Worker(new URL('../../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'kn-engine' });
    this.failed = new Promise<never>((_, reject) => {
      this.worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new KnError('backend', `the engine worker failed to start: ${ev.message || 'script error (see the browser console)'}`));
      });
    });
    this.failed.catch(() => undefined);
    this.api = Comlink.wrap<EngineWorkerApi>(this.worker);
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await Promise.race([f(), this.failed]);
    } catch (e) {
      if (e instanceof DOMException || (e instanceof Error && !(e instanceof KnError))) {
        throw new KnError('bad-input', `${e.name}: ${e.message}`);
      }
      throw toKnError(e);
    }
  }

  init(prefer?: string[]): Promise<BackendInfo> {
    return this.call(() => this.api.init(prefer));
  }
  subscribe(cb: (e: WorkerEvent) => void): Promise<void> {
    return this.call(() => this.api.subscribe(Comlink.proxy(cb)));
  }
  load(spec: ModelSourceSpec, dtype: WeightDtype, onProgress?: (p: Progress) => void): Promise<ModelInfo> {
    return this.call(() => this.api.load(spec, dtype, onProgress ? Comlink.proxy(onProgress) : undefined));
  }
  probe(prompt: string, target?: string, topK = 10): Promise<ProbeResult> {
    return this.call(() => this.api.probe(prompt, target, topK));
  }
  cancel(): Promise<void> {
    return this.call(() => this.api.cancel());
  }
  memory(): Promise<MemoryReport> {
    return this.call(() => this.api.memory());
  }
  simulateDeviceLost(reason: string): Promise<void> {
    return this.call(() => this.api.simulateDeviceLost(reason));
  }
  listFacts(relation: string, query?: string, limit?: number): Promise<FactList> {
    return this.call(() => this.api.listFacts(relation, query, limit));
  }
  factQueries(factId: string, langs: string[], topK?: number): Promise<FactQueries> {
    return this.call(() => this.api.factQueries(factId, plain(langs), topK));
  }
  localize(factId: string, opts: LocalizeOptions, onProgress?: (p: LocalizeProgress) => void): Promise<LocalizeResult> {
    return this.call(() => this.api.localize(factId, plain(opts), onProgress ? Comlink.proxy(onProgress) : undefined));
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
  exportAttributions(): Promise<AttributionsExport | null> {
    return this.call(() => this.api.exportAttributions());
  }
  terminate(): void {
    this.worker.terminate();
  }
}

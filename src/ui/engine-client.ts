/**
 * Page-side handle on the engine worker. Wraps Comlink and turns the worker's `{code, message}`
 * rejections back into KnError.
 */
import * as Comlink from 'comlink';
import { KnError, toKnError } from '../shared/errors';
import type { BackendInfo, DeviceWeights, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../shared/types';
import type { EngineWorkerApi, MemoryReport, WorkerEvent } from '../worker/api';
import type { CalibrationReport } from '../worker/experiments';

/** The worker's memory report, for the views (which import no worker module). */
export type { MemoryReport };

export class EngineClient {
  protected worker: Worker;
  protected api: Comlink.Remote<EngineWorkerApi>;
  /** rejects if the worker script fails to load or throws at top level (otherwise calls would hang) */
  private failed: Promise<never>;

  constructor() {
    this.worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), {
      type: 'module',
      name: 'kn-engine',
    });
    this.failed = new Promise<never>((_, reject) => {
      this.worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new KnError('backend', `the engine worker failed to start: ${ev.message || 'script error (see the browser console)'}`));
      });
    });
    this.failed.catch(() => undefined);
    this.api = Comlink.wrap<EngineWorkerApi>(this.worker);
  }

  protected async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await Promise.race([f(), this.failed]);
    } catch (e) {
      // DOMExceptions (e.g. DataCloneError) carry a numeric `code`: not a KnError
      if (e instanceof DOMException || (e instanceof Error && !(e instanceof KnError))) {
        throw new KnError('bad-input', `${e.name}: ${e.message}`);
      }
      throw toKnError(e);
    }
  }

  init(prefer?: string[], deviceWeights?: DeviceWeights, threads?: string): Promise<BackendInfo> {
    return this.call(() =>
      this.api.init(prefer, deviceWeights || threads ? { ...(deviceWeights ? { deviceWeights } : {}), ...(threads ? { threads } : {}) } : undefined),
    );
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
  /** Test hook, see EngineWorkerApi.simulateDeviceLost. */
  simulateDeviceLost(reason: string): Promise<void> {
    return this.call(() => this.api.simulateDeviceLost(reason));
  }
  // "Calibrate on this model" (Experiments view): its report, and the calibration kept per content hash (worker/calibrations.ts)
  calibrationReport(id: string): Promise<CalibrationReport> {
    return this.call(() => this.api.calibrationReport(id));
  }
  calibrationUse(id: string): Promise<ModelInfo> {
    return this.call(() => this.api.calibrationUse(id));
  }
  calibrationForget(): Promise<ModelInfo> {
    return this.call(() => this.api.calibrationForget());
  }
  terminate(): void {
    this.worker.terminate();
  }
}

/** `?weights=auto|packed|lru`: how int8 matrices reach the device (docs/PERFORMANCE.md); the worker refuses other values. */
export function weightsFromUrl(search: string): DeviceWeights | undefined {
  const v = new URLSearchParams(search).get('weights');
  return v ? (v.trim().toLowerCase() as DeviceWeights) : undefined;
}

/** `?threads=auto|off|N`: wasm's threads (more than one only on a cross-origin isolated page; README "Deploying"); the worker refuses other values. */
export function threadsFromUrl(search: string): string | undefined {
  return new URLSearchParams(search).get('threads') ?? undefined;
}

/** `?backend=wasm` or `?backend=webgl,cpu` forces the backend order. */
export function preferFromUrl(search: string): string[] | undefined {
  const v = new URLSearchParams(search).get('backend');
  if (!v) return undefined;
  const list = v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return list.length ? list : undefined;
}

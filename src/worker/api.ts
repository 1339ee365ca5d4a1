/**
 * The engine worker's API as seen from the page (through Comlink). Every method that can fail rejects
 * with a plain `{ code, message }` object (KnError does not survive structured clone with its code);
 * the page turns it back into a KnError with `toKnError`.
 */
import type { BackendInfo, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../engine/types';

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

export interface EngineWorkerApi {
  /** Pick and verify the tfjs backend. `prefer` forces an order, e.g. ['wasm']. */
  init(prefer?: string[]): Promise<BackendInfo>;
  /** Register a listener for asynchronous events (device lost ...). Pass a Comlink.proxy. */
  subscribe(cb: (e: WorkerEvent) => void): Promise<void>;
  /** Load a model (replacing the current one). `onProgress` must be a Comlink.proxy. */
  load(spec: ModelSourceSpec, dtype: WeightDtype, onProgress?: (p: Progress) => void): Promise<ModelInfo>;
  /** Next-token (causal) or mask (masked) prediction on the loaded model. */
  probe(prompt: string, target?: string, topK?: number): Promise<ProbeResult>;
  /** Abort a load in progress (the load rejects with code 'cancelled'). */
  cancel(): Promise<void>;
  memory(): Promise<MemoryReport>;
  /** Drop the loaded model. */
  unload(): Promise<void>;
  /** Test hook: behave as if the WebGPU device had been lost (a real loss cannot be provoked from JS). */
  simulateDeviceLost(reason: string): Promise<void>;
}

/**
 * Picks the tfjs backend and says why faster ones were not used.
 *
 * Browser order: webgpu -> wasm -> webgl -> cpu. Node order: wasm -> cpu.
 * Every candidate is confirmed with a tiny real op (2x2 matmul compared to the exact result),
 * because `tf.setBackend` may "succeed" on a backend that cannot actually compute.
 *
 * WebGPU: we request the adapter ourselves and create the device with the adapter's limits
 * (storage-binding size, buffer size, workgroup storage...), then register our own `webgpu`
 * factory with a higher priority than the package default. `device.lost` is surfaced through
 * `opts.onDeviceLost`; the caller (the worker) re-inits on wasm.
 *
 * wasm: `wasmPaths` is passed to `setWasmPaths` — a URL/path prefix ending in "/" or a map
 * file name -> URL (the worker passes Vite `?url` imports; the Node CLI passes the absolute
 * path of node_modules/@tensorflow/tfjs-backend-wasm/dist/). Multithreaded wasm is disabled:
 * it needs cross-origin isolation (SharedArrayBuffer) that a plain static deployment lacks.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from './errors';
import type { BackendInfo } from './types';

export type WasmPaths = string | Partial<Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>>;

export interface InitBackendOptions {
  /** candidates in the order to try, e.g. ['wasm'] to force wasm; cpu is always the last resort */
  prefer?: string[];
  /** where the tfjs-backend-wasm .wasm binaries are (prefix ending in "/" or file map) */
  wasmPaths?: WasmPaths;
  /** called once if the WebGPU device is lost (not when we destroy it ourselves) */
  onDeviceLost?: (reason: string) => void;
}

export const BROWSER_ORDER = ['webgpu', 'wasm', 'webgl', 'cpu'];
export const NODE_ORDER = ['wasm', 'cpu'];

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined'
    && typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined';
}

function errText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Runs [[1,2],[3,4]] x [[5,6],[7,8]] on the active backend; returns null if exact, else a reason. */
async function verifyActiveBackend(): Promise<string | null> {
  try {
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.tensor2d([5, 6, 7, 8], [2, 2]);
    const c = tf.matMul(a, b);
    const got = Array.from(await c.data());
    tf.dispose([a, b, c]);
    const want = [19, 22, 43, 50];
    if (got.length !== 4 || got.some((v, i) => v !== want[i])) {
      return `test matmul gave [${got.join(', ')}], expected [${want.join(', ')}]`;
    }
    return null;
  } catch (e) {
    return `test matmul failed: ${errText(e)}`;
  }
}

/** tf.setBackend swallows the init error into console.warn; capture it so we can report it. */
async function trySetBackend(name: string): Promise<string | null> {
  const warnings: string[] = [];
  const origWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  let ok = false;
  let thrown: unknown;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    thrown = e;
  } finally {
    console.warn = origWarn;
  }
  if (thrown) return errText(thrown);
  if (!ok) {
    const w = warnings.filter((s) => !/^Initialization of backend \S+ failed$/.test(s.trim())).join('; ');
    return w || warnings.join('; ') || 'tf.setBackend returned false';
  }
  if (tf.getBackend() !== name) return `tf.getBackend() is ${tf.getBackend()} after setBackend('${name}')`;
  return null;
}

// ---------------------------------------------------------------- webgpu

interface GpuState {
  device: GPUDevice;
  detail: string;
  deliberatelyDestroyed: boolean;
}
let gpuState: GpuState | null = null;

async function prepareWebGPU(onDeviceLost?: (reason: string) => void): Promise<string | { detail: string; limits: BackendInfo['limits'] }> {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (!nav || !('gpu' in nav) || !nav.gpu) return 'navigator.gpu is missing';
  let adapter: GPUAdapter | null;
  try {
    adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return `requestAdapter failed: ${errText(e)}`;
  }
  if (!adapter) return 'no WebGPU adapter';
  const lim = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
    maxBufferSize: lim.maxBufferSize,
    maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
    maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
    maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
    maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    return `requestDevice failed: ${errText(e)}`;
  }
  // adapter.info (current spec); requestAdapterInfo() on older browsers
  let info: GPUAdapterInfo | undefined = (adapter as { info?: GPUAdapterInfo }).info;
  if (!info && 'requestAdapterInfo' in adapter) {
    try {
      info = await (adapter as unknown as { requestAdapterInfo(): Promise<GPUAdapterInfo> }).requestAdapterInfo();
    } catch {
      info = undefined;
    }
  }
  let WebGPUBackendCtor: new (d: GPUDevice, i?: GPUAdapterInfo) => tf.KernelBackend;
  try {
    const mod = await import('@tensorflow/tfjs-backend-webgpu');
    WebGPUBackendCtor = mod.WebGPUBackend as unknown as typeof WebGPUBackendCtor;
  } catch (e) {
    device.destroy();
    return `could not load @tensorflow/tfjs-backend-webgpu: ${errText(e)}`;
  }
  const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;
  const desc = info
    ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ')
    : 'adapter info unavailable';
  const detail = `${desc || 'unknown adapter'}; maxStorageBufferBindingSize ${mib(device.limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(device.limits.maxBufferSize)}`;

  const state: GpuState = { device, detail, deliberatelyDestroyed: false };
  gpuState = state;
  device.lost.then((lost) => {
    if (state.deliberatelyDestroyed || lost.reason === 'destroyed') return;
    onDeviceLost?.(lost.message || lost.reason || 'unknown');
  });

  // Replace the package's default factory (which keeps its own device) with one using ours.
  try {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  } catch {
    /* not registered */
  }
  tf.registerBackend('webgpu', async () => new WebGPUBackendCtor(device, info), 10);
  return { detail, limits: { maxTensorBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) } };
}

/** Unregister our webgpu backend and destroy its device (after a device loss, or before re-init). */
export function dropWebGPU(): void {
  if (gpuState) {
    gpuState.deliberatelyDestroyed = true;
    try {
      if (tf.findBackend('webgpu') || tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    } catch {
      /* ignore */
    }
    try {
      gpuState.device.destroy();
    } catch {
      /* ignore */
    }
    gpuState = null;
  }
}

// ---------------------------------------------------------------- wasm

let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | null = null;

async function prepareWasm(wasmPaths?: WasmPaths): Promise<string | null> {
  if (typeof WebAssembly === 'undefined') return 'WebAssembly is not available';
  try {
    wasmModule ??= await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return `could not load @tensorflow/tfjs-backend-wasm: ${errText(e)}`;
  }
  // Threaded wasm needs SharedArrayBuffer + cross-origin isolation; off everywhere for predictability.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (wasmPaths) {
    try {
      if (typeof wasmPaths === 'string') {
        wasmModule.setWasmPaths(/[\\/]$/.test(wasmPaths) ? wasmPaths : wasmPaths + '/');
      } else {
        wasmModule.setWasmPaths(wasmPaths);
      }
    } catch (e) {
      return `wasm paths rejected: ${errText(e)}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------- entry point

/**
 * Initialise the best working tfjs backend. Throws KnError('backend') only if nothing, not even cpu,
 * works. `fallbacks` lists every candidate tried before the chosen one with the reason it was skipped.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const node = isNode();
  const order = (opts.prefer && opts.prefer.length ? [...opts.prefer] : node ? [...NODE_ORDER] : [...BROWSER_ORDER]).map(
    (s) => s.trim().toLowerCase(),
  );
  if (!order.includes('cpu')) order.push('cpu');
  const fallbacks: { name: string; reason: string }[] = [];

  for (const name of order) {
    let detail: string | undefined;
    let limits: BackendInfo['limits'];
    let reason: string | null = null;
    if (name === 'webgpu') {
      if (node) reason = 'WebGPU is not used in Node';
      else {
        dropWebGPU();
        const r = await prepareWebGPU(opts.onDeviceLost);
        if (typeof r === 'string') reason = r;
        else ({ detail, limits } = r);
      }
    } else if (name === 'wasm') {
      reason = await prepareWasm(opts.wasmPaths);
      if (reason === null) {
        detail = `SIMD ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, threads off`;
        // wasm32: one linear memory of at most 4 GiB holds every tensor
        limits = { maxDeviceBytes: 3.5 * 1024 ** 3 };
      }
    } else if (name === 'webgl') {
      if (node) reason = 'WebGL is not available in Node';
      else if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') reason = 'no OffscreenCanvas in this context';
    } else if (name !== 'cpu') {
      reason = `unknown backend "${name}"`;
    }

    if (reason === null && !tf.findBackendFactory(name)) reason = `backend ${name} is not registered`;
    if (reason === null) reason = await trySetBackend(name);
    if (reason === null) reason = await verifyActiveBackend();
    if (reason === null) {
      if (name === 'webgl') {
        try {
          const gl = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
          const g = gl.gpgpu?.gl;
          if (g) detail = String(g.getParameter(g.RENDERER));
        } catch {
          /* ignore */
        }
      }
      return { name, fallbacks, detail, limits };
    }
    if (name === 'webgpu') dropWebGPU();
    fallbacks.push({ name, reason });
  }
  throw new KnError('backend', `no tfjs backend works: ${fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

/** "wasm — WebGPU unavailable: no WebGPU adapter" */
export function describeBackend(info: BackendInfo): string {
  const nice: Record<string, string> = { webgpu: 'WebGPU', wasm: 'wasm', webgl: 'WebGL', cpu: 'cpu' };
  const skipped = info.fallbacks.map((f) => `${nice[f.name] ?? f.name} unavailable: ${f.reason}`);
  return skipped.length ? `${info.name} — ${skipped.join('; ')}` : info.name;
}

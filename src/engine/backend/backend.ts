/**
 * Picks the tfjs backend and says why faster ones were not used.
 *
 * Browser order: webgpu -> wasm -> webgl -> cpu. Node order: wasm -> cpu.
 * Every candidate is confirmed with a tiny real op (2x2 matmul compared to the exact result),
 * because `tf.setBackend` may "succeed" on a backend that cannot actually compute.
 *
 * A software WebGPU adapter (SwiftShader, llvmpipe, WARP, or one that says `isFallbackAdapter`) emulates
 * the GPU on the CPU and is far slower than wasm (measured on the demo model: localize 10 min 45 s
 * against 20 s, a toggle 5 s against 0.15 s). With the default order such an adapter is tried again
 * only after wasm (`deferSoftwareWebGPU`), and the skipped entry is marked `usable`, so the page can
 * offer it with one click; asked for by name (`prefer: ['webgpu']`) it is used, and `software` says so.
 * Names other than webgpu, wasm, webgl and cpu are refused (`checkBackendNames`).
 *
 * WebGPU: we request the adapter ourselves and create the device with the adapter's limits
 * (storage-binding size, buffer size, workgroup storage...), then register our own `webgpu`
 * factory with a higher priority than the package default. `device.lost` is surfaced through
 * `opts.onDeviceLost`; the caller (the worker) re-inits on wasm.
 *
 * wasm: `wasmPaths` is passed to `setWasmPaths` — a URL/path prefix ending in "/" or a map
 * file name -> URL (the worker passes Vite `?url` imports; the Node CLI passes the absolute
 * path of node_modules/@tensorflow/tfjs-backend-wasm/dist/). Multithreaded wasm (the threaded-SIMD binary,
 * XNNPACK's thread pool) runs only where SharedArrayBuffer is given: a cross-origin isolated page (COOP/COEP,
 * vite.config.ts; README "Deploying"); in Node, and on a page without isolation, wasm runs one thread.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { BackendInfo } from '../../shared/types';

export type WasmPaths = string | Partial<Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>>;

export interface InitBackendOptions {
  /** candidates in the order to try, e.g. ['wasm'] to force wasm; cpu is always the last resort */
  prefer?: string[];
  /** where the tfjs-backend-wasm .wasm binaries are (prefix ending in "/" or file map) */
  wasmPaths?: WasmPaths;
  /**
   * wasm threads, in a browser where the page is cross-origin isolated (elsewhere always one): 'auto' (the default:
   * one per logical core, navigator.hardwareConcurrency, at most 8), 'off', or a number (the page's ?threads=)
   */
  wasmThreads?: 'auto' | 'off' | number;
  /** called once if the WebGPU device is lost (not when we destroy it ourselves) */
  onDeviceLost?: (reason: string) => void;
  /**
   * pass a software WebGPU adapter over for wasm even in an explicit order (the CLI's `--backend webgpu,wasm`):
   * only a lone `webgpu` then takes a software adapter
   */
  deferSoftware?: boolean;
}

export const BROWSER_ORDER = ['webgpu', 'wasm', 'webgl', 'cpu'];
export const NODE_ORDER = ['wasm', 'cpu'];
/** every backend name `prefer` / `?backend=` accepts */
export const BACKEND_NAMES: readonly string[] = BROWSER_ORDER;
/**
 * the names the CLI's --backend / KN_BACKEND accept (src/cli/node-engine.ts): WebGPU in Node runs on Dawn's
 * bindings (src/cli/node-webgpu.ts); WebGL exists only in a browser
 */
export const CLI_BACKEND_NAMES: readonly string[] = ['webgpu', ...NODE_ORDER];

/**
 * Lower-cased, trimmed names; one not in `accepted` is refused with the list of names (never mapped to
 * cpu). `how` says where the names came from (the page's ?backend=, the CLI's --backend).
 */
export function checkBackendNames(names: readonly string[], accepted: readonly string[] = BACKEND_NAMES, how = '?backend= in the page'): string[] {
  const out = names.map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = out.filter((n) => !accepted.includes(n));
  if (bad.length) {
    const browserOnly = bad.filter((b) => BACKEND_NAMES.includes(b));
    throw new KnError(
      'bad-input',
      `unknown backend ${bad.map((b) => `"${b}"`).join(', ')}; the names are ${accepted.join(', ')} (${how}: one name, or a comma-separated order to try)` +
        (browserOnly.length ? `; ${browserOnly.join(' and ')} run${browserOnly.length === 1 ? 's' : ''} only in the browser (the page's ?backend=)` : ''),
    );
  }
  return out;
}

/** What a WebGPU adapter says about itself (GPUAdapterInfo, plus the adapter's isFallbackAdapter). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** The WebGPU adapter a run used (BackendInfo.adapter, `kn backend --json`, an experiment's meta). */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** null for a hardware adapter, else what emulates the GPU on the CPU ("SwiftShader") */
  software: string | null;
}

const SOFTWARE_RENDERERS: [RegExp, string][] = [
  [/swift\s*shader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/\bwarp\b|basic render driver/i, 'WARP'],
  [/\bsoftware\b/i, 'a software renderer'],
];

/**
 * Null for a hardware adapter; for a software one (the browser's fallback adapter, or a known CPU
 * renderer named in the adapter info) a short description: "SwiftShader", "fallback adapter".
 */
export function softwareAdapter(facts: AdapterFacts): string | null {
  const text = [facts.vendor, facts.architecture, facts.device, facts.description].filter(Boolean).join(' ');
  for (const [re, name] of SOFTWARE_RENDERERS) if (re.test(text)) return name;
  if (facts.isFallbackAdapter) return 'fallback adapter';
  return null;
}

/**
 * The order to go on with after the WebGPU adapter at `order[i]` turned out to be software: webgpu is
 * tried again right after wasm (so it still beats webgl and cpu when wasm fails); unchanged when wasm is
 * not among the later candidates.
 */
export function deferSoftwareWebGPU(order: readonly string[], i: number): string[] {
  const rest = order.slice(i + 1);
  const w = rest.indexOf('wasm');
  if (w < 0) return [...order];
  return [...order.slice(0, i + 1), ...rest.slice(0, w + 1), 'webgpu', ...rest.slice(w + 1)];
}

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return (
    typeof p?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined' &&
    typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined'
  );
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

async function prepareWebGPU(
  onDeviceLost?: (reason: string) => void,
): Promise<string | { detail: string; limits: BackendInfo['limits']; software: string | null; adapter: AdapterReport }> {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (!nav || !('gpu' in nav) || !nav.gpu) return 'navigator.gpu is missing';
  let adapter: GPUAdapter | null;
  try {
    adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return `requestAdapter failed: ${errText(e)}`;
  }
  if (!adapter) return isNode() ? `no WebGPU adapter: ${noAdapterInNode()}` : 'no WebGPU adapter';
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
  const desc = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') : 'adapter info unavailable';
  const software = softwareAdapter({
    ...(info ? { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description } : {}),
    // isFallbackAdapter: on the adapter (older spec) or on its info (current spec)
    isFallbackAdapter: !!(
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter || (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter
    ),
  });
  const detail = `${desc || 'unknown adapter'}${software ? ` (software: ${software})` : ''}; maxStorageBufferBindingSize ${mib(device.limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(device.limits.maxBufferSize)}`;

  const adapterReport: AdapterReport = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    software,
  };
  const state: GpuState = { device, detail, deliberatelyDestroyed: false };
  gpuState = state;
  device.lost.then((lost) => {
    // a device destroyed by anyone but dropWebGPU (the driver, a reset, tfjs on a fatal error) is lost to us too
    if (state.deliberatelyDestroyed) return;
    onDeviceLost?.(lost.message || lost.reason || 'unknown');
  });

  // Replace the package's default factory (which keeps its own device) with one using ours.
  try {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  } catch {
    /* not registered */
  }
  tf.registerBackend('webgpu', async () => new WebGPUBackendCtor(device, info), 10);
  return {
    detail,
    software,
    adapter: adapterReport,
    limits: { maxTensorBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) },
  };
}

/** Why Node found no adapter, and what to do (Dawn looks for a Vulkan driver: VK_ICD_FILENAMES or the system's ICDs). */
export function noAdapterInNode(): string {
  const icd = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.VK_ICD_FILENAMES;
  return (
    `Dawn (npm webgpu) found no Vulkan driver it can use (VK_ICD_FILENAMES=${icd ?? 'unset, so the drivers in /usr/share/vulkan/icd.d'}). ` +
    "On a GPU machine install the vendor's Vulkan driver (NVIDIA: the driver's Vulkan ICD, nvidia_icd.json, and libvulkan1); " +
    'to emulate a GPU on the CPU (SwiftShader, slower than wasm) set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (Debian: apt-get install chromium)'
  );
}

/** The device the webgpu backend runs on (null when it is not initialised); a test may destroy it to see a loss. */
export function webgpuDevice(): GPUDevice | null {
  return gpuState?.device ?? null;
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

/** the most wasm threads: tfjs-wasm's build starts 8 workers in advance (a larger pool would start more while the engine waits) */
export const MAX_WASM_THREADS = 8;

/** null when threaded wasm can run here (a browser context that is cross-origin isolated), else why not */
export function wasmThreadsUnavailable(): string | null {
  if (isNode()) return 'tfjs-wasm has no threads in Node';
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated !== true || typeof SharedArrayBuffer !== 'function') return 'the page is not cross-origin isolated (COOP/COEP headers)';
  try {
    // what tfjs-wasm's own check does too (Firefox once withheld transferable SharedArrayBuffers)
    new MessageChannel().port1.postMessage(new SharedArrayBuffer(1));
  } catch {
    return 'SharedArrayBuffer cannot be posted';
  }
  return null;
}

/** the thread count to ask tfjs-wasm for: 1 = the single-threaded binary; `why` says why only one */
function wasmThreadCount(threads: InitBackendOptions['wasmThreads'] = 'auto'): { n: number; why?: string } {
  if (threads === 'off') return { n: 1, why: 'asked for' };
  const why = wasmThreadsUnavailable();
  if (why) return { n: 1, why };
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency || 1;
  // auto: threads only from 4 logical cores on (on 2 cores the page's localize took 2.3× longer threaded, measured:
  // docs/PERFORMANCE.md "wasm threads in the page"); ?threads=N asks for N anywhere
  const n = threads === 'auto' ? (cores >= 4 ? Math.min(cores, MAX_WASM_THREADS) : 1) : Math.max(1, Math.min(Math.floor(threads), MAX_WASM_THREADS));
  return n > 1
    ? { n }
    : {
        n: 1,
        why: threads === 'auto' ? `${cores} logical core${cores === 1 ? '' : 's'}: threaded wasm is slower on fewer than 4 (?threads=N to try)` : 'asked for',
      };
}

let wasmThreadsChosen: { n: number; why?: string } = { n: 1 };

/**
 * tfjs-wasm sizes its pool as min(asked, 8, navigator.hardwareConcurrency / 2) (it takes every other logical core for
 * a hyperthread), so on 2 cores it runs one thread whatever is asked. While it starts, the worker's
 * hardwareConcurrency reads 2 × the count we chose, so that the count asked for is the count it runs.
 */
function shadowCores(n: number): void {
  const nav = (globalThis as { navigator?: object }).navigator;
  if (!nav) return;
  try {
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * n, configurable: true });
  } catch {
    /* the browser refuses: tfjs's own count */
  }
}
function unshadowCores(): void {
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav && Object.prototype.hasOwnProperty.call(nav, 'hardwareConcurrency')) delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
}

async function prepareWasm(wasmPaths?: WasmPaths, threads?: InitBackendOptions['wasmThreads']): Promise<string | null> {
  if (typeof WebAssembly === 'undefined') return 'WebAssembly is not available';
  try {
    wasmModule ??= await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return `could not load @tensorflow/tfjs-backend-wasm: ${errText(e)}`;
  }
  // Read once, when tfjs-wasm first initialises: the threaded-SIMD binary and its thread pool, or the single-threaded one.
  wasmThreadsChosen = wasmThreadCount(threads);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', wasmThreadsChosen.n > 1);
  if (wasmThreadsChosen.n > 1) {
    wasmModule.setThreadsCount(wasmThreadsChosen.n);
    shadowCores(wasmThreadsChosen.n);
  }
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
  const explicit = !!(opts.prefer && opts.prefer.length);
  let order = explicit ? checkBackendNames(opts.prefer!) : node ? [...NODE_ORDER] : [...BROWSER_ORDER];
  if (!order.includes('cpu')) order.push('cpu');
  const fallbacks: BackendInfo['fallbacks'] = [];
  let deferred = false;

  for (let i = 0; i < order.length; i++) {
    const name = order[i];
    let detail: string | undefined;
    let limits: BackendInfo['limits'];
    let software: string | null = null;
    let adapter: AdapterReport | undefined;
    let reason: string | null = null;
    if (name === 'webgpu') {
      // Node has WebGPU once Dawn's bindings (npm webgpu) set navigator.gpu (src/cli/node-webgpu.ts)
      if (node && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu)
        reason = "WebGPU in Node needs Dawn's bindings (npm webgpu), installed by asking for the backend by name";
      else {
        dropWebGPU();
        const r = await prepareWebGPU(opts.onDeviceLost);
        if (typeof r === 'string') reason = r;
        else ({ detail, limits, software, adapter } = r);
        if (software && (!explicit || opts.deferSoftware) && !deferred) {
          const next = deferSoftwareWebGPU(order, i);
          if (next.length > order.length) {
            // a CPU emulation of a GPU: wasm first, this adapter only if wasm fails
            dropWebGPU();
            deferred = true;
            order = next;
            fallbacks.push({ name, reason: `the WebGPU adapter is a software renderer (${software}); wasm is faster on it`, usable: true });
            continue;
          }
        }
      }
    } else if (name === 'wasm') {
      reason = await prepareWasm(opts.wasmPaths, opts.wasmThreads);
      if (reason === null) {
        // the thread count is known once the backend has started (below)
        detail = `SIMD ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, threads off`;
        // wasm32: one linear memory holds every tensor; it may grow to 4 GiB, but tfjs-wasm kernels crashed
        // ("memory access out of bounds") once tensors lay above 2 GiB (Qwen2.5-0.5B / BLOOM-560m attribution, measured)
        limits = { maxDeviceBytes: 2 * 1024 ** 3 };
      }
    } else if (name === 'webgl') {
      if (node) reason = 'WebGL is not available in Node';
      else if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') reason = 'no OffscreenCanvas in this context';
    }

    if (reason === null && !tf.findBackendFactory(name)) reason = `backend ${name} is not registered`;
    if (reason === null) reason = await trySetBackend(name);
    if (reason === null) reason = await verifyActiveBackend();
    if (reason === null) {
      let threads: number | undefined;
      if (name === 'wasm') {
        // the threads tfjs-wasm's kernels run on (its thread pool, or 1 for the single-threaded binary)
        threads = 1;
        try {
          if (wasmThreadsChosen.n > 1) threads = wasmModule!.getThreadsCount();
        } catch {
          /* not started */
        }
        unshadowCores();
        detail = detail?.replace(
          /threads off$/,
          threads > 1 ? `threads ${threads}` : `threads off${wasmThreadsChosen.why && !isNode() ? ` (${wasmThreadsChosen.why})` : ''}`,
        );
      }
      if (name === 'webgl') {
        try {
          const gl = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
          const g = gl.gpgpu?.gl;
          if (g) detail = String(g.getParameter(g.RENDERER));
        } catch {
          /* ignore */
        }
      }
      return {
        name,
        fallbacks: deferred && name === 'webgpu' ? fallbacks.filter((f) => f.name !== 'webgpu') : fallbacks,
        detail,
        limits,
        ...(threads !== undefined ? { threads } : {}),
        ...(software ? { software } : {}),
        ...(name === 'webgpu' && adapter ? { adapter } : {}),
      };
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

import type { BackendInfo } from '../shared/types';

const NICE: Record<string, string> = { webgpu: 'WebGPU', wasm: 'wasm', webgl: 'WebGL', cpu: 'cpu' };

export interface BackendLabel {
  name: string;
  /** why this backend and not a faster-looking one; empty when there is nothing to say */
  why: string;
  /** the one-click alternative, or null */
  switchTo: { backend: string; label: string } | null;
}

/**
 * What the backend chip says: the backend that runs, why (faster ones unavailable, a software WebGPU
 * adapter passed over or, asked for by name, running), and which backend one click switches to.
 * `webgpuPresent`: the browser has `navigator.gpu` (WebGPU may then be worth a try when it was not tried).
 */
export function describeBackendShort(info: BackendInfo, opts: { webgpuPresent?: boolean } = {}): BackendLabel {
  const parts: string[] = [];
  if (info.software) parts.push(`WebGPU on a software adapter (${info.software}): slower than wasm here`);
  for (const f of info.fallbacks) parts.push(f.usable ? `WebGPU passed over: ${f.reason}` : `${NICE[f.name] ?? f.name} unavailable: ${f.reason}`);
  let switchTo: BackendLabel['switchTo'] = null;
  if (info.name === 'webgpu') switchTo = { backend: 'wasm', label: 'Use wasm' };
  else {
    const gpu = info.fallbacks.find((f) => f.name === 'webgpu');
    if (gpu?.usable) switchTo = { backend: 'webgpu', label: 'Use WebGPU anyway' };
    else if (!gpu && opts.webgpuPresent) switchTo = { backend: 'webgpu', label: 'Try WebGPU' };
    else if (info.name !== 'wasm' && !info.fallbacks.some((f) => f.name === 'wasm')) switchTo = { backend: 'wasm', label: 'Try wasm' };
  }
  return { name: info.name, why: parts.join('; '), switchTo };
}

/**
 * The address that restarts the page on `backend` (null: the default order), keeping every other
 * parameter and the hash (which holds the exploration's state, so nothing is lost but the loaded model).
 */
export function backendSwitchUrl(href: string, backend: string | null): string {
  const u = new URL(href);
  if (backend) u.searchParams.set('backend', backend);
  else u.searchParams.delete('backend');
  return u.toString();
}

/**
 * What the chip says about wasm's threads (null on another backend): "4 threads" on a cross-origin isolated page,
 * else "1 thread" with the reason (from the backend's detail: "SIMD true, threads off (the page is not …)").
 */
export function wasmThreadsLabel(info: BackendInfo): { text: string; title: string } | null {
  if (info.name !== 'wasm' || info.threads === undefined) return null;
  if (info.threads > 1)
    return { text: `${info.threads} threads`, title: `wasm runs on ${info.threads} threads (the page is cross-origin isolated); ?threads=off runs one` };
  const why = /threads off \((.+)\)$/.exec(info.detail ?? '')?.[1];
  return { text: '1 thread', title: `wasm runs on one thread${why ? `: ${why}` : ''}` };
}

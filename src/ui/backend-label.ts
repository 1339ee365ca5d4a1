import type { BackendInfo } from '../engine/types';

const NICE: Record<string, string> = { webgpu: 'WebGPU', wasm: 'wasm', webgl: 'WebGL', cpu: 'cpu' };

/** { name: "wasm", why: "WebGPU unavailable: no WebGPU adapter" } — why is empty when nothing faster failed. */
export function describeBackendShort(info: BackendInfo): { name: string; why: string } {
  const why = info.fallbacks.map((f) => `${NICE[f.name] ?? f.name} unavailable: ${f.reason}`).join('; ');
  return { name: info.name, why };
}

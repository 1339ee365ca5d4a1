/**
 * WebGPU in Node through Dawn's bindings (npm `webgpu`, dawn-gpu/node-webgpu, prebuilt for linux-x64):
 * its globals (GPUBufferUsage, …) and `navigator.gpu` are what @tensorflow/tfjs-backend-webgpu expects, so
 * the engine's own WebGPU set-up (src/engine/backend/backend.ts) and the packed int8 kernels run unchanged.
 *
 * Dawn finds the GPU through Vulkan (Debian: libvulkan1 and the vendor's driver). A machine without a GPU
 * can use SwiftShader's Vulkan driver, which Debian's chromium package ships: VK_ICD_FILENAMES =
 * SWIFTSHADER_ICD (set before the first call here; Debian's lavapipe is refused by Dawn).
 */
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let installed: Promise<string | null> | null = null;

/** Sets navigator.gpu from Dawn once per process; resolves to null, or to why WebGPU cannot run here. */
export function installNodeWebGPU(): Promise<string | null> {
  installed ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator?.gpu) return null;
    let dawn: typeof import('webgpu');
    try {
      dawn = await import('webgpu');
    } catch (e) {
      return `Dawn's Node bindings (npm webgpu) could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
    }
    let gpu: unknown;
    try {
      gpu = dawn.create([]);
    } catch (e) {
      return `Dawn could not start (is Vulkan installed? Debian: apt-get install libvulkan1): ${e instanceof Error ? e.message : String(e)}`;
    }
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, writable: true });
    return null;
  })();
  return installed;
}

/** For tests on a machine without a GPU: SwiftShader's Vulkan driver, when it is there and none is chosen. */
export function useSwiftShaderIfNoDriverChosen(): boolean {
  if (process.env.VK_ICD_FILENAMES) return true;
  if (!existsSync(SWIFTSHADER_ICD)) return false;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}

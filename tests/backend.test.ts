import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend,
  describeBackend,
  softwareAdapter,
  deferSoftwareWebGPU,
  checkBackendNames,
  BROWSER_ORDER,
  CLI_BACKEND_NAMES,
} from '../src/engine/backend/backend';
import { cliBackendOrder } from '../src/cli/node-engine';
import { KnError } from '../src/shared/errors';

const require = createRequire(import.meta.url);
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;

describe('initBackend (Node)', () => {
  it('initialises wasm from an absolute wasmPaths directory and computes a matmul exactly', async () => {
    const info = await initBackend({ prefer: ['wasm'], wasmPaths: wasmDir });
    expect(info.name).toBe('wasm');
    expect(info.fallbacks).toEqual([]);
    expect(tf.getBackend()).toBe('wasm');
    const c = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([0.5, -1, 2, 3], [2, 2]));
    expect(Array.from(await c.data())).toEqual([4.5, 5, 9.5, 9]);
    expect(describeBackend(info)).toBe('wasm');
  });

  it('refuses an unknown backend name with the list of names instead of running on cpu', async () => {
    const err = await initBackend({ prefer: ['wasm', 'nonsense'] }).catch((e) => e);
    expect(err).toBeInstanceOf(KnError);
    expect(err.code).toBe('bad-input');
    expect(err.message).toContain('"nonsense"');
    expect(err.message).toContain('webgpu, wasm, webgl, cpu');
  });

  it('records why a forced backend was skipped and falls back to cpu', async () => {
    const info = await initBackend({ prefer: ['webgpu'] });
    expect(info.name).toBe('cpu');
    expect(info.fallbacks.map((f) => f.name)).toEqual(['webgpu']);
    expect(info.fallbacks[0].reason).toMatch(/Node/);
    expect(describeBackend(info)).toMatch(/^cpu — WebGPU unavailable: /);
    // back to wasm for whoever runs next in this worker
    expect((await initBackend({ prefer: ['wasm'], wasmPaths: wasmDir })).name).toBe('wasm');
  });
});

describe('choosing between WebGPU and wasm', () => {
  it('recognises software WebGPU adapters from their info or isFallbackAdapter', () => {
    // what Chromium reports with --use-webgpu-adapter=swiftshader
    expect(softwareAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)' })).toBe('SwiftShader');
    expect(softwareAdapter({ vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe('llvmpipe');
    expect(softwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe('WARP');
    expect(softwareAdapter({ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: true })).toBe('fallback adapter');
    // hardware adapters
    expect(softwareAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' })).toBeNull();
    expect(softwareAdapter({ vendor: 'apple', architecture: 'metal-3' })).toBeNull();
    expect(softwareAdapter({})).toBeNull();
  });

  it('tries a software WebGPU adapter again only after wasm, still before WebGL and cpu', () => {
    expect(deferSoftwareWebGPU(BROWSER_ORDER, 0)).toEqual(['webgpu', 'wasm', 'webgpu', 'webgl', 'cpu']);
    // nothing after it to prefer: unchanged (the adapter is used as it is)
    expect(deferSoftwareWebGPU(['webgpu', 'cpu'], 0)).toEqual(['webgpu', 'cpu']);
    expect(deferSoftwareWebGPU(['wasm', 'webgpu', 'cpu'], 1)).toEqual(['wasm', 'webgpu', 'cpu']);
  });

  it('checks backend names (case and spaces forgiven)', () => {
    expect(checkBackendNames([' WASM', 'cpu'])).toEqual(['wasm', 'cpu']);
    expect(() => checkBackendNames(['gpu'])).toThrow(
      /^unknown backend "gpu"; the names are webgpu, wasm, webgl, cpu \(\?backend= in the page: one name, or a comma-separated order to try\)$/,
    );
  });

  it("the CLI's one rule (--backend, else KN_BACKEND): webgpu, wasm and cpu, anything else refused with that list", () => {
    expect(CLI_BACKEND_NAMES).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(cliBackendOrder(undefined, undefined)).toEqual(['wasm']);
    expect(cliBackendOrder(undefined, '')).toEqual(['wasm']);
    expect(cliBackendOrder(' CPU, wasm', 'nonsense')).toEqual(['cpu', 'wasm']); // the flag wins over KN_BACKEND
    expect(cliBackendOrder(undefined, 'cpu')).toEqual(['cpu']);
    const refused = (flag: string | undefined, env?: string) => {
      try {
        cliBackendOrder(flag, env);
      } catch (e) {
        return [(e as KnError).code, (e as KnError).message];
      }
      return null;
    };
    expect(refused('nonsense')).toEqual([
      'bad-input',
      'unknown backend "nonsense"; the names are webgpu, wasm, cpu (--backend in the CLI: one name, or a comma-separated order to try)',
    ]);
    expect(refused(undefined, 'nonsense')).toEqual([
      'bad-input',
      'unknown backend "nonsense"; the names are webgpu, wasm, cpu (KN_BACKEND in the CLI: one name, or a comma-separated order to try)',
    ]);
    // webgpu is a CLI name too (Dawn's bindings); webgl is the browser's only
    expect(cliBackendOrder('wasm,webgpu')).toEqual(['wasm', 'webgpu']);
    expect(refused('wasm,webgl')).toEqual([
      'bad-input',
      `unknown backend "webgl"; the names are webgpu, wasm, cpu (--backend in the CLI: one name, or a comma-separated order to try); webgl runs only in the browser (the page's ?backend=)`,
    ]);
    expect(refused(' , ')).toEqual(['bad-input', '--backend needs a backend name: webgpu, wasm, cpu (or a comma-separated order to try)']);
  });
});

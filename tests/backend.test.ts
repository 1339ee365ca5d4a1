import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, describeBackend } from '../src/engine/backend';

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

  it('records why a forced backend was skipped and falls back to cpu', async () => {
    const info = await initBackend({ prefer: ['webgpu', 'nonsense'] });
    expect(info.name).toBe('cpu');
    expect(info.fallbacks.map((f) => f.name)).toEqual(['webgpu', 'nonsense']);
    expect(info.fallbacks[0].reason).toMatch(/Node/);
    expect(describeBackend(info)).toMatch(/^cpu — WebGPU unavailable: /);
    // back to wasm for whoever runs next in this worker
    expect((await initBackend({ prefer: ['wasm'], wasmPaths: wasmDir })).name).toBe('wasm');
  });
});

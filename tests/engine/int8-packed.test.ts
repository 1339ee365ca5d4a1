/**
 * The host side of packed int8 weights (src/engine/weights/int8-webgpu.ts); the kernels themselves need WebGPU and
 * are checked in Chromium (e2e/int8-webgpu.spec.ts). Here: the device layout of the packed words against an
 * independent decode (byte j of word w of row n is input 4w+j of output channel n, read through a DataView),
 * for nn.Linear [out, in] matrices (a zero-copy view when K is a multiple of 4, padded otherwise) and GPT-2's
 * Conv1D [in, out] ones; the packed size; and the load option on a backend without the kernels.
 */
import { describe, expect, it } from 'vitest';
import { KnError, loadModel } from '../../src/engine/index';
import { packWords, packedBytes } from '../../src/engine/weights/int8-webgpu';
import { quantize, type QuantizedMatrix } from '../../src/engine/weights/quant';
import { Rng } from '../helpers/tiny-checkpoints';
import { ready, tiny } from './setup';

function randomMatrix(r: number, c: number, seed: number): Float32Array {
  const g = new Rng(seed);
  return Float32Array.from({ length: r * c }, () => g.normal());
}

/** element (n, k) of the quantized matrix: output channel n, input k */
function qAt(q: QuantizedMatrix, n: number, k: number): number {
  const c = q.shape[1];
  return q.axis === 0 ? q.q[n * c + k] : q.q[k * c + n];
}

function checkLayout(q: QuantizedMatrix) {
  const { words, N, K, K4 } = packWords(q);
  expect([N, K]).toEqual(q.axis === 0 ? q.shape : [q.shape[1], q.shape[0]]);
  expect(K4).toBe(Math.ceil(K / 4));
  expect(words.length).toBe(N * K4);
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  let checked = 0;
  for (let n = 0; n < N; n++) {
    for (let w = 0; w < K4; w++) {
      for (let j = 0; j < 4; j++) {
        const k = 4 * w + j;
        const byte = view.getInt8((n * K4 + w) * 4 + j);
        expect(byte).toBe(k < K ? qAt(q, n, k) : 0); // padding is zero
        checked++;
      }
    }
  }
  // the shader's unpacking: (w << 24-8j) >> 24 on the little-endian word gives the same signed byte
  for (let i = 0; i < Math.min(words.length, 64); i++) {
    for (let j = 0; j < 4; j++) expect((words[i] << (24 - 8 * j)) >> 24).toBe(view.getInt8(i * 4 + j));
  }
  return { words, checked };
}

describe('packed int8 layout', () => {
  it('nn.Linear [out, in] with K a multiple of 4: the int8 bytes viewed, not copied', () => {
    const q = quantize(randomMatrix(6, 12, 1), [6, 12], 0);
    const { words, checked } = checkLayout(q);
    expect(checked).toBe(6 * 12);
    expect(words.buffer).toBe(q.q.buffer);
    expect(q.q.some((v) => v < 0) && q.q.some((v) => v > 0)).toBe(true);
  });

  it('nn.Linear with K not a multiple of 4: rows padded with zero bytes', () => {
    const q = quantize(randomMatrix(5, 18, 2), [5, 18], 0);
    const { words, checked } = checkLayout(q);
    expect(checked).toBe(5 * 5 * 4);
    expect(words.buffer).not.toBe(q.q.buffer);
  });

  it("GPT-2's Conv1D [in, out] (axis 1): transposed to one row per output channel", () => {
    const q = quantize(randomMatrix(7, 9, 3), [7, 9], 1);
    const { checked } = checkLayout(q);
    expect(checked).toBe(9 * 2 * 4); // N = 9 outputs, K = 7 inputs → 2 words each
  });

  it('the extreme values ±127 survive packing', () => {
    const q: QuantizedMatrix = { shape: [2, 4], axis: 0, q: Int8Array.from([127, -127, 0, 1, -1, 127, -127, 64]), scales: Float32Array.from([1, 2]) };
    checkLayout(q);
  });

  it('packed size: ⌈K/4⌉ words and one float32 scale per output channel', () => {
    expect(packedBytes([768, 2304], 1)).toBe(2304 * 192 * 4 + 2304 * 4); // Conv1D [in, out]
    expect(packedBytes([151936, 896], 0)).toBe(151936 * 224 * 4 + 151936 * 4); // Qwen2.5's tied embedding
    expect(packedBytes([3, 18], 0)).toBe(3 * 5 * 4 + 3 * 4);
  });
});

describe('deviceWeights on a backend without the kernels (wasm)', () => {
  it("'packed' is refused naming WebGPU; 'auto' and 'lru' dequantize; a bad value is refused", async () => {
    await ready;
    const ck = await tiny('gpt2');
    const e = await loadModel({ type: 'folder', path: ck.dir }, { deviceWeights: 'packed' }).then(
      () => null,
      (x) => x,
    );
    expect(e).toBeInstanceOf(KnError);
    expect((e as KnError).code).toBe('bad-input');
    expect((e as KnError).message).toContain('packed int8 weights need the WebGPU backend; this one is wasm');
    for (const mode of ['auto', 'lru'] as const) {
      const m = await loadModel({ type: 'folder', path: ck.dir }, { deviceWeights: mode });
      expect(m.info.deviceWeights).toBe('dequantized-lru');
      expect(m.store.devicePacked).toBe(false);
      expect(m.store.matPath('h.0.mlp.c_fc.weight')).toBe('f32');
      m.dispose();
    }
    const f = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
    expect(f.info.deviceWeights).toBe('f32');
    f.dispose();
    const bad = await loadModel({ type: 'folder', path: ck.dir }, { deviceWeights: 'gpu' as never }).then(
      () => null,
      (x) => x,
    );
    expect((bad as KnError).code).toBe('bad-input');
    expect((bad as KnError).message).toContain('deviceWeights must be "auto", "packed" or "lru", got "gpu"');
  });
});

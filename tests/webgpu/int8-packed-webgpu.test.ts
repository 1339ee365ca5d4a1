/**
 * Packed int8 weights on WebGPU (src/engine/weights/int8-webgpu.ts) in Node, on Dawn's bindings (npm webgpu;
 * src/cli/node-webgpu.ts), SwiftShader's Vulkan driver on a machine without a GPU. These were browser tests
 * (e2e/int8-webgpu.spec.ts, through gpu.html); the same engine code runs here without a page, which took the
 * suite's longest spec out of the browser. e2e keeps one family in Chromium's WebGPU and what needs the app.
 *
 * The reference is the one the issue named: the same model on the dequantized-float32 path (deviceWeights
 * 'lru', tfjs's own matmuls on the dequantized matrices). Every family: the tiny transformers-written
 * checkpoints of tests/fixtures/reference/models. Per family: full-vocabulary probabilities and SAIG
 * attributions (every layer) packed vs dequantized ≤ 1e-5 relative; the packed fast path vs the packed naive
 * path ≤ 1e-4 relative (on gpt2, see NAIVE); the memory report (tensors, bytes on the GPU) the same before loading and after
 * disposing. Without Dawn or Vulkan the file is skipped with the reason, except under CI=1, where it fails.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend/backend';
import { loadModelArg } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { attributeQuery } from '../../src/engine/attribution/attribute';
import type { BackendInfo, LoadOptions } from '../../src/shared/types';
import { installNodeWebGPU, useSwiftShaderIfNoDriverChosen } from '../../src/cli/node-webgpu';
import '../../src/engine/source/source-node';
import { relErr } from '../helpers/compare';

const REF = join(process.cwd(), 'tests', 'fixtures', 'reference', 'models');
const FAMILIES = ['gpt2', 'llama', 'qwen2', 'qwen3', 'bloom', 'gemma2', 'gemma3', 'bert', 'xlmr'];
/**
 * The fast path vs the naive path on packed weights: on one family. The naive path is family-independent
 * code that tests/engine/attribution.test.ts checks on every family on wasm, and on SwiftShader it is the
 * slow one (measured: 35-45 s a query against 4-6 s for a family's whole test without it). One query per
 * family: a second query runs no other code.
 */
const NAIVE = new Set(['gpt2']);

useSwiftShaderIfNoDriverChosen();
const why = await installNodeWebGPU();
let backend: BackendInfo | null = null;
let unavailable = why;
if (!why) {
  try {
    backend = await initBackend({ prefer: ['webgpu'] });
    if (backend.name !== 'webgpu') unavailable = `initBackend chose ${backend.name}: ${backend.fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`;
  } catch (e) {
    unavailable = String(e);
  }
}
if (unavailable && process.env.CI) throw new Error(`WebGPU in Node is unavailable: ${unavailable} (.ci/run installs libvulkan1 and chromium's SwiftShader)`);

function memory() {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return { numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU ?? 0 };
}
const load = (fam: string, opts: LoadOptions) => loadModelArg(join(REF, fam), opts);

async function probs(m: LoadedModel, prompt: string): Promise<Float32Array> {
  const q = m.tok.encodeQuery(prompt);
  const t = tf.tidy(() => tf.softmax(m.logitsAt([q.ids], q.position)).reshape([-1]));
  const p = (await t.data()) as Float32Array;
  t.dispose();
  return p;
}

function paths(m: LoadedModel): string[] {
  return m.store
    .names()
    .filter((t) => t.shape.length === 2)
    .map((t) => m.store.matPath(t.name));
}

describe.skipIf(!!unavailable)(`packed int8 on WebGPU in Node (${backend?.detail ?? unavailable})`, () => {
  beforeAll(() => console.log(`WebGPU in Node: ${backend?.detail}`));

  for (const fam of FAMILIES) {
    it(`${fam}: packed int8 = dequantized float32 (probabilities, attributions), ${NAIVE.has(fam) ? 'fast = naive, ' : ''}no leaks`, async () => {
      const expected = JSON.parse(readFileSync(join(REF, fam, 'expected.json'), 'utf8')) as { queries: { prompt: string; target: string }[] };
      const queries = expected.queries.slice(0, 1);
      const before = memory();
      const P = await load(fam, { dtype: 'int8' });
      const L = await load(fam, { dtype: 'int8', deviceWeights: 'lru' });
      expect(P.info.deviceWeights).toBe('packed-int8');
      expect(L.info.deviceWeights).toBe('dequantized-lru');
      // every matrix of the packed model goes through the int8 kernels; none of the other's does
      expect(new Set(paths(P))).toEqual(new Set(['packed']));
      expect(new Set(paths(L))).toEqual(new Set(['f32']));
      const log: string[] = [];
      for (const q of queries) {
        const pp = await probs(P, q.prompt),
          pl = await probs(L, q.prompt);
        expect(pl.length).toBeGreaterThan(300); // the whole vocabulary
        expect(Math.max(...pl)).toBeGreaterThan(0);
        const rp = relErr(pp, pl);
        expect(rp).toBeLessThanOrEqual(1e-5);
        const opts = { steps: 3, baseline: 'pad' as const };
        const ap = await attributeQuery(P, q.prompt, q.target, opts);
        const al = await attributeQuery(L, q.prompt, q.target, opts);
        const sum = ap.raw.reduce((a, r) => a + r.reduce((b, v) => b + Math.abs(v), 0), 0);
        expect(sum).toBeGreaterThan(0); // real attributions, not all zero
        const ra = relErr(ap.raw, al.raw);
        expect(ra).toBeLessThanOrEqual(1e-5);
        log.push(`probs ${rp.toExponential(2)}, attributions ${ra.toExponential(2)}`);
        if (NAIVE.has(fam)) {
          const an = await attributeQuery(P, q.prompt, q.target, { ...opts, path: 'naive' });
          const rn = relErr(ap.raw, an.raw);
          expect(rn).toBeLessThanOrEqual(1e-4);
          log.push(`fast vs naive ${rn.toExponential(2)}`);
        }
      }
      // uploaded on first use: the int8 bytes are on the device now
      const packed = P.store.packedBytes;
      expect(packed).toBeGreaterThan(0);
      const during = memory();
      P.dispose();
      L.dispose();
      const after = memory();
      console.log(`${fam}: ${log.join('; ')}; packed ${packed} B; GPU bytes ${before.numBytesInGPU} → ${during.numBytesInGPU} → ${after.numBytesInGPU}`);
      // the models were on the GPU, and nothing is left after disposing them
      expect(during.numBytesInGPU).toBeGreaterThan(before.numBytesInGPU);
      expect(after).toEqual(before);
    }, 300_000);
  }

  it('an edited matrix takes the float32 path and stays exact; undoing the edit goes back to packed', async () => {
    const before = memory();
    const mp = await load('llama', { dtype: 'int8' });
    const ml = await load('llama', { dtype: 'int8', deviceWeights: 'lru' });
    const prompt = 'The capital of France is',
      target = ' Paris';
    const p0 = await probs(mp, prompt);
    // layer 0's FFN output matrix (down_proj); three neurons' slices scaled by 3 and shifted
    const { name, neuronAxis: axis } = mp.family.outWeight(0);
    const entries = [0, 5, 17].map((j) => {
      const v = mp.store.readSlice(name, axis, j);
      return { index: j, values: Float32Array.from(v, (x: number, i: number) => 3 * x + 0.01 * ((i % 5) - 2)) };
    });
    mp.store.writeSlices(name, axis, entries);
    ml.store.writeSlices(name, axis, entries);
    expect(mp.store.matPath(name)).toBe('f32');
    expect(
      new Set(
        mp.store
          .names()
          .filter((t) => t.shape.length === 2 && t.name !== name)
          .map((t) => mp.store.matPath(t.name)),
      ),
    ).toEqual(new Set(['packed']));
    const pe = await probs(mp, prompt),
      le = await probs(ml, prompt);
    expect(relErr(pe, p0)).toBeGreaterThan(1e-3); // the edit did change the answer
    expect(relErr(pe, le)).toBeLessThanOrEqual(1e-5);
    const ae = await attributeQuery(mp, prompt, target, { steps: 3 });
    const be = await attributeQuery(ml, prompt, target, { steps: 3 });
    expect(relErr(ae.raw, be.raw)).toBeLessThanOrEqual(1e-5);
    // undo: back to the int8 bytes, the same kernels on the same bytes
    const undo = entries.map((e) => ({ index: e.index, values: null }));
    mp.store.writeSlices(name, axis, undo);
    ml.store.writeSlices(name, axis, undo);
    expect(mp.store.matPath(name)).toBe('packed');
    expect(relErr(await probs(mp, prompt), p0)).toBe(0);
    mp.dispose();
    ml.dispose();
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
  }, 300_000);

  it('packed weights above the buffer or memory limit are refused before anything is uploaded; deviceWeights lru falls back', async () => {
    const before = memory();
    const fail = async (opts: LoadOptions) => {
      const e = await load('gpt2', opts).then(
        () => null,
        (x: { code?: string; message?: string }) => x,
      );
      expect(e).not.toBeNull();
      const m = memory();
      expect(m.numTensors).toBe(before.numTensors);
      expect(m.numBytesInGPU).toBe(before.numBytesInGPU);
      return e!;
    };
    const buffer = await fail({ dtype: 'int8', maxTensorBytes: 4096 });
    expect(buffer.code).toBe('too-large');
    // the largest packed matrix (wte [400, 16] → 400 × 4 words × 4 bytes = 6400 B) and the limit
    expect(buffer.message).toContain('"wte.weight" needs 6.3 KiB as packed int8, above this device\'s 4.0 KiB buffer limit');
    expect(buffer.message).toContain('nothing was uploaded');
    const mem = await fail({ dtype: 'int8', maxDeviceBytes: 20_000 });
    expect(mem.code).toBe('too-large');
    expect(mem.message).toMatch(/has [\d,]+ parameters and needs [\d.]+ KiB of device memory as packed int8 .*this device allows 19\.5 KiB/);
    const L = await load('gpt2', { dtype: 'int8', deviceWeights: 'lru' });
    expect(L.info.deviceWeights).toBe('dequantized-lru');
    const p = await probs(L, 'The capital of France is');
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    L.dispose();
    expect(memory().numTensors).toBe(before.numTensors);
  }, 300_000);
});

it.skipIf(!unavailable)('WebGPU in Node is unavailable here', () => {
  console.log(`skipped the packed int8 WebGPU tests: ${unavailable}`);
});

/**
 * gpu.html: the engine on the page's main thread, for what needs a real browser WebGPU (SwiftShader in CI,
 * a GPU where there is one): e2e/int8-webgpu.spec.ts and `npm run bench -- --backend webgpu`
 * (scripts/bench.ts) drive it through `window.kn` with page.evaluate. Not part of the app.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend';
import { loadModel } from '../engine/index';
import type { LoadedModel } from '../engine/families';
import { attributeQuery, type AttributeOptions } from '../engine/attribution';
import type { LoadOptions } from '../shared/types';
import * as bench from './bench';

const models = new Map<number, LoadedModel>();
let nextId = 1;

/** What the adapter says about itself and every limit it reports (what `bench:gpu` prints first). */
async function adapterReport(): Promise<{ info: Record<string, unknown>; limits: Record<string, number>; features: string[] } | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return null;
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) return null;
  const info: Record<string, unknown> = {};
  const ai = (a as GPUAdapter & { info?: GPUAdapterInfo }).info;
  if (ai) for (const k of ['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter']) info[k] = (ai as unknown as Record<string, unknown>)[k];
  info.isFallbackAdapter ??= (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const limits: Record<string, number> = {};
  for (const k in a.limits) limits[k] = (a.limits as unknown as Record<string, number>)[k];
  return { info, limits, features: [...a.features].sort() };
}

function memory() {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU, numBytesAllocatedInGPU: m.numBytesAllocatedInGPU };
}

function model(id: number): LoadedModel {
  const m = models.get(id);
  if (!m) throw new Error(`no model ${id}`);
  return m;
}

const kn = {
  tf,
  bench,
  adapterReport,
  memory,
  init: (prefer: string[]) => initBackend({ prefer }),
  /** the WebGPU bench (scripts/bench.ts --backend webgpu) */
  runBench: (p: bench.PageBenchParams) => bench.runPageBench(p, (url, opts) => loadModel({ type: 'url', url }, opts)),
  /** loads a model by base URL; returns its id and info */
  async load(url: string, opts: Pick<LoadOptions, 'dtype' | 'deviceWeights' | 'maxTensorBytes' | 'maxDeviceBytes' | 'deviceBudgetBytes'>) {
    const m = await loadModel({ type: 'url', url }, opts);
    const id = nextId++;
    models.set(id, m);
    return { id, info: m.info };
  },
  model,
  dispose(id: number) {
    model(id).dispose();
    models.delete(id);
  },
  /** the full probability vector at the query's target position */
  async probs(id: number, prompt: string): Promise<number[]> {
    const m = model(id);
    const q = m.tok.encodeQuery(prompt);
    const t = tf.tidy(() => tf.softmax(m.logitsAt([q.ids], q.position)).reshape([-1]));
    const p = Array.from((await t.data()) as Float32Array);
    t.dispose();
    return p;
  },
  async attribute(id: number, prompt: string, target: string, opts: AttributeOptions) {
    const a = await attributeQuery(model(id), prompt, target, opts);
    return { raw: a.raw.map((r) => Array.from(r)), pFull: a.pFull, completeness: a.completeness, layers: a.layers };
  },
  /** max |a − b| / max |b| over (nested) arrays */
  relErr(a: number[] | number[][], b: number[] | number[][]): number {
    const x = (a as number[][]).flat(),
      y = (b as number[][]).flat();
    let num = 0,
      den = 0;
    for (let i = 0; i < y.length; i++) {
      num = Math.max(num, Math.abs(x[i] - y[i]));
      den = Math.max(den, Math.abs(y[i]));
    }
    return num / Math.max(den, 1e-30);
  },
  /** how each matrix reaches the matmuls now, and the store's device bytes */
  paths(id: number) {
    const s = model(id).store;
    const out: Record<string, string> = {};
    for (const t of s.names()) if (t.shape.length === 2) out[t.name] = s.matPath(t.name);
    return { paths: out, deviceBytes: s.deviceBytes, packedBytes: s.packedBytes, cacheBytes: s.cacheBytes };
  },
};

(globalThis as unknown as { kn: typeof kn }).kn = kn;
const status = document.getElementById('status');
if (status) status.textContent = 'ready';
(globalThis as unknown as { knReady: boolean }).knReady = true;

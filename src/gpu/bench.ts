/**
 * The benchmark's measurements, shared by `npm run bench` in Node (wasm, scripts/bench.ts) and its WebGPU
 * mode, which runs them in Chromium on gpu.html (src/gpu/harness.ts). Pure engine + tfjs: no Node, no DOM.
 */
import * as tf from '@tensorflow/tfjs';
import { familyFor } from '../engine/families';
import { packedMatMul, uploadPacked } from '../engine/weights';
import { attributeQuery } from '../engine/attribution';
import type { LoadedModel } from '../engine/families';
import { DEFAULT_BASELINE, type Baseline } from '../engine/rules';
import type { QuantizedMatrix } from '../engine/weights';
import { WeightStore } from '../engine/weights';

/** GPT-2 small (124M parameters) */
export const GPT2_SMALL_CONFIG = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  n_positions: 1024,
  vocab_size: 50257,
  layer_norm_epsilon: 1e-5,
  activation_function: 'gelu_new',
  bos_token_id: 530,
  eos_token_id: 530,
};
/** BERT base (110M) */
export const BERT_BASE_CONFIG = {
  architectures: ['BertForMaskedLM'],
  model_type: 'bert',
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
  vocab_size: 30522,
  pad_token_id: 0,
};
/** Qwen2.5-0.5B (494M, tied embeddings, GQA 14/2 heads, q/k/v biases): Qwen/Qwen2.5-0.5B's config.json */
export const QWEN25_05B_CONFIG = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  vocab_size: 151936,
  hidden_act: 'silu',
  bos_token_id: 151643,
  eos_token_id: 151643,
};

export async function time<T>(f: () => Promise<T>): Promise<{ s: number; r: T }> {
  const t0 = performance.now();
  const r = await f();
  return { s: (performance.now() - t0) / 1000, r };
}

/** Dense float32 matmul n³ GFLOP/s of the active backend (the ceiling). */
export async function matmulGflops(n = 1024, reps = 5): Promise<number> {
  const a = tf.randomNormal([n, n]),
    b = tf.randomNormal([n, n]);
  tf.dispose(await warm(() => tf.matMul(a, b)));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (2 * n * n * n * reps) / s / 1e9;
}

async function warm(f: () => tf.Tensor): Promise<tf.Tensor> {
  const t = f();
  await t.data();
  return t;
}

/** The packed int8 kernel's GFLOP/s on x [n, n] · W [n, n] (WebGPU only). */
export async function int8MatmulGflops(n = 1024, reps = 5): Promise<number> {
  const q = randomQuantized([n, n], 0, 7);
  const w = uploadPacked(q);
  const x = tf.randomNormal([n, n]) as tf.Tensor2D;
  tf.dispose(await warm(() => packedMatMul(x, w)));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = packedMatMul(x, w);
    await c.data();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  tf.dispose([x, w.p, w.s]);
  return (2 * n * n * n * reps) / s / 1e9;
}

/**
 * FLOPs of the fast path for one layer: the forward from layer `layer` up for `rows` points (one position
 * for causal models, all T for masked ones), and a backward that computes input gradients only (the
 * weights are constants), which costs the same matmul FLOPs again: total = 2 × forward.
 */
export function fastFlops(m: LoadedModel, layer: number, rows: number, T: number): number {
  const c = m.cfg;
  const d = c.hidden,
    F = c.ffn;
  const seq = m.info.kind === 'causal' ? 1 : T;
  const kvd = c.kvHeads * c.headDim,
    qd = c.heads * c.headDim;
  const attnProj = m.info.family === 'llama' ? 2 * d * (2 * qd + 2 * kvd) : 8 * d * d;
  const ffn = m.info.family === 'llama' ? 6 * d * F : 4 * d * F;
  const perTokLayer = attnProj + ffn + 4 * T * qd;
  const above = c.numLayers - layer - 1;
  const head = 2 * d * c.vocab + (m.info.family === 'bert' ? 2 * d * d : 0);
  const fwd = rows * (seq * (perTokLayer * above + 2 * d * F) + head);
  return 2 * fwd;
}

/** A prompt of exactly n tokens (the tiny tokenizers split these words predictably). */
export function queryOf(m: LoadedModel, words: string[], n: number): string {
  let p = '';
  for (let i = 0; ; i++) {
    const next = (p ? p + ' ' : '') + words[i % words.length];
    const q = m.tok.encodeQuery(m.info.kind === 'masked' ? next + ' ' + m.tok.maskToken : next);
    if (q.ids.length > n) return m.info.kind === 'masked' ? p + ' ' + m.tok.maskToken : p;
    p = next;
  }
}

export interface SaigBenchOptions {
  target: string;
  layer: number;
  steps: number;
  baseline?: Baseline;
  /** also time the whole query (all layers) and its GFLOP/s */
  whole: boolean;
  tokens?: number;
}

/**
 * Naive vs fast path on the same slice of work (one layer), and the fast path's whole query, on one loaded
 * model; `weights` labels how it holds its weights (f32, int8 dequantized, int8 packed).
 */
export async function benchSaig(label: string, weights: string, m: LoadedModel, o: SaigBenchOptions): Promise<Record<string, unknown>> {
  const baseline = o.baseline ?? DEFAULT_BASELINE;
  const words = m.info.kind === 'masked' ? ['the', 'capital', 'of', 'france', 'is', 'paris'] : ['The', 'capital', 'of', 'France', 'is', 'Paris'];
  const prompt = queryOf(m, words, o.tokens ?? 10);
  const enc = m.tok.encodeQuery(prompt);
  const T = enc.ids.length;
  const opts = { steps: o.steps, baseline, layers: [o.layer] };
  await attributeQuery(m, prompt, o.target, { ...opts, steps: 1 }); // warm-up (kernels, caches)
  const naive = await time(() => attributeQuery(m, prompt, o.target, { ...opts, path: 'naive' }));
  const fast = await time(() => attributeQuery(m, prompt, o.target, opts));
  let maxRel = 0;
  const a = fast.r.raw[o.layer],
    b = naive.r.raw[o.layer];
  let den = 0;
  for (let j = 0; j < a.length; j++) den = Math.max(den, Math.abs(b[j]));
  for (let j = 0; j < a.length; j++) maxRel = Math.max(maxRel, Math.abs(a[j] - b[j]) / den);
  const row: Record<string, unknown> = {
    model: label,
    weights,
    tokens: T,
    layer: o.layer,
    steps: o.steps,
    baseline,
    points: fast.r.baselinePositions.length ? fast.r.baselinePositions.length * o.steps : o.steps,
    naive_s: +naive.s.toFixed(3),
    fast_s: +fast.s.toFixed(3),
    ratio: +(naive.s / fast.s).toFixed(2),
    fast_vs_naive_maxRelDiff: maxRel,
  };
  if (o.whole) {
    const whole = await time(() => attributeQuery(m, prompt, o.target, { steps: o.steps, baseline: DEFAULT_BASELINE }));
    const mBase = whole.r.baselinePositions.length;
    let flops = 0;
    for (let l = 0; l < m.cfg.numLayers; l++) flops += fastFlops(m, l, mBase * o.steps, T);
    row.whole_query_s = +whole.s.toFixed(2);
    row.whole_query_baselines = mBase;
    row.whole_query_gflops = +(flops / whole.s / 1e9).toFixed(3);
  }
  return row;
}

/** A random int8 matrix with per-output-channel scales (weights uniform in ±amp). */
export function randomQuantized(shape: [number, number], axis: 0 | 1, seed: number, amp = 0.05): QuantizedMatrix {
  const n = shape[0] * shape[1];
  const q = new Int8Array(n);
  const words = new Uint32Array(q.buffer, 0, n >> 2);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < n; i++) q[i] = ((i * 37) % 255) - 127;
  for (let i = 0; i < n; i++) if (q[i] === -128) q[i] = -127;
  const scales = new Float32Array(axis === 0 ? shape[0] : shape[1]).fill(amp / 127);
  return { shape, axis, q, scales };
}

export interface ResidentReport {
  config: string;
  weights: 'packed-int8' | 'dequantized-lru';
  params: number;
  /** numBytesInGPU after a forward through every layer and the head, minus before the weights existed */
  device_bytes: number;
  device_bytes_per_param: number;
  /** the store's own count (packed words + scales + float32 vectors + LRU) */
  store_device_bytes: number;
  forward_s: number;
}

/**
 * Device bytes per parameter with every layer resident: a random int8 checkpoint of `config`'s shape is
 * written straight into a WeightStore (no files), one forward runs through every layer and the LM head
 * (so every matrix the model computes with is on the device), and the backend's own memory report
 * (tf.memory().numBytesInGPU) is read before and after. Everything is disposed again.
 */
export async function residentBytes(name: string, config: Record<string, unknown>, packed: boolean, tokens = 4): Promise<ResidentReport> {
  const { family } = familyFor(config);
  const cfg = family.parseConfig(config);
  const gpu = () => (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU ?? NaN;
  const before = gpu();
  const store = new WeightStore('int8', packed ? undefined : 2 ** 40, { packed });
  try {
    let seed = 1;
    for (const spec of family.expected(cfg)) {
      if (spec.shape.length === 2) store.addQuantized(spec, randomQuantized(spec.shape as [number, number], spec.axis ?? 0, seed++));
      else store.add(spec, new Float32Array(spec.shape[0]).fill(/norm|ln_|LayerNorm/.test(spec.name) && spec.name.endsWith('weight') ? 1 : 0));
    }
    const fm = family.create(cfg, store);
    const ids = [Array.from({ length: tokens }, (_, i) => (i * 7919 + 11) % cfg.vocab)];
    const t0 = performance.now();
    let h = fm.embed(ids);
    for (let l = 0; l < cfg.numLayers; l++) {
      const next = tf.tidy(() => {
        const { h1 } = fm.attnHalf(l, h, 1, tokens);
        return fm.ffnOut(l, h1, fm.ffnAct(l, h1));
      });
      h.dispose();
      h = next;
    }
    const logits = tf.tidy(() => fm.logits(h.slice([tokens - 1, 0], [1, -1]) as tf.Tensor2D));
    const v = (await logits.data()) as Float32Array;
    const forward_s = (performance.now() - t0) / 1000;
    tf.dispose([h, logits]);
    if (!v.every(Number.isFinite)) throw new Error(`${name}: the forward gave non-finite logits`);
    const device_bytes = gpu() - before;
    return {
      config: name,
      weights: packed ? 'packed-int8' : 'dequantized-lru',
      params: store.numParams,
      device_bytes,
      device_bytes_per_param: +(device_bytes / store.numParams).toFixed(4),
      store_device_bytes: store.deviceBytes,
      forward_s: +forward_s.toFixed(2),
    };
  } finally {
    store.dispose();
  }
}

export interface PageBenchParams {
  /** models for the SAIG rows: a base URL each (HF layout or a kn-int8 bundle) */
  models: { label: string; url: string; target: string; layer: number }[];
  /** weight modes compared on each model */
  modes: ('f32' | 'int8-dequantized' | 'int8-packed')[];
  steps: number;
  /** query length in tokens (10 unless given) */
  tokens?: number;
  whole: boolean;
  /** the configs whose resident device bytes per parameter are measured (packed; `lruToo`: also dequantized) */
  resident: { name: string; config: Record<string, unknown>; lruToo?: boolean }[];
}

/**
 * The WebGPU bench, run in the page (gpu.html) by `npm run bench -- --backend webgpu`: the dense matmul
 * ceiling and the packed int8 kernel's rate, naive vs fast and the whole query per model and weight mode,
 * and device bytes per parameter with every layer resident. Progress goes to console.log ('[bench] …').
 */
export async function runPageBench(p: PageBenchParams, load: (url: string, opts: import('../shared/types').LoadOptions) => Promise<LoadedModel>) {
  const log = (s: string) => console.log(`[bench] ${s}`);
  const gflops = await matmulGflops();
  log(`dense f32 matmul 1024³: ${gflops.toFixed(2)} GFLOP/s`);
  const int8Gflops = await int8MatmulGflops();
  log(`packed int8 matmul 1024³: ${int8Gflops.toFixed(2)} GFLOP/s`);
  const resident: ResidentReport[] = [];
  for (const r of p.resident) {
    for (const packed of r.lruToo ? [true, false] : [true]) {
      const rep = await residentBytes(r.name, r.config, packed);
      log(`${r.name} ${rep.weights}: ${rep.device_bytes_per_param} device bytes/param (${rep.params} params, forward ${rep.forward_s} s)`);
      resident.push(rep);
    }
  }
  const saig: Record<string, unknown>[] = [];
  for (const m of p.models) {
    for (const mode of p.modes) {
      const gpu = () => (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU ?? NaN;
      const before = gpu();
      const model = await load(m.url, mode === 'f32' ? { dtype: 'f32' } : { dtype: 'int8', deviceWeights: mode === 'int8-packed' ? 'packed' : 'lru' });
      try {
        log(`${m.label} ${mode}: naive vs fast${p.whole ? ', whole query' : ''}…`);
        const row = await benchSaig(m.label, mode, model, { target: m.target, layer: m.layer, steps: p.steps, whole: p.whole, tokens: p.tokens });
        row.device_bytes_per_param = +((gpu() - before) / model.info.numParams).toFixed(3);
        if (typeof row.whole_query_gflops === 'number') row.share_of_matmul = +(row.whole_query_gflops / gflops).toFixed(3);
        log(JSON.stringify(row));
        saig.push(row);
      } finally {
        model.dispose();
      }
    }
  }
  return { matmul_gflops: +gflops.toFixed(3), int8_matmul_gflops: +int8Gflops.toFixed(3), resident, saig, numTensorsAfter: tf.memory().numTensors };
}

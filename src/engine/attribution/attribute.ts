/**
 * SAIG attributions (METHOD.md Eq. 1-5) on a loaded model, with tfjs gradients.
 *
 * For a query, target y*, layer l and baseline w'_i:
 *   Attr_i(n_j) = (w̄_j − w'_ij)/M · Σ_{k=1..M} ∂P(w'_i + k/M·(w̄ − w'_i))/∂w_j          ('riemann-right')
 *   Attr_i(n_j) = (w̄_j − w'_ij) · Σ_{k=1..M} ω_k ∂P(w'_i + t_k·(w̄ − w'_i))/∂w_j        ('gauss-legendre')
 * where P(w) is y*'s probability at the target position when layer l's neuron vector there is w, and
 * (t_k, ω_k) are the M-node Gauss-Legendre nodes and weights on [0, 1] (gaussLegendre).
 *
 * Three paths compute the same numbers:
 * - `naive`: one full forward + backward of the query per interpolation point (what the Python tools do).
 * - `fast`: all m·M points of a layer in one batched pass (chunked to a memory budget). Causal models:
 *   the prefix runs once; only the target position is re-run from layer l upward against cached keys
 *   and values. Masked models: layers < l run once; layers ≥ l re-run for all positions. The weights of
 *   every layer from the lowest attributed one up and the head stay on the device (float32) meanwhile.
 * - `streamed` (stream.ts): the fast path's batches, recomputed layer by layer with the gradients chained
 *   downward, one layer's float32 weights and one vocabulary chunk of the head at a time. Chosen when the
 *   fast path's float32 weights would exceed ATTRIBUTION_RESIDENT_BYTES or the backend's limit.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { KV } from '../families/ops';
import type { LoadedModel } from '../families/model';

/** The IG baseline (engine/rules/index.ts BASELINES). */
export type BaselineKind = Baseline;
export type AttributionPath = 'fast' | 'naive' | 'streamed';

export { checkQuadrature, DEFAULT_QUADRATURE, LEGACY_QUADRATURE, QUADRATURES, type Quadrature } from '../rules';
import {
  ATTRIBUTION_RESIDENT_BYTES,
  ATTRIBUTION_WORK_BYTES,
  checkBaseline,
  checkQuadrature,
  checkSteps,
  DEFAULT_BASELINE,
  DEFAULT_QUADRATURE,
  DEFAULT_STEPS,
  HEAD_CHUNK_BYTES,
  type Baseline,
  type Quadrature,
} from '../rules';
import { headChunkRows, streamedProbFn, type StreamedFn } from './stream';

/**
 * M-node Gauss-Legendre quadrature on [0, 1]: nodes t (ascending) and weights ω (Σ ω = 1), exact for
 * polynomials of degree ≤ 2M − 1. Newton iteration on the Legendre polynomial P_M (three-term recurrence) in
 * float64 from Tricomi's initial guesses; M in STEPS_MIN..STEPS_MAX (engine/rules/index.ts).
 */
export function gaussLegendre(m: number): { nodes: Float64Array; weights: Float64Array } {
  checkSteps(m);
  // P_M(x) and P_M'(x) by the three-term recurrence
  const legendre = (x: number): [number, number] => {
    let p0 = 1,
      p1 = x;
    for (let n = 2; n <= m; n++) [p0, p1] = [p1, ((2 * n - 1) * x * p1 - (n - 1) * p0) / n];
    return [p1, (m * (x * p1 - p0)) / (x * x - 1)];
  };
  const nodes = new Float64Array(m),
    weights = new Float64Array(m);
  for (let i = 0; i < Math.ceil(m / 2); i++) {
    // the (i+1)-th largest root of P_M on (−1, 1)
    let x = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    for (let it = 0; it < 100; it++) {
      const [p, dp] = legendre(x);
      const dx = p / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    if (m % 2 === 1 && i === (m - 1) / 2) x = 0;
    const dp = legendre(x)[1];
    // 2 / ((1 − x²) P_M'(x)²) on [−1, 1], halved on [0, 1]
    weights[i] = weights[m - 1 - i] = 1 / ((1 - x * x) * dp * dp);
    nodes[i] = (1 - x) / 2;
    nodes[m - 1 - i] = (1 + x) / 2;
  }
  return { nodes, weights };
}

export interface AttributeOptions {
  steps?: number; // M, STEPS_MIN..STEPS_MAX, default DEFAULT_STEPS (engine/rules/index.ts)
  baseline?: BaselineKind; // default DEFAULT_BASELINE
  quadrature?: Quadrature; // default DEFAULT_QUADRATURE; M = its number of nodes
  layers?: number[]; // default: all
  /** default: 'fast' when its float32 weights fit `residentBudgetBytes` and the backend, else 'streamed' */
  path?: AttributionPath;
  /** float32 weight bytes the fast path may keep on the device; default ATTRIBUTION_RESIDENT_BYTES (rules.ts) */
  residentBudgetBytes?: number;
  /** streamed path: float32 bytes of one vocabulary chunk of the head; default HEAD_CHUNK_BYTES */
  headChunkBytes?: number;
  /** bytes of activations one batched chunk may use (fast and streamed paths); default ATTRIBUTION_WORK_BYTES */
  chunkBudgetBytes?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface QueryAttribution {
  ids: number[];
  position: number;
  targetId: number;
  steps: number;
  baseline: BaselineKind;
  quadrature: Quadrature;
  /** query positions replaced by ⟨PAD⟩, one baseline each (empty for the zero baseline) */
  baselinePositions: number[];
  padId?: number;
  layers: number[];
  /** raw[l][j] = Σ_i Attr_i(n_j^l) (before any normalization); layers not attributed are empty */
  raw: Float64Array[];
  /** P(w̄): the model's probability of the target */
  pFull: number;
  /** per layer and baseline: Σ_j Attr_i(n_j) and P(w̄) − P(w'_i) (the completeness check) */
  completeness: { layer: number; baseline: number; sum: number; expected: number }[];
}

export function completenessError(a: QueryAttribution): { maxAbs: number; maxRel: number } {
  let maxAbs = 0,
    maxRel = 0;
  for (const c of a.completeness) {
    const e = Math.abs(c.sum - c.expected);
    maxAbs = Math.max(maxAbs, e);
    maxRel = Math.max(maxRel, e / Math.max(Math.abs(c.expected), 1e-12));
  }
  return { maxAbs, maxRel };
}

interface Prepared {
  ids: number[];
  position: number;
  targetId: number;
  /** neuron vectors at the target position, per layer: query and each baseline sentence */
  actual: Float32Array[];
  baselineActs: Float32Array[][]; // [layer][baseline]
  baselinePositions: number[];
  padId?: number;
}

/** Neuron vectors at `position` for every layer, for a batch of equal-length sequences. */
export async function activationsAt(model: LoadedModel, batch: number[][], position: number): Promise<Float32Array[][]> {
  const { fm, cfg } = model;
  const B = batch.length,
    T = batch[0].length;
  const rows = tf.tensor1d(
    Array.from({ length: B }, (_, b) => b * T + position),
    'int32',
  );
  const perLayer: tf.Tensor2D[] = [];
  let h = fm.embed(batch);
  for (let l = 0; l < cfg.numLayers; l++) {
    const next = tf.tidy(() => {
      const { h1 } = fm.attnHalf(l, h, B, T);
      const a = fm.ffnAct(l, h1);
      perLayer.push(tf.keep(tf.gather(a, rows) as tf.Tensor2D));
      return fm.ffnOut(l, h1, a);
    });
    h.dispose();
    h = next;
  }
  h.dispose();
  rows.dispose();
  const out: Float32Array[][] = [];
  for (const t of perLayer) {
    const d = (await t.data()) as Float32Array;
    t.dispose();
    out.push(Array.from({ length: B }, (_, b) => d.slice(b * cfg.ffn, (b + 1) * cfg.ffn)));
  }
  return out;
}

export async function prepareQuery(model: LoadedModel, prompt: string, target: string, baseline: BaselineKind): Promise<Prepared> {
  const q = model.tok.encodeQuery(prompt);
  model.checkLength(q.ids.length);
  const targetId = model.tok.targetId(prompt, target);
  const padId = model.info.kind === 'causal' ? model.tok.eosId : model.tok.maskId;
  const baselinePositions: number[] = [];
  const batch = [q.ids];
  if (baseline === 'pad') {
    if (padId === undefined) throw new KnError('bad-config', 'the tokenizer has no EOS token to use as ⟨PAD⟩; use the zero baseline');
    q.ids.forEach((id, i) => {
      if (q.special[i] || (i === q.position && model.info.kind === 'masked')) return;
      baselinePositions.push(i);
      batch.push(q.ids.map((v, k) => (k === i ? padId : v)));
    });
    if (baselinePositions.length === 0) throw new KnError('bad-input', 'the prompt has no ordinary tokens to build baselines from');
  }
  const acts = await activationsAt(model, batch, q.position);
  return {
    ids: q.ids,
    position: q.position,
    targetId,
    actual: acts.map((l) => l[0]),
    baselineActs: acts.map((l) => (baseline === 'pad' ? l.slice(1) : [new Float32Array(model.cfg.ffn)])),
    baselinePositions,
    padId,
  };
}

/**
 * P(y*) [N] as a function of a batch of layer-l neuron vectors W [N, F] at the target position;
 * everything that does not depend on W is computed once, before.
 */
interface ProbFn {
  probs(W: tf.Tensor2D): tf.Tensor1D;
  dispose(): void;
}

/**
 * Everything about the query itself that the fast path reuses for every layer: per layer, the
 * post-attention state h1 (target row for causal models, all rows for masked ones), the neuron vectors,
 * and, for causal models, the keys/values of the positions before the target.
 */
interface PrefixCache {
  h1: tf.Tensor2D[];
  act: tf.Tensor2D[];
  past: (KV | undefined)[];
  dispose(): void;
}

function buildPrefix(model: LoadedModel, p: Prepared): PrefixCache {
  const { fm, cfg } = model;
  const T = p.ids.length,
    pos = p.position;
  const causal = model.info.kind === 'causal';
  const h1s: tf.Tensor2D[] = [],
    acts: tf.Tensor2D[] = [],
    past: (KV | undefined)[] = [];
  let h = fm.embed([p.ids]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const next = tf.tidy(() => {
      const { h1, kv } = fm.attnHalf(l, h, 1, T, { wantKv: causal });
      if (kv && pos > 0) {
        past[l] = { k: tf.keep(kv.k.slice([0, 0, 0, 0], [1, -1, pos, -1])), v: tf.keep(kv.v.slice([0, 0, 0, 0], [1, -1, pos, -1])) };
      }
      const a = fm.ffnAct(l, h1);
      h1s.push(tf.keep(causal ? (h1.slice([pos, 0], [1, -1]) as tf.Tensor2D) : h1));
      acts.push(tf.keep(a));
      return fm.ffnOut(l, h1, a);
    });
    h.dispose();
    h = next;
  }
  h.dispose();
  return {
    h1: h1s,
    act: acts,
    past,
    dispose() {
      tf.dispose([...h1s, ...acts]);
      for (const kv of past) if (kv) tf.dispose([kv.k, kv.v]);
    },
  };
}

function fastProbFn(model: LoadedModel, p: Prepared, layer: number, cache: PrefixCache): ProbFn {
  const { fm, cfg } = model;
  const T = p.ids.length,
    pos = p.position,
    V = cfg.vocab;
  const kept: tf.Tensor[] = [];
  const keep = <X extends tf.Tensor>(t: X) => (kept.push(tf.keep(t)), t);
  const causal = model.info.kind === 'causal';
  const h1Layer = cache.h1[layer],
    aLayer = cache.act[layer],
    past = cache.past;
  const target = keep(tf.tidy(() => tf.oneHot(tf.tensor1d([p.targetId], 'int32'), V).reshape([V]) as tf.Tensor1D));
  const onehotPos = keep(tf.tidy(() => tf.oneHot(tf.tensor1d([pos], 'int32'), T).reshape([1, T, 1])));
  // masked: the block output of layer `layer` for the query itself (every row but the target's is reused)
  const outLayer = causal ? null : keep(tf.tidy(() => fm.ffnOut(layer, h1Layer, aLayer)));
  return {
    probs(W) {
      const N = W.shape[0];
      if (causal) {
        // only the target position, from layer `layer` up, against cached keys/values
        let x = fm.ffnOut(layer, h1Layer.tile([N, 1]) as tf.Tensor2D, W);
        for (let l = layer + 1; l < cfg.numLayers; l++) {
          const { h1 } = fm.attnHalf(l, x, N, 1, { offset: pos, past: past[l] });
          x = fm.ffnOut(l, h1, fm.ffnAct(l, h1));
        }
        return tf.softmax(fm.logits(x)).mul(target).sum(1) as tf.Tensor1D;
      }
      // masked: every position sees the change from layer `layer` + 1 on. The FFN is position-wise, so at
      // layer `layer` only the target row changes (the other rows are the cached block output), and in the
      // last layer only the target row's FFN is read; everything in between re-runs all positions.
      const d = cfg.hidden,
        last = cfg.numLayers - 1;
      const rowAt = (x: tf.Tensor2D) => x.reshape([N, T, d]).slice([0, pos, 0], [N, 1, d]).reshape([N, d]) as tf.Tensor2D; // slice, not gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks
      const row = fm.ffnOut(layer, h1Layer.slice([pos, 0], [1, -1]).tile([N, 1]) as tf.Tensor2D, W);
      if (layer === last) return tf.softmax(fm.logits(row)).mul(target).sum(1) as tf.Tensor1D;
      let x = outLayer!
        .reshape([1, T, d])
        .mul(tf.sub(1, onehotPos))
        .add(row.reshape([N, 1, d]).mul(onehotPos))
        .reshape([N * T, d]) as tf.Tensor2D;
      for (let l = layer + 1; l < last; l++) {
        const { h1 } = fm.attnHalf(l, x, N, T);
        x = fm.ffnOut(l, h1, fm.ffnAct(l, h1));
      }
      const h1 = rowAt(fm.attnHalf(last, x, N, T).h1);
      return tf
        .softmax(fm.logits(fm.ffnOut(last, h1, fm.ffnAct(last, h1))))
        .mul(target)
        .sum(1) as tf.Tensor1D;
    },
    dispose() {
      for (const t of kept) t.dispose();
    },
  };
}

/**
 * The naive path, as the Python tools do it: for each interpolation point, one full forward of the whole
 * query (every layer, every position, the LM head at every position) and one backward (N = 1).
 */
function naiveProbFn(model: LoadedModel, p: Prepared, layer: number): ProbFn {
  const { fm, cfg } = model;
  const T = p.ids.length,
    pos = p.position;
  const target = tf.tidy(() => tf.oneHot(tf.tensor1d([p.targetId], 'int32'), cfg.vocab).reshape([cfg.vocab]) as tf.Tensor1D);
  const onehotPos = tf.tidy(() => tf.oneHot(tf.tensor1d([pos], 'int32'), T).reshape([T, 1]));
  return {
    probs(W) {
      if (W.shape[0] !== 1) throw new Error('internal: the naive path takes one point at a time');
      let h = fm.embed([p.ids]);
      for (let l = 0; l < cfg.numLayers; l++) {
        const { h1 } = fm.attnHalf(l, h, 1, T);
        let a = fm.ffnAct(l, h1);
        if (l === layer) a = a.mul(tf.sub(1, onehotPos)).add(W.mul(onehotPos)) as tf.Tensor2D;
        h = fm.ffnOut(l, h1, a);
      }
      // like a Hugging Face forward, the LM head runs at every position; then the target position is read
      const logits = fm.logits(h);
      return tf
        .softmax(logits.slice([pos, 0], [1, -1]))
        .mul(target)
        .sum(1) as tf.Tensor1D;
    },
    dispose() {
      target.dispose();
      onehotPos.dispose();
    },
  };
}

/**
 * Interpolation points per chunk so that one chunk's live activations (forward values kept for the
 * backward pass, ~12 vectors of d and ~6 of F per row and layer, plus the vocabulary-sized softmax)
 * stay within the budget. Masked models re-run every position (T rows per point).
 */
export function chunkRows(model: LoadedModel, layer: number, budget: number, T: number): number {
  const { cfg } = model;
  const seq = model.info.kind === 'causal' ? 1 : T;
  const perRowLayer = (12 * cfg.hidden + 6 * cfg.ffn + 4 * cfg.heads * T) * 4 * seq;
  const perPoint = perRowLayer * (cfg.numLayers - layer) + cfg.vocab * 4 * 6;
  return Math.max(1, Math.floor(budget / perPoint));
}

/**
 * Streamed path: interpolation points per chunk. Only one layer's tape is alive at a time; every stage's
 * input (d per row and position) is kept, and a head chunk's logits (a few copies of [N, rows per chunk]).
 */
export function streamedChunkRows(model: LoadedModel, layer: number, budget: number, T: number, headRows: number): number {
  const { cfg } = model;
  const seq = model.info.kind === 'causal' ? 1 : T;
  const perRowLayer = (12 * cfg.hidden + 6 * cfg.ffn + 4 * cfg.heads * T) * 4 * seq;
  const perPoint = perRowLayer + cfg.hidden * 4 * seq * (cfg.numLayers - layer + 1) + headRows * 4 * 6;
  return Math.max(1, Math.floor(budget / perPoint));
}

const fromLayer = (lowest: number) => (g: string) => !g.startsWith('layer.') || Number(g.slice(6)) >= lowest;

/**
 * Weight bytes the fast path holds on the device at once for layers `lowest` and up plus the head and the
 * embeddings: int8 on the LRU path, every such matrix as float32 (cached or not); otherwise (float32 weights,
 * packed int8) what it would add (WeightStore.pendingBytes).
 */
export function fastResidentBytes(model: LoadedModel, lowest: number): number {
  const store = model.store;
  if (store.dtype !== 'int8' || store.devicePacked) return store.pendingBytes(fromLayer(lowest));
  const keep = fromLayer(lowest);
  let n = 0;
  for (const t of store.names()) if (t.shape.length === 2 && keep(t.group)) n += t.shape[0] * t.shape[1] * 4;
  return n;
}

/**
 * The least the streamed path keeps on the device: what is there now (norms and biases, packed matrices, the
 * LRU's layers), the largest layer's float32 matrices (one layer may exceed the LRU's budget), one head chunk
 * and the work budget.
 */
export function streamedResidentBytes(model: LoadedModel, chunkBytes: number, headChunkBytes = HEAD_CHUNK_BYTES) {
  let layer = 0;
  const byGroup = new Map<string, number>();
  for (const t of model.store.names()) {
    if (t.shape.length !== 2 || !t.group.startsWith('layer.')) continue;
    const b = (byGroup.get(t.group) ?? 0) + t.shape[0] * t.shape[1] * 4;
    byGroup.set(t.group, b);
    layer = Math.max(layer, b);
  }
  const head = headChunkRows(model, headChunkBytes) * model.cfg.hidden * 4;
  const store = model.store;
  const lru = store.dtype === 'int8' && !store.devicePacked ? Math.max(store.deviceBudgetBytes, layer) : 0;
  return { need: store.vectorBytes + store.packedBytes + lru + head + chunkBytes, layer, head };
}

/** Which path attributeQuery takes for these layers (`opts.path` when given). */
export function choosePath(
  model: LoadedModel,
  layers: number[],
  opts: Pick<AttributeOptions, 'path' | 'residentBudgetBytes' | 'chunkBudgetBytes'> = {},
): AttributionPath {
  if (opts.path) return opts.path;
  const lowest = Math.min(...layers);
  const fast = fastResidentBytes(model, lowest);
  if (fast > (opts.residentBudgetBytes ?? ATTRIBUTION_RESIDENT_BYTES)) return 'streamed';
  const limit = model.maxDeviceBytes;
  if (limit !== undefined && fastNeed(model, lowest, opts.chunkBudgetBytes ?? ATTRIBUTION_WORK_BYTES) > limit) return 'streamed';
  return 'fast';
}

/**
 * The streamed path's least device memory against the backend's limit: refused up front, with the numbers.
 */
export function checkStreamed(model: LoadedModel, chunkBytes: number, headChunkBytes = HEAD_CHUNK_BYTES) {
  const limit = model.maxDeviceBytes;
  if (limit === undefined) return;
  const s = streamedResidentBytes(model, chunkBytes, headChunkBytes);
  if (s.need > limit) {
    const GiB = 1024 ** 3;
    const mib = (n: number) => `${(n / 1024 ** 2).toFixed(n < 1024 ** 2 ? 2 : 0)} MiB`;
    throw new KnError(
      'too-large',
      `attributing layer by layer (streamed) keeps at least ${(s.need / GiB).toFixed(2)} GiB on the device at once (the float32 norms and biases, the weight cache or one layer's weights as float32: ${mib(Math.max(s.layer, model.store.deviceBudgetBytes))}, a ${mib(s.head)} chunk of the LM head and a ${mib(chunkBytes)} work budget); this backend allows ${(limit / GiB).toFixed(2)} GiB. Use a backend with more memory.`,
    );
  }
}

/** The fast path's device bytes: what is there now with the LRU as full as its budget lets it be (the prefix fills it), the weights it pins, the work budget. */
function fastNeed(model: LoadedModel, lowest: number, chunkBytes: number): number {
  const s = model.store;
  const lru = Math.max(s.cacheBytes, s.dtype === 'int8' && !s.devicePacked ? s.deviceBudgetBytes : 0);
  return s.pendingBytes(fromLayer(lowest)) + s.deviceBytes - s.cacheBytes + lru + chunkBytes;
}

/**
 * An attribution on the fast path keeps the weights of every layer from the lowest attributed one up (and the
 * head) on the device until it ends: int8 matrices on the LRU path are dequantized then and cannot be evicted
 * mid-gradient (packed int8 matrices on WebGPU count their packed size, WeightStore.pendingBytes). Refuse
 * up front, with the numbers, what the backend cannot hold, instead of crashing it.
 */
export function checkResident(model: LoadedModel, lowest: number, chunkBytes: number) {
  const limit = model.maxDeviceBytes;
  if (limit === undefined) return;
  const need = fastNeed(model, lowest, chunkBytes);
  if (need > limit) {
    const GiB = 1024 ** 3;
    throw new KnError(
      'too-large',
      `attributing layers ${lowest}..${model.cfg.numLayers - 1} keeps ${(need / GiB).toFixed(2)} GiB on the device at once (those layers' weights as float32, or as packed int8 on WebGPU, the head and a ${(chunkBytes / 1024 ** 2).toFixed(0)} MiB work budget); this backend allows ${(limit / GiB).toFixed(2)} GiB. Attribute fewer, higher layers, or use a GPU backend with more memory.`,
    );
  }
}

export async function attributeQuery(model: LoadedModel, prompt: string, target: string, opts: AttributeOptions = {}): Promise<QueryAttribution> {
  const steps = checkSteps(opts.steps ?? DEFAULT_STEPS);
  const baseline = checkBaseline(opts.baseline ?? DEFAULT_BASELINE);
  const quadrature = checkQuadrature(opts.quadrature ?? DEFAULT_QUADRATURE);
  // interpolation point k (1..M) at t_k, its gradient weighted by ω_k, the sum divided by `div`: Riemann
  // t_k = k/M, ω_k = 1, div = M; Gauss-Legendre the nodes and weights on [0, 1], div = 1
  const gl = quadrature === 'gauss-legendre' ? gaussLegendre(steps) : null;
  const at = (k: number) => (k === 0 ? 0 : gl ? gl.nodes[k - 1] : k / steps);
  const div = gl ? 1 : steps;
  const layers = opts.layers ?? Array.from({ length: model.cfg.numLayers }, (_, l) => l);
  if (layers.length === 0) throw new KnError('bad-input', 'no layers to attribute');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= model.cfg.numLayers)
      throw new KnError('bad-input', `layer ${l} does not exist (the model has ${model.cfg.numLayers})`);
  }
  const work = opts.chunkBudgetBytes ?? ATTRIBUTION_WORK_BYTES;
  const headChunkBytes = opts.headChunkBytes ?? HEAD_CHUNK_BYTES;
  const path = choosePath(model, layers, opts);
  // refused before any work, with the numbers
  if (path === 'streamed') checkStreamed(model, work, headChunkBytes);
  else checkResident(model, path === 'fast' ? Math.min(...layers) : 0, work);
  const p = await prepareQuery(model, prompt, target, baseline);
  const F = model.cfg.ffn;
  const m = p.baselineActs[0].length;
  const raw: Float64Array[] = Array.from({ length: model.cfg.numLayers }, () => new Float64Array(0));
  const completeness: QueryAttribution['completeness'] = [];
  let pFull = NaN;
  const total = layers.length * m * steps;
  let done = 0;
  const streamed = path === 'streamed';
  // the query's prefix (every layer, forward only) runs with the LRU free to evict; then the fast and naive
  // paths hold every weight they touch until the end (the gradients need them), the streamed path never
  const cache = path !== 'naive' ? buildPrefix(model, p) : undefined;
  if (!streamed) model.store.pin();
  try {
    for (const layer of layers) {
      if (opts.signal?.aborted) throw new KnError('cancelled', 'attribution cancelled');
      // interpolation points: baseline i, step k=1..M (right end points or Gauss-Legendre nodes); plus each
      // baseline itself (k=0) and, for Gauss-Legendre, whose nodes never reach t = 1, w̄ once
      const wbar = p.actual[layer];
      const points: { i: number; k: number }[] = [];
      for (let i = 0; i < m; i++) for (let k = 1; k <= steps; k++) points.push({ i, k });
      const build = (list: { i: number; k: number }[]) => {
        const W = new Float32Array(list.length * F);
        list.forEach(({ i, k }, r) => {
          const w0 = p.baselineActs[layer][i];
          const t = at(k);
          for (let j = 0; j < F; j++) W[r * F + j] = w0[j] + t * (wbar[j] - w0[j]);
        });
        return W;
      };
      const fn: ProbFn | StreamedFn = streamed
        ? streamedProbFn(model, p, layer, cache!, headChunkBytes)
        : path === 'fast'
          ? fastProbFn(model, p, layer, cache!)
          : naiveProbFn(model, p, layer);
      const gradSum = Array.from({ length: m }, () => new Float64Array(F));
      const pAtEnd = new Float64Array(m); // P(w̄) reached through each baseline's path (Riemann: k = M)
      try {
        const T = p.ids.length;
        const rowsPer = streamed
          ? streamedChunkRows(model, layer, work, T, headChunkRows(model, headChunkBytes))
          : path === 'fast'
            ? chunkRows(model, layer, work, T)
            : 1;
        for (let s = 0; s < points.length; s += rowsPer) {
          if (opts.signal?.aborted) throw new KnError('cancelled', 'attribution cancelled');
          const list = points.slice(s, s + rowsPer);
          const W = tf.tensor2d(build(list), [list.length, F]);
          // one pass gives the gradient and, kept aside, each row's P (needed at k = M for completeness)
          let probs: tf.Tensor1D | undefined;
          let g: Float32Array, pr: Float32Array;
          try {
            if (streamed) {
              // a long chunk (a big model) reports its stages as fractions of its points
              ({ g, pr } = await (fn as StreamedFn).gradAndProbs(W, (f) => opts.onProgress?.(done + f * list.length, total), opts.signal));
            } else {
              const { value, grad } = tf.valueAndGrad((w: tf.Tensor) => {
                const per = (fn as ProbFn).probs(w as tf.Tensor2D);
                probs = tf.keep(per.clone());
                return per.sum() as tf.Scalar;
              })(W);
              [g, pr] = (await Promise.all([grad.data(), probs!.data()])) as Float32Array[];
              tf.dispose([value, grad]);
            }
          } finally {
            tf.dispose(probs ? [W, probs] : [W]);
          }
          list.forEach(({ i, k }, r) => {
            const acc = gradSum[i];
            if (gl) {
              const w = gl.weights[k - 1];
              for (let j = 0; j < F; j++) acc[j] += w * g[r * F + j];
            } else {
              for (let j = 0; j < F; j++) acc[j] += g[r * F + j];
              if (k === steps) pAtEnd[i] = pr[r];
            }
          });
          done += list.length;
          opts.onProgress?.(done, total);
        }
        // P at each baseline (k = 0) and, for Gauss-Legendre, at w̄ (one more row), no gradient
        const n0 = gl ? m + 1 : m;
        const rows0 = new Float32Array(n0 * F);
        rows0.set(build(Array.from({ length: m }, (_, i) => ({ i, k: 0 }))));
        if (gl) rows0.set(wbar, m * F);
        const W0 = tf.tensor2d(rows0, [n0, F]);
        let pBase: ArrayLike<number>;
        if (streamed) {
          try {
            pBase = await (fn as StreamedFn).probs(W0);
          } finally {
            W0.dispose();
          }
        } else {
          const pf = fn as ProbFn;
          const p0 =
            path === 'fast'
              ? tf.tidy(() => pf.probs(W0))
              : tf.tidy(() => tf.concat(Array.from({ length: n0 }, (_, i) => pf.probs(W0.slice([i, 0], [1, -1]) as tf.Tensor2D))));
          pBase = await p0.data();
          tf.dispose([W0, p0]);
        }
        if (gl) pAtEnd.fill(pBase[m]);
        const r = new Float64Array(F);
        for (let i = 0; i < m; i++) {
          const w0 = p.baselineActs[layer][i];
          let sum = 0;
          for (let j = 0; j < F; j++) {
            const attr = ((wbar[j] - w0[j]) / div) * gradSum[i][j];
            r[j] += attr;
            sum += attr;
          }
          pFull = pAtEnd[i];
          completeness.push({ layer, baseline: i, sum, expected: pAtEnd[i] - pBase[i] });
        }
        raw[layer] = r;
      } finally {
        fn.dispose();
      }
    }
  } finally {
    cache?.dispose();
    if (!streamed) model.store.unpin();
  }
  return {
    ids: p.ids,
    position: p.position,
    targetId: p.targetId,
    steps,
    baseline,
    quadrature,
    baselinePositions: p.baselinePositions,
    padId: p.padId,
    layers,
    raw,
    pFull,
    completeness,
  };
}

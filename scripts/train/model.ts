/**
 * Small trainable transformers in tfjs with exactly the Hugging Face semantics of GPT2LMHeadModel and
 * BertForMaskedLM, so that the engine (a separate implementation) loading the saved safetensors gives
 * the same predictions.
 *
 * GPT-2: learned positions, pre-LN, Conv1D weights [in, out], gelu_new (or relu), final ln_f, head tied to wte.
 * BERT: word + position + token-type(0) embeddings -> LayerNorm, post-LN blocks, exact-erf GELU (or relu), MLM
 * head (dense -> gelu -> LayerNorm -> tied word embeddings + cls.predictions.bias). nn.Linear weights
 * are kept here as [in, out] (no transposed matmul in the hot path) and transposed to HF's [out, in]
 * when saved.
 *
 * wasm has no gradient kernel for gather (UnsortedSegmentSum); row lookups use a custom gradient that
 * scatters rows on the host.
 */
import * as tf from '@tensorflow/tfjs';

export interface TrainConfig {
  arch: 'gpt2' | 'bert';
  vocab: number;
  d: number;
  layers: number;
  heads: number;
  ffn: number;
  ctx: number;
  /** FFN (and BERT MLM-head) activation: HF gelu_new / gelu (default) or relu */
  act?: 'gelu' | 'relu';
  /**
   * Self-attention only in the first `attnLayers` layers (default: all). The other layers' attention
   * weights and biases stay zero (frozen), so the saved checkpoint is a valid HF model that computes the
   * same thing: GPT-2 adds c_proj(0) = 0 to the residual; BERT's attention output is 0 and only its
   * LayerNorm acts. Above the last attention layer every position is independent, so training computes
   * the rest at the label rows only.
   */
  attnLayers?: number;
}

export type Params = Map<string, tf.Variable>;

/** HF name, our shape, HF shape transposed? (nn.Linear weights) */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones' | 'proj';
  linear?: boolean;
  /** kept at its initial value (zero attention above cfg.attnLayers) */
  frozen?: boolean;
}

/** is `l` a layer without attention? */
export const noAttn = (c: TrainConfig, l: number) => c.attnLayers !== undefined && l >= c.attnLayers;

export function paramSpecs(c: TrainConfig): ParamSpec[] {
  const { d, ffn: F, vocab: V, ctx } = c;
  const s: ParamSpec[] = [];
  if (c.arch === 'gpt2') {
    s.push({ name: 'transformer.wte.weight', shape: [V, d], init: 'normal' }, { name: 'transformer.wpe.weight', shape: [ctx, d], init: 'normal' });
    for (let l = 0; l < c.layers; l++) {
      const p = `transformer.h.${l}.`;
      s.push(
        { name: p + 'ln_1.weight', shape: [d], init: 'ones' },
        { name: p + 'ln_1.bias', shape: [d], init: 'zeros' },
        { name: p + 'attn.c_attn.weight', shape: [d, 3 * d], init: 'normal' },
        { name: p + 'attn.c_attn.bias', shape: [3 * d], init: 'zeros' },
        { name: p + 'attn.c_proj.weight', shape: [d, d], init: 'proj' },
        { name: p + 'attn.c_proj.bias', shape: [d], init: 'zeros' },
        { name: p + 'ln_2.weight', shape: [d], init: 'ones' },
        { name: p + 'ln_2.bias', shape: [d], init: 'zeros' },
        { name: p + 'mlp.c_fc.weight', shape: [d, F], init: 'normal' },
        { name: p + 'mlp.c_fc.bias', shape: [F], init: 'zeros' },
        { name: p + 'mlp.c_proj.weight', shape: [F, d], init: 'proj' },
        { name: p + 'mlp.c_proj.bias', shape: [d], init: 'zeros' },
      );
    }
    s.push({ name: 'transformer.ln_f.weight', shape: [d], init: 'ones' }, { name: 'transformer.ln_f.bias', shape: [d], init: 'zeros' });
    return freezeAttention(c, s);
  }
  const e = 'bert.embeddings.';
  s.push(
    { name: e + 'word_embeddings.weight', shape: [V, d], init: 'normal' },
    { name: e + 'position_embeddings.weight', shape: [ctx, d], init: 'normal' },
    { name: e + 'token_type_embeddings.weight', shape: [2, d], init: 'normal' },
    { name: e + 'LayerNorm.weight', shape: [d], init: 'ones' },
    { name: e + 'LayerNorm.bias', shape: [d], init: 'zeros' },
  );
  for (let l = 0; l < c.layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      s.push(
        { name: `${p}${m}.weight`, shape: [d, d], init: m.endsWith('dense') ? 'proj' : 'normal', linear: true },
        { name: `${p}${m}.bias`, shape: [d], init: 'zeros' },
      );
    }
    s.push(
      { name: p + 'attention.output.LayerNorm.weight', shape: [d], init: 'ones' },
      { name: p + 'attention.output.LayerNorm.bias', shape: [d], init: 'zeros' },
      { name: p + 'intermediate.dense.weight', shape: [d, F], init: 'normal', linear: true },
      { name: p + 'intermediate.dense.bias', shape: [F], init: 'zeros' },
      { name: p + 'output.dense.weight', shape: [F, d], init: 'proj', linear: true },
      { name: p + 'output.dense.bias', shape: [d], init: 'zeros' },
      { name: p + 'output.LayerNorm.weight', shape: [d], init: 'ones' },
      { name: p + 'output.LayerNorm.bias', shape: [d], init: 'zeros' },
    );
  }
  s.push(
    { name: 'cls.predictions.transform.dense.weight', shape: [d, d], init: 'normal', linear: true },
    { name: 'cls.predictions.transform.dense.bias', shape: [d], init: 'zeros' },
    { name: 'cls.predictions.transform.LayerNorm.weight', shape: [d], init: 'ones' },
    { name: 'cls.predictions.transform.LayerNorm.bias', shape: [d], init: 'zeros' },
    { name: 'cls.predictions.bias', shape: [V], init: 'zeros' },
  );
  return freezeAttention(c, s);
}

/** attention weights/biases of the layers without attention: zero and frozen */
function freezeAttention(c: TrainConfig, s: ParamSpec[]): ParamSpec[] {
  const re = c.arch === 'gpt2' ? /^transformer\.h\.(\d+)\.attn\./ : /^bert\.encoder\.layer\.(\d+)\.attention\.(self|output\.dense)/;
  for (const p of s) {
    const m = re.exec(p.name);
    if (m && noAttn(c, Number(m[1]))) {
      p.init = 'zeros';
      p.frozen = true;
    }
    // GPT-2: ln_1 only feeds the attention; it stays at its initial value (ones, zeros) where there is none
    const n = /^transformer\.h\.(\d+)\.ln_1\./.exec(p.name);
    if (n && noAttn(c, Number(n[1]))) p.frozen = true;
  }
  return s;
}

/** names of the parameters the optimizer updates */
export function trainableNames(c: TrainConfig): string[] {
  return paramSpecs(c)
    .filter((s) => !s.frozen)
    .map((s) => s.name);
}

let uid = 0;
export function initParams(c: TrainConfig, seed: number): Params {
  const p: Params = new Map();
  const tag = `#${uid++}`;
  let k = 0;
  for (const s of paramSpecs(c)) {
    const std = s.init === 'proj' ? 0.02 / Math.sqrt(2 * c.layers) : 0.02;
    const t = s.init === 'zeros' ? tf.zeros(s.shape) : s.init === 'ones' ? tf.ones(s.shape) : tf.randomNormal(s.shape, 0, std, 'float32', seed + k++);
    p.set(s.name, tf.variable(t, true, s.name + tag));
    t.dispose();
  }
  return p;
}

export function countParams(c: TrainConfig): number {
  return paramSpecs(c).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}

// ---------------------------------------------------------------- ops

/** rows of x [R, d] at idx, with a host-side scatter as gradient (wasm lacks UnsortedSegmentSum). */
function gatherRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const R = x.shape[0],
    d = x.shape[1];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((xx: tf.Tensor) => ({
    value: tf.gather(xx, tf.tensor1d(idx, 'int32')),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync();
      const out = new Float32Array(R * d);
      for (let i = 0; i < idx.length; i++) {
        const o = idx[i] * d,
          s = i * d;
        for (let j = 0; j < d; j++) out[o + j] += g[s + j];
      }
      return tf.tensor2d(out, [R, d]);
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

/** x·W (W [in, out]); gradients with explicit transposes instead of transposed matmuls. */
function mm(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((xx: tf.Tensor, ww: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([xx, ww]);
    return {
      value: tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as tf.Tensor2D[];
        return [tf.matMul(dy as tf.Tensor2D, sw.transpose()), tf.matMul(sx.transpose(), dy as tf.Tensor2D)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w) as tf.Tensor2D;
}

function ln(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(g)
    .add(b) as tf.Tensor2D;
}

function geluTanh(x: tf.Tensor): tf.Tensor {
  const c = Math.sqrt(2 / Math.PI);
  return x.mul(0.5).mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(c)).add(1));
}

function geluErf(x: tf.Tensor): tf.Tensor {
  return x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1));
}

/** q, k, v [B*T, d] → [B*T, d]; `mask` additive [B, 1, T, T] */
function attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, B: number, T: number, H: number, mask: tf.Tensor): tf.Tensor2D {
  const d = q.shape[1],
    dh = d / H;
  const split = (x: tf.Tensor2D) => x.reshape([B, T, H, dh]).transpose([0, 2, 1, 3]);
  const qh = split(q).reshape([B * H, T, dh]);
  const kt = split(k)
    .transpose([0, 1, 3, 2])
    .reshape([B * H, dh, T]);
  const vh = split(v).reshape([B * H, T, dh]);
  const s = tf
    .matMul(qh, kt)
    .mul(1 / Math.sqrt(dh))
    .reshape([B, H, T, T])
    .add(mask);
  const p = tf.softmax(s, -1).reshape([B * H, T, T]);
  return tf
    .matMul(p, vh)
    .reshape([B, H, T, dh])
    .transpose([0, 2, 1, 3])
    .reshape([B * T, d]) as tf.Tensor2D;
}

export interface Batch {
  B: number;
  T: number;
  ids: Int32Array; // [B*T], padded
  lens: number[];
  rows: Int32Array; // label rows in [B*T]
  labels: Int32Array;
}

export function makeBatch(examples: { ids: number[]; labels: [number, number][] }[], pad: number): Batch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length));
  const ids = new Int32Array(B * T).fill(pad);
  const rows: number[] = [],
    labels: number[] = [];
  examples.forEach((e, b) => {
    ids.set(e.ids, b * T);
    for (const [p, y] of e.labels) {
      rows.push(b * T + p);
      labels.push(y);
    }
  });
  return { B, T, ids, lens: examples.map((e) => e.ids.length), rows: Int32Array.from(rows), labels: Int32Array.from(labels) };
}

function maskFor(c: TrainConfig, b: Batch): tf.Tensor {
  const { B, T } = b;
  const m = new Float32Array(B * T * T);
  for (let i = 0; i < B; i++) {
    for (let q = 0; q < T; q++) {
      for (let k = 0; k < T; k++) {
        const blocked = c.arch === 'gpt2' ? k > q : k >= b.lens[i];
        m[(i * T + q) * T + k] = blocked ? -1e9 : 0;
      }
    }
  }
  return tf.tensor4d(m, [B, 1, T, T]);
}

function relu(x: tf.Tensor): tf.Tensor {
  return tf.relu(x);
}

/**
 * Hidden states at the label rows, after the final norm / MLM transform: [N, d]; `acts` collects the FFN
 * activations (after the activation function) of every layer at the label rows when given.
 */
function hiddenAtRows(c: TrainConfig, P: Params, b: Batch, acts?: tf.Tensor2D[]): tf.Tensor2D {
  const g = (n: string) => P.get(n)!;
  const relu_ = c.act === 'relu';
  const actG = relu_ ? relu : geluTanh,
    actB = relu_ ? relu : geluErf;
  // rows are gathered as soon as positions stop interacting (after the last attention layer's attention)
  const lastAttn = c.attnLayers === undefined ? c.layers - 1 : c.attnLayers - 1;
  const { B, T } = b;
  const mask = maskFor(c, b);
  const posIdx = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) posIdx[i] = i % T;
  if (c.arch === 'gpt2') {
    let h = gatherRows(g('transformer.wte.weight') as tf.Tensor2D, b.ids).add(gatherRows(g('transformer.wpe.weight') as tf.Tensor2D, posIdx)) as tf.Tensor2D;
    let gathered = false;
    for (let l = 0; l < c.layers; l++) {
      const p = `transformer.h.${l}.`;
      if (!noAttn(c, l)) {
        const x = ln(h, g(p + 'ln_1.weight'), g(p + 'ln_1.bias'), 1e-5);
        const qkv = mm(x, g(p + 'attn.c_attn.weight') as tf.Tensor2D).add(g(p + 'attn.c_attn.bias')) as tf.Tensor2D;
        const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[];
        const a = attention(q, k, v, B, T, c.heads, mask);
        h = h.add(mm(a, g(p + 'attn.c_proj.weight') as tf.Tensor2D).add(g(p + 'attn.c_proj.bias'))) as tf.Tensor2D;
      } // else: c_attn and c_proj are zero, the block adds 0 to the residual
      if (l === lastAttn && !gathered) {
        h = gatherRows(h, b.rows);
        gathered = true;
      }
      const x2 = ln(h, g(p + 'ln_2.weight'), g(p + 'ln_2.bias'), 1e-5);
      const act = actG(mm(x2, g(p + 'mlp.c_fc.weight') as tf.Tensor2D).add(g(p + 'mlp.c_fc.bias'))) as tf.Tensor2D;
      if (acts) acts.push(gathered ? act : gatherRows(act, b.rows));
      h = h.add(mm(act, g(p + 'mlp.c_proj.weight') as tf.Tensor2D).add(g(p + 'mlp.c_proj.bias'))) as tf.Tensor2D;
    }
    const sel = gathered ? h : gatherRows(h, b.rows);
    return ln(sel, g('transformer.ln_f.weight'), g('transformer.ln_f.bias'), 1e-5);
  }
  const e = 'bert.embeddings.';
  const eps = 1e-12;
  let h = gatherRows(g(e + 'word_embeddings.weight') as tf.Tensor2D, b.ids)
    .add(gatherRows(g(e + 'position_embeddings.weight') as tf.Tensor2D, posIdx))
    .add(g(e + 'token_type_embeddings.weight').slice([0, 0], [1, c.d])) as tf.Tensor2D;
  h = ln(h, g(e + 'LayerNorm.weight'), g(e + 'LayerNorm.bias'), eps);
  const lin = (x: tf.Tensor2D, n: string) => mm(x, g(n + '.weight') as tf.Tensor2D).add(g(n + '.bias')) as tf.Tensor2D;
  let gathered = false;
  for (let l = 0; l < c.layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    if (!noAttn(c, l)) {
      const a = attention(lin(h, p + 'attention.self.query'), lin(h, p + 'attention.self.key'), lin(h, p + 'attention.self.value'), B, T, c.heads, mask);
      h = ln(
        h.add(lin(a, p + 'attention.output.dense')) as tf.Tensor2D,
        g(p + 'attention.output.LayerNorm.weight'),
        g(p + 'attention.output.LayerNorm.bias'),
        eps,
      );
    } else {
      // zero attention weights and biases: the attention output is 0 and only its LayerNorm acts
      h = ln(h, g(p + 'attention.output.LayerNorm.weight'), g(p + 'attention.output.LayerNorm.bias'), eps);
    }
    if (l === lastAttn && !gathered) {
      h = gatherRows(h, b.rows);
      gathered = true;
    }
    const act = actB(lin(h, p + 'intermediate.dense')) as tf.Tensor2D;
    if (acts) acts.push(gathered ? act : gatherRows(act, b.rows));
    h = ln(h.add(lin(act, p + 'output.dense')) as tf.Tensor2D, g(p + 'output.LayerNorm.weight'), g(p + 'output.LayerNorm.bias'), eps);
  }
  const sel = gathered ? h : gatherRows(h, b.rows);
  const t = actB(lin(sel, 'cls.predictions.transform.dense')) as tf.Tensor2D;
  return ln(t, g('cls.predictions.transform.LayerNorm.weight'), g('cls.predictions.transform.LayerNorm.bias'), eps);
}

/** Logits at the label rows: [N, V]. */
export function logitsAtRows(c: TrainConfig, P: Params, b: Batch, acts?: tf.Tensor2D[]): tf.Tensor2D {
  const h = hiddenAtRows(c, P, b, acts);
  if (c.arch === 'gpt2') return mm(h, P.get('transformer.wte.weight')!.transpose() as tf.Tensor2D);
  return mm(h, P.get('bert.embeddings.word_embeddings.weight')!.transpose() as tf.Tensor2D).add(P.get('cls.predictions.bias')!) as tf.Tensor2D;
}

export interface LossOptions {
  /** label smoothing ε: the target distribution is (1 − ε)·one-hot + ε/V (PyTorch's) */
  labelSmoothing?: number;
  /** weight of the L1 penalty on the FFN activations at the label rows: l1 · Σ_layers mean |a| */
  l1?: number;
}

export function lossOf(c: TrainConfig, P: Params, b: Batch, o: LossOptions = {}): tf.Scalar {
  const acts: tf.Tensor2D[] | undefined = o.l1 ? [] : undefined;
  const logits = logitsAtRows(c, P, b, acts);
  const logp = tf.logSoftmax(logits, -1);
  const eps = o.labelSmoothing ?? 0;
  let target = tf.oneHot(tf.tensor1d(b.labels, 'int32'), c.vocab) as tf.Tensor;
  if (eps > 0) target = target.mul(1 - eps).add(eps / c.vocab);
  let loss = logp.mul(target).sum().neg().div(b.labels.length) as tf.Scalar;
  if (acts && acts.length) loss = loss.add(tf.addN(acts.map((a) => a.abs().mean())).mul(o.l1!)) as tf.Scalar;
  return loss;
}

/** Top-1 prediction at every label row. */
export function predict(c: TrainConfig, P: Params, b: Batch): Int32Array {
  return tf.tidy(() => logitsAtRows(c, P, b).argMax(-1).dataSync() as Int32Array);
}

// ---------------------------------------------------------------- Adam

export interface AdamState {
  step: number;
  m: Map<string, tf.Variable>;
  v: Map<string, tf.Variable>;
}

export function adamInit(P: Params): AdamState {
  const m = new Map<string, tf.Variable>(),
    v = new Map<string, tf.Variable>();
  for (const [n, p] of P) {
    m.set(n, tf.variable(tf.zerosLike(p), false));
    v.set(n, tf.variable(tf.zerosLike(p), false));
  }
  return { step: 0, m, v };
}

export interface StepOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  clip?: number;
  weightDecay?: number;
  labelSmoothing?: number;
  l1?: number;
}

/** One optimizer step; returns the loss. */
export function trainStep(c: TrainConfig, P: Params, S: AdamState, b: Batch, o: StepOptions): number {
  const b1 = o.beta1 ?? 0.9,
    b2 = o.beta2 ?? 0.98,
    eps = o.eps ?? 1e-8,
    clip = o.clip ?? 1;
  const trainable = new Set(trainableNames(c));
  const names = [...P.keys()].filter((n) => trainable.has(n));
  const { value, grads } = tf.variableGrads(
    () => lossOf(c, P, b, { labelSmoothing: o.labelSmoothing, l1: o.l1 }),
    names.map((n) => P.get(n)!),
  );
  const loss = value.dataSync()[0];
  S.step++;
  tf.tidy(() => {
    const norm = Math.sqrt(tf.addN(names.map((n) => grads[P.get(n)!.name].square().sum())).dataSync()[0]);
    const scale = norm > clip ? clip / norm : 1;
    const bc1 = 1 - Math.pow(b1, S.step),
      bc2 = 1 - Math.pow(b2, S.step);
    for (const n of names) {
      const g = grads[P.get(n)!.name].mul(scale);
      const m = S.m.get(n)!,
        v = S.v.get(n)!,
        p = P.get(n)!;
      m.assign(m.mul(b1).add(g.mul(1 - b1)));
      v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
      let upd = m.div(bc1).div(v.div(bc2).sqrt().add(eps));
      if (o.weightDecay && p.shape.length === 2) upd = upd.add(p.mul(o.weightDecay));
      p.assign(p.sub(upd.mul(o.lr)));
    }
  });
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}

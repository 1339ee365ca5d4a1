/** tfjs building blocks shared by the families. Hidden states are 2-D [B*T, d]. */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import { isPacked, packedMatMul } from '../weights/int8-webgpu';
import { weightGrad, type WeightMat } from '../weights/weight-mat';

export { weightGrad, type WeightMat } from '../weights/weight-mat';

export function layerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x
      .sub(mean)
      .mul(tf.rsqrt(variance.add(eps)))
      .mul(w)
      .add(b) as tf.Tensor2D;
  });
}

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => x.mul(tf.rsqrt(x.square().mean(-1, true).add(eps))).mul(w) as tf.Tensor2D);
}

/** GPT-2's gelu_new: the tanh approximation. */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = Math.sqrt(2 / Math.PI);
    return x.mul(0.5).mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(c)).add(1));
  });
}

/** Exact GELU: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)));
}

/** ReLU: max(0, x) (HF "relu"). */
export function relu(x: tf.Tensor): tf.Tensor {
  return tf.relu(x);
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.sigmoid(x)));
}

/**
 * x·W with W a weight matrix [in, out]. Its gradient with respect to x is computed as (W·dyᵀ)ᵀ rather
 * than tfjs's default dy·Wᵀ: on the wasm backend a matmul with a transposed operand is 4-10× slower
 * than a plain one (measured by `npm run bench`). W is a constant here (no gradient).
 * A packed int8 W (WebGPU, src/engine/weights/int8-webgpu.ts) runs through the int8 kernels, forward and input
 * gradient; WeightStore never hands one out while `weightGrad.on` (training needs float32 weights).
 */
export function matMulW(x: tf.Tensor2D, w: WeightMat): tf.Tensor2D {
  if (isPacked(w)) {
    if (weightGrad.on) throw new Error('internal: a packed int8 weight reached a trained matmul');
    return packedMatMul(x, w);
  }
  if (weightGrad.on) return tf.matMul(x, w);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((xx: tf.Tensor) => ({
    value: tf.matMul(xx as tf.Tensor2D, w),
    gradFunc: (dy: tf.Tensor) => tf.matMul(w, dy.transpose()).transpose(),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

/** x·W + b, with W in the [in, out] orientation (WeightStore.mat). */
export function linear(x: tf.Tensor2D, w: WeightMat, b?: tf.Tensor1D): tf.Tensor2D {
  const y = matMulW(x, w);
  return b ? (y.add(b) as tf.Tensor2D) : y;
}

/** [B*T, H*dh] → [B, H, T, dh] */
export function splitHeads(x: tf.Tensor2D, B: number, T: number, H: number, dh: number): tf.Tensor4D {
  return x.reshape([B, T, H, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
}

/** [B, H, T, dh] → [B*T, H*dh] */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [B, H, T, dh] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([B * T, H * dh]) as tf.Tensor2D;
}

const maskCache = new Map<string, Float32Array>();
/** Additive mask [Tq, Tk]: query i (absolute position offset+i) may see keys j ≤ offset+i. */
export function causalMask(Tq: number, Tk: number, offset: number): tf.Tensor2D {
  const key = `${Tq}:${Tk}:${offset}`;
  let m = maskCache.get(key);
  if (!m) {
    m = new Float32Array(Tq * Tk);
    for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) m[i * Tk + j] = j <= offset + i ? 0 : -1e9;
    if (maskCache.size > 64) maskCache.clear();
    maskCache.set(key, m);
  }
  return tf.tensor2d(m, [Tq, Tk]);
}

/**
 * softmax(q·kᵀ·scale + mask)·v with q [B,H,Tq,dh], k/v [B,Hkv,Tk,dh]. Grouped-query attention (Hkv < H)
 * folds the H/Hkv query heads that share a key/value head into the query axis instead of repeating k/v
 * (query head h uses kv head ⌊h / (H/Hkv)⌋, as HF's repeat_kv).
 */
export function attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, scale: number, mask?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, Tq, dh] = q.shape;
    const Hkv = k.shape[1];
    const rep = H / Hkv;
    const qg = rep === 1 ? q : (q.reshape([B, Hkv, rep * Tq, dh]) as tf.Tensor4D);
    let s = tf.matMul(qg, k, false, true).mul(scale) as tf.Tensor4D;
    if (mask) s = s.add(rep === 1 ? mask : mask.tile([rep, 1]));
    const out = tf.matMul(tf.softmax(s, -1), v) as tf.Tensor4D;
    return rep === 1 ? out : (out.reshape([B, H, Tq, dh]) as tf.Tensor4D);
  });
}

/**
 * Attention of a batch of new rows against keys/values shared by the whole batch (the cached prefix of
 * one query) plus their own: q [B,H,Tq,dh], kNew/vNew [B,Hkv,Tq,dh], past k/v [1,Hkv,Tp,dh]. The shared
 * prefix is never copied B times (tile is slow): the batch is folded into the query axis instead.
 */
export function attendWithPast(q: tf.Tensor4D, kNew: tf.Tensor4D, vNew: tf.Tensor4D, past: KV, scale: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, Tq, dh] = q.shape;
    const Hkv = kNew.shape[1];
    const rep = H / Hkv;
    const Tp = past.k.shape[2];
    // scores against the shared prefix: [1, Hkv, rep·B·Tq, Tp] → [B, H, Tq, Tp]
    const qFold = q.transpose([1, 0, 2, 3]).reshape([1, Hkv, rep * B * Tq, dh]);
    const sPast = tf.matMul(qFold, past.k, false, true).mul(scale).reshape([H, B, Tq, Tp]).transpose([1, 0, 2, 3]);
    // scores among the new rows (causal within them)
    const qg = rep === 1 ? q : q.reshape([B, Hkv, rep * Tq, dh]);
    let sNew = tf.matMul(qg, kNew, false, true).mul(scale);
    if (Tq > 1) {
      const m = causalMask(Tq, Tq, 0);
      sNew = sNew.add(rep === 1 ? m : m.tile([rep, 1]));
    }
    sNew = sNew.reshape([B, H, Tq, Tq]);
    const p = tf.softmax(tf.concat([sPast, sNew], 3), -1);
    const [pPast, pNew] = tf.split(p, [Tp, Tq], 3);
    const oPast = tf
      .matMul(pPast.transpose([1, 0, 2, 3]).reshape([1, Hkv, rep * B * Tq, Tp]), past.v)
      .reshape([H, B, Tq, dh])
      .transpose([1, 0, 2, 3]);
    const oNew = tf.matMul(rep === 1 ? pNew : pNew.reshape([B, Hkv, rep * Tq, Tq]), vNew).reshape([B, H, Tq, dh]);
    return oPast.add(oNew) as tf.Tensor4D;
  });
}

/** Broadcast a batch-1 past key/value [1,H,Tp,dh] to batch B and append the new entries. */
export function extendKv(past: tf.Tensor4D | undefined, cur: tf.Tensor4D): tf.Tensor4D {
  if (!past) return cur;
  const B = cur.shape[0];
  const p = past.shape[0] === B ? past : (past.tile([B, 1, 1, 1]) as tf.Tensor4D);
  return tf.concat([p, cur], 2) as tf.Tensor4D;
}

export interface KV {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/**
 * RoPE's cos and sin tables [T, headDim] for positions offset..offset+T−1 (rotate-half layout). The angle is taken
 * in float32 as Hugging Face computes it: fp32(position) · fp32(inv_freq).
 */
export function ropeTables(inv: Float64Array, headDim: number, T: number, offset: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(T * headDim),
    sin = new Float32Array(T * headDim);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const ang = Math.fround(Math.fround(offset + t) * Math.fround(inv[i]));
      cos[t * headDim + i] = cos[t * headDim + i + half] = Math.cos(ang);
      sin[t * headDim + i] = sin[t * headDim + i + half] = Math.sin(ang);
    }
  }
  return { cos, sin };
}

/** x·cos + rotate_half(x)·sin over the head dimension (axis 3) of [B, H, T, dh]. */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const [x1, x2] = tf.split(x, 2, 3);
  return x.mul(cos).add(tf.concat([x2.neg(), x1], 3).mul(sin)) as tf.Tensor4D;
}

/**
 * Token plus learned absolute position embeddings of a [B][T] batch whose first row sits at `offset` (GPT-2, BERT):
 * [B, T, d]. A prompt past the model's context is refused.
 */
export function tokenAndPosition(
  w: { rows(name: string, ids: number[]): tf.Tensor2D },
  names: { tokens: string; positions: string },
  ids: number[][],
  offset: number,
  c: { hidden: number; maxPositions: number },
): tf.Tensor3D {
  const B = ids.length,
    T = ids[0].length;
  if (offset + T > c.maxPositions) throw new KnError('bad-input', `the prompt has ${offset + T} tokens; the model's context is ${c.maxPositions}`);
  const pos = w.rows(
    names.positions,
    Array.from({ length: T }, (_, i) => offset + i),
  );
  return w.rows(names.tokens, ids.flat()).reshape([B, T, c.hidden]).add(pos) as tf.Tensor3D;
}

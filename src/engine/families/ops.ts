/** tfjs building blocks shared by the families. Hidden states are 2-D [B*T, d]. */
import * as tf from '@tensorflow/tfjs';

export function layerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(w).add(b) as tf.Tensor2D;
  });
}

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => x.mul(tf.rsqrt(x.square().mean(-1, true).add(eps))).mul(w) as tf.Tensor2D);
}

/** GPT-2's gelu_new: the tanh approximation. */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = Math.sqrt(2 / Math.PI);
    return x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(c)).add(1));
  });
}

/** Exact GELU: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)));
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.sigmoid(x)));
}

/** x·W + b, with W in the [in, out] orientation (WeightStore.mat). */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const y = tf.matMul(x, w);
  return b ? (y.add(b) as tf.Tensor2D) : (y as tf.Tensor2D);
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

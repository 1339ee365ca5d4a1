/**
 * The streamed attribution path: the same P(y*) and ∂P/∂w as the fast path (attribute.ts), without float32
 * copies of every layer at once. For a batch of interpolation points W [N, F] of layer `layer`:
 *
 * 1. forward, stage by stage (the neuron vector's block, then each block above it), keeping only each
 *    stage's input (activations are small); each stage dequantizes its own layer's int8 weights through the
 *    store's LRU (not pinned: an earlier layer may be evicted while the next one runs);
 * 2. the LM head in vocabulary chunks (at most HEAD_CHUNK_BYTES of float32 head weights at a time), in one
 *    pass: per row the running max m of the logits, S = Σ_v exp(y_v − m) and A = Σ_v exp(y_v − m)·∂y_v/∂z,
 *    rescaled whenever m grows (as flash attention's online softmax), and the target's logit y_t and ∂y_t/∂z;
 *    then P = exp(y_t − m)/S and ∂P/∂z = P·∂y_t/∂z − (P/S)·A (= P·(onehot_t − softmax) through the head);
 * 3. backward, stage by stage from the top: each stage is recomputed from its kept input under tf.grad with
 *    the upstream gradient dy (one layer's weights and tape alive at a time), down to ∂P/∂W.
 *
 * Peak memory: the int8 weights (host) + one layer's float32 weights (the LRU budget, or that one layer) +
 * one head chunk + the kept stage inputs and one stage's tape. Cost: every stage above `layer` runs forward
 * twice (≈ 4/3 of the fast path's matmuls), the head's matmuls as the fast path's, and each layer's and the
 * head's weights are dequantized once more per batch of points.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel } from '../families/model';
import { matMulW, type KV } from '../families/ops';
import { HEAD_CHUNK_BYTES } from '../rules';
import { KnError } from '../../shared/errors';

/** What the streamed path needs of the query's cached prefix (attribute.ts PrefixCache). */
export interface StreamPrefix {
  h1: tf.Tensor2D[];
  act: tf.Tensor2D[];
  past: (KV | undefined)[];
}

export interface StreamedFn {
  /** P(y*) of each row and Σ_rows ∂P/∂W ([N·F], row-major); `onStage(fraction)` as the stages finish */
  gradAndProbs(W: tf.Tensor2D, onStage?: (fraction: number) => void, signal?: AbortSignal): Promise<{ g: Float32Array; pr: Float32Array }>;
  /** P(y*) of each row, no gradient */
  probs(W: tf.Tensor2D): Promise<Float32Array>;
  dispose(): void;
}

/** Vocabulary rows per head chunk: at most `chunkBytes` of float32 head weights (at least one row). */
export function headChunkRows(model: LoadedModel, chunkBytes = HEAD_CHUNK_BYTES): number {
  return Math.max(1, Math.min(model.cfg.vocab, Math.floor(chunkBytes / (4 * model.cfg.hidden))));
}

type Stage = (x: tf.Tensor2D, N: number) => tf.Tensor2D;

export function streamedProbFn(
  model: LoadedModel,
  p: { ids: number[]; position: number; targetId: number },
  layer: number,
  cache: StreamPrefix,
  chunkBytes = HEAD_CHUNK_BYTES,
): StreamedFn {
  const { fm, cfg, store } = model;
  const T = p.ids.length,
    pos = p.position,
    V = cfg.vocab,
    d = cfg.hidden;
  const causal = model.info.kind === 'causal';
  const last = cfg.numLayers - 1;
  const kept: tf.Tensor[] = [];
  const keep = <X extends tf.Tensor>(t: X) => (kept.push(tf.keep(t)), t);
  const h1Layer = cache.h1[layer];
  const stages: Stage[] = [];
  if (causal) {
    // only the target position, from layer `layer` up, against the cached keys/values of the prefix
    stages.push((W, N) => fm.ffnOut(layer, h1Layer.tile([N, 1]) as tf.Tensor2D, W));
    for (let l = layer + 1; l < cfg.numLayers; l++) {
      stages.push((x, N) => {
        const { h1 } = fm.attnHalf(l, x, N, 1, { offset: pos, past: cache.past[l] });
        return fm.ffnOut(l, h1, fm.ffnAct(l, h1));
      });
    }
  } else {
    // masked: as the fast path, every position re-runs from layer `layer` + 1 on; the last layer's FFN only
    // for the target row
    const h1Row = keep(tf.tidy(() => h1Layer.slice([pos, 0], [1, -1]) as tf.Tensor2D));
    const row = (W: tf.Tensor2D, N: number) => fm.ffnOut(layer, h1Row.tile([N, 1]) as tf.Tensor2D, W);
    if (layer === last) stages.push(row);
    else {
      const outLayer = keep(tf.tidy(() => fm.ffnOut(layer, h1Layer, cache.act[layer]).reshape([1, T, d])));
      const onehotPos = keep(tf.tidy(() => tf.oneHot(tf.tensor1d([pos], 'int32'), T).reshape([1, T, 1])));
      const rest = keep(tf.tidy(() => tf.sub(1, onehotPos)));
      stages.push(
        (W, N) =>
          outLayer
            .mul(rest)
            .add(row(W, N).reshape([N, 1, d]).mul(onehotPos))
            .reshape([N * T, d]) as tf.Tensor2D,
      );
      for (let l = layer + 1; l < last; l++) {
        stages.push((x, N) => {
          const { h1 } = fm.attnHalf(l, x, N, T);
          return fm.ffnOut(l, h1, fm.ffnAct(l, h1));
        });
      }
      stages.push((x, N) => {
        // slice, not gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks
        const h1 = fm.attnHalf(last, x, N, T).h1.reshape([N, T, d]).slice([0, pos, 0], [N, 1, d]).reshape([N, d]) as tf.Tensor2D;
        return fm.ffnOut(last, h1, fm.ffnAct(last, h1));
      });
    }
  }

  const head = fm.head;
  const rowsPer = headChunkRows(model, chunkBytes);
  const chunks: [number, number][] = [];
  for (let v0 = 0; v0 < V; v0 += rowsPer) chunks.push([v0, Math.min(V, v0 + rowsPer)]);
  /** logits of vocabulary rows v0..v1 from the head's input z [N, d] (the family's logits, in parts) */
  const chunkLogits = (z: tf.Tensor2D, M: tf.Tensor2D, v0: number, v1: number): tf.Tensor2D => {
    let y: tf.Tensor = matMulW(z, M);
    if (head.bias) y = y.add(store.vec(head.bias).slice([v0], [v1 - v0]));
    if (head.softcap !== undefined) y = tf.tanh(y.div(head.softcap)).mul(head.softcap);
    return y as tf.Tensor2D;
  };

  /** forward through every stage; the inputs of each stage kept (xs[0] = W), the head's input last */
  const forward = (W: tf.Tensor2D) => {
    const N = W.shape[0];
    const xs: tf.Tensor2D[] = [W];
    for (const s of stages) xs.push(tf.tidy(() => s(xs[xs.length - 1], N)));
    return xs;
  };

  /** first head pass: per row, max and Σ exp over the whole vocabulary (float64), and the target's logit */
  const headStats = async (z: tf.Tensor2D) => {
    const N = z.shape[0];
    const lse = new Float64Array(N),
      zy = new Float64Array(N);
    const mx = new Float64Array(N).fill(-Infinity),
      sum = new Float64Array(N);
    for (const [v0, v1] of chunks) {
      const M = store.headColumns(head.matrix, v0, v1);
      const [cm, cs, ct] = tf.tidy(() => {
        const y = chunkLogits(z, M, v0, v1);
        const m = y.max(1, true);
        const s = tf.exp(y.sub(m)).sum(1);
        const t = p.targetId >= v0 && p.targetId < v1 ? y.slice([0, p.targetId - v0], [-1, 1]).reshape([N]) : tf.zeros([N]);
        return [m.reshape([N]), s, t];
      });
      M.dispose();
      const [m, s, t] = (await Promise.all([cm.data(), cs.data(), ct.data()])) as Float32Array[];
      tf.dispose([cm, cs, ct]);
      for (let r = 0; r < N; r++) {
        if (m[r] > mx[r]) {
          sum[r] = sum[r] * Math.exp(mx[r] - m[r]) + s[r];
          mx[r] = m[r];
        } else sum[r] += s[r] * Math.exp(m[r] - mx[r]);
        if (p.targetId >= v0 && p.targetId < v1) zy[r] = t[r];
      }
    }
    const pr = new Float32Array(N);
    for (let r = 0; r < N; r++) {
      lse[r] = mx[r] + Math.log(sum[r]);
      pr[r] = Math.exp(zy[r] - lse[r]);
    }
    return { lse, pr };
  };

  return {
    async gradAndProbs(W, onStage, signal) {
      const N = W.shape[0];
      const total = 2 * stages.length + 2 * chunks.length + 1;
      let done = 0;
      // a batch of a big model runs for minutes: cancelling is checked after every stage and head chunk
      const tick = () => {
        if (signal?.aborted) throw new KnError('cancelled', 'attribution cancelled');
        onStage?.(++done / total);
      };
      const xs: tf.Tensor2D[] = [W];
      try {
        for (const s of stages) {
          xs.push(tf.tidy(() => s(xs[xs.length - 1], N)));
          tick();
        }
        const z = tf.tidy(() => head.pre(xs[xs.length - 1]));
        xs.push(z);
        // one pass over the vocabulary (online, as flash attention's softmax): per row the running max m, the sum
        // S = Σ_v exp(y_v − m) and A = Σ_v exp(y_v − m)·∂y_v/∂z, each rescaled when m grows; the target's logit
        // y_t and ∂y_t/∂z from its chunk. Then P = exp(y_t − m)/S and ∂P/∂z = P·∂y_t/∂z − (P/S)·A.
        let m: tf.Tensor2D = tf.fill([N, 1], -Infinity) as tf.Tensor2D;
        let S: tf.Tensor2D = tf.zeros([N, 1]);
        let A: tf.Tensor2D = tf.zeros([N, d]);
        let yt: tf.Tensor2D | undefined, dyt: tf.Tensor2D | undefined;
        let dz: tf.Tensor2D, prT: tf.Tensor2D;
        try {
          for (const [v0, v1] of chunks) {
            const M = store.headColumns(head.matrix, v0, v1);
            const inChunk = p.targetId >= v0 && p.targetId < v1;
            const next = tf.tidy(() => {
              const y = chunkLogits(z, M, v0, v1);
              // ∂y/∂x of the softcap (1 where there is none): 1 − (y/cap)²
              const dcap = (t: tf.Tensor) => (head.softcap === undefined ? null : tf.sub(1, t.div(head.softcap).square()));
              const mNew = tf.maximum(m, y.max(1, true));
              const scale = tf.exp(m.sub(mNew));
              let G: tf.Tensor = tf.exp(y.sub(mNew));
              const Snew = S.mul(scale).add(G.sum(1, true));
              const dc = dcap(y);
              if (dc) G = G.mul(dc);
              // Gᵀ-weighted columns of M: (M·Gᵀ)ᵀ, no transposed operand (slow on wasm)
              const Anew = A.mul(scale).add(tf.matMul(M, G.transpose()).transpose());
              const out: tf.Tensor[] = [mNew, Snew, Anew];
              if (inChunk) {
                const j = p.targetId - v0;
                const y1 = y.slice([0, j], [-1, 1]);
                const col = M.slice([0, j], [-1, 1]).reshape([1, d]);
                const d1 = dcap(y1);
                out.push(y1, d1 ? col.mul(d1) : col.tile([N, 1]));
              }
              return out;
            });
            M.dispose();
            tf.dispose([m, S, A]);
            [m, S, A] = next as tf.Tensor2D[];
            if (inChunk) [yt, dyt] = next.slice(3) as tf.Tensor2D[];
            tick();
            tick();
          }
          [dz, prT] = tf.tidy(() => {
            const P = tf.exp(yt!.sub(m)).div(S);
            return [P.mul(dyt!).sub(P.div(S).mul(A)) as tf.Tensor2D, P as tf.Tensor2D];
          });
        } finally {
          tf.dispose([m, S, A, ...(yt ? [yt, dyt!] : [])]);
        }
        const pr = (await prT.data()) as Float32Array;
        prT.dispose();
        // backward: the head's input transform, then each stage recomputed from its kept input
        let dy = tf.tidy(() => tf.grad((x: tf.Tensor) => head.pre(x as tf.Tensor2D))(xs[stages.length], dz) as tf.Tensor2D);
        dz.dispose();
        try {
          tick();
          for (let s = stages.length - 1; s >= 0; s--) {
            const stage = stages[s];
            const next = tf.tidy(() => tf.grad((x: tf.Tensor) => stage(x as tf.Tensor2D, N))(xs[s], dy) as tf.Tensor2D);
            dy.dispose();
            dy = next;
            tick();
          }
          return { g: (await dy.data()) as Float32Array, pr };
        } finally {
          dy.dispose();
        }
      } finally {
        tf.dispose(xs.slice(1));
      }
    },
    async probs(W) {
      const xs = forward(W);
      try {
        const z = tf.tidy(() => head.pre(xs[xs.length - 1]));
        xs.push(z);
        return (await headStats(z)).pr;
      } finally {
        tf.dispose(xs.slice(1));
      }
    },
    dispose() {
      tf.dispose(kept);
    },
  };
}

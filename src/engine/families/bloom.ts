/**
 * BloomForCausalLM (BLOOM, mGPT-style multilingual decoders from BigScience): LayerNorm after the word
 * embeddings, pre-LN blocks, fused query_key_value (per head [q, k, v] interleaved, as HF's
 * `view(B, T, H, 3, dh)`), ALiBi position biases (no position embeddings), tanh-approximated GELU, head
 * tied to the word embeddings. Neuron: gelu(dense_h_to_4h(ln(h1))), the input of mlp.dense_4h_to_h.
 *
 * ALiBi adds slope_h · j to the score of query i against key j (HF build_alibi_tensor; constant in i, so
 * only j matters under the softmax). It is folded into the attention as one extra dimension: queries get
 * slope_h / scale, keys get their absolute position j, values a zero. The shared attention code (and its
 * cached-prefix fast path) then computes exactly q·k·scale + slope_h·j.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { StoredTensor, WeightStore } from '../weights/weights';
import { layerNormTensors, linearTensors, mhaConfig, num, positiveInt, type ArchConfig, type AttnOptions, type FamilyDef, type FamilyModel } from './family';
import { attend, attendWithPast, causalMask, extendKv, geluTanh, layerNorm, linear, matMulW, mergeHeads } from './ops';

function parseConfig(raw: Record<string, unknown>): ArchConfig {
  const hidden = positiveInt(raw, ['hidden_size', 'n_embed']);
  const heads = positiveInt(raw, ['n_head', 'num_attention_heads']);
  return mhaConfig(raw, {
    numLayers: positiveInt(raw, ['n_layer', 'num_hidden_layers']),
    hidden,
    ffn: 4 * hidden,
    vocab: positiveInt(raw, 'vocab_size'),
    // ALiBi has no position table; BLOOM was trained on 2048 tokens
    maxPositions: positiveInt(raw, ['seq_length', 'max_position_embeddings'], 2048),
    heads,
    eps: num(raw, 'layer_norm_epsilon', 1e-5),
  });
}

/** HF's ALiBi slopes: a geometric sequence for the largest power of two ≤ H, then every other slope of 2H. */
export function alibiSlopes(H: number): number[] {
  const p2 = 2 ** Math.floor(Math.log2(H));
  const base = 2 ** -(2 ** -(Math.log2(p2) - 3));
  const s = Array.from({ length: p2 }, (_, i) => base ** (i + 1));
  if (p2 !== H) {
    const extra = 2 ** -(2 ** -(Math.log2(2 * p2) - 3));
    const n = Math.min(p2, H - p2);
    for (let i = 0; i < n; i++) s.push(extra ** (2 * i + 1));
  }
  return s.map((v) => Math.fround(v));
}

export const bloom: FamilyDef = {
  key: 'bloom',
  architectures: ['BloomForCausalLM'],
  kind: 'causal',
  neuron: 'gelu(dense_h_to_4h(ln(h1))): the input of mlp.dense_4h_to_h',
  parseConfig,
  canonical(n) {
    const s = n.startsWith('transformer.') ? n.slice('transformer.'.length) : n;
    if (s === 'lm_head.weight') return null; // tied to the word embeddings
    return s;
  },
  expected(c) {
    const d = c.hidden,
      F = c.ffn;
    const t: StoredTensor[] = [
      { name: 'word_embeddings.weight', shape: [c.vocab, d], group: 'embed', axis: 0 },
      ...layerNormTensors('word_embeddings_layernorm', d, 'embed'),
      ...layerNormTensors('ln_f', d, 'head'),
    ];
    for (let l = 0; l < c.numLayers; l++) {
      const p = `h.${l}.`,
        g = `layer.${l}`;
      t.push(
        ...layerNormTensors(`${p}input_layernorm`, d, g),
        ...linearTensors(`${p}self_attention.query_key_value`, 3 * d, d, g),
        ...linearTensors(`${p}self_attention.dense`, d, d, g),
        ...layerNormTensors(`${p}post_attention_layernorm`, d, g),
        ...linearTensors(`${p}mlp.dense_h_to_4h`, F, d, g),
        ...linearTensors(`${p}mlp.dense_4h_to_h`, d, F, g),
      );
    }
    return t;
  },
  outWeight: (l) => ({ name: `h.${l}.mlp.dense_4h_to_h.weight`, neuronAxis: 1 }),
  create(c, w: WeightStore): FamilyModel {
    const H = c.heads,
      dh = c.headDim;
    const scale = 1 / Math.sqrt(dh);
    const postLnResidual = c.raw.apply_residual_connection_post_layernorm === true;
    const slopes = alibiSlopes(H);
    const ln = (x: tf.Tensor2D, p: string) => layerNorm(x, w.vec(p + '.weight'), w.vec(p + '.bias'), c.eps);
    /** [B*T, H*3*dh] fused → q, k, v as [B, H, T, dh], with the ALiBi column on q and k (and a zero on v) */
    const heads = (qkv: tf.Tensor2D, B: number, T: number, offset: number) => {
      const x = qkv.reshape([B, T, H, 3, dh]).transpose([3, 0, 2, 1, 4]); // [3, B, H, T, dh]
      const [q, k, v] = tf.split(x, 3, 0).map((t) => t.reshape([B, H, T, dh]) as tf.Tensor4D);
      const qs = tf
        .tensor1d(slopes.map((s) => s / scale))
        .reshape([1, H, 1, 1])
        .tile([B, 1, T, 1]);
      const pos = tf
        .range(offset, offset + T, 1, 'float32')
        .reshape([1, 1, T, 1])
        .tile([B, H, 1, 1]);
      return {
        q: tf.concat([q, qs], 3) as tf.Tensor4D,
        k: tf.concat([k, pos], 3) as tf.Tensor4D,
        v: tf.concat([v, tf.zeros([B, H, T, 1])], 3) as tf.Tensor4D,
      };
    };
    return {
      embed(ids, offset = 0) {
        const T = ids[0].length;
        if (offset + T > c.maxPositions) throw new KnError('bad-input', `the prompt has ${offset + T} tokens; the model's context is ${c.maxPositions}`);
        return tf.tidy(() => ln(w.rows('word_embeddings.weight', ids.flat()), 'word_embeddings_layernorm'));
      },
      attnHalf(l, h, B, T, o: AttnOptions = {}) {
        const p = `h.${l}.`;
        const res = tf.tidy(() => {
          const x = ln(h, p + 'input_layernorm');
          const residual = postLnResidual ? x : h;
          const qkv = linear(x, w.mat(p + 'self_attention.query_key_value.weight'), w.vec(p + 'self_attention.query_key_value.bias'));
          const { q, k, v } = heads(qkv, B, T, o.offset ?? 0);
          const out = (att: tf.Tensor4D) => {
            const merged = mergeHeads(att.slice([0, 0, 0, 0], [-1, -1, -1, dh]) as tf.Tensor4D);
            return residual.add(linear(merged, w.mat(p + 'self_attention.dense.weight'), w.vec(p + 'self_attention.dense.bias'))) as tf.Tensor2D;
          };
          if (o.past && !o.wantKv) return { h1: out(attendWithPast(q, k, v, o.past, scale)) };
          const K = extendKv(o.past?.k, k);
          const V = extendKv(o.past?.v, v);
          const h1 = out(attend(q, K, V, scale, causalMask(T, K.shape[2], o.offset ?? 0)));
          return o.wantKv ? { h1, k: K, v: V } : { h1 };
        });
        return { h1: res.h1, kv: 'k' in res ? { k: res.k as tf.Tensor4D, v: res.v as tf.Tensor4D } : undefined };
      },
      ffnAct(l, h1) {
        const p = `h.${l}.`;
        return tf.tidy(
          () =>
            geluTanh(linear(ln(h1, p + 'post_attention_layernorm'), w.mat(p + 'mlp.dense_h_to_4h.weight'), w.vec(p + 'mlp.dense_h_to_4h.bias'))) as tf.Tensor2D,
        );
      },
      ffnOut(l, h1, a) {
        const p = `h.${l}.`;
        return tf.tidy(() => {
          const residual = postLnResidual ? ln(h1, p + 'post_attention_layernorm') : h1;
          return residual.add(linear(a, w.mat(p + 'mlp.dense_4h_to_h.weight'), w.vec(p + 'mlp.dense_4h_to_h.bias'))) as tf.Tensor2D;
        });
      },
      logits(h) {
        return tf.tidy(() => matMulW(ln(h, 'ln_f'), w.mat('word_embeddings.weight')));
      },
      head: { pre: (h) => ln(h, 'ln_f'), matrix: 'word_embeddings.weight' },
    };
  },
};

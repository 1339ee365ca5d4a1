/**
 * GPT2LMHeadModel (GPT-2, mGPT). Neuron: act(ln_2(h1)·W_fc + b_fc), the input of mlp.c_proj; act is HF's
 * activation_function: gelu_new (default) / gelu_pytorch_tanh / gelu_fast (tanh approximation), gelu (erf), relu.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { StoredTensor, WeightStore } from '../weights/weights';
import { conv1dTensors, layerNormTensors, mhaConfig, num, positiveInt, type ArchConfig, type AttnOptions, type FamilyDef, type FamilyModel } from './family';
import {
  attend,
  attendWithPast,
  causalMask,
  extendKv,
  geluErf,
  geluTanh,
  layerNorm,
  linear,
  matMulW,
  mergeHeads,
  relu,
  splitHeads,
  tokenAndPosition,
} from './ops';

function parseConfig(raw: Record<string, unknown>): ArchConfig {
  const hidden = positiveInt(raw, ['n_embd', 'hidden_size']);
  const heads = positiveInt(raw, ['n_head', 'num_attention_heads']);
  const act = (raw.activation_function as string | undefined) ?? 'gelu_new';
  if (!['gelu_new', 'gelu', 'gelu_pytorch_tanh', 'gelu_fast', 'relu'].includes(act)) {
    throw new KnError('bad-config', `config.json: activation_function "${act}" is not supported for GPT-2 (gelu_new, gelu, relu)`);
  }
  return mhaConfig(raw, {
    numLayers: positiveInt(raw, ['n_layer', 'num_hidden_layers']),
    hidden,
    ffn: raw.n_inner == null ? 4 * hidden : positiveInt(raw, 'n_inner'),
    vocab: positiveInt(raw, 'vocab_size'),
    maxPositions: positiveInt(raw, ['n_positions', 'n_ctx', 'max_position_embeddings']),
    heads,
    eps: num(raw, 'layer_norm_epsilon', 1e-5),
  });
}

export const gpt2: FamilyDef = {
  key: 'gpt2',
  architectures: ['GPT2LMHeadModel', 'GPT2Model'],
  kind: 'causal',
  neuron: 'act(ln_2(h)·W_fc + b_fc): the input of mlp.c_proj (after the activation, GELU or ReLU)',
  parseConfig,
  canonical(n) {
    const s = n.startsWith('transformer.') ? n.slice('transformer.'.length) : n;
    if (/\.attn\.(masked_)?bias$/.test(s) || s === 'lm_head.weight') return null;
    return s;
  },
  expected(c) {
    const d = c.hidden,
      F = c.ffn;
    const t: StoredTensor[] = [
      { name: 'wte.weight', shape: [c.vocab, d], group: 'embed', axis: 0 },
      { name: 'wpe.weight', shape: [c.maxPositions, d], group: 'embed', axis: 0 },
      ...layerNormTensors('ln_f', d, 'head'),
    ];
    for (let l = 0; l < c.numLayers; l++) {
      const p = `h.${l}.`,
        g = `layer.${l}`;
      t.push(
        ...layerNormTensors(`${p}ln_1`, d, g),
        ...conv1dTensors(`${p}attn.c_attn`, d, 3 * d, g),
        ...conv1dTensors(`${p}attn.c_proj`, d, d, g),
        ...layerNormTensors(`${p}ln_2`, d, g),
        ...conv1dTensors(`${p}mlp.c_fc`, d, F, g),
        ...conv1dTensors(`${p}mlp.c_proj`, F, d, g),
      );
    }
    return t;
  },
  outWeight: (l) => ({ name: `h.${l}.mlp.c_proj.weight`, neuronAxis: 0 }),
  create(c, w: WeightStore): FamilyModel {
    const name = (c.raw.activation_function as string | undefined) ?? 'gelu_new';
    const act = name === 'gelu' ? geluErf : name === 'relu' ? relu : geluTanh;
    const byLayerIdx = c.raw.scale_attn_by_inverse_layer_idx === true;
    return {
      embed(ids, offset = 0) {
        return tf.tidy(() => tokenAndPosition(w, { tokens: 'wte.weight', positions: 'wpe.weight' }, ids, offset, c).reshape([-1, c.hidden]) as tf.Tensor2D);
      },
      attnHalf(l, h, B, T, o: AttnOptions = {}) {
        const p = `h.${l}.`;
        const res = tf.tidy(() => {
          const x = layerNorm(h, w.vec(p + 'ln_1.weight'), w.vec(p + 'ln_1.bias'), c.eps);
          const qkv = linear(x, w.mat(p + 'attn.c_attn.weight'), w.vec(p + 'attn.c_attn.bias'));
          const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[];
          const H = c.heads,
            dh = c.headDim;
          const scale = 1 / Math.sqrt(dh) / (byLayerIdx ? l + 1 : 1);
          const qh = splitHeads(q, B, T, H, dh),
            kh = splitHeads(k, B, T, H, dh),
            vh = splitHeads(v, B, T, H, dh);
          if (o.past && !o.wantKv) {
            const out = mergeHeads(attendWithPast(qh, kh, vh, o.past, scale));
            return { h1: h.add(linear(out, w.mat(p + 'attn.c_proj.weight'), w.vec(p + 'attn.c_proj.bias'))) as tf.Tensor2D };
          }
          const K = extendKv(o.past?.k, kh);
          const V = extendKv(o.past?.v, vh);
          const out = mergeHeads(attend(qh, K, V, scale, causalMask(T, K.shape[2], o.offset ?? 0)));
          const h1 = h.add(linear(out, w.mat(p + 'attn.c_proj.weight'), w.vec(p + 'attn.c_proj.bias'))) as tf.Tensor2D;
          return o.wantKv ? { h1, k: K, v: V } : { h1 };
        });
        return { h1: res.h1, kv: 'k' in res ? { k: res.k as tf.Tensor4D, v: res.v as tf.Tensor4D } : undefined };
      },
      ffnAct(l, h1) {
        const p = `h.${l}.`;
        return tf.tidy(() => {
          const x = layerNorm(h1, w.vec(p + 'ln_2.weight'), w.vec(p + 'ln_2.bias'), c.eps);
          return act(linear(x, w.mat(p + 'mlp.c_fc.weight'), w.vec(p + 'mlp.c_fc.bias'))) as tf.Tensor2D;
        });
      },
      ffnOut(l, h1, a) {
        const p = `h.${l}.`;
        return tf.tidy(() => h1.add(linear(a, w.mat(p + 'mlp.c_proj.weight'), w.vec(p + 'mlp.c_proj.bias'))) as tf.Tensor2D);
      },
      logits(h) {
        return tf.tidy(() => matMulW(layerNorm(h, w.vec('ln_f.weight'), w.vec('ln_f.bias'), c.eps), w.mat('wte.weight')));
      },
      head: { pre: (h) => layerNorm(h, w.vec('ln_f.weight'), w.vec('ln_f.bias'), c.eps), matrix: 'wte.weight' },
    };
  },
};

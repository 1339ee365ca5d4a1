/**
 * Gemma2ForCausalLM and Gemma3ForCausalLM (text): RMSNorm with (1 + w), embeddings scaled by √d, sandwich
 * norms (post-attention and pre/post-feed-forward norms), grouped-query attention scaled by
 * query_pre_attn_scalar^-½, rotary positions (Gemma 3: one rope for sliding layers, another for full
 * ones), sliding-window layers (key j visible from query i when i − W < j ≤ i), soft-capping of the
 * attention scores and of the final logits where the config has it (tanh(x / c) · c), Gemma 3's q/k
 * RMSNorm, tied head. Neuron: gelu_tanh(x·W_gate) ⊙ (x·W_up), the input of mlp.down_proj.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { WeightStore } from '../weights/weights';
import * as hf from './decoder-layout';
import { checkHeads, num, positiveInt, type ArchConfig, type AttnOptions, type FamilyDef, type FamilyModel } from './family';
import { ropeInvFreq } from './llama';
import { applyRope, extendKv, geluErf, geluTanh, linear, matMulW, mergeHeads, rmsNorm, ropeTables, splitHeads } from './ops';

type LayerType = 'sliding_attention' | 'full_attention';

function isGemma3(raw: Record<string, unknown>) {
  const a = (raw.architectures as string[] | undefined)?.[0] ?? '';
  return a.startsWith('Gemma3') || raw.model_type === 'gemma3_text';
}

function parseConfig(raw: Record<string, unknown>): ArchConfig {
  if (raw.text_config) throw new KnError('bad-config', 'config.json: a multimodal Gemma 3 config (text_config); use a Gemma3ForCausalLM text checkpoint');
  const hidden = positiveInt(raw, 'hidden_size');
  const heads = positiveInt(raw, 'num_attention_heads');
  const kvHeads = positiveInt(raw, 'num_key_value_heads', heads);
  if (heads % kvHeads !== 0) checkHeads(heads, heads, kvHeads);
  const headDim = raw.head_dim == null ? hidden / heads : positiveInt(raw, 'head_dim');
  if (!Number.isInteger(headDim) || headDim % 2)
    throw new KnError('bad-config', `config.json: head_dim ${headDim} must be an even integer for rotary embeddings`);
  const act = (raw.hidden_activation ?? raw.hidden_act ?? 'gelu_pytorch_tanh') as string;
  if (!['gelu_pytorch_tanh', 'gelu_new', 'gelu'].includes(act))
    throw new KnError('bad-config', `config.json: hidden_activation "${act}" is not supported (gelu_pytorch_tanh)`);
  const numLayers = positiveInt(raw, 'num_hidden_layers');
  const cfg: ArchConfig = {
    numLayers,
    hidden,
    ffn: positiveInt(raw, 'intermediate_size'),
    vocab: positiveInt(raw, 'vocab_size'),
    maxPositions: positiveInt(raw, 'max_position_embeddings', 8192),
    heads,
    kvHeads,
    headDim,
    eps: num(raw, 'rms_norm_eps', 1e-6),
    raw,
  };
  for (let l = 0; l < numLayers; l++) ropeInvFreq(ropeRaw(raw, layerType(raw, l)), headDim, layerType(raw, l)); // validates the ropes
  return cfg;
}

/** the attention kind of layer l: layer_types, else the legacy patterns (Gemma 2 alternates, Gemma 3 has 5 sliding : 1 full) */
export function layerType(raw: Record<string, unknown>, l: number): LayerType {
  if (raw.sliding_window == null) return 'full_attention';
  const types = raw.layer_types as string[] | undefined;
  if (Array.isArray(types)) {
    const t = types[l];
    if (t !== 'sliding_attention' && t !== 'full_attention')
      throw new KnError('bad-config', `config.json: layer_types[${l}] "${t}" is not supported (sliding_attention, full_attention)`);
    return t;
  }
  const pattern = isGemma3(raw) ? num(raw, 'sliding_window_pattern', 6) : 2;
  return (l + 1) % pattern ? 'sliding_attention' : 'full_attention';
}

/** config fields of the rope of a layer type, in the form ropeInvFreq reads (rope_parameters or legacy keys) */
function ropeRaw(raw: Record<string, unknown>, t: LayerType): Record<string, unknown> {
  if (raw.rope_parameters || !isGemma3(raw)) return raw;
  // legacy Gemma 3: rope_theta (+ rope_scaling) for full layers, rope_local_base_freq for sliding ones
  if (t === 'sliding_attention') return { rope_theta: num(raw, 'rope_local_base_freq', 10000) };
  return { rope_theta: num(raw, 'rope_theta', 1e6), rope_scaling: raw.rope_scaling };
}

const maskCache = new Map<string, Float32Array>();
/** additive mask [Tq, Tk]: query i (absolute offset + i) sees keys j ≤ offset + i, and within the window when there is one */
function windowMask(Tq: number, Tk: number, offset: number, window?: number): tf.Tensor2D {
  const key = `${Tq}:${Tk}:${offset}:${window ?? 0}`;
  let m = maskCache.get(key);
  if (!m) {
    m = new Float32Array(Tq * Tk);
    for (let i = 0; i < Tq; i++) {
      for (let j = 0; j < Tk; j++) {
        const qi = offset + i;
        m[i * Tk + j] = j <= qi && (window === undefined || j > qi - window) ? 0 : -1e9;
      }
    }
    if (maskCache.size > 64) maskCache.clear();
    maskCache.set(key, m);
  }
  return tf.tensor2d(m, [Tq, Tk]);
}

export const gemma: FamilyDef = {
  key: 'gemma',
  architectures: ['Gemma2ForCausalLM', 'Gemma3ForCausalLM'],
  kind: 'causal',
  neuron: 'gelu_tanh(x·W_gate) ⊙ (x·W_up): the input of mlp.down_proj',
  parseConfig,
  canonical: hf.canonical,
  expected(c) {
    const bias = c.raw.attention_bias === true;
    const t = hf.ends(c, tied(c));
    for (let l = 0; l < c.numLayers; l++) {
      const p = `layers.${l}.`,
        g = `layer.${l}`;
      for (const n of ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']) {
        t.push({ name: `${p}${n}.weight`, shape: [c.hidden], group: g });
      }
      t.push(...hf.attnProjections(c, p, g), ...hf.gatedMlp(c, p, g));
      if (bias) t.push(...hf.attnBiases(c, p, g, true));
      if (isGemma3(c.raw)) t.push(...hf.qkNorms(c, p, g));
    }
    return t;
  },
  outWeight: (l) => ({ name: `layers.${l}.mlp.down_proj.weight`, neuronAxis: 1 }),
  create(c, w: WeightStore): FamilyModel {
    const act = ((c.raw.hidden_activation ?? c.raw.hidden_act) as string) === 'gelu' ? geluErf : geluTanh;
    const scale = Math.pow(num(c.raw, 'query_pre_attn_scalar', c.headDim), -0.5);
    const attnCap = c.raw.attn_logit_softcapping == null ? undefined : num(c.raw, 'attn_logit_softcapping');
    const finalCap = c.raw.final_logit_softcapping == null ? undefined : num(c.raw, 'final_logit_softcapping');
    const window = c.raw.sliding_window == null ? undefined : positiveInt(c.raw, 'sliding_window');
    const embedScale = Math.fround(Math.sqrt(c.hidden));
    const types = Array.from({ length: c.numLayers }, (_, l) => layerType(c.raw, l));
    const invFreq = new Map<LayerType, Float64Array>();
    for (const t of new Set(types)) invFreq.set(t, ropeInvFreq(ropeRaw(c.raw, t), c.headDim, t));
    const rope = (t: LayerType, T: number, offset: number) => {
      const inv = invFreq.get(t)!;
      const { cos, sin } = ropeTables(inv, c.headDim, T, offset);
      return { cos: tf.tensor2d(cos, [T, c.headDim]), sin: tf.tensor2d(sin, [T, c.headDim]) };
    };
    const norm = (x: tf.Tensor2D, name: string) => rmsNorm(x, w.vec(name).add(1) as tf.Tensor1D, c.eps);
    const headNorm = (x: tf.Tensor4D, name: string): tf.Tensor4D => {
      if (!w.has(name)) return x;
      const [B, H, T, dh] = x.shape;
      return norm(x.reshape([B * H * T, dh]) as tf.Tensor2D, name).reshape([B, H, T, dh]) as tf.Tensor4D;
    };
    const softcap = (x: tf.Tensor, cap: number) => tf.tanh(x.div(cap)).mul(cap);
    const headName = tied(c) ? 'embed_tokens.weight' : 'lm_head.weight';
    return {
      embed(ids, offset = 0) {
        const T = ids[0].length;
        if (offset + T > c.maxPositions) throw new KnError('bad-input', `the prompt has ${offset + T} tokens; the model's context is ${c.maxPositions}`);
        return tf.tidy(() => w.rows('embed_tokens.weight', ids.flat()).mul(embedScale) as tf.Tensor2D);
      },
      attnHalf(l, h, B, T, o: AttnOptions = {}) {
        const p = `layers.${l}.self_attn.`;
        const offset = o.offset ?? 0;
        const res = tf.tidy(() => {
          const x = norm(h, `layers.${l}.input_layernorm.weight`);
          const b = (n: string) => (w.has(p + n + '.bias') ? w.vec(p + n + '.bias') : undefined);
          const q = linear(x, w.mat(p + 'q_proj.weight'), b('q_proj'));
          const k = linear(x, w.mat(p + 'k_proj.weight'), b('k_proj'));
          const v = linear(x, w.mat(p + 'v_proj.weight'), b('v_proj'));
          const { cos, sin } = rope(types[l], T, offset);
          const qh = applyRope(headNorm(splitHeads(q, B, T, c.heads, c.headDim), p + 'q_norm.weight'), cos, sin);
          const kh = applyRope(headNorm(splitHeads(k, B, T, c.kvHeads, c.headDim), p + 'k_norm.weight'), cos, sin);
          const vh = splitHeads(v, B, T, c.kvHeads, c.headDim);
          const K = extendKv(o.past?.k, kh);
          const V = extendKv(o.past?.v, vh);
          // scores [B, Hkv, rep·T, Tk] (query heads sharing a key/value head folded into the query axis)
          const rep = c.heads / c.kvHeads,
            Tk = K.shape[2];
          const qg = qh.reshape([B, c.kvHeads, rep * T, c.headDim]);
          let s = tf.matMul(qg, K, false, true).mul(scale);
          if (attnCap !== undefined) s = softcap(s, attnCap);
          const mask = windowMask(T, Tk, offset, types[l] === 'sliding_attention' ? window : undefined);
          s = s.add(rep === 1 ? mask : mask.tile([rep, 1]));
          const att = tf.matMul(tf.softmax(s, -1), V).reshape([B, c.heads, T, c.headDim]) as tf.Tensor4D;
          const out = linear(mergeHeads(att), w.mat(p + 'o_proj.weight'), b('o_proj'));
          const h1 = h.add(norm(out, `layers.${l}.post_attention_layernorm.weight`)) as tf.Tensor2D;
          return o.wantKv ? { h1, k: K, v: V } : { h1 };
        });
        return { h1: res.h1, kv: 'k' in res ? { k: res.k as tf.Tensor4D, v: res.v as tf.Tensor4D } : undefined };
      },
      ffnAct(l, h1) {
        const p = `layers.${l}.`;
        return tf.tidy(() => {
          const x = norm(h1, p + 'pre_feedforward_layernorm.weight');
          return act(linear(x, w.mat(p + 'mlp.gate_proj.weight'))).mul(linear(x, w.mat(p + 'mlp.up_proj.weight'))) as tf.Tensor2D;
        });
      },
      ffnOut(l, h1, a) {
        const p = `layers.${l}.`;
        return tf.tidy(() => h1.add(norm(linear(a, w.mat(p + 'mlp.down_proj.weight')), p + 'post_feedforward_layernorm.weight')) as tf.Tensor2D);
      },
      logits(h) {
        return tf.tidy(() => {
          const z = matMulW(norm(h, 'norm.weight'), w.mat(headName));
          return (finalCap === undefined ? z : softcap(z, finalCap)) as tf.Tensor2D;
        });
      },
      head: { pre: (h) => norm(h, 'norm.weight'), matrix: headName, softcap: finalCap },
    };
  },
};

function tied(c: ArchConfig): boolean {
  const t = c.raw.tie_word_embeddings;
  return typeof t === 'boolean' ? t : true; // Gemma2Config and Gemma3TextConfig default to tied
}

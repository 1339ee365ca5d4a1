/**
 * LlamaForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM: RMSNorm, rotary positions (rotate_half convention, optional
 * linear / llama3 rope scaling), grouped-query attention, q/k/v biases (Qwen2, or Llama attention_bias),
 * tied or untied head; Qwen3 adds an RMSNorm of each query and key head before the rotary embedding
 * (q_norm, k_norm). Neuron: silu(x·W_gate) ⊙ (x·W_up), the input of down_proj.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { WeightStore } from '../weights/weights';
import * as hf from './decoder-layout';
import { checkHeads, num, positiveInt, type ArchConfig, type AttnOptions, type FamilyDef, type FamilyModel } from './family';
import { applyRope, attend, attendWithPast, causalMask, extendKv, linear, matMulW, mergeHeads, rmsNorm, ropeTables, silu, splitHeads } from './ops';

function isQwen(raw: Record<string, unknown>) {
  const a = (raw.architectures as string[] | undefined)?.[0] ?? '';
  return a.startsWith('Qwen2') || raw.model_type === 'qwen2';
}

function isQwen3(raw: Record<string, unknown>) {
  const a = (raw.architectures as string[] | undefined)?.[0] ?? '';
  return a.startsWith('Qwen3') || raw.model_type === 'qwen3';
}

function parseConfig(raw: Record<string, unknown>): ArchConfig {
  const hidden = positiveInt(raw, 'hidden_size');
  const heads = positiveInt(raw, 'num_attention_heads');
  const kvHeads = positiveInt(raw, 'num_key_value_heads', heads);
  checkHeads(hidden, heads, kvHeads);
  const headDim = raw.head_dim == null ? hidden / heads : positiveInt(raw, 'head_dim');
  if (headDim % 2) throw new KnError('bad-config', `config.json: head_dim ${headDim} must be even for rotary embeddings`);
  const act = (raw.hidden_act as string | undefined) ?? 'silu';
  if (act !== 'silu') throw new KnError('bad-config', `config.json: hidden_act "${act}" is not supported (silu)`);
  ropeInvFreq(raw, headDim); // validates rope_scaling
  return {
    numLayers: positiveInt(raw, 'num_hidden_layers'),
    hidden,
    ffn: positiveInt(raw, 'intermediate_size'),
    vocab: positiveInt(raw, 'vocab_size'),
    maxPositions: positiveInt(raw, 'max_position_embeddings', 2048),
    heads,
    kvHeads,
    headDim,
    eps: num(raw, 'rms_norm_eps', 1e-6),
    raw,
  };
}

/** inv_freq of the rotary embedding, with HF's linear and llama3 rope scaling rules. */
export function ropeInvFreq(raw: Record<string, unknown>, dh: number, layerType?: string): Float64Array {
  // transformers ≥ 5 writes `rope_parameters` ({rope_type, rope_theta, factor, …}, or one such object per
  // layer type for Gemma 3); older configs have `rope_theta` and `rope_scaling`
  let rp = raw.rope_parameters as Record<string, unknown> | null | undefined;
  if (rp && layerType && rp[layerType] && typeof rp[layerType] === 'object') rp = rp[layerType] as Record<string, unknown>;
  const theta = rp ? num(rp, 'rope_theta', num(raw, 'rope_theta', 10000)) : num(raw, 'rope_theta', 10000);
  const inv = new Float64Array(dh / 2);
  for (let i = 0; i < dh / 2; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / dh);
  const rs = (rp ?? raw.rope_scaling) as Record<string, unknown> | null | undefined;
  if (!rs) return inv;
  const type = (rs.rope_type ?? rs.type ?? 'default') as string;
  if (type === 'default') return inv;
  const factor = num(rs, 'factor');
  if (type === 'linear') return inv.map((f) => f / factor);
  if (type === 'llama3') {
    const low = num(rs, 'low_freq_factor'),
      high = num(rs, 'high_freq_factor');
    const old = num(rs, 'original_max_position_embeddings');
    const lowWave = old / low,
      highWave = old / high;
    return inv.map((f) => {
      const wave = (2 * Math.PI) / f;
      if (wave < highWave) return f;
      if (wave > lowWave) return f / factor;
      const smooth = (old / wave - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new KnError('bad-config', `config.json: rope_scaling type "${type}" is not supported (default, linear, llama3)`);
}

export const llama: FamilyDef = {
  key: 'llama',
  architectures: ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM'],
  kind: 'causal',
  neuron: 'silu(x·W_gate) ⊙ (x·W_up): the input of mlp.down_proj',
  parseConfig,
  canonical: hf.canonical,
  expected(c) {
    const qkvBias = isQwen(c.raw) || c.raw.attention_bias === true;
    const oBias = !isQwen(c.raw) && c.raw.attention_bias === true;
    const t = hf.ends(c, tied(c));
    for (let l = 0; l < c.numLayers; l++) {
      const p = `layers.${l}.`,
        g = `layer.${l}`;
      t.push(
        { name: p + 'input_layernorm.weight', shape: [c.hidden], group: g },
        ...hf.attnProjections(c, p, g),
        { name: p + 'post_attention_layernorm.weight', shape: [c.hidden], group: g },
        ...hf.gatedMlp(c, p, g),
      );
      if (qkvBias) t.push(...hf.attnBiases(c, p, g, false));
      if (oBias) t.push({ name: p + 'self_attn.o_proj.bias', shape: [c.hidden], group: g });
      if (isQwen3(c.raw)) t.push(...hf.qkNorms(c, p, g));
    }
    return t;
  },
  outWeight: (l) => ({ name: `layers.${l}.mlp.down_proj.weight`, neuronAxis: 1 }),
  create(c, w: WeightStore): FamilyModel {
    const inv = ropeInvFreq(c.raw, c.headDim);
    const ropeCache = new Map<string, { cos: Float32Array; sin: Float32Array }>();
    const rope = (T: number, offset: number) => {
      const key = `${T}:${offset}`;
      let r = ropeCache.get(key);
      if (!r) {
        r = ropeTables(inv, c.headDim, T, offset);
        if (ropeCache.size > 64) ropeCache.clear();
        ropeCache.set(key, r);
      }
      return { cos: tf.tensor2d(r.cos, [T, c.headDim]), sin: tf.tensor2d(r.sin, [T, c.headDim]) };
    };
    const has = (n: string) => w.has(n);
    // Qwen3: RMSNorm over each head's dimensions (q_norm / k_norm), before the rotary embedding
    const headNorm = (x: tf.Tensor4D, name: string): tf.Tensor4D => {
      if (!has(name)) return x;
      const [B, H, T, dh] = x.shape;
      return rmsNorm(x.reshape([B * H * T, dh]) as tf.Tensor2D, w.vec(name), c.eps).reshape([B, H, T, dh]) as tf.Tensor4D;
    };
    const headName = tied(c) ? 'embed_tokens.weight' : 'lm_head.weight';
    return {
      embed(ids, offset = 0) {
        const T = ids[0].length;
        if (offset + T > c.maxPositions) throw new KnError('bad-input', `the prompt has ${offset + T} tokens; the model's context is ${c.maxPositions}`);
        return w.rows('embed_tokens.weight', ids.flat());
      },
      attnHalf(l, h, B, T, o: AttnOptions = {}) {
        const p = `layers.${l}.self_attn.`;
        const res = tf.tidy(() => {
          const x = rmsNorm(h, w.vec(`layers.${l}.input_layernorm.weight`), c.eps);
          const b = (n: string) => (has(p + n + '.bias') ? w.vec(p + n + '.bias') : undefined);
          const q = linear(x, w.mat(p + 'q_proj.weight'), b('q_proj'));
          const k = linear(x, w.mat(p + 'k_proj.weight'), b('k_proj'));
          const v = linear(x, w.mat(p + 'v_proj.weight'), b('v_proj'));
          const { cos, sin } = rope(T, o.offset ?? 0);
          const qh = applyRope(headNorm(splitHeads(q, B, T, c.heads, c.headDim), p + 'q_norm.weight'), cos, sin);
          const kh = applyRope(headNorm(splitHeads(k, B, T, c.kvHeads, c.headDim), p + 'k_norm.weight'), cos, sin);
          const vh = splitHeads(v, B, T, c.kvHeads, c.headDim);
          const scale = 1 / Math.sqrt(c.headDim);
          if (o.past && !o.wantKv) {
            const out = linear(mergeHeads(attendWithPast(qh, kh, vh, o.past, scale)), w.mat(p + 'o_proj.weight'), b('o_proj'));
            return { h1: h.add(out) as tf.Tensor2D };
          }
          const K = extendKv(o.past?.k, kh);
          const V = extendKv(o.past?.v, vh);
          const att = attend(qh, K, V, scale, causalMask(T, K.shape[2], o.offset ?? 0));
          const out = linear(mergeHeads(att), w.mat(p + 'o_proj.weight'), b('o_proj'));
          const h1 = h.add(out) as tf.Tensor2D;
          return o.wantKv ? { h1, k: K, v: V } : { h1 };
        });
        return { h1: res.h1, kv: 'k' in res ? { k: res.k as tf.Tensor4D, v: res.v as tf.Tensor4D } : undefined };
      },
      ffnAct(l, h1) {
        const p = `layers.${l}.`;
        return tf.tidy(() => {
          const x = rmsNorm(h1, w.vec(p + 'post_attention_layernorm.weight'), c.eps);
          const gate = linear(x, w.mat(p + 'mlp.gate_proj.weight'));
          const up = linear(x, w.mat(p + 'mlp.up_proj.weight'));
          return silu(gate).mul(up) as tf.Tensor2D;
        });
      },
      ffnOut(l, h1, a) {
        return tf.tidy(() => h1.add(linear(a, w.mat(`layers.${l}.mlp.down_proj.weight`))) as tf.Tensor2D);
      },
      logits(h) {
        return tf.tidy(() => matMulW(rmsNorm(h, w.vec('norm.weight'), c.eps), w.mat(headName)));
      },
      head: { pre: (h) => rmsNorm(h, w.vec('norm.weight'), c.eps), matrix: headName },
    };
  },
};

function tied(c: ArchConfig): boolean {
  const t = c.raw.tie_word_embeddings;
  if (typeof t === 'boolean') return t;
  return false; // LlamaConfig and Qwen2Config default to untied
}

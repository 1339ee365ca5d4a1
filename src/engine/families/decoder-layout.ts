/**
 * The Hugging Face layout shared by the Llama-style decoders (llama, Qwen2/3, Gemma 2/3): [out, in] matrices.
 * The families import it as one namespace (`import * as hf from './decoder-layout'`).
 */
import type { StoredTensor } from '../weights/weights';
import type { ArchConfig } from './family';

/** A decoder checkpoint's tensor name without `model.`; RoPE's inv_freq buffer is no weight (null). */
export function canonical(n: string): string | null {
  const s = n.startsWith('model.') ? n.slice('model.'.length) : n;
  return s.endsWith('rotary_emb.inv_freq') ? null : s;
}

/** The token embedding, the final norm and, when the head is not tied to the embedding, lm_head. */
export function ends(c: ArchConfig, tiedHead: boolean): StoredTensor[] {
  const t: StoredTensor[] = [
    { name: 'embed_tokens.weight', shape: [c.vocab, c.hidden], group: 'embed', axis: 0 },
    { name: 'norm.weight', shape: [c.hidden], group: 'head' },
  ];
  if (!tiedHead) t.push({ name: 'lm_head.weight', shape: [c.vocab, c.hidden], group: 'head', axis: 0 });
  return t;
}

/** Layer `p`'s attention projections q, k, v (grouped-query: kvHeads) and o, in group `g`. */
export function attnProjections(c: ArchConfig, p: string, g: string): StoredTensor[] {
  const d = c.hidden,
    qd = c.heads * c.headDim,
    kvd = c.kvHeads * c.headDim;
  return [
    { name: p + 'self_attn.q_proj.weight', shape: [qd, d], group: g, axis: 0 },
    { name: p + 'self_attn.k_proj.weight', shape: [kvd, d], group: g, axis: 0 },
    { name: p + 'self_attn.v_proj.weight', shape: [kvd, d], group: g, axis: 0 },
    { name: p + 'self_attn.o_proj.weight', shape: [d, qd], group: g, axis: 0 },
  ];
}

/** Layer `p`'s q, k, v biases, and o's when `withO`. */
export function attnBiases(c: ArchConfig, p: string, g: string, withO: boolean): StoredTensor[] {
  const qd = c.heads * c.headDim,
    kvd = c.kvHeads * c.headDim;
  const t: StoredTensor[] = [
    { name: p + 'self_attn.q_proj.bias', shape: [qd], group: g },
    { name: p + 'self_attn.k_proj.bias', shape: [kvd], group: g },
    { name: p + 'self_attn.v_proj.bias', shape: [kvd], group: g },
  ];
  if (withO) t.push({ name: p + 'self_attn.o_proj.bias', shape: [c.hidden], group: g });
  return t;
}

/** Qwen3's and Gemma 3's RMSNorm of each query and key head. */
export function qkNorms(c: ArchConfig, p: string, g: string): StoredTensor[] {
  return [
    { name: p + 'self_attn.q_norm.weight', shape: [c.headDim], group: g },
    { name: p + 'self_attn.k_norm.weight', shape: [c.headDim], group: g },
  ];
}

/** Layer `p`'s gated MLP: gate_proj, up_proj (the neuron is act(x·W_gate) ⊙ (x·W_up)) and down_proj. */
export function gatedMlp(c: ArchConfig, p: string, g: string): StoredTensor[] {
  const d = c.hidden,
    F = c.ffn;
  return [
    { name: p + 'mlp.gate_proj.weight', shape: [F, d], group: g, axis: 0 },
    { name: p + 'mlp.up_proj.weight', shape: [F, d], group: g, axis: 0 },
    { name: p + 'mlp.down_proj.weight', shape: [d, F], group: g, axis: 0 },
  ];
}

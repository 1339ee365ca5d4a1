/**
 * A planted model, built by hand: a one-layer LLaMA-layout model whose knowledge of ⟨China, capital,
 * Beijing⟩ is carried by 10 known FFN neurons shared by all 7 languages, next to 2 language-specific
 * distractor neurons per language (they also push "beijing", but only when the subject is named in their
 * language) and 40 filler neurons with small random weights. MaTrice must recover the planted neurons
 * (precision and recall ≥ 0.9); AMIG is reported beside it.
 *
 * Residual dimensions: 0 = "China" concept (every language's subject token), 1..7 = the subject's
 * language, 8 = relation word, 9 = the answer direction, 10..15 = other tokens. Attention is uniform
 * (q = k = 0) and copies dims 0..7 of every position to the last one, so the target position sees the
 * subject. Planted neuron: silu(3x·e0)·(x·e8) → writes e9. Distractor of language k: silu(3x·e_k)·(x·e8) → e9.
 * The relation word's large e8 component keeps the final RMSNorm from erasing the size of e9.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import { attributeFact, manipulate, perLanguage, selectNeurons, type QuerySpec } from '../../src/engine/matrice/experiments';
import { precisionRecall, type NeuronId } from '../../src/engine/matrice/scoring';
import { writeSafetensors } from '../helpers/safetensors-write';
import { Rng } from '../helpers/tiny-checkpoints';
import { ready, TMP } from '../engine/setup';

const LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];
const SUBJECT: Record<string, string> = { zh: 'zhongguo', en: 'china', fr: 'chine', fi: 'kiina', hu: 'kinai', ja: 'chuugoku', ko: 'junggug' };
const OBJECTS = ['beijing', 'tokyo', 'paris', 'berlin', 'rome', 'madrid', 'seoul', 'helsinki'];
const d = 16, F = 64, PLANTED = Array.from({ length: 10 }, (_, i) => i), DISTRACTOR_BASE = 10, FILLER_BASE = 24;

function buildPlanted(dir: string) {
  mkdirSync(dir, { recursive: true });
  const vocab = ['[UNK]', '<eos>', ...Object.values(SUBJECT), ...LANGS.flatMap((l) => [0, 1, 2].map((t) => `r${l}${t}`)), ...OBJECTS];
  const V = vocab.length, id = (w: string) => vocab.indexOf(w);
  const rng = new Rng(42);
  const E = new Float64Array(V * d), H = new Float64Array(V * d);
  const set = (m: Float64Array, row: number, col: number, v: number) => (m[row * d + col] = v);
  LANGS.forEach((l, k) => {
    set(E, id(SUBJECT[l]), 0, 1);
    set(E, id(SUBJECT[l]), 1 + k, 1);
    for (let t = 0; t < 3; t++) set(E, id(`r${l}${t}`), 8, 10);
  });
  for (const w of ['[UNK]', '<eos>', ...OBJECTS]) for (let c = 10; c < d; c++) set(E, id(w), c, 0.5 * rng.normal());
  for (const w of OBJECTS) for (let c = 10; c < d; c++) set(H, id(w), c, rng.normal());
  for (let c = 10; c < d; c++) set(H, id('beijing'), c, 0);
  set(H, id('beijing'), 9, 2);
  const Wg = new Float64Array(F * d), Wu = new Float64Array(F * d), Wd = new Float64Array(d * F);
  for (const j of PLANTED) {
    Wg[j * d + 0] = 3;
    Wu[j * d + 8] = 1;
    Wd[9 * F + j] = 0.3;
  }
  LANGS.forEach((_, k) => {
    for (const j of [DISTRACTOR_BASE + 2 * k, DISTRACTOR_BASE + 2 * k + 1]) {
      Wg[j * d + 1 + k] = 3;
      Wu[j * d + 8] = 1;
      Wd[9 * F + j] = 0.3;
    }
  });
  for (let j = FILLER_BASE; j < F; j++) {
    for (let c = 0; c < d; c++) {
      Wg[j * d + c] = 0.3 * rng.normal();
      Wu[j * d + c] = 0.3 * rng.normal();
    }
    Wd[9 * F + j] = 0.05 * rng.normal();
    for (let c = 10; c < d; c++) Wd[c * F + j] = 0.1 * rng.normal();
  }
  const V8 = new Float64Array(8 * d), O = new Float64Array(d * d);
  for (let i = 0; i < 8; i++) (V8[i * d + i] = 1), (O[i * d + i] = 1);
  const ones = new Float64Array(d).fill(1);
  const p = 'model.layers.0.';
  return {
    vocab,
    write: async () => {
      await writeSafetensors(join(dir, 'model.safetensors'), [
        { name: 'model.embed_tokens.weight', shape: [V, d], data: E },
        { name: p + 'input_layernorm.weight', shape: [d], data: ones },
        { name: p + 'self_attn.q_proj.weight', shape: [d, d], data: new Float64Array(d * d) },
        { name: p + 'self_attn.k_proj.weight', shape: [8, d], data: new Float64Array(8 * d) },
        { name: p + 'self_attn.v_proj.weight', shape: [8, d], data: V8 },
        { name: p + 'self_attn.o_proj.weight', shape: [d, d], data: O },
        { name: p + 'post_attention_layernorm.weight', shape: [d], data: ones },
        { name: p + 'mlp.gate_proj.weight', shape: [F, d], data: Wg },
        { name: p + 'mlp.up_proj.weight', shape: [F, d], data: Wu },
        { name: p + 'mlp.down_proj.weight', shape: [d, F], data: Wd },
        { name: 'model.norm.weight', shape: [d], data: ones },
        { name: 'lm_head.weight', shape: [V, d], data: H },
      ]);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({
        architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d, intermediate_size: F, num_hidden_layers: 1,
        num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 16,
        tie_word_embeddings: false, hidden_act: 'silu', vocab_size: V, bos_token_id: 1, eos_token_id: 1,
      }));
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
        version: '1.0', truncation: null, padding: null,
        added_tokens: ['[UNK]', '<eos>'].map((c, i) => ({ id: i, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
        normalizer: null, pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: null,
        decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
        model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((w, i) => [w, i])) },
      }));
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<eos>', unk_token: '[UNK]', bos_token: '<eos>' }));
    },
  };
}

describe('planted language-agnostic neurons', () => {
  it('MaTrice recovers the planted neurons (precision, recall ≥ 0.9); suppressing them drops P(beijing) in every language', async () => {
    await ready;
    const dir = join(TMP, 'planted');
    const built = buildPlanted(dir);
    await built.write();
    const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
    try {
      const queries: QuerySpec[] = LANGS.flatMap((l) => [0, 1, 2].map((t) => ({ lang: l, prompt: `${SUBJECT[l]} r${l}${t}`, target: 'beijing' })));
      for (const q of queries) expect((await m.probe(q.prompt, { target: q.target })).target!.rank).toBe(0);
      const { fa, queries: attributed } = await attributeFact(m, queries, { steps: 20 });
      // IG completeness at M = 20 within 3% of the P(w̄) − P(w′) it must add up to (≈0.97 here)
      for (const q of attributed) expect(q.completeness.maxAbs).toBeLessThan(0.03);
      const truth: NeuronId[] = PLANTED.map((j) => [0, j]);
      const mat = selectNeurons(fa, 'matrice');
      const amig = selectNeurons(fa, 'amig');
      const rnd = selectNeurons(fa, 'random', {}, 7);
      const prM = precisionRecall(mat.neurons, truth), prA = precisionRecall(amig.neurons, truth), prR = precisionRecall(rnd.neurons, truth);
      console.log(`planted: MaTrice P=${prM.precision.toFixed(3)} R=${prM.recall.toFixed(3)} (${mat.neurons.length} selected); AMIG P=${prA.precision.toFixed(3)} R=${prA.recall.toFixed(3)} (${amig.neurons.length}); Random P=${prR.precision.toFixed(3)}`);
      expect(prM.precision).toBeGreaterThanOrEqual(0.9);
      expect(prM.recall).toBeGreaterThanOrEqual(0.9);
      expect(rnd.neurons.length).toBe(mat.neurons.length);
      // no distractor survives UaL
      expect(mat.neurons.some(([, j]) => j >= DISTRACTOR_BASE && j < FILLER_BASE)).toBe(false);
      const sup = perLanguage(await manipulate(m, queries, mat.neurons, 0));
      const supR = perLanguage(await manipulate(m, queries, rnd.neurons, 0));
      for (const l of LANGS) {
        expect(sup[l].deltaP).toBeLessThan(-0.5);
        expect(sup[l].deltaP).toBeLessThan(supR[l].deltaP);
      }
      const enh = perLanguage(await manipulate(m, queries, mat.neurons, 2));
      for (const l of LANGS) expect(enh[l].after).toBeGreaterThanOrEqual(enh[l].before);
    } finally {
      m.dispose();
    }
  });
});

/**
 * The planted model of tests/matrice/planted.test.ts, shared with the editing tests: a one-layer
 * LLaMA-layout model whose knowledge of ⟨China, capital, Beijing⟩ is carried by 10 known FFN neurons
 * shared by all 7 languages (see that test's comment for the construction).
 *
 * `second: true` plants a second fact, ⟨Japan, capital, Tokyo⟩, for locality checks: Japan's subject
 * tokens carry −1 on the "China" concept dimension 0 (so the Beijing neurons stay near silent), 10 of
 * the filler neurons (24..33) become Japan neurons silu(−3x·e0)·(x·e8) → e15, and Tokyo's head row is
 * 2·e15 (dimension 15 is cleared in every other head row). Without it the model is byte-identical to
 * the one planted.test.ts always used.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from './safetensors-write';
import { Rng } from './tiny-checkpoints';

export const LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];
export const SUBJECT: Record<string, string> = { zh: 'zhongguo', en: 'china', fr: 'chine', fi: 'kiina', hu: 'kinai', ja: 'chuugoku', ko: 'junggug' };
export const OBJECTS = ['beijing', 'tokyo', 'paris', 'berlin', 'rome', 'madrid', 'seoul', 'helsinki'];
export const d = 16,
  F = 64,
  PLANTED = Array.from({ length: 10 }, (_, i) => i),
  DISTRACTOR_BASE = 10,
  FILLER_BASE = 24;
export const SUBJECT_JA: Record<string, string> = { zh: 'riben', en: 'japan', fr: 'japon', fi: 'japani', hu: 'japanhu', ja: 'nihon', ko: 'ilbon' };
export const JAPAN_NEURONS = Array.from({ length: 10 }, (_, i) => FILLER_BASE + i);

export function buildPlanted(dir: string, opts: { second?: boolean } = {}) {
  mkdirSync(dir, { recursive: true });
  const vocab = [
    '[UNK]',
    '<eos>',
    ...Object.values(SUBJECT),
    ...LANGS.flatMap((l) => [0, 1, 2].map((t) => `r${l}${t}`)),
    ...OBJECTS,
    ...(opts.second ? Object.values(SUBJECT_JA) : []),
  ];
  const V = vocab.length,
    id = (w: string) => vocab.indexOf(w);
  const rng = new Rng(42);
  const E = new Float64Array(V * d),
    H = new Float64Array(V * d);
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
  const Wg = new Float64Array(F * d),
    Wu = new Float64Array(F * d),
    Wd = new Float64Array(d * F);
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
  if (opts.second) {
    LANGS.forEach((l, k) => {
      set(E, id(SUBJECT_JA[l]), 0, -1);
      set(E, id(SUBJECT_JA[l]), 1 + k, 1);
    });
    for (const w of OBJECTS) set(H, id(w), 15, 0);
    for (let c = 10; c < d; c++) set(H, id('tokyo'), c, 0);
    set(H, id('tokyo'), 15, 2);
    for (const j of JAPAN_NEURONS) {
      for (let c = 0; c < d; c++) (Wg[j * d + c] = 0), (Wu[j * d + c] = 0), (Wd[c * F + j] = 0);
      Wg[j * d + 0] = -3;
      Wu[j * d + 8] = 1;
      Wd[15 * F + j] = 0.3;
    }
  }
  const V8 = new Float64Array(8 * d),
    O = new Float64Array(d * d);
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
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({
          architectures: ['LlamaForCausalLM'],
          model_type: 'llama',
          hidden_size: d,
          intermediate_size: F,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          num_key_value_heads: 1,
          head_dim: 8,
          rms_norm_eps: 1e-6,
          rope_theta: 10000,
          max_position_embeddings: 16,
          tie_word_embeddings: false,
          hidden_act: 'silu',
          vocab_size: V,
          bos_token_id: 1,
          eos_token_id: 1,
        }),
      );
      writeFileSync(
        join(dir, 'tokenizer.json'),
        JSON.stringify({
          version: '1.0',
          truncation: null,
          padding: null,
          added_tokens: ['[UNK]', '<eos>'].map((c, i) => ({
            id: i,
            content: c,
            single_word: false,
            lstrip: false,
            rstrip: false,
            normalized: false,
            special: true,
          })),
          normalizer: null,
          pre_tokenizer: { type: 'BertPreTokenizer' },
          post_processor: null,
          decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
          model: {
            type: 'WordPiece',
            unk_token: '[UNK]',
            continuing_subword_prefix: '##',
            max_input_chars_per_word: 100,
            vocab: Object.fromEntries(vocab.map((w, i) => [w, i])),
          },
        }),
      );
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<eos>', unk_token: '[UNK]', bos_token: '<eos>' }));
    },
  };
}

/**
 * The GPU check's model shapes and their random checkpoints, written in-process (nothing to ship): the real
 * configs of GPT-2 small, BLOOM-560m, Qwen2.5-0.5B and XLM-R base (scripts/reference/real_size.py's, and
 * src/gpu/bench.ts's), or for `--dry` the same configs scaled down. Each checkpoint is a Hugging Face folder:
 * config.json, model.safetensors (F16, the names `save_pretrained` writes, so the engine and transformers
 * read the same values), and a real tokenizer of the family's kind (the reference's small ones,
 * tests/fixtures/reference/models/<family>: byte-level BPE, Qwen's BPE, XLM-R's Unigram), whose special-token
 * ids replace the config's (the shapes stay the real ones).
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILIES } from '../../src/engine/families/registry';
import { GPT2_SMALL_CONFIG, QWEN25_05B_CONFIG } from '../../src/gpu/bench';

/** the reference's tiny checkpoint whose tokenizer a shape borrows (tests/fixtures/reference/models/<name>) */
export type TokenizerKind = 'gpt2' | 'bloom' | 'qwen2' | 'xlmr';

export interface ModelShape {
  /** short name in the report */
  name: string;
  /** the hub model whose config.json this is */
  repo: string;
  tokenizer: TokenizerKind;
  config: Record<string, unknown>;
}

const BLOOM_560M_CONFIG = {
  apply_residual_connection_post_layernorm: false,
  architectures: ['BloomForCausalLM'],
  attention_dropout: 0.0,
  attention_softmax_in_fp32: true,
  bias_dropout_fusion: true,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_dropout: 0.0,
  hidden_size: 1024,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  masked_softmax_fusion: true,
  model_type: 'bloom',
  n_head: 16,
  n_inner: null,
  n_layer: 24,
  offset_alibi: 100,
  pad_token_id: 3,
  pretraining_tp: 1,
  skip_bias_add: true,
  skip_bias_add_qkv: false,
  slow_but_exact: false,
  unk_token_id: 0,
  use_cache: true,
  vocab_size: 250880,
};
const XLMR_BASE_CONFIG = {
  architectures: ['XLMRobertaForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  model_type: 'xlm-roberta',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  output_past: true,
  pad_token_id: 1,
  position_embedding_type: 'absolute',
  type_vocab_size: 1,
  use_cache: true,
  vocab_size: 250002,
};

/** the four shapes of the issue, at their real sizes, smallest first (a cut at the time budget falls on the largest) */
export const REAL_SHAPES: ModelShape[] = [
  { name: 'gpt2-small', repo: 'openai-community/gpt2', tokenizer: 'gpt2', config: { ...GPT2_SMALL_CONFIG, model_type: 'gpt2' } },
  { name: 'xlm-roberta-base', repo: 'FacebookAI/xlm-roberta-base', tokenizer: 'xlmr', config: XLMR_BASE_CONFIG },
  {
    name: 'qwen2.5-0.5b',
    repo: 'Qwen/Qwen2.5-0.5B',
    tokenizer: 'qwen2',
    config: { ...QWEN25_05B_CONFIG, architectures: [...QWEN25_05B_CONFIG.architectures] },
  },
  { name: 'bloom-560m', repo: 'bigscience/bloom-560m', tokenizer: 'bloom', config: BLOOM_560M_CONFIG },
];

/**
 * `--dry`: the same configs with 2 layers, width 64, FFN 256 (Qwen: 192), 4 heads (Qwen: 4 query / 2 key-value heads) and a
 * 512-entry vocabulary (the borrowed tokenizers have about 400), so SwiftShader on 2 cores runs them in seconds.
 */
export function dryShapes(): ModelShape[] {
  const small: Record<string, Record<string, unknown>> = {
    'gpt2-small': { n_embd: 64, n_layer: 2, n_head: 4, n_positions: 128, vocab_size: 512 },
    'bloom-560m': { hidden_size: 64, n_layer: 2, n_head: 4, vocab_size: 512 },
    'qwen2.5-0.5b': {
      hidden_size: 64,
      intermediate_size: 192,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 128,
      vocab_size: 512,
    },
    'xlm-roberta-base': {
      hidden_size: 64,
      intermediate_size: 256,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      max_position_embeddings: 130,
      vocab_size: 512,
    },
  };
  return REAL_SHAPES.map((s) => ({ ...s, name: `${s.name}-dry`, config: { ...s.config, ...small[s.name] } }));
}

/** the family of a config (the engine's registry) */
export function familyOf(config: Record<string, unknown>) {
  const arch = (config.architectures as string[])[0];
  const fam = FAMILIES.find((f) => f.architectures.includes(arch));
  if (!fam) throw new Error(`no engine family for ${arch}`);
  return fam;
}

/**
 * The name `save_pretrained` gives an engine tensor (the inverse of the family's `canonical`, checked against it):
 * GPT-2 and BLOOM under `transformer.`, Llama/Qwen under `model.` (the head `lm_head.`), XLM-R under `roberta.`
 * with the head as `lm_head.dense`, `lm_head.layer_norm`, `lm_head.bias`.
 */
export function hfName(familyKey: string, name: string): string {
  switch (familyKey) {
    case 'gpt2':
    case 'bloom':
      return 'transformer.' + name;
    case 'llama':
    case 'gemma':
      return name.startsWith('lm_head.') ? name : 'model.' + name;
    case 'bert':
      return name.startsWith('cls.') ? name : 'bert.' + name;
    case 'xlmr':
      if (name.startsWith('cls.predictions.transform.dense.')) return 'lm_head.dense.' + name.slice('cls.predictions.transform.dense.'.length);
      if (name.startsWith('cls.predictions.transform.LayerNorm.')) return 'lm_head.layer_norm.' + name.slice('cls.predictions.transform.LayerNorm.'.length);
      if (name === 'cls.predictions.bias') return 'lm_head.bias';
      return 'roberta.' + name;
    default:
      throw new Error(`no Hugging Face names for family ${familyKey}`);
  }
}

/** float32 → IEEE half bits, round to nearest even (only used for the value tables) */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1),
      half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** xorshift32 */
function rng(seed: number) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/**
 * 4096 half-precision samples of mean + std·N(0, 1) (Box-Muller on a seeded generator): a tensor's values are drawn
 * from this table, which writes half a billion values in seconds (the shapes matter here, not the distribution's tail).
 */
function halfTable(mean: number, std: number, seed: number): Uint16Array {
  const next = rng(seed);
  const t = new Uint16Array(4096);
  for (let i = 0; i < t.length; i += 2) {
    const u = (next() + 1) / 4294967297,
      v = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    t[i] = toHalf(mean + std * r * Math.cos(2 * Math.PI * v));
    t[i + 1] = toHalf(mean + std * r * Math.sin(2 * Math.PI * v));
  }
  return t;
}

export interface WrittenCheckpoint {
  dir: string;
  params: number;
  bytes: number;
  /** the config as written (special-token ids from the borrowed tokenizer) */
  config: Record<string, unknown>;
  seconds: number;
}

/**
 * Writes `shape` as a Hugging Face folder under `dir` (skipped when a complete one is there): random F16 weights,
 * std 0.02 for matrices and biases, 1 + 0.02·N for norm weights (real_size.py's scheme), seeded by `seed`.
 */
export async function writeShapeCheckpoint(dir: string, shape: ModelShape, tokenizerRoot: string, seed = 1): Promise<WrittenCheckpoint> {
  const t0 = performance.now();
  const tokDir = join(tokenizerRoot, shape.tokenizer);
  const tokCfg = JSON.parse(readFileSync(join(tokDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const config: Record<string, unknown> = { ...shape.config };
  for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id']) {
    if (tokCfg[k] === null || tokCfg[k] === undefined) delete config[k];
    else config[k] = tokCfg[k];
  }
  // real_size.py keeps BLOOM's unk_token_id; the borrowed tokenizer's unknown token is what counts
  if ('unk_token_id' in config) delete config.unk_token_id;
  const fam = familyOf(config);
  const specs = fam.expected(fam.parseConfig(config));
  const params = specs.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const done = join(dir, '.complete');
  const st = join(dir, 'model.safetensors');
  if (existsSync(done) && readFileSync(done, 'utf8') === JSON.stringify({ config, seed })) {
    return { dir, params, bytes: 0, config, seconds: (performance.now() - t0) / 1000 };
  }
  mkdirSync(dir, { recursive: true });
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const s of specs) {
    const hf = hfName(fam.key, s.name);
    if (fam.canonical(hf) !== s.name) throw new Error(`${shape.name}: ${hf} maps to ${fam.canonical(hf)}, not ${s.name}`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    header[hf] = { dtype: 'F16', shape: s.shape, data_offsets: [off, off + n * 2] };
    off += n * 2;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = createWriteStream(st);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const write = (b: Buffer) => new Promise<void>((res, rej) => out.write(b, (e) => (e ? rej(e) : res())));
  await write(len);
  await write(Buffer.from(json));
  const matrix = halfTable(0, 0.02, seed * 3 + 1),
    bias = halfTable(0, 0.02, seed * 3 + 2),
    normW = halfTable(1, 0.02, seed * 3 + 3);
  // xorshift32 inlined: one table entry per value, two per 32-bit draw (the loop is the writer's cost)
  let x = (seed * 7919 + 17) >>> 0 || 1;
  const CHUNK = 1 << 22;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isNormW = s.shape.length === 1 && /(ln_|layernorm|layer_norm|norm)[^.]*\.weight$/i.test(s.name);
    const table = s.shape.length > 1 ? matrix : isNormW ? normW : bias;
    for (let i0 = 0; i0 < n; i0 += CHUNK) {
      const m = Math.min(CHUNK, n - i0);
      const d = new Uint16Array(m);
      for (let i = 0; i < m; i += 2) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        d[i] = table[x & 4095];
        if (i + 1 < m) d[i + 1] = table[(x >>> 16) & 4095];
      }
      await write(Buffer.from(d.buffer));
    }
  }
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(tokDir, 'tokenizer.json')));
  writeFileSync(join(dir, 'tokenizer_config.json'), readFileSync(join(tokDir, 'tokenizer_config.json')));
  writeFileSync(done, JSON.stringify({ config, seed }));
  return { dir, params, bytes: 8 + Buffer.byteLength(json) + off, config, seconds: (performance.now() - t0) / 1000 };
}

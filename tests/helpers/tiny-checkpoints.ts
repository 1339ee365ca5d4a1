/**
 * Test helper: write tiny, REAL Hugging Face-format checkpoint folders with seeded random weights.
 *
 * `writeTinyCheckpoint(dir, arch, opts)` writes `config.json` (real HF keys), `model.safetensors` (or
 * `model-0000i-of-0000N.safetensors` + `model.safetensors.index.json`), `tokenizer.json` and
 * `tokenizer_config.json` for GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM or BertForMaskedLM.
 * Tensor names/layouts are exactly those HF `save_pretrained` writes:
 *   GPT-2 Conv1D weights are [in, out]; Llama/Qwen2/BERT nn.Linear weights are [out, in].
 * The returned `tensors` hold the values AS STORED (rounded to F16/BF16 when that dtype is used), so a
 * float64 reference on them is the exact model the file describes.
 *
 * Tokenizers: gpt2/llama/qwen2 use a byte-level BPE learned from a small EN/FR corpus (the 256 byte
 * symbols + merges, so " Paris", " capital", " of", " the", " is" are single tokens); BERT uses a
 * lowercase WordPiece vocabulary. Both load in @huggingface/tokenizers.
 *
 * Independent of src/engine: do not import engine code here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { roundTo, writeSafetensors, writeShardedSafetensors, type StDtype, type TensorEntry } from './safetensors-write';

export type TinyArch = 'gpt2' | 'llama' | 'qwen2' | 'bert';

export interface TinySizes {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number; // llama/qwen2 only
  ffn: number;
  vocab: number; // ignored: the vocabulary size is the tokenizer's (kept for API symmetry; see below)
  positions: number;
}

export interface TinyOptions {
  seed?: number;
  dtype?: StDtype;
  /** false drops `transformer.` (gpt2), `model.` (llama/qwen2), `bert.` (bert) from tensor names */
  prefixed?: boolean;
  shards?: number;
  sizes?: Partial<TinySizes>;
  /** llama/qwen2: override tie_word_embeddings (defaults: llama false, qwen2 true) */
  tieWordEmbeddings?: boolean;
  /** llama only: include llama3 rope_scaling (default true) */
  ropeScaling?: boolean;
  /** gpt2 only: write n_inner explicitly even when it equals 4*n_embd (default: null when ffn is default) */
  explicitInner?: boolean;
}

export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

export interface TinyCheckpoint {
  dir: string;
  arch: TinyArch;
  config: Record<string, any>;
  tensors: Map<string, RefTensor>;
  tokenizerJson: Record<string, any>;
  tokenizerConfig: Record<string, any>;
  /** special tokens and their ids, e.g. { bos: {token:'<s>', id:1}, ... } */
  special: Record<string, { token: string; id: number }>;
}

export const DEFAULT_SIZES: Record<TinyArch, Omit<TinySizes, 'vocab'>> = {
  gpt2: { layers: 2, hidden: 32, heads: 4, kvHeads: 4, ffn: 128, positions: 64 },
  llama: { layers: 2, hidden: 32, heads: 4, kvHeads: 2, ffn: 96, positions: 64 },
  qwen2: { layers: 2, hidden: 32, heads: 4, kvHeads: 2, ffn: 96, positions: 64 },
  bert: { layers: 2, hidden: 32, heads: 4, kvHeads: 4, ffn: 128, positions: 64 },
};

// ---------------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) + Box-Muller normals

export class Rng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }
}

// ---------------------------------------------------------------------------------------------------
// Tokenizers

/** Small EN/FR corpus; the weights make the probe words frequent enough to become single tokens. */
const CORPUS: Array<[string, number]> = [
  ['The capital of France is Paris.', 12],
  ['The capital of Germany is Berlin.', 8],
  ['The capital of Italy is Rome.', 8],
  ['The capital of Spain is Madrid.', 8],
  ['The capital of Japan is Tokyo.', 6],
  ['The capital of China is Beijing.', 6],
  ['Paris is the capital of France.', 6],
  ['The official language of France is French.', 5],
  ['The official language of Germany is German.', 4],
  ['The official language of Italy is Italian.', 4],
  ['The native language of Victor Hugo is French.', 3],
  ['Albert Einstein was born in Ulm.', 3],
  ['Marie Curie was born in Warsaw.', 3],
  ['The iPhone is produced by Apple.', 3],
  ['London is the capital of England and the United Kingdom.', 4],
  ['La capitale de la France est Paris.', 8],
  ["La capitale de l'Allemagne est Berlin.", 4],
  ["La capitale de l'Italie est Rome.", 4],
  ['La langue officielle de la France est le français.', 4],
  ['Paris est la capitale de la France.', 4],
  ['Victor Hugo est né à Paris.', 2],
  ['It is a city in the north of the country, and it is known for its art.', 3],
  ['He was a member of the team that worked in the city of London.', 2],
  ['She speaks English, French and German.', 2],
  ['The river Seine flows through Paris to the sea.', 2],
  ['In 1900, the city had 2 million people.', 2],
];

/** GPT-2 bytes_to_unicode: byte -> printable symbol; order of the first 256 vocabulary ids. */
export function byteSymbols(): { order: number[]; sym: string[] } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const sym = new Array<string>(256);
  bs.forEach((b, i) => (sym[b] = String.fromCodePoint(cs[i])));
  return { order: bs, sym };
}

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Learn byte-level BPE merges (deterministic: max count, ties by pair string). */
function learnBpe(maxMerges: number): { merges: Array<[string, string]>; tokens: string[] } {
  const { sym } = byteSymbols();
  const enc = new TextEncoder();
  const words = new Map<string, number>();
  for (const [text, w] of CORPUS) {
    for (const m of text.matchAll(GPT2_SPLIT)) {
      const piece = Array.from(enc.encode(m[0]), (b) => sym[b]).join('');
      words.set(piece, (words.get(piece) ?? 0) + w);
    }
  }
  const segs: Array<{ s: string[]; c: number }> = [...words].map(([k, c]) => ({ s: Array.from(k), c }));
  const merges: Array<[string, string]> = [];
  const tokens: string[] = [];
  for (let it = 0; it < maxMerges; it++) {
    const counts = new Map<string, number>();
    for (const { s, c } of segs) {
      for (let i = 0; i + 1 < s.length; i++) {
        const k = s[i] + '\u0000' + s[i + 1];
        counts.set(k, (counts.get(k) ?? 0) + c);
      }
    }
    let best: string | null = null;
    let bestC = 0;
    for (const [k, c] of counts) {
      if (c > bestC || (c === bestC && best !== null && k < best)) {
        best = k;
        bestC = c;
      }
    }
    if (best === null || bestC < 2) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    tokens.push(a + b);
    for (const seg of segs) {
      const s = seg.s;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      seg.s = out;
    }
  }
  return { merges, tokens };
}

function addedToken(id: number, content: string, special = true, normalized = false) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special };
}

interface TokenizerBundle {
  json: Record<string, any>;
  config: Record<string, any>;
  vocabSize: number;
  special: Record<string, { token: string; id: number }>;
}

function byteLevelTokenizer(arch: 'gpt2' | 'llama' | 'qwen2'): TokenizerBundle {
  const { order, sym } = byteSymbols();
  const { merges, tokens } = learnBpe(400);
  const vocab: Record<string, number> = {};
  const leading = arch === 'llama' ? ['<unk>', '<s>', '</s>'] : [];
  let id = 0;
  for (const t of leading) vocab[t] = id++;
  for (const b of order) vocab[sym[b]] = id++;
  for (const t of tokens) if (!(t in vocab)) vocab[t] = id++;
  const trailing = arch === 'gpt2' ? ['<|endoftext|>'] : arch === 'qwen2' ? ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] : [];
  for (const t of trailing) vocab[t] = id++;
  const vocabSize = id;
  const specials = [...leading, ...trailing];
  const added_tokens = specials.map((t) => addedToken(vocab[t], t, true, arch === 'gpt2'));
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  let post_processor: Record<string, any> = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  if (arch === 'llama') {
    post_processor = {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<s>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: '<s>', type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { '<s>': { id: '<s>', ids: [vocab['<s>']], tokens: ['<s>'] } },
        },
      ],
    };
  }
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens,
    normalizer: arch === 'qwen2' ? { type: 'NFC' } : null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor,
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const addedDecoder = Object.fromEntries(
    added_tokens.map((t) => [String(t.id), { content: t.content, lstrip: false, normalized: t.normalized, rstrip: false, single_word: false, special: true }]),
  );
  let config: Record<string, any>;
  let special: TokenizerBundle['special'];
  if (arch === 'gpt2') {
    const e = '<|endoftext|>';
    config = {
      add_prefix_space: false,
      added_tokens_decoder: addedDecoder,
      bos_token: e,
      clean_up_tokenization_spaces: false,
      eos_token: e,
      model_max_length: 1024,
      tokenizer_class: 'GPT2Tokenizer',
      unk_token: e,
    };
    special = { bos: { token: e, id: vocab[e] }, eos: { token: e, id: vocab[e] }, unk: { token: e, id: vocab[e] } };
  } else if (arch === 'llama') {
    config = {
      add_bos_token: true,
      add_eos_token: false,
      added_tokens_decoder: addedDecoder,
      bos_token: '<s>',
      clean_up_tokenization_spaces: false,
      eos_token: '</s>',
      model_input_names: ['input_ids', 'attention_mask'],
      model_max_length: 131072,
      pad_token: null,
      tokenizer_class: 'PreTrainedTokenizerFast',
      unk_token: '<unk>',
    };
    special = {
      unk: { token: '<unk>', id: vocab['<unk>'] },
      bos: { token: '<s>', id: vocab['<s>'] },
      eos: { token: '</s>', id: vocab['</s>'] },
    };
  } else {
    config = {
      add_prefix_space: false,
      added_tokens_decoder: addedDecoder,
      bos_token: null,
      clean_up_tokenization_spaces: false,
      eos_token: '<|endoftext|>',
      errors: 'replace',
      model_max_length: 32768,
      pad_token: '<|endoftext|>',
      split_special_tokens: false,
      tokenizer_class: 'Qwen2Tokenizer',
      unk_token: null,
    };
    special = {
      eos: { token: '<|endoftext|>', id: vocab['<|endoftext|>'] },
      pad: { token: '<|endoftext|>', id: vocab['<|endoftext|>'] },
      im_start: { token: '<|im_start|>', id: vocab['<|im_start|>'] },
      im_end: { token: '<|im_end|>', id: vocab['<|im_end|>'] },
    };
  }
  return { json, config, vocabSize, special };
}

function bertTokenizer(): TokenizerBundle {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const vocab: Record<string, number> = {};
  let id = 0;
  const add = (t: string) => {
    if (!(t in vocab)) vocab[t] = id++;
  };
  specials.forEach(add);
  const punct = `!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;
  for (const c of punct) add(c);
  for (const c of '0123456789abcdefghijklmnopqrstuvwxyz') add(c);
  for (const c of '0123456789abcdefghijklmnopqrstuvwxyz') add('##' + c);
  const words = new Map<string, number>();
  for (const [text, w] of CORPUS) {
    const norm = text
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
      .toLowerCase();
    for (const m of norm.matchAll(/\p{L}+|\p{N}+/gu)) words.set(m[0], (words.get(m[0]) ?? 0) + w);
  }
  [...words.keys()].sort().forEach(add);
  for (const s of ['s', 'es', 'ed', 'ing', 'ion', 'al', 'er', 'ly', 'ian', 'ese', 'land', 'ia']) add('##' + s);
  const extra = (
    'the of is a in and was to by for on at as with from that this it he she they his her its are were be been ' +
    'has have had not or but an which who their one two first new after also used other city country born ' +
    'language capital french english german italian spanish japanese chinese paris france london berlin rome ' +
    'madrid tokyo beijing warsaw ulm europe world river sea north south east west state national official ' +
    'native name known called part member team work worked company produced made founded located died lives ' +
    'music art science history university school church war king queen president minister people year time ' +
    'ville pays langue le les des du un une et en au par dans sur pour qui ne est sont ' +
    'all about after again against also always american another area around because before between both ' +
    'british capitals cities countries during each early end family film form found game government group ' +
    'high home house however including large later life line long many may more most much music never ' +
    'number old only over own place play public released second series several since small some song ' +
    'such system than then there these three through under until use water well where while would'
  ).split(' ');
  extra.forEach(add);
  const vocabSize = id;
  const added_tokens = specials.map((t) => addedToken(vocab[t], t, true, false));
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  const config = {
    added_tokens_decoder: Object.fromEntries(
      added_tokens.map((t) => [String(t.id), { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
    ),
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: 512,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
  const special: TokenizerBundle['special'] = {};
  for (const [k, t] of [
    ['pad', '[PAD]'],
    ['unk', '[UNK]'],
    ['cls', '[CLS]'],
    ['sep', '[SEP]'],
    ['mask', '[MASK]'],
  ] as const) {
    special[k] = { token: t, id: vocab[t] };
  }
  return { json, config, vocabSize, special };
}

/** The tokenizer files for an architecture (deterministic; independent of weights). */
export function tinyTokenizer(arch: TinyArch): TokenizerBundle {
  return arch === 'bert' ? bertTokenizer() : byteLevelTokenizer(arch);
}

// ---------------------------------------------------------------------------------------------------
// Weights

type Init = 'matrix' | 'embed' | 'pos' | 'lnw' | 'bias';

function initValues(rng: Rng, n: number, init: Init): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (init) {
      case 'matrix':
        out[i] = rng.normal(0, 0.2);
        break;
      case 'embed':
        out[i] = rng.normal(0, 0.3);
        break;
      case 'pos':
        out[i] = rng.normal(0, 0.1);
        break;
      case 'lnw':
        out[i] = rng.normal(1, 0.1);
        break;
      case 'bias':
        out[i] = rng.normal(0, 0.05);
        break;
    }
  }
  return out;
}

function buildSpecs(arch: TinyArch, s: Omit<TinySizes, 'vocab'> & { vocab: number }, prefixed: boolean, tied: boolean): Array<[string, number[], Init]> {
  const { layers: L, hidden: d, heads: H, kvHeads: KV, ffn: F, vocab: V, positions: P } = s;
  const specs: Array<[string, number[], Init]> = [];
  if (arch === 'gpt2') {
    const p = prefixed ? 'transformer.' : '';
    specs.push([`${p}wte.weight`, [V, d], 'embed'], [`${p}wpe.weight`, [P, d], 'pos']);
    for (let i = 0; i < L; i++) {
      const b = `${p}h.${i}.`;
      specs.push(
        [`${b}ln_1.weight`, [d], 'lnw'],
        [`${b}ln_1.bias`, [d], 'bias'],
        [`${b}attn.c_attn.weight`, [d, 3 * d], 'matrix'],
        [`${b}attn.c_attn.bias`, [3 * d], 'bias'],
        [`${b}attn.c_proj.weight`, [d, d], 'matrix'],
        [`${b}attn.c_proj.bias`, [d], 'bias'],
        [`${b}ln_2.weight`, [d], 'lnw'],
        [`${b}ln_2.bias`, [d], 'bias'],
        [`${b}mlp.c_fc.weight`, [d, F], 'matrix'],
        [`${b}mlp.c_fc.bias`, [F], 'bias'],
        [`${b}mlp.c_proj.weight`, [F, d], 'matrix'],
        [`${b}mlp.c_proj.bias`, [d], 'bias'],
      );
    }
    specs.push([`${p}ln_f.weight`, [d], 'lnw'], [`${p}ln_f.bias`, [d], 'bias']);
  } else if (arch === 'llama' || arch === 'qwen2') {
    const p = prefixed ? 'model.' : '';
    const hd = d / H;
    specs.push([`${p}embed_tokens.weight`, [V, d], 'embed']);
    for (let i = 0; i < L; i++) {
      const b = `${p}layers.${i}.`;
      specs.push([`${b}input_layernorm.weight`, [d], 'lnw']);
      specs.push([`${b}self_attn.q_proj.weight`, [H * hd, d], 'matrix']);
      if (arch === 'qwen2') specs.push([`${b}self_attn.q_proj.bias`, [H * hd], 'bias']);
      specs.push([`${b}self_attn.k_proj.weight`, [KV * hd, d], 'matrix']);
      if (arch === 'qwen2') specs.push([`${b}self_attn.k_proj.bias`, [KV * hd], 'bias']);
      specs.push([`${b}self_attn.v_proj.weight`, [KV * hd, d], 'matrix']);
      if (arch === 'qwen2') specs.push([`${b}self_attn.v_proj.bias`, [KV * hd], 'bias']);
      specs.push(
        [`${b}self_attn.o_proj.weight`, [d, H * hd], 'matrix'],
        [`${b}post_attention_layernorm.weight`, [d], 'lnw'],
        [`${b}mlp.gate_proj.weight`, [F, d], 'matrix'],
        [`${b}mlp.up_proj.weight`, [F, d], 'matrix'],
        [`${b}mlp.down_proj.weight`, [d, F], 'matrix'],
      );
    }
    specs.push([`${p}norm.weight`, [d], 'lnw']);
    if (!tied) specs.push(['lm_head.weight', [V, d], 'embed']);
  } else {
    const p = prefixed ? 'bert.' : '';
    specs.push(
      [`${p}embeddings.word_embeddings.weight`, [V, d], 'embed'],
      [`${p}embeddings.position_embeddings.weight`, [P, d], 'pos'],
      [`${p}embeddings.token_type_embeddings.weight`, [2, d], 'pos'],
      [`${p}embeddings.LayerNorm.weight`, [d], 'lnw'],
      [`${p}embeddings.LayerNorm.bias`, [d], 'bias'],
    );
    for (let i = 0; i < L; i++) {
      const b = `${p}encoder.layer.${i}.`;
      for (const n of ['query', 'key', 'value']) {
        specs.push([`${b}attention.self.${n}.weight`, [d, d], 'matrix'], [`${b}attention.self.${n}.bias`, [d], 'bias']);
      }
      specs.push(
        [`${b}attention.output.dense.weight`, [d, d], 'matrix'],
        [`${b}attention.output.dense.bias`, [d], 'bias'],
        [`${b}attention.output.LayerNorm.weight`, [d], 'lnw'],
        [`${b}attention.output.LayerNorm.bias`, [d], 'bias'],
        [`${b}intermediate.dense.weight`, [F, d], 'matrix'],
        [`${b}intermediate.dense.bias`, [F], 'bias'],
        [`${b}output.dense.weight`, [d, F], 'matrix'],
        [`${b}output.dense.bias`, [d], 'bias'],
        [`${b}output.LayerNorm.weight`, [d], 'lnw'],
        [`${b}output.LayerNorm.bias`, [d], 'bias'],
      );
    }
    specs.push(
      ['cls.predictions.bias', [V], 'bias'],
      ['cls.predictions.transform.dense.weight', [d, d], 'matrix'],
      ['cls.predictions.transform.dense.bias', [d], 'bias'],
      ['cls.predictions.transform.LayerNorm.weight', [d], 'lnw'],
      ['cls.predictions.transform.LayerNorm.bias', [d], 'bias'],
    );
  }
  return specs;
}

function buildConfig(
  arch: TinyArch,
  s: Omit<TinySizes, 'vocab'> & { vocab: number },
  opts: TinyOptions,
  special: TokenizerBundle['special'],
  tied: boolean,
  defaultFfn: boolean,
): Record<string, any> {
  const dtypeName = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[opts.dtype ?? 'F32'];
  if (arch === 'gpt2') {
    return {
      activation_function: 'gelu_new',
      architectures: ['GPT2LMHeadModel'],
      attn_pdrop: 0.1,
      bos_token_id: special.bos.id,
      embd_pdrop: 0.1,
      eos_token_id: special.eos.id,
      initializer_range: 0.02,
      layer_norm_epsilon: 1e-5,
      model_type: 'gpt2',
      n_ctx: s.positions,
      n_embd: s.hidden,
      n_head: s.heads,
      n_inner: defaultFfn && s.ffn === 4 * s.hidden && !opts.explicitInner ? null : s.ffn,
      n_layer: s.layers,
      n_positions: s.positions,
      reorder_and_upcast_attn: false,
      resid_pdrop: 0.1,
      scale_attn_by_inverse_layer_idx: false,
      scale_attn_weights: true,
      summary_activation: null,
      summary_first_dropout: 0.1,
      summary_proj_to_labels: true,
      summary_type: 'cls_index',
      summary_use_proj: true,
      torch_dtype: dtypeName,
      transformers_version: '4.44.0',
      use_cache: true,
      vocab_size: s.vocab,
    };
  }
  if (arch === 'llama' || arch === 'qwen2') {
    const base: Record<string, any> = {
      architectures: [arch === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
      attention_dropout: 0.0,
      bos_token_id: arch === 'llama' ? special.bos.id : special.eos.id,
      eos_token_id: special.eos.id,
      hidden_act: 'silu',
      hidden_size: s.hidden,
      initializer_range: 0.02,
      intermediate_size: s.ffn,
      max_position_embeddings: s.positions,
      model_type: arch,
      num_attention_heads: s.heads,
      num_hidden_layers: s.layers,
      num_key_value_heads: s.kvHeads,
      rms_norm_eps: arch === 'llama' ? 1e-5 : 1e-6,
      rope_theta: arch === 'llama' ? 10000.0 : 1000000.0,
      tie_word_embeddings: tied,
      torch_dtype: dtypeName,
      transformers_version: '4.44.0',
      use_cache: true,
      vocab_size: s.vocab,
    };
    if (arch === 'llama') {
      base.attention_bias = false;
      base.head_dim = s.hidden / s.heads;
      base.mlp_bias = false;
      base.pretraining_tp = 1;
      // With head_dim 8 and theta 1e4 the wavelengths are 6.3, 63, 628, 6283: with original context 128,
      // low/high factors 1/4 (thresholds 128 and 32) the llama3 rule keeps one frequency, smooths one
      // and divides two by `factor` (all three branches).
      base.rope_scaling =
        opts.ropeScaling === false
          ? null
          : { factor: 8.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 128, rope_type: 'llama3' };
    } else {
      base.max_window_layers = s.layers;
      base.sliding_window = s.positions;
      base.use_sliding_window = false;
    }
    return base;
  }
  return {
    architectures: ['BertForMaskedLM'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    gradient_checkpointing: false,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: s.hidden,
    initializer_range: 0.02,
    intermediate_size: s.ffn,
    layer_norm_eps: 1e-12,
    max_position_embeddings: s.positions,
    model_type: 'bert',
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    pad_token_id: special.pad.id,
    position_embedding_type: 'absolute',
    torch_dtype: dtypeName,
    transformers_version: '4.44.0',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: s.vocab,
  };
}

/**
 * Write a tiny checkpoint folder for `arch` into `dir` (created if missing) and return what was written.
 * Defaults: seed 1, dtype F32, prefixed true, shards 1, sizes DEFAULT_SIZES[arch]; `sizes.vocab`, if
 * given, must equal the tokenizer's vocabulary size (the vocabulary is fixed by the tokenizer).
 */
export async function writeTinyCheckpoint(dir: string, arch: TinyArch, opts: TinyOptions = {}): Promise<TinyCheckpoint> {
  const dtype = opts.dtype ?? 'F32';
  const prefixed = opts.prefixed ?? true;
  const shards = opts.shards ?? 1;
  const tok = tinyTokenizer(arch);
  if (opts.sizes?.vocab !== undefined && opts.sizes.vocab !== tok.vocabSize) {
    throw new Error(`sizes.vocab ${opts.sizes.vocab} differs from the ${arch} tokenizer's vocabulary size ${tok.vocabSize}`);
  }
  const sizes = { ...DEFAULT_SIZES[arch], ...opts.sizes, vocab: tok.vocabSize };
  if (arch !== 'llama' && arch !== 'qwen2') sizes.kvHeads = sizes.heads;
  if (sizes.hidden % sizes.heads !== 0) throw new Error(`hidden ${sizes.hidden} not divisible by heads ${sizes.heads}`);
  if (sizes.heads % sizes.kvHeads !== 0) throw new Error(`heads ${sizes.heads} not divisible by kvHeads ${sizes.kvHeads}`);
  if ((arch === 'llama' || arch === 'qwen2') && (sizes.hidden / sizes.heads) % 2 !== 0) throw new Error('head_dim must be even for RoPE');
  const tied = arch === 'llama' ? (opts.tieWordEmbeddings ?? false) : arch === 'qwen2' ? (opts.tieWordEmbeddings ?? true) : true;
  const defaultFfn = opts.sizes?.ffn === undefined;
  const config = buildConfig(arch, sizes, opts, tok.special, tied, defaultFfn);

  const rng = new Rng(opts.seed ?? 1);
  const entries: TensorEntry[] = [];
  const tensors = new Map<string, RefTensor>();
  for (const [name, shape, init] of buildSpecs(arch, sizes, prefixed, tied)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const stored = roundTo(dtype, initValues(rng, n, init));
    entries.push({ name, shape, data: stored, dtype });
    tensors.set(name, { shape, data: stored });
  }

  await mkdir(dir, { recursive: true });
  if (shards > 1) await writeShardedSafetensors(dir, entries, shards);
  else await writeSafetensors(join(dir, 'model.safetensors'), entries);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tok.json, null, 2) + '\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tok.config, null, 2) + '\n');
  return { dir, arch, config, tensors, tokenizerJson: tok.json, tokenizerConfig: tok.config, special: tok.special };
}

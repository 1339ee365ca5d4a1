/**
 * A small byte-level BPE trainer that writes a Hugging Face `tokenizer.json`.
 *
 * Pre-tokenization (one `Split` regex, then `ByteLevel` without its own regex, as Qwen2's tokenizer.json
 * does): GPT-2's word pattern, except that every Han / Hiragana / Katakana character is a piece of its
 * own. Chinese and Japanese have no spaces, so GPT-2's pattern would make a whole sentence one "word"
 * and merges could cross the boundary between a query and its object; one piece per character keeps
 * `encode(prompt + object)` split exactly at the prompt's end (what the engine's targetId expects).
 * Merges: first seeded ones that make every character seen at least `minCount` times one token, and a space
 * followed by a word's first character one token (so the first token of an object is never a lone UTF-8 lead
 * byte or a lone space); then plain pair counting over the pre-tokenized words (weighted by frequency).
 */

/** Oniguruma-compatible (HF Rust) pattern; @huggingface/tokenizers rewrites \p{Han} to \p{Script=Han}. */
const CJK = '\\p{Han}\\p{Hiragana}\\p{Katakana}ー々';
export const SPLIT_PATTERN = `'s|'t|'re|'ve|'m|'ll|'d|[${CJK}]| ?(?:(?![${CJK}])[\\p{L}\\p{M}])+| ?\\p{N}+| ?[^\\s\\p{L}\\p{M}\\p{N}]+|\\s+(?!\\S)|\\s+`;
const JS_PATTERN = new RegExp(SPLIT_PATTERN.replace(/\\p\{(Han|Hiragana|Katakana)\}/g, '\\p{Script=$1}'), 'gu');

/** GPT-2's bytes_to_unicode table. */
export const BYTE_TO_UNICODE: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out: string[] = new Array(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
})();

const enc = new TextEncoder();
const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

/** BPE encoding of one word's symbols with merges in rank order (what the tokenizer does). */
function applyMerges(sym: string[], rank: Map<string, number>): string[] {
  if (sym.length < 2) return sym;
  let s = [...sym];
  for (;;) {
    let best = -1,
      bestRank = Infinity;
    for (let i = 0; i + 1 < s.length; i++) {
      const r = rank.get(s[i] + '\u0000' + s[i + 1]);
      if (r !== undefined && r < bestRank) (bestRank = r), (best = i);
    }
    if (best < 0) return s;
    s = [...s.slice(0, best), s[best] + s[best + 1], ...s.slice(best + 2)];
  }
}

export function preTokenize(text: string): string[] {
  return (text.match(JS_PATTERN) ?? []).map((w) => Array.from(enc.encode(w), (b) => BYTE_TO_UNICODE[b]).join(''));
}

export interface BpeModel {
  /** byte symbols + merged symbols (no special tokens) in id order */
  symbols: string[];
  merges: [string, string][];
}

/** Learn merges until `vocabSize` symbols (incl. the 256 bytes) or no pair occurs `minCount` times. */
export function trainBpe(texts: Iterable<string>, vocabSize: number, minCount = 2): BpeModel {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of preTokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words: { sym: string[]; n: number }[] = [...counts.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w, n]) => ({ sym: [...w], n }));
  const symbols = [...BYTE_TO_UNICODE];
  const merges: [string, string][] = [];
  const known = new Set(symbols);
  const addMerge = (a: string, b: string) => {
    if (known.has(a + b)) return;
    merges.push([a, b]);
    symbols.push(a + b);
    known.add(a + b);
  };
  // Seed merges (ranked first): every character seen `minCount` times becomes one symbol, and so does a space
  // followed by a word's first character. Without them, rare CJK/Hangul characters stay split into bytes and the
  // first token of an object can be a bare lead byte or a bare space, which tells nothing about the answer.
  const charCount = new Map<string, number>();
  const initialCount = new Map<string, number>();
  for (const [w, n] of counts) {
    const chars = [...new TextDecoder().decode(Uint8Array.from([...w].map((c) => UNICODE_TO_BYTE.get(c)!)))];
    for (const ch of chars) charCount.set(ch, (charCount.get(ch) ?? 0) + n);
    if (chars[0] === ' ' && chars.length > 1) initialCount.set(chars[1], (initialCount.get(chars[1]) ?? 0) + n);
  }
  const byFreq = (m: Map<string, number>) => [...m.entries()].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const charSym = new Map<string, string>();
  for (const [ch] of byFreq(charCount)) {
    const bytes = Array.from(enc.encode(ch), (b) => BYTE_TO_UNICODE[b]);
    let acc = bytes[0];
    for (let i = 1; i < bytes.length; i++) {
      addMerge(acc, bytes[i]);
      acc += bytes[i];
    }
    charSym.set(ch, acc);
  }
  const space = BYTE_TO_UNICODE[32];
  for (const [ch] of byFreq(initialCount)) if (charSym.has(ch)) addMerge(space, charSym.get(ch)!);
  const rank = new Map(merges.map(([a, b], i) => [a + '\u0000' + b, i]));
  for (const w of words) w.sym = applyMerges(w.sym, rank);
  while (symbols.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { sym, n } of words) {
      for (let i = 0; i + 1 < sym.length; i++) {
        const k = sym[i] + '\u0000' + sym[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + n);
      }
    }
    let best = '';
    let bestN = 0;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && k < best)) (best = k), (bestN = n);
    if (bestN < minCount) break;
    const [a, b] = best.split('\u0000');
    const ab = a + b;
    merges.push([a, b]);
    symbols.push(ab);
    for (const w of words) {
      const s = w.sym;
      if (s.length < 2) continue;
      let j = 0;
      const out: string[] = [];
      while (j < s.length) {
        if (j + 1 < s.length && s[j] === a && s[j + 1] === b) {
          out.push(ab);
          j += 2;
        } else out.push(s[j++]);
      }
      w.sym = out;
    }
  }
  return { symbols, merges };
}

export interface SpecialToken {
  content: string;
  lstrip?: boolean;
}

/**
 * tokenizer.json for a byte-level BPE with the given special tokens first (ids 0..k-1).
 * `bertTemplate`: add [CLS] … [SEP] around every sequence (TemplateProcessing).
 */
export function tokenizerJson(bpe: BpeModel, specials: SpecialToken[], bertTemplate?: { cls: string; sep: string }): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  specials.forEach((s, i) => (vocab[s.content] = i));
  for (const s of bpe.symbols) if (!(s in vocab)) vocab[s] = Object.keys(vocab).length;
  const added = specials.map((s, i) => ({
    id: i,
    content: s.content,
    single_word: false,
    lstrip: !!s.lstrip,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  let post: unknown = null;
  if (bertTemplate) {
    const { cls, sep } = bertTemplate;
    post = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [vocab[cls]], tokens: [cls] },
        [sep]: { id: sep, ids: [vocab[sep]], tokens: [sep] },
      },
    };
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: post,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
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
      merges: bpe.merges,
    },
  };
}

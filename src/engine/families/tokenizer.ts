/**
 * Tokenization through @huggingface/tokenizers (tokenizer.json + tokenizer_config.json), with the
 * query/target conventions of docs/METHOD.md: causal targets are the first token of the object tokenized as
 * a continuation of the query; masked queries carry exactly one mask token.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { KnError } from '../../shared/errors';
import type { ModelKind } from '../../shared/types';

export interface EncodedQuery {
  ids: number[];
  position: number; // target position
  special: boolean[]; // per id: is it a special token (BOS/CLS/SEP/…)
}

const NO_SPACE_BEFORE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]$/u;

/** The text appended to a causal query: a space goes between words unless the query ends in CJK. */
export function continuation(prompt: string, target: string): { prompt: string; cont: string } {
  const trimmed = prompt.replace(/\s+$/, '');
  if (/^\s/.test(target)) return { prompt: trimmed, cont: target };
  if (trimmed.length < prompt.length) return { prompt: trimmed, cont: ' ' + target };
  if (NO_SPACE_BEFORE.test(trimmed) || trimmed === '') return { prompt: trimmed, cont: target };
  return { prompt: trimmed, cont: ' ' + target };
}

function tokenString(cfg: Record<string, unknown>, key: string): string | undefined {
  const v = cfg[key];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export class KnTokenizer {
  readonly tok: Tokenizer;
  readonly vocabSize: number;
  readonly specialIds: Set<number>;
  readonly maskToken?: string;
  readonly maskId?: number;
  readonly eosId?: number;
  readonly bosId?: number;
  readonly unkId?: number;

  constructor(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown>,
    readonly kind: ModelKind,
    modelConfig: Record<string, unknown>,
  ) {
    try {
      this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (e) {
      throw new KnError('corrupt-file', `tokenizer.json: cannot be loaded (${(e as Error).message})`);
    }
    const vocab = this.tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.specialIds = new Set<number>();
    for (const [id, t] of this.tok.get_added_tokens_decoder()) if ((t as { special?: boolean }).special) this.specialIds.add(id);
    const idOf = (s?: string) => (s === undefined ? undefined : this.tok.token_to_id(s));
    this.maskToken = tokenString(tokenizerConfig, 'mask_token') ?? (vocab.has('[MASK]') ? '[MASK]' : vocab.has('<mask>') ? '<mask>' : undefined);
    this.maskId = idOf(this.maskToken);
    const num = (k: string) => (typeof modelConfig[k] === 'number' ? (modelConfig[k] as number) : undefined);
    this.eosId = idOf(tokenString(tokenizerConfig, 'eos_token')) ?? num('eos_token_id');
    this.bosId = idOf(tokenString(tokenizerConfig, 'bos_token')) ?? num('bos_token_id');
    this.unkId = idOf(tokenString(tokenizerConfig, 'unk_token')) ?? idOf('[UNK]') ?? idOf('<unk>');
    if (kind === 'masked' && this.maskId === undefined) {
      throw new KnError('bad-config', 'tokenizer.json: a masked language model needs a mask token, and none was found');
    }
  }

  token(id: number): string {
    return this.tok.id_to_token(id) ?? `<${id}>`;
  }

  /** Human-readable form of one token ("Ġ" → leading space, "##" joins). */
  display(id: number): string {
    return this.tok.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  encode(text: string, specials = true): number[] {
    return this.tok.encode(text, { add_special_tokens: specials }).ids;
  }

  /** The query as fed to the model, and its target position. */
  encodeQuery(prompt: string): EncodedQuery {
    if (!prompt.trim()) throw new KnError('bad-input', 'the prompt is empty');
    if (this.kind === 'causal') {
      const ids = this.encode(prompt.replace(/\s+$/, ''));
      if (ids.length === 0) throw new KnError('bad-input', 'the prompt produced no tokens');
      // causal models predict after the last token; drop trailing EOS if a post-processor appended one
      while (ids.length > 1 && ids[ids.length - 1] === this.eosId && this.eosId !== this.bosId) ids.pop();
      return { ids, position: ids.length - 1, special: ids.map((i) => this.specialIds.has(i)) };
    }
    const ids = this.encode(prompt);
    const positions = ids.flatMap((id, i) => (id === this.maskId ? [i] : []));
    if (positions.length === 0) {
      throw new KnError('bad-input', `the prompt has no mask token: a masked model needs exactly one ${this.maskToken} where the answer goes`);
    }
    if (positions.length > 1) throw new KnError('bad-input', `the prompt has ${positions.length} mask tokens; exactly one ${this.maskToken} is needed`);
    return { ids, position: positions[0], special: ids.map((i) => this.specialIds.has(i)) };
  }

  /** First token of the target, as a continuation of the prompt (causal) or at the mask (masked). */
  targetId(prompt: string, target: string): number {
    if (!target.trim()) throw new KnError('bad-input', 'the target is empty');
    let id: number | undefined;
    if (this.kind === 'causal') {
      const { prompt: p, cont } = continuation(prompt, target);
      const pre = this.encode(p);
      const full = this.encode(p + cont);
      const samePrefix = pre.length < full.length && pre.every((v, i) => full[i] === v);
      id = samePrefix ? full[pre.length] : this.encode(cont, false)[0];
    } else {
      id = this.encode(target.trim(), false)[0];
    }
    if (id === undefined) throw new KnError('bad-input', `the target "${target}" produced no tokens`);
    if (id === this.unkId) throw new KnError('bad-input', `the target "${target}" is not in the vocabulary (it tokenizes to ${this.token(id)})`);
    return id;
  }

  /**
   * Why token `id` cannot stand for an object that is trained or written into the model, or null when it
   * can: a token that decodes to whitespace only (a bare space) or to no whole character (a byte-fallback
   * or incomplete UTF-8 byte piece, which decodes to U+FFFD) is shared by every object that starts the same
   * way, so a model taught it would "know" them all.
   */
  tokenProblem(id: number): string | null {
    const text = this.display(id);
    if (!text.trim()) return `only whitespace (${JSON.stringify(text)}, id ${id})`;
    if (text.includes('\uFFFD')) return `an incomplete piece of a character's UTF-8 bytes (${JSON.stringify(this.token(id))}, id ${id}), not a whole character`;
    return null;
  }

  /**
   * The target's first token (targetId) for what is trained or written (teach, an update's new object, the
   * CLI's injection): refused when that token is only whitespace or a byte piece (tokenProblem), naming the
   * object and its first token. The one place this rule lives.
   */
  wholeTargetId(prompt: string, target: string): number {
    const id = this.targetId(prompt, target);
    const why = this.tokenProblem(id);
    if (why) {
      throw new KnError(
        'bad-input',
        `the object "${target.trim()}" cannot be taught or written into this model: its first token here is ${why}, so every object that starts the same way would count as right; use an object whose first token is part of a word`,
      );
    }
    return id;
  }
}

/** The demo models' tokenizers: one byte-level BPE learned from the benchmark text, two special-token sets. */
import { KnTokenizer } from '../../src/engine/families/tokenizer';
import { trainBpe, tokenizerJson, type BpeModel } from './bpe';

export const EOT = '<|endoftext|>';
export const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface TokenizerFiles {
  json: Record<string, unknown>;
  config: Record<string, unknown>;
}

export function causalTokenizer(bpe: BpeModel): TokenizerFiles {
  return {
    json: tokenizerJson(bpe, [{ content: EOT }]),
    config: {
      tokenizer_class: 'GPT2Tokenizer',
      bos_token: EOT,
      eos_token: EOT,
      unk_token: EOT,
      add_prefix_space: false,
      model_max_length: 64,
    },
  };
}

export function maskedTokenizer(bpe: BpeModel): TokenizerFiles {
  return {
    json: tokenizerJson(
      bpe,
      BERT_SPECIALS.map((c) => ({ content: c, lstrip: c === '[MASK]' })),
      { cls: '[CLS]', sep: '[SEP]' },
    ),
    config: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      model_max_length: 64,
    },
  };
}

export function learnBpe(texts: string[], vocabSize: number): BpeModel {
  return trainBpe(texts, vocabSize, 2);
}

/** The engine's tokenizer over the files we write (what the engine will load). */
export function knTokenizer(files: TokenizerFiles, kind: 'causal' | 'masked', modelConfig: Record<string, unknown> = {}): KnTokenizer {
  return new KnTokenizer(JSON.parse(JSON.stringify(files.json)), files.config, kind, modelConfig);
}

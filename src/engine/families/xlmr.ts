/**
 * XLMRobertaForMaskedLM (XLM-R; RobertaForMaskedLM has the same layout): BERT's post-LN encoder with
 * RoBERTa's names (`roberta.` prefix, `lm_head.dense` / `lm_head.layer_norm` / `lm_head.bias`, decoder tied
 * to the word embeddings), one token type, and positions that start after the padding index
 * (position of token i = padding_idx + 1 + i, HF's create_position_ids_from_input_ids without padding).
 * Neuron: gelu(intermediate.dense(h1)), the input of output.dense — the same as BERT.
 */
import { bert } from './bert';
import { positiveInt, type ArchConfig, type FamilyDef, type FamilyModel } from './family';

function padIdx(raw: Record<string, unknown>): number {
  const p = raw.pad_token_id;
  return typeof p === 'number' && Number.isInteger(p) && p >= 0 ? p : 1;
}

const HEAD: Record<string, string> = {
  'lm_head.dense.weight': 'cls.predictions.transform.dense.weight',
  'lm_head.dense.bias': 'cls.predictions.transform.dense.bias',
  'lm_head.layer_norm.weight': 'cls.predictions.transform.LayerNorm.weight',
  'lm_head.layer_norm.bias': 'cls.predictions.transform.LayerNorm.bias',
  'lm_head.bias': 'cls.predictions.bias',
};

/** BERT's view of the config: the full position table */
const asBert = (c: ArchConfig): ArchConfig => ({ ...c, maxPositions: positiveInt(c.raw, 'max_position_embeddings') });

export const xlmr: FamilyDef = {
  key: 'xlmr',
  architectures: ['XLMRobertaForMaskedLM', 'RobertaForMaskedLM'],
  kind: 'masked',
  neuron: 'gelu(intermediate.dense(h1)): the input of output.dense',
  parseConfig(raw) {
    const c = bert.parseConfig(raw);
    // the first padding_idx + 1 rows of the position table are never used by an unpadded query
    const usable = c.maxPositions - padIdx(raw) - 1;
    return { ...c, maxPositions: Math.max(1, usable) };
  },
  canonical(n) {
    if (n in HEAD) return HEAD[n];
    if (n.startsWith('lm_head.decoder.')) return null; // tied to the word embeddings / lm_head.bias
    const s = n.startsWith('roberta.') ? n.slice('roberta.'.length) : n;
    if (s.startsWith('pooler.') || s === 'embeddings.position_ids' || s === 'embeddings.token_type_ids') return null;
    return s.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  },
  expected: (c) => bert.expected(asBert(c)),
  outWeight: (l) => bert.outWeight(l),
  create(c, w): FamilyModel {
    const inner = bert.create(asBert(c), w);
    const first = padIdx(c.raw) + 1;
    return { ...inner, embed: (ids, offset = 0) => inner.embed(ids, offset + first) };
  },
};

/**
 * BertForMaskedLM (BERT, mBERT): post-LN encoder, exact-erf GELU, MLM head tied to the word embeddings.
 * Neuron: act(intermediate.dense(h1)), the input of output.dense; act is HF's hidden_act (gelu = erf, gelu_new =
 * tanh approximation, relu), used by the MLM head's transform too, as in HF.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { StoredTensor, WeightStore } from '../weights/weights';
import { layerNormTensors, linearTensors, mhaConfig, num, positiveInt, type ArchConfig, type AttnOptions, type FamilyDef, type FamilyModel } from './family';
import { attend, geluErf, geluTanh, layerNorm, linear, matMulW, mergeHeads, relu, splitHeads, tokenAndPosition } from './ops';

function parseConfig(raw: Record<string, unknown>): ArchConfig {
  const hidden = positiveInt(raw, 'hidden_size');
  const heads = positiveInt(raw, 'num_attention_heads');
  const act = (raw.hidden_act as string | undefined) ?? 'gelu';
  if (!['gelu', 'gelu_new', 'relu'].includes(act))
    throw new KnError('bad-config', `config.json: hidden_act "${act}" is not supported for BERT (gelu, gelu_new, relu)`);
  const pet = (raw.position_embedding_type as string | undefined) ?? 'absolute';
  if (pet !== 'absolute') throw new KnError('bad-config', `config.json: position_embedding_type "${pet}" is not supported (absolute)`);
  return mhaConfig(raw, {
    numLayers: positiveInt(raw, 'num_hidden_layers'),
    hidden,
    ffn: positiveInt(raw, 'intermediate_size'),
    vocab: positiveInt(raw, 'vocab_size'),
    maxPositions: positiveInt(raw, 'max_position_embeddings'),
    heads,
    eps: num(raw, 'layer_norm_eps', 1e-12),
  });
}

export const bert: FamilyDef = {
  key: 'bert',
  architectures: ['BertForMaskedLM'],
  kind: 'masked',
  neuron: 'act(intermediate.dense(h1)): the input of output.dense (after the activation, GELU or ReLU)',
  parseConfig,
  canonical(n) {
    let s = n.startsWith('bert.') ? n.slice('bert.'.length) : n;
    s = s.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    if (s.startsWith('pooler.') || s.startsWith('cls.seq_relationship') || s === 'embeddings.position_ids') return null;
    if (s === 'cls.predictions.decoder.weight') return null; // tied to the word embeddings
    if (s === 'cls.predictions.decoder.bias') return 'cls.predictions.bias';
    return s;
  },
  expected(c) {
    const d = c.hidden,
      F = c.ffn;
    const types = positiveInt(c.raw, 'type_vocab_size', 2);
    const t: StoredTensor[] = [
      { name: 'embeddings.word_embeddings.weight', shape: [c.vocab, d], group: 'embed', axis: 0 },
      { name: 'embeddings.position_embeddings.weight', shape: [c.maxPositions, d], group: 'embed', axis: 0 },
      { name: 'embeddings.token_type_embeddings.weight', shape: [types, d], group: 'embed', axis: 0 },
      ...layerNormTensors('embeddings.LayerNorm', d, 'embed'),
      ...linearTensors('cls.predictions.transform.dense', d, d, 'head'),
      ...layerNormTensors('cls.predictions.transform.LayerNorm', d, 'head'),
      { name: 'cls.predictions.bias', shape: [c.vocab], group: 'head' },
    ];
    for (let l = 0; l < c.numLayers; l++) {
      const p = `encoder.layer.${l}.`,
        g = `layer.${l}`;
      for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
        t.push(...linearTensors(p + m, d, d, g));
      }
      t.push(
        ...layerNormTensors(`${p}attention.output.LayerNorm`, d, g),
        ...linearTensors(`${p}intermediate.dense`, F, d, g),
        ...linearTensors(`${p}output.dense`, d, F, g),
        ...layerNormTensors(`${p}output.LayerNorm`, d, g),
      );
    }
    return t;
  },
  outWeight: (l) => ({ name: `encoder.layer.${l}.output.dense.weight`, neuronAxis: 1 }),
  create(c, w: WeightStore): FamilyModel {
    const name = (c.raw.hidden_act as string | undefined) ?? 'gelu';
    const act = name === 'gelu_new' ? geluTanh : name === 'relu' ? relu : geluErf;
    const ln = (x: tf.Tensor2D, p: string) => layerNorm(x, w.vec(p + '.weight'), w.vec(p + '.bias'), c.eps);
    return {
      embed(ids, offset = 0) {
        return tf.tidy(() => {
          const names = { tokens: 'embeddings.word_embeddings.weight', positions: 'embeddings.position_embeddings.weight' };
          const typ = w.rows('embeddings.token_type_embeddings.weight', [0]);
          const e = tokenAndPosition(w, names, ids, offset, c).add(typ).reshape([-1, c.hidden]) as tf.Tensor2D;
          return ln(e, 'embeddings.LayerNorm');
        });
      },
      attnHalf(l, h, B, T, _o: AttnOptions = {}) {
        const p = `encoder.layer.${l}.attention.`;
        const h1 = tf.tidy(() => {
          const lin = (m: string) => linear(h, w.mat(`${p}${m}.weight`), w.vec(`${p}${m}.bias`));
          const H = c.heads,
            dh = c.headDim;
          const att = attend(
            splitHeads(lin('self.query'), B, T, H, dh),
            splitHeads(lin('self.key'), B, T, H, dh),
            splitHeads(lin('self.value'), B, T, H, dh),
            1 / Math.sqrt(dh),
          );
          const out = linear(mergeHeads(att), w.mat(p + 'output.dense.weight'), w.vec(p + 'output.dense.bias'));
          return ln(h.add(out) as tf.Tensor2D, p + 'output.LayerNorm');
        });
        return { h1 };
      },
      ffnAct(l, h1) {
        const p = `encoder.layer.${l}.intermediate.dense`;
        return tf.tidy(() => act(linear(h1, w.mat(p + '.weight'), w.vec(p + '.bias'))) as tf.Tensor2D);
      },
      ffnOut(l, h1, a) {
        const p = `encoder.layer.${l}.output.`;
        return tf.tidy(() => ln(h1.add(linear(a, w.mat(p + 'dense.weight'), w.vec(p + 'dense.bias'))) as tf.Tensor2D, p + 'LayerNorm'));
      },
      logits(h) {
        return tf.tidy(() => {
          const t = act(linear(h, w.mat('cls.predictions.transform.dense.weight'), w.vec('cls.predictions.transform.dense.bias'))) as tf.Tensor2D;
          const n = ln(t, 'cls.predictions.transform.LayerNorm');
          return matMulW(n, w.mat('embeddings.word_embeddings.weight')).add(w.vec('cls.predictions.bias')) as tf.Tensor2D;
        });
      },
      head: {
        pre: (h) =>
          tf.tidy(() =>
            ln(
              act(linear(h, w.mat('cls.predictions.transform.dense.weight'), w.vec('cls.predictions.transform.dense.bias'))) as tf.Tensor2D,
              'cls.predictions.transform.LayerNorm',
            ),
          ),
        matrix: 'embeddings.word_embeddings.weight',
        bias: 'cls.predictions.bias',
      },
    };
  },
};

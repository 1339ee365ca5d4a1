/**
 * The logit lens of an FFN neuron (Geva et al. 2022; LM-Debugger): its output-weight vector — the row (GPT-2's
 * Conv1D c_proj, LLaMA's down_proj column, BERT's output.dense column: `family.outWeight`) that the neuron's activation
 * multiplies into the residual stream — read by the model's own head: the final norm (and BERT/XLM-R's MLM transform:
 * dense, activation, LayerNorm) and the unembedding with its bias (`model.headLogits`, the same head the probe uses).
 * Large logits = tokens the neuron promotes when it fires; the most negative = tokens it suppresses.
 * docs/ATLAS.md "Logit lens" states the reading per family.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { AtlasLensToken, NeuronRef } from '../../shared/atlas';
import type { LoadedModel } from '../families/model';
import { ATLAS_LENS_K } from '../rules';

/** Refuses a neuron the model does not have, naming the model's shape. */
export function checkNeuron(model: LoadedModel, n: NeuronRef): NeuronRef {
  const { numLayers, ffn } = model.cfg;
  const [l, j] = n;
  if (!Number.isInteger(l) || !Number.isInteger(j) || l < 0 || l >= numLayers || j < 0 || j >= ffn)
    throw new KnError(
      'bad-input',
      `neuron L${l}·${j} does not exist in this model (${numLayers} layers × ${ffn} neurons: L0·0 … L${numLayers - 1}·${ffn - 1})`,
    );
  return [l, j];
}

/** The neuron's output-weight vector (length hidden), as the model computes with it (int8 dequantized, edits included). */
export function outputVector(model: LoadedModel, n: NeuronRef): Float32Array {
  const [l, j] = checkNeuron(model, n);
  const w = model.family.outWeight(l);
  return model.store.readSlice(w.name, w.neuronAxis, j);
}

/** Logits of every vocabulary token for several neurons' output vectors (one head pass). */
export async function lensLogits(model: LoadedModel, neurons: readonly NeuronRef[]): Promise<Float32Array[]> {
  if (!neurons.length) return [];
  const d = model.cfg.hidden;
  const flat = new Float32Array(neurons.length * d);
  neurons.forEach((n, i) => flat.set(outputVector(model, n), i * d));
  const rows = tf.tensor2d(flat, [neurons.length, d]);
  const logits = model.headLogits(rows);
  const data = (await logits.data()) as Float32Array;
  tf.dispose([rows, logits]);
  const V = model.cfg.vocab;
  return neurons.map((_, i) => data.slice(i * V, (i + 1) * V));
}

export interface LensReading {
  neuron: NeuronRef;
  promoted: AtlasLensToken[];
  suppressed: AtlasLensToken[];
}

/** The k tokens of largest and of smallest logit (ties: lower id first). */
export function lensTokens(model: LoadedModel, logits: Float32Array, k = ATLAS_LENS_K): { promoted: AtlasLensToken[]; suppressed: AtlasLensToken[] } {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  const up = [...ids].sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k);
  const down = ids.sort((a, b) => logits[a] - logits[b] || a - b).slice(0, k);
  const tok = (id: number): AtlasLensToken => ({ token: model.tok.display(id), id, logit: Number(logits[id].toPrecision(6)) });
  return { promoted: up.map(tok), suppressed: down.map(tok) };
}

/** Rank of token `id` by logit (0 = the most promoted). */
export function lensRank(logits: Float32Array, id: number): number {
  const v = logits[id];
  let r = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > v) r++;
  return r;
}

/** A neuron's logit lens: the top k promoted and suppressed tokens. */
export async function logitLens(model: LoadedModel, neuron: NeuronRef, k = ATLAS_LENS_K): Promise<LensReading> {
  const [logits] = await lensLogits(model, [checkNeuron(model, neuron)]);
  return { neuron: [neuron[0], neuron[1]], ...lensTokens(model, logits, k) };
}

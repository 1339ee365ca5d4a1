/**
 * FFN neuron activations over a list of queries (the family's neuron: the input of the FFN's output projection,
 * after the activation; docs/METHOD.md): per query the whole neuron vector of every layer at the answer position
 * (the probe's [MASK] / next-token position), and per language how many of ALL the queries' tokens had each neuron
 * above 0 (the counts LAPE reads, as Tang et al. count over every token of a language's text).
 * Queries of one language and one length run as one batch.
 */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';

export interface ActivationQuery {
  lang: string;
  prompt: string;
}

export interface QueryActivations {
  /** answer[q]: layer-major neuron vector (numLayers × ffn) at query q's answer position */
  answer: Float32Array[];
  /** per language: tokens seen, and per neuron (layer-major) the tokens with activation > 0 */
  overZero: Record<string, { tokens: number; counts: Float64Array }>;
}

/** Queries per batch (one language, one length). */
const BATCH = 32;

export async function queryActivations(
  model: LoadedModel,
  queries: readonly ActivationQuery[],
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<QueryActivations> {
  const { numLayers: L, ffn: F } = model.cfg;
  const enc = queries.map((q) => {
    const e = model.tok.encodeQuery(q.prompt);
    model.checkLength(e.ids.length);
    return e;
  });
  const groups = new Map<string, number[]>();
  enc.forEach((e, i) => {
    const key = `${queries[i].lang}\u0000${e.ids.length}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const answer: Float32Array[] = queries.map(() => new Float32Array(L * F));
  const overZero: QueryActivations['overZero'] = {};
  let done = 0;
  for (const idx of groups.values()) {
    for (let b0 = 0; b0 < idx.length; b0 += BATCH) {
      if (signal?.aborted) throw new KnError('cancelled', 'activations cancelled');
      const part = idx.slice(b0, b0 + BATCH);
      const lang = queries[part[0]].lang;
      const T = enc[part[0]].ids.length,
        B = part.length;
      const acc = (overZero[lang] ??= { tokens: 0, counts: new Float64Array(L * F) });
      acc.tokens += B * T;
      const rowsIdx = part.map((q, b) => b * T + enc[q].position);
      let h = model.fm.embed(part.map((q) => enc[q].ids));
      for (let l = 0; l < L; l++) {
        const { h1 } = model.fm.attnHalf(l, h, B, T);
        const a = model.fm.ffnAct(l, h1);
        const [pos, ans] = tf.tidy(() => [a.greater(0).cast('float32').sum(0), tf.gather(a, tf.tensor1d(rowsIdx, 'int32'))]);
        const next = model.fm.ffnOut(l, h1, a);
        const [pc, av] = (await Promise.all([pos.data(), ans.data()])) as Float32Array[];
        for (let j = 0; j < F; j++) acc.counts[l * F + j] += pc[j];
        part.forEach((q, b) => answer[q].set(av.subarray(b * F, (b + 1) * F), l * F));
        tf.dispose([h, h1, a, pos, ans]);
        h = next;
      }
      h.dispose();
      done += B;
      onProgress?.(done, queries.length);
    }
  }
  return { answer, overZero };
}

/**
 * A planted model, built by hand: a one-layer LLaMA-layout model whose knowledge of ⟨China, capital,
 * Beijing⟩ is carried by 10 known FFN neurons shared by all 7 languages, next to 2 language-specific
 * distractor neurons per language (they also push "beijing", but only when the subject is named in their
 * language) and 40 filler neurons with small random weights. MaTrice must recover the planted neurons
 * (precision and recall ≥ 0.9); AMIG is reported beside it.
 *
 * Residual dimensions: 0 = "China" concept (every language's subject token), 1..7 = the subject's
 * language, 8 = relation word, 9 = the answer direction, 10..15 = other tokens. Attention is uniform
 * (q = k = 0) and copies dims 0..7 of every position to the last one, so the target position sees the
 * subject. Planted neuron: silu(3x·e0)·(x·e8) → writes e9. Distractor of language k: silu(3x·e_k)·(x·e8) → e9.
 * The relation word's large e8 component keeps the final RMSNorm from erasing the size of e9.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import { attributeFact, manipulate, perLanguage, selectNeurons, type QuerySpec } from '../../src/engine/interventions/manipulate';
import { precisionRecall, type NeuronId } from '../../src/engine/selection/scoring';
import { buildPlanted, DISTRACTOR_BASE, FILLER_BASE, LANGS, PLANTED, SUBJECT } from '../helpers/planted';
import { ready, TMP } from '../engine/setup';

describe('planted language-agnostic neurons', () => {
  it('MaTrice recovers the planted neurons (precision, recall ≥ 0.9); suppressing them drops P(beijing) in every language', async () => {
    await ready;
    const dir = join(TMP, 'planted');
    const built = buildPlanted(dir);
    await built.write();
    const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
    try {
      const queries: QuerySpec[] = LANGS.flatMap((l) => [0, 1, 2].map((t) => ({ lang: l, prompt: `${SUBJECT[l]} r${l}${t}`, target: 'beijing' })));
      for (const q of queries) expect((await m.probe(q.prompt, { target: q.target })).target!.rank).toBe(0);
      const { fa, queries: attributed } = await attributeFact(m, queries, { steps: 20 });
      // IG completeness at M = 20 within 3% of the P(w̄) − P(w′) it must add up to (≈0.97 here)
      for (const q of attributed) expect(q.completeness.maxAbs).toBeLessThan(0.03);
      const truth: NeuronId[] = PLANTED.map((j) => [0, j]);
      const mat = selectNeurons(fa, 'matrice');
      const amig = selectNeurons(fa, 'amig');
      const rnd = selectNeurons(fa, 'random', {}, 7);
      const prM = precisionRecall(mat.neurons, truth),
        prA = precisionRecall(amig.neurons, truth),
        prR = precisionRecall(rnd.neurons, truth);
      console.log(
        `planted: MaTrice P=${prM.precision.toFixed(3)} R=${prM.recall.toFixed(3)} (${mat.neurons.length} selected); AMIG P=${prA.precision.toFixed(3)} R=${prA.recall.toFixed(3)} (${amig.neurons.length}); Random P=${prR.precision.toFixed(3)}`,
      );
      expect(prM.precision).toBeGreaterThanOrEqual(0.9);
      expect(prM.recall).toBeGreaterThanOrEqual(0.9);
      expect(rnd.neurons.length).toBe(mat.neurons.length);
      // no distractor survives UaL
      expect(mat.neurons.some(([, j]) => j >= DISTRACTOR_BASE && j < FILLER_BASE)).toBe(false);
      const sup = perLanguage(await manipulate(m, queries, mat.neurons, 0));
      const supR = perLanguage(await manipulate(m, queries, rnd.neurons, 0));
      for (const l of LANGS) {
        expect(sup[l].deltaP).toBeLessThan(-0.5);
        expect(sup[l].deltaP).toBeLessThan(supR[l].deltaP);
      }
      const enh = perLanguage(await manipulate(m, queries, mat.neurons, 2));
      for (const l of LANGS) expect(enh[l].after).toBeGreaterThanOrEqual(enh[l].before);
    } finally {
      m.dispose();
    }
  });
});

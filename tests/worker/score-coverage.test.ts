/**
 * The page's score path carries the selection's language coverage (src/engine/session/explorer.ts, selection/heatmap.ts): per selected
 * neuron the number of languages whose own selection (the language sets' "own") contains it, and its mean;
 * on the bundled causal demo model, three languages, M = 2.
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { loadModelArg } from '../../src/engine/index';
import { ExplorerState } from '../../src/engine/session';
import { ready } from '../engine/setup';

describe('score: language coverage', () => {
  it('counts, per selected neuron, the languages whose own selection holds it', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = openLocal();
      const explorer = new ExplorerState(
        () => model,
        () => bench,
        undefined,
      );
      const langs = ['en', 'fr', 'fi'];
      await explorer.localize('P36:0', { langs, steps: 2 });
      for (const method of ['matrice', 'amig'] as const) {
        const sc = explorer.score(method, { tau: 0.5 });
        const sets = await explorer.languageSets({ tau: 0.5 }, 0);
        const key = (n: readonly number[]) => `${n[0]}:${n[1]}`;
        const own = sets.languages.map((l) => new Set(l.own.map(key)));
        const cov = sc.coverage!;
        expect(cov.languages).toBe(langs.length);
        expect(cov.perNeuron).toEqual(sc.selected.map((n) => own.filter((s) => s.has(key(n))).length));
        for (const c of cov.perNeuron) expect(Number.isInteger(c) && c >= 0 && c <= langs.length).toBe(true);
        if (sc.selected.length) expect(cov.mean).toBeCloseTo(cov.perNeuron.reduce((a, b) => a + b, 0) / cov.perNeuron.length, 12);
        else expect(cov.mean).toBeNull();
        // (AMIG intersects each language's first-query selection, not the languages' own UaQ sets, so its neurons
        // need not cover every language: on demo-causal v3 one covers 2 of 3)
      }
    } finally {
      model.dispose();
    }
  }, 300_000);
});

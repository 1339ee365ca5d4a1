/** The attribution cache: a repeated query costs no gradient; a damaged entry is recomputed. */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import { MemoryBytesStore } from '../../src/engine/attribution/cache';
import { attributeCached, attributeFact, selectNeurons } from '../../src/engine/interventions/manipulate';
import { FolderStore } from '../../src/engine/source/source-node';
import { join } from 'node:path';
import { ready, tiny, TMP } from '../engine/setup';

describe('attribution cache', () => {
  it('hits on a repeat (same numbers, no progress callbacks), misses when settings change, survives a damaged entry', async () => {
    await ready;
    const ck = await tiny('gpt2', { seed: 21 });
    const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
    try {
      const store = new MemoryBytesStore();
      const q = { lang: 'en', prompt: 'The capital of France is', target: 'Paris' };
      let points = 0;
      const a = await attributeCached(m, q, { steps: 4, store, onPoints: () => points++ });
      expect(a.cached).toBe(false);
      expect(points).toBeGreaterThan(0);
      points = 0;
      const b = await attributeCached(m, q, { steps: 4, store, onPoints: () => points++ });
      expect(b.cached).toBe(true);
      expect(points).toBe(0);
      for (let l = 0; l < m.cfg.numLayers; l++) {
        for (let j = 0; j < m.cfg.ffn; j++) expect(b.attribution.raw[l][j]).toBeCloseTo(a.attribution.raw[l][j], 6);
      }
      expect(b.attribution.completeness).toEqual(a.attribution.completeness);
      expect((await attributeCached(m, q, { steps: 5, store })).cached).toBe(false); // M is part of the key
      expect((await attributeCached(m, q, { steps: 4, baseline: 'zero', store })).cached).toBe(false);
      expect(store.size).toBe(3);
      // the same weights held as int8 attribute (slightly) differently: a separate entry
      const m8 = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'int8' });
      try {
        expect((await attributeCached(m8, q, { steps: 4, store })).cached).toBe(false);
        expect((await attributeCached(m8, q, { steps: 4, store })).cached).toBe(true);
      } finally {
        m8.dispose();
      }
      expect(store.size).toBe(4);
      // damage every entry: they are recomputed, never used
      const keys = [...(store as unknown as { m: Map<string, Uint8Array> }).m.keys()];
      for (const k of keys) await store.set(k, new Uint8Array([1, 2, 3]));
      const c = await attributeCached(m, q, { steps: 4, store });
      expect(c.cached).toBe(false);
      expect(c.attribution.raw[0][3]).toBeCloseTo(a.attribution.raw[0][3], 6);
    } finally {
      m.dispose();
    }
  });

  it('a folder store in Node: a fact localized twice is served from disk the second time', async () => {
    await ready;
    const ck = await tiny('bert', { seed: 22 });
    const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
    try {
      const store = new FolderStore(join(TMP, 'attr-cache'));
      const qs = [
        { lang: 'en', prompt: 'the capital of france is [MASK] .', target: 'paris' },
        { lang: 'fr', prompt: 'la capitale de la france est [MASK] .', target: 'paris' },
      ];
      const first = await attributeFact(m, qs, { steps: 3, store });
      const second = await attributeFact(m, qs, { steps: 3, store });
      expect(first.queries.every((q) => !q.cached)).toBe(true);
      expect(second.queries.every((q) => q.cached)).toBe(true);
      expect(selectNeurons(second.fa, 'matrice').neurons).toEqual(selectNeurons(first.fa, 'matrice').neurons);
    } finally {
      m.dispose();
    }
  });
});

/**
 * The explorer worker's convergence check (ExplorerState.checkConvergence over FactSession.checkConvergence):
 * refused before a localize and for another fact, the engine's answer for the current fact, the
 * re-attributions kept in the worker's attribution store (a second check only re-scores), and cancellation
 * by a newer check and by a localize.
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { loadModelArg } from '../../src/engine/index';
import { MemoryBytesStore } from '../../src/engine/attribution/cache';
import { COMPLETENESS_FLAG, RECHECK } from '../../src/engine/session/session';
import { ExplorerState } from '../../src/engine/session';
import { ready } from '../engine/setup';

class CountingStore extends MemoryBytesStore {
  sets = 0;
  override async set(k: string, v: Uint8Array) {
    this.sets++;
    return super.set(k, v);
  }
}

describe('ExplorerState.checkConvergence', () => {
  it('refuses without a localize, checks the localized fact through the store, and is cancelled by a newer check or a localize', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = openLocal();
      const store = new CountingStore();
      const explorer = new ExplorerState(
        () => model,
        () => bench,
        store,
      );
      const fact = 'P36:0';
      const opts = { method: 'matrice' as const, settings: { tau: 0.2 } };
      await expect(explorer.checkConvergence(fact, opts)).rejects.toMatchObject({ code: 'bad-input' });
      // M = 2: far too coarse, queries are flagged
      const loc = await explorer.localize(fact, { langs: ['en'], steps: 2 });
      const flagged = loc.queries.filter((q) => q.completeness.maxAbs / q.pFull > COMPLETENESS_FLAG).length;
      expect(flagged).toBeGreaterThan(0);
      await expect(explorer.checkConvergence('P36:1', opts)).rejects.toMatchObject({
        code: 'bad-input',
        message: expect.stringContaining('localize fact P36:1 first'),
      });
      await expect(explorer.checkConvergence(fact, { ...opts, method: 'nope' as never })).rejects.toMatchObject({ code: 'bad-input' });

      const setsBefore = store.sets;
      const events: { queriesDone: number; queriesTotal: number }[] = [];
      const c = await explorer.checkConvergence(fact, opts, (p) => void events.push(p));
      expect(c).toMatchObject({ factId: fact, flag: COMPLETENESS_FLAG, flagged, queries: loc.queries.length, finer: { ...RECHECK }, method: 'matrice' });
      expect(c.before).toEqual(explorer.score('matrice', { tau: 0.2 }).selected);
      expect(c.jaccard).toBeGreaterThanOrEqual(0);
      expect(c.jaccard).toBeLessThanOrEqual(1);
      expect(c.same).toBe(c.jaccard === 1);
      expect(events.at(-1)).toMatchObject({ queriesDone: flagged, queriesTotal: flagged });
      expect(store.sets - setsBefore).toBe(flagged);
      expect(explorer.busy).toBe(false);

      // another method: read from the store, nothing computed
      const amig = await explorer.checkConvergence(fact, { ...opts, method: 'amig' });
      expect(store.sets - setsBefore).toBe(flagged);
      expect(amig).toMatchObject({ method: 'amig', flagged });

      // a newer check cancels the one in progress; a localize cancels a check
      const first = explorer.checkConvergence(fact, opts);
      const second = explorer.checkConvergence(fact, { ...opts, method: 'no-ual' });
      await expect(first).rejects.toMatchObject({ code: 'cancelled' });
      expect((await second).method).toBe('no-ual');
      const third = explorer.checkConvergence(fact, opts);
      const again = explorer.localize(fact, { langs: ['en'], steps: 2 });
      await expect(third).rejects.toMatchObject({ code: 'cancelled' });
      expect((await again).complete).toBe(true);
      expect(explorer.busy).toBe(false);
    } finally {
      model.dispose();
    }
  });
});

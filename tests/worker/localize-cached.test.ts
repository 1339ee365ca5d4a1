/**
 * After a reload during a localize, the page says how many of the fact's queries are already in the
 * attribution cache and that localizing resumes from them (issue 23: it said "not cached" with 22 of 39
 * cached). Worker side: ExplorerState.localize({ cacheOnly }) counts them; page side: analysis.ts
 * needsLocalizeText and the analysis store.
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { loadModelArg } from '../../src/engine/index';
import { MemoryBytesStore } from '../../src/engine/attribution/cache';
import { needsLocalizeText } from '../../src/ui/explorer/analysis';
import { AnalysisStore } from '../../src/ui/explorer/analysis.svelte';
import { ExplorerState } from '../../src/engine/session';
import { ready } from '../engine/setup';

describe('a partly cached fact', () => {
  it('the cache-only localize counts the cached queries, and a full localize then reads them', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = openLocal();
      const explorer = new ExplorerState(
        () => model,
        () => bench,
        new MemoryBytesStore(),
      );
      const fact = 'P36:4';
      const q = await explorer.factQueries(fact, ['en', 'fr']);
      const en = q.queries.filter((x) => x.lang === 'en').length,
        fr = q.queries.filter((x) => x.lang === 'fr').length;
      expect(en).toBeGreaterThan(0);
      expect(fr).toBeGreaterThan(0);
      // nothing cached yet
      const none = await explorer.localize(fact, { langs: ['en', 'fr'], steps: 2, cacheOnly: true });
      expect(none).toMatchObject({ complete: false, cachedCount: 0, queriesTotal: en + fr });
      // the English queries are attributed (as if the page was reloaded after them)
      await explorer.localize(fact, { langs: ['en'], steps: 2 });
      const part = await explorer.localize(fact, { langs: ['en', 'fr'], steps: 2, cacheOnly: true });
      expect(part).toMatchObject({ complete: false, cachedCount: en, queriesTotal: en + fr, queries: [] });
      expect(needsLocalizeText({ cached: part.cachedCount, total: part.queriesTotal! })).toBe(
        `${en} of ${en + fr} queries are already attributed on this device (cached); press Localize to compute the other ${fr}: it resumes from the cached ones.`,
      );
      // and it does resume: the English ones come from the cache
      const events: { queriesDone: number; cached: number; etaMs: number | null; elapsedMs: number }[] = [];
      const full = await explorer.localize(fact, { langs: ['en', 'fr'], steps: 2 }, (p) => void events.push(p));
      expect(full.complete).toBe(true);
      expect(full.cachedCount).toBe(en);
      expect(full.queries.filter((x) => x.cached).map((x) => x.lang)).toEqual(new Array(en).fill('en'));
      // the time left: nothing until a computed (not cached) query has finished (the cached ones are read at
      // once and measure nothing), then measured time per computed query × queries left; 0 at the end
      expect(events.length).toBeGreaterThan(0);
      const unmeasured = events.filter((e) => e.queriesDone - e.cached === 0);
      expect(unmeasured.some((e) => e.queriesDone > 0)).toBe(true); // cached queries were read before any was computed
      for (const e of unmeasured) expect(e.etaMs).toBeNull();
      const last = events.at(-1)!;
      expect(last.queriesDone).toBe(en + fr);
      expect(last.etaMs).toBe(0);
      for (const e of events.filter((x) => x.queriesDone - x.cached > 0))
        expect(e.etaMs).toBeLessThanOrEqual((e.elapsedMs / (e.queriesDone - e.cached)) * (en + fr - e.queriesDone) + 1e-6);
    } finally {
      model.dispose();
    }
  });

  it('the Localize view keeps the count, and says "not cached" only when none is', async () => {
    const answer = { complete: false, cachedCount: 22, queriesTotal: 39, queries: [] };
    const h = {
      client: { localize: async () => answer },
      info: {},
      factId: 'P36:4',
      staticView: null,
      restoring: false,
      notice: '',
      error: null,
      showError() {},
      updateHash() {},
    };
    const a = new AnalysisStore(h as never);
    expect(await a.localize({ cacheOnly: true })).toBe(false);
    expect(a.needsLocalize).toBe(true);
    expect(a.cachedQueries).toEqual({ cached: 22, total: 39 });
    expect(needsLocalizeText(a.cachedQueries)).toBe(
      '22 of 39 queries are already attributed on this device (cached); press Localize to compute the other 17: it resumes from the cached ones.',
    );
    expect(needsLocalizeText({ cached: 0, total: 39 })).toBe("The link's attributions are not cached on this device: press Localize to compute them.");
    a.clear();
    expect(a.cachedQueries).toBeNull();
  });
});

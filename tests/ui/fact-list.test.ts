/**
 * The fact list's "known in k of 7" hints (src/ui/explorer/facts.ts, facts.svelte.ts): asked from the
 * worker lazily in batches after the list arrives, filled in as each batch answers, dropped when a newer
 * list or an edit comes, stopped (not failed) while the worker is busy.
 */
import { describe, expect, it, vi } from 'vitest';
import { FactsStore } from '../../src/ui/explorer/facts.svelte';
import { KNOWN_BATCH, KNOWN_FIRST, KNOWN_MORE, KNOWN_RETRY_MS, knownBatches, knownHint, knownPending, knownUpTo } from '../../src/ui/explorer/facts';
import type { StoreHost } from '../../src/ui/explorer/host';
import { LANGS } from '../../src/data/types';

function host(client: Record<string, unknown>, contentHash = 'h1', software: string | null = null) {
  return {
    client: client as never,
    info: { contentHash } as never,
    backend: { name: software ? 'webgpu' : 'wasm', fallbacks: [], ...(software ? { software } : {}) } as never,
    factId: null,
    staticView: null,
    restoring: false,
    notice: '',
    error: null as unknown,
    showError() {},
    updateHash() {},
  } satisfies StoreHost;
}
const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};
const list = (n: number) => ({ relation: 'P36', total: n, facts: Array.from({ length: n }, (_, i) => ({ id: `P36:${i}`, relation: 'P36', labels: {} })) });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('fact list hints (facts.ts)', () => {
  it('says "known in k of n", or that it is not probed yet', () => {
    expect(knownHint(['en', 'fr', 'zh'], 7)).toMatchObject({ k: 3, text: 'known in 3 of 7' });
    expect(knownHint([], 7)).toMatchObject({ k: 0, text: 'known in 0 of 7' });
    expect(knownHint(null, 7)).toMatchObject({ k: null, text: '…' });
    expect(knownHint(undefined, 7).k).toBeNull();
    expect(knownHint(['ko'], 7).title).toContain('ko');
  });
  it('asks only for facts without an answer, in batches of KNOWN_BATCH in list order', () => {
    expect(knownPending(['a', 'b', 'c', 'd'], { a: ['en'], b: null, c: [] })).toEqual(['b', 'd']);
    const ids = Array.from({ length: 12 }, (_, i) => String(i));
    expect(knownBatches(ids, 5)).toEqual([ids.slice(0, 5), ids.slice(5, 10), ids.slice(10)]);
    expect(knownBatches(ids).flat()).toEqual(ids);
    expect(knownBatches(ids).every((b) => b.length <= KNOWN_BATCH)).toBe(true);
  });
  it('asks for the facts in view: the first KNOWN_FIRST, KNOWN_MORE more each time the list is scrolled to its end', () => {
    expect(knownUpTo(KNOWN_FIRST, false, 50)).toBe(KNOWN_FIRST);
    expect(knownUpTo(KNOWN_FIRST, true, 50)).toBe(KNOWN_FIRST + KNOWN_MORE);
    expect(knownUpTo(45, true, 50)).toBe(50);
    expect(knownUpTo(0, true, 50)).toBe(KNOWN_MORE); // on a software adapter the first ask starts at 0
  });
});

describe('the facts store fills the hints', () => {
  it('batch by batch after the list, each answer shown at once, never re-asked', async () => {
    const calls: string[][] = [];
    const pending: ReturnType<typeof deferred<unknown>>[] = [];
    const f = new FactsStore(
      host({
        listFacts: async () => list(KNOWN_FIRST + 1),
        factsKnown: (ids: string[], langs: string[]) => {
          calls.push(ids);
          expect(langs).toEqual([...LANGS]);
          const d = deferred<unknown>();
          pending.push(d);
          return d.promise.then(() => ids.map((id) => ({ factId: id, known: Number(id.split(':')[1]) % 2 ? ['en'] : [], langs })));
        },
      }),
    );
    await f.listFacts();
    await tick();
    expect(calls).toEqual([list(KNOWN_BATCH).facts.map((x) => x.id)]); // one batch at a time
    expect(f.known).toEqual({});
    pending[0].resolve(null);
    await tick();
    await tick();
    expect(Object.keys(f.known).length).toBe(KNOWN_BATCH); // the first batch is shown before the next answers
    expect(f.known['P36:1']).toEqual(['en']);
    expect(f.known['P36:0']).toEqual([]);
    expect(calls.length).toBe(2);
    pending[1].resolve(null);
    await tick();
    await tick();
    // the facts in view only: the (KNOWN_FIRST + 1)-th waits until the list is scrolled to its end
    expect(Object.keys(f.known).length).toBe(KNOWN_FIRST);
    expect(calls.length).toBe(KNOWN_FIRST / KNOWN_BATCH);
    f.moreKnown(true);
    await tick();
    pending[2].resolve(null);
    await tick();
    await tick();
    expect(Object.keys(f.known).length).toBe(KNOWN_FIRST + 1);
    expect(calls.flat()).toEqual(list(KNOWN_FIRST + 1).facts.map((x) => x.id));
    // the same list again (another search with the same facts): nothing is asked twice
    await f.listFacts();
    await tick();
    f.moreKnown(true);
    await tick();
    expect(calls.length).toBe(3);
  });

  it('a newer list drops the older batches; a busy worker (null) is asked again later until it answers; an edit asks again', async () => {
    let busy = false;
    const calls: string[][] = [];
    const first = deferred<unknown>();
    let n = 0;
    const h = host({
      listFacts: async () => list(3),
      factsKnown: async (ids: string[]) => {
        calls.push(ids);
        if (n++ === 0) await first.promise;
        return ids.map((id) => ({ factId: id, known: busy ? null : ['fr'], langs: [...LANGS] }));
      },
      factQueries: async () => ({}),
    });
    const f = new FactsStore(h);
    await f.listFacts();
    await tick();
    f.known = {};
    const again = f.fillKnown(); // a newer fill: the first one's answer must not land
    first.resolve(null);
    await again;
    await tick();
    expect(f.known).toEqual({ 'P36:0': ['fr'], 'P36:1': ['fr'], 'P36:2': ['fr'] });

    busy = true;
    vi.useFakeTimers();
    try {
      await f.fillKnown({ again: true });
      expect(f.known).toEqual({ 'P36:0': null, 'P36:1': null, 'P36:2': null });
      const asked = calls.length;
      await vi.advanceTimersByTimeAsync(KNOWN_RETRY_MS); // still busy: asked again, still nothing
      expect(calls.length).toBe(asked + 1);
      busy = false;
      await vi.advanceTimersByTimeAsync(KNOWN_RETRY_MS); // the worker is free: the retry fills the hints
      expect(calls.length).toBe(asked + 2);
      expect(f.known['P36:2']).toEqual(['fr']);
      await vi.advanceTimersByTimeAsync(10 * KNOWN_RETRY_MS); // and stops asking
      expect(calls.length).toBe(asked + 2);
    } finally {
      vi.useRealTimers();
    }
    const before = calls.length;
    f.factId = 'P36:0';
    await f.modelChanged();
    await tick();
    expect(calls.length).toBe(before + 1);
  });

  it('a failed call stops the hints and says why; a new model starts over', async () => {
    const h = host({ listFacts: async () => list(2), factsKnown: async () => Promise.reject(new Error('no model is loaded')) });
    const f = new FactsStore(h);
    await f.listFacts();
    await tick();
    expect(f.knownError).toBe('no model is loaded');
    const h2 = {
      ...h,
      client: { listFacts: async () => list(2), factsKnown: async (ids: string[]) => ids.map((id) => ({ factId: id, known: ['ja'], langs: [] })) } as never,
      info: { contentHash: 'h2' } as never,
    };
    const g = new FactsStore(h2);
    g.known = { 'P36:0': ['en'] }; // from another model
    await g.listFacts();
    await tick();
    await tick();
    expect(g.known).toEqual({ 'P36:0': ['ja'], 'P36:1': ['ja'] });
    expect(g.knownError).toBe('');
  });
});

describe('on a software WebGPU adapter', () => {
  it('asks for no hint until the user does (each fact is ≈ 32 slow probes there)', async () => {
    const calls: string[][] = [];
    const f = new FactsStore(
      host(
        {
          listFacts: async () => list(3),
          factsKnown: async (ids: string[]) => (calls.push(ids), ids.map((id) => ({ factId: id, known: ['en'], langs: [...LANGS] }))),
        },
        'h1',
        'SwiftShader',
      ),
    );
    await f.listFacts();
    await tick();
    expect(calls).toEqual([]);
    expect(f.knownLimit).toBe(0);
    f.moreKnown(true);
    await tick();
    await tick();
    expect(calls.flat()).toEqual(['P36:0', 'P36:1', 'P36:2']);
    expect(f.known['P36:2']).toEqual(['en']);
  });
});

/**
 * The in-page atlas build's worker side (src/worker/atlas.ts AtlasBuilder) on the bundled demo-causal model: it
 * builds into one model's folder of the shared store (keys under its content hash), says how far a build got,
 * stops between facts on Cancel and resumes with the facts it kept; and the Atlas view reads the stored atlas with
 * the same reader as a shipped one (src/ui/atlas/atlas.ts). The neurons with a page are checked against the union
 * of the stored rows' selections and the LAPE sets, gathered here from the rows themselves.
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { MemoryRecordStore } from '../../src/data/store';
import { MemoryBytesStore } from '../../src/engine/attribution/cache';
import { loadModelArg } from '../../src/engine/index';
import { AtlasBuilder, PrefixedStore } from '../../src/worker/atlas';
import { buildProgressText, buildStatusText, fetchNeuronPage, parseAtlasIndex, type Fetch } from '../../src/ui/atlas/atlas';
import { ready } from '../engine/setup';

/** two languages keep the test short (measured: 3 facts in all seven took 170 s on the busy 2-core machine) */
const LANGS = ['en', 'fr'];

type Row = { row: { fact: string; matrice: number[][]; amig: number[][]; own: Record<string, number[][]> } };

describe('building an atlas in the page (worker side)', () => {
  it('builds, stops on Cancel between facts, resumes, and the view reads what it stored', { timeout: 300_000 }, async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    const bench = openLocal();
    const store = new MemoryRecordStore();
    const b = new AtlasBuilder(
      () => model,
      () => bench,
      store,
      new MemoryBytesStore(),
    );
    const hash = model.info.contentHash;
    expect(await b.status()).toEqual({ built: false, facts: 0, done: 0, storage: 'memory', running: false });

    // Cancel once the first fact is done: the build stops before the merge and keeps that fact
    const first = b.build({ facts: 2, langs: LANGS }, (p) => {
      if (p.phase === 'facts' && p.done >= 1) b.cancel();
    });
    await expect(first).rejects.toMatchObject({ code: 'cancelled' });
    const mid = await b.status();
    expect(mid.built).toBe(false);
    expect(mid.facts).toBe(2);
    expect(mid.done).toBeGreaterThanOrEqual(1);
    expect(mid.done).toBeLessThan(2);
    expect(buildStatusText(mid)).toBe(`A build was begun: ${mid.done} of 2 facts are done; building again resumes it.`);

    // resume: the facts done are not done again
    const phases = new Set<string>();
    let skipped = -1;
    const r = await b.build({ facts: 2, langs: LANGS }, (p) => {
      phases.add(p.phase);
      if (p.phase === 'facts' && p.skipped !== undefined) skipped = p.skipped;
      expect(buildProgressText(p)).toMatch(
        /^(localizing the facts|reading activations over every query|writing the pages|picking facts the model knows): \d+ of \d+/,
      );
    });
    expect(skipped).toBe(mid.done);
    expect(r.written).toBe(2 - mid.done);
    expect(phases.has('pages')).toBe(true);
    expect(await b.status()).toMatchObject({ built: true, facts: 2, done: 2 });

    // every key lives under the model's content hash
    const keys = await store.keys();
    expect(keys.every((k) => k.startsWith(`${hash}/`))).toBe(true);

    // the view's reader over the stored files
    const get: Fetch = async (url) => {
      const v = await b.get(url.slice('stored:'.length));
      return { ok: v !== null, status: v === null ? 404 : 200, json: async () => v };
    };
    const raw = await b.get('atlas.json');
    const { index, skipped: bad } = parseAtlasIndex(raw);
    expect(bad).toEqual([]);
    expect(index.contentHash).toBe(hash);
    expect(index.facts).toHaveLength(2);
    expect(index.langs).toEqual(LANGS);
    expect(index.neurons).toHaveLength(r.pages);

    // the neurons with a page: the rows' selections (MaTrice, AMIG, each language's own) and the LAPE sets
    const folder = new PrefixedStore(store, `${hash}/`);
    const want = new Set<string>();
    for (const f of index.facts) {
      const rec = await folder.get<Row>(`rows/${f.replace(':', '-')}.json`);
      const row = rec!.row;
      for (const n of [...row.matrice, ...row.amig, ...Object.values(row.own).flat()]) want.add(`${n[0]}.${n[1]}`);
    }
    for (const ns of Object.values(index.lape.sets)) for (const n of ns) want.add(`${n[0]}.${n[1]}`);
    expect(new Set(index.neurons.map((e) => `${e.neuron[0]}.${e.neuron[1]}`))).toEqual(want);

    const page = await fetchNeuronPage('stored:', index, index.neurons[0].neuron, get);
    expect(page.contentHash).toBe(hash);
    expect(await b.get('neurons/L9-9.json')).toBeNull();

    await b.forget();
    expect(await store.keys()).toEqual([]);
    expect(await b.status()).toEqual({ built: false, facts: 0, done: 0, storage: 'memory', running: false });
  });
});

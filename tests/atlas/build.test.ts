/**
 * The atlas build (src/engine/atlas/build.ts) on a few facts of bundled:demo-causal (en and fr, M = 2, so it runs in
 * well under a minute): shards 1/2 and 2/2 then a merge equal a one-go build; a cancelled build resumes without
 * redoing finished facts; the pages' numbers against an independent reference — the neuron vectors recomputed one
 * query at a time with the family's forward pieces in float64 sums (activation means, shares > 0, LAPE's all-token
 * counts), the coverage and the types recomputed from the rows by the stated rule — and the bad inputs: another
 * model's folder, a corrupt index entry, a neuron beyond the model, a search that matches nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import type { RmlLama } from '../../src/data/loader';
import { MemoryStore, type RecordStore } from '../../src/data/store';
import { loadModelArg, type LoadedModel } from '../../src/engine/index';
import {
  activationTable,
  buildAtlas,
  BUILD_KEY,
  findEntry,
  INDEX_KEY,
  lape,
  mergeAtlas,
  neuronFile,
  neuronKey,
  noMatch,
  prefixedStore,
  readAtlas,
  readAtlasRows,
  readNeuronPage,
  searchAtlas,
  staticHostCheck,
  type AtlasBuildMeta,
  type AtlasIndex,
  type NeuronPage,
} from '../../src/engine/atlas';
import { buildFactQueries } from '../../src/engine/session';
import { ATLAS_HUB_MIN_RELATIONS, ATLAS_RELATION_MIN_FACTS, ATLAS_STATIC_MAX_BYTES, ATLAS_TYPE_RULE } from '../../src/engine/rules';
import { ready } from '../engine/setup';

const LONG = 600_000;
const LANGS = ['en', 'fr'];
let model: LoadedModel;
let bench: RmlLama;
const cache = new MemoryStore<Uint8Array>();
const base = () => ({ bench, facts: 3, langs: LANGS, steps: 2, cache, command: 'test' });

/** neuron vectors of every layer at every position of one query, the forward pieces one query at a time */
async function allActs(m: LoadedModel, prompt: string): Promise<{ rows: Float32Array[]; position: number }> {
  const q = m.tok.encodeQuery(prompt);
  const T = q.ids.length;
  const rows: Float32Array[] = Array.from({ length: T }, () => new Float32Array(m.cfg.numLayers * m.cfg.ffn));
  let h = m.fm.embed([q.ids]);
  for (let l = 0; l < m.cfg.numLayers; l++) {
    const { h1 } = m.fm.attnHalf(l, h, 1, T);
    const a = m.fm.ffnAct(l, h1);
    const d = (await a.data()) as Float32Array;
    for (let t = 0; t < T; t++) rows[t].set(d.subarray(t * m.cfg.ffn, (t + 1) * m.cfg.ffn), l * m.cfg.ffn);
    const next = m.fm.ffnOut(l, h1, a);
    tf.dispose([h, h1, a]);
    h = next;
  }
  h.dispose();
  return { rows, position: q.position };
}

let oneGo: RecordStore;
let index: AtlasIndex;

beforeAll(async () => {
  await ready;
  model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
  bench = await openLocal();
  oneGo = new MemoryStore<unknown>(true);
  const r = await buildAtlas(model, { ...base(), store: oneGo });
  index = r.index!;
}, LONG);

describe('atlas build on bundled:demo-causal', () => {
  it(
    'shards 1/2 and 2/2, then a merge, write the same atlas as one go',
    async () => {
      const store = new MemoryStore<unknown>(true);
      const a = await buildAtlas(model, { ...base(), store, shard: { k: 1, n: 2 } });
      expect(a.index).toBeNull();
      expect(a.written).toBe(2); // facts 0 and 2
      expect(await store.get(INDEX_KEY)).toBeUndefined();
      const b = await buildAtlas(model, { ...base(), store, shard: { k: 2, n: 2 } });
      expect(b.written).toBe(1);
      const m = await mergeAtlas(model, bench, store);
      expect(m.index).toEqual(index);
      for (const e of index.neurons) expect(await store.get(neuronFile(e.neuron))).toEqual(await oneGo.get(neuronFile(e.neuron)));
      expect(m.bytes).toBeGreaterThan(0);
    },
    LONG,
  );

  it(
    'a cancelled build keeps its finished facts and resumes without redoing them; a merge with missing rows is refused',
    async () => {
      const store = new MemoryStore<unknown>(true);
      const ctl = new AbortController();
      await expect(buildAtlas(model, { ...base(), store }, (p) => p.phase === 'facts' && p.done === 1 && ctl.abort(), ctl.signal)).rejects.toThrow(
        /cancelled after 1 facts/,
      );
      const meta = (await store.get<AtlasBuildMeta>(BUILD_KEY))!;
      expect((await readAtlasRows(store, meta)).rows.length).toBe(1);
      await expect(mergeAtlas(model, bench, store)).rejects.toThrow(/2 of the atlas's 3 facts have no row yet/);
      const r = await buildAtlas(model, { ...base(), store });
      expect([r.skipped, r.written]).toEqual([1, 2]);
      expect(r.index).toEqual(index);
      // another run with other settings into the same folder is refused, naming the setting
      await expect(buildAtlas(model, { ...base(), store, langs: ['en', 'ja'] })).rejects.toThrow(/built with langs = \["en","fr"\]/);
      await expect(buildAtlas(model, { ...base(), store, facts: 5 })).rejects.toThrow(
        /built with request = \{"facts":3,"candidates":null\}, this build asks for \{"facts":5,"candidates":null\}/,
      );
    },
    LONG,
  );

  it(
    "the pages' activations and LAPE sets against the neuron vectors recomputed query by query",
    async () => {
      const qs: { lang: string; prompt: string; fact: string }[] = [];
      for (const fact of index.facts)
        for (const q of (await buildFactQueries(model, bench, fact, LANGS as never)).queries) qs.push({ lang: q.lang, prompt: q.prompt, fact });
      const N = model.cfg.numLayers * model.cfg.ffn;
      const counts: Record<string, Float64Array> = { en: new Float64Array(N), fr: new Float64Array(N) };
      const tokens: Record<string, number> = { en: 0, fr: 0 };
      const answer: Float32Array[] = [];
      for (const q of qs) {
        const { rows, position } = await allActs(model, q.prompt);
        tokens[q.lang] += rows.length;
        for (const r of rows) for (let i = 0; i < N; i++) if (r[i] > 0) counts[q.lang][i]++;
        answer.push(rows[position]);
      }
      const ref = lape(
        activationTable(
          LANGS,
          model.cfg.numLayers,
          model.cfg.ffn,
          LANGS.map((l) => counts[l]),
          LANGS.map((l) => tokens[l]),
        ),
        index.lape,
      );
      expect(index.lape.sets).toEqual(ref.sets);
      expect(index.typeRule).toBe(ATLAS_TYPE_RULE);
      const rows = (await readAtlasRows(oneGo, (await oneGo.get<AtlasBuildMeta>(BUILD_KEY))!)).rows;
      for (const e of index.neurons.filter((_, i) => i % 7 === 0).slice(0, 12)) {
        const page = readNeuronPage(await oneGo.get(neuronFile(e.neuron)), index);
        const i = e.neuron[0] * model.cfg.ffn + e.neuron[1];
        for (const lang of LANGS) {
          const xs = qs.flatMap((q, k) => (q.lang === lang ? [answer[k][i]] : []));
          const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
          expect(page.activation[lang].count).toBe(xs.length);
          expect(page.activation[lang].mean).toBeCloseTo(mean, 4);
          expect(page.activation[lang].fracPositive).toBeCloseTo(xs.filter((x) => x > 0).length / xs.length, 5);
          expect(page.activation[lang].top[0].activation).toBeCloseTo(Math.max(...xs), 4);
        }
        // coverage and type from the rows, by the stated rule
        const k = neuronKey(e.neuron);
        const has = (ns: readonly (readonly number[])[] | undefined) => !!ns?.some((n) => neuronKey(n as [number, number]) === k);
        const using = rows.filter((r) => has(r.matrice) || has(r.amig) || Object.values(r.own).some(has));
        expect(e.facts).toBe(using.length);
        const cov = using.map((r) => Object.values(r.own).filter(has).length);
        expect(e.coverage).toBeCloseTo(cov.length ? cov.reduce((a, b) => a + b, 0) / cov.length : 0, 5);
        const agn = using.filter((r) => has(r.matrice) || has(r.amig));
        const byRel = new Map<string, number>();
        for (const r of agn) byRel.set(r.relation, (byRel.get(r.relation) ?? 0) + 1);
        const want = e.lapeLangs.length
          ? 'language'
          : byRel.size >= ATLAS_HUB_MIN_RELATIONS
            ? 'hub'
            : [...byRel.values()].some((c) => c >= ATLAS_RELATION_MIN_FACTS)
              ? 'relation'
              : agn.length
                ? 'fact'
                : 'other';
        expect(e.type).toBe(want);
        expect(e.lapeLangs).toEqual(LANGS.filter((l) => ref.sets[l].some((n) => neuronKey(n) === k)));
      }
    },
    LONG,
  );

  it('one record store holds several atlases under prefixes (the page: one IndexedDB store)', async () => {
    const shared = new MemoryStore<unknown>(true);
    const a = prefixedStore(shared, 'atlas:a/'),
      b = prefixedStore(shared, 'atlas:b/');
    for (const k of await oneGo.keys()) await a.set(k, await oneGo.get(k));
    await b.set(INDEX_KEY, { other: true });
    expect((await a.keys()).sort()).toEqual((await oneGo.keys()).sort());
    expect(await b.keys()).toEqual([INDEX_KEY]);
    expect(await a.get(INDEX_KEY)).toEqual(index);
    const meta = (await a.get<AtlasBuildMeta>(BUILD_KEY))!;
    expect((await readAtlasRows(a, meta)).rows.map((r) => r.fact)).toEqual(index.facts);
  });

  it('bad inputs: another model’s folder, a corrupt index entry, a neuron beyond the model, a search that matches nothing', async () => {
    const other = new MemoryStore<unknown>(true);
    await other.set(BUILD_KEY, { ...(await oneGo.get<AtlasBuildMeta>(BUILD_KEY))!, model: 'bundled:demo-masked', contentHash: 'deadbeefdeadbeef' });
    await expect(buildAtlas(model, { ...base(), store: other })).rejects.toThrow(/holds the atlas of bundled:demo-masked \(content hash deadbeefdeadbeef\)/);

    const text = JSON.stringify({
      ...index,
      neurons: [...index.neurons.slice(0, 2), { neuron: [99, 0], type: 'fact' }, { neuron: 'x' }, ...index.neurons.slice(2)],
    });
    const r = readAtlas(text);
    expect(r.index.neurons).toEqual(index.neurons);
    expect(r.problems).toEqual([
      'atlas.json: neuron entry 3: neuron L99·0 is beyond the model (4 layers × 512 neurons); skipped',
      'atlas.json: neuron entry 4: neuron is not [layer, index]; skipped',
    ]);
    expect(() => readAtlas('{"format":"kn-atlas"')).toThrow(/atlas.json is not JSON/);
    expect(() => readAtlas({ format: 'something' })).toThrow(/not a neuron atlas index/);

    expect(() => findEntry(index, [4, 0])).toThrow('neuron L4·0 does not exist in bundled:demo-causal (4 layers × 512 neurons)');
    const page = (await oneGo.get<NeuronPage>(neuronFile(index.neurons[0].neuron)))!;
    expect(() => readNeuronPage({ ...page, contentHash: 'ffff' }, index)).toThrow(/belongs to the model with content hash ffff/);

    const q = { token: 'no-such-token-zzz', relation: 'P36' };
    expect(searchAtlas(index, q)).toEqual([]);
    expect(noMatch(q)).toBe('no neuron matches token "no-such-token-zzz" and relation "P36"');
    const fact = index.facts[0];
    const byFact = searchAtlas(index, { fact });
    expect(byFact.length).toBeGreaterThan(0);
    for (const e of byFact) expect(e.factIds).toContain(fact);
    for (const e of searchAtlas(index, { type: 'language' })) expect(e.lapeLangs.length).toBeGreaterThan(0);
    // an atlas too big for a static host: said, with the --facts that would fit (the size grows with the facts)
    expect(staticHostCheck(ATLAS_STATIC_MAX_BYTES, 40)).toEqual({ tooBig: false, fitFacts: null, message: null });
    const big = staticHostCheck(1.5 * ATLAS_STATIC_MAX_BYTES, 40);
    expect(big.fitFacts).toBe(26);
    expect(big.message).toBe('the atlas is 30.00 MB: too big for a static host (over 20.00 MB); rebuild it with --facts 26 or fewer into a new folder');
    expect(() => searchAtlas(index, { type: 'nope' as never })).toThrow(/--type must be one of fact, relation, language, hub, other/);
  });
});

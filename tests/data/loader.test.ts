import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnError } from '../../src/shared/errors';
import { RmlLama } from '../../src/data/loader';
import { fileFetch, openLocal } from '../../src/data/node';
import { computeStats } from '../../src/data/stats';
import { createShardStore, FallbackShardStore, IdbShardStore, MemoryShardStore, shardKey, type ShardStore } from '../../src/data/store';
import { sha256Hex } from '../../src/shared/hash';
import { copyData, countingFetch, DATA_DIR } from './helpers';

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

async function rejects(p: Promise<unknown>, code: string, msg: RegExp) {
  const e = await p.then(
    () => null,
    (x) => x,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(KnError);
  expect((e as KnError).code).toBe(code);
  expect((e as KnError).message).toMatch(msg);
}

describe('manifest and sha256 verification', () => {
  it('loads and verifies every committed shard with WebCrypto', async () => {
    const bench = await openLocal();
    const { shards, errors } = await bench.shards();
    expect(errors).toEqual([]);
    expect(shards.length).toBe(56);
    for (const e of bench.manifest.shards) {
      const bytes = new Uint8Array(readFileSync(join(DATA_DIR, e.path)));
      expect(await sha256Hex(bytes)).toBe(e.sha256);
    }
    const st = computeStats(shards);
    expect(st.factsInAllLanguages).toBeGreaterThanOrEqual(2400);
    for (const l of bench.languages) expect(st.languages[l].relations).toBe(8);
  });

  it('refuses a corrupt shard with a clear error, and the other shards still load', async () => {
    const dir = copyData();
    const path = join(dir, 'v1/P36.fr.json');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace('Paris', 'Lyon'));
    const bench = await RmlLama.open({ baseUrl: dir, fetch: fileFetch });
    await rejects(bench.shard('P36', 'fr'), 'integrity', /v1\/P36\.fr\.json.*corrupt.*sha256/);
    expect((await bench.shard('P36', 'en')).facts.length).toBeGreaterThan(0);
    const { shards, errors } = await bench.shards(['P36', 'P19'], ['fr', 'en']);
    expect(shards.length).toBe(3);
    expect(errors.map((e) => `${e.relation}.${e.lang}:${e.error.code}`)).toEqual(['P36.fr:integrity']);
    // the refused bytes were not cached
    expect(await bench.store.keys()).not.toContain(shardKey(bench.entry('P36', 'fr').sha256));
  });

  it('reports a missing shard by name and keeps the rest usable', async () => {
    const dir = copyData();
    rmSync(join(dir, 'v1/P19.ko.json'));
    const bench = await RmlLama.open({ baseUrl: dir, fetch: fileFetch });
    await rejects(bench.shard('P19', 'ko'), 'missing-file', /P19\.ko\.json.*404/);
    expect((await bench.shard('P19', 'ja')).lang).toBe('ja');
  });

  it('refuses a manifest version the app does not know', async () => {
    const dir = copyData();
    const m = manifestOf(dir);
    m.formatVersion = 2;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    await rejects(RmlLama.open({ baseUrl: dir, fetch: fileFetch }), 'bad-config', /formatVersion 2 is not supported/);
    await rejects(RmlLama.open({ baseUrl: DATA_DIR, manifest: { ...m } }), 'bad-config', /formatVersion 2/);
  });

  it('refuses a manifest that is not JSON, or missing', async () => {
    const dir = copyData();
    writeFileSync(join(dir, 'manifest.json'), '{"formatVersion": 1,');
    await rejects(RmlLama.open({ baseUrl: dir, fetch: fileFetch }), 'corrupt-file', /manifest.*not valid JSON/);
    await rejects(RmlLama.open({ baseUrl: dir + 'nope/', fetch: fileFetch }), 'missing-file', /manifest/);
  });

  it('gives a clear error for a fact id that does not exist', async () => {
    const bench = await openLocal();
    const first = (await bench.shard('P36', 'en')).facts[0];
    expect((await bench.fact(first.id, 'fr')).id).toBe(first.id);
    await rejects(bench.fact('P36:999999', 'en'), 'bad-input', /unknown fact id "P36:999999".*P36/);
    await rejects(bench.fact('P999:1', 'en'), 'bad-input', /unknown fact id "P999:1"/);
    await rejects(bench.fact('capital', 'en'), 'bad-input', /unknown fact id "capital"/);
    expect(() => bench.entry('P36', 'de')).toThrow(/no shard for relation P36 and language de/);
  });
});

describe('shard cache', () => {
  it('serves a second visit from the store with no network request (keyed by sha256)', async () => {
    const store = new MemoryShardStore();
    const f1 = countingFetch();
    const a = await RmlLama.open({ baseUrl: DATA_DIR + '/', fetch: f1, store });
    await a.shard('P37', 'hu');
    expect(f1.calls.filter((c) => c.endsWith('P37.hu.json')).length).toBe(1);
    expect(await store.keys()).toEqual([shardKey(a.entry('P37', 'hu').sha256)]);
    const f2 = countingFetch();
    const b = await RmlLama.open({ baseUrl: DATA_DIR + '/', fetch: f2, store, manifest: a.manifest });
    expect((await b.shard('P37', 'hu')).relation).toBe('P37');
    expect(f2.calls).toEqual([]);
    expect(b.stats).toMatchObject({ networkRequests: 0, cacheHits: 1 });
  });

  it('never uses a cached shard whose hash does not match: it fetches it again', async () => {
    const bench0 = await openLocal();
    const entry = bench0.entry('P36', 'ja');
    const store = new MemoryShardStore();
    await store.set(shardKey(entry.sha256), new TextEncoder().encode('{"formatVersion":1,"facts":[],"templates":[]}'));
    const f = countingFetch();
    const bench = await RmlLama.open({ baseUrl: DATA_DIR + '/', fetch: f, store, manifest: bench0.manifest });
    const shard = await bench.shard('P36', 'ja');
    expect(shard.facts.length).toBe(entry.facts);
    expect(f.calls.length).toBe(1);
    expect(bench.stats).toMatchObject({ cacheRejected: 1, networkRequests: 1, cacheHits: 0 });
    expect(await sha256Hex((await store.get(shardKey(entry.sha256)))!)).toBe(entry.sha256);
  });

  it('falls back to memory when the IndexedDB store throws (QuotaExceededError)', async () => {
    const reasons: string[] = [];
    const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const failing: ShardStore = {
      kind: 'indexeddb',
      get: async () => undefined,
      set: async () => {
        throw quota;
      },
      delete: async () => {},
      keys: async () => [],
    };
    const store = new FallbackShardStore(failing, undefined, (r) => reasons.push(r));
    expect(store.kind).toBe('indexeddb');
    const f = countingFetch();
    const bench = await RmlLama.open({ baseUrl: DATA_DIR + '/', fetch: f, store });
    expect((await bench.shard('P463', 'fi')).facts.length).toBeGreaterThan(0);
    expect(store.kind).toBe('memory');
    expect(reasons[0]).toMatch(/QuotaExceededError/);
    // the shard is now served from memory
    await (await RmlLama.open({ baseUrl: DATA_DIR + '/', fetch: f, store, manifest: bench.manifest })).shard('P463', 'fi');
    expect(f.calls.filter((c) => c.endsWith('.json') && !c.endsWith('manifest.json')).length).toBe(1);
  });

  it('falls back to memory when a read throws too', async () => {
    const failing: ShardStore = {
      kind: 'indexeddb',
      get: async () => {
        throw new Error('database blocked');
      },
      set: async () => {},
      delete: async () => {},
      keys: async () => [],
    };
    const store = new FallbackShardStore(failing);
    const bench = await RmlLama.open({ baseUrl: DATA_DIR + '/', fetch: fileFetch, store });
    expect((await bench.shard('P19', 'en')).lang).toBe('en');
    expect(store.kind).toBe('memory');
    expect(store.fallbackReason).toMatch(/database blocked/);
  });

  it('uses memory where IndexedDB does not exist (Node)', () => {
    expect(() => new IdbShardStore()).toThrow(/IndexedDB is not available/);
    const reasons: string[] = [];
    const s = createShardStore({ onFallback: (r) => reasons.push(r) });
    expect(s.kind).toBe('memory');
    expect(reasons).toEqual(['IndexedDB is not available']);
  });
});

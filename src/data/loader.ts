/**
 * Lazy, verified, cached access to the RML-LAMA shards.
 *
 * Each shard is fetched at most once per session, verified against the manifest's sha256 (WebCrypto),
 * and kept in a ShardStore keyed by that hash, so a later visit reads it from IndexedDB without any
 * network request. A cached copy whose hash does not match is deleted and fetched again, never used.
 * A missing or corrupt shard fails with a KnError naming it; the other shards stay usable.
 */
import { KnError } from '../shared/errors';
import { sha256Hex } from '../shared/hash';
import { MemoryShardStore, shardKey, type ShardStore } from './store';
import type { Fact, Lang, Manifest, Relation, Shard, ShardEntry } from './types';
import { checkLang, isRelation, validateManifest, validateShard } from './validate';

export interface FetchResponseLike {
  ok: boolean;
  status: number;
  statusText?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<FetchResponseLike>;

export interface RmlLamaOptions {
  /** folder URL (or path for a Node fetch) holding manifest.json, ending with "/" */
  baseUrl: string;
  fetch?: FetchLike;
  store?: ShardStore;
  /** an already loaded manifest (e.g. bundled into the app): no request for manifest.json */
  manifest?: unknown;
  signal?: AbortSignal;
}

export interface LoadStats {
  networkRequests: number;
  cacheHits: number;
  /** cached copies refused because their hash did not match */
  cacheRejected: number;
}

export interface ShardLoadResult {
  shards: Shard[];
  errors: { relation: Relation; lang: Lang; error: KnError }[];
}

function asKnError(e: unknown, fallback: string): KnError {
  if (e instanceof KnError) return e;
  if (e instanceof Error && e.name === 'AbortError') return new KnError('cancelled', `${fallback}: cancelled`);
  return new KnError('unreachable', `${fallback}: ${e instanceof Error ? e.message : String(e)}`);
}

export class RmlLama {
  readonly manifest: Manifest;
  readonly baseUrl: string;
  readonly store: ShardStore;
  readonly stats: LoadStats = { networkRequests: 0, cacheHits: 0, cacheRejected: 0 };
  private fetchFn: FetchLike;
  private pending = new Map<string, Promise<Shard>>();

  private constructor(manifest: Manifest, baseUrl: string, fetchFn: FetchLike, store: ShardStore) {
    this.manifest = manifest;
    this.baseUrl = baseUrl;
    this.fetchFn = fetchFn;
    this.store = store;
  }

  static async open(opts: RmlLamaOptions): Promise<RmlLama> {
    const baseUrl = opts.baseUrl.endsWith('/') ? opts.baseUrl : opts.baseUrl + '/';
    const fetchFn: FetchLike = opts.fetch ?? ((url, init) => fetch(url, init));
    const store = opts.store ?? new MemoryShardStore();
    let raw = opts.manifest;
    let requests = 0;
    if (raw === undefined) {
      const url = baseUrl + 'manifest.json';
      let res: FetchResponseLike;
      try {
        requests++;
        res = await fetchFn(url, { signal: opts.signal });
      } catch (e) {
        throw asKnError(e, `RML-LAMA manifest ${url}`);
      }
      if (!res.ok) throw new KnError('missing-file', `RML-LAMA manifest ${url}: HTTP ${res.status} ${res.statusText ?? ''}`.trim());
      try {
        raw = JSON.parse(new TextDecoder().decode(await res.arrayBuffer()));
      } catch (e) {
        throw new KnError('corrupt-file', `RML-LAMA manifest ${url}: not valid JSON (${(e as Error).message})`);
      }
    }
    const r = new RmlLama(validateManifest(raw), baseUrl, fetchFn, store);
    r.stats.networkRequests += requests;
    return r;
  }

  get relations(): Relation[] {
    return this.manifest.relations;
  }
  get languages(): Lang[] {
    return this.manifest.languages;
  }

  entry(relation: string, lang: string): ShardEntry {
    const e = this.manifest.shards.find((s) => s.relation === relation && s.lang === lang);
    if (!e) throw new KnError('bad-input', `RML-LAMA has no shard for relation ${relation} and language ${lang}`);
    return e;
  }

  /** One shard, loaded once (concurrent calls share the request); a failure can be retried. */
  shard(relation: Relation, lang: Lang, opts: { signal?: AbortSignal } = {}): Promise<Shard> {
    const entry = this.entry(relation, lang);
    const k = `${relation}.${lang}`;
    let p = this.pending.get(k);
    if (!p) {
      p = this.loadShard(entry, opts.signal);
      this.pending.set(k, p);
      p.catch(() => this.pending.delete(k));
    }
    return p;
  }

  /** Many shards; failures are reported per shard and do not stop the others. */
  async shards(
    relations: readonly Relation[] = this.relations,
    langs: readonly Lang[] = this.languages,
    opts: { signal?: AbortSignal; onProgress?: (p: { stage: string; loaded: number; total: number }) => void } = {},
  ): Promise<ShardLoadResult> {
    const jobs: { relation: Relation; lang: Lang }[] = [];
    for (const relation of relations) for (const lang of langs) jobs.push({ relation, lang });
    const out: ShardLoadResult = { shards: [], errors: [] };
    let loaded = 0;
    const results = await Promise.all(
      jobs.map(async (j) => {
        try {
          const s = await this.shard(j.relation, j.lang, opts);
          return { ...j, s };
        } catch (e) {
          return { ...j, e: asKnError(e, `RML-LAMA shard ${j.relation}.${j.lang}`) };
        } finally {
          opts.onProgress?.({ stage: 'RML-LAMA shards', loaded: ++loaded, total: jobs.length });
        }
      }),
    );
    for (const r of results) {
      if ('s' in r && r.s) out.shards.push(r.s);
      else if ('e' in r && r.e) out.errors.push({ relation: r.relation, lang: r.lang, error: r.e });
    }
    return out;
  }

  /** A fact in one language by its id ("P36:123"). */
  async fact(id: string, lang: Lang): Promise<Fact> {
    const m = /^(P\d+):(\d+)$/.exec(id);
    if (!m || !isRelation(m[1]))
      throw new KnError('bad-input', `unknown fact id "${id}" (expected <relation>:<lineid>, e.g. P36:0, with a relation of ${this.relations.join(', ')})`);
    checkLang(lang);
    const shard = await this.shard(m[1], lang);
    const f = shard.facts.find((x) => x.id === id);
    if (!f) throw new KnError('bad-input', `unknown fact id "${id}": relation ${m[1]} has no fact with line id ${m[2]} in RML-LAMA`);
    return f;
  }

  private async loadShard(entry: ShardEntry, signal?: AbortSignal): Promise<Shard> {
    const key = shardKey(entry.sha256);
    let cached: Uint8Array | undefined;
    try {
      cached = await this.store.get(key);
    } catch {
      cached = undefined;
    }
    if (cached) {
      if ((await sha256Hex(cached)) === entry.sha256) {
        this.stats.cacheHits++;
        return this.parse(cached, entry);
      }
      this.stats.cacheRejected++;
      try {
        await this.store.delete(key);
      } catch {
        /* a store that cannot delete will be overwritten below */
      }
    }
    const url = this.baseUrl + entry.path;
    let res: FetchResponseLike;
    try {
      this.stats.networkRequests++;
      res = await this.fetchFn(url, { signal });
    } catch (e) {
      throw asKnError(e, `RML-LAMA shard ${entry.path}`);
    }
    if (!res.ok) {
      throw new KnError('missing-file', `RML-LAMA shard ${entry.path} (${entry.relation}.${entry.lang}): HTTP ${res.status} ${res.statusText ?? ''}`.trim());
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const hash = await sha256Hex(bytes);
    if (hash !== entry.sha256) {
      throw new KnError(
        'integrity',
        `RML-LAMA shard ${entry.path} (${entry.relation}.${entry.lang}) is corrupt: sha256 ${hash.slice(0, 12)}… (${bytes.length} bytes) does not match the manifest's ${entry.sha256.slice(0, 12)}… (${entry.bytes} bytes); it was not used`,
      );
    }
    const shard = this.parse(bytes, entry);
    try {
      await this.store.set(key, bytes);
    } catch {
      /* caching is best effort */
    }
    return shard;
  }

  private parse(bytes: Uint8Array, entry: ShardEntry): Shard {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new KnError('corrupt-file', `RML-LAMA shard ${entry.path}: not valid JSON (${(e as Error).message})`);
    }
    return validateShard(json, entry);
  }
}

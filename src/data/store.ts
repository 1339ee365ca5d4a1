/**
 * Shard cache. One interface, two implementations: IndexedDB through idb-keyval (the browser) and an
 * in-memory twin (Node, private windows, quota exhausted). FallbackShardStore switches to memory for
 * good as soon as IndexedDB is missing or throws (e.g. QuotaExceededError).
 */
import { createStore, get, set, del, keys, type UseStore } from 'idb-keyval';

export interface ShardStore {
  readonly kind: 'indexeddb' | 'memory';
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** Cache key of a shard: its sha256 (content-addressed, so a new build never reads an old shard). */
export const shardKey = (sha256: string) => `sha256:${sha256}`;

export class MemoryShardStore implements ShardStore {
  readonly kind = 'memory' as const;
  private map = new Map<string, Uint8Array>();
  async get(key: string) {
    return this.map.get(key);
  }
  async set(key: string, bytes: Uint8Array) {
    this.map.set(key, bytes);
  }
  async delete(key: string) {
    this.map.delete(key);
  }
  async keys() {
    return [...this.map.keys()];
  }
}

export class IdbShardStore implements ShardStore {
  readonly kind = 'indexeddb' as const;
  private store: UseStore;
  constructor(dbName = 'kn-rml-lama', storeName = 'shards') {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
    this.store = createStore(dbName, storeName);
  }
  async get(key: string) {
    const v = await get<Uint8Array | ArrayBuffer>(key, this.store);
    if (v === undefined) return undefined;
    return v instanceof Uint8Array ? v : new Uint8Array(v);
  }
  async set(key: string, bytes: Uint8Array) {
    await set(key, bytes, this.store);
  }
  async delete(key: string) {
    await del(key, this.store);
  }
  async keys() {
    return (await keys(this.store)).map(String);
  }
}

export class FallbackShardStore implements ShardStore {
  private primary: ShardStore | null;
  readonly memory = new MemoryShardStore();
  /** why the store is in memory (null while the primary works) */
  fallbackReason: string | null = null;
  constructor(primary: ShardStore | null, reason?: string, private onFallback?: (reason: string) => void) {
    this.primary = primary;
    if (!primary) this.fallbackReason = reason ?? 'no persistent store';
  }
  get kind() {
    return this.primary ? this.primary.kind : 'memory';
  }
  private fail(e: unknown) {
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.primary = null;
    this.fallbackReason = reason;
    this.onFallback?.(reason);
  }
  private async use<T>(op: (s: ShardStore) => Promise<T>): Promise<T> {
    if (this.primary) {
      try {
        return await op(this.primary);
      } catch (e) {
        this.fail(e);
      }
    }
    return op(this.memory);
  }
  async get(key: string) {
    return (await this.memory.get(key)) ?? (this.primary ? this.use((s) => s.get(key)) : undefined);
  }
  set(key: string, bytes: Uint8Array) {
    return this.use((s) => s.set(key, bytes));
  }
  async delete(key: string) {
    await this.memory.delete(key);
    if (this.primary) await this.use((s) => s.delete(key));
  }
  keys() {
    return this.use((s) => s.keys());
  }
}

/**
 * The store the app should use: IndexedDB when it exists, memory otherwise; any IndexedDB error later
 * (QuotaExceededError, blocked database) moves it to memory too.
 */
export function createShardStore(opts: { dbName?: string; onFallback?: (reason: string) => void } = {}): FallbackShardStore {
  try {
    return new FallbackShardStore(new IdbShardStore(opts.dbName), undefined, opts.onFallback);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    opts.onFallback?.(reason);
    return new FallbackShardStore(null, reason, opts.onFallback);
  }
}

/**
 * One store interface for the app: a key-value store of bytes (dataset shards, attribution cache) or of JSON
 * values (experiment runs and rows, calibrations), with two backends here, picked once (as poloclub/mememo
 * picks NodesInIndexedDB or NodesInMemory): IndexedDB through idb-keyval (the browser) and an in-memory twin
 * (Node, private windows, quota exhausted). FallbackShardStore switches to memory for good as soon as
 * IndexedDB is missing or throws (e.g. QuotaExceededError).
 *
 * The other backends of the same interface live where their platform does (data/ stays a browser-safe leaf):
 * a folder of files in Node (engine/node FolderStore: bytes; the attribution cache's BytesStore is the
 * get/set part of KeyValueStore<Uint8Array>) and NDJSON results folders (cli/results.ts NdjsonRowSink: rows).
 */
import { createStore, get, set, del, keys, type UseStore } from 'idb-keyval';

/** A key-value store: bytes (`KeyValueStore<Uint8Array>`) or JSON values (`KeyValueStore<unknown>`). */
export interface KeyValueStore<V> {
  readonly kind: 'indexeddb' | 'memory';
  get<T extends V = V>(key: string): Promise<T | undefined>;
  set(key: string, value: V): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** A store of bytes (dataset shards, attributions). */
export type ShardStore = KeyValueStore<Uint8Array>;
/** A store of JSON values (runs, rows, calibrations). */
export type RecordStore = KeyValueStore<unknown>;

/** Cache key of a shard: its sha256 (content-addressed, so a new build never reads an old shard). */
export const shardKey = (sha256: string) => `sha256:${sha256}`;

/** The memory backend. `clone`: values are copied in and out, as IndexedDB's structured clone does (JSON records). */
export class MemoryStore<V> implements KeyValueStore<V> {
  readonly kind = 'memory' as const;
  readonly map = new Map<string, V>();
  constructor(private readonly clone = false) {}
  async get<T extends V = V>(key: string) {
    const v = this.map.get(key);
    return (v === undefined || !this.clone ? v : structuredClone(v)) as T | undefined;
  }
  async set(key: string, value: V) {
    this.map.set(key, this.clone ? structuredClone(value) : value);
  }
  async delete(key: string) {
    this.map.delete(key);
  }
  async keys() {
    return [...this.map.keys()];
  }
}

/** The IndexedDB backend (one object store of one database). `read` normalizes what comes back (bytes). */
export class IdbStore<V> implements KeyValueStore<V> {
  readonly kind = 'indexeddb' as const;
  private store: UseStore;
  constructor(
    dbName: string,
    storeName: string,
    private readonly read: (v: unknown) => V = (v) => v as V,
  ) {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
    this.store = createStore(dbName, storeName);
  }
  async get<T extends V = V>(key: string) {
    const v = await get<unknown>(key, this.store);
    return (v === undefined ? undefined : this.read(v)) as T | undefined;
  }
  async set(key: string, value: V) {
    await set(key, value, this.store);
  }
  async delete(key: string) {
    await del(key, this.store);
  }
  async keys() {
    return (await keys(this.store)).map(String);
  }
}

/** Picks the backend once: the persistent one when it opens, memory otherwise (with the reason). */
export function pickStore<S>(persistent: () => S, memory: () => S): { store: S; reason: string | null } {
  try {
    return { store: persistent(), reason: null };
  } catch (e) {
    return { store: memory(), reason: e instanceof Error ? e.message : String(e) };
  }
}

const bytes = (v: unknown) => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer));

export class MemoryShardStore extends MemoryStore<Uint8Array> {}

export class IdbShardStore extends IdbStore<Uint8Array> {
  constructor(dbName = 'kn-rml-lama', storeName = 'shards') {
    super(dbName, storeName, bytes);
  }
}

/** JSON records in memory, copied in and out as IndexedDB would. */
export class MemoryRecordStore extends MemoryStore<unknown> {
  constructor() {
    super(true);
  }
}

export class IdbRecordStore extends IdbStore<unknown> {
  constructor(dbName = 'kn-experiments', storeName = 'runs') {
    super(dbName, storeName);
  }
}

/** IndexedDB when it works, otherwise memory (the view says the rows will not survive a reload). */
export const createRecordStore = (dbName?: string, storeName?: string): { store: RecordStore; reason: string | null } =>
  pickStore<RecordStore>(
    () => new IdbRecordStore(dbName, storeName),
    () => new MemoryRecordStore(),
  );

export class FallbackShardStore implements ShardStore {
  private primary: ShardStore | null;
  readonly memory = new MemoryShardStore();
  /** why the store is in memory (null while the primary works) */
  fallbackReason: string | null = null;
  constructor(
    primary: ShardStore | null,
    reason?: string,
    private onFallback?: (reason: string) => void,
  ) {
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
  async get<T extends Uint8Array = Uint8Array>(key: string): Promise<T | undefined> {
    return ((await this.memory.get(key)) ?? (this.primary ? this.use((s) => s.get(key)) : undefined)) as Promise<T | undefined>;
  }
  set(key: string, value: Uint8Array) {
    return this.use((s) => s.set(key, value));
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
  const { store, reason } = pickStore<ShardStore | null>(
    () => new IdbShardStore(opts.dbName),
    () => null,
  );
  if (reason !== null) opts.onFallback?.(reason);
  return new FallbackShardStore(store, reason ?? undefined, opts.onFallback);
}

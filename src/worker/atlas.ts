/**
 * The in-page atlas build (the Experiments view's "Build this model's atlas"): the engine's buildAtlas
 * (src/engine/atlas) into IndexedDB, through the one store (src/data/store.ts createRecordStore: 'kn-atlas' /
 * 'atlases'). Each model's atlas lives under its content hash (`<hash>/atlas.json`, `<hash>/neurons/L0-3.json`, the
 * build's rows and meta), so a reload resumes a cancelled build (finished facts are kept) and the Atlas view reads a
 * finished one with `get` as it reads a shipped one with fetch. Pure engine calls and a key-value store.
 */
import { createRecordStore, type RecordStore } from '../data/store';
import type { RmlLama } from '../data/loader';
import { KnError } from '../shared/errors';
import type { BytesStore } from '../engine/attribution';
import type { LoadedModel } from '../engine/families';
import { BUILD_KEY, INDEX_KEY, ROW_PREFIX, buildAtlas, type AtlasBuildMeta, type AtlasProgress } from '../engine/atlas';
import type { AtlasBuildRequest, AtlasBuildResultView, AtlasBuildStatus } from './api';

/** A record store seen through a key prefix (one model's atlas inside the shared database). */
export class PrefixedStore implements RecordStore {
  constructor(
    private inner: RecordStore,
    private prefix: string,
  ) {}
  get kind() {
    return this.inner.kind;
  }
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.inner.get<T>(this.prefix + key);
  }
  set(key: string, value: unknown): Promise<void> {
    return this.inner.set(this.prefix + key, value);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(this.prefix + key);
  }
  async keys(): Promise<string[]> {
    return (await this.inner.keys()).filter((k) => k.startsWith(this.prefix)).map((k) => k.slice(this.prefix.length));
  }
}

export function createAtlasStore() {
  return createRecordStore('kn-atlas', 'atlases');
}

export class AtlasBuilder {
  private running: AbortController | null = null;

  constructor(
    private model: () => LoadedModel | null,
    private bench: () => Promise<RmlLama>,
    readonly store: RecordStore,
    private cache: BytesStore,
  ) {}

  get busy() {
    return this.running !== null;
  }

  private loaded(): LoadedModel {
    const m = this.model();
    if (!m) throw new KnError('bad-input', 'no model is loaded: load one before building its atlas');
    return m;
  }

  /** The loaded model's atlas folder in the store. */
  private folder(m: LoadedModel) {
    return new PrefixedStore(this.store, `${m.info.contentHash}/`);
  }

  /** What the store holds of the loaded model's atlas: a finished index, or a build's facts done so far. */
  async status(): Promise<AtlasBuildStatus> {
    const m = this.model();
    if (!m) return { built: false, facts: 0, done: 0, storage: this.store.kind };
    const f = this.folder(m);
    const meta = await f.get<AtlasBuildMeta>(BUILD_KEY);
    const keys = await f.keys();
    return {
      built: keys.includes(INDEX_KEY),
      facts: meta?.facts.length ?? 0,
      done: keys.filter((k) => k.startsWith(ROW_PREFIX)).length,
      storage: this.store.kind,
      running: this.busy,
    };
  }

  /** One file of the loaded model's atlas (`atlas.json`, `neurons/L0-3.json`), or null when the store has none. */
  async get(key: string): Promise<unknown | null> {
    const m = this.model();
    if (!m) return null;
    return (await this.folder(m).get(key)) ?? null;
  }

  /** Builds or resumes the loaded model's atlas; `onProgress` per fact and phase. */
  async build(req: AtlasBuildRequest, onProgress?: (p: AtlasProgress) => void): Promise<AtlasBuildResultView> {
    if (this.running) throw new KnError('bad-input', 'an atlas is being built already; cancel it first');
    const m = this.loaded();
    const ctl = new AbortController();
    this.running = ctl;
    const t0 = performance.now();
    try {
      const r = await buildAtlas(
        m,
        {
          bench: await this.bench(),
          store: this.folder(m),
          facts: req.facts,
          ...(req.langs ? { langs: req.langs } : {}),
          cache: this.cache,
          command: `built in the page (Experiments view) from ${req.facts} facts`,
        },
        onProgress,
        ctl.signal,
      );
      return { pages: r.pages, bytes: r.bytes, written: r.written, skipped: r.skipped, problems: r.problems, ms: performance.now() - t0 };
    } finally {
      this.running = null;
    }
  }

  cancel(): void {
    this.running?.abort();
  }

  /** Drops the loaded model's atlas (and its build's rows) from the store. */
  async forget(): Promise<void> {
    const f = this.folder(this.loaded());
    for (const k of await f.keys()) await f.delete(k);
  }
}

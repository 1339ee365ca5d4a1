/**
 * The Atlas view's store: the atlas it reads (fetched from models/<name>/atlas/, no model needed), the search and
 * its results, and the neuron whose page is open. Which neuron is open is the explorer's (`atlasNeuron`, so the
 * link and exploration files carry it); this store follows it. Logic in atlas.ts beside it.
 */
import { KnError, toKnError } from '../../shared/errors';
import { untrack } from 'svelte';
import { DEFAULT_MODEL } from '../explorer/settings';
import {
  atlasDir,
  atlasNameFor,
  entryOf,
  factNeedsPages,
  fetchAtlasIndex,
  fetchNeuronPage,
  filterByFact,
  modelMismatch,
  neuronKey,
  noMatchText,
  queryIsEmpty,
  searchIndex,
  type AtlasEntry,
  type AtlasIndex,
  type AtlasQuery,
  type NeuronPage,
  type NeuronRef,
  type Fetch,
} from './atlas';
import { ATLAS_DEFAULT_FACTS } from '../../engine/rules';
import type { ExplorerClient } from '../explorer/client';
import type { AtlasBuildResultView, AtlasBuildStatus, AtlasProgress } from '../../worker/api';

export interface AtlasHost {
  /** the loaded model's identity (null while none is loaded) */
  readonly info: { contentHash: string; source?: string } | null;
  /** the worker (an atlas built in the page is read and built through it) */
  readonly client: ExplorerClient | null;
}

/** Where the open atlas is read from: a shipped one with fetch, or one built in the page from the worker's store. */
interface Source {
  dir: string;
  fetch: Fetch;
}
const STORED = 'stored:';

/** fetch's shape over the worker's stored atlas: `stored:atlas.json` → atlasGet('atlas.json'), 404 when it has none. */
function storedFetch(client: ExplorerClient): Fetch {
  return async (url: string) => {
    const v = await client.atlasGet(url.slice(STORED.length));
    return { ok: v !== null, status: v === null ? 404 : 200, json: async () => v };
  };
}

export class AtlasStore {
  name: string | null = $state(null);
  /** 'shipped' (models/<name>/atlas/) or 'page' (built in this page, IndexedDB) */
  origin: 'shipped' | 'page' | null = $state(null);
  index: AtlasIndex | null = $state.raw(null);
  /** index entries left out as malformed (said on the page) */
  skipped: string[] = $state.raw([]);
  error: KnError | null = $state.raw(null);
  loading = $state(false);

  query: AtlasQuery = $state({ token: '', fact: '', relation: '', lang: '', type: '' });
  results: AtlasEntry[] | null = $state.raw(null);
  searching = $state(false);
  noMatch = $state('');
  searchError = $state('');

  neuron: NeuronRef | null = $state.raw(null);
  page: NeuronPage | null = $state.raw(null);
  pageError: KnError | null = $state.raw(null);
  pageLoading = $state(false);

  // the in-page build (worker/atlas.ts)
  status: AtlasBuildStatus | null = $state.raw(null);
  building = $state(false);
  progress: AtlasProgress | null = $state.raw(null);
  buildError: KnError | null = $state.raw(null);
  built: AtlasBuildResultView | null = $state.raw(null);
  /** facts to build from (the engine's default) */
  buildFacts = $state(ATLAS_DEFAULT_FACTS);

  private source: Source | null = null;
  private opened = '';
  private pages = new Map<string, Promise<NeuronPage>>();
  private seq = { index: 0, page: 0, search: 0 };

  constructor(
    private host: AtlasHost,
    private base = '/',
  ) {}

  /** What is wrong with the atlas for the loaded model ('' when nothing). */
  get mismatch(): string {
    return this.index ? modelMismatch(this.index, this.host.info) : '';
  }

  /**
   * The atlas of the page's model, opened: the shipped one (atlas.ts atlasNameFor: `?atlas=`, the loaded bundled
   * model's, the default model's while none is loaded), else one built in this page for the loaded weights. Returns
   * the shipped atlas's name (null for a model from elsewhere).
   */
  openFor(spec: { type: string; name?: string } | null): string | null {
    const name = atlasNameFor(typeof location === 'undefined' ? '' : location.search, spec, DEFAULT_MODEL);
    const hash = this.host.info?.contentHash ?? '';
    // untracked: an effect that calls this depends on the model only, not on the store's own state
    untrack(() => {
      const key = `${name ?? ''}|${hash}`;
      if (key === this.opened && (this.index || this.loading)) return;
      this.opened = key;
      void (async () => {
        if (name && (await this.open(name))) return;
        if (hash) await this.openStored();
      })();
    });
    return name;
  }

  /** Opens `models/<name>/atlas/`. */
  open(name: string): Promise<boolean> {
    return this.read(name, 'shipped', { dir: atlasDir(name, this.base), fetch: (u) => fetch(u) });
  }

  /** Opens the atlas built in this page for the loaded weights, if the worker's store holds a finished one. */
  async openStored(): Promise<boolean> {
    const client = this.host.client;
    if (!client || !this.host.info) return false;
    try {
      this.status = await client.atlasStatus();
    } catch {
      return false;
    }
    if (!this.status.built) return false;
    return this.read(this.host.info.source ?? 'this model', 'page', { dir: STORED, fetch: storedFetch(client) });
  }

  private async read(name: string, origin: 'shipped' | 'page', src: Source): Promise<boolean> {
    const s = ++this.seq.index;
    const keepError = origin === 'page' ? this.error : null;
    this.name = name;
    this.origin = origin;
    this.source = src;
    this.index = null;
    this.results = null;
    this.error = null;
    this.pages.clear();
    this.loading = true;
    try {
      const r = await fetchAtlasIndex(src.dir, name, src.fetch);
      if (s !== this.seq.index) return false;
      this.index = r.index;
      this.skipped = r.skipped;
      this.results = searchIndex(r.index, {});
      return true;
    } catch (e) {
      if (s === this.seq.index) this.error = origin === 'page' && keepError ? keepError : toKnError(e);
      return false;
    } finally {
      if (s === this.seq.index) this.loading = false;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // the in-page build

  async refreshStatus() {
    const client = this.host.client;
    if (!client || !this.host.info) {
      this.status = null;
      return;
    }
    try {
      this.status = await client.atlasStatus();
    } catch (e) {
      this.buildError = toKnError(e);
    }
  }

  /** Builds (or resumes) the loaded model's atlas in the page, then opens it. */
  async build() {
    const client = this.host.client;
    if (!client || !this.host.info || this.building) return;
    this.building = true;
    this.buildError = null;
    this.built = null;
    this.progress = null;
    try {
      this.built = await client.atlasBuild({ facts: this.buildFacts }, (p) => (this.progress = p));
      this.opened = '';
      await this.openStored();
    } catch (e) {
      const err = toKnError(e);
      if (err.code !== 'cancelled') this.buildError = err;
    } finally {
      this.building = false;
      await this.refreshStatus();
    }
  }

  async cancelBuild() {
    await this.host.client?.atlasCancel();
  }

  /** Drops the page's atlas of the loaded weights. */
  async forget() {
    await this.host.client?.atlasForget();
    if (this.origin === 'page') {
      this.index = null;
      this.results = null;
      this.name = null;
      this.origin = null;
      this.opened = '';
    }
    await this.refreshStatus();
  }

  /** A neuron's page, fetched once. */
  pageOf(n: NeuronRef): Promise<NeuronPage> {
    const idx = this.index;
    const src = this.source;
    if (!idx || !src) return Promise.reject(new KnError('missing-file', 'no atlas is open'));
    const k = neuronKey(n);
    let p = this.pages.get(k);
    if (!p) {
      p = fetchNeuronPage(src.dir, idx, n, src.fetch);
      p.catch(() => this.pages.delete(k));
      this.pages.set(k, p);
    }
    return p;
  }

  async search() {
    const idx = this.index;
    if (!idx) return;
    const s = ++this.seq.search;
    const q = { ...this.query };
    this.searchError = '';
    this.noMatch = '';
    this.searching = true;
    try {
      let r = searchIndex(idx, q);
      if (factNeedsPages(idx, q)) r = await filterByFact(r, q.fact ?? '', (n) => this.pageOf(n));
      if (s !== this.seq.search) return;
      this.results = r;
      this.noMatch = r.length || queryIsEmpty(q) ? '' : noMatchText(idx, q);
    } catch (e) {
      if (s === this.seq.search) {
        this.results = [];
        this.searchError = toKnError(e).message;
      }
    } finally {
      if (s === this.seq.search) this.searching = false;
    }
  }

  clearSearch() {
    this.query = { token: '', fact: '', relation: '', lang: '', type: '' };
    void this.search();
  }

  /** Shows a neuron's page (null: none). Errors (beyond the model, no page) are said in place of the page. */
  async show(n: NeuronRef | null) {
    const s = ++this.seq.page;
    this.neuron = n;
    this.page = null;
    this.pageError = null;
    if (!n || !this.index) return;
    this.pageLoading = true;
    try {
      entryOf(this.index, n);
      const p = await this.pageOf(n);
      if (s === this.seq.page) this.page = p;
    } catch (e) {
      if (s === this.seq.page) this.pageError = toKnError(e);
    } finally {
      if (s === this.seq.page) this.pageLoading = false;
    }
  }
}

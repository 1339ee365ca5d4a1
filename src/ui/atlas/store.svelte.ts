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
} from './atlas';

export interface AtlasHost {
  /** the loaded model's identity (null while none is loaded) */
  readonly info: { contentHash: string; source?: string } | null;
}

export class AtlasStore {
  name: string | null = $state(null);
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

  private pages = new Map<string, Promise<NeuronPage>>();
  private seq = { index: 0, page: 0, search: 0 };

  constructor(
    private host: AtlasHost,
    private base = '/',
  ) {}

  get dir(): string | null {
    return this.name ? atlasDir(this.name, this.base) : null;
  }

  /** What is wrong with the atlas for the loaded model ('' when nothing). */
  get mismatch(): string {
    return this.index ? modelMismatch(this.index, this.host.info) : '';
  }

  /**
   * The atlas of the page's model (atlas.ts atlasNameFor: `?atlas=`, the loaded bundled model's, the default model's
   * while none is loaded; null for a model from elsewhere), opened. Returns its name.
   */
  openFor(spec: { type: string; name?: string } | null): string | null {
    const name = atlasNameFor(typeof location === 'undefined' ? '' : location.search, spec, DEFAULT_MODEL);
    // untracked: an effect that calls this depends on the model only, not on the store's own state
    if (name) untrack(() => void this.open(name));
    return name;
  }

  /** Opens `models/<name>/atlas/` (again only when the name changed or the last try failed). */
  async open(name: string): Promise<boolean> {
    if (name === this.name && (this.index || this.loading)) return !!this.index;
    const s = ++this.seq.index;
    this.name = name;
    this.index = null;
    this.results = null;
    this.error = null;
    this.pages.clear();
    this.loading = true;
    try {
      const r = await fetchAtlasIndex(atlasDir(name, this.base), name);
      if (s !== this.seq.index) return false;
      this.index = r.index;
      this.skipped = r.skipped;
      this.results = searchIndex(r.index, {});
      return true;
    } catch (e) {
      if (s === this.seq.index) this.error = toKnError(e);
      return false;
    } finally {
      if (s === this.seq.index) this.loading = false;
    }
  }

  /** A neuron's page, fetched once. */
  pageOf(n: NeuronRef): Promise<NeuronPage> {
    const idx = this.index;
    const dir = this.dir;
    if (!idx || !dir) return Promise.reject(new KnError('missing-file', 'no atlas is open'));
    const k = neuronKey(n);
    let p = this.pages.get(k);
    if (!p) {
      p = fetchNeuronPage(dir, idx, n);
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

/**
 * The explorer store: everything the page shows and every call to the worker. Views read its fields
 * and call its methods; nothing else talks to the worker.
 *
 * Live updates use "latest wins": each kind of request carries a sequence number and a stale answer is
 * dropped, so moving a slider quickly never shows an older result after a newer one.
 */
import { KnError, toKnError } from '../../engine/errors';
import { METHODS, METHOD_LABELS, type Method } from '../../engine/matrice/methods';
import { layerDistribution } from '../../engine/matrice/scoring';
import type { MatriceSettings, NeuronId } from '../../engine/matrice/scoring';
import { DEFAULT_BASELINE, DEFAULT_MODEL, DEFAULT_STEPS, defaultSettings, type Settings } from './settings';
import type { BackendInfo, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../../engine/types';
import type {
  AttributionsExport,
  FactList,
  FactQueries,
  LocalizeProgress,
  LocalizeResult,
  ManipulateResult,
  MemoryReport,
  NeuronStatsResult,
  ScoreResult,
} from '../../worker/api';
import { fetchBundledModels, type BundledModel } from '../sources';
import { decodeState, encodeState, type ExplorationState, type ExplorationModel } from '../share/state';
import { fetchStaticExploration, staticParam } from '../share/static-export';
import { ExplorerClient } from './client';
import { importExploration, type ExplorationMeta, type ExplorationResults, type ImportedExploration } from '../share/exploration-file';
import type { ProbRow } from '../plots/charts';
import { liveFactView, storedFactView, type FactView } from './facts';
import { ALL_LANGS, describeModel, modelToState, parseNeuronList, perLanguageRows, stateToModel } from './logic';

export type View = 'data' | 'localize' | 'toggle' | 'share' | 'experiments';
export type ToggleSet = 'selected' | 'one' | 'manual';

export { DEFAULT_MODEL, defaultSettings, type Settings } from './settings';

/** A read-only exploration (a static export, or an imported file): stored results, no model. */
export interface StaticView {
  title: string;
  imported: ImportedExploration;
}

export interface CompareSeries {
  name: string;
  method: Method;
  neurons: NeuronId[];
  result: ManipulateResult;
}

export class Explorer {
  client: ExplorerClient | null = null;
  backend: BackendInfo | null = $state(null);
  backendError: KnError | null = $state(null);
  notice = $state('');
  error: KnError | null = $state(null);
  errorTitle = $state('Error');
  view: View = $state('data');
  helpOpen = $state(false);
  helpTopic = $state('overview');

  // model
  bundled: BundledModel[] = $state([]);
  bundledLoaded = $state(false);
  loading = $state(false);
  progress: Progress | null = $state(null);
  info: ModelInfo | null = $state(null);
  memory: MemoryReport | null = $state(null);
  modelSpec: ModelSourceSpec | null = $state.raw(null);
  dtype: WeightDtype = $state('int8');
  probing = $state(false);
  probeResult: ProbeResult | null = $state(null);

  // benchmark
  relation = $state('P36');
  search = $state('');
  factList: FactList | null = $state(null);
  factsBusy = $state(false);
  factId: string | null = $state(null);
  facts: FactQueries | null = $state(null);
  factBusy = $state(false);

  // localize
  langs: string[] = $state([...ALL_LANGS]);
  steps = $state(DEFAULT_STEPS);
  baseline: 'pad' | 'zero' = $state(DEFAULT_BASELINE);
  localizing = $state(false);
  locProgress: LocalizeProgress | null = $state(null);
  loc: LocalizeResult | null = $state(null);
  /** the link asked for a fact whose attributions are not cached */
  needsLocalize = $state(false);

  // scoring
  method: Method = $state('matrice');
  settings: Settings = $state(defaultSettings());
  seed = $state(1);
  score: ScoreResult | null = $state.raw(null);
  scoreMs: number | null = $state(null);
  neuron: NeuronId | null = $state(null);
  stats: NeuronStatsResult | null = $state(null);

  // toggles
  toggleSet: ToggleSet = $state('selected');
  manualText = $state('');
  factor = $state(0);
  manip: ManipulateResult | null = $state.raw(null);
  manipBusy = $state(false);
  /** wall time of the last toggle update, from the request to the data in the page */
  toggleMs: number | null = $state(null);
  compare = $state(false);
  compareSeries: CompareSeries[] = $state.raw([]);

  // static
  staticView: StaticView | null = $state.raw(null);
  /** stored per-language P(correct) before/after of a read-only exploration */
  staticRows: ProbRow[] = $state.raw([]);
  /** what the Data view shows of the fact: the live probe, or only what an imported file stores */
  factView: FactView | null = $derived(this.staticView ? storedFactView(this.staticView.imported) : this.facts ? liveFactView(this.facts) : null);

  private seq = { facts: 0, fact: 0, score: 0, stats: 0, manip: 0, compare: 0 };
  private ready: Promise<unknown> = Promise.resolve();
  private restoring = false;

  get readOnly() {
    return this.staticView !== null;
  }
  get hasModel() {
    return this.info !== null;
  }

  /** The neurons the toggle panel acts on. */
  get toggleNeurons(): NeuronId[] {
    if (this.toggleSet === 'selected') return this.score?.selected ?? [];
    if (this.toggleSet === 'one') return this.neuron ? [this.neuron] : [];
    try {
      return parseNeuronList(this.manualText, this.numLayers ?? undefined, this.ffnSize ?? undefined);
    } catch {
      return [];
    }
  }
  get manualError(): string {
    if (this.toggleSet !== 'manual') return '';
    try {
      parseNeuronList(this.manualText, this.numLayers ?? undefined, this.ffnSize ?? undefined);
      return '';
    } catch (e) {
      return toKnError(e).message;
    }
  }
  get numLayers(): number | null {
    return this.loc?.numLayers ?? this.info?.numLayers ?? null;
  }
  get ffnSize(): number | null {
    return this.loc?.ffnSize ?? this.info?.ffnSize ?? null;
  }

  showError(e: unknown, title = 'Error') {
    const err = toKnError(e);
    if (err.code === 'cancelled') {
      this.notice = err.message.includes('local') ? 'Localization was cancelled.' : 'Loading was cancelled.';
      return;
    }
    this.error = err;
    this.errorTitle = title;
  }

  // ------------------------------------------------------------------------------------------------
  // start

  start(search: string, hash: string, prefer?: string[]) {
    const c = new ExplorerClient();
    this.client = c;
    (globalThis as { __knEngine?: ExplorerClient }).__knEngine = c;
    this.ready = (async () => {
      try {
        await c.subscribe((e) => {
          this.backend = e.backend;
          if (e.type === 'device-lost') {
            this.notice = e.message;
            this.info = null;
            this.probeResult = null;
            this.memory = null;
            this.clearFact();
          }
        });
        this.backend = await c.init(prefer);
      } catch (e) {
        this.backendError = toKnError(e);
      }
    })();
    const params = new URLSearchParams(search);
    const autoload = params.get('autoload') !== '0';
    let staticUrl: string | null = null;
    let staticRefused = false;
    try {
      staticUrl = staticParam(search);
    } catch (e) {
      this.showError(e, 'Static exploration refused');
      staticRefused = true;
    }
    void (async () => {
      this.bundled = await fetchBundledModels();
      this.bundledLoaded = true;
      // a refused ?static= stays on screen: no link or default model replaces it
      if (staticRefused) return;
      if (staticUrl) {
        await this.openStaticUrl(staticUrl);
        return;
      }
      if (hash && hash.length > 1) {
        await this.openLink(hash);
        return;
      }
      if (autoload && this.bundled.some((m) => m.name === DEFAULT_MODEL)) {
        await this.load({ type: 'bundled', name: DEFAULT_MODEL }, 'int8');
      }
    })();
    return () => c.terminate();
  }

  // ------------------------------------------------------------------------------------------------
  // model

  async load(spec: ModelSourceSpec, dtype: WeightDtype) {
    if (!this.client) return;
    await this.ready;
    this.error = null;
    this.notice = '';
    this.loading = true;
    this.progress = null;
    this.info = null;
    this.probeResult = null;
    this.memory = null;
    this.staticView = null;
    this.clearFact();
    this.modelSpec = spec;
    this.dtype = dtype;
    try {
      this.info = await this.client.load(spec, dtype, (p) => (this.progress = p));
      this.memory = await this.client.memory().catch(() => null);
    } catch (e) {
      this.showError(e, 'Could not load the model');
      return false;
    } finally {
      this.loading = false;
      this.progress = null;
    }
    this.updateHash();
    if (!this.restoring) void this.listFacts();
    return true;
  }

  async cancel() {
    await this.client?.cancel();
  }

  async probe(prompt: string, target: string) {
    if (!this.client) return;
    this.error = null;
    this.probing = true;
    try {
      this.probeResult = await this.client.probe(prompt, target || undefined, 10);
      this.memory = await this.client.memory().catch(() => this.memory);
    } catch (e) {
      this.showError(e);
    } finally {
      this.probing = false;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // benchmark

  async listFacts() {
    if (!this.client) return;
    const s = ++this.seq.facts;
    this.factsBusy = true;
    try {
      const r = await this.client.listFacts(this.relation, this.search, 50);
      if (s === this.seq.facts) this.factList = r;
    } catch (e) {
      if (s === this.seq.facts) this.showError(e, 'Could not read the benchmark');
    } finally {
      if (s === this.seq.facts) this.factsBusy = false;
    }
  }

  clearFact() {
    this.factId = null;
    this.facts = null;
    this.loc = null;
    this.locProgress = null;
    this.score = null;
    this.stats = null;
    this.neuron = null;
    this.manip = null;
    this.compareSeries = [];
    this.needsLocalize = false;
  }

  async selectFact(id: string) {
    if (!this.client || !this.info) return;
    const s = ++this.seq.fact;
    this.clearFact();
    this.factId = id;
    this.factBusy = true;
    this.error = null;
    try {
      const r = await this.client.factQueries(id, [...ALL_LANGS], 5);
      if (s !== this.seq.fact) return;
      this.facts = r;
      this.updateHash();
    } catch (e) {
      if (s === this.seq.fact) this.showError(e, `Could not read fact ${id}`);
    } finally {
      if (s === this.seq.fact) this.factBusy = false;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // localize

  async localize(opts: { cacheOnly?: boolean } = {}) {
    if (!this.client || !this.factId || this.localizing) return;
    this.error = null;
    this.notice = '';
    this.localizing = true;
    this.locProgress = null;
    const t0 = performance.now();
    try {
      const r = await this.client.localize(
        this.factId,
        { langs: [...this.langs], steps: this.steps, baseline: this.baseline, cacheOnly: opts.cacheOnly },
        (p) => (this.locProgress = p),
      );
      if (!r.complete) {
        this.needsLocalize = true;
        return false;
      }
      this.needsLocalize = false;
      this.loc = r;
      console.info(`[kn] localize ${r.factId}: ${r.queries.length} queries (${r.cachedCount} cached) in ${Math.round(performance.now() - t0)} ms`);
      this.manip = null;
      this.compareSeries = [];
      await this.rescore();
      this.updateHash();
      return true;
    } catch (e) {
      this.showError(e, 'Localization failed');
      return false;
    } finally {
      this.localizing = false;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // scoring (instant: no gradient)

  async rescore() {
    if (!this.loc) return;
    const s = ++this.seq.score;
    const t0 = performance.now();
    try {
      const settings = { ...this.settings } as MatriceSettings;
      if (this.staticView) {
        this.score = this.staticScore();
        this.stats = null;
        this.applyToggles();
        return;
      }
      const r = await this.client!.score(this.method, settings, this.seed);
      if (s !== this.seq.score) return;
      this.score = r;
      this.scoreMs = performance.now() - t0;
      if (this.neuron) void this.loadStats(this.neuron);
      else if (r.selected.length) void this.loadStats(r.selected[0]);
      this.updateHash();
      void this.applyToggles();
    } catch (e) {
      if (s === this.seq.score) this.showError(e, 'Scoring failed');
    }
  }

  async loadStats(n: NeuronId) {
    const s = ++this.seq.stats;
    this.neuron = [n[0], n[1]];
    try {
      if (this.staticView) return;
      const settings = { ...this.settings } as MatriceSettings;
      const r = await this.client!.neuronStats(n, settings);
      if (s === this.seq.stats) this.stats = r;
    } catch (e) {
      if (s === this.seq.stats) this.showError(e);
    }
    if (this.toggleSet === 'one') void this.applyToggles();
  }

  // ------------------------------------------------------------------------------------------------
  // toggles (live)

  async applyToggles() {
    if (!this.loc) return;
    if (this.manualError) return;
    const neurons = this.toggleNeurons.map((n) => [n[0], n[1]] as NeuronId);
    const factor = this.factor;
    if (this.staticView) {
      this.manip = null;
      this.staticRows = this.staticView.imported.results?.manipulations?.[this.method] ?? [];
      return;
    }
    const s = ++this.seq.manip;
    this.manipBusy = true;
    const t0 = performance.now();
    try {
      const r = await this.client!.manipulate(neurons, factor, 5);
      if (s !== this.seq.manip) return;
      this.manip = r;
      this.toggleMs = performance.now() - t0;
      this.updateHash();
      if (this.compare) void this.runCompare();
    } catch (e) {
      if (s === this.seq.manip) this.showError(e, 'Manipulation failed');
    } finally {
      if (s === this.seq.manip) this.manipBusy = false;
    }
  }

  /** MaTrice, AMIG and Random sets with the same factor, side by side. */
  async runCompare() {
    if (!this.loc || this.staticView) return;
    const s = ++this.seq.compare;
    const settings = { ...this.settings } as MatriceSettings;
    const out: CompareSeries[] = [];
    try {
      for (const method of ['matrice', 'amig', 'random'] as Method[]) {
        const sc = await this.client!.score(method, settings, this.seed);
        const r = await this.client!.manipulate(sc.selected, this.factor, 5);
        out.push({ name: METHOD_LABELS[method], method, neurons: sc.selected, result: r });
      }
      if (s === this.seq.compare) this.compareSeries = out;
    } catch (e) {
      if (s === this.seq.compare) this.showError(e, 'Comparison failed');
    }
  }

  // ------------------------------------------------------------------------------------------------
  // share

  exploration(): ExplorationState | null {
    const model = modelToState(this.modelSpec);
    if (!model) return null;
    const st: ExplorationState = {
      v: 1,
      model,
      method: this.method,
      settings: { ...this.settings },
      steps: this.steps,
      baseline: this.baseline,
    };
    if (this.factId) st.fact = this.factId;
    st.langs = [...this.langs];
    if (this.loc) {
      st.toggles = {
        set: this.toggleSet === 'selected' ? 'selected' : 'manual',
        neurons: this.toggleSet === 'selected' ? [] : this.toggleNeurons.map((n) => [n[0], n[1]]),
        factor: this.factor,
      };
    }
    if (this.compare) st.compare = true;
    return st;
  }

  updateHash() {
    if (this.restoring || this.staticView || typeof history === 'undefined') return;
    const st = this.exploration();
    if (!st) return;
    try {
      const h = encodeState(st);
      if (location.hash !== h) history.replaceState(null, '', `${location.pathname}${location.search}${h}`);
    } catch {
      /* an unencodable state (e.g. too many manual neurons) keeps the previous link */
    }
  }

  shareLink(): string {
    const st = this.exploration();
    if (!st) throw new KnError('bad-input', 'a model loaded from local files cannot be shared by link; export an exploration file instead');
    return `${location.origin}${location.pathname}${location.search}${encodeState(st)}`;
  }

  /** Opens a link's state: load its model, choose its fact, reuse cached attributions, apply toggles. */
  async openLink(hash: string) {
    let st: ExplorationState;
    try {
      st = decodeState(hash);
    } catch (e) {
      this.showError(e, 'This link cannot be opened');
      return false;
    }
    return this.applyState(st);
  }

  async applyState(st: ExplorationState, opts: { compute?: boolean } = {}) {
    this.restoring = true;
    try {
      this.method = st.method;
      this.settings = { ...st.settings };
      this.steps = st.steps;
      this.baseline = st.baseline;
      if (st.langs?.length) this.langs = [...st.langs];
      this.compare = !!st.compare;
      if (st.toggles) {
        this.factor = st.toggles.factor;
        this.toggleSet = st.toggles.set === 'selected' ? 'selected' : 'manual';
        this.manualText = st.toggles.neurons.map((n) => `${n[0]}:${n[1]}`).join(', ');
      }
      const spec = stateToModel(st.model);
      const same = this.info && JSON.stringify(modelToState(this.modelSpec)) === JSON.stringify(st.model);
      if (!same) {
        const ok = await this.load(spec, this.dtype);
        if (!ok) return false;
      }
      if (st.fact) {
        this.relation = st.fact.split(':')[0] || this.relation;
        await this.selectFact(st.fact);
        if (!this.facts) return false;
        const done = await this.localize({ cacheOnly: !opts.compute });
        if (done) this.view = st.toggles ? 'toggle' : 'localize';
        else this.view = 'localize';
      }
      return true;
    } finally {
      this.restoring = false;
      void this.listFacts();
      this.updateHash();
    }
  }

  async exportAttributions(): Promise<AttributionsExport | null> {
    return this.client ? this.client.exportAttributions() : null;
  }

  // ------------------------------------------------------------------------------------------------
  // exploration files and read-only views

  /** The model's identity for an exploration file. */
  private modelMeta() {
    const st = modelToState(this.modelSpec);
    return {
      label: st ? describeModel(st) : (this.info?.source ?? 'local files'),
      contentHash: this.info?.contentHash ?? '',
      architecture: this.info?.architecture ?? '',
      numLayers: this.loc?.numLayers ?? this.info?.numLayers ?? 1,
      ffnSize: this.loc?.ffnSize ?? this.info?.ffnSize ?? 1,
    };
  }

  /**
   * Everything the exploration file stores: the state, the model's identity, the fact, and the results
   * (queries, every method's selection, S, the layer distribution, the manipulation of each method).
   */
  async explorationParts(): Promise<{ state: ExplorationState; meta: ExplorationMeta; results?: ExplorationResults }> {
    if (this.staticView) {
      const im = this.staticView.imported;
      return { state: im.state, meta: im.meta, results: im.results };
    }
    const state = this.exploration() ?? ({ ...defaultStateFor(this), model: { type: 'url', url: 'https://example.invalid/local-files/' } } as ExplorationState);
    const meta: ExplorationMeta = { model: this.modelMeta() };
    if (this.facts) {
      const labels: Record<string, { subject: string; object: string }> = {};
      for (const [k, v] of Object.entries(this.facts.labels)) labels[k] = { subject: v.subject, object: v.object };
      meta.fact = { id: this.facts.factId, relation: this.facts.relation, labels };
    }
    if (!this.loc || !this.client) return { state, meta };
    const settings = { ...this.settings } as MatriceSettings;
    const before = new Map<string, { p: number; correct: boolean }>();
    for (const q of this.facts?.queries ?? []) before.set(`${q.prompt}\u0000${q.target}`, { p: q.pCorrect, correct: q.correct });
    const results: ExplorationResults = {
      queries: this.loc.queries.map((q) => {
        const probed = before.get(`${q.prompt}\u0000${q.target}`);
        return {
          lang: q.lang,
          prompt: q.prompt,
          target: q.target,
          before: probed?.p ?? q.pFull,
          ...(probed ? { correct: probed.correct } : {}),
          completeness: q.completeness.maxAbs,
        };
      }),
      selections: {},
      layerDistribution: this.score?.layerDistribution ?? new Array(this.loc.numLayers).fill(0),
      manipulations: {},
    };
    for (const m of METHODS) {
      const sc = await this.client.score(m, settings, this.seed);
      const exact = sc.bin === 1;
      results.selections[m] = {
        neurons: sc.selected.map((n) => [n[0], n[1]]),
        scores: sc.selected.map((n) => (exact && (m === 'matrice' || m === 'no-uaq') ? sc.S[n[0]][n[1]] : null)),
        threshold: m === 'matrice' || m === 'no-uaq' ? sc.threshold : null,
      };
      if (m === this.method && exact) results.S = sc.S;
      if (m === 'matrice' || m === 'amig' || m === 'random' || m === this.method) {
        const r = await this.client.manipulate(sc.selected, this.factor, 5);
        results.manipulations![m] = perLanguageRows(r.rows).map((x) => ({ lang: x.lang, before: x.before, after: x.after, deltaP: x.deltaP, correctBefore: x.correctBefore }));
      }
    }
    if (!results.S && this.score && this.score.bin === 1) results.S = this.score.S;
    return { state, meta, results };
  }

  /** Opens an exploration read-only: its stored results, without a model. */
  openStatic(imported: ImportedExploration, title: string) {
    const { state, meta, results } = imported;
    this.clearFact();
    this.staticView = { title, imported };
    this.method = state.method;
    this.settings = { ...state.settings };
    this.steps = state.steps;
    this.baseline = state.baseline;
    if (state.langs) this.langs = [...state.langs];
    if (state.toggles) {
      this.factor = state.toggles.factor;
      this.toggleSet = state.toggles.set === 'selected' ? 'selected' : 'manual';
      this.manualText = state.toggles.neurons.map((n) => `${n[0]}:${n[1]}`).join(', ');
    }
    this.factId = state.fact ?? meta.fact?.id ?? null;
    const qs = results?.queries ?? [];
    const langs = [...new Set(qs.map((q) => q.lang))];
    // the file's queries are shown by factView (facts.ts); nothing is made up for what it does not store
    this.facts = null;
    const comp = qs.map((q) => (q.completeness !== undefined && Number.isFinite(q.completeness) ? Math.abs(q.completeness) : 0));
    this.loc = results
      ? {
          complete: true,
          factId: this.factId ?? '',
          langs,
          steps: state.steps,
          baseline: state.baseline,
          numLayers: meta.model.numLayers,
          ffnSize: meta.model.ffnSize,
          queries: qs.map((q, i) => ({
            lang: q.lang,
            templateId: String(i),
            prompt: q.prompt,
            target: q.target,
            cached: true,
            completeness: { maxAbs: comp[i], maxRel: 0 },
            pFull: q.before,
          })),
          cachedCount: qs.length,
          maxCompleteness: { maxAbs: comp.length ? Math.max(...comp) : 0, maxRel: 0 },
          ms: 0,
          skipped: [],
        }
      : null;
    this.compare = false;
    void this.rescore();
    this.view = this.loc ? 'localize' : 'data';
  }

  private staticScore(): ScoreResult | null {
    const im = this.staticView!.imported;
    const r = im.results;
    if (!r) return null;
    const sel = r.selections[this.method];
    const { numLayers, ffnSize } = im.meta.model;
    if (!sel) {
      this.notice = `This exploration stores no ${this.method} selection.`;
      return null;
    }
    let maxS = -Infinity;
    const S = r.S ? r.S.map((row) => row.map((v) => (Number.isFinite(v) ? v : 0))) : [];
    for (const row of S) for (const v of row) if (v > maxS) maxS = v;
    return {
      method: this.method,
      heatmapOf: this.method === 'no-uaq' ? 'no-uaq' : 'matrice',
      S,
      bin: 1,
      numLayers,
      ffnSize,
      selected: sel.neurons.map((n) => [n[0], n[1]]),
      threshold: sel.threshold,
      maxS,
      layerDistribution: layerDistribution(sel.neurons, numLayers),
      warnings: 0,
      ms: 0,
    };
  }

  /** An exploration file chosen by the user: shown read-only; `reopenLive` recomputes with its model. */
  importFile(text: string, name: string) {
    let im: ImportedExploration;
    try {
      im = importExploration(text);
    } catch (e) {
      this.showError(e, `Could not import ${name}`);
      return false;
    }
    this.error = null;
    this.openStatic(im, name);
    this.notice = im.fromVersion < 2 ? `${name} was written by an older version (${im.fromVersion}) and was converted.` : '';
    return true;
  }

  async reopenLive() {
    const st = this.staticView?.imported.state;
    if (!st) return;
    this.staticView = null;
    this.staticRows = [];
    this.clearFact();
    await this.applyState(st, { compute: false });
  }

  /** `?static=<relative path>.json`: a static exploration beside the page (same origin only). */
  async openStaticUrl(url: string) {
    try {
      const im = importExploration(await fetchStaticExploration(url, location.href));
      this.openStatic(im, url.split('/').pop() || url);
      return true;
    } catch (e) {
      this.showError(e, 'Could not open the static exploration');
      return false;
    }
  }
}


function defaultStateFor(ex: Explorer): Omit<ExplorationState, 'model'> {
  return { v: 1, method: ex.method, settings: { ...ex.settings }, steps: ex.steps, baseline: ex.baseline, ...(ex.factId ? { fact: ex.factId } : {}), langs: [...ex.langs] };
}

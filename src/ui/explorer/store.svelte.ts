/**
 * The explorer: everything the page shows and every call to the worker. It holds three stores, the model
 * (model.svelte.ts), the facts (facts.svelte.ts) and the analysis (analysis.svelte.ts: localize, score,
 * toggles), and itself the page (view, errors, help), the share link and read-only explorations. Views
 * are passed the stores they read (`model`, `factStore`, `analysis`: `analysis.settings`, `model.info` …)
 * and call the stores' and the explorer's methods; nothing else talks to the worker. The stores' logic is in model.ts, facts.ts and
 * analysis.ts beside them.
 */
import { LEGACY_QUADRATURE } from '../../engine/rules';
import { KnError, toKnError } from '../../shared/errors';
import { modelLabel } from '../../engine/source';
import { METHODS } from '../../engine/selection';
import type { MatriceSettings, NeuronId } from '../../engine/selection';
import type { BackendInfo, ModelInfo, ModelSourceSpec, WeightDtype } from '../../shared/types';
import type { AttributionsExport, FactQueries } from '../../worker/api';
import { fetchBundledModels } from '../sources';
import { fetchHeadline } from '../headline';
import { importExploration, modelMismatchNote, type ExplorationMeta, type ExplorationResults, type ImportedExploration } from '../share/exploration-file';
import { decodeState, encodeState, type ExplorationState } from '../share/state';
import { fetchStaticExploration, staticParam } from '../share/static-export';
import { neuronParam, withNeuronParam } from '../atlas/atlas';
import { AtlasStore } from '../atlas/store.svelte';
import { AnalysisStore } from './analysis.svelte';
import { EditsStore, type EditsHost } from './edits.svelte';
import { storedLocalize, togglesFromState, togglesState } from './analysis';
import { ExplorerClient } from './client';
import { threadsFromUrl, weightsFromUrl } from '../engine-client';
import { FactsStore } from './facts.svelte';
import { liveFactView, storedFactView, type FactView } from './facts';
import type { StaticView, StoreHost } from './host';
import { modelToState, perLanguageRows, stateToModel } from './logic';
import { ModelStore } from './model.svelte';
import { isLoaded, modelMeta } from './model';
import { DEFAULT_MODEL, TOP_K } from './settings';
import { modelDefaults, type ModelDefaults } from '../../engine/selection';

export { DEFAULT_MODEL, defaultSettings, type Settings } from './settings';
export type { CompareSeries } from './analysis.svelte';
export type { ToggleSet } from './analysis';
export type { StaticView } from './host';

export type View = 'data' | 'localize' | 'toggle' | 'edit' | 'share' | 'experiments' | 'atlas';

export class Explorer implements StoreHost, EditsHost {
  client: ExplorerClient | null = null;
  backend: BackendInfo | null = $state(null);
  backendError: KnError | null = $state(null);
  notice = $state('');
  error: KnError | null = $state(null);
  errorTitle = $state('Error');
  view: View = $state('data');
  helpOpen = $state(false);
  helpTopic = $state('overview');
  /** the neuron whose page the Atlas view shows (src/ui/atlas; `?neuron=` and the state's `neuron` carry it) */
  atlasNeuron: [number, number] | null = $state.raw(null);
  /** whether links name atlasNeuron: the last view before Share was the Atlas view (viewChanged) */
  private linkNeuron = false;

  readonly model = new ModelStore(this);
  readonly factStore = new FactsStore(this);
  readonly analysis = new AnalysisStore(this);
  readonly edits = new EditsStore(this);
  /** the Atlas view's store (src/ui/atlas): the model's atlas, read with fetch; Toggle reads its LAPE sets */
  readonly atlas = new AtlasStore(this, import.meta.env?.BASE_URL ?? '/');

  // static
  staticView: StaticView | null = $state.raw(null);
  /** what the Data view shows of the fact: the live probe, or only what an imported file stores (facts.ts) */
  factView: FactView | null = $derived(
    this.staticView ? storedFactView(this.staticView.imported) : this.factStore.facts ? liveFactView(this.factStore.facts) : null,
  );

  restoring = false;
  private ready: Promise<unknown> = Promise.resolve();

  get readOnly() {
    return this.staticView !== null;
  }
  get hasModel() {
    return this.model.info !== null;
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
  // what the stores need of their host (StoreHost, EditsHost); views read the stores themselves

  get info(): ModelInfo | null {
    return this.model.info;
  }
  get factId(): string | null {
    return this.factStore.factId;
  }
  get facts(): FactQueries | null {
    return this.factStore.facts;
  }
  get langs(): string[] {
    return this.analysis.langs;
  }
  get steps() {
    return this.analysis.steps;
  }
  get toggleNeurons(): NeuronId[] {
    return this.analysis.toggleNeurons;
  }
  /** the loaded model's MaTrice defaults: its calibration, else METHOD's (engine/selection/calibration.ts) */
  get defaults(): ModelDefaults {
    return modelDefaults(this.model.info ?? {});
  }

  // ------------------------------------------------------------------------------------------------
  // start

  /** `client`: the worker's client (a test passes a fake; the page makes the real one) */
  start(search: string, hash: string, prefer?: string[], client?: ExplorerClient) {
    const c = client ?? new ExplorerClient();
    this.client = c;
    (globalThis as { __knEngine?: ExplorerClient }).__knEngine = c;
    this.ready = (async () => {
      try {
        await c.subscribe((e) => {
          this.backend = e.backend;
          if (e.type === 'device-lost') {
            const edited = this.edits.active.length;
            this.notice = edited ? `${e.message} The ${edited} edit${edited === 1 ? ' was' : 's were'} lost with the device's weights.` : e.message;
            this.edits.reset();
            this.model.unload();
            this.clearFact();
          }
        });
        this.backend = await c.init(prefer, weightsFromUrl(search), threadsFromUrl(search));
      } catch (e) {
        this.backendError = toKnError(e);
      }
    })();
    const params = new URLSearchParams(search);
    const autoload = params.get('autoload') !== '0';
    try {
      const n = neuronParam(search);
      if (n) this.openInAtlas(n);
    } catch (e) {
      this.showError(e, 'This link cannot be opened');
    }
    let staticUrl: string | null = null;
    let staticRefused = false;
    try {
      staticUrl = staticParam(search);
    } catch (e) {
      this.showError(e, 'Static exploration refused');
      staticRefused = true;
    }
    void (async () => {
      this.model.bundled = await fetchBundledModels();
      this.model.bundledLoaded = true;
      // a refused ?static= stays on screen: no link or default model replaces it
      if (staticRefused) return;
      if (staticUrl) {
        await this.openStaticUrl(staticUrl);
        return;
      }
      // a refused backend (?backend=nonsense) stays on screen: no link or default model loads behind it
      await this.ready;
      if (this.backendError) return;
      if (hash && hash.length > 1) {
        await this.openLink(hash);
        return;
      }
      if (autoload && this.model.bundled.some((m) => m.name === DEFAULT_MODEL)) {
        if (await this.load({ type: 'bundled', name: DEFAULT_MODEL }, 'int8')) await this.openFeaturedFact(DEFAULT_MODEL);
      }
    })();
    return () => c.terminate();
  }

  // ------------------------------------------------------------------------------------------------
  // model, facts and analysis (the stores do the work)

  async load(spec: ModelSourceSpec, dtype: WeightDtype) {
    if (!this.client) return false;
    await this.ready;
    if (this.backendError) {
      // the worker would not load either: nothing loads or computes until the page starts on a backend
      this.showError(
        new KnError('backend', `no model loads while the compute backend is not started: ${this.backendError.message}`),
        `Could not load ${modelLabel(spec)}`,
      );
      return false;
    }
    this.error = null;
    this.notice = '';
    // the loaded model, its fact, results and edits stay until the new model has loaded (a failed load keeps them)
    const ok = await this.model.load(spec, dtype);
    if (!ok) return false;
    // the model's own defaults (its calibration.json, else METHOD's); a link or an exploration file being
    // restored keeps the settings it names (takeSettings ran before this load)
    if (!this.restoring) this.analysis.settings = this.defaults.settings;
    // the worker dropped the old model and its edits: the new one starts unedited, on no fact
    this.staticView = null;
    this.clearFact();
    this.edits.reset();
    this.updateHash();
    if (!this.restoring) void this.factStore.listFacts();
    return true;
  }

  async cancel() {
    await this.client?.cancel();
  }

  /**
   * A first visit opens the demo model on the fact where switching off its shared neurons is clearest
   * (public/models/<name>/experiment.json, measured on these very weights), so the class sees the effect.
   */
  async openFeaturedFact(name: string) {
    const h = await fetchHeadline(name);
    const f = h?.featuredFact;
    if (!f || !this.model.info || h.contentHash !== this.model.info.contentHash || this.factStore.factId) return;
    this.factStore.relation = f.id.split(':')[0];
    void this.factStore.listFacts();
    await this.selectFact(f.id);
    this.notice = `Opened on ${f.id}: on this model, switching off its ${f.neurons} shared neurons changes P(correct) by ${Math.round(f.suppress * 100)} % on average over ${f.languages} languages (the model card has the experiment).`;
  }

  /** Opens a neuron's page in the Atlas view (the chips' "open in atlas", a link's `?neuron=`). */
  openInAtlas(n: readonly [number, number]) {
    this.atlasNeuron = [n[0], n[1]];
    this.view = 'atlas';
    this.viewChanged();
  }

  /**
   * The view changed (App calls this): a link names the atlas neuron while the Atlas view shows it, and still from
   * the Share view when the Atlas view was the one before it.
   */
  viewChanged() {
    if (this.view !== 'share') this.linkNeuron = this.view === 'atlas';
    this.updateHash();
  }

  clearFact() {
    this.factStore.clear();
    this.analysis.clear();
  }

  async selectFact(id: string) {
    if (!this.client || !this.model.info) return;
    this.clearFact();
    if (await this.factStore.select(id)) this.updateHash();
  }

  /** The model's predictions changed (an edit, its undo): probe the fact again, redo the live toggles. */
  async modelChanged() {
    if (this.staticView) return;
    await this.factStore.modelChanged();
    this.analysis.compareSeries = [];
    if (this.analysis.loc) void this.analysis.applyToggles();
  }

  // ------------------------------------------------------------------------------------------------
  // share

  exploration(): ExplorationState | null {
    const model = modelToState(this.model.spec);
    if (!model) return null;
    const a = this.analysis;
    const st: ExplorationState = { v: 1, model, method: a.method, settings: { ...a.settings }, steps: a.steps, baseline: a.baseline, quadrature: a.quadrature };
    if (this.factStore.factId) st.fact = this.factStore.factId;
    st.langs = [...a.langs];
    if (a.loc) {
      st.toggles = togglesState(a.toggleInput, a.factor);
    }
    if (a.compare) st.compare = true;
    const edits = this.edits.specs;
    if (edits.length) st.edits = edits;
    if (this.linkNeuron && this.atlasNeuron) st.neuron = [...this.atlasNeuron];
    return st;
  }

  updateHash() {
    // before start() has read the address, nothing rewrites it (it holds the link being opened)
    if (!this.client || this.restoring || this.staticView || typeof history === 'undefined') return;
    const st = this.exploration();
    if (!st) {
      // no model (an atlas read from a static host): the address still names the neuron open in the Atlas view
      const q = withNeuronParam(location.search, this.linkNeuron ? this.atlasNeuron : null);
      if (location.search !== q) history.replaceState(null, '', `${location.pathname}${q}${location.hash}`);
      return;
    }
    try {
      const h = encodeState(st);
      const q = withNeuronParam(location.search, st.neuron ?? null);
      if (location.hash !== h || location.search !== q) history.replaceState(null, '', `${location.pathname}${q}${h}`);
    } catch {
      /* an unencodable state (e.g. too many manual neurons) keeps the previous link */
    }
  }

  shareLink(): string {
    const st = this.exploration();
    if (!st) throw new KnError('bad-input', 'a model loaded from local files cannot be shared by link; export an exploration file instead');
    return `${location.origin}${location.pathname}${withNeuronParam(location.search, st.neuron ?? null)}${encodeState(st)}`;
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

  /** The settings and toggles a state names, into the analysis store. */
  private takeSettings(st: ExplorationState) {
    const a = this.analysis;
    a.method = st.method;
    a.settings = { ...st.settings };
    a.steps = st.steps;
    a.baseline = st.baseline;
    // a link written before the option names none: it was computed with the legacy rule
    a.quadrature = st.quadrature ?? LEGACY_QUADRATURE;
    if (st.langs?.length) a.langs = [...st.langs];
    if (st.toggles) {
      const t = togglesFromState(st.toggles);
      a.factor = t.factor;
      a.toggleSet = t.set;
      a.manualText = t.manualText;
    }
  }

  async applyState(st: ExplorationState, opts: { compute?: boolean } = {}) {
    this.restoring = true;
    // a restore moves to the fact's view only if the user has not picked another view while it loaded
    const viewAtStart = this.view;
    try {
      this.takeSettings(st);
      this.analysis.compare = !!st.compare;
      if (st.neuron) {
        this.atlasNeuron = [st.neuron[0], st.neuron[1]];
        this.view = 'atlas';
        this.linkNeuron = true;
      }
      if (!isLoaded(this.model.spec, this.model.info, st.model)) {
        const ok = await this.load(stateToModel(st.model), this.model.dtype);
        if (!ok) return false;
      } else if (this.edits.active.length && this.client) {
        // the same model, edited by this page: the state's edits replace them (localize needs the loaded weights)
        await this.client.editUndo(undefined, true);
        this.edits.reset();
      }
      if (st.fact) {
        this.factStore.relation = st.fact.split(':')[0] || this.factStore.relation;
        await this.selectFact(st.fact);
        if (!this.factStore.facts) {
          this.edits.pending = st.edits ? [...st.edits] : [];
          return false;
        }
        const done = await this.analysis.localize({ cacheOnly: !opts.compute });
        if (this.view === viewAtStart && !st.neuron) this.view = done && st.toggles ? 'toggle' : 'localize';
      }
      await this.edits.restore(st.edits);
      return true;
    } finally {
      this.restoring = false;
      void this.factStore.listFacts();
      this.updateHash();
    }
  }

  async exportAttributions(): Promise<AttributionsExport | null> {
    return this.client ? this.client.exportAttributions() : null;
  }

  // ------------------------------------------------------------------------------------------------
  // exploration files and read-only views

  /**
   * Everything the exploration file stores: the state, the model's identity, the fact, and the results
   * (queries, every method's selection, S, the layer distribution, the manipulation of each method).
   */
  async explorationParts(): Promise<{ state: ExplorationState; meta: ExplorationMeta; results?: ExplorationResults }> {
    if (this.staticView) {
      const im = this.staticView.imported;
      return { state: im.state, meta: im.meta, results: im.results };
    }
    const a = this.analysis;
    const state =
      this.exploration() ??
      ({
        v: 1,
        method: a.method,
        settings: { ...a.settings },
        steps: a.steps,
        baseline: a.baseline,
        quadrature: a.quadrature,
        ...(this.factStore.factId ? { fact: this.factStore.factId } : {}),
        langs: [...a.langs],
        model: { type: 'url', url: 'https://example.invalid/local-files/' },
      } as ExplorationState);
    const meta: ExplorationMeta = { model: modelMeta(this.model.spec, this.model.info, a.loc) };
    const facts = this.factStore.facts;
    if (facts) {
      const labels: Record<string, { subject: string; object: string }> = {};
      for (const [k, x] of Object.entries(facts.labels)) labels[k] = { subject: x.subject, object: x.object };
      meta.fact = { id: facts.factId, relation: facts.relation, labels };
    }
    if (!a.loc || !this.client) return { state, meta };
    const settings = { ...a.settings } as MatriceSettings;
    const before = new Map<string, { p: number; correct: boolean }>();
    for (const q of facts?.queries ?? []) before.set(`${q.prompt}\u0000${q.target}`, { p: q.pCorrect, correct: q.correct });
    const results: ExplorationResults = {
      queries: a.loc.queries.map((q) => {
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
      layerDistribution: a.score?.layerDistribution ?? new Array(a.loc.numLayers).fill(0),
      manipulations: {},
    };
    for (const m of METHODS) {
      const sc = await this.client.score(m, settings, a.seed);
      const exact = sc.bin === 1;
      results.selections[m] = {
        neurons: sc.selected.map((n) => [n[0], n[1]]),
        scores: sc.selected.map((n) => (exact && (m === 'matrice' || m === 'no-uaq') ? sc.S[n[0]][n[1]] : null)),
        threshold: m === 'matrice' || m === 'no-uaq' ? sc.threshold : null,
      };
      if (m === a.method && exact) results.S = sc.S;
      if (m === 'matrice' || m === 'amig' || m === 'random' || m === a.method) {
        const r = await this.client.manipulate(sc.selected, a.factor, TOP_K);
        results.manipulations![m] = perLanguageRows(r.rows).map((x) => ({
          lang: x.lang,
          before: x.before,
          after: x.after,
          deltaP: x.deltaP,
          correctBefore: x.correctBefore,
        }));
      }
    }
    if (!results.S && a.score && a.score.bin === 1) results.S = a.score.S;
    return { state, meta, results };
  }

  /** Opens an exploration read-only: its stored results, without a model. */
  openStatic(imported: ImportedExploration, title: string) {
    const { state, meta } = imported;
    this.clearFact();
    this.staticView = { title, imported };
    this.takeSettings(state);
    // the file's queries are shown by factView (facts.ts); nothing is made up for what it does not store
    this.factStore.factId = state.fact ?? meta.fact?.id ?? null;
    this.analysis.loc = storedLocalize(imported);
    this.analysis.compare = false;
    void this.analysis.rescore();
    this.view = this.analysis.loc ? 'localize' : 'data';
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
    // the loaded model, named before the read-only view replaces what the page shows
    const loaded = this.model.info ? modelMeta(this.model.spec, this.model.info) : null;
    this.openStatic(im, name);
    const notes = [
      im.fromVersion < 2 ? `${name} was written by an older version (${im.fromVersion}) and was converted.` : '',
      modelMismatchNote(im.meta.model, loaded) ?? '',
    ];
    this.notice = notes.filter(Boolean).join(' ');
    return true;
  }

  async reopenLive() {
    const st = this.staticView?.imported.state;
    if (!st) return;
    this.staticView = null;
    this.analysis.staticRows = [];
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

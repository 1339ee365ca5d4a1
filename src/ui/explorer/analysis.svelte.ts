/**
 * The analysis store: localize the current fact (attributions in the worker), re-score them with a method
 * and settings (instant, no gradient), one neuron across languages, and the live toggles (suppress,
 * enhance, any factor; MaTrice / AMIG / Random side by side). "Latest wins": each kind of request carries
 * a sequence number and a stale answer is dropped. Logic in analysis.ts.
 */
import { DEFAULT_QUADRATURE, DEFAULT_SEED, type Baseline, type Quadrature } from '../../engine/rules';
import { METHODS, METHOD_LABELS, type Method } from '../../engine/selection';
import type { MatriceSettings, NeuronId } from '../../engine/selection';
import type { ConvergenceResult, LocalizeProgress, LocalizeResult, ManipulateResult, NeuronStatsResult, ScoreResult } from '../../worker/api';
import { toKnError } from '../../shared/errors';
import type { ProbRow } from '../plots/charts';
import { manualError, storedScore, toggleNeurons, type ToggleInput, type ToggleSet } from './analysis';
import type { StoreHost } from './host';
import { ALL_LANGS, completenessView } from './logic';
import { DEFAULT_BASELINE, DEFAULT_STEPS, defaultSettings, TOP_K, type Settings } from './settings';

export interface CompareSeries {
  name: string;
  method: Method;
  neurons: NeuronId[];
  result: ManipulateResult;
}

/** The methods compared side by side in the Toggle view. */
export const COMPARED: readonly Method[] = METHODS.filter((m) => m === 'matrice' || m === 'amig' || m === 'random');

/** ms after the last re-score before the convergence check runs (a slider drag re-scores every frame) */
export const CHECK_DEBOUNCE_MS = 250;

export class AnalysisStore {
  // localize
  langs: string[] = $state([...ALL_LANGS]);
  steps = $state(DEFAULT_STEPS);
  baseline: Baseline = $state(DEFAULT_BASELINE);
  /** the IG quadrature localize uses: the engine's default, or what a restored link names */
  quadrature: Quadrature = $state(DEFAULT_QUADRATURE);
  localizing = $state(false);
  locProgress: LocalizeProgress | null = $state(null);
  loc: LocalizeResult | null = $state(null);
  /** the link asked for a fact whose attributions are not (all) cached */
  needsLocalize = $state(false);
  /** ms per computed query, measured by the last localize on this page (predicts the next one: long-job.ts) */
  queryMs: number | null = $state(null);
  /** then: how many of its queries are cached (localizing resumes from them) */
  cachedQueries: { cached: number; total: number } | null = $state(null);

  // scoring
  method: Method = $state('matrice');
  settings: Settings = $state(defaultSettings());
  seed = $state(DEFAULT_SEED);
  score: ScoreResult | null = $state.raw(null);
  scoreMs: number | null = $state(null);
  neuron: NeuronId | null = $state(null);
  stats: NeuronStatsResult | null = $state(null);

  // the convergence check (FactSession.checkConvergence): run after a re-score when a query's completeness
  // error is flagged, for the current method and settings; `check` is null until it has answered
  check: ConvergenceResult | null = $state.raw(null);
  /** scheduled or running */
  checking = $state(false);
  checkProgress: LocalizeProgress | null = $state(null);
  /** why the last check could not run ('' when it did) */
  checkError = $state('');
  /** the user stopped the check: re-scores do not start it again until the next localize (or checkNow) */
  checkStopped = $state(false);
  private checkTimer: ReturnType<typeof setTimeout> | undefined;

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
  /** stored per-language P(correct) before/after of a read-only exploration */
  staticRows: ProbRow[] = $state.raw([]);

  private seq = { score: 0, stats: 0, manip: 0, compare: 0, check: 0 };

  constructor(private readonly host: StoreHost) {}

  get numLayers(): number | null {
    return this.loc?.numLayers ?? this.host.info?.numLayers ?? null;
  }
  get ffnSize(): number | null {
    return this.loc?.ffnSize ?? this.host.info?.ffnSize ?? null;
  }
  /** What the toggle logic reads of this analysis (the set, the selection, the neuron, the typed list, the model's size). */
  get toggleInput(): ToggleInput {
    return {
      set: this.toggleSet,
      selected: this.score?.selected ?? [],
      neuron: this.neuron,
      manualText: this.manualText,
      numLayers: this.numLayers ?? undefined,
      ffnSize: this.ffnSize ?? undefined,
    };
  }
  /** The neurons the Toggle view acts on. */
  get toggleNeurons(): NeuronId[] {
    return toggleNeurons(this.toggleInput);
  }
  get manualError(): string {
    return manualError(this.toggleInput);
  }

  /** Forgets the fact's results (a new fact, a new model). */
  clear() {
    this.loc = null;
    this.locProgress = null;
    this.score = null;
    this.stats = null;
    this.neuron = null;
    this.manip = null;
    this.compareSeries = [];
    this.needsLocalize = false;
    this.cachedQueries = null;
    this.dropCheck();
    this.checkStopped = false;
  }

  // ------------------------------------------------------------------------------------------------
  // localize

  /** Attributes every query of the current fact; `cacheOnly` only reads the cache (a link being opened). */
  async localize(opts: { cacheOnly?: boolean } = {}): Promise<boolean> {
    const client = this.host.client;
    const factId = this.host.factId;
    if (!client || !factId || this.localizing) return false;
    this.host.error = null;
    this.host.notice = '';
    this.localizing = true;
    this.locProgress = null;
    // the worker stops a check in progress when a localize starts
    this.dropCheck();
    this.checkStopped = false;
    const t0 = performance.now();
    try {
      const r = await client.localize(
        factId,
        { langs: [...this.langs], steps: this.steps, baseline: this.baseline, quadrature: this.quadrature, cacheOnly: opts.cacheOnly },
        (p) => (this.locProgress = p),
      );
      if (!r.complete) {
        this.needsLocalize = true;
        this.cachedQueries = { cached: r.cachedCount, total: r.queriesTotal ?? 0 };
        return false;
      }
      this.needsLocalize = false;
      this.cachedQueries = null;
      this.loc = r;
      const computed = r.queries.length - r.cachedCount;
      if (computed > 0) this.queryMs = r.ms / computed;
      console.info(`[kn] localize ${r.factId}: ${r.queries.length} queries (${r.cachedCount} cached) in ${Math.round(performance.now() - t0)} ms`);
      this.manip = null;
      this.compareSeries = [];
      await this.rescore();
      this.host.updateHash();
      return true;
    } catch (e) {
      this.host.showError(e, 'Localization failed');
      return false;
    } finally {
      this.localizing = false;
      // finished, cancelled or failed: no estimate stays behind
      this.locProgress = null;
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
      const sv = this.host.staticView;
      if (sv) {
        const { score, missing } = storedScore(sv.imported, this.method);
        if (missing) this.host.notice = `This exploration stores no ${this.method} selection.`;
        this.score = score;
        this.stats = null;
        void this.applyToggles();
        return;
      }
      const r = await this.host.client!.score(this.method, settings, this.seed);
      if (s !== this.seq.score) return;
      this.score = r;
      this.scoreMs = performance.now() - t0;
      if (this.neuron) void this.loadStats(this.neuron);
      else if (r.selected.length) void this.loadStats(r.selected[0]);
      this.host.updateHash();
      void this.applyToggles();
      this.scheduleCheck();
    } catch (e) {
      if (s === this.seq.score) this.host.showError(e, 'Scoring failed');
    }
  }

  // ------------------------------------------------------------------------------------------------
  // the convergence check (re-attributions cached in the worker: after the first, a check only re-scores)

  /** Forget the check (a new fact, a new localize): a late answer is dropped. */
  private dropCheck() {
    this.seq.check++;
    if (this.checkTimer !== undefined) clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    this.check = null;
    this.checking = false;
    this.checkProgress = null;
    this.checkError = '';
  }

  /**
   * After a re-score: when a query's completeness error is flagged, check (debounced) whether the method's
   * selection stands with the flagged queries re-attributed finer; nothing to check otherwise.
   */
  scheduleCheck() {
    this.dropCheck();
    const loc = this.loc;
    if (!loc || this.checkStopped || this.host.staticView || !this.host.client || !completenessView(loc.queries, loc.steps).large) return;
    const s = this.seq.check;
    this.checking = true;
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      void this.runCheck(s, loc);
    }, CHECK_DEBOUNCE_MS);
  }

  /** Stop the check (scheduled or running); the plain advice shows, and re-scores leave it stopped. */
  async stopCheck() {
    this.dropCheck();
    this.checkStopped = true;
    try {
      await this.host.client?.cancelCheck();
    } catch (e) {
      console.warn('[kn] stopping the convergence check:', e);
    }
  }

  /** Run the check now for the current method and settings (after a stop). */
  checkNow() {
    this.checkStopped = false;
    this.scheduleCheck();
  }

  private async runCheck(s: number, loc: LocalizeResult) {
    const client = this.host.client;
    if (s !== this.seq.check || this.loc !== loc || !client) return;
    try {
      const r = await client.checkConvergence(loc.factId, { method: this.method, settings: { ...this.settings } as MatriceSettings, seed: this.seed }, (p) => {
        if (s === this.seq.check) this.checkProgress = p;
      });
      if (s !== this.seq.check || this.loc !== loc) return;
      this.check = r;
      console.info(
        `[kn] convergence check ${r.factId} (${r.method}): ${r.flagged} of ${r.queries} queries re-attributed, ${r.same ? 'same selection' : `selection ${r.before.length} → ${r.after.length}, Jaccard ${r.jaccard.toFixed(2)}`}, ${Math.round(r.ms)} ms`,
      );
    } catch (e) {
      if (s !== this.seq.check) return;
      const err = toKnError(e);
      // cancelled (an edit or a cancel stopped it): the plain advice stays, without an error
      this.checkError = err.code === 'cancelled' ? '' : err.message;
    } finally {
      if (s === this.seq.check) {
        this.checking = false;
        this.checkProgress = null;
      }
    }
  }

  async loadStats(n: NeuronId) {
    const s = ++this.seq.stats;
    this.neuron = [n[0], n[1]];
    try {
      if (this.host.staticView) return;
      const settings = { ...this.settings } as MatriceSettings;
      const r = await this.host.client!.neuronStats(n, settings);
      if (s === this.seq.stats) this.stats = r;
    } catch (e) {
      if (s === this.seq.stats) this.host.showError(e);
    }
    if (this.toggleSet === 'one') void this.applyToggles();
  }

  // ------------------------------------------------------------------------------------------------
  // toggles (live)

  async applyToggles() {
    if (!this.loc) return;
    const neurons = this.toggleNeurons;
    // a list that does not parse, or names no neuron the model has, changes nothing; ids it has are used
    if (this.manualError && !neurons.length) return;
    const factor = this.factor;
    const sv = this.host.staticView;
    if (sv) {
      this.manip = null;
      this.staticRows = sv.imported.results?.manipulations?.[this.method] ?? [];
      return;
    }
    const s = ++this.seq.manip;
    this.manipBusy = true;
    const t0 = performance.now();
    try {
      const r = await this.host.client!.manipulate(neurons, factor, TOP_K);
      if (s !== this.seq.manip) return;
      this.manip = r;
      this.toggleMs = performance.now() - t0;
      this.host.updateHash();
      if (this.compare) void this.runCompare();
    } catch (e) {
      if (s === this.seq.manip) this.host.showError(e, 'Manipulation failed');
    } finally {
      if (s === this.seq.manip) this.manipBusy = false;
    }
  }

  /** MaTrice, AMIG and Random sets with the same factor, side by side. */
  async runCompare() {
    if (!this.loc || this.host.staticView) return;
    const client = this.host.client!;
    const s = ++this.seq.compare;
    const settings = { ...this.settings } as MatriceSettings;
    const out: CompareSeries[] = [];
    try {
      for (const method of COMPARED) {
        const sc = await client.score(method, settings, this.seed);
        const r = await client.manipulate(sc.selected, this.factor, TOP_K);
        out.push({ name: METHOD_LABELS[method], method, neurons: sc.selected, result: r });
      }
      if (s === this.seq.compare) this.compareSeries = out;
    } catch (e) {
      if (s === this.seq.compare) this.host.showError(e, 'Comparison failed');
    }
  }
}

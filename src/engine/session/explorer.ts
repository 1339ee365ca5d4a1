/**
 * The explorer's current fact on the loaded model, as the page works with it (the worker's ExplorerState:
 * src/worker/engine.worker.ts only unpacks the page's messages and calls this): a FactSession (session.ts) for the
 * current fact, its queries and "before" probes, the attributions kept after `localize`, scoring, the convergence
 * check and manipulation; which facts the model knows (cached per model); cancellation and the busy flag edits
 * wait on. No DOM: runs in the Web Worker, and in Node for tests with a memory store.
 */
import type { RmlLama } from '../../data/loader';
import { completenessError, type BytesStore } from '../attribution';
import { Estimator } from '../../shared/estimate';
import type { LoadedModel } from '../families';
import { selectNeurons, type FactProgress } from '../interventions';
import { checkLangs, checkMethod, DEFAULT_BASELINE, DEFAULT_SEED, DEFAULT_STEPS, TOP_K, type Method } from '../rules';
import {
  binHeatmap,
  coverageMean,
  heatmapOf,
  languageCoverage,
  layerDistribution,
  neuronStats as engineNeuronStats,
  resolveSettings,
  scoreMatrice,
  scoreNoUaQ,
  showsThreshold,
  type FactAttributions,
  type MatriceResult,
  type MatriceSettings,
  type NeuronId,
} from '../selection';
import { KnError } from '../../shared/errors';
import { listFacts } from './facts';
import { attributionSettings, FactSession, parseFactId, probeFactKnown } from './session';
import type * as V from './views';

/**
 * A model's content hash without the suffix edits add (ModelEditor, src/engine/interventions/edit.ts):
 * attributions stay valid across edits.
 */
export const baseHash = (h: string) => h.split('+edit:')[0];

interface Current {
  /** the model's content hash when the session's probes were taken (edits change it) */
  modelHash: string;
  session: FactSession;
  /** MaTrice result of the last settings (neuronStats reuses it) */
  matrice?: { key: string; r: MatriceResult };
  /** each language's own selection (w/o UaL per language) of the last settings (coverage, language sets) */
  perLang?: { key: string; r: Partial<Record<string, NeuronId[]>> };
}

/**
 * The engine's progress as the page gets it: at most every 100 ms (and the last one), with the time elapsed
 * and the time left, measured per finished query (cache reads are no measurement; null before the first).
 */
function relayProgress(onProgress: ((p: V.LocalizeProgress) => void) | undefined): ((p: FactProgress) => void) | undefined {
  if (!onProgress) return undefined;
  const t0 = performance.now();
  const est = new Estimator();
  let last = 0;
  return (p) => {
    const now = performance.now();
    const done = p.queriesDone === p.queriesTotal && p.pointsTotal === 0;
    if (now - last < 100 && !done) return;
    last = now;
    const elapsedMs = now - t0;
    const etaMs = est.update({ elapsedMs, finished: p.queriesDone, total: p.queriesTotal, instant: p.cached });
    void onProgress({ ...p, elapsedMs, etaMs });
  };
}

/** At most this many facts per factsKnown call (the page asks for the visible ones in small batches). */
export const MAX_KNOWN_BATCH = 50;
/** Known-language answers kept per model (a relation has at most a few thousand facts). */
const KNOWN_CACHE_LIMIT = 20_000;

export class ExplorerState {
  private cur: Current | null = null;
  private localizing: AbortController | null = null;
  /** the convergence check in progress (a new one, a localize, an edit or a cancel stops it) */
  private checking: { ctl: AbortController; done: Promise<unknown> } | null = null;
  private pending = 0;
  /** model content hash + langs + fact id → the known languages (factsKnown) */
  private knownCache = new Map<string, string[]>();

  constructor(
    private getModel: () => LoadedModel | null,
    private bench: () => Promise<RmlLama>,
    private store: BytesStore | undefined,
  ) {}

  private model(): LoadedModel {
    const m = this.getModel();
    if (!m) throw new KnError('bad-input', 'no model is loaded');
    return m;
  }

  /** Drop everything tied to the model (called when a model is loaded or lost). */
  reset(): void {
    this.localizing?.abort();
    this.checking?.ctl.abort();
    this.cur = null;
    this.knownCache.clear();
  }

  cancel(): void {
    this.localizing?.abort();
    this.checking?.ctl.abort();
  }

  /** Abort the convergence check in progress and wait until it has stopped (before an edit or a localize). */
  async stopCheck(): Promise<void> {
    const c = this.checking;
    if (!c) return;
    c.ctl.abort();
    await c.done.catch(() => undefined);
  }

  /** an attribution is running */
  get busy(): boolean {
    return this.localizing !== null || this.pending > 0;
  }

  /**
   * The current fact's session on the model as it is now: after an edit (or its undo) the queries are
   * probed again, and the attributions, made before the edit, stay (they describe the loaded weights).
   */
  async current(): Promise<FactSession> {
    const c = this.cur;
    const model = this.getModel();
    if (!c || !model || baseHash(c.modelHash) !== baseHash(model.info.contentHash)) throw new KnError('bad-input', 'choose a fact first');
    return (await this.session(c.session.factId, c.session.langs, c.session.topK)).session;
  }

  /** Facts of a relation; `query` searches subjects and objects in every language (facts.ts listFacts). */
  async listFacts(relation: string, query = '', limit = 50): Promise<V.FactList> {
    return listFacts(await this.bench(), relation, query, limit);
  }

  /**
   * In which of `langs` the loaded model knows each fact (probed top-1 once per model content hash, then
   * cached). While an attribution runs, or with `cachedOnly` (the page's edits are busy), only cached
   * answers are given and the rest come back with `known: null`, to be asked again later.
   */
  async factsKnown(factIds: string[], langs: string[], opts: { cachedOnly?: boolean } = {}): Promise<V.FactKnownHint[]> {
    if (!Array.isArray(factIds) || factIds.length > MAX_KNOWN_BATCH)
      throw new KnError('bad-input', `factsKnown takes at most ${MAX_KNOWN_BATCH} fact ids per call`);
    const model = this.model();
    const ls = checkLangs(langs);
    for (const id of factIds) parseFactId(id);
    const out: V.FactKnownHint[] = [];
    for (const factId of factIds) {
      const key = `${model.info.contentHash}\u0000${ls.join()}\u0000${factId}`;
      let known = this.knownCache.get(key) ?? null;
      if (!known && !opts.cachedOnly && !this.busy) {
        known = (await probeFactKnown(model, await this.bench(), factId, ls)).known;
        if (this.getModel() !== model) throw new KnError('bad-input', 'the model changed while its facts were probed');
        if (this.knownCache.size >= KNOWN_CACHE_LIMIT) this.knownCache.clear();
        this.knownCache.set(key, known);
      }
      out.push({ factId, known: known ? [...known] : null, langs: ls });
    }
    return out;
  }

  /** The session of the fact in these languages on the loaded model (reused while they stay the same). */
  private async session(factId: string, langs: string[], topK = TOP_K): Promise<Current> {
    const model = this.model();
    const ls = checkLangs(langs);
    const c = this.cur;
    const same = c && c.session.factId === factId && c.session.langs.join() === ls.join() && c.session.topK >= topK;
    if (same && c.modelHash === model.info.contentHash) return c;
    const session = await FactSession.open(model, await this.bench(), factId, ls, { topK: Math.max(5, topK, same ? c.session.topK : 0) });
    if (same && baseHash(c.modelHash) === baseHash(model.info.contentHash) && c.session.fa) {
      // edited (or undone) since: new probes, the same attributions (of the loaded weights)
      session.attributed = c.session.attributed;
      session.fa = c.session.fa;
      session.steps = c.session.steps;
      session.baseline = c.session.baseline;
      session.quadrature = c.session.quadrature;
    }
    this.cur = {
      modelHash: model.info.contentHash,
      session,
      matrice: same && c.session.fa ? c.matrice : undefined,
      perLang: same && c.session.fa ? c.perLang : undefined,
    };
    return this.cur;
  }

  async factQueries(factId: string, langs: string[], topK = TOP_K): Promise<V.FactQueries> {
    const { session: s } = await this.session(factId, langs, topK);
    return {
      factId,
      relation: s.relation,
      labels: s.labels as V.FactQueries['labels'],
      langs: s.langs,
      queries: s.queries.map((q) => ({
        lang: q.lang,
        templateId: q.templateId,
        prompt: q.prompt,
        target: q.target,
        targetToken: q.targetToken,
        pCorrect: q.before,
        rank: q.rank,
        correct: q.known,
        top: q.top.slice(0, topK),
      })),
      skipped: s.skipped,
    };
  }

  async localize(factId: string, opts: V.LocalizeOptions, onProgress?: (p: V.LocalizeProgress) => void): Promise<V.LocalizeResult> {
    // busy from the call on (edits are refused while it runs), not only once the gradients start
    this.pending++;
    try {
      return await this.localizeNow(factId, opts, onProgress);
    } finally {
      this.pending--;
    }
  }

  private async localizeNow(factId: string, opts: V.LocalizeOptions, onProgress?: (p: V.LocalizeProgress) => void): Promise<V.LocalizeResult> {
    const model = this.model();
    const c = await this.session(factId, opts.langs);
    const s = c.session;
    const { steps, baseline, quadrature } = attributionSettings(opts);
    const base = { factId, langs: s.langs, steps, baseline, numLayers: model.cfg.numLayers, ffnSize: model.cfg.ffn, skipped: s.skipped };
    if (s.queries.length === 0) throw new KnError('bad-input', `fact ${factId} has no usable query in ${s.langs.join(', ')} for this model`);
    if (model.info.contentHash !== baseHash(model.info.contentHash)) {
      throw new KnError(
        'bad-input',
        'the model has edits applied: undo them (Edit view) before localizing, so that the neurons are found on the loaded weights',
      );
    }
    if (opts.cacheOnly) {
      const cached = await s.cachedCount({ steps, baseline, quadrature, store: this.store });
      if (cached < s.queries.length)
        return { ...base, complete: false, queries: [], cachedCount: cached, queriesTotal: s.queries.length, maxCompleteness: { maxAbs: 0, maxRel: 0 }, ms: 0 };
    }
    this.localizing?.abort();
    const ctl = new AbortController();
    this.localizing = ctl;
    const t0 = performance.now();
    try {
      // a convergence check of the previous attributions stops first (it would share the model)
      await this.stopCheck();
      if (ctl.signal.aborted) throw new KnError('cancelled', 'localization cancelled');
      const queries = await s.localize({ steps, baseline, quadrature, store: this.store, signal: ctl.signal, onProgress: relayProgress(onProgress) });
      c.matrice = undefined;
      c.perLang = undefined;
      let maxAbs = 0,
        maxRel = 0;
      for (const q of queries) {
        maxAbs = Math.max(maxAbs, q.completeness.maxAbs);
        maxRel = Math.max(maxRel, q.completeness.maxRel);
      }
      return {
        ...base,
        complete: true,
        queries: queries.map((q) => ({
          lang: q.lang,
          templateId: q.templateId ?? '',
          prompt: q.prompt,
          target: q.target,
          cached: q.cached,
          completeness: completenessError(q.attribution),
          pFull: q.attribution.pFull,
        })),
        cachedCount: queries.filter((q) => q.cached).length,
        maxCompleteness: { maxAbs, maxRel },
        ms: performance.now() - t0,
      };
    } catch (e) {
      if (ctl.signal.aborted) throw new KnError('cancelled', 'localization cancelled');
      throw e;
    } finally {
      if (this.localizing === ctl) this.localizing = null;
    }
  }

  /**
   * Whether the quadrature's error changes the selection (engine FactSession.checkConvergence): the current
   * fact's queries whose completeness error is above COMPLETENESS_FLAG, re-attributed with RECHECK (through
   * the attribution store, so a second check only re-scores), and the method's selection with and without
   * them. A new check, a localize, an edit or a cancel aborts it ('cancelled'); refused when `factId` is not
   * the localized fact or the model has edits applied (the attributions describe the loaded weights).
   */
  async checkConvergence(factId: string, opts: V.ConvergenceOptions, onProgress?: (p: V.LocalizeProgress) => void): Promise<V.ConvergenceResult> {
    const c = this.localized();
    if (c.session.factId !== factId) throw new KnError('bad-input', `localize fact ${factId} first (the localized fact is ${c.session.factId})`);
    const method = checkMethod(opts?.method);
    const model = this.model();
    if (model.info.contentHash !== baseHash(model.info.contentHash))
      throw new KnError('bad-input', 'the model has edits applied: undo them (Edit view) before checking the attributions');
    if (this.localizing) throw new KnError('cancelled', 'convergence check cancelled: a localization runs');
    const prev = this.checking;
    const ctl = new AbortController();
    const run = async (): Promise<V.ConvergenceResult> => {
      if (prev) {
        prev.ctl.abort();
        await prev.done.catch(() => undefined);
      }
      if (ctl.signal.aborted) throw new KnError('cancelled', 'convergence check cancelled');
      const t0 = performance.now();
      try {
        const r = await c.session.checkConvergence({
          method,
          settings: opts.settings ?? {},
          seed: opts.seed ?? DEFAULT_SEED,
          store: this.store,
          signal: ctl.signal,
          onProgress: relayProgress(onProgress),
        });
        return { ...r, factId, ms: performance.now() - t0 };
      } catch (e) {
        if (ctl.signal.aborted) throw new KnError('cancelled', 'convergence check cancelled');
        throw e;
      }
    };
    const done = run();
    const entry = { ctl, done };
    this.checking = entry;
    // busy while it runs: edits wait for it (engine.worker.ts stops it first), facts are not probed
    this.pending++;
    try {
      return await done;
    } finally {
      this.pending--;
      if (this.checking === entry) this.checking = null;
    }
  }

  private localized(): Current & { fa: FactAttributions } {
    const c = this.cur;
    const m = this.getModel();
    if (!c || !c.session.fa || !m || baseHash(c.modelHash) !== baseHash(m.info.contentHash)) throw new KnError('bad-input', 'localize a fact first');
    return Object.assign(c, { fa: c.session.fa });
  }

  private matriceFor(c: Current & { fa: FactAttributions }, s: MatriceSettings): MatriceResult {
    const key = JSON.stringify(s);
    if (c.matrice?.key === key) return c.matrice.r;
    const r = scoreMatrice(c.fa, s);
    c.matrice = { key, r };
    return r;
  }

  /** Each language's own selection under these settings (cached like matriceFor). */
  private perLanguageFor(c: Current & { fa: FactAttributions }, s: MatriceSettings): Partial<Record<string, NeuronId[]>> {
    const key = JSON.stringify(s);
    if (c.perLang?.key === key) return c.perLang.r;
    const r = c.session.selectPerLanguage(s);
    c.perLang = { key, r };
    return r;
  }

  score(method: Method, settings: Partial<MatriceSettings>, seed = DEFAULT_SEED, maxCells = 65536): V.ScoreResult {
    const t0 = performance.now();
    checkMethod(method);
    const c = this.localized();
    const s = resolveSettings(settings);
    const heat = heatmapOf(method) === 'no-uaq' ? scoreNoUaQ(c.fa, s) : this.matriceFor(c, s);
    // MaTrice and w/o UaQ select from their heatmap's S; the other methods by their own scores
    const selected = method === 'matrice' || method === 'no-uaq' ? heat.selected : selectNeurons(c.fa, method, s, seed).neurons;
    const { numLayers, ffnSize } = c.fa;
    return {
      method,
      heatmapOf: heatmapOf(method),
      ...binHeatmap(heat.S, numLayers, ffnSize, maxCells),
      numLayers,
      ffnSize,
      selected,
      threshold: showsThreshold(method) ? heat.threshold : null,
      maxS: heat.maxS,
      layerDistribution: layerDistribution(selected, numLayers),
      coverage: this.coverage(c, s, selected),
      warnings: heat.warnings.length,
      ms: performance.now() - t0,
    };
  }

  /** For each selected neuron, how many languages' own selections (same settings) contain it; and their mean. */
  private coverage(c: Current & { fa: FactAttributions }, s: MatriceSettings, selected: NeuronId[]): NonNullable<V.ScoreResult['coverage']> {
    const own = this.perLanguageFor(c, s);
    const perNeuron = languageCoverage(selected, own as Record<string, NeuronId[]>);
    return { perNeuron, mean: coverageMean(perNeuron), languages: Object.keys(own).length };
  }

  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): V.NeuronStatsResult {
    const c = this.localized();
    const s = resolveSettings(settings);
    const st = engineNeuronStats(c.fa, s, neuron, this.matriceFor(c, s));
    return {
      neuron: st.neuron,
      perLanguage: st.languages.map((lang) => ({ lang, value: st.perLanguage[lang].normalized, raw: st.perLanguage[lang].s })),
      mean: st.mean,
      std: st.std,
      S: st.S,
      threshold: st.threshold,
      selected: st.selected,
    };
  }

  async manipulate(neurons: NeuronId[], factor: number, topK = TOP_K): Promise<V.ManipulateResult> {
    const t0 = performance.now();
    const session = await this.current();
    const r = await session.manipulate(neurons, factor, { topK });
    return { factor: r.factor, neurons: r.neurons, rows: r.rows as V.ManipulateResult['rows'], languages: r.languages, ms: performance.now() - t0 };
  }

  /**
   * Each language's own (Dai-style) neurons beside MaTrice's shared set, and both suppressed (or scaled by
   * `factor`) on that language's queries: how much of the fact is shared and how much is per language.
   */
  async languageSets(settings: Partial<MatriceSettings>, factor = 0): Promise<V.LanguageSetsResult> {
    const t0 = performance.now();
    await this.current();
    const c = this.localized();
    const s = resolveSettings(settings);
    const shared = this.matriceFor(c, s).selected;
    const own = this.perLanguageFor(c, s);
    const sharedRun = await c.session.manipulate(shared, factor, { topK: 1 });
    const key = (n: NeuronId) => `${n[0]}:${n[1]}`;
    const inShared = new Set(shared.map(key));
    const languages: V.LanguageSetsResult['languages'] = [];
    for (const lang of c.session.langs) {
      const mine = own[lang];
      if (!mine) continue;
      const r = await c.session.manipulate(mine, factor, { langs: [lang], topK: 1 });
      languages.push({
        lang,
        own: mine,
        overlap: mine.filter((n) => inShared.has(key(n))).length,
        ownResult: r.languages[lang],
        sharedResult: sharedRun.languages[lang],
      });
    }
    return { shared, factor, languages, ms: performance.now() - t0 };
  }

  exportAttributions(): V.AttributionsExport | null {
    const c = this.cur;
    const s = c?.session;
    if (!c || !s?.fa || !s.attributed) return null;
    const languages: V.AttributionsExport['languages'] = {};
    const F = s.fa.ffnSize;
    for (const q of s.attributed) {
      const flat = new Float32Array(s.fa.numLayers * F);
      q.attribution.raw.forEach((r, l) => flat.set(r, l * F));
      (languages[q.lang] ??= { queries: [] }).queries.push({ text: q.prompt, templateId: q.templateId ?? '', raw: flat });
    }
    return {
      factId: s.factId,
      steps: s.steps ?? DEFAULT_STEPS,
      baseline: s.baseline ?? DEFAULT_BASELINE,
      numLayers: s.fa.numLayers,
      ffnSize: F,
      modelHash: c.modelHash,
      languages,
    };
  }
}

/**
 * The lesson's store: the precomputed results (lesson.json) drawn at once, the model loaded behind them through the
 * explorer's own stores and worker client (Explorer, ModelStore, ExplorerClient), then the fact computed live by the
 * same steps as the file (compute.ts) and the live widgets (τ, the factor, random sets, the edit) on the worker.
 * Logic in lesson.ts; the view is Lesson.svelte.
 */
import { LESSON } from '../../engine/rules';
import { KnError, toKnError } from '../../shared/errors';
import type { MatriceSettings, NeuronId } from '../../engine/selection';
import type { EditView, LocalizeProgress } from '../../worker/api';
import { Explorer } from '../explorer/store.svelte';
import { EXAMPLE_FACT, exampleTriple } from '../explorer/examples';
import { preferFromUrl } from '../engine-client';
import { fetchHeadline, headlineSentences } from '../headline';
import { encodeState } from '../share/state';
import { computeLessonFact, effect, type LessonEngine } from './compute';
import { checkLessonModel, fetchLesson, type LangEffect, type LessonFact, type LessonFile } from './data';
import { chapters, defaultFact, lessonSearch, parseLessonParams, type Chapter, type HeadlineNumbers, type LessonParams } from './lesson';

export type LiveStatus = 'waiting' | 'loading' | 'computing' | 'ready' | 'error';

/** Times from opening ?lesson (performance.now(): ms since the page's navigation began), for docs/LESSON.md (e2e/lesson.spec.ts prints them). */
export interface LessonTimes {
  firstChapterMs: number | null;
  modelMs: number | null;
  liveMs: number | null;
}

export class LessonStore {
  params: LessonParams;
  chapter = $state(1);
  presenter = $state(false);
  file: LessonFile | null = $state.raw(null);
  fileError = $state('');
  headline: string[] = $state.raw([]);
  /** the model's experiment (experiment.json) when it was made on these weights' bundle */
  headlineData: HeadlineNumbers | null = $state.raw(null);
  /** the fact the lesson is on (the address's, else the file's first) */
  factId: string | null = $state(null);
  precomputed: LessonFact | null = $state.raw(null);
  live: LessonFact | null = $state.raw(null);
  liveStatus: LiveStatus = $state('waiting');
  liveStep = $state('');
  liveProgress: LocalizeProgress | null = $state.raw(null);
  liveError: KnError | null = $state.raw(null);
  /** the model does not know the fact: what the page says instead, with a fact it knows */
  unknown: { message: string; suggest: string } | null = $state.raw(null);
  times: LessonTimes = $state({ firstChapterMs: null, modelMs: null, liveMs: null });

  // live widgets
  tau = $state(0);
  liveSelect: { tau: number; selected: NeuronId[]; layerDistribution: number[] } | null = $state.raw(null);
  private tauPending = false;
  factor = $state(0);
  liveManip: { factor: number; effects: Record<string, LangEffect> } | null = $state.raw(null);
  seed = $state(1);
  liveRandom: { seed: number; effects: Record<string, LangEffect> } | null = $state.raw(null);
  newObject = $state('');
  /** the language chapter 7's live edit is made from (the address's `&edit=`, else English) */
  editLang = $state('en');
  liveEdit: EditView | null = $state.raw(null);
  busy = $state('');
  widgetError = $state('');

  readonly ex = new Explorer();

  constructor(search: string) {
    this.params = parseLessonParams(search);
    this.chapter = this.params.chapter;
    this.presenter = this.params.presenter;
    this.editLang = this.params.editLang;
  }

  /** what the chapters draw: the live fact once computed, else the precomputed one */
  get fact(): LessonFact | null {
    return this.live ?? this.precomputed;
  }
  get source(): 'live' | 'precomputed' | 'none' {
    return this.live ? 'live' : this.precomputed ? 'precomputed' : 'none';
  }
  get chapters(): Chapter[] {
    const f = this.fact,
      file = this.file;
    if (!f || !file) return [];
    return chapters({ file, fact: f, headline: this.headline });
  }
  get settings(): MatriceSettings | null {
    return (this.file?.settings as MatriceSettings | undefined) ?? (this.ex.model.info ? this.ex.defaults.settings : null);
  }
  get liveReady(): boolean {
    return this.liveStatus === 'ready' && this.live !== null;
  }

  go(n: number) {
    const c = Math.min(LESSON.chapters, Math.max(1, Math.round(n)));
    this.chapter = c;
    if (typeof history !== 'undefined')
      history.replaceState(null, '', `${location.pathname}${lessonSearch({ ...this.params, presenter: this.presenter, editLang: this.editLang }, c)}`);
  }

  togglePresenter() {
    this.presenter = !this.presenter;
    this.go(this.chapter);
  }

  /** The explorer on this fact and settings (its Localize view; the toggles of chapters 5-6 when there). */
  explorerLink(): string {
    const f = this.fact,
      file = this.file;
    if (!f || !file) return `${typeof location === 'undefined' ? '' : location.pathname}`;
    const st = {
      v: 1 as const,
      model: { type: 'bundled' as const, name: this.params.model },
      fact: f.id,
      langs: [...file.langs],
      method: 'matrice' as const,
      settings: { ...file.settings, ...(this.liveSelect ? { tau: this.tau } : {}) } as MatriceSettings,
      steps: file.steps,
      baseline: file.baseline as 'pad',
      quadrature: file.quadrature as 'gauss-legendre',
      ...(this.chapter === 5 || this.chapter === 6 ? { toggles: { set: 'selected' as const, neurons: [], factor: this.chapter === 5 ? this.factor : 0 } } : {}),
    };
    return `${typeof location === 'undefined' ? '' : location.pathname}${encodeState(st)}`;
  }

  /** Draws the precomputed chapter, then loads the model and computes the fact live. */
  start(search: string): () => void {
    // measured from the navigation's start (the page's time origin), so the script and the model's fetches count
    const t0 = 0;
    (globalThis as { __knLessonTimes?: LessonTimes }).__knLessonTimes = this.times;
    let stopped = false;
    let stop = () => {
      stopped = true;
    };
    void (async () => {
      try {
        this.file = await fetchLesson(this.params.model);
      } catch (e) {
        this.fileError = toKnError(e).message;
      }
      const want = this.params.fact ?? (this.file ? defaultFact(this.file.facts)?.id : null) ?? EXAMPLE_FACT.id;
      this.factId = want;
      this.precomputed = this.file?.facts.find((f) => f.id === want) ?? null;
      if (this.precomputed) this.tau = this.file!.settings.tau;
      // the chapter is drawn first; the worker (tfjs, the model) starts after that frame, not in its way
      await new Promise<void>((r) => (typeof requestAnimationFrame === 'undefined' ? setTimeout(r, 0) : requestAnimationFrame(() => setTimeout(r, 0))));
      this.times.firstChapterMs = this.precomputed ? performance.now() - t0 : null;
      if (stopped) return;
      stop = this.ex.start('?autoload=0', '', preferFromUrl(search));
      void this.goLive(t0);
      const h = await fetchHeadline(this.params.model);
      // the model card's experiment, when it was measured on the weights the file was built on
      if (h && (!this.file || h.contentHash === this.file.contentHash)) {
        this.headline = headlineSentences(h);
        this.headlineData = h;
      }
    })();
    return () => stop();
  }

  private engine(): LessonEngine {
    const c = this.ex.client!;
    return {
      listFacts: (r, q, l) => c.listFacts(r, q, l),
      factsKnown: (ids, langs) => c.factsKnown(ids, langs),
      factQueries: (id, langs) => c.factQueries(id, langs),
      localize: (id, o, p) => c.localize(id, o, p),
      score: (m, s, seed) => c.score(m, s, seed),
      neuronStats: (n, s) => c.neuronStats(n, s),
      manipulate: (n, f) => c.manipulate(n, f),
      languageSets: (s, f) => c.languageSets(s, f),
      exportAttributions: () => c.exportAttributions(),
      edit: (req) => c.editApply(req),
      undoAll: () => c.editUndo(undefined, true),
    };
  }

  private async goLive(t0: number) {
    this.liveStatus = 'loading';
    const ok = await this.ex.model.load({ type: 'bundled', name: this.params.model }, 'int8');
    const info = this.ex.model.info;
    if (!ok || !info) {
      this.liveStatus = 'error';
      // always say why (a cancelled load leaves only a notice)
      this.liveError = this.ex.error ?? this.ex.backendError ?? new KnError('backend', this.ex.notice || `the model ${this.params.model} did not load`);
      return;
    }
    this.times.modelMs = performance.now() - t0;
    if (this.file) {
      try {
        checkLessonModel(this.file, info.contentHash);
      } catch (e) {
        this.fileError = toKnError(e).message;
        this.precomputed = null;
        this.file = { ...this.file, facts: [] };
      }
    }
    const id = this.factId ?? EXAMPLE_FACT.id;
    const eng = this.engine();
    const langs = this.file?.langs ?? ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];
    const settings = (this.file && this.file.facts.length ? this.file.settings : this.ex.defaults.settings) as MatriceSettings;
    try {
      if (!this.precomputed) {
        const k = (await eng.factsKnown([id], langs))[0];
        const n = k.known?.length ?? 0;
        if (n < LESSON.minKnownLangs) {
          const sug = this.file?.facts.find((f) => f.id !== id)?.id ?? EXAMPLE_FACT.id;
          this.unknown = {
            message: `The model does not know ${id}: its first guess is right in ${n} of ${langs.length} languages (the lesson needs ${LESSON.minKnownLangs}).`,
            suggest: sug,
          };
          this.liveStatus = 'error';
          return;
        }
      }
      this.liveStatus = 'computing';
      const f = await computeLessonFact(
        eng,
        id,
        {
          langs,
          settings,
          steps: this.file?.steps ?? this.ex.analysis.steps,
          baseline: (this.file?.baseline ?? this.ex.analysis.baseline) as 'pad',
          quadrature: (this.file?.quadrature ?? this.ex.analysis.quadrature) as 'gauss-legendre',
        },
        { onStep: (s) => (this.liveStep = s), onProgress: (p) => (this.liveProgress = p) },
      );
      this.live = f;
      this.tau = settings.tau;
      if (!this.file)
        this.file = {
          format: LESSON.format,
          version: LESSON.version,
          model: this.params.model,
          contentHash: info.contentHash,
          command: '',
          builtAt: '',
          settings,
          steps: 0,
          baseline: '',
          quadrature: '',
          numLayers: info.numLayers,
          ffnSize: info.ffnSize,
          langs,
          facts: [],
        } as unknown as LessonFile;
      this.liveStatus = 'ready';
      this.times.liveMs = performance.now() - t0;
    } catch (e) {
      this.liveError = toKnError(e);
      this.liveStatus = 'error';
    }
  }

  private async widget(what: string, fn: () => Promise<void>) {
    if (!this.liveReady || this.busy) return;
    this.busy = what;
    this.widgetError = '';
    try {
      await fn();
    } catch (e) {
      this.widgetError = toKnError(e).message;
    } finally {
      this.busy = '';
    }
  }

  /** Chapter 4: re-score with another τ (no gradient). */
  rescore(tau: number) {
    this.tau = tau;
    // a drag re-scores while an answer is on its way: the last position is scored once that answer is in
    if (this.busy === 'scoring') {
      this.tauPending = true;
      return;
    }
    return this.widget('scoring', async () => {
      do {
        this.tauPending = false;
        const t = this.tau;
        const sc = await this.ex.client!.score('matrice', { ...this.settings!, tau: t }, 1);
        this.liveSelect = { tau: t, selected: sc.selected, layerDistribution: sc.layerDistribution };
      } while (this.tauPending);
    });
  }

  /** Chapter 5: the shared neurons scaled by `factor` in every language. */
  manipulate(factor: number) {
    this.factor = factor;
    return this.widget('manipulating', async () => {
      const r = await this.ex.client!.manipulate(this.fact!.selected, factor);
      this.liveManip = { factor, effects: Object.fromEntries(Object.entries(r.languages).map(([l, s]) => [l, effect(s)])) };
    });
  }

  /** Chapter 6: another random set of the same size, switched off. */
  otherRandom() {
    return this.widget('drawing random neurons', async () => {
      const seed = this.seed + 1;
      const rnd = (await this.ex.client!.score('random', this.settings!, seed)).selected;
      const r = await this.ex.client!.manipulate(rnd, 0);
      this.seed = seed;
      this.liveRandom = { seed, effects: Object.fromEntries(Object.entries(r.languages).map(([l, s]) => [l, effect(s)])) };
    });
  }

  /** Chapter 7: update the fact from the edit language's first query to `newObject` (the shared neurons), every language after it. */
  edit(newObject: string) {
    return this.widget('editing', async () => {
      await this.ex.client!.editUndo(undefined, true);
      this.liveEdit = await this.ex.client!.editApply({ kind: 'update', neurons: this.fact!.selected, newObject, lang: this.editLang });
    });
  }

  /** The language chapter 7's edit is made from; the address keeps it (`&edit=`). */
  setEditLang(lang: string) {
    this.editLang = lang;
    this.liveEdit = null;
    this.go(this.chapter);
  }

  undoEdit() {
    return this.widget('undoing', async () => {
      await this.ex.client!.editUndo(undefined, true);
      this.liveEdit = null;
    });
  }
}

export { exampleTriple };

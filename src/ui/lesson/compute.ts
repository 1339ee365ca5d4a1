/**
 * One lesson fact computed from the engine: the same steps whether `npm run -s lesson:build` runs them in Node
 * (scripts/lesson-build.ts, on the engine's ExplorerState and EditState) or the page runs them live in the
 * worker (ExplorerClient) for a fact that is not precomputed; both hand over a LessonEngine, so the file and
 * the live page hold the same numbers for the same weights.
 */
import { DEFAULT_SEED, ENHANCE_FACTOR, LESSON, SUPPRESS_FACTOR } from '../../engine/rules';
import type { LanguageSummary, MatriceSettings, NeuronId } from '../../engine/selection';
import type { Method } from '../../engine/interventions';
import type * as Api from '../../worker/api';
import type { LangEffect, LessonFact, LessonProbe } from './data';

/** What computing a lesson fact needs of the engine (ExplorerState + EditState in Node, the worker's client in the page). */
export interface LessonEngine {
  listFacts(relation: string, query?: string, limit?: number): Promise<Api.FactList>;
  factsKnown(factIds: string[], langs: string[]): Promise<Api.FactKnownHint[]>;
  factQueries(factId: string, langs: string[]): Promise<Api.FactQueries>;
  localize(factId: string, opts: Api.LocalizeOptions, onProgress?: (p: Api.LocalizeProgress) => void): Promise<Api.LocalizeResult>;
  score(method: Method, settings: Partial<MatriceSettings>, seed?: number): Promise<Api.ScoreResult>;
  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): Promise<Api.NeuronStatsResult>;
  manipulate(neurons: NeuronId[], factor: number): Promise<Api.ManipulateResult>;
  languageSets(settings: Partial<MatriceSettings>, factor?: number): Promise<Api.LanguageSetsResult>;
  exportAttributions(): Promise<Api.AttributionsExport | null>;
  edit(req: Api.EditRequest): Promise<Api.EditView>;
  undoAll(): Promise<unknown>;
}

export interface LessonRun {
  langs: string[];
  settings: MatriceSettings;
  steps: number;
  baseline: Api.LocalizeOptions['baseline'];
  quadrature: Api.LocalizeOptions['quadrature'];
}

/** A number as the file keeps it (LESSON.decimals); null for NaN (a language with no known query). */
export const round = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(LESSON.decimals));
const r = (x: number) => round(x) ?? 0;
export const effect = (s: LanguageSummary): LangEffect => ({
  before: r(s.before),
  after: r(s.after),
  deltaP: round(s.deltaP),
  n: s.n,
  known: s.correctBefore,
  flipRate: round(s.flipRate),
});
const effects = (m: Record<string, LanguageSummary>) => Object.fromEntries(Object.entries(m).map(([l, s]) => [l, effect(s)]));

export function median(xs: number[]): number {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (!a.length) return Number.NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** The neuron with the largest S of a score whose heatmap is every neuron (bin 1). */
export function topNeuron(sc: Pick<Api.ScoreResult, 'S' | 'bin'>): NeuronId {
  if (sc.bin !== 1) throw new Error(`the heatmap is binned (${sc.bin} neurons a cell); the lesson needs every neuron`);
  let top: NeuronId = [0, 0];
  sc.S.forEach((row, l) => {
    row.forEach((v, j) => {
      if (v > sc.S[top[0]][top[1]]) top = [l, j];
    });
  });
  return top;
}

/** One neuron's raw attribution on a query, its layer's sum, and its rank in the layer (1 = largest). */
export function neuronIg(raw: ArrayLike<number>, ffnSize: number, [layer, j]: NeuronId) {
  let sum = 0,
    rank = 1;
  const v = raw[layer * ffnSize + j];
  for (let k = 0; k < ffnSize; k++) {
    const x = raw[layer * ffnSize + k];
    sum += x;
    if (x > v) rank++;
  }
  return { neuron: v, layerSum: sum, rank };
}

/** The English object of another fact of the relation that the model knows in English (the update's new answer), or null. */
async function otherObject(eng: LessonEngine, relation: string, object: string | undefined): Promise<string | null> {
  const list = (await eng.listFacts(relation, '', LESSON.candidates)).facts.filter((f) => f.labels.en && f.labels.en.object !== object);
  const known = await eng.factsKnown(
    list.map((f) => f.id),
    ['en'],
  );
  const id = known.find((k) => k.known?.includes('en'))?.factId;
  return (id ? list.find((f) => f.id === id) : list[0])?.labels.en.object ?? null;
}

/**
 * Everything a lesson's chapters show of one fact. `onStep` names each step as it starts (the page's progress);
 * `onProgress` is localize's. The update is undone before this returns (also when it fails).
 */
export async function computeLessonFact(
  eng: LessonEngine,
  id: string,
  run: LessonRun,
  opts: { onStep?: (step: string) => void; onProgress?: (p: Api.LocalizeProgress) => void } = {},
): Promise<LessonFact> {
  const step = opts.onStep ?? (() => undefined);
  const { langs, settings } = run;
  step('probing the queries');
  const fq = await eng.factQueries(id, langs);
  const known = (await eng.factsKnown([id], langs))[0]?.known ?? [];
  const probes: LessonProbe[] = fq.queries.map((q) => ({
    lang: q.lang,
    templateId: q.templateId,
    prompt: q.prompt,
    target: q.target,
    pCorrect: r(q.pCorrect),
    correct: q.correct,
    top: { token: q.top[0]?.token ?? '', prob: r(q.top[0]?.prob ?? 0) },
  }));
  step('localizing (integrated gradients of every query)');
  const loc = await eng.localize(id, { langs, steps: run.steps, baseline: run.baseline, quadrature: run.quadrature }, opts.onProgress);
  step('scoring');
  const sc = await eng.score('matrice', settings, DEFAULT_SEED);
  const top = topNeuron(sc);
  const st = await eng.neuronStats(top, settings);
  const ex = await eng.exportAttributions();
  if (!ex) throw new Error(`no attributions kept for ${id}`);
  const ig: LessonFact['ig'] = [];
  for (const l of langs) {
    const q = ex.languages[l]?.queries[0];
    if (!q) continue;
    const g = neuronIg(q.raw, ex.ffnSize, top);
    const lq = loc.queries.find((x) => x.lang === l && x.prompt === q.text);
    ig.push({
      lang: l,
      prompt: q.text,
      pFull: r(lq?.pFull ?? Number.NaN),
      completenessRel: r(lq?.completeness.maxRel ?? Number.NaN),
      neuron: r(g.neuron),
      layerSum: r(g.layerSum),
      rank: g.rank,
      ofLayer: ex.ffnSize,
    });
  }
  step('switching the neurons off and doubling them');
  const sup = await eng.manipulate(sc.selected, SUPPRESS_FACTOR);
  const enh = await eng.manipulate(sc.selected, ENHANCE_FACTOR);
  const rnd = (await eng.score('random', settings, DEFAULT_SEED)).selected;
  const rndSup = await eng.manipulate(rnd, SUPPRESS_FACTOR);
  step("each language's own neurons");
  const sets = await eng.languageSets(settings, SUPPRESS_FACTOR);
  let edit: LessonFact['edit'] = null;
  const newObject = await otherObject(eng, fq.relation, fq.labels.en?.object);
  if (newObject && sc.selected.length && fq.queries.some((q) => q.lang === 'en')) {
    step('editing the fact in English');
    try {
      const v = await eng.edit({ kind: 'update', neurons: sc.selected, newObject });
      edit = {
        lang: 'en',
        newObject: v.newObject ?? newObject,
        queries: v.queries
          .filter((q) => q.role === 'edited')
          .map((q) => ({
            lang: q.lang,
            prompt: q.prompt,
            before: q.before.top.token,
            after: q.after.top.token,
            pOldBefore: r(q.before.pOld),
            pOldAfter: r(q.after.pOld),
            newTop: q.newTop === true,
            oldTop: q.oldTop,
          })),
        unrelatedSame: v.unrelated.filter((u) => u.same).length,
        unrelated: v.unrelated.length,
      };
    } finally {
      await eng.undoAll();
    }
  }
  return {
    id,
    relation: fq.relation,
    labels: fq.labels,
    known,
    probes,
    localize: {
      queries: loc.queries.length,
      maxCompletenessRel: r(loc.maxCompleteness.maxRel),
      medianCompletenessRel: r(median(loc.queries.map((q) => q.completeness.maxRel))),
      ms: Math.round(loc.ms),
    },
    selected: sc.selected.map((n) => [n[0], n[1]]),
    threshold: round(sc.threshold),
    maxS: r(sc.maxS),
    layerDistribution: sc.layerDistribution.map(r),
    coverageMean: round(sc.coverage?.mean ?? null),
    neuron: {
      id: [top[0], top[1]],
      perLanguage: st.perLanguage.map((p) => ({ lang: p.lang, value: r(p.value) })),
      mean: r(st.mean),
      std: r(st.std),
      S: r(st.S),
      threshold: r(st.threshold),
      selected: st.selected,
    },
    ig,
    suppress: effects(sup.languages),
    enhance: effects(enh.languages),
    random: { neurons: rnd.map((n) => [n[0], n[1]]), suppress: effects(rndSup.languages) },
    ownSets: sets.languages.map((x) => ({
      lang: x.lang,
      own: x.own.length,
      overlap: x.overlap,
      ownDeltaP: round(x.ownResult.deltaP),
      sharedDeltaP: round(x.sharedResult.deltaP),
    })),
    edit,
  };
}

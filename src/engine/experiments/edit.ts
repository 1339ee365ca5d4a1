/**
 * What language-agnostic neurons are for, at benchmark scale (docs/METHOD.md "Experiments"):
 *
 * - **edit** (Tables III-IV): per fact, localize once with all languages, select with every method, then
 *   edit from English only (erase: zero the neurons' write vectors; update: w − λ1·E(o) + λ2·E(o′) with
 *   the English objects' first tokens) and evaluate in every language: reliability on the edited query
 *   (the language's first template), generality on its paraphrases (the other templates), locality on
 *   the queries of other facts (share whose top-1 prediction does not change). Every edit is undone
 *   before the next (byte-exact, src/engine/interventions/edit.ts).
 * - **enhance** (Fig. 6): Q_error = the fact's queries in fi, hu, ja, ko that the model gets wrong; double
 *   the neurons' activations (×2 at the target position, as in the manipulation experiment) and count how
 *   many of them become right, per relation and language.
 *
 * Same conventions as the manipulation runner (runner/manipulate.ts): seeded stratified facts, one row
 * per fact to a sink (NDJSON in Node), resumable, shards. Environment-free.
 */
import type { RmlLama } from '../../data/loader';
import { LOW_RESOURCE_LANGS, type Lang, type Relation } from '../../data/types';
import { ModelEditor, objectToken, type AppliedEdit } from '../interventions/edit';
import { KnError } from '../../shared/errors';
import { DEFAULT_LAMBDA1, DEFAULT_LAMBDA2, DEFAULT_UNRELATED, EDIT_LANG, checkLambda, ENHANCE_FACTOR, LEGACY_QUADRATURE, TEACH_DEFAULTS } from '../rules';
import { injectFact } from '../interventions/inject';
import type { LoadedModel } from '../families/model';
import type { Method } from '../interventions/manipulate';
import { resolveSettings, sampleWithoutReplacement, scoreMatrice, type MatriceSettings, type NeuronId } from '../selection/scoring';
import { buildFactQueries, FactSession } from '../session/session';
import { activationsAt } from '../attribution/attribute';
import * as core from './core';

export { parseShard, shardIndices } from './core';

export const EDIT_ROW_VERSION = 1;
export const EDIT_METHODS = ['matrice', 'amig', 'random', 'layer'] as const;
export const ENHANCE_METHODS = ['matrice', 'amig', 'random'] as const;
export const INJECT_METHODS = ['direct', 'random', 'amig', 'matrice'] as const;
export type EditMethod = (typeof EDIT_METHODS)[number];
export type EditExperiment = 'edit' | 'enhance' | 'inject';

export interface EditMeta extends core.RunMeta {
  experiment: EditExperiment;
  /** edit: λ and the number of other facts whose queries measure locality */
  edit: { lang: Lang; lambda1: number; lambda2: number; unrelatedFacts: number } | null;
  /** enhance: the languages of Q_error and the factor */
  enhance: { langs: Lang[]; factor: number } | null;
  /** inject: the training language, optimizer settings, and the known facts whose queries are Q_old */
  inject?: { lang: Lang; steps: number; lr: number; oldFacts: string[]; k: number } | null;
}

export interface EditQueryRec {
  lang: Lang;
  template: string;
  /** edited = the language's first template (the one edited in English); paraphrase = the others */
  role: 'edited' | 'paraphrase';
  known: boolean;
  /** the new object's first token id in this query's language (null: not tokenizable) */
  newId: number | null;
}

export interface EditOpResult {
  /** per query: is the old object still top-1 (0/1) */
  oldTop: number[];
  /** update only, per query: is the new object top-1 (0/1) */
  newTop?: number[];
  /** per query: P(old object) after */
  pOld: number[];
  /** per language: [unrelated queries whose top-1 is unchanged, unrelated queries] */
  locality: Partial<Record<Lang, [number, number]>>;
  /** wall times: applying the edit, probing the fact's queries in every language, the unrelated queries, undo */
  ms: { edit: number; fact: number; unrelated: number; undo: number };
  notes?: string[];
}

export interface EditMethodResult {
  neurons: NeuronId[];
  /** "all neurons of the layer": the layer holding most of MaTrice's neurons (neurons left empty) */
  layer?: number;
  size: number;
  erase: EditOpResult | null;
  update: EditOpResult | null;
  /** why the method was not run (e.g. an empty selection) */
  skipped?: string;
}

export interface EditRow {
  v: number;
  experiment: 'edit';
  fact: string;
  index: number;
  relation: Relation;
  /** the English query the edit is made from */
  editPrompt: string;
  oldObject: { en: string; token: string };
  newObject: { fact: string; labels: Partial<Record<Lang, string>>; token: string; notes: string[] };
  queries: EditQueryRec[];
  unrelated: { facts: string[]; queries: Partial<Record<Lang, number>> };
  methods: Record<string, EditMethodResult>;
  /** int8 models: what re-quantizing MaTrice's updated slices in place would have cost */
  requantization: AppliedEdit['requantization'] | null;
}

export interface EnhanceRow {
  v: number;
  experiment: 'enhance';
  fact: string;
  index: number;
  relation: Relation;
  /** the fact's queries in the Q_error languages; `known` = top-1 before (Q_error = the others) */
  queries: { lang: Lang; template: string; known: boolean; before: number }[];
  /** per method: neurons and, per query, top-1 after doubling them (0/1) and P after */
  methods: Record<string, { neurons: NeuronId[]; correct: number[]; after: number[] }>;
}

export interface InjectRow {
  v: number;
  experiment: 'inject';
  fact: string;
  index: number;
  relation: Relation;
  /** the new fact's queries (Q_new) in every language; right before = top-1 before training */
  queries: { lang: Lang; template: string; correctBefore: number }[];
  /** Q_old before any training: per language [right, queries] */
  oldBefore: Partial<Record<Lang, [number, number]>>;
  methods: Record<
    string,
    {
      size: number;
      neurons: NeuronId[];
      steps: number;
      converged: boolean;
      stopped: string | null;
      ms: number;
      newCorrect: number[];
      old: Partial<Record<Lang, [number, number]>>;
      skipped?: string;
    }
  >;
}

export type AnyRow = EditRow | EnhanceRow | InjectRow;

/** the runners' shared shapes (src/engine/experiments/manipulate.ts) */
export type RowTiming = core.FactTiming;
export type EditSink<R> = core.RowSink<R>;
export type EditProgress = Omit<core.RunProgress, 'phase'>;

const ms1 = (x: number) => Math.round(x * 10) / 10;

export function parseEditMethods(s: string | undefined, kind: EditExperiment): string[] {
  const all: readonly string[] = kind === 'edit' ? EDIT_METHODS : kind === 'inject' ? INJECT_METHODS : ENHANCE_METHODS;
  if (s === undefined) return [...all];
  const ms = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const m of ms) if (!all.includes(m)) throw new KnError('bad-input', `unknown method "${m}" for ${kind}; one of ${all.join(', ')}`);
  if (new Set(ms).size !== ms.length) throw new KnError('bad-input', '--methods lists a method twice');
  if (!ms.length) throw new KnError('bad-input', '--methods is empty');
  return ms;
}

export function makeEditMeta(
  p: Omit<EditMeta, 'v' | 'settings' | 'edit' | 'enhance' | 'inject'> & {
    settings?: Partial<MatriceSettings>;
    lambda1?: number;
    lambda2?: number;
    unrelatedFacts?: number;
    injectSteps?: number;
    lr?: number;
    injectK?: number;
  },
): EditMeta {
  const { lambda1, lambda2, unrelatedFacts, settings, injectSteps, lr, injectK, quadrature, ...rest } = p;
  const low = LOW_RESOURCE_LANGS.filter((l) => p.langs.includes(l));
  if (p.experiment !== 'enhance' && !p.langs.includes(EDIT_LANG))
    throw new KnError('bad-input', `the edit is made from English: --langs must include ${EDIT_LANG}`);
  if (p.experiment === 'enhance' && !low.length)
    throw new KnError('bad-input', `enhancement measures Q_error in ${LOW_RESOURCE_LANGS.join(', ')}: --langs must include at least one of them`);
  return {
    v: EDIT_ROW_VERSION,
    ...rest,
    // the legacy rule is left out, as in folders written before the option
    ...(quadrature !== undefined && quadrature !== LEGACY_QUADRATURE ? { quadrature } : {}),
    settings: resolveSettings(settings ?? {}),
    edit:
      p.experiment === 'edit'
        ? {
            lang: EDIT_LANG,
            lambda1: checkLambda('λ1', lambda1 ?? DEFAULT_LAMBDA1),
            lambda2: checkLambda('λ2', lambda2 ?? DEFAULT_LAMBDA2),
            unrelatedFacts: unrelatedFacts ?? DEFAULT_UNRELATED,
          }
        : null,
    enhance: p.experiment === 'enhance' ? { langs: low, factor: ENHANCE_FACTOR } : null,
    inject:
      p.experiment === 'inject'
        ? { lang: EDIT_LANG, steps: injectSteps ?? TEACH_DEFAULTS.trainSteps, lr: lr ?? TEACH_DEFAULTS.lr, oldFacts: [], k: injectK ?? TEACH_DEFAULTS.k }
        : null,
  };
}

export interface EditPickOptions {
  kind: EditExperiment;
  facts: number;
  relations?: readonly Relation[];
  langs: readonly Lang[];
  seed: number;
  candidates?: readonly string[];
  minKnownLangs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { probed: number; picked: number }) => void;
  /** inject: known facts collected on the way for Q_old (filled up to `oldFacts`) */
  old?: { want: number; facts: string[] };
}

/**
 * Seeded, stratified facts (the manipulation runner's order: each relation's facts shuffled with
 * `${seed}:${relation}`, taken round-robin). Edit: facts known in ≥ minKnownLangs languages and in
 * English (its edited query top-1). Enhance: known in ≥ minKnownLangs languages and with at least one
 * wrong query in the low-resource languages (Q_error not empty).
 */
export async function pickEditFacts(model: LoadedModel, bench: RmlLama, o: EditPickOptions): Promise<string[]> {
  const minKnown = o.minKnownLangs ?? core.minKnownLangsFor(o.langs);
  const low = LOW_RESOURCE_LANGS.filter((l) => o.langs.includes(l));
  const more = (picked: readonly string[]) => picked.length < o.facts || (o.old !== undefined && o.old.facts.length < o.old.want);
  const { picked, probed } = await core.pickCandidates(
    model,
    bench,
    o,
    (s, picked) => {
      const known = s.knownLanguages().length >= minKnown;
      if (o.kind === 'inject') {
        if (known && o.old && o.old.facts.length < o.old.want) o.old.facts.push(s.factId);
        // Q_new: the model knows the fact in no language, and none of its English queries
        const unknown =
          s.knownLanguages().length === 0 && s.queries.some((x) => x.lang === EDIT_LANG) && !s.queries.some((x) => x.lang === EDIT_LANG && x.known);
        return unknown && picked.length < o.facts;
      }
      const ok =
        o.kind === 'edit'
          ? known && s.queries.find((x) => x.lang === EDIT_LANG)?.known === true
          : known && s.queries.some((x) => low.includes(x.lang) && !x.known);
      return ok && picked.length < o.facts;
    },
    more,
  );
  if (!picked.length) {
    throw new KnError(
      'bad-input',
      o.kind === 'inject'
        ? `none of the ${probed} facts tried is unknown to the model (no language known, no English query answered)`
        : o.kind === 'edit'
          ? `none of the ${probed} facts tried is known in ≥ ${minKnown} languages with its English query answered`
          : `none of the ${probed} facts tried is known in ≥ ${minKnown} languages with a wrong query in ${low.join(', ')} (Q_error is empty)`,
    );
  }
  return picked;
}

export interface EditRunOptions<R> extends core.FactContext<EditMeta> {
  sink: EditSink<R>;
  onProgress?: (p: EditProgress) => void;
}

/** The new object o′: another fact of the same relation whose object differs in every language and starts with another token. */
async function pickNewObject(model: LoadedModel, bench: RmlLama, s: FactSession, seed: number, prompts: Partial<Record<Lang, string>>) {
  const shard = await bench.shard(s.relation, EDIT_LANG);
  const order = sampleWithoutReplacement(shard.facts.length, shard.facts.length, `${seed}:${s.factId}:new-object`);
  const enPrompt = prompts[EDIT_LANG]!;
  const oldId = model.tok.targetId(enPrompt, s.labels[EDIT_LANG]!.object);
  // prefer an object that is one token in English (the update writes its first token only); else the first that works
  let fallback: { fact: string; labels: Partial<Record<Lang, string>> } | null = null;
  for (const i of order) {
    const f = shard.facts[i];
    if (f.id === s.factId) continue;
    const labels: Partial<Record<Lang, string>> = {};
    let ok = true;
    for (const l of s.langs) {
      try {
        const fl = await bench.fact(f.id, l);
        if (fl.object === s.labels[l]!.object) ok = false;
        labels[l] = fl.object;
      } catch {
        ok = false;
      }
      if (!ok) break;
    }
    if (!ok) continue;
    let single = false;
    try {
      const t = objectToken(model, enPrompt, labels[EDIT_LANG]!, true);
      if (t.id === oldId) continue;
      single = t.parts.length === 1;
    } catch {
      continue;
    }
    if (single) return { fact: f.id, labels };
    fallback ??= { fact: f.id, labels };
  }
  if (fallback) return fallback;
  throw new KnError('bad-input', `fact ${s.factId}: no other fact of ${s.relation} has an object that differs in every language`);
}

/** Unrelated queries of other facts with their top-1 before, cached per fact for the whole run. */
type Unrelated = { lang: Lang; prompt: string; top: number }[];

async function unrelatedQueries(model: LoadedModel, bench: RmlLama, meta: EditMeta, factId: string, cache: Map<string, Unrelated>) {
  const others = meta.facts.filter((f) => f !== factId);
  const n = Math.min(meta.edit!.unrelatedFacts, others.length);
  const ids = sampleWithoutReplacement(n, others.length, `${meta.seed}:${factId}:unrelated`).map((i) => others[i]);
  const out: Unrelated = [];
  for (const id of ids) {
    let qs = cache.get(id);
    if (!qs) {
      const built = await buildFactQueries(model, bench, id, meta.langs);
      const probes = built.queries.length
        ? await model.probeMany(
            built.queries.map((q) => ({ prompt: q.prompt })),
            { topK: 1 },
          )
        : [];
      qs = built.queries.map((q, i) => ({ lang: q.lang, prompt: q.prompt, top: probes[i].top[0].id }));
      cache.set(id, qs);
    }
    out.push(...qs);
  }
  return { ids, queries: out };
}

/**
 * What an applied edit does (the one evaluation the runner and the page share): the fact's queries probed
 * on the edited model (is the old object still top-1, P(old), with `newIds` is the new object top-1) and
 * the unrelated queries (locality per language: top-1 unchanged). The probes come back for display.
 */
export async function probeEditOp(
  model: LoadedModel,
  queries: readonly { prompt: string; target: string }[],
  oldIds: readonly number[],
  /** per query, the new object's token id(s) that count as the update taking effect (null: none) */
  newIds: readonly (number | readonly number[] | null)[] | null,
  unrelated: readonly { lang: Lang; prompt: string; top: number }[],
  topK = 1,
) {
  const t0 = performance.now();
  const fact = queries.length ? await model.probeMany([...queries], { topK }) : [];
  const t1 = performance.now();
  const other = unrelated.length
    ? await model.probeMany(
        unrelated.map((q) => ({ prompt: q.prompt })),
        { topK: 1 },
      )
    : [];
  const t2 = performance.now();
  const locality: EditOpResult['locality'] = {};
  unrelated.forEach((q, i) => {
    const c = (locality[q.lang] ??= [0, 0]);
    c[1]++;
    if (other[i].top[0].id === q.top) c[0]++;
  });
  const op: Omit<EditOpResult, 'ms'> = {
    oldTop: fact.map((r, i) => (r.top[0].id === oldIds[i] ? 1 : 0)),
    pOld: fact.map((r) => core.p6(r.target!.prob)),
    locality,
  };
  const hit = (id: number, n: number | readonly number[] | null) => (n === null ? false : typeof n === 'number' ? id === n : n.includes(id));
  if (newIds) op.newTop = fact.map((r, i) => (hit(r.top[0].id, newIds[i]) ? 1 : 0));
  return { op, fact, unrelated: other, ms: { fact: t1 - t0, unrelated: t2 - t1 } };
}

/** One fact of the edit experiment. */
export async function runEditFact(
  o: Omit<EditRunOptions<EditRow>, 'sink' | 'onProgress'>,
  factId: string,
  index: number,
  cache = new Map<string, Unrelated>(),
): Promise<EditRow> {
  const { model, bench, meta } = o;
  const E = meta.edit!;
  const s = await FactSession.open(model, bench, factId, meta.langs, { topK: 1 });
  await s.localize({ steps: meta.steps, baseline: meta.baseline, quadrature: meta.quadrature ?? LEGACY_QUADRATURE, store: o.store, signal: o.signal });
  const firstOf: Partial<Record<Lang, string>> = {};
  for (const q of s.queries) firstOf[q.lang] ??= q.prompt;
  if (!firstOf[EDIT_LANG]) throw new KnError('bad-input', `fact ${factId} has no English query for this model`);
  const enPrompt = firstOf[EDIT_LANG]!;
  const neu = await pickNewObject(model, bench, s, meta.seed, firstOf);
  const newIds = s.queries.map((q) => {
    try {
      return model.tok.targetId(q.prompt, neu.labels[q.lang]!);
    } catch {
      return null;
    }
  });
  const oldIds = s.queries.map((q) => model.tok.targetId(q.prompt, q.target));
  const queries: EditQueryRec[] = s.queries.map((q, i) => ({
    lang: q.lang,
    template: q.templateId,
    role: firstOf[q.lang] === q.prompt ? 'edited' : 'paraphrase',
    known: q.known,
    newId: newIds[i],
  }));
  const un = await unrelatedQueries(model, bench, meta, factId, cache);
  const unrelatedCount: Partial<Record<Lang, number>> = {};
  for (const q of un.queries) unrelatedCount[q.lang] = (unrelatedCount[q.lang] ?? 0) + 1;

  const editor = new ModelEditor(model);
  const evaluate = async (make: () => AppliedEdit, update: boolean): Promise<EditOpResult> => {
    const t0 = performance.now();
    let res: EditOpResult;
    try {
      const edit = make();
      const t1 = performance.now();
      const p = await probeEditOp(model, s.queries, oldIds, update ? newIds : null, un.queries);
      res = { ...p.op, ms: { edit: ms1(t1 - t0), fact: ms1(p.ms.fact), unrelated: ms1(p.ms.unrelated), undo: 0 } };
      if (edit.notes.length) res.notes = edit.notes;
    } finally {
      const u0 = performance.now();
      editor.undoAll();
      undoMs = performance.now() - u0;
    }
    res.ms.undo = ms1(undoMs);
    return res;
  };
  let undoMs = 0;
  const methods: Record<string, EditMethodResult> = {};
  const matrice = s.select('matrice', meta.settings, `${meta.seed}:${factId}`).neurons;
  let requantization: EditRow['requantization'] = null;
  let newToken = '';
  let newNotes: string[] = [];
  for (const key of meta.methods) {
    let neurons: NeuronId[];
    let layer: number | undefined;
    if (key === 'layer') {
      if (!matrice.length) {
        methods[key] = { neurons: [], size: 0, erase: null, update: null, skipped: 'MaTrice selected no neuron, so there is no layer to edit' };
        continue;
      }
      const count = new Array(model.cfg.numLayers).fill(0);
      for (const [l] of matrice) count[l]++;
      layer = count.indexOf(Math.max(...count));
      neurons = Array.from({ length: model.cfg.ffn }, (_, j) => [layer!, j] as NeuronId);
    } else {
      neurons = key === 'matrice' ? matrice : s.select(key as Method, meta.settings, `${meta.seed}:${factId}`).neurons;
    }
    if (!neurons.length) {
      methods[key] = { neurons: [], size: 0, erase: null, update: null, skipped: 'empty selection' };
      continue;
    }
    const erase = await evaluate(() => editor.erase(neurons), false);
    let applied: AppliedEdit | null = null;
    const update = await evaluate(() => {
      applied = editor.update(neurons, {
        prompt: enPrompt,
        oldObject: s.labels[EDIT_LANG]!.object,
        newObject: neu.labels[EDIT_LANG]!,
        lambda1: E.lambda1,
        lambda2: E.lambda2,
      });
      return applied;
    }, true);
    const a = applied as AppliedEdit | null;
    if (a) {
      newToken = a.newObject!.token;
      newNotes = a.notes;
      if (key === 'matrice') requantization = a.requantization ?? null;
    }
    methods[key] = { neurons: key === 'layer' ? [] : neurons, ...(layer !== undefined ? { layer } : {}), size: neurons.length, erase, update };
  }
  return {
    v: EDIT_ROW_VERSION,
    experiment: 'edit',
    fact: factId,
    index,
    relation: s.relation,
    editPrompt: enPrompt,
    oldObject: { en: s.labels[EDIT_LANG]!.object, token: model.tok.display(model.tok.targetId(enPrompt, s.labels[EDIT_LANG]!.object)) },
    newObject: { fact: neu.fact, labels: neu.labels, token: newToken, notes: newNotes },
    queries,
    unrelated: { facts: un.ids, queries: unrelatedCount },
    methods,
    requantization,
  };
}

/** One fact of the enhancement experiment. */
export async function runEnhanceFact(o: Omit<EditRunOptions<EnhanceRow>, 'sink' | 'onProgress'>, factId: string, index: number): Promise<EnhanceRow> {
  const { model, bench, meta } = o;
  const X = meta.enhance!;
  const s = await FactSession.open(model, bench, factId, meta.langs, { topK: 1 });
  await s.localize({ steps: meta.steps, baseline: meta.baseline, quadrature: meta.quadrature ?? LEGACY_QUADRATURE, store: o.store, signal: o.signal });
  const langs = X.langs;
  const queries = s.queries
    .filter((q) => langs.includes(q.lang))
    .map((q) => ({ lang: q.lang, template: q.templateId, known: q.known, before: core.p6(q.before) }));
  const methods: EnhanceRow['methods'] = {};
  for (const key of meta.methods) {
    const neurons = s.select(key as Method, meta.settings, `${meta.seed}:${factId}`).neurons;
    const r = neurons.length ? await s.manipulate(neurons, X.factor, { langs, topK: 1 }) : null;
    methods[key] = {
      neurons,
      correct: r ? r.rows.map((x) => (x.correctAfter ? 1 : 0)) : queries.map((q) => (q.known ? 1 : 0)),
      after: r ? r.rows.map((x) => core.p6(x.after)) : queries.map((q) => q.before),
    };
  }
  return { v: EDIT_ROW_VERSION, experiment: 'enhance', fact: factId, index, relation: s.relation, queries, methods };
}

/**
 * The k neurons with the largest S (ties by position), among those with S ≠ 0: a neuron whose
 * attribution is exactly 0 on every query (a ReLU unit that is off at the target) cannot be trained
 * through, and for a fact the model does not know S is ≤ 0 everywhere, so the zeros would come first.
 */
export function topByS(S: ArrayLike<number>[], k: number): NeuronId[] {
  const flat: { l: number; j: number; v: number }[] = [];
  S.forEach((row, l) => Array.from(row).forEach((v, j) => Number.isFinite(v) && v !== 0 && flat.push({ l, j, v })));
  flat.sort((a, b) => b.v - a.v || a.l - b.l || a.j - b.j);
  return flat.slice(0, k).map((x) => [x.l, x.j] as NeuronId);
}

/**
 * The neurons injection trains for MaTrice: the k largest S among the neurons that fire (activation ≠ 0 at
 * the target position) on at least half of the training queries. Gradient reaches a neuron's parameters
 * only through its activation: on ReLU FFNs (the demo models) most neurons with S ≠ 0 are off on the
 * training language's queries (S comes from the other languages), and training them learns nothing.
 */
export async function injectionNeurons(model: LoadedModel, S: ArrayLike<number>[], train: readonly { prompt: string }[], k: number): Promise<NeuronId[]> {
  const fires = S.map((row) => new Uint16Array(row.length));
  for (const q of train) {
    const e = model.tok.encodeQuery(q.prompt);
    const acts = await activationsAt(model, [e.ids], e.position);
    acts.forEach((row, l) => row[0].forEach((v, j) => v !== 0 && fires[l][j]++));
  }
  const masked = S.map((row, l) => Float32Array.from(row as ArrayLike<number>, (v, j) => (2 * fires[l][j] >= train.length ? v : 0)));
  return topByS(masked, k);
}

type OldQueries = { lang: Lang; prompt: string; target: number; right: boolean }[];

async function oldQueries(model: LoadedModel, bench: RmlLama, meta: EditMeta, cache: Map<string, OldQueries>): Promise<OldQueries> {
  const hit = cache.get('');
  if (hit) return hit;
  const out: OldQueries = [];
  for (const id of meta.inject!.oldFacts) {
    const built = await buildFactQueries(model, bench, id, meta.langs);
    const probes = built.queries.length ? await model.probeMany(built.queries, { topK: 1 }) : [];
    built.queries.forEach((q, i) => out.push({ lang: q.lang, prompt: q.prompt, target: probes[i].target!.id, right: probes[i].target!.rank === 0 }));
  }
  cache.set('', out);
  return out;
}

/** One fact of the injection experiment: train on its English queries, test Q_new in every language and Q_old. */
export async function runInjectFact(
  o: Omit<EditRunOptions<InjectRow>, 'sink' | 'onProgress'>,
  factId: string,
  index: number,
  cache = new Map<string, OldQueries>(),
): Promise<InjectRow> {
  const { model, bench, meta } = o;
  const J = meta.inject!;
  const s = await FactSession.open(model, bench, factId, meta.langs, { topK: 1 });
  await s.localize({ steps: meta.steps, baseline: meta.baseline, quadrature: meta.quadrature ?? LEGACY_QUADRATURE, store: o.store, signal: o.signal });
  // a query whose target's first token is a bare space or a byte piece is not trained on (wholeTargetId)
  const all = s.queries.filter((q) => q.lang === J.lang);
  const train = all.filter((q) => model.tok.tokenProblem(model.tok.targetId(q.prompt, q.target)) === null).map((q) => ({ prompt: q.prompt, target: q.target }));
  if (!train.length && all.length) model.tok.wholeTargetId(all[0].prompt, all[0].target);
  if (!train.length) throw new KnError('bad-input', `fact ${factId} has no ${J.lang} query to train on`);
  const old = await oldQueries(model, bench, meta, cache);
  const count = (rights: boolean[]) => {
    const c: Partial<Record<Lang, [number, number]>> = {};
    old.forEach((q, i) => {
      const x = (c[q.lang] ??= [0, 0]);
      x[1]++;
      if (rights[i]) x[0]++;
    });
    return c;
  };
  const editor = new ModelEditor(model);
  const L = model.cfg.numLayers,
    F = model.cfg.ffn;
  const methods: InjectRow['methods'] = {};
  for (const key of meta.methods) {
    // a fact the model does not know has S ≤ 0 everywhere, and the thresholded selection is empty:
    // MaTrice trains its top-k neurons by S (S ≠ 0), Random k random neurons, AMIG its own selection
    let neurons: NeuronId[] | 'all';
    if (key === 'direct') neurons = 'all';
    else if (key === 'matrice') neurons = await injectionNeurons(model, scoreMatrice(s.fa!, meta.settings).S, train, J.k);
    else if (key === 'random')
      neurons = sampleWithoutReplacement(J.k, L * F, `${meta.seed}:${factId}:inject`).map((i) => [Math.floor(i / F), i % F] as NeuronId);
    else neurons = s.select(key as Method, meta.settings, `${meta.seed}:${factId}`).neurons;
    if (neurons !== 'all' && !neurons.length) {
      methods[key] = {
        size: 0,
        neurons: [],
        steps: 0,
        converged: false,
        stopped: null,
        ms: 0,
        newCorrect: s.queries.map(() => 0),
        old: count(old.map((q) => q.right)),
        skipped: 'empty selection',
      };
      continue;
    }
    const r = await injectFact(editor, { neurons, queries: train, steps: J.steps, lr: J.lr, signal: o.signal });
    try {
      const pn = await model.probeMany(s.queries, { topK: 1 });
      const po = old.length
        ? await model.probeMany(
            old.map((q) => ({ prompt: q.prompt })),
            { topK: 1 },
          )
        : [];
      methods[key] = {
        size: neurons === 'all' ? model.cfg.numLayers * model.cfg.ffn : neurons.length,
        neurons: neurons === 'all' ? [] : neurons,
        steps: r.steps,
        converged: r.converged,
        stopped: r.stopped,
        ms: ms1(r.ms),
        newCorrect: pn.map((x) => (x.target!.rank === 0 ? 1 : 0)),
        old: count(po.map((x, i) => x.top[0].id === old[i].target)),
      };
    } finally {
      editor.undoAll();
    }
  }
  return {
    v: EDIT_ROW_VERSION,
    experiment: 'inject',
    fact: factId,
    index,
    relation: s.relation,
    queries: s.queries.map((q) => ({ lang: q.lang, template: q.templateId, correctBefore: q.known ? 1 : 0 })),
    oldBefore: count(old.map((q) => q.right)),
    methods,
  };
}

/** Edit, enhance and inject on the runner core: per run the caches of unrelated and old queries, per fact its runner. */
export const EDIT: core.ExperimentPlugin<EditMeta, AnyRow> = {
  experiments: ['edit', 'enhance', 'inject'],
  start(o) {
    const cache = new Map<string, Unrelated>();
    const oldCache = new Map<string, OldQueries>();
    return (fact, i) =>
      o.meta.experiment === 'edit'
        ? runEditFact(o, fact, i, cache)
        : o.meta.experiment === 'inject'
          ? runInjectFact(o, fact, i, oldCache)
          : runEnhanceFact(o, fact, i);
  },
  rowProblem: (r, meta) => editRowProblem(r, meta),
  mismatch: (a, b, ignoreShard) => editMetaMismatch(a, b, ignoreShard),
};

/** Runs the facts of the meta's shard that the sink has not finished; resumable, cancellable between facts. */
export const runEditExperiment = (o: EditRunOptions<AnyRow>): Promise<{ written: number; skipped: number }> =>
  core.runPlugin<EditMeta, AnyRow, object, EditProgress>(EDIT, o);

/** The fields two runs must share to be resumed or merged into one; the first that differs, or null. */
export function editMetaMismatch(a: EditMeta, b: EditMeta, ignoreShard = false): string | null {
  const fields: (keyof EditMeta)[] = [...core.RUN_META_FIELDS, 'edit', 'enhance', 'inject', 'facts', 'request'];
  if (!ignoreShard) fields.push('shard');
  return core.metaDifference(a, b, fields);
}

/** Checks a parsed NDJSON row has the shape the report reads; an error message or null. */
export function editRowProblem(r: unknown, meta: EditMeta): string | null {
  const head = core.rowHeadProblem(r, EDIT_ROW_VERSION, meta, true);
  if (head) return head;
  const o = r as { queries?: unknown[]; methods?: unknown };
  if (!Array.isArray(o.queries) || !o.methods || typeof o.methods !== 'object') return 'missing queries or methods';
  const n = o.queries.length;
  for (const k of meta.methods) {
    const m = (o.methods as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
    if (!m) return `method ${k} missing`;
    if (meta.experiment === 'enhance') {
      if (!Array.isArray(m.correct) || m.correct.length !== n) return `method ${k} misaligned`;
    } else if (meta.experiment === 'inject') {
      if (!Array.isArray(m.newCorrect) || m.newCorrect.length !== n || typeof m.old !== 'object') return `method ${k} misaligned`;
    } else {
      for (const op of ['erase', 'update'] as const) {
        const x = m[op] as EditOpResult | null | undefined;
        if (x === undefined) return `method ${k}: ${op} missing`;
        if (x && (!Array.isArray(x.oldTop) || x.oldTop.length !== n || typeof x.locality !== 'object')) return `method ${k}: ${op} misaligned`;
      }
    }
  }
  return null;
}

/**
 * A fact across languages: attribute every query (cached), score with MaTrice or a baseline, and
 * manipulate the selected neurons (suppress ×0, enhance ×2, any factor) to measure ΔP per language.
 */
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import type { ProbeResult } from '../../shared/types';
import { attributeQuery, checkQuadrature, completenessError, DEFAULT_QUADRATURE, LEGACY_QUADRATURE, type AttributeOptions, type QueryAttribution } from '../attribution/attribute';
import { DEFAULT_BASELINE, DEFAULT_STEPS, checkMethod } from '../rules';
import { attributionKey, decodeAttribution, encodeAttribution, type BytesStore } from '../attribution/cache';
import {
  deltaP,
  resolveSettings,
  scoreAmig,
  scoreMatrice,
  scoreNoUaL,
  scoreNoUaQ,
  scoreRandom,
  type FactAttributions,
  type MatriceSettings,
  type NeuronId,
  type Seed,
} from '../selection/scoring';

export interface QuerySpec {
  lang: string;
  prompt: string;
  target: string;
  templateId?: string;
}

export { METHODS, METHOD_LABELS, methodLabel, type Method } from '../selection/methods';
import { METHODS, type Method } from '../selection/methods';

export interface FactProgress {
  queriesDone: number;
  queriesTotal: number;
  /** interpolation points done in the current query */
  pointsDone: number;
  pointsTotal: number;
  cached: number;
}

export interface AttributeFactOptions extends Omit<AttributeOptions, 'onProgress'> {
  store?: BytesStore;
  onProgress?: (p: FactProgress) => void;
}

export interface AttributedQuery extends QuerySpec {
  attribution: QueryAttribution;
  cached: boolean;
  completeness: { maxAbs: number; maxRel: number };
}

/**
 * The cache key of a query's attribution: the weights as held (content hash and dtype), ids, target, settings.
 * The quadrature is left out when it is LEGACY_QUADRATURE: those keys are the ones written before the option.
 */
export function queryCacheKey(model: LoadedModel, q: QuerySpec, opts: Pick<AttributeOptions, 'steps' | 'baseline' | 'layers' | 'quadrature'> = {}): Promise<string> {
  const enc = model.tok.encodeQuery(q.prompt);
  const quadrature = checkQuadrature(opts.quadrature ?? DEFAULT_QUADRATURE);
  return attributionKey({
    model: `${model.info.contentHash}:${model.info.dtype}`,
    ids: enc.ids,
    position: enc.position,
    targetId: model.tok.targetId(q.prompt, q.target),
    steps: opts.steps ?? DEFAULT_STEPS,
    baseline: opts.baseline ?? DEFAULT_BASELINE,
    layers: opts.layers ?? Array.from({ length: model.cfg.numLayers }, (_, l) => l),
    ...(quadrature !== LEGACY_QUADRATURE ? { quadrature } : {}),
  });
}

/** Attributes one query, reading and writing the cache. */
export async function attributeCached(model: LoadedModel, q: QuerySpec, opts: AttributeFactOptions & { onPoints?: (d: number, t: number) => void } = {}) {
  const steps = opts.steps ?? DEFAULT_STEPS, baseline = opts.baseline ?? DEFAULT_BASELINE, quadrature = opts.quadrature ?? DEFAULT_QUADRATURE;
  const layers = opts.layers ?? Array.from({ length: model.cfg.numLayers }, (_, l) => l);
  const key = await queryCacheKey(model, q, { steps, baseline, layers, quadrature });
  if (opts.store) {
    const hit = await opts.store.get(key);
    const dec = hit ? decodeAttribution(hit, model.cfg.numLayers) : null;
    if (dec) return { attribution: dec, cached: true };
  }
  const fresh = await attributeQuery(model, q.prompt, q.target, { ...opts, steps, baseline, quadrature, layers, onProgress: opts.onPoints });
  // stored as float32: use the stored form now too, so a cached and a fresh run score identically
  const bytes = encodeAttribution(fresh);
  const attribution = decodeAttribution(bytes, model.cfg.numLayers)!;
  if (opts.store) {
    try {
      await opts.store.set(key, bytes);
    } catch {
      /* a full or failing cache never fails the attribution */
    }
  }
  return { attribution, cached: false };
}

/** Raw scores with the layers left out of a partial run (`layers`) as zeros: they score nothing. */
export function withAllLayers(model: LoadedModel, raw: Float64Array[]): Float64Array[] {
  return raw.some((r) => r.length === 0) ? raw.map((r) => (r.length ? r : new Float64Array(model.cfg.ffn))) : raw;
}

/** Attributes every query of a fact; returns them with the FactAttributions the scorers take. */
export async function attributeFact(model: LoadedModel, queries: QuerySpec[], opts: AttributeFactOptions = {}) {
  if (queries.length === 0) throw new KnError('bad-input', 'the fact has no queries to attribute');
  const out: AttributedQuery[] = [];
  let cached = 0;
  for (let i = 0; i < queries.length; i++) {
    if (opts.signal?.aborted) throw new KnError('cancelled', 'localization cancelled');
    const q = queries[i];
    const r = await attributeCached(model, q, {
      ...opts,
      onPoints: (d, t) => opts.onProgress?.({ queriesDone: i, queriesTotal: queries.length, pointsDone: d, pointsTotal: t, cached }),
    });
    if (r.cached) cached++;
    out.push({ ...q, attribution: r.attribution, cached: r.cached, completeness: completenessError(r.attribution) });
    opts.onProgress?.({ queriesDone: i + 1, queriesTotal: queries.length, pointsDone: 0, pointsTotal: 0, cached });
  }
  return { queries: out, fa: toFactAttributions(model, out) };
}

export function toFactAttributions(model: LoadedModel, qs: AttributedQuery[]): FactAttributions {
  const languages: FactAttributions['languages'] = {};
  for (const q of qs) {
    (languages[q.lang] ??= { queries: [] }).queries.push({ raw: withAllLayers(model, q.attribution.raw), text: q.prompt });
  }
  return { numLayers: model.cfg.numLayers, ffnSize: model.cfg.ffn, languages };
}

export interface Selection {
  method: Method;
  neurons: NeuronId[];
  /** the language-agnostic score S of each selected neuron (MaTrice, w/o UaQ), else null */
  scores: (number | null)[];
  threshold: number | null;
}

/** Selects neurons by one of the methods; re-scoring only, never a gradient. */
export function selectNeurons(fa: FactAttributions, method: Method, settings: Partial<MatriceSettings> = {}, seed: Seed = 1): Selection {
  const s = resolveSettings(settings);
  if (method === 'matrice' || method === 'no-uaq') {
    const r = method === 'matrice' ? scoreMatrice(fa, s) : scoreNoUaQ(fa, s);
    return { method, neurons: r.selected, scores: r.selected.map(([l, j]) => r.S[l][j]), threshold: r.threshold };
  }
  if (method === 'amig' || method === 'no-ual') {
    const r = method === 'amig' ? scoreAmig(fa, s) : scoreNoUaL(fa, s);
    return { method, neurons: r.selected, scores: r.selected.map(() => null), threshold: null };
  }
  if (method === 'random') {
    const r = scoreRandom(fa, s, seed);
    return { method, neurons: r.selected, scores: r.selected.map(() => null), threshold: null };
  }
  return checkMethod(method) as never;
}

export interface TopToken {
  id: number;
  token: string;
  prob: number;
}

/** A query's probe without intervention: P(correct), its rank (0 = top-1) and the top predictions. */
export interface BeforeProbe {
  before: number;
  rank: number;
  top: TopToken[];
}

export interface ManipulationRow {
  lang: string;
  templateId?: string;
  prompt: string;
  target: string;
  before: number;
  after: number;
  /** Eq. 14 for this query (NaN when P before is 0) */
  deltaP: number;
  correctBefore: boolean;
  correctAfter: boolean;
  topBefore: TopToken[];
  topAfter: TopToken[];
}

const tops = (r: { top: TopToken[] }, k: number) => r.top.slice(0, k).map((t) => ({ id: t.id, token: t.token, prob: t.prob }));

/**
 * P(correct) of every query before and after scaling the neurons by `factor` (0 suppress, 2 enhance), in
 * batched forwards. `befores` (aligned with `queries`) skips the probes without intervention.
 */
export async function manipulate(
  model: LoadedModel,
  queries: QuerySpec[],
  neurons: NeuronId[],
  factor: number,
  topK = 5,
  befores?: BeforeProbe[],
): Promise<ManipulationRow[]> {
  return (await manipulateMany(model, queries, [{ neurons, factor }], topK, befores))[0];
}

/**
 * Several manipulations of the same queries (out[k] for list[k]), all in one batched forward per query
 * length (LoadedModel.probeInterventions): a fact's suppress / enhance / knock-out runs cost a few forwards.
 */
export async function manipulateMany(
  model: LoadedModel,
  queries: QuerySpec[],
  list: { neurons: NeuronId[]; factor: number }[],
  topK = 5,
  befores?: BeforeProbe[],
): Promise<ManipulationRow[][]> {
  const { numLayers, ffn } = model.cfg;
  for (const { neurons, factor } of list) {
    if (!Number.isFinite(factor)) throw new KnError('bad-input', `the scale factor must be a finite number, got ${factor}`);
    for (const [l, j] of neurons) {
      if (!Number.isInteger(l) || !Number.isInteger(j) || l < 0 || l >= numLayers || j < 0 || j >= ffn) {
        throw new KnError('bad-input', `neuron ${l}:${j} does not exist in this model (${numLayers} layers × ${ffn} neurons)`);
      }
    }
  }
  const b: BeforeProbe[] =
    befores ?? (await model.probeMany(queries, { topK })).map((r) => ({ before: r.target!.prob, rank: r.target!.rank, top: tops(r, topK) }));
  // only the non-empty manipulations need a forward; an empty set changes nothing
  const live = list.map((m, k) => ({ m, k })).filter((x) => x.m.neurons.length > 0);
  const probed = live.length && queries.length ? await model.probeInterventions(queries, live.map((x) => ({ neurons: x.m.neurons, factor: x.m.factor })), { topK }) : [];
  const afters: (ProbeResult[] | null)[] = list.map(() => null);
  live.forEach((x, n) => (afters[x.k] = probed[n]));
  return list.map((_, k) =>
    queries.map((q, i) => {
      const a = afters[k]?.[i];
      const after = a ? a.target!.prob : b[i].before;
      return {
        lang: q.lang,
        ...(q.templateId !== undefined ? { templateId: q.templateId } : {}),
        prompt: q.prompt,
        target: q.target,
        before: b[i].before,
        after,
        deltaP: deltaP(b[i].before, after),
        correctBefore: b[i].rank === 0,
        correctAfter: a ? a.target!.rank === 0 : b[i].rank === 0,
        topBefore: b[i].top.slice(0, topK),
        topAfter: a ? tops(a, topK) : b[i].top.slice(0, topK),
      };
    }),
  );
}

export { perLanguage, type LanguageSummary } from '../selection/scoring';

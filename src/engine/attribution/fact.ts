/**
 * A fact's attributions: every query attributed through the cache (keyed by the weights, ids, target and
 * settings), gathered into the FactAttributions the selection methods score.
 */
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import {
  attributeQuery,
  checkQuadrature,
  completenessError,
  DEFAULT_QUADRATURE,
  LEGACY_QUADRATURE,
  type AttributeOptions,
  type QueryAttribution,
} from './attribute';
import { DEFAULT_BASELINE, DEFAULT_STEPS } from '../rules';
import { attributionKey, decodeAttribution, encodeAttribution, type BytesStore } from './cache';
import type { FactAttributions } from '../selection/scoring';

export interface QuerySpec {
  lang: string;
  prompt: string;
  target: string;
  templateId?: string;
}

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
export function queryCacheKey(
  model: LoadedModel,
  q: QuerySpec,
  opts: Pick<AttributeOptions, 'steps' | 'baseline' | 'layers' | 'quadrature'> = {},
): Promise<string> {
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
  const steps = opts.steps ?? DEFAULT_STEPS,
    baseline = opts.baseline ?? DEFAULT_BASELINE,
    quadrature = opts.quadrature ?? DEFAULT_QUADRATURE;
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

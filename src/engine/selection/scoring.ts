/**
 * MaTrice scoring: the framework-free, deterministic array arithmetic of METHOD.md (no tfjs here).
 * Gradients are computed elsewhere; the inputs are attribution score maps (`LayerScores`, see
 * ./layerScores.ts: one Float64Array of length ffnSize per layer, layer-major).
 *
 * Pipeline for one fact (equation numbers are the paper's, as restated in METHOD.md):
 *   per query t of language k:   raw_t = Σ_i Attr_i                       (`combineBaselines`)
 *                                Attr_t = raw_t / Σ_j raw_t(n_j^l)  (Eq. 5, `normalize`, mode `attrNorm`)
 *   per language k (UaQ, Eq. 6-8):  s_k = α1·mean_t Attr_t − α2·std_t Attr_t          (`uaq`)
 *   across languages (UaL, Eq. 9-11): s̄_k = minmax(s_k);  S = β1·mean_k s̄_k − β2·std_k s̄_k  (`ual`)
 *   selection (Eq. 12-13):       𝒯 = τ·max S;  LAKNs = {n : S(n) > 𝒯}          (`selectByThreshold`)
 * All std are population std (divide by the count, not count − 1).
 *
 * Determinism: no Math.random, no clocks. Languages are always processed in code-unit sorted order of
 * their codes (`languageOrder`), queries in their given order, neurons layer-major. Neuron lists are
 * sorted layer-major without duplicates. Everything returned is plain objects, arrays and Float64Arrays;
 * `toJSONable` turns any result into JSON-safe data.
 *
 * Re-scoring with new α, β, τ or normalization only needs the stored per-query raw scores
 * (`FactAttributions`), never a gradient.
 */
import { KnError } from '../../shared/errors';
import {
  type LayerScores,
  type NeuronId,
  type ScoreShape,
  assertNeuron,
  assertShape,
  neuronKey,
  neuronsFromKeys,
  shapeOf,
} from './layerScores';
import { type Seed, sampleWithoutReplacement } from './rng';
import type { AttrNorm, LangNorm, MatriceSettings } from '../../shared/types';
import { DEFAULT_SETTINGS, resolveSettings } from '../rules';

export * from './layerScores';
export { createRng, sampleWithoutReplacement, type Rng, type Seed } from './rng';

// ---------------------------------------------------------------------------------------------------
// Settings

/** The settings' types (shared/types.ts) and their defaults and check (rules/index.ts), re-exported here. */
export type { AttrNorm, LangNorm, MatriceSettings } from '../../shared/types';
export { DEFAULT_SETTINGS, resolveSettings } from '../rules';

// ---------------------------------------------------------------------------------------------------
// SAIG raw score and Eq. 5 normalization

/** Σ_i Attr_i over baselines (METHOD.md "Raw score"). All maps must have the same shape. */
export function combineBaselines(perBaseline: LayerScores[]): LayerScores {
  if (perBaseline.length === 0) throw new KnError('bad-input', 'matrice: combineBaselines needs at least one baseline');
  const shape = shapeOf(perBaseline[0], 'baseline 0');
  const out = perBaseline[0].map((r) => new Float64Array(r));
  for (let i = 1; i < perBaseline.length; i++) {
    assertShape(perBaseline[i], shape, `baseline ${i}`);
    for (let l = 0; l < shape.numLayers; l++) {
      const o = out[l];
      const x = perBaseline[i][l];
      for (let j = 0; j < shape.ffnSize; j++) o[j] += x[j];
    }
  }
  return out;
}

export interface NormalizationWarning {
  /** the layer whose denominator is at fault; -1 for the global denominator */
  layer: number;
  /**
   * - `zero`: the denominator is exactly 0 → that layer (or everything, globally) is set to 0
   * - `non-finite`: the denominator is NaN or ±Infinity → that layer (or everything) is set to 0
   * - `negative`: the denominator is < 0 → the literal division is kept (signs flip)
   * - `near-zero`: |denominator| < nearZeroRel · Σ|raw| (heavy cancellation) → the literal division is
   *   kept, but the normalized values are large and unstable
   */
  kind: 'zero' | 'non-finite' | 'negative' | 'near-zero';
  denominator: number;
  /** set by the pipelines: which language / query (index in the given order) it came from */
  language?: string;
  query?: number;
}

export interface NormalizeResult {
  scores: LayerScores;
  warnings: NormalizationWarning[];
}

export interface NormalizeOptions {
  /** relative size below which a denominator is reported as `near-zero` (default 1e-6) */
  nearZeroRel?: number;
}

/** Divides `values` (a copy) by `denom`, or zeroes them, and reports per the rules of NormalizationWarning. */
function divideChecked(
  rows: Float64Array[],
  denom: number,
  absSum: number,
  layer: number,
  nearZeroRel: number,
  warnings: NormalizationWarning[],
): Float64Array[] {
  if (!Number.isFinite(denom) || denom === 0) {
    warnings.push({ layer, kind: denom === 0 ? 'zero' : 'non-finite', denominator: denom });
    return rows.map((r) => new Float64Array(r.length));
  }
  if (denom < 0) warnings.push({ layer, kind: 'negative', denominator: denom });
  if (Math.abs(denom) < nearZeroRel * absSum) warnings.push({ layer, kind: 'near-zero', denominator: denom });
  return rows.map((r) => {
    const o = new Float64Array(r.length);
    for (let j = 0; j < r.length; j++) o[j] = r[j] / denom + 0; // + 0 turns -0 into 0
    return o;
  });
}

/**
 * Eq. 5, per layer: Attr(n_j^l) = raw(n_j^l) / Σ_j' raw(n_j'^l).
 * Denominator 0 or non-finite → that layer becomes all zeros and a `zero` / `non-finite` warning is
 * reported; negative → literal division kept, `negative` warning; |denominator| tiny relative to
 * Σ_j|raw| → literal division kept, `near-zero` warning. The input is not modified.
 */
export function normalizePerLayer(raw: LayerScores, opts: NormalizeOptions = {}): NormalizeResult {
  const { numLayers } = shapeOf(raw, 'raw scores');
  const nearZeroRel = opts.nearZeroRel ?? 1e-6;
  const warnings: NormalizationWarning[] = [];
  const scores: LayerScores = [];
  for (let l = 0; l < numLayers; l++) {
    let sum = 0;
    let abs = 0;
    for (const v of raw[l]) {
      sum += v;
      abs += Math.abs(v);
    }
    scores.push(divideChecked([raw[l]], sum, abs, l, nearZeroRel, warnings)[0]);
  }
  return { scores, warnings };
}

/**
 * Alternative to Eq. 5: divide every score by the sum over all neurons of all layers. Same rules as
 * `normalizePerLayer` with the single denominator reported as layer −1 (0 / non-finite → all zeros).
 */
export function normalizeGlobal(raw: LayerScores, opts: NormalizeOptions = {}): NormalizeResult {
  shapeOf(raw, 'raw scores');
  const nearZeroRel = opts.nearZeroRel ?? 1e-6;
  let sum = 0;
  let abs = 0;
  for (const r of raw) {
    for (const v of r) {
      sum += v;
      abs += Math.abs(v);
    }
  }
  const warnings: NormalizationWarning[] = [];
  const scores = divideChecked(raw, sum, abs, -1, nearZeroRel, warnings);
  return { scores, warnings };
}

/** Eq. 5 in the selected mode; `none` returns a copy of the raw scores and no warnings. */
export function normalize(raw: LayerScores, mode: AttrNorm, opts: NormalizeOptions = {}): NormalizeResult {
  switch (mode) {
    case 'layer':
      return normalizePerLayer(raw, opts);
    case 'global':
      return normalizeGlobal(raw, opts);
    case 'none':
      shapeOf(raw, 'raw scores');
      return { scores: raw.map((r) => new Float64Array(r)), warnings: [] };
    default:
      throw new KnError('bad-input', `matrice: unknown attribution normalization ${String(mode)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Uncertainty: weighted mean − weighted population std across a set of maps

/** Per neuron: wMean·mean_k x_k − wStd·std_k x_k, population std (÷ K), two-pass for accuracy. */
function meanMinusStd(maps: LayerScores[], wMean: number, wStd: number, what: string): LayerScores {
  if (maps.length === 0) throw new KnError('bad-input', `matrice: ${what} needs at least one score map`);
  const shape = shapeOf(maps[0], `${what} 0`);
  for (let k = 1; k < maps.length; k++) assertShape(maps[k], shape, `${what} ${k}`);
  const K = maps.length;
  const out: LayerScores = [];
  for (let l = 0; l < shape.numLayers; l++) {
    const o = new Float64Array(shape.ffnSize);
    for (let j = 0; j < shape.ffnSize; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += maps[k][l][j];
      const m = s / K;
      let v = 0;
      for (let k = 0; k < K; k++) {
        const d = maps[k][l][j] - m;
        v += d * d;
      }
      const sd = Math.sqrt(v / K);
      o[j] = wMean * m - (wStd === 0 ? 0 : wStd * sd);
    }
    out.push(o);
  }
  return out;
}

/** Mean and population std of a list of numbers (per-neuron display values). */
function meanAndStd(values: number[]): { mean: number; std: number } {
  const K = values.length;
  let s = 0;
  for (const v of values) s += v;
  const mean = s / K;
  let q = 0;
  for (const v of values) q += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(q / K) };
}

/**
 * UaQ (Eq. 6-8) for one language: s = α1·mean_t Attr_t − α2·std_t Attr_t over its T queries
 * (population std). Inputs are the normalized per-query maps. Defaults α1 = α2 = 1.
 */
export function uaq(
  perQuery: LayerScores[],
  opts: { alpha1?: number; alpha2?: number } = {},
): LayerScores {
  const a1 = opts.alpha1 ?? DEFAULT_SETTINGS.alpha1;
  const a2 = opts.alpha2 ?? DEFAULT_SETTINGS.alpha2;
  return meanMinusStd(perQuery, a1, a2, 'query');
}

/**
 * Eq. 9 min-max normalization of the per-language scores s_k.
 * - `language` (default): s̄_k = (s_k − min_n s_k) / (max_n s_k − min_n s_k), min/max over ALL neurons
 *   of the model (all layers together). A language whose vector is constant (max = min) gives all 0.
 * - `neuron` (literal reading): for each neuron, min/max across languages; where they are equal
 *   (including when there is a single language) every language's value is 0.
 * Non-finite inputs are skipped when finding min/max and come out as NaN (never selected later).
 */
export function normalizeAcrossLanguages(perLanguage: LayerScores[], norm: LangNorm = 'language'): LayerScores[] {
  if (perLanguage.length === 0) throw new KnError('bad-input', 'matrice: UaL needs at least one language');
  const shape = shapeOf(perLanguage[0], 'language 0');
  for (let k = 1; k < perLanguage.length; k++) assertShape(perLanguage[k], shape, `language ${k}`);
  const { numLayers, ffnSize } = shape;
  if (norm === 'language') {
    return perLanguage.map((s) => {
      let mn = Infinity;
      let mx = -Infinity;
      for (const r of s) {
        for (const v of r) {
          if (!Number.isFinite(v)) continue;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
      }
      const range = mx - mn;
      return s.map((r) => {
        const o = new Float64Array(ffnSize);
        for (let j = 0; j < ffnSize; j++) {
          const v = r[j];
          o[j] = !Number.isFinite(v) ? NaN : range > 0 ? (v - mn) / range : 0;
        }
        return o;
      });
    });
  }
  if (norm === 'scale') {
    return perLanguage.map((s) => {
      let mx = 0;
      for (const r of s) for (const v of r) if (Number.isFinite(v) && Math.abs(v) > mx) mx = Math.abs(v);
      return s.map((r) => Float64Array.from(r, (v) => (!Number.isFinite(v) ? NaN : mx > 0 ? v / mx : 0)));
    });
  }
  if (norm === 'neuron') {
    const K = perLanguage.length;
    const out: LayerScores[] = perLanguage.map(() => {
      const m: LayerScores = [];
      for (let l = 0; l < numLayers; l++) m.push(new Float64Array(ffnSize));
      return m;
    });
    for (let l = 0; l < numLayers; l++) {
      for (let j = 0; j < ffnSize; j++) {
        let mn = Infinity;
        let mx = -Infinity;
        for (let k = 0; k < K; k++) {
          const v = perLanguage[k][l][j];
          if (!Number.isFinite(v)) continue;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        const range = mx - mn;
        for (let k = 0; k < K; k++) {
          const v = perLanguage[k][l][j];
          out[k][l][j] = !Number.isFinite(v) ? NaN : range > 0 ? (v - mn) / range : 0;
        }
      }
    }
    return out;
  }
  throw new KnError('bad-input', `matrice: unknown UaL normalization ${String(norm)}`);
}

export interface UalResult {
  /** language-agnostic score S (Eq. 11) */
  S: LayerScores;
  /** the min-max normalized s̄_k, in the order of the input */
  normalized: LayerScores[];
}

/** UaL (Eq. 9-11): normalize (see `normalizeAcrossLanguages`), then S = β1·mean_k s̄_k − β2·std_k s̄_k. */
export function ual(
  perLanguage: LayerScores[],
  opts: { beta1?: number; beta2?: number; norm?: LangNorm } = {},
): UalResult {
  const normalized = normalizeAcrossLanguages(perLanguage, opts.norm ?? DEFAULT_SETTINGS.norm);
  const S = meanMinusStd(normalized, opts.beta1 ?? DEFAULT_SETTINGS.beta1, opts.beta2 ?? DEFAULT_SETTINGS.beta2, 'language');
  return { S, normalized };
}

// ---------------------------------------------------------------------------------------------------
// Selection (Eq. 12-13)

export interface Selection {
  /** neurons with score > threshold, layer-major */
  selected: NeuronId[];
  /** 𝒯 = τ · maxScore (NaN when there is no finite score) */
  threshold: number;
  /** max over the finite scores (−Infinity when there is none) */
  maxScore: number;
}

/**
 * Eq. 12-13: 𝒯 = τ · max_{l,j} S; selects {n : S(n) > 𝒯} (strictly greater).
 * When max S ≤ 0 (or no score is finite) nothing is selected: the threshold is relative to the
 * strongest evidence, and without any positive evidence there is no knowledge neuron. (For 0 ≤ τ ≤ 1
 * the strict rule already gives this; the explicit check covers τ > 1, where τ·max would fall below a
 * negative max and admit neurons.)
 * Non-finite scores are ignored for the maximum and never selected. τ must be finite; τ ≥ 1 selects
 * nothing, τ = 0 selects every neuron with S > 0, τ < 0 also admits scores in (τ·max, 0].
 */
export function selectByThreshold(S: LayerScores, tau: number = DEFAULT_SETTINGS.tau): Selection {
  const { numLayers, ffnSize } = shapeOf(S, 'S');
  if (typeof tau !== 'number' || !Number.isFinite(tau)) {
    throw new KnError('bad-input', `matrice: tau must be a finite number, got ${String(tau)}`);
  }
  let mx = -Infinity;
  for (const r of S) for (const v of r) if (Number.isFinite(v) && v > mx) mx = v;
  const threshold = Number.isFinite(mx) ? tau * mx : NaN;
  const selected: NeuronId[] = [];
  if (mx > 0) {
    for (let l = 0; l < numLayers; l++) {
      const r = S[l];
      for (let j = 0; j < ffnSize; j++) {
        const v = r[j];
        if (Number.isFinite(v) && v > threshold) selected.push([l, j]);
      }
    }
  }
  return { selected, threshold, maxScore: mx };
}

/** Intersection of neuron sets (layer-major result). No sets → empty. */
export function intersectNeuronSets(sets: NeuronId[][], ffnSize: number): NeuronId[] {
  if (sets.length === 0) return [];
  let acc = new Set(sets[0].map((n) => neuronKey(n, ffnSize)));
  for (let i = 1; i < sets.length; i++) {
    const next = new Set(sets[i].map((n) => neuronKey(n, ffnSize)));
    acc = new Set([...acc].filter((k) => next.has(k)));
  }
  return neuronsFromKeys(acc, ffnSize);
}

// ---------------------------------------------------------------------------------------------------
// Coverage: how language-agnostic a selection is (docs/METHOD.md "Coverage")

/**
 * For each neuron of `selected` (in its order), the number of languages whose own selection
 * (`perLanguageSelected`, e.g. `scoreNoUaL(...).perLanguageSelected`: UaQ over that language's queries alone,
 * the same τ and Eq. 5 reading) contains it: 0 (no language's own set) … number of languages (every one).
 */
export function languageCoverage(selected: readonly NeuronId[], perLanguageSelected: Readonly<Record<string, readonly NeuronId[]>>): number[] {
  const sets = Object.values(perLanguageSelected).map((ns) => new Set(ns.map((n) => `${n[0]}:${n[1]}`)));
  return selected.map((n) => {
    const k = `${n[0]}:${n[1]}`;
    let c = 0;
    for (const s of sets) if (s.has(k)) c++;
    return c;
  });
}

/** Mean of coverage counts pooled over neurons (every selected neuron counts once); null for none. */
export function coverageMean(counts: readonly number[]): number | null {
  if (counts.length === 0) return null;
  let s = 0;
  for (const c of counts) s += c;
  return s / counts.length;
}

// ---------------------------------------------------------------------------------------------------
// Stored attributions and the full pipelines

export interface QueryAttribution {
  /** per-query raw score Σ_i Attr_i (sum over baselines, before Eq. 5 normalization) */
  raw: LayerScores;
  /** optional, for display only */
  text?: string;
}

export interface FactAttributions {
  numLayers: number;
  ffnSize: number;
  /** language code → its queries, in a fixed order (the first query is the one AMIG / w/o UaQ use) */
  languages: { [lang: string]: { queries: QueryAttribution[] } };
}

/** The order every pipeline processes languages in: codes sorted by UTF-16 code units. */
export function languageOrder(fa: FactAttributions): string[] {
  return Object.keys(fa.languages).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Validates shapes; throws `bad-input` naming the language/query at fault. */
export function validateAttributions(fa: FactAttributions): ScoreShape {
  const shape = { numLayers: fa.numLayers, ffnSize: fa.ffnSize };
  if (!Number.isSafeInteger(shape.numLayers) || shape.numLayers <= 0 || !Number.isSafeInteger(shape.ffnSize) || shape.ffnSize <= 0) {
    throw new KnError('bad-input', `matrice: attributions have invalid shape ${shape.numLayers}x${shape.ffnSize}`);
  }
  const langs = languageOrder(fa);
  if (langs.length === 0) throw new KnError('bad-input', 'matrice: attributions have no language');
  for (const lang of langs) {
    const qs = fa.languages[lang]?.queries;
    if (!Array.isArray(qs) || qs.length === 0) {
      throw new KnError('bad-input', `matrice: language ${lang} has no query attributions`);
    }
    qs.forEach((q, t) => assertShape(q.raw, shape, `raw scores of ${lang} query ${t}`));
  }
  return shape;
}

interface Prepared {
  shape: ScoreShape;
  languages: string[];
  /** normalized Attr_t per language, queries in given order */
  attr: Record<string, LayerScores[]>;
  warnings: NormalizationWarning[];
}

function prepare(fa: FactAttributions, attrNorm: AttrNorm, firstQueryOnly: boolean): Prepared {
  const shape = validateAttributions(fa);
  const languages = languageOrder(fa);
  const attr: Record<string, LayerScores[]> = {};
  const warnings: NormalizationWarning[] = [];
  for (const lang of languages) {
    const qs = fa.languages[lang].queries;
    const use = firstQueryOnly ? qs.slice(0, 1) : qs;
    attr[lang] = use.map((q, t) => {
      const r = normalize(q.raw, attrNorm);
      for (const w of r.warnings) warnings.push({ ...w, language: lang, query: t });
      return r.scores;
    });
  }
  return { shape, languages, attr, warnings };
}

export interface MatriceResult {
  /** languages in processing order */
  languages: string[];
  /** language-agnostic score S (Eq. 11) */
  S: LayerScores;
  /** LAKNs (Eq. 13), layer-major */
  selected: NeuronId[];
  /** 𝒯 = τ · max S (Eq. 12) */
  threshold: number;
  maxS: number;
  /** s_k per language (UaQ output, Eq. 8; for w/o UaQ the first query's normalized attribution) */
  perLanguage: Record<string, LayerScores>;
  /** s̄_k per language (Eq. 9) */
  normalizedPerLanguage: Record<string, LayerScores>;
  /** Eq. 5 denominators at fault, with language and query */
  warnings: NormalizationWarning[];
  settings: MatriceSettings;
}

function finishWithUal(p: Prepared, perLanguageList: LayerScores[], settings: MatriceSettings): MatriceResult {
  const { S, normalized } = ual(perLanguageList, settings);
  const sel = selectByThreshold(S, settings.tau);
  const perLanguage: Record<string, LayerScores> = {};
  const normalizedPerLanguage: Record<string, LayerScores> = {};
  p.languages.forEach((lang, k) => {
    perLanguage[lang] = perLanguageList[k];
    normalizedPerLanguage[lang] = normalized[k];
  });
  return {
    languages: p.languages,
    S,
    selected: sel.selected,
    threshold: sel.threshold,
    maxS: sel.maxScore,
    perLanguage,
    normalizedPerLanguage,
    warnings: p.warnings,
    settings,
  };
}

/** MaTrice: Eq. 5 per query → UaQ per language → UaL → dynamic threshold. */
export function scoreMatrice(fa: FactAttributions, settings: Partial<MatriceSettings> = DEFAULT_SETTINGS): MatriceResult {
  const s = resolveSettings(settings);
  const p = prepare(fa, s.attrNorm, false);
  const perLanguageList = p.languages.map((lang) => uaq(p.attr[lang], s));
  return finishWithUal(p, perLanguageList, s);
}

/**
 * Ablation w/o UaQ: one query per language (the first), s_k = its normalized attribution (α1, α2 are
 * not used: with one query UaQ would only scale by α1), then UaL and selection as in MaTrice.
 */
export function scoreNoUaQ(fa: FactAttributions, settings: Partial<MatriceSettings> = DEFAULT_SETTINGS): MatriceResult {
  const s = resolveSettings(settings);
  const p = prepare(fa, s.attrNorm, true);
  const perLanguageList = p.languages.map((lang) => p.attr[lang][0]);
  return finishWithUal(p, perLanguageList, s);
}

export interface IntersectionResult {
  languages: string[];
  /** intersection over languages of the per-language selections, layer-major */
  selected: NeuronId[];
  /** each language's own selection (Eq. 12-13 applied to its own scores) */
  perLanguageSelected: Record<string, NeuronId[]>;
  perLanguageThreshold: Record<string, number>;
  /** the per-language scores the threshold was applied to */
  perLanguage: Record<string, LayerScores>;
  warnings: NormalizationWarning[];
  settings: MatriceSettings;
}

function intersectPerLanguage(p: Prepared, scores: Record<string, LayerScores>, settings: MatriceSettings): IntersectionResult {
  const perLanguageSelected: Record<string, NeuronId[]> = {};
  const perLanguageThreshold: Record<string, number> = {};
  for (const lang of p.languages) {
    const sel = selectByThreshold(scores[lang], settings.tau);
    perLanguageSelected[lang] = sel.selected;
    perLanguageThreshold[lang] = sel.threshold;
  }
  const selected = intersectNeuronSets(
    p.languages.map((l) => perLanguageSelected[l]),
    p.shape.ffnSize,
  );
  return {
    languages: p.languages,
    selected,
    perLanguageSelected,
    perLanguageThreshold,
    perLanguage: scores,
    warnings: p.warnings,
    settings,
  };
}

/** Ablation w/o UaL: UaQ per language, Eq. 12-13 on each language's own s_k, intersect across languages. */
export function scoreNoUaL(fa: FactAttributions, settings: Partial<MatriceSettings> = DEFAULT_SETTINGS): IntersectionResult {
  const s = resolveSettings(settings);
  const p = prepare(fa, s.attrNorm, false);
  const scores: Record<string, LayerScores> = {};
  for (const lang of p.languages) scores[lang] = uaq(p.attr[lang], s);
  return intersectPerLanguage(p, scores, s);
}

/**
 * AMIG (Chen et al., AAAI 2024): per language, the first query's normalized attribution (Eq. 5 in mode
 * `attrNorm`), that language's neurons by the same dynamic threshold τ·max, then the intersection over
 * languages. α, β and `norm` are not used.
 */
export function scoreAmig(fa: FactAttributions, settings: Partial<MatriceSettings> = DEFAULT_SETTINGS): IntersectionResult {
  const s = resolveSettings(settings);
  const p = prepare(fa, s.attrNorm, true);
  const scores: Record<string, LayerScores> = {};
  for (const lang of p.languages) scores[lang] = p.attr[lang][0];
  return intersectPerLanguage(p, scores, s);
}

/**
 * `count` distinct neurons drawn uniformly without replacement from numLayers × ffnSize (seeded:
 * same seed → same set), returned layer-major.
 */
export function randomNeurons(count: number, numLayers: number, ffnSize: number, seed: Seed): NeuronId[] {
  if (!Number.isSafeInteger(numLayers) || numLayers <= 0 || !Number.isSafeInteger(ffnSize) || ffnSize <= 0) {
    throw new KnError('bad-input', `matrice: invalid shape ${numLayers}x${ffnSize} for random neurons`);
  }
  return neuronsFromKeys(sampleWithoutReplacement(count, numLayers * ffnSize, seed), ffnSize);
}

export interface RandomResult {
  selected: NeuronId[];
  count: number;
  seed: Seed;
}

/** Random baseline: as many neurons as MaTrice selects with these settings (pass `matrice` to reuse it). */
export function scoreRandom(
  fa: FactAttributions,
  settings: Partial<MatriceSettings>,
  seed: Seed,
  matrice?: MatriceResult,
): RandomResult {
  const m = matrice ?? scoreMatrice(fa, settings);
  const count = m.selected.length;
  return { selected: randomNeurons(count, fa.numLayers, fa.ffnSize, seed), count, seed };
}

// ---------------------------------------------------------------------------------------------------
// Helpers for the UI and the experiments

/**
 * Fig. 4: share of the selected neurons in each layer (length numLayers, sums to 1). An empty selection
 * gives all zeros. Duplicates count once.
 */
export function layerDistribution(selected: NeuronId[], numLayers: number): number[] {
  if (!Number.isSafeInteger(numLayers) || numLayers <= 0) {
    throw new KnError('bad-input', `matrice: numLayers must be a positive integer, got ${numLayers}`);
  }
  const seen = new Set<string>();
  const counts = new Array<number>(numLayers).fill(0);
  for (const [l, j] of selected) {
    if (!Number.isInteger(l) || l < 0 || l >= numLayers) {
      throw new KnError('bad-input', `matrice: neuron [${l}, ${j}] is outside ${numLayers} layers`);
    }
    const key = `${l}:${j}`;
    if (seen.has(key)) continue;
    seen.add(key);
    counts[l]++;
  }
  const n = seen.size;
  return counts.map((c) => (n === 0 ? 0 : c / n));
}

export interface NeuronStats {
  neuron: NeuronId;
  languages: string[];
  /** per language: s_k (UaQ) and s̄_k (Eq. 9) of this neuron */
  perLanguage: Record<string, { s: number; normalized: number }>;
  /** mean and population std across languages of s̄_k (the terms of Eq. 11) */
  mean: number;
  std: number;
  /** mean and population std across languages of the un-normalized s_k */
  rawMean: number;
  rawStd: number;
  /** S of this neuron, the fact's threshold 𝒯, and whether S > 𝒯 (selected) */
  S: number;
  threshold: number;
  selected: boolean;
}

/** Per-neuron breakdown for the UI; pass `matrice` (computed with the same settings) to avoid re-scoring. */
export function neuronStats(
  fa: FactAttributions,
  settings: Partial<MatriceSettings>,
  neuron: NeuronId,
  matrice?: MatriceResult,
): NeuronStats {
  assertNeuron(neuron, { numLayers: fa.numLayers, ffnSize: fa.ffnSize });
  const m = matrice ?? scoreMatrice(fa, settings);
  const [l, j] = neuron;
  const perLanguage: Record<string, { s: number; normalized: number }> = {};
  const sv: number[] = [];
  const nv: number[] = [];
  for (const lang of m.languages) {
    const s = m.perLanguage[lang][l][j];
    const normalized = m.normalizedPerLanguage[lang][l][j];
    perLanguage[lang] = { s, normalized };
    sv.push(s);
    nv.push(normalized);
  }
  const n = meanAndStd(nv);
  const r = meanAndStd(sv);
  const key = neuronKey(neuron, fa.ffnSize);
  const selected = m.selected.some((x) => neuronKey(x, fa.ffnSize) === key);
  return {
    neuron: [l, j],
    languages: m.languages,
    perLanguage,
    mean: n.mean,
    std: n.std,
    rawMean: r.mean,
    rawStd: r.std,
    S: m.S[l][j],
    threshold: m.threshold,
    selected,
  };
}

/**
 * Eq. 14 / Fig. 5: ΔP = (P_after − P_before) / P_before. Probabilities must be finite and ≥ 0
 * (else `bad-input`). P_before = 0: returns 0 when P_after = 0 too (nothing changed), otherwise NaN
 * (the relative change is undefined); aggregations should skip NaN.
 */
export function deltaP(before: number, after: number): number {
  if (!Number.isFinite(before) || !Number.isFinite(after) || before < 0 || after < 0) {
    throw new KnError('bad-input', `matrice: deltaP needs finite probabilities ≥ 0, got ${before} → ${after}`);
  }
  if (before === 0) return after === 0 ? 0 : NaN;
  return (after - before) / before;
}

export interface PrecisionRecall {
  /** |selected ∩ truth| */
  truePositives: number;
  selectedCount: number;
  truthCount: number;
  /** tp / |selected|; 0 when nothing is selected (1 when truth is empty too) */
  precision: number;
  /** tp / |truth|; 0 when truth is empty but something was selected (1 when both are empty) */
  recall: number;
  /** harmonic mean; 0 when precision + recall = 0 */
  f1: number;
}

/** Precision/recall of a selection against ground-truth neurons; duplicates count once. */
export function precisionRecall(selected: NeuronId[], truth: NeuronId[]): PrecisionRecall {
  const k = (n: NeuronId) => `${n[0]}:${n[1]}`;
  const sel = new Set(selected.map(k));
  const tru = new Set(truth.map(k));
  let tp = 0;
  for (const x of sel) if (tru.has(x)) tp++;
  const bothEmpty = sel.size === 0 && tru.size === 0;
  const precision = bothEmpty ? 1 : sel.size === 0 ? 0 : tp / sel.size;
  const recall = bothEmpty ? 1 : tru.size === 0 ? 0 : tp / tru.size;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truePositives: tp, selectedCount: sel.size, truthCount: tru.size, precision, recall, f1 };
}

// ---------------------------------------------------------------------------------------------------
// JSON

export type Jsonable = null | boolean | number | string | Jsonable[] | { [k: string]: Jsonable };

/**
 * JSON-safe deep copy of any result here: typed arrays → number[], non-finite numbers → null,
 * undefined object fields dropped. Key order is preserved, so the output is deterministic.
 */
export function toJSONable(value: unknown): Jsonable {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
  }
  if (Array.isArray(value)) return value.map(toJSONable);
  if (typeof value === 'object') {
    const out: { [k: string]: Jsonable } = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = toJSONable(v);
    }
    return out;
  }
  throw new KnError('bad-input', `matrice: cannot serialize a ${typeof value}`);
}

export interface LanguageSummary {
  /** mean P(correct) before and after over the language's queries */
  before: number;
  after: number;
  /**
   * mean ΔP (Eq. 14) over the queries the model **knew** before (target top-1), docs/METHOD.md; NaN when
   * the language has no known query (never averaged as 0)
   */
  deltaP: number;
  /** mean P after / mean P before over the known queries − 1 (the ratio of mean probabilities); NaN when none */
  ratio: number;
  /** queries, and how many of them the model got right (top-1) before */
  n: number;
  correctBefore: number;
  /**
   * share of the known queries whose top-1 answer is no longer the target afterwards (the answer a class sees
   * disappear); NaN when none was known. Only for rows that say `correctAfter`; else NaN.
   */
  flipRate: number;
}

/** Per language (in first-seen order): mean P(correct) over all queries; ΔP and the ratio over the known ones. */
export function perLanguage(rows: readonly { lang: string; before: number; after: number; deltaP: number; correctBefore: boolean; correctAfter?: boolean }[]): Record<string, LanguageSummary> {
  const acc: Record<string, { before: number; after: number; d: number; nd: number; kb: number; ka: number; n: number; known: number; flips: number; told: number }> = {};
  for (const r of rows) {
    const o = (acc[r.lang] ??= { before: 0, after: 0, d: 0, nd: 0, kb: 0, ka: 0, n: 0, known: 0, flips: 0, told: 0 });
    o.before += r.before;
    o.after += r.after;
    o.n++;
    if (!r.correctBefore) continue;
    o.known++;
    o.kb += r.before;
    o.ka += r.after;
    if (typeof r.correctAfter === 'boolean') {
      o.told++;
      if (!r.correctAfter) o.flips++;
    }
    if (Number.isFinite(r.deltaP)) {
      o.d += r.deltaP;
      o.nd++;
    }
  }
  const out: Record<string, LanguageSummary> = {};
  for (const [lang, o] of Object.entries(acc)) {
    out[lang] = {
      before: o.before / o.n,
      after: o.after / o.n,
      deltaP: o.nd ? o.d / o.nd : NaN,
      ratio: o.known && o.kb > 0 ? o.ka / o.kb - 1 : NaN,
      n: o.n,
      correctBefore: o.known,
      flipRate: o.known && o.told === o.known ? o.flips / o.known : NaN,
    };
  }
  return out;
}

/**
 * MaTrice scoring: the methods over stored attributions (MaTrice, w/o UaQ, w/o UaL, AMIG, Random) and neuron
 * stats, built from ./normalization.ts (Eq. 5), ./uncertainty.ts (Eq. 6-11), ./threshold.ts (Eq. 12-13, coverage)
 * and ./summaries.ts (ΔP, per-language summaries, JSON): framework-free, deterministic array arithmetic of
 * METHOD.md (no tfjs here).
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
import { type LayerScores, type NeuronId, type ScoreShape, assertNeuron, assertShape, neuronKey, neuronsFromKeys } from './layerScores';
import { type Seed, sampleWithoutReplacement } from './rng';
import type { AttrNorm, MatriceSettings } from '../../shared/types';
import { DEFAULT_SETTINGS, resolveSettings } from '../rules';

export * from './layerScores';
export { createRng, sampleWithoutReplacement, type Rng, type Seed } from './rng';
export * from './normalization';
export * from './uncertainty';
export * from './threshold';
export * from './summaries';
import { normalize, type NormalizationWarning } from './normalization';
import { meanAndStd, uaq, ual } from './uncertainty';
import { intersectNeuronSets, selectByThreshold } from './threshold';

// ---------------------------------------------------------------------------------------------------
// Settings

/** The settings' types (shared/types.ts) and their defaults and check (rules/index.ts), re-exported here. */
export type { AttrNorm, LangNorm, MatriceSettings } from '../../shared/types';
export { DEFAULT_SETTINGS, resolveSettings } from '../rules';

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
export function scoreRandom(fa: FactAttributions, settings: Partial<MatriceSettings>, seed: Seed, matrice?: MatriceResult): RandomResult {
  const m = matrice ?? scoreMatrice(fa, settings);
  const count = m.selected.length;
  return { selected: randomNeurons(count, fa.numLayers, fa.ffnSize, seed), count, seed };
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
export function neuronStats(fa: FactAttributions, settings: Partial<MatriceSettings>, neuron: NeuronId, matrice?: MatriceResult): NeuronStats {
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

/** Uncertainty across queries (UaQ, Eq. 6-8) and across languages (UaL, Eq. 9-11): weighted mean − weighted std. Framework-free and deterministic (see ./scoring.ts). */
import { KnError } from '../../shared/errors';
import { type LayerScores, assertShape, shapeOf } from './layerScores';
import type { LangNorm } from '../../shared/types';
import { DEFAULT_SETTINGS } from '../rules';

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
export function meanAndStd(values: number[]): { mean: number; std: number } {
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
export function uaq(perQuery: LayerScores[], opts: { alpha1?: number; alpha2?: number } = {}): LayerScores {
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
export function ual(perLanguage: LayerScores[], opts: { beta1?: number; beta2?: number; norm?: LangNorm } = {}): UalResult {
  const normalized = normalizeAcrossLanguages(perLanguage, opts.norm ?? DEFAULT_SETTINGS.norm);
  const S = meanMinusStd(normalized, opts.beta1 ?? DEFAULT_SETTINGS.beta1, opts.beta2 ?? DEFAULT_SETTINGS.beta2, 'language');
  return { S, normalized };
}

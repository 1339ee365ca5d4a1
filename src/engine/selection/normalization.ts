/** SAIG's raw score per neuron and the Eq. 5 normalization of a query's scores (docs/METHOD.md). Framework-free and deterministic (see ./scoring.ts). */
import { KnError } from '../../shared/errors';
import { type LayerScores, assertShape, shapeOf } from './layerScores';
import type { AttrNorm } from '../../shared/types';

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

/** The threshold (Eq. 12-13), intersections of neuron sets, and coverage: how language-agnostic a selection is. Framework-free and deterministic (see ./scoring.ts). */
import { KnError } from '../../shared/errors';
import { type LayerScores, type NeuronId, neuronKey, neuronsFromKeys, shapeOf } from './layerScores';
import { DEFAULT_SETTINGS } from '../rules';

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

/**
 * The calibration grid and rule (docs/METHOD.md "Calibration"): rules the CLI, the worker and the page read
 * (src/engine/rules re-exports them; engine/experiments/calibrate.ts too).
 */
import { KnError } from '../../shared/errors';

/** The calibration grid: the (α2 ∈ {0, 0.5, 1}, β2 ∈ {0, 0.25, …, 1}, τ ∈ {0.1, 0.2, 0.3}) and τ below 0.1; α1 = β1 = 1 throughout. */
export const DEFAULT_GRID: Readonly<CalibrationGrid> = Object.freeze({
  alpha2: [0, 0.5, 1],
  beta2: [0, 0.25, 0.5, 0.75, 1],
  tau: [0.03, 0.05, 0.075, 0.1, 0.2, 0.3],
});

/**
 * The rule (docs/METHOD.md): the largest mean suppression among settings whose median selection is at least
 * MIN_SELECTED_MEDIAN neurons (not empty on most facts) and at most MAX_SHARE of the model's FFN neurons, whose
 * coverage is at least MIN_COVERAGE_SHARE of the languages (5 of 7), and whose Random set of the same size moves
 * P by at most MAX_RANDOM; ties go to the larger β2.
 */
export const RULE = Object.freeze({ minSelectedMedian: 1, maxShare: 0.01, minCoverageShare: 5 / 7, maxRandom: 0.05 });

export interface CalibrationGrid {
  alpha2: number[];
  beta2: number[];
  tau: number[];
}

/** A grid from option text: comma-separated finite numbers per axis; an empty value is refused, naming the axis. */
export function parseGrid(o: { alpha2?: string; beta2?: string; tau?: string }): CalibrationGrid {
  const axis = (name: keyof CalibrationGrid, text: string | undefined, lo: number, hi: number): number[] => {
    if (text === undefined) return [...DEFAULT_GRID[name]];
    const parts = text.split(',').map((s) => s.trim());
    if (!parts.length || parts.some((s) => s === ''))
      throw new KnError('bad-input', `--grid-${name}: an empty value in "${text}"; give comma-separated numbers, e.g. ${DEFAULT_GRID[name].join(',')}`);
    const xs = parts.map(Number);
    const bad = parts.find((s, i) => !Number.isFinite(xs[i]) || xs[i] < lo || xs[i] > hi);
    if (bad !== undefined) throw new KnError('bad-input', `--grid-${name}: "${bad}" is not a number in ${lo}..${hi}`);
    return [...new Set(xs)].sort((a, b) => a - b);
  };
  return { alpha2: axis('alpha2', o.alpha2, 0, 10), beta2: axis('beta2', o.beta2, 0, 10), tau: axis('tau', o.tau, 0, 1) };
}

/**
 * LAPE, language activation probability entropy (Tang et al., ACL 2024, "Language-Specific Neurons: The Key to
 * Multilingual Capabilities in Large Language Models"), as RUCAIBox/Language-Specific-Neurons identify.py computes it
 * (commit 1ec944c), over an activation-probability table:
 *
 *   p[n][k]   = the share of language k's tokens on which neuron n's activation is > 0
 *   q[n][k]   = p[n][k] / Σ_k p[n][k]                      (0 where the sum is 0)
 *   H[n]      = −Σ_k q[n][k] · ln q[n][k]                 (0 · ln 0 = 0)
 *   bar_f     = the round(N·K·filter_rate)-th smallest of all p (torch kthvalue, 1-based)
 *   H[n] = +∞ where no language has p[n][k] > bar_f     ("dismiss the neuron if no language has an activation value over top 90%")
 *   kept      = the round(N·top_rate) neurons of lowest H  (ties: layer-major order; identify.py's topk leaves them unspecified)
 *   bar_a     = the round(N·K·activation_bar_ratio)-th smallest of all p
 *   specific to k: the kept neurons with p[n][k] > bar_a
 *
 * `round` is Python's (half to even). Pure and deterministic: no tfjs, no clock.
 */
import { KnError } from '../../shared/errors';
import type { NeuronRef } from '../../shared/atlas';
import { checkRate, LAPE_ACTIVATION_BAR_RATIO, LAPE_FILTER_RATE, LAPE_TOP_RATE } from '../rules';

/** Activation probabilities per language: probs[k][l * ffnSize + j] for language langs[k]. */
export interface ActivationTable {
  langs: string[];
  numLayers: number;
  ffnSize: number;
  probs: Float64Array[];
}

export interface LapeRates {
  topRate: number;
  filterRate: number;
  activationBarRate: number;
}

export const LAPE_DEFAULT_RATES: Readonly<LapeRates> = Object.freeze({
  topRate: LAPE_TOP_RATE,
  filterRate: LAPE_FILTER_RATE,
  activationBarRate: LAPE_ACTIVATION_BAR_RATIO,
});

export interface LapeResult {
  langs: string[];
  rates: LapeRates;
  /** H per neuron (layer-major), +∞ where no language passed bar_f */
  entropy: Float64Array;
  /** H per neuron before that filter (what a neuron's page shows) */
  rawEntropy: Float64Array;
  /** q per language (normalized probabilities), layer-major */
  normalized: Float64Array[];
  /** bar_f and bar_a */
  filterValue: number;
  activationBar: number;
  /** neurons with some language's probability above bar_f (finite entropy: the candidates) */
  candidates: number;
  /** the round(N·top_rate) kept neurons, lowest entropy first */
  kept: NeuronRef[];
  /** each language's specific neurons, layer-major */
  sets: Record<string, NeuronRef[]>;
}

/** Python's round(): half to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torch's kthvalue(k) (1-based k-th smallest) of `sorted` (ascending); k is clamped to 1..length. */
function kth(sorted: Float64Array, k: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, k)) - 1];
}

/** The activation probabilities of counts: overZero[k][n] / tokens[k]. */
export function activationTable(langs: string[], numLayers: number, ffnSize: number, overZero: ArrayLike<number>[], tokens: number[]): ActivationTable {
  if (overZero.length !== langs.length || tokens.length !== langs.length)
    throw new KnError('bad-input', 'LAPE: one count row and one token count per language');
  const probs = langs.map((lang, k) => {
    if (!(tokens[k] > 0)) throw new KnError('bad-input', `LAPE: language ${lang} has no token`);
    if (overZero[k].length !== numLayers * ffnSize)
      throw new KnError('bad-input', `LAPE: language ${lang} has ${overZero[k].length} counts, not ${numLayers * ffnSize}`);
    return Float64Array.from(overZero[k], (c) => c / tokens[k]);
  });
  return { langs: [...langs], numLayers, ffnSize, probs };
}

/** LAPE over a table (identify.py's `activation()`); the rates default to LAPE_DEFAULT_RATES. */
export function lape(t: ActivationTable, rates: Partial<LapeRates> = {}): LapeResult {
  const r: LapeRates = {
    topRate: checkRate(rates.topRate ?? LAPE_TOP_RATE, 'top-rate'),
    filterRate: checkRate(rates.filterRate ?? LAPE_FILTER_RATE, 'filter-rate'),
    activationBarRate: checkRate(rates.activationBarRate ?? LAPE_ACTIVATION_BAR_RATIO, 'activation-bar-rate'),
  };
  const K = t.langs.length,
    N = t.numLayers * t.ffnSize;
  if (K === 0 || N === 0) throw new KnError('bad-input', 'LAPE: the table has no language or no neuron');
  for (const [k, p] of t.probs.entries()) {
    if (p.length !== N) throw new KnError('bad-input', `LAPE: language ${t.langs[k]} has ${p.length} probabilities, not ${N}`);
    for (const x of p) if (!(x >= 0 && x <= 1)) throw new KnError('bad-input', `LAPE: language ${t.langs[k]} has a probability outside [0, 1] (${x})`);
  }
  const normalized = t.langs.map(() => new Float64Array(N));
  const entropy = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let sum = 0;
    for (let k = 0; k < K; k++) sum += t.probs[k][n];
    let h = 0;
    for (let k = 0; k < K; k++) {
      const q = sum > 0 ? t.probs[k][n] / sum : 0;
      normalized[k][n] = q;
      if (q > 0) h -= q * Math.log(q);
    }
    entropy[n] = h;
  }
  const all = new Float64Array(N * K);
  for (let k = 0; k < K; k++) all.set(t.probs[k], k * N);
  all.sort();
  const rawEntropy = entropy.slice();
  const filterValue = kth(all, pyRound(N * K * r.filterRate));
  for (let n = 0; n < N; n++) {
    let over = 0;
    for (let k = 0; k < K; k++) if (t.probs[k][n] > filterValue) over++;
    if (over === 0) entropy[n] = Infinity;
  }
  let candidates = 0;
  for (let n = 0; n < N; n++) if (Number.isFinite(entropy[n])) candidates++;
  const order = Array.from({ length: N }, (_, n) => n).sort((a, b) => entropy[a] - entropy[b] || a - b);
  const keptIdx = order.slice(0, Math.min(N, pyRound(N * r.topRate)));
  const activationBar = kth(all, pyRound(N * K * r.activationBarRate));
  const ref = (n: number): NeuronRef => [Math.floor(n / t.ffnSize), n % t.ffnSize];
  const sets: Record<string, NeuronRef[]> = {};
  t.langs.forEach((lang, k) => {
    sets[lang] = keptIdx
      .filter((n) => t.probs[k][n] > activationBar)
      .sort((a, b) => a - b)
      .map(ref);
  });
  return { langs: [...t.langs], rates: r, entropy, rawEntropy, normalized, filterValue, activationBar, candidates, kept: keptIdx.map(ref), sets };
}

/** Summaries for the page, the experiments and the reports: layer distribution, neuron stats, ΔP, per-language ΔP, JSON. Framework-free and deterministic (see ./scoring.ts). */
import { KnError } from '../../shared/errors';
import { type NeuronId } from './layerScores';

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
export function perLanguage(
  rows: readonly { lang: string; before: number; after: number; deltaP: number; correctBefore: boolean; correctAfter?: boolean }[],
): Record<string, LanguageSummary> {
  const acc: Record<
    string,
    { before: number; after: number; d: number; nd: number; kb: number; ka: number; n: number; known: number; flips: number; told: number }
  > = {};
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

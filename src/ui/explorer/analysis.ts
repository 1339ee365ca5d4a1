/**
 * The analysis store's logic (pure; tests/ui/explorer-analysis.test.ts): which neurons the Toggle view acts
 * on, the toggles a link carries, and a read-only exploration's stored results as the localize and score
 * results the views show.
 */
import { toKnError } from '../../shared/errors';
import type { Method } from '../../engine/selection';
import { layerDistribution, type NeuronId } from '../../engine/selection';
import type { LocalizeResult, ScoreResult } from '../../worker/api';
import type { ImportedExploration } from '../share/exploration-file';
import type { ExplorationToggles } from '../share/state';
import { invalidNeuronsText, parseNeuronList, readNeuronList } from './logic';

export type ToggleSet = 'selected' | 'one' | 'manual';

export interface ToggleInput {
  set: ToggleSet;
  /** the method's selection */
  selected: readonly NeuronId[];
  /** the neuron clicked on the heatmap */
  neuron: NeuronId | null;
  manualText: string;
  numLayers?: number;
  ffnSize?: number;
}

/** The neurons the Toggle view acts on: a hand-made list's ids the model has ([] while it does not parse). */
export function toggleNeurons(t: ToggleInput): NeuronId[] {
  if (t.set === 'selected') return t.selected.map((n) => [n[0], n[1]]);
  if (t.set === 'one') return t.neuron ? [[t.neuron[0], t.neuron[1]]] : [];
  try {
    return parseNeuronList(t.manualText, t.numLayers, t.ffnSize);
  } catch {
    return [];
  }
}

/**
 * What is wrong with the hand-made list ('' when nothing is, or when the set is not 'manual'): why it does
 * not parse, or which ids the model does not have (left out; the others are still used).
 */
export function manualError(t: Pick<ToggleInput, 'set' | 'manualText' | 'numLayers' | 'ffnSize'>): string {
  if (t.set !== 'manual') return '';
  try {
    return invalidNeuronsText(readNeuronList(t.manualText, t.numLayers, t.ffnSize));
  } catch (e) {
    return toKnError(e).message;
  }
}

/** The toggles a link records: the selection by name, anything else as its list of neurons. */
export function togglesState(t: ToggleInput, factor: number): ExplorationToggles {
  return { set: t.set === 'selected' ? 'selected' : 'manual', neurons: t.set === 'selected' ? [] : toggleNeurons(t), factor };
}

/** A link's toggles back into the view's set and hand-made list. */
export function togglesFromState(t: ExplorationToggles): { set: ToggleSet; manualText: string; factor: number } {
  return { set: t.set === 'selected' ? 'selected' : 'manual', manualText: t.neurons.map((n) => `${n[0]}:${n[1]}`).join(', '), factor: t.factor };
}

/** A read-only exploration's stored queries as a complete localize result (no attributions behind it). */
export function storedLocalize(im: ImportedExploration): LocalizeResult | null {
  const { state, meta, results } = im;
  if (!results) return null;
  const qs = results.queries;
  const comp = qs.map((q) => (q.completeness !== undefined && Number.isFinite(q.completeness) ? Math.abs(q.completeness) : 0));
  return {
    complete: true,
    factId: state.fact ?? meta.fact?.id ?? '',
    langs: [...new Set(qs.map((q) => q.lang))],
    steps: state.steps,
    baseline: state.baseline,
    numLayers: meta.model.numLayers,
    ffnSize: meta.model.ffnSize,
    queries: qs.map((q, i) => ({
      lang: q.lang,
      templateId: String(i),
      prompt: q.prompt,
      target: q.target,
      cached: true,
      completeness: { maxAbs: comp[i], maxRel: 0 },
      pFull: q.before,
    })),
    cachedCount: qs.length,
    maxCompleteness: { maxAbs: comp.length ? Math.max(...comp) : 0, maxRel: 0 },
    ms: 0,
    skipped: [],
  };
}

/**
 * A read-only exploration's stored selection of `method` as the score result the views show (S as stored,
 * non-finite cells as 0); `missing` when the file stores no selection of that method.
 */
export function storedScore(im: ImportedExploration, method: Method): { score: ScoreResult | null; missing: boolean } {
  const r = im.results;
  if (!r) return { score: null, missing: false };
  const sel = r.selections[method];
  if (!sel) return { score: null, missing: true };
  const { numLayers, ffnSize } = im.meta.model;
  let maxS = -Infinity;
  const S = r.S ? r.S.map((row) => row.map((v) => (Number.isFinite(v) ? v : 0))) : [];
  for (const row of S) for (const v of row) if (v > maxS) maxS = v;
  return {
    missing: false,
    score: {
      method,
      heatmapOf: method === 'no-uaq' ? 'no-uaq' : 'matrice',
      S,
      bin: 1,
      numLayers,
      ffnSize,
      selected: sel.neurons.map((n) => [n[0], n[1]]),
      threshold: sel.threshold,
      maxS,
      layerDistribution: layerDistribution(sel.neurons, numLayers),
      warnings: 0,
      ms: 0,
    },
  };
}

/**
 * What the Localize view says when a link's fact is not fully in the attribution cache (a reload during a
 * localize, another device): how many of its queries are cached, and that Localize computes only the rest.
 */
export function needsLocalizeText(c: { cached: number; total: number } | null): string {
  if (!c || c.total <= 0 || c.cached <= 0) return "The link's attributions are not cached on this device: press Localize to compute them.";
  const left = c.total - c.cached;
  return `${c.cached} of ${c.total} queries are already attributed on this device (cached); press Localize to compute the other ${left}: it resumes from the cached ones.`;
}

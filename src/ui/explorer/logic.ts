/** Pure helpers of the explorer (no DOM, no Svelte): parsing, formatting, aggregation. */
import { KnError } from '../../shared/errors';
import { modelLabel } from '../../engine/source';
import { METHOD_LABELS as ENGINE_METHOD_LABELS } from '../../engine/selection';
import { COMPLETENESS_FLAG, LANGS, RECHECK, STEPS_MAX } from '../../engine/rules';
import type { ConvergenceCheck } from '../../engine/session';
import type { ModelSourceSpec } from '../../shared/types';
import type { ManipulateRow } from '../../worker/api';
import { perLanguage } from '../../engine/selection';
import type { ExplorationModel } from '../share/state';

/** The benchmark's languages in the app's order (one list: data/types.ts). */
export const ALL_LANGS = LANGS;
export const LANG_NAMES: Record<string, string> = {
  zh: 'Chinese',
  en: 'English',
  fr: 'French',
  fi: 'Finnish',
  hu: 'Hungarian',
  ja: 'Japanese',
  ko: 'Korean',
};
export const RELATION_NAMES: Record<string, string> = {
  P19: 'place of birth',
  P138: 'named after',
  P463: 'member of',
  P36: 'capital',
  P37: 'official language',
  P101: 'field of work',
  P937: 'work location',
  P176: 'manufacturer',
};
/** The methods' display names (one map: engine/selection/methods.ts). */
export const METHOD_LABELS: Readonly<Record<string, string>> = ENGINE_METHOD_LABELS;

/** A neuron list as read: the ids the model has, and the ones it has not, each named with why. */
export interface NeuronListRead {
  neurons: [number, number][];
  /** e.g. "9:1 (layer 9 does not exist: 0..3)", in the given order */
  invalid: string[];
}

/**
 * "3:17, 2:5" or "[3,17] [2,5]" → the pairs (deduplicated, in the given order). An id outside the model
 * (numLayers × ffnSize) is left out and named in `invalid`, the others are kept; text that is not a list
 * of pairs is refused (KnError).
 */
export function readNeuronList(text: string, numLayers?: number, ffnSize?: number): NeuronListRead {
  const out: NeuronListRead = { neurons: [], invalid: [] };
  const seen = new Set<string>();
  const t = text.trim();
  if (!t) return out;
  const re = /(-?\d+)\s*[:,/]\s*(-?\d+)/g;
  const rest = t.replace(re, '').replace(/[\s,;[\]()]+/g, '');
  if (rest) throw new KnError('bad-input', `neurons: cannot read "${rest.slice(0, 20)}"; write layer:index pairs such as "2:17, 3:5"`);
  for (const m of t.matchAll(re)) {
    const l = Number(m[1]),
      j = Number(m[2]);
    const k = `${l}:${j}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (numLayers !== undefined && (l < 0 || l >= numLayers)) out.invalid.push(`${k} (layer ${l} does not exist: 0..${numLayers - 1})`);
    else if (ffnSize !== undefined && (j < 0 || j >= ffnSize)) out.invalid.push(`${k} (index ${j} does not exist: 0..${ffnSize - 1})`);
    else out.neurons.push([l, j]);
  }
  return out;
}

/** The ids of a neuron list that the model has (readNeuronList; the others are left out). */
export function parseNeuronList(text: string, numLayers?: number, ffnSize?: number): [number, number][] {
  return readNeuronList(text, numLayers, ffnSize).neurons;
}

/** What the page says of the ids a list names that the model does not have ('' when there are none). */
export function invalidNeuronsText(r: NeuronListRead): string {
  if (!r.invalid.length) return '';
  const kept = r.neurons.length;
  return `neurons: left out ${r.invalid.join(', ')}; ${kept ? `using the other ${kept === 1 ? 'one' : kept}` : 'no neuron left to use'}`;
}

export const formatNeuron = (n: readonly [number, number]) => `L${n[0]}·${n[1]}`;
export const formatNeuronList = (ns: readonly (readonly [number, number])[]) => ns.map((n) => `${n[0]}:${n[1]}`).join(', ');

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function formatPercent(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const v = x * 100;
  return `${v >= 0 ? '+' : ''}${v.toFixed(Math.abs(v) < 10 ? 1 : 0)} %`;
}

/**
 * Mean P before/after per language and ΔP over the queries the model knew (engine `perLanguage`,
 * docs/METHOD.md), in the app's language order. deltaP is NaN when the language has no known query.
 */
export function perLanguageRows(rows: ManipulateRow[]) {
  const order = (l: string) => {
    const i = (ALL_LANGS as readonly string[]).indexOf(l);
    return i < 0 ? 99 : i;
  };
  return Object.entries(perLanguage(rows))
    .sort((a, b) => order(a[0]) - order(b[0]))
    .map(([lang, o]) => ({
      lang,
      before: o.before,
      after: o.after,
      deltaP: o.deltaP,
      correctBefore: o.correctBefore > 0,
      queries: o.n,
      correctQueries: o.correctBefore,
    }));
}

/**
 * How a ΔP cell reads: "no known query" instead of a number when the language had none; an arrow only
 * when the change does not round to 0 at the shown precision.
 */
export function deltaCell(d: number): { text: string; arrow: '' | '▲' | '▼'; dir: 'up' | 'down' | 'none' } {
  if (!Number.isFinite(d)) return { text: 'no known query', arrow: '', dir: 'none' };
  const text = formatPercent(d);
  if (/^[+-]0\.0 %$/.test(text)) return { text: '0.0 %', arrow: '', dir: 'none' };
  return d < 0 ? { text, arrow: '▼', dir: 'down' } : { text, arrow: '▲', dir: 'up' };
}

/** The shareable part of a model source (local files cannot be shared). */
export function modelToState(spec: ModelSourceSpec | null): ExplorationModel | null {
  if (!spec) return null;
  if (spec.type === 'bundled') return { type: 'bundled', name: spec.name };
  if (spec.type === 'url') return { type: 'url', url: spec.url };
  if (spec.type === 'hub') return spec.revision ? { type: 'hub', repo: spec.repo, revision: spec.revision } : { type: 'hub', repo: spec.repo };
  return null;
}

export function stateToModel(m: ExplorationModel): ModelSourceSpec {
  if (m.type === 'bundled') return { type: 'bundled', name: m.name };
  if (m.type === 'url') return { type: 'url', url: m.url };
  return m.revision ? { type: 'hub', repo: m.repo, revision: m.revision } : { type: 'hub', repo: m.repo };
}

export function describeModel(m: ExplorationModel | null): string {
  return m ? modelLabel(m) : 'a local model';
}

/** Step of a slider, and clamping. */
export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** What the page says about a selection that is degenerate: most neurons, or none. */
export interface SelectionAdvice {
  kind: 'most' | 'none';
  /** one sentence: what happened */
  what: string;
  /** why it happens */
  why: string;
  /** what to try, most useful first */
  tries: string[];
}

/** A selection of more than this share of all neurons is flagged as barely more specific than Random. */
export const MOST_SELECTED_SHARE = 0.5;

/**
 * The warning shown beside a selection (Localize and Toggle both show it, where the user acts on the
 * set): null when the selection is neither most of the neurons nor empty.
 */
export function selectionAdvice(a: {
  method: string;
  selected: number;
  numLayers: number;
  ffnSize: number;
  /** max of the heatmap's S (MaTrice or w/o UaQ); NaN / −∞ when unknown */
  maxS: number;
  tau: number;
  norm: 'language' | 'neuron' | 'scale';
}): SelectionAdvice | null {
  const total = a.numLayers * a.ffnSize;
  if (!(total > 0)) return null;
  const label = METHOD_LABELS[a.method] ?? a.method;
  if (a.selected > MOST_SELECTED_SHARE * total) {
    const minmax = a.norm !== 'scale';
    return {
      kind: 'most',
      what: `${label} selects ${a.selected} of ${total} neurons (${Math.round((100 * a.selected) / total)} %): more than half of all neurons pass the threshold.`,
      why: minmax
        ? 'With signed IG scores, the Eq. 9 min-max lifts the many near-zero neurons to one common level above τ·max S, so this set is barely more specific than Random.'
        : 'Most scores are close to the strongest one, so τ·max S separates little; this set is barely more specific than Random.',
      tries: minmax
        ? ['the "each language ÷ its max |score|" normalization (Eq. 9, zero stays zero)', 'a higher τ']
        : ['a higher τ', 'larger α2 / β2 (penalize disagreement between queries / languages)'],
    };
  }
  if (a.selected > 0) return null;
  if (a.method === 'amig' || a.method === 'no-ual') {
    return {
      kind: 'none',
      what: `${label} selects no neuron: no neuron passes the threshold in every language at once.`,
      why: `${label} keeps only the neurons selected in each language separately (an intersection), so one language without a strong neuron empties it.`,
      tries: [
        'fewer languages (those where the model answers correctly, see Model & facts)',
        'a lower τ',
        'MaTrice, which weighs the languages instead of intersecting them',
      ],
    };
  }
  const none = !(a.maxS > 0);
  const what =
    a.method === 'random' ? 'Random selects no neuron: it draws as many neurons as MaTrice selects, and MaTrice selects none.' : `${label} selects no neuron.`;
  if (none) {
    return {
      kind: 'none',
      what,
      why: `Every language-agnostic score S is ≤ 0${Number.isFinite(a.maxS) ? ` (max S = ${Number(a.maxS.toPrecision(3))})` : ''}: no neuron carries positive evidence for the answer in all languages, and the threshold τ·max S only admits neurons above a positive maximum. This is typical when the model does not know the fact, or when the languages disagree so much that the std penalties (α2, β2) outweigh the means.`,
      tries: [
        'check in Model & facts which languages the model answers correctly, and localize only those',
        'smaller α2 / β2 (less penalty for disagreement between queries / languages)',
        "AMIG or w/o UaL, to see each language's own neurons",
        'another fact the model knows',
      ],
    };
  }
  return {
    kind: 'none',
    what,
    why: `The threshold τ·max S = ${a.tau} × ${Number(a.maxS.toPrecision(3))} is at or above the largest score, and only scores strictly above it are selected.`,
    tries: ['a τ below 1'],
  };
}

/** Above this share of P(correct), the IG completeness error is flagged (the engine's rule). */
export { COMPLETENESS_FLAG };

/**
 * The IG completeness error as a user reads it: the largest |Σ attr − (P(w̄) − P(w'))| over queries, layers
 * and baselines, relative to that query's P(correct) (not to P(w̄) − P(w'), which is ~0 for a baseline
 * that barely moves P and makes the ratio explode), flagged above COMPLETENESS_FLAG with what to do.
 */
export function completenessView(queries: readonly { completeness: { maxAbs: number }; pFull: number }[], steps: number) {
  let maxAbs = 0,
    rel = 0,
    flagged = 0;
  for (const q of queries) {
    maxAbs = Math.max(maxAbs, q.completeness.maxAbs);
    const r = q.completeness.maxAbs / Math.max(q.pFull, 1e-12);
    if (Number.isFinite(r)) rel = Math.max(rel, r);
    if (Number.isFinite(r) && r > COMPLETENESS_FLAG) flagged++;
  }
  const large = rel > COMPLETENESS_FLAG;
  return {
    maxAbs,
    relToP: rel,
    large,
    /** queries above COMPLETENESS_FLAG (the ones the convergence check re-attributes), of `queries` */
    flagged,
    queries: queries.length,
    steps,
    text: `IG completeness error ≤ ${maxAbs.toExponential(2)} (${(rel * 100).toFixed(rel < 0.1 ? 2 : 0)} % of the query's P(correct))`,
    advice: large
      ? `large: the Riemann sum with M = ${steps} is too coarse for some query; localize again with more steps (e.g. M = ${Math.min(STEPS_MAX, steps * 4)})`
      : '',
  };
}

export type CompletenessView = ReturnType<typeof completenessView>;

/** The button that runs the convergence check on demand (after a stop). */
export const CHECK_LABEL = `Check with ${RECHECK.quadrature} M = ${RECHECK.steps}`;

/** A share as the convergence lines write it: "5 %", "3.2 %" (one decimal below 10 %). */
const sharePct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
const neuronsText = (n: number) => `${n} neuron${n === 1 ? '' : 's'}`;

/**
 * The Localize view's completeness line once the convergence check (engine FactSession.checkConvergence, the
 * flagged queries re-attributed with RECHECK) has run or while it runs: which case (`state`, the panel's
 * data-convergence), the text, and whether it is a warning.
 *   none: no query above COMPLETENESS_FLAG: the completeness line alone, no advice;
 *   running: the check runs (`running`: true, or its progress);
 *   same: flagged queries, but the finer attributions select the same neurons: neutral, the conclusion stands;
 *   changed: the selection changes: the warning, with the sizes and the Jaccard index;
 *   unchecked: flagged and no check (a stored exploration, or the check failed): the plain advice, a warning.
 */
export function convergenceView(
  cv: Pick<CompletenessView, 'text' | 'advice' | 'large' | 'flagged' | 'steps'>,
  check: ConvergenceCheck | null,
  running: boolean | { queriesDone: number; queriesTotal: number } | null,
): { state: 'none' | 'running' | 'same' | 'changed' | 'unchecked'; text: string; warn: boolean } {
  if (!cv.large) return { state: 'none', text: cv.text, warn: false };
  const finer = `${RECHECK.quadrature} M = ${RECHECK.steps}`;
  if (running) {
    const n = typeof running === 'object' && running.queriesTotal > 0 ? running.queriesTotal : cv.flagged;
    const done = typeof running === 'object' && running.queriesTotal > 0 ? ` (${running.queriesDone} / ${running.queriesTotal})` : '';
    return { state: 'running', text: `${cv.text}; checking ${n} ${n === 1 ? 'query' : 'queries'} with ${finer} …${done}`, warn: false };
  }
  if (!check) return { state: 'unchecked', text: `${cv.text}: ${cv.advice}`, warn: true };
  if (check.flagged === 0 || !check.finer) return { state: 'none', text: cv.text, warn: false };
  const used = `${check.finer.quadrature} M = ${check.finer.steps}`;
  const what = `${check.flagged} of ${check.queries} ${check.queries === 1 ? 'query has' : 'queries have'} a completeness error above ${+(100 * check.flag).toPrecision(3)} % of P(correct) (worst ${sharePct(check.worstBefore)})`;
  if (check.same)
    return {
      state: 'same',
      text: `${what}; re-attributed with ${used} they select the same ${neuronsText(check.before.length)}: the conclusion stands`,
      warn: false,
    };
  const more = Math.min(STEPS_MAX, cv.steps * 4);
  return {
    state: 'changed',
    text: `${what}; re-attributed with ${used} the selection changes (${check.before.length} → ${neuronsText(check.after.length)}, Jaccard ${check.jaccard.toFixed(2)}): localize with more steps (e.g. M = ${more})`,
    warn: true,
  };
}

// ---------------------------------------------------------------------------------------------------
// language coverage (Localize) and answers lost (Toggle)

/** What a neuron's language coverage means, for a tooltip beside the figures. */
export const COVERAGE_HELP =
  "Language coverage: for each selected neuron, in how many of the localized languages that language's own selection (UaQ over its queries alone, the same settings) also picks it. 7/7: every language finds it on its own; 0/7: none does, only the pooled score. The set's mean is the average over its neurons.";

/** The one-line help beside the coverage figures. */
export const COVERAGE_SHORT = "per neuron, in how many languages' own selections it is too (hover for more)";

/** One neuron's coverage as shown: "5/7"; '' when unknown. */
export function coverageText(count: number | undefined, languages: number): string {
  return count === undefined || !Number.isFinite(count) ? '' : `${count}/${languages}`;
}

/**
 * The selection's coverage line: "mean language coverage 4.25 of 7 (over 12 neurons)"; null without
 * coverage (a stored exploration) and a dash for an empty selection. `mean` rounded to 2 decimals.
 */
export function coverageSummary(
  c: { perNeuron: readonly number[]; mean: number | null; languages: number } | undefined,
): { text: string; mean: number | null } | null {
  if (!c) return null;
  if (c.mean === null || !Number.isFinite(c.mean)) return { text: 'mean language coverage — (no neuron selected)', mean: null };
  const n = c.perNeuron.length;
  return { text: `mean language coverage ${c.mean.toFixed(2)} of ${c.languages} (over ${n} neuron${n === 1 ? '' : 's'})`, mean: c.mean };
}

/** What "answers lost" means, for a tooltip. */
export const FLIP_HELP =
  'Answers lost (flip rate): of the queries the model answered correctly (target top-1) before, how many no longer have the target as top-1 after the change.';

/** A language's answers lost: "3/9 lost (33 %)" from its flip rate and known queries; "no known query" / "—". */
export function flipCell(s: { flipRate: number; correctBefore: number } | undefined): { text: string; lost: number | null; known: number } {
  if (!s) return { text: '—', lost: null, known: 0 };
  if (!s.correctBefore) return { text: 'no known query', lost: null, known: 0 };
  if (!Number.isFinite(s.flipRate)) return { text: '—', lost: null, known: s.correctBefore };
  const lost = Math.round(s.flipRate * s.correctBefore);
  return { text: `${lost}/${s.correctBefore} lost (${Math.round(100 * s.flipRate)} %)`, lost, known: s.correctBefore };
}

/**
 * Answers lost over all languages: lost and known summed over the languages with a flip rate (pooled, each
 * known query counts once); null when no language has one.
 */
export function flipOverall(
  languages: Readonly<Record<string, { flipRate: number; correctBefore: number }>>,
): { lost: number; known: number; rate: number; text: string } | null {
  let lost = 0,
    known = 0;
  for (const s of Object.values(languages)) {
    const c = flipCell(s);
    if (c.lost === null) continue;
    lost += c.lost;
    known += c.known;
  }
  if (!known) return null;
  const rate = lost / known;
  return { lost, known, rate, text: `answers lost: ${lost}/${known} known queries (${Math.round(100 * rate)} %)` };
}

/**
 * The note beside the settings: where the model's defaults come from (engine modelDefaults). `kind`
 * 'problem' is a warning (the model's calibration.json was refused); 'none' in a read-only view (no model).
 */
export function settingsNote(
  info: { calibration?: unknown; calibrationProblem?: string } | null,
  note: string,
): { kind: 'calibrated' | 'method' | 'problem' | 'none'; text: string } {
  if (!info) return { kind: 'none', text: '' };
  if (info.calibration) return { kind: 'calibrated', text: note };
  if (info.calibrationProblem) return { kind: 'problem', text: note };
  return { kind: 'method', text: note };
}

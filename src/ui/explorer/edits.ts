/**
 * The Edit view's logic (pure, unit-tested): the per-language rows of an English edit (before/after of the
 * edited query, reliability / generality / locality), what a taught fact did in each language in words,
 * the progress line, the new-object suggestions, and how a link's edits are restored (erase/update re-applied
 * at once, a taught fact and everything after it only when the user asks: it trains again).
 */
import type { ActiveEdit, EditSpec, EditView, TeachProgress, TeachView } from '../../worker/api';
import type { ExplorationEdit } from '../share/state';
import { ALL_LANGS } from './logic';
import { describeSpec } from '../../shared/edit-spec';
import type { Estimator } from '../../engine/experiments';
import { timeLeftText } from '../long-job';

/** The edit and teach limits and the paper's λ the Edit view's form states (engine/rules). */
import { EDIT_FROM } from '../../engine/rules';
export { DEFAULT_LAMBDA1, DEFAULT_LAMBDA2, EDIT_FROM, EDIT_NEURONS_MAX, LAMBDA_MAX, TEACH_LR_MAX, TRAIN_STEPS_MAX } from '../../engine/rules';

const LANG_NAMES: Record<string, string> = { zh: 'Chinese', en: 'English', fr: 'French', fi: 'Finnish', hu: 'Hungarian', ja: 'Japanese', ko: 'Korean' };
export const langName = (l: string) => LANG_NAMES[l] ?? l;

const order = (ls: readonly string[]) => [...ls].sort((a, b) => (ALL_LANGS as readonly string[]).indexOf(a) - (ALL_LANGS as readonly string[]).indexOf(b));

export interface EditLangRow {
  lang: string;
  /** the language's edited query (its first template) before → after */
  edited: { prompt: string; before: string; after: string; pBefore: number; pAfter: number; success: boolean; known: boolean } | null;
  paraphrases: { success: number; total: number };
  reliability: number | null;
  generality: number | null;
  locality: number | null;
  unrelated: { same: number; total: number };
}

/** One row per language of an edit's result (the view's languages, in the app's order). */
export function editRows(v: EditView): EditLangRow[] {
  const update = v.newObject !== undefined;
  const ok = (q: EditView['queries'][number]) => (update ? q.newTop === true : !q.oldTop);
  return order(Object.keys(v.languages)).map((lang) => {
    const qs = v.queries.filter((q) => q.lang === lang);
    const e = qs.find((q) => q.role === 'edited');
    const para = qs.filter((q) => q.role === 'paraphrase' && q.known);
    const un = v.unrelated.filter((u) => u.lang === lang);
    const c = v.languages[lang];
    return {
      lang,
      edited: e
        ? {
            prompt: e.prompt,
            before: e.before.top.token,
            after: e.after.top.token,
            pBefore: e.before.pOld,
            pAfter: e.after.pOld,
            success: ok(e),
            known: e.known,
          }
        : null,
      paraphrases: { success: para.filter(ok).length, total: para.length },
      reliability: c.reliability,
      generality: c.generality,
      locality: c.locality,
      unrelated: { same: un.filter((u) => u.same).length, total: un.length },
    };
  });
}

/** The headline of an edit's result, in words (where it took, where not, what P(old) did). */
export function editHeadline(v: EditView): string {
  const rows = editRows(v);
  const update = v.newObject !== undefined;
  const what = update ? `now answers "${v.newObject}"` : `no longer answers "${v.oldObject}"`;
  const counted = rows.filter((r) => r.edited?.known);
  const yes = counted.filter((r) => r.edited!.success).map((r) => r.lang);
  const no = counted.filter((r) => !r.edited!.success).map((r) => r.lang);
  const unknown = rows.filter((r) => r.edited && !r.edited.known).map((r) => r.lang);
  const n = v.active.neurons;
  let s = `Edited from ${langName(v.fromLang ?? EDIT_FROM)} (${n} neuron${n === 1 ? '' : 's'}). `;
  if (!counted.length) s += 'The model knew the edited query in no language, so nothing is counted.';
  else if (!no.length) s += `The edited query ${what} in every language it knew (${yes.join(', ')}).`;
  else if (!yes.length)
    s += `The edited query still answers ${update ? `"${v.oldObject}" rather than "${v.newObject}"` : `"${v.oldObject}"`} in every language it knew (${no.join(', ')}).`;
  else s += `The edited query ${what} in ${yes.join(', ')}; not in ${no.join(', ')}.`;
  if (counted.length) {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const b = mean(counted.map((r) => r.edited!.pBefore)),
      a = mean(counted.map((r) => r.edited!.pAfter));
    s += ` P("${v.oldObject}") on it: ${Math.round(b * 100)} % → ${Math.round(a * 100)} % on average.`;
  }
  if (unknown.length) s += ` Not counted (the model did not know it before): ${unknown.join(', ')}.`;
  const un = rows.reduce((acc, r) => [acc[0] + r.unrelated.same, acc[1] + r.unrelated.total], [0, 0]);
  if (un[1]) s += ` Unrelated facts keep their answer on ${un[0]} of ${un[1]} queries.`;
  return s;
}

/** What teaching did, per language, in words (including "not" and why nothing changed). */
export function teachVerdict(t: TeachView): string {
  if (t.stopped) return `Training stopped: ${t.stopped}.`;
  const langs = order(Object.keys(t.languages));
  const other = langs.filter((l) => l !== t.trainLang);
  const tr = t.languages[t.trainLang];
  const gained = other.filter((l) => t.languages[l].after[0] > t.languages[l].before[0]);
  const not = other.filter((l) => t.languages[l].after[0] <= t.languages[l].before[0]);
  const frac = (l: string) => `${t.languages[l].after[0]}/${t.languages[l].after[1]}`;
  let s = tr ? `Trained on ${langName(t.trainLang)}: ${frac(t.trainLang)} of its queries now right${t.converged ? '' : ' (did not converge)'}.` : '';
  s += gained.length ? ` Carried over to ${gained.map((l) => `${l} ${frac(l)}`).join(', ')}.` : ' It did not carry over to any other language.';
  if (gained.length && not.length) s += ` Not to ${not.join(', ')}.`;
  s += ` Unrelated facts keep their answer on ${t.old[0]} of ${t.old[1]} queries.`;
  return s.trim();
}

/**
 * The teach progress line; `etaMs` (teachEstimate, engine/experiments/estimate.ts): the phase's time left, null while
 * nothing of the phase was measured ("estimating…"), undefined to say nothing of it.
 */
export function teachProgressText(p: TeachProgress | null, etaMs?: number | null): string {
  if (!p) return '';
  const s = (p.elapsedMs / 1000).toFixed(1);
  const left = etaMs === undefined ? '' : `; ${p.phase === 'train' && etaMs !== null ? 'at most ' : ''}${timeLeftText(etaMs)}`;
  if (p.phase === 'localize') return `Localizing the new fact: ${Math.floor(p.done)} of ${p.total} queries (${s} s${left})`;
  if (p.phase === 'train')
    return `Training step ${p.done} of at most ${p.total}: loss ${p.loss?.toFixed(3) ?? '–'}, ${p.correct ?? 0} training queries right (${s} s${left})`;
  return `Asking every language (${s} s)`;
}

/** Feeds a teach's progress to its estimator: per phase, queries (localize) or steps (train) finished. */
export function teachEstimate(est: Estimator, p: TeachProgress | null): number | null {
  if (!p) {
    est.clear();
    return null;
  }
  if (p.phase === 'evaluate') return null;
  return est.update({ phase: p.phase, elapsedMs: p.elapsedMs, finished: Math.floor(p.done), total: p.total });
}

/** 0..1 of the whole job (localize ≈ 60 %, training 35 %, evaluation the rest). */
export function teachProgressFraction(p: TeachProgress | null, localizes = true): number {
  if (!p) return 0;
  const f = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  if (!localizes) return p.phase === 'train' ? 0.9 * f : p.phase === 'evaluate' ? 0.95 : 0;
  return p.phase === 'localize' ? 0.6 * f : p.phase === 'train' ? 0.6 + 0.35 * f : 0.97;
}

/**
 * A link's edits: erase/update in order are re-applied at once; from the first taught fact on, the edits
 * wait for the user (teaching trains again, ≈ seconds to a minute), so they are never applied silently.
 */
export function restorePlan(edits: readonly ExplorationEdit[]): { replay: ExplorationEdit[]; pending: ExplorationEdit[] } {
  const i = edits.findIndex((e) => e.kind === 'inject');
  return i < 0 ? { replay: [...edits], pending: [] } : { replay: edits.slice(0, i), pending: edits.slice(i) };
}

export const describeEdit = (s: EditSpec | ExplorationEdit) => describeSpec(s);

/** How many of a fact's queries the model answers top-1, as the page probed them. */
export interface FactRight {
  factId: string;
  right: number;
  total: number;
}

/** What an edit cost: the fact open when it was applied, and its queries answered right before → after it. */
export interface EditCost {
  factId: string;
  before: number;
  after: number;
  total: number;
}

export function factRight(f: { factId: string; queries: readonly { correct: boolean }[] } | null | undefined): FactRight | null {
  return f ? { factId: f.factId, right: f.queries.filter((q) => q.correct).length, total: f.queries.length } : null;
}

/** The cost of one edit from the fact's probes before and after it (null: no fact open, or another one after). */
export function editCost(before: FactRight | null, after: FactRight | null): EditCost | null {
  if (!before || !after || before.factId !== after.factId || before.total !== after.total) return null;
  return { factId: before.factId, before: before.right, after: after.right, total: before.total };
}

/**
 * The costs kept for the applied edits: the known ones of edits still applied, and `cost` for the one
 * edit that `list` adds to `previous` (an undo removes its edit's cost).
 */
export function keepCosts(
  costs: Readonly<Record<string, EditCost>>,
  previous: readonly { id: string }[],
  list: readonly { id: string }[],
  cost: EditCost | null,
): Record<string, EditCost> {
  const out: Record<string, EditCost> = {};
  for (const a of list) if (costs[a.id]) out[a.id] = costs[a.id];
  const added = list.filter((a) => !previous.some((p) => p.id === a.id));
  if (cost && added.length === 1) out[added[0].id] = cost;
  return out;
}

/** "P138:53 53 → 45 of 54 queries right" */
export const costText = (c: EditCost) => `${c.factId} ${c.before} → ${c.after} of ${c.total} queries right`;

/** One applied edit as the banner and the Edit view list it: its label and, when measured, what it cost. */
export const editLine = (a: Pick<ActiveEdit, 'id' | 'label'>, costs: Readonly<Record<string, EditCost>> = {}) =>
  costs[a.id] ? `${a.label} — ${costText(costs[a.id])}` : a.label;

/** The banner over every view while the model is edited (null when it is not and nothing waits): every edit and its cost. */
export function editsBanner(active: readonly ActiveEdit[], pending: readonly ExplorationEdit[], costs: Readonly<Record<string, EditCost>> = {}): string | null {
  if (!active.length && !pending.length) return null;
  const parts: string[] = [];
  if (active.length) {
    const n = active.length === 1 ? '1 edit' : `${active.length} edits, stacked in this order`;
    parts.push(`The model is edited (${n}: ${active.map((a) => editLine(a, costs)).join('; ')}). Every prediction on this page is the edited model's.`);
  }
  if (pending.length)
    parts.push(
      `${pending.length} edit${pending.length === 1 ? '' : 's'} from the link ${pending.length === 1 ? 'is' : 'are'} not applied (${pending.map(describeEdit).join('; ')}): teaching trains again, so it waits for you.`,
    );
  return parts.join(' ');
}

/** The warning beside Erase/Update and Teach when edits are applied already: a new one stacks on them. */
export function stackWarning(active: readonly ActiveEdit[]): string | null {
  if (!active.length) return null;
  const n = active.length;
  return `${n === 1 ? '1 edit is' : `${n} edits are`} applied already (${active.map((a) => a.label).join('; ')}): a new edit stacks on ${n === 1 ? 'it' : 'them'}. It is made and measured on the edited model, and the effects add up; undo first to start from the loaded model.`;
}

/**
 * Candidates for the new object of an update: the edited query's top predictions (the model's own
 * vocabulary) and the English objects of the relation's other listed facts, without the old object.
 */
export function objectSuggestions(
  oldObject: string,
  top: readonly { token: string }[],
  listed: readonly { labels: Record<string, { object: string }> }[],
  max = 30,
): string[] {
  const out: string[] = [];
  const seen = new Set([oldObject.trim().toLowerCase()]);
  const add = (s: string) => {
    const t = s.trim();
    if (!t || seen.has(t.toLowerCase()) || out.length >= max) return;
    seen.add(t.toLowerCase());
    out.push(t);
  };
  for (const t of top) add(t.token);
  for (const f of listed) if (f.labels.en) add(f.labels.en.object);
  return out;
}

/**
 * A Cancel that reached the worker after a teach's last step (the worker said 'finished' or 'idle') does
 * not undo it: the page says the fact was taught first and that Undo removes it. null when there is
 * nothing to say (no late cancel, or the teach has not answered yet, or it kept nothing).
 */
export function lateCancelNotice(cancelTooLate: boolean, result: Pick<TeachView, 'active' | 'factId'> | null): string | null {
  if (!cancelTooLate || !result?.active) return null;
  return `Teaching ${result.factId} had already finished when Cancel arrived, so the fact is taught; "Undo the last edit" removes it.`;
}

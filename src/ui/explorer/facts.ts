/**
 * What the Data view shows of a fact's queries (pure; tests/ui/explorer-facts.test.ts): a live fact
 * probed on the loaded model (every field), or the queries an exploration file stores, and nothing the file
 * does not hold (a file stores P(correct) before any change, and whether each query was answered
 * correctly only when it was written by a version that stored it; never ranks or top predictions).
 */
import type { FactQueries, TopToken } from '../../worker/api';
import type { ImportedExploration } from '../share/exploration-file';
import { ALL_LANGS } from './logic';

export interface QueryView {
  key: string;
  lang: string;
  prompt: string;
  /** the answer as shown: the target token (live) or the stored target text */
  answer: string;
  /** P(correct) */
  p: number;
  /** null: not known (not stored) */
  correct: boolean | null;
  /** 0-based rank of the target; null: not known */
  rank: number | null;
  /** null: not known */
  top: TopToken[] | null;
}

export interface FactGroup {
  lang: string;
  label?: { subject: string; object: string };
  rows: QueryView[];
  /** correct queries; null when not known for every row */
  correct: number | null;
}

export interface FactView {
  factId: string;
  relation: string;
  labels: Record<string, { subject: string; object: string }>;
  /** 'live': probed on the loaded model; 'stored': read from an exploration file */
  source: 'live' | 'stored';
  groups: FactGroup[];
  total: number;
  /** correct queries; null when the rows do not all say */
  totalCorrect: number | null;
  /** whether any row has top predictions (else the column is left out) */
  hasTop: boolean;
  skipped: { lang: string; templateId: string; reason: string }[];
}

const langOrder = (langs: Iterable<string>) => {
  const set = new Set(langs);
  const known = (ALL_LANGS as readonly string[]).filter((l) => set.has(l));
  return [...known, ...[...set].filter((l) => !known.includes(l)).sort()];
};

function group(rows: QueryView[], labels: FactView['labels'], langs: Iterable<string>): FactGroup[] {
  return langOrder(langs).map((lang) => {
    const rs = rows.filter((r) => r.lang === lang);
    const known = rs.every((r) => r.correct !== null);
    return { lang, label: labels[lang], rows: rs, correct: known ? rs.filter((r) => r.correct).length : null };
  });
}

function finish(v: Omit<FactView, 'total' | 'totalCorrect' | 'hasTop'>): FactView {
  const rows = v.groups.flatMap((g) => g.rows);
  const known = rows.every((r) => r.correct !== null);
  return {
    ...v,
    total: rows.length,
    totalCorrect: known ? rows.filter((r) => r.correct).length : null,
    hasTop: rows.some((r) => r.top !== null && r.top.length > 0),
  };
}

/** A fact probed on the loaded model. */
export function liveFactView(f: FactQueries): FactView {
  const rows: QueryView[] = f.queries.map((q) => ({
    key: `${q.lang}:${q.templateId}`,
    lang: q.lang,
    prompt: q.prompt,
    answer: q.targetToken,
    p: q.pCorrect,
    correct: q.correct,
    rank: q.rank,
    top: q.top,
  }));
  return finish({ factId: f.factId, relation: f.relation, labels: f.labels, source: 'live', groups: group(rows, f.labels, f.langs), skipped: f.skipped });
}

/** The fact an exploration file stores: its labels and queries, with only the fields the file holds. */
export function storedFactView(im: ImportedExploration): FactView | null {
  const { state, meta, results } = im;
  const factId = state.fact ?? meta.fact?.id ?? '';
  const labels = meta.fact?.labels ?? {};
  const qs = results?.queries ?? [];
  if (!factId && !qs.length && !Object.keys(labels).length) return null;
  const rows: QueryView[] = qs.map((q, i) => ({
    key: `${q.lang}:${i}`,
    lang: q.lang,
    prompt: q.prompt,
    answer: q.target,
    p: q.before,
    correct: q.correct ?? null,
    rank: null,
    top: null,
  }));
  return finish({
    factId,
    relation: meta.fact?.relation ?? (factId.split(':')[0] || ''),
    labels,
    source: 'stored',
    groups: group(rows, labels, qs.length ? qs.map((q) => q.lang) : Object.keys(labels)),
    skipped: [],
  });
}

/** The line beside the fact's title: how many queries, and how many answered correctly when known. */
export function factSummary(v: FactView): string {
  const n = `${v.total} quer${v.total === 1 ? 'y' : 'ies'}`;
  if (v.source === 'stored') {
    if (!v.total) return 'this file stores no queries';
    if (v.totalCorrect !== null) return `${v.totalCorrect} of ${n} answered correctly (stored in the file)`;
    return `${n} stored in the file, with P(correct) as computed when it was exported (the file does not say which were answered correctly, nor the ranks and top predictions)`;
  }
  return v.totalCorrect === null ? n : `${v.totalCorrect} of ${n} answered correctly`;
}

/** A language group's count: "3/4 correct", or "4 queries" when correctness is not known. */
export function groupSummary(g: FactGroup): string {
  return g.correct === null ? `${g.rows.length} quer${g.rows.length === 1 ? 'y' : 'ies'}` : `${g.correct}/${g.rows.length} correct`;
}

/** The fact list asks the worker for this many facts' known languages per call, in list order. */
export const KNOWN_BATCH = 5;

/**
 * Hints are asked for the facts on screen, not the whole list: the first KNOWN_FIRST after a list arrives,
 * and KNOWN_MORE further each time the list is scrolled to its end (each fact is ≈ 32 probes, so 50 at once
 * kept the worker busy for the user's next click, for a minute on a software WebGPU adapter). On a software
 * adapter none are asked until the user asks (knownAuto).
 */
export const KNOWN_FIRST = 10;
export const KNOWN_MORE = 10;

/** Whether the list's hints are asked by themselves on this backend (not on a software WebGPU adapter). */
export function knownAuto(backend: { software?: string | null } | null): boolean {
  return !backend?.software;
}

/** The fact list's box is scrolled to (within a line of) its end. */
export function scrolledToEnd(el: { scrollTop: number; clientHeight: number; scrollHeight: number }): boolean {
  return el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
}

/** How many listed facts get hints after the list was scrolled: at least `now`, to the end + KNOWN_MORE. */
export function knownUpTo(now: number, scrolledToEnd: boolean, listed: number): number {
  return Math.min(listed, scrolledToEnd ? Math.max(now, 0) + KNOWN_MORE : now);
}

/** While the worker is busy (an attribution, an edit, an experiment), the hints are asked again after this long. */
export const KNOWN_RETRY_MS = 2000;

/** The listed facts whose known languages are still to be asked (not answered, or answered `null`: busy). */
export function knownPending(ids: readonly string[], known: Readonly<Record<string, string[] | null>>): string[] {
  return ids.filter((id) => !known[id]);
}

/** `ids` cut into the worker calls, KNOWN_BATCH each. */
export function knownBatches(ids: readonly string[], size = KNOWN_BATCH): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/**
 * The hint beside a listed fact, before it is clicked: "known in k of n" languages (the worker's probe, the
 * one rule of src/data/probing.ts), or what is still unknown about it.
 */
export function knownHint(known: readonly string[] | null | undefined, langs: number): { k: number | null; text: string; title: string } {
  if (!known) return { k: null, text: '…', title: 'not probed yet' };
  const k = known.length;
  return {
    k,
    text: `known in ${k} of ${langs}`,
    title: k
      ? `the model answers at least half of the queries top-1 correctly in ${known.join(', ')}`
      : 'the model answers fewer than half of the queries correctly in every language',
  };
}

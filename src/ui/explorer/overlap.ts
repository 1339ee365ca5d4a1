/**
 * How much of a fact is shared across languages and how much is per language: the UpSet view of each
 * language's own neuron set and MaTrice's shared set (pure, unit-tested).
 */
import type { NeuronId } from '../../engine/selection';

export interface UpsetRow {
  /** the sets this group of neurons belongs to (languages, and 'shared' for MaTrice's set), in the given order */
  members: string[];
  count: number;
}

const key = (n: NeuronId) => `${n[0]}:${n[1]}`;

/**
 * UpSet rows: every neuron in any set, grouped by exactly which sets hold it; largest groups first (ties by
 * more members, then by name). `sets` keys keep their order in `members`.
 */
export function upsetRows(sets: Record<string, NeuronId[]>, limit = 12): { rows: UpsetRow[]; hidden: number; total: number } {
  const names = Object.keys(sets);
  const where = new Map<string, Set<string>>();
  for (const name of names) for (const n of sets[name]) (where.get(key(n)) ?? where.set(key(n), new Set()).get(key(n))!).add(name);
  const groups = new Map<string, UpsetRow>();
  for (const s of where.values()) {
    const members = names.filter((n) => s.has(n));
    const k = members.join('|');
    const g = groups.get(k) ?? groups.set(k, { members, count: 0 }).get(k)!;
    g.count++;
  }
  const rows = [...groups.values()].sort(
    (a, b) => b.count - a.count || b.members.length - a.members.length || a.members.join().localeCompare(b.members.join()),
  );
  return { rows: rows.slice(0, limit), hidden: rows.slice(limit).reduce((a, r) => a + r.count, 0), total: where.size };
}

/** Neurons held by every language's own set (the part of the fact every language shares). */
export function commonToAll(own: Record<string, NeuronId[]>): NeuronId[] {
  const langs = Object.keys(own);
  if (!langs.length) return [];
  const counts = new Map<string, { n: NeuronId; c: number }>();
  for (const l of langs)
    for (const n of new Map(own[l].map((x) => [key(x), x])).values()) {
      const e = counts.get(key(n)) ?? counts.set(key(n), { n, c: 0 }).get(key(n))!;
      e.c++;
    }
  return [...counts.values()]
    .filter((e) => e.c === langs.length)
    .map((e) => e.n)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

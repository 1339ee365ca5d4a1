/**
 * The fact list: a relation's facts with their labels in every language of the benchmark, and the search
 * over them (subjects and objects in any language, case- and accent-insensitive).
 */
import type { RmlLama } from '../../data/loader';
import { checkRelation, LANGS } from '../rules';
import type { FactList } from './views';

const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * The fact list's search: the first language (in the order given) whose subject or object contains the
 * query, case- and accent-insensitively ("北京" finds ⟨中华人民共和国, 北京市⟩ by its zh object, "pekin" by the
 * fr "Pékin"); null when no label matches. An empty query matches nothing here (the caller lists every fact).
 */
export function searchMatch(
  labels: readonly { lang: string; subject: string; object: string }[],
  query: string,
): { lang: string; field: 'subject' | 'object' } | null {
  const q = fold(query.trim());
  if (!q) return null;
  for (const l of labels) {
    if (fold(l.subject).includes(q)) return { lang: l.lang, field: 'subject' };
    if (fold(l.object).includes(q)) return { lang: l.lang, field: 'object' };
  }
  return null;
}

/**
 * The facts of a relation whose labels match `query` (searchMatch; every fact when it is empty), at most
 * `limit` of them, with how many matched in all.
 */
export async function listFacts(bench: RmlLama, relation: string, query = '', limit = 50): Promise<FactList> {
  const rel = checkRelation(relation);
  const shards = await Promise.all(LANGS.map((l) => bench.shard(rel, l)));
  const searching = query.trim() !== '';
  const facts: FactList['facts'] = [];
  let total = 0;
  const base = shards[0].facts;
  for (let i = 0; i < base.length; i++) {
    const all: { lang: string; subject: string; object: string }[] = [];
    for (const s of shards) {
      const f = s.facts[i];
      if (f && f.id === base[i].id) all.push({ lang: s.lang, subject: f.subject, object: f.object });
    }
    const m = searching ? searchMatch(all, query) : null;
    if (searching && !m) continue;
    total++;
    if (facts.length >= limit) continue;
    const labels: Record<string, { subject: string; object: string }> = {};
    for (const l of all) labels[l.lang] = { subject: l.subject, object: l.object };
    facts.push({ id: base[i].id, relation, labels, ...(m ? { matchedLang: m.lang, matchedField: m.field } : {}) });
  }
  return { relation, facts, total };
}

/** Table I statistics of the benchmark, computed from the shards. */
import { queryLength, shardQueries } from './queries';
import { LANGS, type Lang, type Shard } from './types';

export interface LangStats {
  facts: number;
  /** causal-compatible queries: facts x causal templates */
  queries: number;
  relations: number;
  /** mean causal query length (characters for zh/ja/ko, words otherwise), 1 decimal */
  avgLen: number;
  /** queries for masked models: facts x all templates */
  maskedQueries: number;
  causalTemplates: number;
  templates: number;
}

export interface BenchmarkStats {
  languages: Record<string, LangStats>;
  factsInAllLanguages: number;
}

export function computeStats(shards: readonly Shard[], langs: readonly Lang[] = LANGS): BenchmarkStats {
  const languages: Record<string, LangStats> = {};
  const factLangs = new Map<string, Set<string>>();
  for (const lang of langs) {
    const mine = shards.filter((s) => s.lang === lang);
    let facts = 0,
      queries = 0,
      lenSum = 0,
      masked = 0,
      causalT = 0,
      allT = 0;
    const rels = new Set<string>();
    for (const s of mine) {
      if (s.facts.length) rels.add(s.relation);
      facts += s.facts.length;
      causalT += s.templates.filter((t) => t.causal).length;
      allT += s.templates.length;
      masked += s.facts.length * s.templates.length;
      for (const q of shardQueries(s, 'causal')) {
        queries++;
        lenSum += queryLength(q.prompt, lang);
      }
      for (const f of s.facts) {
        const set = factLangs.get(f.id) ?? new Set<string>();
        set.add(lang);
        factLangs.set(f.id, set);
      }
    }
    languages[lang] = {
      facts,
      queries,
      relations: rels.size,
      avgLen: queries ? Math.round((lenSum / queries) * 10) / 10 : 0,
      maskedQueries: masked,
      causalTemplates: causalT,
      templates: allT,
    };
  }
  let all = 0;
  for (const set of factLangs.values()) if (set.size === langs.length) all++;
  return { languages, factsInAllLanguages: all };
}

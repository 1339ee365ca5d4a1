/**
 * Probing a model on RML-LAMA: accuracy per relation and language over all queries, and the fact/query
 * sets the experiments need (docs/METHOD.md): facts known per language (isKnownLanguage, the one rule), Q_error (wrong queries in fi/hu/ja/ko),
 * Q_new (facts known in no language), Q_old (facts known in every evaluated language).
 *
 * A query is correct when the target (the first token of the object, as the prober tokenizes it) is the
 * top-1 prediction: target.rank === 0.
 */
import { KnError } from '../shared/errors';
import { shardQueries, type Query } from './queries';
import { LOW_RESOURCE_LANGS, type Lang, type Relation, type Shard } from './types';

export interface ProbeOutput {
  target?: { id: number; prob: number; rank: number };
  top: { id: number; token: string; prob: number }[];
}

export interface Prober {
  kind: 'causal' | 'masked';
  maskToken?: string;
  /**
   * causal: prompt = the text before the object, target = its continuation (with the leading space
   * when the language separates words by spaces); masked: prompt contains maskToken, target = the object.
   */
  probe(prompt: string, opts: { target: string; topK?: number }): Promise<ProbeOutput>;
}

export interface ShardSource {
  shard(relation: Relation, lang: Lang, opts?: { signal?: AbortSignal }): Promise<Shard>;
}

export interface EvalProgress {
  done: number;
  total: number;
  relation: string;
  lang: string;
}

export interface EvalOptions {
  relations: readonly Relation[];
  langs: readonly Lang[];
  /** at most this many facts per relation (the same facts in every language: the first by line id) */
  limit?: number;
  topK?: number;
  onProgress?: (p: EvalProgress) => void;
  signal?: AbortSignal;
}

export interface QueryOutcome {
  factId: string;
  relation: string;
  lang: Lang;
  templateId: string;
  correct: boolean;
  rank?: number;
  prob?: number;
}

export interface Accuracy {
  accuracy: number;
  n: number;
  correct: number;
}

export interface EvalResult {
  kind: 'causal' | 'masked';
  languages: Record<string, Accuracy>;
  relations: Record<string, Record<string, Accuracy>>;
  outcomes: QueryOutcome[];
  /** shards or queries that could not be evaluated; the rest of the result is still valid */
  errors: { relation: string; lang: string; templateId?: string; factId?: string; message: string }[];
}

const acc = (correct: number, n: number): Accuracy => ({ accuracy: n ? correct / n : 0, n, correct });

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new KnError('cancelled', 'RML-LAMA evaluation cancelled');
}

/**
 * A Prober from either a Prober or an engine model (LoadedModel keeps kind and maskToken in `info`).
 */
export function asProber(x: unknown): Prober {
  const o = x as { kind?: unknown; maskToken?: string; info?: { kind?: unknown; maskToken?: string }; probe?: unknown };
  if (!o || typeof o.probe !== 'function') throw new KnError('bad-input', 'eval needs a model with a probe() method');
  const kind = o.kind ?? o.info?.kind;
  if (kind !== 'causal' && kind !== 'masked') throw new KnError('bad-input', `eval needs a causal or masked model, got kind ${String(kind)}`);
  if (o.kind === kind) return o as Prober;
  const maskToken = o.maskToken ?? o.info?.maskToken;
  const probe = (o.probe as Prober['probe']).bind(o);
  return maskToken === undefined ? { kind, probe } : { kind, maskToken, probe };
}

export async function evaluate(source: ShardSource, prober: Prober, opts: EvalOptions): Promise<EvalResult> {
  if (prober.kind !== 'causal' && prober.kind !== 'masked') {
    throw new KnError('bad-input', `prober kind must be causal or masked, got ${String(prober.kind)}`);
  }
  if (prober.kind === 'masked' && !prober.maskToken) {
    throw new KnError('bad-input', 'masked-model prober has no maskToken');
  }
  const errors: EvalResult['errors'] = [];
  const plan: Query[][] = [];
  for (const relation of opts.relations) {
    for (const lang of opts.langs) {
      checkAbort(opts.signal);
      try {
        const shard = await source.shard(relation, lang, { signal: opts.signal });
        plan.push(shardQueries(shard, prober.kind, prober.maskToken, opts.limit));
      } catch (e) {
        if (e instanceof KnError && e.code === 'cancelled') throw e;
        errors.push({ relation, lang, message: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  const total = plan.reduce((a, q) => a + q.length, 0);
  const outcomes: QueryOutcome[] = [];
  let done = 0;
  for (const queries of plan) {
    for (const q of queries) {
      checkAbort(opts.signal);
      try {
        const r = await prober.probe(q.prompt, { target: q.target, topK: opts.topK });
        const o: QueryOutcome = {
          factId: q.factId,
          relation: q.relation,
          lang: q.lang,
          templateId: q.templateId,
          correct: r.target?.rank === 0,
        };
        if (r.target) {
          o.rank = r.target.rank;
          o.prob = r.target.prob;
        }
        outcomes.push(o);
      } catch (e) {
        if (e instanceof KnError && e.code === 'cancelled') throw e;
        if (opts.signal?.aborted) throw new KnError('cancelled', 'RML-LAMA evaluation cancelled');
        errors.push({ relation: q.relation, lang: q.lang, templateId: q.templateId, factId: q.factId, message: e instanceof Error ? e.message : String(e) });
      }
      done++;
      opts.onProgress?.({ done, total, relation: q.relation, lang: q.lang });
    }
  }
  return summarize(prober.kind, outcomes, errors, opts.langs, opts.relations);
}

export function summarize(
  kind: 'causal' | 'masked',
  outcomes: QueryOutcome[],
  errors: EvalResult['errors'],
  langs: readonly Lang[],
  relations: readonly Relation[],
): EvalResult {
  const byLang = new Map<string, [number, number]>();
  const byRel = new Map<string, [number, number]>();
  for (const o of outcomes) {
    const a = byLang.get(o.lang) ?? [0, 0];
    a[0] += o.correct ? 1 : 0;
    a[1]++;
    byLang.set(o.lang, a);
    const k = `${o.relation}\u0000${o.lang}`;
    const b = byRel.get(k) ?? [0, 0];
    b[0] += o.correct ? 1 : 0;
    b[1]++;
    byRel.set(k, b);
  }
  const languages: Record<string, Accuracy> = {};
  for (const l of langs) {
    const [c, n] = byLang.get(l) ?? [0, 0];
    languages[l] = acc(c, n);
  }
  const rels: Record<string, Record<string, Accuracy>> = {};
  for (const r of relations) {
    rels[r] = {};
    for (const l of langs) {
      const [c, n] = byRel.get(`${r}\u0000${l}`) ?? [0, 0];
      rels[r][l] = acc(c, n);
    }
  }
  return { kind, languages, relations: rels, outcomes, errors };
}

/**
 * The project's one "known language" rule: a fact is known in a language when at least half of that
 * language's queries are answered top-1 correctly (and it has at least one query). FactSession
 * (src/engine/session/session.ts), the experiment runners, `kn eval`'s sets and the page's fact list all use it.
 */
export const KNOWN_LANGUAGE_SHARE = 0.5;

/** The rule in words, as `kn eval` reports it beside the sets. */
export const KNOWN_RULE = 'a language is known when at least half of its queries are answered top-1 correctly';

/** Whether `correct` top-1 answers out of `total` queries make the language known (KNOWN_LANGUAGE_SHARE). */
export function isKnownLanguage(correct: number, total: number): boolean {
  return total > 0 && correct >= KNOWN_LANGUAGE_SHARE * total;
}

function factTallies(result: EvalResult): Map<string, Map<string, [number, number]>> {
  const m = new Map<string, Map<string, [number, number]>>();
  for (const o of result.outcomes) {
    const per = m.get(o.factId) ?? new Map<string, [number, number]>();
    const t = per.get(o.lang) ?? [0, 0];
    t[0] += o.correct ? 1 : 0;
    t[1]++;
    per.set(o.lang, t);
    m.set(o.factId, per);
  }
  return m;
}

const byId = (a: string, b: string) => {
  const [ra, la] = a.split(':');
  const [rb, lb] = b.split(':');
  return ra === rb ? Number(la) - Number(lb) : ra < rb ? -1 : 1;
};

export interface ExperimentSets {
  /** the known-language rule (KNOWN_RULE) */
  rule: string;
  /** facts known per language (isKnownLanguage) */
  known: Record<string, string[]>;
  /** facts known in every evaluated language */
  qOld: string[];
  /** facts known in no evaluated language (only facts evaluated in all of them) */
  qNew: string[];
  /** wrong queries in the low-resource languages (fi, hu, ja, ko) */
  qError: QueryOutcome[];
}

export function experimentSets(result: EvalResult, lowResource: readonly Lang[] = LOW_RESOURCE_LANGS): ExperimentSets {
  const langs = Object.keys(result.languages);
  const tallies = factTallies(result);
  const known: Record<string, string[]> = {};
  for (const l of langs) known[l] = [];
  const qOld: string[] = [];
  const qNew: string[] = [];
  for (const [fact, per] of tallies) {
    let k = 0;
    for (const [l, t] of per) {
      if (isKnownLanguage(t[0], t[1])) {
        k++;
        (known[l] ??= []).push(fact);
      }
    }
    const complete = langs.every((l) => per.has(l));
    if (complete && k === langs.length) qOld.push(fact);
    if (complete && k === 0) qNew.push(fact);
  }
  for (const l of langs) known[l].sort(byId);
  qOld.sort(byId);
  qNew.sort(byId);
  const lr = new Set<string>(lowResource);
  const qError = result.outcomes.filter((o) => !o.correct && lr.has(o.lang));
  return { rule: KNOWN_RULE, known, qOld, qNew, qError };
}

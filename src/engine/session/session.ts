/**
 * One fact across languages, the one implementation the CLI, the worker and the experiment runner share:
 * its queries (over-long or untokenizable ones skipped with the reason), the "before" probes (batched),
 * localize (attributions cached per query, then every method re-scores them without a gradient), and
 * manipulations with ΔP per language over the queries the model knew (docs/METHOD.md "Manipulation").
 */
import type { RmlLama } from '../../data/loader';
import { isKnownLanguage, KNOWN_LANGUAGE_SHARE } from '../../data/probing';
import { factTemplateQueries } from '../../data/queries';
import { RELATIONS, type Lang, type Relation } from '../../data/types';
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import {
  checkBaseline,
  checkLangs,
  checkMethod,
  checkRelation,
  checkSteps,
  COMPLETENESS_FLAG,
  DEFAULT_BASELINE,
  DEFAULT_STEPS,
  RECHECK,
  type Baseline,
  TOP_K,
} from '../rules';
import { checkQuadrature, DEFAULT_QUADRATURE, type Quadrature } from '../attribution/attribute';
import {
  attributeFact,
  queryCacheKey,
  selectNeurons,
  toFactAttributions,
  type AttributedQuery,
  type AttributeFactOptions,
  manipulateMany,
  type ManipulationRow,
  type Method,
  type QuerySpec,
  type Selection,
  type TopToken,
} from '../interventions/manipulate';
import { perLanguage, scoreNoUaL, type FactAttributions, type LanguageSummary, type MatriceSettings, type NeuronId } from '../selection/scoring';

export interface FactQuery extends QuerySpec {
  lang: Lang;
  templateId: string;
}

export interface SessionQuery extends FactQuery {
  /** the target's first token as the model reads it */
  targetToken: string;
  /** P(correct) and its rank without intervention; known = rank 0 (top-1) */
  before: number;
  rank: number;
  known: boolean;
  top: TopToken[];
}

export { COMPLETENESS_FLAG, RECHECK };

/** A query's completeness error relative to its P(correct) (0 when P is 0 and nothing is missing). */
export function completenessShare(q: Pick<AttributedQuery, 'completeness' | 'attribution'>): number {
  const r = q.completeness.maxAbs / Math.max(q.attribution.pFull, 1e-12);
  return Number.isFinite(r) ? r : 0;
}

/**
 * Whether the quadrature's error changes a conclusion: the queries whose completeness error is above
 * COMPLETENESS_FLAG, re-attributed with RECHECK, and the selection with and without them.
 */
export interface ConvergenceCheck {
  flag: number;
  /** queries above the flag (all of them re-attributed) of all the fact's queries */
  flagged: number;
  queries: number;
  /** the largest completeness share before and, over the re-attributed queries, after */
  worstBefore: number;
  worstAfter: number | null;
  finer: { quadrature: Quadrature; steps: number } | null;
  method: Method;
  before: NeuronId[];
  after: NeuronId[];
  /** the two selections hold the same neurons */
  same: boolean;
  /** |before ∩ after| / |before ∪ after| (1 for two empty sets) */
  jaccard: number;
}

export interface SkippedQuery {
  lang: Lang;
  templateId: string;
  reason: string;
}

/** A language counts as known for a fact by the project's one rule (src/data/probing.ts isKnownLanguage). */
export { KNOWN_LANGUAGE_SHARE };

/** `P36:0` → its relation; refuses anything else with the expected form. */
export function parseFactId(id: string): Relation {
  const m = /^(P\d+):(\d+)$/.exec(String(id));
  if (!m || !(RELATIONS as readonly string[]).includes(m[1])) {
    throw new KnError('bad-input', `unknown fact id "${id}" (expected <relation>:<lineid>, e.g. P36:0, with a relation of ${RELATIONS.join(', ')})`);
  }
  return m[1] as Relation;
}

/**
 * A fact that is not in the benchmark (the page's "teach a new fact"): a relation and, per language, the
 * subject and object to put into that relation's templates. Languages without labels are skipped.
 */
export interface CustomFact {
  relation: Relation;
  labels: Partial<Record<Lang, { subject: string; object: string }>>;
}

/** The id a custom fact's session carries (never a benchmark id: those are `P<n>:<line>`). */
export function customFactId(f: CustomFact): string {
  const first = Object.values(f.labels)[0];
  return `new:${f.relation}:${first?.subject ?? ''}→${first?.object ?? ''}`;
}

const MAX_LABEL = 200;

/** Checks a custom fact's relation and labels (typed by a user: refused with the field named). */
export function checkCustomFact(f: CustomFact): CustomFact {
  if (!f || typeof f !== 'object') throw new KnError('bad-input', 'a new fact needs a relation and labels');
  checkRelation(f.relation);
  const labels: CustomFact['labels'] = {};
  for (const [lang, x] of Object.entries(f.labels ?? {})) {
    checkLangs([lang]);
    const subject = typeof x?.subject === 'string' ? x.subject.trim() : '';
    const object = typeof x?.object === 'string' ? x.object.trim() : '';
    if (!subject || !object) throw new KnError('bad-input', `the new fact's ${lang} ${subject ? 'object' : 'subject'} is empty`);
    if (subject.length > MAX_LABEL || object.length > MAX_LABEL)
      throw new KnError('bad-input', `the new fact's ${lang} labels must be at most ${MAX_LABEL} characters`);
    labels[lang as Lang] = { subject, object };
  }
  if (!Object.keys(labels).length) throw new KnError('bad-input', 'the new fact needs a subject and an object in at least one language');
  return { relation: f.relation, labels };
}

/**
 * The fact's queries in each language for this model; queries the model cannot take are skipped with the
 * reason. `wholeTargets` (a fact that is taught): also those whose target's first token is only whitespace
 * or a byte piece (KnTokenizer.wholeTargetId), which would count as right for any object starting alike.
 */
export async function buildFactQueries(model: LoadedModel, bench: RmlLama, fact: string | CustomFact, langs: readonly Lang[], wholeTargets = false) {
  const custom = typeof fact === 'string' ? null : checkCustomFact(fact);
  const relation = custom ? custom.relation : parseFactId(fact as string);
  const factId = custom ? customFactId(custom) : (fact as string);
  const labels: Partial<Record<Lang, { subject: string; object: string }>> = {};
  const queries: FactQuery[] = [];
  const skipped: SkippedQuery[] = [];
  for (const lang of langs) {
    if (custom && !custom.labels[lang]) {
      skipped.push({ lang, templateId: '*', reason: `the new fact has no ${lang} subject and object` });
      continue;
    }
    const fact = custom ? { id: factId, ...custom.labels[lang]! } : await bench.fact(factId, lang);
    labels[lang] = { subject: fact.subject, object: fact.object };
    const shard = await bench.shard(relation, lang);
    for (const q of factTemplateQueries(shard, fact, model.info.kind, model.tok.maskToken ?? '[MASK]')) {
      try {
        model.checkLength(model.tok.encodeQuery(q.prompt).ids.length);
        if (wholeTargets) model.tok.wholeTargetId(q.prompt, q.target);
        else model.tok.targetId(q.prompt, q.target);
        queries.push({ lang, ...q });
      } catch (e) {
        skipped.push({ lang, templateId: q.templateId, reason: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return { factId, relation, labels, queries, skipped };
}

export interface ManipulationResult {
  factor: number;
  neurons: NeuronId[];
  rows: ManipulationRow[];
  /** per language: mean P before/after; ΔP and the ratio over the known queries (NaN when none) */
  languages: Record<string, LanguageSummary>;
}

/** Which languages of a fact the model knows: "known in k of n", k = known.length, n = langs.length. */
export interface FactKnown {
  factId: string;
  langs: Lang[];
  known: Lang[];
  perLanguage: Partial<Record<Lang, { queries: number; correct: number; known: boolean }>>;
}

/** Probes a fact's queries (top-1 only) and says in which languages the model knows it. */
export async function probeFactKnown(model: LoadedModel, bench: RmlLama, factId: string, langs: readonly string[]): Promise<FactKnown> {
  return (await FactSession.open(model, bench, factId, langs, { topK: 1 })).knownSummary();
}

/** The attribution settings of a localize, with the defaults, checked (localize and cachedCount). */
export function attributionSettings(opts: Pick<AttributeFactOptions, 'steps' | 'baseline' | 'quadrature'>): {
  steps: number;
  baseline: Baseline;
  quadrature: Quadrature;
} {
  return {
    steps: checkSteps(opts.steps ?? DEFAULT_STEPS),
    baseline: checkBaseline(opts.baseline ?? DEFAULT_BASELINE),
    quadrature: checkQuadrature(opts.quadrature ?? DEFAULT_QUADRATURE),
  };
}

export interface OpenOptions {
  /** top predictions kept per query (default 5) */
  topK?: number;
  /** skip queries whose target's first token is only whitespace or a byte piece (buildFactQueries) */
  wholeTargets?: boolean;
}

export class FactSession {
  attributed: AttributedQuery[] | null = null;
  fa: FactAttributions | null = null;
  steps: number | null = null;
  baseline: Baseline | null = null;
  quadrature: Quadrature | null = null;
  /** the layers attributed (undefined: every layer) */
  layers: number[] | undefined = undefined;

  private constructor(
    readonly model: LoadedModel,
    readonly factId: string,
    readonly relation: Relation,
    readonly langs: Lang[],
    readonly labels: Partial<Record<Lang, { subject: string; object: string }>>,
    readonly queries: SessionQuery[],
    readonly skipped: SkippedQuery[],
    readonly topK: number,
  ) {}

  /** Builds the fact's queries and probes them all once (batched), without intervention. */
  static async open(model: LoadedModel, bench: RmlLama, fact: string | CustomFact, langs: readonly string[], opts: OpenOptions = {}): Promise<FactSession> {
    const ls = checkLangs(langs);
    const topK = opts.topK ?? TOP_K;
    const built = await buildFactQueries(model, bench, fact, ls, opts.wholeTargets === true);
    const factId = built.factId;
    const probes = built.queries.length ? await model.probeMany(built.queries, { topK }) : [];
    const queries: SessionQuery[] = built.queries.map((q, i) => {
      const t = probes[i].target!;
      return {
        ...q,
        targetToken: t.token,
        before: t.prob,
        rank: t.rank,
        known: t.rank === 0,
        top: probes[i].top.map((x) => ({ id: x.id, token: x.token, prob: x.prob })),
      };
    });
    return new FactSession(model, factId, built.relation, ls, built.labels, queries, built.skipped, topK);
  }

  /** Languages with at least KNOWN_LANGUAGE_SHARE of their queries top-1 correct (isKnownLanguage). */
  knownLanguages(): Lang[] {
    return this.langs.filter((l) => {
      const qs = this.queries.filter((q) => q.lang === l);
      return isKnownLanguage(qs.filter((q) => q.known).length, qs.length);
    });
  }

  /** Per language: queries, top-1 correct ones, and whether the language is known (isKnownLanguage). */
  knownSummary(): FactKnown {
    const perLanguage: FactKnown['perLanguage'] = {};
    for (const l of this.langs) {
      const qs = this.queries.filter((q) => q.lang === l);
      const correct = qs.filter((q) => q.known).length;
      perLanguage[l] = { queries: qs.length, correct, known: isKnownLanguage(correct, qs.length) };
    }
    return { factId: this.factId, langs: [...this.langs], known: this.knownLanguages(), perLanguage };
  }

  get localized(): boolean {
    return this.fa !== null;
  }

  /**
   * How many of the queries have their attribution in `store` under these settings (what `localize` would read
   * from the cache; it computes the rest). The same keys as `localize`: the one place that derives them.
   */
  async cachedCount(opts: Pick<AttributeFactOptions, 'steps' | 'baseline' | 'quadrature' | 'layers' | 'store'> = {}): Promise<number> {
    if (!opts.store) return 0;
    const a = { ...attributionSettings(opts), layers: opts.layers };
    let n = 0;
    for (const q of this.queries) if (await opts.store.get(await queryCacheKey(this.model, q, a))) n++;
    return n;
  }

  /** Attributes every query (cache first); the scores stay in the session for every method. */
  async localize(opts: AttributeFactOptions = {}) {
    if (this.queries.length === 0) throw new KnError('bad-input', `fact ${this.factId} has no usable query in ${this.langs.join(', ')} for this model`);
    const { steps, baseline, quadrature } = attributionSettings(opts);
    const r = await attributeFact(this.model, this.queries, { ...opts, steps, baseline, quadrature });
    if (opts.signal?.aborted) throw new KnError('cancelled', 'localization cancelled');
    this.attributed = r.queries;
    this.fa = r.fa;
    this.steps = steps;
    this.baseline = baseline;
    this.quadrature = quadrature;
    this.layers = opts.layers;
    return r.queries;
  }

  /**
   * Re-attributes the queries whose completeness error is above COMPLETENESS_FLAG with the finer RECHECK
   * quadrature (cache first) and compares the method's selection with and without them; the session keeps
   * its own attributions. No flagged query: nothing is recomputed and the check says `same`.
   */
  async checkConvergence(
    opts: { method?: Method; settings?: Partial<MatriceSettings>; seed?: number | string } & Pick<
      AttributeFactOptions,
      'store' | 'signal' | 'onProgress' | 'baseline'
    > = {},
  ): Promise<ConvergenceCheck> {
    this.requireFa();
    const attributed = this.attributed!;
    const method = opts.method ?? 'matrice';
    const before = this.select(method, opts.settings, opts.seed).neurons;
    const shares = attributed.map(completenessShare);
    const idx = shares.flatMap((r, i) => (r > COMPLETENESS_FLAG ? [i] : []));
    const base = { flag: COMPLETENESS_FLAG, flagged: idx.length, queries: attributed.length, worstBefore: Math.max(0, ...shares), method, before };
    if (idx.length === 0) return { ...base, worstAfter: null, finer: null, after: before, same: true, jaccard: 1 };
    const finer: { quadrature: Quadrature; steps: number } = { ...RECHECK };
    const redo = await attributeFact(
      this.model,
      idx.map((i) => attributed[i]),
      {
        steps: finer.steps,
        quadrature: finer.quadrature,
        baseline: opts.baseline ?? this.baseline ?? DEFAULT_BASELINE,
        layers: this.layers,
        store: opts.store,
        signal: opts.signal,
        onProgress: opts.onProgress,
      },
    );
    if (opts.signal?.aborted) throw new KnError('cancelled', 'convergence check cancelled');
    const mixed = [...attributed];
    idx.forEach((i, k) => (mixed[i] = { ...attributed[i], ...redo.queries[k] }));
    const after = selectNeurons(toFactAttributions(this.model, mixed), method, opts.settings, opts.seed).neurons;
    const key = (n: NeuronId) => `${n[0]}:${n[1]}`;
    const A = new Set(before.map(key)),
      B = new Set(after.map(key));
    const inter = [...A].filter((x) => B.has(x)).length;
    const union = A.size + B.size - inter;
    return {
      ...base,
      worstAfter: Math.max(0, ...redo.queries.map(completenessShare)),
      finer,
      after,
      same: inter === A.size && inter === B.size,
      jaccard: union === 0 ? 1 : inter / union,
    };
  }

  private requireFa(): FactAttributions {
    if (!this.fa) throw new KnError('bad-input', 'localize the fact first');
    return this.fa;
  }

  /** The neurons of a method (re-scoring only, never a gradient). */
  select(method: Method, settings: Partial<MatriceSettings> = {}, seed: number | string = 1): Selection {
    checkMethod(method);
    return selectNeurons(this.requireFa(), method, settings, seed);
  }

  /**
   * Each language's own knowledge neurons (Dai-style: UaQ over that language's queries, the same dynamic
   * threshold), beside the language-agnostic set.
   */
  selectPerLanguage(settings: Partial<MatriceSettings> = {}): Partial<Record<Lang, NeuronId[]>> {
    return scoreNoUaL(this.requireFa(), settings).perLanguageSelected as Partial<Record<Lang, NeuronId[]>>;
  }

  /** P(correct) of every query with the neurons scaled by `factor` (0 suppress, 2 enhance); batched. */
  async manipulate(neurons: NeuronId[], factor: number, opts: { langs?: readonly Lang[]; topK?: number } = {}): Promise<ManipulationResult> {
    return (await this.manipulateMany([{ neurons, factor, langs: opts.langs }], opts.topK))[0];
  }

  /** Many manipulations at once (one batched forward per query length for all of them); out[k] for list[k]. */
  async manipulateMany(list: { neurons: NeuronId[]; factor: number; langs?: readonly Lang[] }[], topK = this.topK): Promise<ManipulationResult[]> {
    const norm = list.map((m) => ({ neurons: m.neurons.map((n) => [n[0], n[1]] as NeuronId), factor: m.factor }));
    const all = await manipulateMany(this.model, this.queries, norm, topK, this.queries);
    return all.map((rows, k) => {
      const ls = list[k].langs;
      const r = ls ? rows.filter((x) => ls.includes(x.lang as Lang)) : rows;
      return { factor: norm[k].factor, neurons: norm[k].neurons, rows: r, languages: perLanguage(r) };
    });
  }
}

/**
 * What the explorer (explorer.ts) hands the page: the fact list, a fact's queries, localize, the convergence
 * check, scores, a neuron's statistics, manipulations, language sets and the attributions' export. Plain data
 * (structured-clone safe): the worker's contract (src/worker/api.ts) re-exports these types.
 */
import type { Baseline, Quadrature } from '../rules';
import type { ManipulationRow, Method, TopToken } from '../interventions';
import type { LanguageSummary, MatriceSettings, NeuronId } from '../selection';
import type { ConvergenceCheck } from './session';

/** A fact with its labels in every language of the benchmark. */
export interface FactSummary {
  id: string;
  relation: string;
  /** lang → subject / object label */
  labels: Record<string, { subject: string; object: string }>;
  /** the language whose subject or object matched the search (absent without a search) */
  matchedLang?: string;
  /** which label matched in that language */
  matchedField?: 'subject' | 'object';
}

/**
 * In how many languages the loaded model knows a fact (the one rule, src/data/probing.ts isKnownLanguage:
 * at least half of a language's queries answered top-1 correctly); null when it was not probed (the worker
 * was busy with an attribution or an edit: only cached answers are given then).
 */
export interface FactKnownHint {
  factId: string;
  /** the known languages (k = known.length), null when not probed */
  known: string[] | null;
  /** the languages asked */
  langs: string[];
}

export interface FactList {
  relation: string;
  /** facts matching the search, at most `limit` */
  facts: FactSummary[];
  /** how many facts matched in all */
  total: number;
}

/** One query of the current fact, probed on the loaded model. */
export interface FactQueryRow {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  /** the target token as the tokenizer shows it */
  targetToken: string;
  /** P(correct): the probability of the target's first token at the target position */
  pCorrect: number;
  rank: number;
  correct: boolean;
  top: TopToken[];
}

export interface FactQueries {
  factId: string;
  relation: string;
  labels: Record<string, { subject: string; object: string }>;
  langs: string[];
  queries: FactQueryRow[];
  /** queries that could not be built or probed (target outside the vocabulary, too long, …) */
  skipped: { lang: string; templateId: string; reason: string }[];
}

export interface LocalizeOptions {
  langs: string[];
  /** M, the quadrature points of the integrated gradients (default the engine's DEFAULT_STEPS) */
  steps?: number;
  baseline?: Baseline;
  /** the IG quadrature (default the engine's DEFAULT_QUADRATURE) */
  quadrature?: Quadrature;
  /** resolve with `complete: false` instead of computing when any query is not in the cache */
  cacheOnly?: boolean;
}

export interface LocalizeProgress {
  queriesDone: number;
  queriesTotal: number;
  pointsDone: number;
  pointsTotal: number;
  cached: number;
  elapsedMs: number;
  /** estimated time left (null until there is something to extrapolate from) */
  etaMs: number | null;
}

export interface LocalizedQuery {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  cached: boolean;
  /** the IG completeness error: max over layers and baselines of |Σ_j Attr_i − (P(w̄) − P(w'_i))| */
  completeness: { maxAbs: number; maxRel: number };
  /** P(w̄), the model's probability of the target */
  pFull: number;
}

export interface LocalizeResult {
  /** false only with `cacheOnly` when some query was not cached (nothing was computed) */
  complete: boolean;
  factId: string;
  langs: string[];
  steps: number;
  baseline: Baseline;
  numLayers: number;
  ffnSize: number;
  queries: LocalizedQuery[];
  /** queries read from the attribution cache (with `complete: false`: those of `queriesTotal` that are cached) */
  cachedCount: number;
  /** with `complete: false`: how many queries localizing attributes (cachedCount of them are read from the cache) */
  queriesTotal?: number;
  /** the largest completeness error over all queries */
  maxCompleteness: { maxAbs: number; maxRel: number };
  ms: number;
  skipped: { lang: string; templateId: string; reason: string }[];
}

/** The convergence check's options: the method and settings whose selection is compared (engine FactSession.checkConvergence). */
export interface ConvergenceOptions {
  method: Method;
  settings: Partial<MatriceSettings>;
  seed?: number;
}

/** The engine's ConvergenceCheck for the current fact, with the fact and the time it took. */
export interface ConvergenceResult extends ConvergenceCheck {
  factId: string;
  ms: number;
}

export interface ScoreResult {
  method: Method;
  /** which score the heatmap shows: MaTrice's S, or w/o UaQ's S (AMIG / w/o UaL / Random show MaTrice's S) */
  heatmapOf: 'matrice' | 'no-uaq';
  /** layers × (ffnSize / bin) cells: max of S over each bin of `bin` consecutive neurons */
  S: number[][];
  bin: number;
  numLayers: number;
  ffnSize: number;
  selected: NeuronId[];
  /** 𝒯 = τ · max S of the heatmap's score (MaTrice / w/o UaQ; null when not defined) */
  threshold: number | null;
  maxS: number;
  /** Fig. 4: share of the selected neurons per layer */
  layerDistribution: number[];
  /**
   * language coverage (engine `languageCoverage`, docs/METHOD.md): per selected neuron (in `selected`'s order)
   * the number of languages whose own selection (w/o UaL per language, same settings) contains it, 0..languages;
   * `mean` over the selected neurons (null when none). Absent for a stored (read-only) exploration.
   */
  coverage?: { perNeuron: number[]; mean: number | null; languages: number };
  /** Eq. 5 denominators at fault (zero / negative / near-zero), counted */
  warnings: number;
  ms: number;
}

export interface NeuronStatsResult {
  neuron: NeuronId;
  /** s̄_k per language (Eq. 9, what UaL averages) */
  perLanguage: { lang: string; value: number; raw: number }[];
  mean: number;
  std: number;
  S: number;
  threshold: number;
  selected: boolean;
}

/** The engine's manipulation row of a fact's query (its template is always known). */
export interface ManipulateRow extends ManipulationRow {
  templateId: string;
}

export interface ManipulateResult {
  factor: number;
  neurons: NeuronId[];
  rows: ManipulateRow[];
  /** per language: mean P before/after; ΔP and the ratio over the known queries (NaN when none), engine `perLanguage` */
  languages: Record<string, LanguageSummary>;
  ms: number;
}

/** Each language's own neurons beside the shared (MaTrice) set, both scaled on that language's queries. */
export interface LanguageSetsResult {
  shared: NeuronId[];
  factor: number;
  languages: {
    lang: string;
    /** the language's own neurons: UaQ over its queries, the same dynamic threshold */
    own: NeuronId[];
    /** how many of them are in the shared set */
    overlap: number;
    /** that language's queries with its own set scaled / with the shared set scaled (ΔP over known queries) */
    ownResult: LanguageSummary;
    sharedResult: LanguageSummary;
  }[];
  ms: number;
}

/** The current fact's attributions, for export (raw per query as float32, layer-major flat). */
export interface AttributionsExport {
  factId: string;
  steps: number;
  baseline: Baseline;
  numLayers: number;
  ffnSize: number;
  modelHash: string;
  languages: Record<string, { queries: { text: string; templateId: string; raw: Float32Array }[] }>;
}

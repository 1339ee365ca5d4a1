/**
 * Rules of the engine that the CLI, the worker and the page all read (no copies of these literals elsewhere).
 * A leaf module (it imports only the error type, the data layer's lists and the method list), so the page can read it
 * without pulling in the engine.
 */
import { KnError } from '../../shared/errors';
import { METHODS as METHOD_LIST, type Method } from '../selection/methods';
import type { AttrNorm, LangNorm, MatriceSettings } from '../../shared/types';

/**
 * Above this share of a query's P(correct), its IG completeness error |Σ_j Attr − (P(w̄) − P(w'))| (max over
 * layers and baselines) is large enough to question the quadrature (docs/METHOD.md "Choosing the quadrature").
 */
export const COMPLETENESS_FLAG = 0.05;

/** The finer quadrature a flagged query is re-attributed with, to see whether the selection changes. */
export const RECHECK = { quadrature: 'gauss-legendre', steps: 64 } as const;

/** The quadratures of the IG path integral (docs/METHOD.md "SAIG"); the one list every other file imports. */
export const QUADRATURES = ['riemann-right', 'gauss-legendre'] as const;
export type Quadrature = (typeof QUADRATURES)[number];
/**
 * Gauss-Legendre since the convergence measurement (docs/METHOD.md "The default: Gauss-Legendre, M = 20"): at
 * the same M = 20 and cost its selection equalled the M = 64 reference's on 10 of 10 dev facts (the right
 * Riemann sum's differed on one) with 3.6× less median completeness error. The paper's right Riemann sum
 * stays one option away (`--quadrature riemann-right`).
 */
export const DEFAULT_QUADRATURE: Quadrature = 'gauss-legendre';
/**
 * What every attribution, cache entry and results folder written before the option existed used: cache keys
 * and experiment metas omit the quadrature when it is this one, so they stay valid whatever the default.
 */
export const LEGACY_QUADRATURE: Quadrature = 'riemann-right';

/** Checks a quadrature name; `option` names it in the refusal (e.g. "--quadrature"). */
export function checkQuadrature(q: unknown, option = 'quadrature'): Quadrature {
  if (!(QUADRATURES as readonly unknown[]).includes(q))
    throw new KnError('bad-input', `${option} must be one of ${QUADRATURES.join(', ')}, got "${String(q)}"`);
  return q as Quadrature;
}

/** M, the quadrature points of the IG path integral: the default and the range every entry point accepts. */
export const DEFAULT_STEPS = 20;
export const STEPS_MIN = 1;
export const STEPS_MAX = 1000;

/** Checks M; `option` names it in the refusal (e.g. "--steps", "M (steps)"). */
export function checkSteps(v: unknown, option = 'steps (M)'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < STEPS_MIN || v > STEPS_MAX)
    throw new KnError('bad-input', `${option} must be an integer in ${STEPS_MIN}..${STEPS_MAX}, got ${String(v)}`);
  return v;
}

/** The IG baselines: SAIG's ⟨PAD⟩ per token, or a single all-zero activation (docs/METHOD.md "SAIG"). */
export const BASELINES = ['pad', 'zero'] as const;
export type Baseline = (typeof BASELINES)[number];
export const DEFAULT_BASELINE: Baseline = 'pad';

/** Checks a baseline name; `option` names it in the refusal (e.g. "--baseline"). */
export function checkBaseline(v: unknown, option = 'baseline'): Baseline {
  if (!(BASELINES as readonly unknown[]).includes(v)) throw new KnError('bad-input', `${option} must be ${BASELINES.join(' or ')}, got "${String(v)}"`);
  return v as Baseline;
}

/** How many facts one experiment may draw, from the CLI, the worker and the page alike. */
export const FACTS_MIN = 1;
export const FACTS_MAX = 100_000;
/** The facts an experiment draws when none are asked for: `kn experiment <kind>` per kind, and the page's form (a run in the browser, kept short). */
export const DEFAULT_FACTS = Object.freeze({ manipulate: 100, readings: 30, edit: 50, enhance: 100, inject: 20, calibrate: 20, page: 20 });

/** The random seed (the facts' draw, the Random method's neurons): a non-negative 31-bit integer, the same bound everywhere. */
export const SEED_MIN = 0;
export const SEED_MAX = 2 ** 31 - 1;
export const DEFAULT_SEED = 1;

/**
 * `kn experiment … --jobs N`: shard processes on one machine (src/cli/jobs.ts), merged into one results folder.
 * The range every entry point accepts, and the default: one job per core (the CLI passes Node's
 * os.availableParallelism(); each process runs tfjs wasm on one core). More jobs than facts run as many jobs as facts.
 */
export const JOBS_MIN = 1;
export const JOBS_MAX = 64;
/** What the help text says the default is. */
export const DEFAULT_JOBS_NOTE = 'the number of cores';
/** The default --jobs on a machine with `cores` cores (Node: os.availableParallelism()), within JOBS_MIN..JOBS_MAX. */
export function defaultJobs(cores: number): number {
  return Math.max(JOBS_MIN, Math.min(JOBS_MAX, Math.floor(cores) || JOBS_MIN));
}

/**
 * Attribution memory (docs/PERFORMANCE.md "Any model size within memory"). The fast path keeps float32 copies
 * of every layer from the lowest attributed one up, plus the LM head, for the whole query; when those would
 * exceed ATTRIBUTION_RESIDENT_BYTES (or the backend's limit) the attribution streams instead
 * (src/engine/attribution/stream.ts): one layer's float32 weights at a time and the head in vocabulary chunks of at
 * most HEAD_CHUNK_BYTES of float32 weights. ATTRIBUTION_WORK_BYTES: the activations one batched chunk of
 * interpolation points may use.
 */
export const ATTRIBUTION_RESIDENT_BYTES = 1024 ** 3;
export const HEAD_CHUNK_BYTES = 64 * 1024 ** 2;
export const ATTRIBUTION_WORK_BYTES = 256 * 1024 ** 2;

/** How often a long `kn attribute` / `kn localize` writes its progress and time left to stderr (none before). */
export const CLI_PROGRESS_MS = 10_000;

/**
 * `--layers`: which layers to attribute, as "all", one index ("3"), a list ("0,5,11"), ranges ("0-5"), or a
 * mix ("0-3,9"); indices 0..numLayers − 1. Returns them ascending, without repeats; refuses anything else
 * naming the value and the model's layer count.
 */
export function parseLayers(v: string, numLayers: number, option = '--layers'): number[] {
  const refuse = (why: string): never => {
    throw new KnError(
      'bad-input',
      `${option} "${v}": ${why}; the model has ${numLayers} layers (0..${numLayers - 1}), e.g. ${option} 0,${numLayers - 1} or ${option} 0-${numLayers - 1} or ${option} all`,
    );
  };
  const s = v.trim();
  if (s === 'all') return Array.from({ length: numLayers }, (_, l) => l);
  const out = new Set<number>();
  const index = (t: string) => {
    if (!/^\d+$/.test(t)) refuse(`"${t}" is not a layer index`);
    const n = Number(t);
    if (n >= numLayers) refuse(`layer ${n} does not exist`);
    return n;
  };
  for (const part of s.split(',')) {
    const t = part.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(t);
    if (range) {
      const a = index(range[1]),
        b = index(range[2]);
      if (a > b) refuse(`the range ${t} is empty`);
      for (let l = a; l <= b; l++) out.add(l);
    } else out.add(index(t));
  }
  return [...out].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------------
// Languages, relations, methods, known facts: the data layer states these rules (it sits below the engine);
// they are re-exported here so that the CLI, the worker and the page read every rule from this one module.

export { LANGS, LOW_RESOURCE_LANGS, RELATIONS, type Lang, type Relation } from '../../data/types';
export { isLang, isRelation, checkLang, checkLangs, checkRelation, checkRelations } from '../../data/validate';
/** A fact is known in a language when at least half of its queries are answered top-1 correctly. */
export { KNOWN_LANGUAGE_SHARE, KNOWN_RULE, isKnownLanguage } from '../../data/probing';
export { METHODS, type Method } from '../selection/methods';

/** Checks a method name against `allowed` (default: METHODS); the refusal lists them. */
export function checkMethod(m: unknown, allowed: readonly string[] = METHOD_LIST): Method {
  if (!allowed.includes(m as string)) throw new KnError('bad-input', `unknown method "${String(m)}"; one of ${allowed.join(', ')}`);
  return m as Method;
}

// ---------------------------------------------------------------------------------------------------
// Editing (docs/EDITING.md): the paper's λ1 (erase) and λ2 (insert), and teaching a new fact by gradient steps.

/** The language an edit is made from unless the user names another (the paper edits with English). */
export const EDIT_FROM = 'en' as const;
export const DEFAULT_LAMBDA1 = 1;
export const DEFAULT_LAMBDA2 = 8;
/** λ outside [0, LAMBDA_MAX] is refused: larger factors swamp the residual stream rather than edit a fact. */
export const LAMBDA_MAX = 50;

/** Checks λ1 / λ2 (`name` names it in the refusal). */
export function checkLambda(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > LAMBDA_MAX) {
    throw new KnError('bad-input', `${name} must be a number in 0..${LAMBDA_MAX} (the paper uses λ1 = 1, λ2 = 8), got ${String(v)}`);
  }
  return v;
}

/**
 * Teaching a new fact (inject): the k neurons trained (the fact's top-k by S), the gradient steps and the
 * learning rate, with their limits. The same defaults in the page, the worker, the CLI and the runner.
 */
export const TEACH_DEFAULTS = Object.freeze({ k: 10, trainSteps: 40, lr: 0.01, steps: DEFAULT_STEPS });
export const TRAIN_STEPS_MAX = 1000;
/** The neurons one edit or injection may name (links and files refuse more). */
export const EDIT_NEURONS_MAX = 4096;
export const TEACH_LR_MAX = 10;

/** Checks the gradient steps of an injection. */
export function checkTrainSteps(v: unknown, option = 'steps'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > TRAIN_STEPS_MAX)
    throw new KnError('bad-input', `${option} must be an integer in 1..${TRAIN_STEPS_MAX}, got ${String(v)}`);
  return v;
}

/** Checks the learning rate of an injection. */
export function checkTeachLr(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > TEACH_LR_MAX)
    throw new KnError('bad-input', `the learning rate must be in (0, ${TEACH_LR_MAX}], got ${String(v)}`);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// MaTrice's settings: α1, α2 (Eq. 8), β1, β2 (Eq. 11), τ (Eq. 12), the normalizations (docs/METHOD.md).

export const DEFAULT_SETTINGS: Readonly<MatriceSettings> = Object.freeze({
  alpha1: 1,
  alpha2: 1,
  beta1: 1,
  beta2: 1,
  tau: 0.2,
  // docs/METHOD.md: Eq. 9 'scale' (zero stays zero) and no Eq. 5 division are the defaults
  norm: 'scale',
  attrNorm: 'none',
});

/** Eq. 9's and Eq. 5's readings (docs/METHOD.md), the lists the settings' check and the page's forms use. */
export const LANG_NORMS: readonly LangNorm[] = Object.freeze(['language', 'neuron', 'scale']);
export const ATTR_NORMS: readonly AttrNorm[] = Object.freeze(['layer', 'global', 'none']);

/** Defaults filled in and every field validated (finite numbers, known modes); throws `bad-input`. */
export function resolveSettings(s: Partial<MatriceSettings> = {}): MatriceSettings {
  const r: MatriceSettings = { ...DEFAULT_SETTINGS, ...stripUndefined(s) };
  for (const k of ['alpha1', 'alpha2', 'beta1', 'beta2', 'tau'] as const) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) {
      throw new KnError('bad-input', `matrice: setting ${k} must be a finite number, got ${String(r[k])}`);
    }
  }
  if (!LANG_NORMS.includes(r.norm)) {
    throw new KnError('bad-input', `matrice: setting norm must be 'language', 'neuron' or 'scale', got ${String(r.norm)}`);
  }
  if (!ATTR_NORMS.includes(r.attrNorm)) {
    throw new KnError('bad-input', `matrice: setting attrNorm must be 'layer', 'global' or 'none', got ${String(r.attrNorm)}`);
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Manipulation (Fig. 5): the paper's suppress (×0) and enhance (×2), and the factors a link or the page may set.

export const SUPPRESS_FACTOR = 0;
export const ENHANCE_FACTOR = 2;
export const FACTOR_MIN = -10;
export const FACTOR_MAX = 10;

// ---------------------------------------------------------------------------------------------------
// Experiments (docs/EXPERIMENTS.md): which facts count as known, the edit and inject settings, the knock-out sizes.

/** A fact counts as known for an experiment when at least this many of the run's languages know it (fewer languages: all). */
export const MIN_KNOWN_LANGS = 4;
/** The number of languages a fact must be known in, for a run over `langs`. */
export const minKnownLangsFor = (langs: readonly string[]): number => Math.min(MIN_KNOWN_LANGS, langs.length);

/** τ's range as the CLI and the page accept it (Eq. 12: a share of max S). */
export const TAU_MIN = 0;
export const TAU_MAX = 1;

/** The language an edit or an injection is made from (the paper edits from English). */
export const EDIT_LANG = 'en' as const;
/** Unrelated facts per edited fact (locality, Table III): the default and the limit of `--unrelated`. */
export const DEFAULT_UNRELATED = 5;
export const UNRELATED_MAX = 100;
/** `kn experiment inject`: known facts asked before and after (Q_old), and the k neurons' limit. */
export const DEFAULT_OLD_FACTS = 10;
export const OLD_FACTS_MAX = 1000;
export const INJECT_K_MAX = 100_000;

/** Knock-out sizes k: the top-k neurons by S against k random ones (a fact's suppression as k grows). */
export const KNOCKOUT_K: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64]);

// The calibration grid and its selection rule (docs/METHOD.md "Calibration").
export * from './calibration';

/** The top predictions a probe lists per query (the page's "before" and "after" columns, the explorer's views). */
export const TOP_K = 5;

// ---------------------------------------------------------------------------------------------------
// The lesson (?lesson, docs/LESSON.md): its precomputed results (public/models/<name>/lesson.json, built by
// `npm run -s lesson:build`) and the page's limits.

export const LESSON = Object.freeze({
  /** the file's format name and version (the page refuses any other) */
  format: 'kn-lesson',
  version: 1,
  /** facts precomputed per model: the featured fact (experiment.json) first, then the best known ones of these relations */
  facts: 5,
  relations: Object.freeze(['P36', 'P37', 'P176', 'P138']) as readonly string[],
  /** facts of each relation probed to find the known ones (first template per language, top-1) */
  candidates: 40,
  /** a fact is offered by the lesson when the model knows it in at least this many of the 7 languages */
  minKnownLangs: 4,
  /** the chapters (?lesson=N takes 1..chapters) */
  chapters: 8,
  /** the first chapter is drawn from the precomputed results within this time of opening ?lesson (a goal, measured by e2e/lesson.spec.ts, docs/LESSON.md) */
  firstChapterMs: 1000,
  /** the precomputed results keep this many decimals (probabilities and ΔP) */
  decimals: 4,
  /**
   * the lesson opens on the first precomputed fact whose shared neurons, switched off, change P(correct) by at least this
   * much on average (a class should see the effect; demo-masked's P36:0 moves by 0 %), else on the first fact
   */
  clearEffect: -0.1,
  /** the live sliders: τ (chapter 4, within TAU_MIN..TAU_MAX) and the scale factor (chapter 5, within FACTOR_MIN..FACTOR_MAX) */
  tauSlider: Object.freeze({ min: 0.01, max: 0.5, step: 0.01 }),
  factorSlider: Object.freeze({ min: 0, max: 3, step: 0.5 }),
});

// ---------------------------------------------------------------------------------------------------
// The neuron atlas (docs/ATLAS.md) and LAPE (Tang et al., ACL 2024, "Language-Specific Neurons").

/**
 * LAPE's rates. RUCAIBox/Language-Specific-Neurons identify.py (commit 1ec944c) sets top_rate = 0.05, filter_rate =
 * 0.95, activation_bar_ratio = 0.95; the paper keeps the 1 % of neurons with the lowest entropy, our default (the
 * issue's `--top-rate 0.01`). A neuron is kept among the lowest-entropy `top_rate` share unless no language's
 * activation probability passes the `filter_rate` quantile of all probabilities; it is specific to the languages
 * whose probability passes the `activation_bar_ratio` quantile.
 */
export const LAPE_TOP_RATE = 0.01;
export const LAPE_TOP_RATE_CODE = 0.05;
export const LAPE_FILTER_RATE = 0.95;
export const LAPE_ACTIVATION_BAR_RATIO = 0.95;

/** A LAPE rate (a share in (0, 1]); `option` names it in the refusal. */
export function checkRate(v: unknown, option: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1) throw new KnError('bad-input', `${option} must be a number in (0, 1], got ${String(v)}`);
  return v;
}

/** `kn atlas build` without --facts or --split: this many known facts (seeded, stratified by relation). */
export const ATLAS_DEFAULT_FACTS = 40;
/** A relation neuron: selected (MaTrice or AMIG) for at least this many facts of one relation. */
export const ATLAS_RELATION_MIN_FACTS = 3;
/** A shared hub: selected (MaTrice or AMIG) for facts of at least this many relations. */
export const ATLAS_HUB_MIN_RELATIONS = 3;
/** The rule behind an atlas neuron's type, in words (written into atlas.json as typeRule). */
export const ATLAS_TYPE_RULE =
  `in this order: language = LAPE-specific to one or more languages (Tang et al. 2024); hub = selected by MaTrice or AMIG for facts of ≥ ${ATLAS_HUB_MIN_RELATIONS} relations; ` +
  `relation = selected by MaTrice or AMIG for ≥ ${ATLAS_RELATION_MIN_FACTS} facts of one relation; fact = selected by MaTrice or AMIG for at least one fact; ` +
  `other = only in some language's own (per-language) set`;
/** Top activating queries kept per language on a neuron's page. */
export const ATLAS_TOP_QUERIES = 3;
/** Logit lens: promoted and suppressed tokens kept per neuron. */
export const ATLAS_LENS_K = 10;
/** Logit lens: a fact's object is listed on a neuron's page when its first token ranks within this many of the vocabulary. */
export const ATLAS_LENS_OBJECT_RANK = 50;
/** … and at most this many such objects per page (best rank first). */
export const ATLAS_LENS_OBJECTS_MAX = 20;
/** Logit-lens tokens written into the index entry (search by token). */
export const ATLAS_INDEX_TOKENS = 5;
/** An atlas above this size is too big for a static host (the build says so and offers --facts). */
export const ATLAS_STATIC_MAX_BYTES = 20 * 1024 ** 2;
/** `kn experiment lape`: known facts whose queries are measured, and the seed of Random of the same size. */
export const LAPE_EXPERIMENT_FACTS = 40;

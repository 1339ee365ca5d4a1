/**
 * Rules of the engine that the CLI, the worker and the page all read (no copies of these literals elsewhere).
 * A leaf module (it imports only the error type), so the page can read it without pulling in the engine.
 */
import { KnError } from '../../shared/errors';

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
  if (!(QUADRATURES as readonly unknown[]).includes(q)) throw new KnError('bad-input', `${option} must be one of ${QUADRATURES.join(', ')}, got "${String(q)}"`);
  return q as Quadrature;
}

/** M, the quadrature points of the IG path integral: the default and the range every entry point accepts. */
export const DEFAULT_STEPS = 20;
export const STEPS_MIN = 1;
export const STEPS_MAX = 1000;

/** Checks M; `option` names it in the refusal (e.g. "--steps", "M (steps)"). */
export function checkSteps(v: unknown, option = 'steps (M)'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < STEPS_MIN || v > STEPS_MAX) throw new KnError('bad-input', `${option} must be an integer in ${STEPS_MIN}..${STEPS_MAX}, got ${String(v)}`);
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
    throw new KnError('bad-input', `${option} "${v}": ${why}; the model has ${numLayers} layers (0..${numLayers - 1}), e.g. ${option} 0,${numLayers - 1} or ${option} 0-${numLayers - 1} or ${option} all`);
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
      const a = index(range[1]), b = index(range[2]);
      if (a > b) refuse(`the range ${t} is empty`);
      for (let l = a; l <= b; l++) out.add(l);
    } else out.add(index(t));
  }
  return [...out].sort((a, b) => a - b);
}

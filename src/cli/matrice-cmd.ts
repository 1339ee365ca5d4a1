/** CLI: `kn attribute` (one query) and `kn localize` (a fact of RML-LAMA across languages). */
import { KnError } from '../shared/errors';
import * as rules from '../engine/rules';
import { Estimator } from '../engine/experiments';
import { attributeQuery, choosePath, completenessError, type Quadrature } from '../engine/attribution';
import { METHODS, withAllLayers, type Method } from '../engine/interventions';
import { coverageMean, languageCoverage, normalizePerLayer, resolveSettings, type AttrNorm, type LangNorm, type NeuronId } from '../engine/selection';
import { FactSession, type ConvergenceCheck } from '../engine/session';
import { modelDefaults } from '../engine/selection';
import type { LoadedModel } from '../engine/families';
import { FolderStore } from '../engine/node';
import { openLocal } from '../data/node';
import { int, str, type Args } from './args';
import { ATTRIBUTION_CACHE, langsArg, quadratureArg } from './flow';

// the run commands' flags and cache, where scripts and tests found them before cli/flow.ts
export { ATTRIBUTION_CACHE, langsArg, quadratureArg };

function num(a: Args, k: string, lo: number, hi: number, fallback?: number): number | undefined {
  const v = str(a, k);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new KnError('bad-input', `--${k} must be a number in ${lo}..${hi}, got "${v}"`);
  return n;
}

function baselineArg(a: Args): rules.Baseline {
  return rules.checkBaseline(str(a, 'baseline') ?? rules.DEFAULT_BASELINE, '--baseline');
}

/** What the convergence check means for the user, in one sentence (null when no query was flagged). */
export function convergenceNote(c: ConvergenceCheck, steps: number, quadrature: Quadrature): string | null {
  if (c.flagged === 0 || !c.finer) return null;
  const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
  const what = `${c.flagged} of ${c.queries} queries have an IG completeness error above ${pct(c.flag)} of P(correct) with ${quadrature} M = ${steps} (worst ${pct(c.worstBefore)})`;
  const finer = `${c.finer.quadrature} M = ${c.finer.steps}`;
  return c.same
    ? `${what}; re-attributed with ${finer} (worst ${pct(c.worstAfter ?? 0)}) they select the same ${c.before.length} neuron(s), so the conclusion stands`
    : `${what}; re-attributed with ${finer} the selection changes (${c.before.length} → ${c.after.length} neurons, Jaccard ${c.jaccard.toFixed(2)}): localize with --quadrature ${c.finer.quadrature} --steps ${c.finer.steps}`;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** `--layers` checked against the model (rules.ts parseLayers); undefined when not given (every layer). */
export function layersArg(a: Args, model: LoadedModel): number[] | undefined {
  const v = str(a, 'layers');
  return v === undefined ? undefined : rules.parseLayers(v, model.cfg.numLayers);
}

/**
 * Progress of a long attribution on stderr (stdout stays one JSON object): after CLI_PROGRESS_MS and then
 * every CLI_PROGRESS_MS, units done of total and the time left (engine/experiments/estimate.ts).
 */
export function progressLine(what: string, write: (s: string) => void = (s) => process.stderr.write(s)) {
  const t0 = performance.now();
  const est = new Estimator();
  let next = rules.CLI_PROGRESS_MS;
  const fmt = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);
  return (done: number, total: number, unit: string) => {
    const elapsed = performance.now() - t0;
    const eta = est.update({ elapsedMs: elapsed, finished: done, total });
    if (elapsed < next) return;
    next = elapsed + rules.CLI_PROGRESS_MS;
    write(
      `kn: ${what}: ${done.toFixed(done % 1 ? 1 : 0)}/${total} ${unit}, ${fmt(elapsed)} elapsed, ${eta === null ? 'estimating time left' : `about ${fmt(eta)} left`}\n`,
    );
  };
}

export async function runAttribute(a: Args, model: LoadedModel) {
  const prompt = str(a, 'prompt'),
    target = str(a, 'target');
  if (prompt === undefined) throw new KnError('bad-input', '--prompt is required');
  if (target === undefined) throw new KnError('bad-input', '--target is required');
  const steps = Number(str(a, 'steps') ?? rules.DEFAULT_STEPS);
  const layers = layersArg(a, model);
  const progress = progressLine('attribution');
  const path = choosePath(model, layers ?? Array.from({ length: model.cfg.numLayers }, (_, l) => l));
  const t0 = performance.now();
  const r = await attributeQuery(model, prompt, target, {
    steps,
    baseline: baselineArg(a),
    quadrature: quadratureArg(str(a, 'quadrature')),
    layers,
    onProgress: (d, t) => progress(d, t, 'interpolation points'),
  });
  const seconds = Math.round((performance.now() - t0) / 10) / 100;
  // layers left out (--layers) stay empty in both
  const scores = normalizePerLayer(withAllLayers(model, r.raw)).scores.map((s, l) => (r.raw[l].length ? s : new Float64Array(0)));
  return {
    ids: r.ids,
    position: r.position,
    targetId: r.targetId,
    steps: r.steps,
    baseline: r.baseline,
    quadrature: r.quadrature,
    layers: r.layers,
    raw: r.raw.map((l) => Array.from(l, round)),
    scores: scores.map((l) => Array.from(l, round)),
    pTarget: r.pFull,
    completeness: completenessError(r),
    /** 'fast', or 'streamed' (layer by layer) when the fast path's float32 weights would not fit */
    path,
    seconds,
  };
}

/** The fields that were given (a flag left out keeps the model's default, not METHOD's). */
const definedOnly = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

const nullIfNaN = (x: number) => (Number.isFinite(x) ? x : null);

export async function runLocalize(a: Args, model: LoadedModel) {
  const relation = str(a, 'relation'),
    fact = str(a, 'fact');
  if (!fact) throw new KnError('bad-input', '--fact is required (e.g. --relation P36 --fact 0, or --fact P36:0)');
  const method = (str(a, 'method') ?? 'matrice') as Method;
  if (!METHODS.includes(method)) throw new KnError('bad-input', `--method must be one of ${METHODS.join(', ')}, got "${method}"`);
  const factId = fact.includes(':') ? fact : `${relation}:${fact}`;
  if (relation && !factId.startsWith(relation + ':')) throw new KnError('bad-input', `fact "${fact}" is not in relation ${relation}`);
  // the model's calibrated settings when its folder has them (calibration.json), else METHOD's; flags override
  const defaults = modelDefaults(model.info);
  const settings = resolveSettings({
    ...defaults.settings,
    ...definedOnly({
      tau: num(a, 'tau', rules.TAU_MIN, rules.TAU_MAX),
      alpha1: num(a, 'alpha1', -1e6, 1e6),
      alpha2: num(a, 'alpha2', -1e6, 1e6),
      beta1: num(a, 'beta1', -1e6, 1e6),
      beta2: num(a, 'beta2', -1e6, 1e6),
      ...(str(a, 'norm') ? { norm: str(a, 'norm') as LangNorm } : {}),
      ...(str(a, 'attr-norm') ? { attrNorm: str(a, 'attr-norm') as AttrNorm } : {}),
    }),
  });
  const steps = int(a, 'steps', rules.STEPS_MIN, rules.STEPS_MAX, rules.DEFAULT_STEPS)!;
  const quadrature = quadratureArg(str(a, 'quadrature'));
  const layers = layersArg(a, model);
  const session = await FactSession.open(model, await openLocal(), factId, langsArg(a));
  const store = a['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE);
  const t0 = performance.now();
  const progress = progressLine('localize');
  const attributed = await session.localize({
    steps,
    baseline: baselineArg(a),
    quadrature,
    store,
    layers,
    onProgress: (p) => progress(p.queriesDone + (p.pointsTotal ? p.pointsDone / p.pointsTotal : 0), p.queriesTotal, 'queries'),
  });
  const seconds = (performance.now() - t0) / 1000;
  const seed = int(a, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED);
  const sel = session.select(method, settings, seed);
  // does the quadrature's error change the selection? queries above the completeness flag re-attributed finer
  const convergence =
    a['no-recheck'] || method === 'random' ? null : await session.checkConvergence({ method, settings, seed, store, baseline: baselineArg(a) });
  // how language-agnostic the set is: per neuron, the languages whose own selection (same settings) holds it
  const coverage = languageCoverage(sel.neurons, session.selectPerLanguage(settings) as Record<string, NeuronId[]>);
  const suppress = (await session.manipulate(sel.neurons, 0)).languages;
  const enhance = (await session.manipulate(sel.neurons, 2)).languages;
  const languages: Record<string, unknown> = {};
  for (const l of Object.keys(suppress)) {
    languages[l] = {
      queries: suppress[l].n,
      known: suppress[l].correctBefore,
      before: suppress[l].before,
      suppressed: suppress[l].after,
      enhanced: enhance[l].after,
      // docs/METHOD.md: mean ΔP over the queries the model knew before; null when it knew none
      deltaP_suppress: nullIfNaN(suppress[l].deltaP),
      deltaP_enhance: nullIfNaN(enhance[l].deltaP),
      // share of the known queries whose top-1 answer is no longer the target once suppressed
      flipRate: nullIfNaN(suppress[l].flipRate),
    };
  }
  return {
    fact: factId,
    method,
    defaults: { source: defaults.source, note: defaults.note },
    tau: settings.tau,
    alpha1: settings.alpha1,
    alpha2: settings.alpha2,
    beta1: settings.beta1,
    beta2: settings.beta2,
    norm: settings.norm,
    attrNorm: settings.attrNorm,
    steps,
    quadrature,
    ...(layers ? { layers } : {}),
    neurons: sel.neurons,
    scores: sel.scores,
    coverage,
    coverageMean: coverageMean(coverage),
    threshold: sel.threshold,
    languages,
    queries: attributed.length,
    skipped: session.skipped,
    cachedQueries: attributed.filter((q) => q.cached).length,
    seconds: Math.round(seconds * 100) / 100,
    maxCompletenessError: Math.max(...attributed.map((q) => q.completeness.maxAbs)),
    convergence: convergence && { ...convergence, note: convergenceNote(convergence, steps, quadrature) },
  };
}

/**
 * `kn experiment manipulate|readings|report|merge`: the benchmark-scale runner in Node, NDJSON on disk.
 *
 *   <out>/meta.json      what was run (model hash, settings, seed, languages, methods, the picked facts, shard)
 *   <out>/rows.ndjson    one line per finished fact (written whole, after the fact; a re-run skips them)
 *   <out>/timing.ndjson  wall time per fact (kept apart so rows are byte-identical across machines/shards)
 *   <out>/report/        report.md, CSVs and SVG charts (`kn experiment report <out>`)
 */
import { KnError } from '../shared/errors';
import * as rules from '../engine/rules';
import {
  DEFAULT_METHODS,
  MANIPULATE,
  manipulationMeta,
  metaMismatch,
  parseMethodSpec,
  parseShard,
  reproduceCommand,
  rowProblem,
  runMethodSpecs,
  type ExperimentMeta,
  type FactRow,
  type FactTiming,
} from '../engine/experiments';
import { reportFiles, summarize } from '../engine/report';
import { intOpt, parseCli } from './args';
import { langsArg, quadratureArg, relationsArg, resultsKindOf, runFlow, runSettings, type Loader } from './flow';
import { JOBS_OPTION, jobsArg, type CliContext } from './jobs';
import * as results from './results';

const RUN_OPTIONS = {
  ...results.EXPERIMENT_OPTIONS,
  ...results.WEIGHT_OPTIONS,
  quadrature: { type: 'string' },
  ...JOBS_OPTION,
} as const;

// ------------------------------------------------------------------------------------------- files (results.ts)

const MANIPULATION = resultsKindOf<ExperimentMeta, FactRow>(
  MANIPULATE,
  (m) => (m.experiment !== 'manipulate' || !Array.isArray(m.facts) || !m.model ? 'not a manipulation experiment' : null),
  (meta, rows, timings, problems) => {
    const summary = summarize(meta, rows, timings, problems);
    return { summary, files: reportFiles(summary, reproduceCommand(meta)) };
  },
);

export type ReadRows = results.ResultRows<FactRow, FactTiming>;

/** Reads the NDJSON rows of a results folder; corrupt or foreign lines are skipped and reported, never fatal. */
export const readRows = (dir: string, meta: ExperimentMeta): Promise<ReadRows> => MANIPULATION.readRows(dir, meta);

export const readMeta = (dir: string): Promise<ExperimentMeta> => MANIPULATION.readMeta(dir);

/** NDJSON sink of the manipulation rows (results.ts). */
export class NdjsonSink extends results.NdjsonRowSink<FactRow, FactTiming> {
  constructor(
    dir: string,
    readonly meta: ExperimentMeta,
  ) {
    super(dir, (r) => rowProblem(r, meta));
  }
}

// ------------------------------------------------------------------------------------------- commands

export async function runExperiment(kind: 'manipulate' | 'readings', argv: string[], load: Loader, ctx?: CliContext) {
  const { values: v } = parseCli(argv, RUN_OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const relations = relationsArg(v.relations);
  const specs = runMethodSpecs(kind, (v.methods ?? DEFAULT_METHODS.join(',')).split(','));
  const shard = v.shard ? parseShard(v.shard) : null;
  const jobs = jobsArg(v.jobs, !!shard, ctx);
  const nFacts = intOpt(v.facts, 'facts', rules.FACTS_MIN, rules.FACTS_MAX, rules.DEFAULT_FACTS[kind]);
  const seed = intOpt(v.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED);
  const steps = intOpt(v.steps, 'steps', rules.STEPS_MIN, rules.STEPS_MAX, rules.DEFAULT_STEPS);
  const baseline = rules.checkBaseline(v.baseline ?? rules.DEFAULT_BASELINE, '--baseline');
  const quadrature = quadratureArg(v.quadrature);
  const tau = v.tau === undefined ? undefined : Number(v.tau);
  if (tau !== undefined && !(Number.isFinite(tau) && tau >= rules.TAU_MIN && tau <= rules.TAU_MAX))
    throw new KnError('bad-input', `--tau must be a number in ${rules.TAU_MIN}..${rules.TAU_MAX}, got "${v.tau}"`);
  const weights = results.weightFlags(v);
  let candidates: string[] | undefined;
  return runFlow(
    { argv, v, out, jobs, load, ctx },
    {
      sub: kind,
      note: true,
      kind: MANIPULATION,
      plugin: MANIPULATE,
      options: () => ({ methods: specs }),
      label: 'fact',
      what: 'results of another run',
      fresh: async (model, arg) => {
        candidates = await results.splitCandidates(arg, v.split);
        return manipulationMeta(model, {
          id: arg,
          specs,
          settings: runSettings(model, v, weights, tau),
          steps,
          baseline,
          quadrature,
          seed,
          langs,
          facts: nFacts,
          relations,
          split: v.split ?? null,
          shard,
        });
      },
      resumable: (old, base) => metaMismatch({ ...old, facts: [] }, base),
      pick: async (model, base, signal, print) => ({
        ...base,
        facts: await results.pickKnownFacts(model, { facts: nFacts, relations, langs, seed, candidates, signal }, print),
      }),
      done: (meta, r) => ({
        out,
        facts: meta.facts.length,
        shard: meta.shard,
        written: r.written,
        skipped: r.skipped,
        ...(r.jobs !== undefined ? { jobs: r.jobs } : {}),
      }),
    },
  );
}

export const runReport = (argv: string[]) => results.runReportCommand(argv, MANIPULATION);
export const runMerge = (argv: string[]) => results.runMergeCommand(argv, MANIPULATION);

/** The command line that reproduces a run (printed in its report): engine/experiments/commands.ts, shared with the page. */
export { reproduceCommand, parseMethodSpec };

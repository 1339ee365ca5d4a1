/**
 * `kn experiment manipulate|readings|report|merge`: the benchmark-scale runner in Node, NDJSON on disk.
 *
 *   <out>/meta.json      what was run (model hash, settings, seed, languages, methods, the picked facts, shard)
 *   <out>/rows.ndjson    one line per finished fact (written whole, after the fact; a re-run skips them)
 *   <out>/timing.ndjson  wall time per fact (kept apart so rows are byte-identical across machines/shards)
 *   <out>/report/        report.md, CSVs and SVG charts (`kn experiment report <out>`)
 */
import { openLocal } from '../data/node';
import { RELATIONS, type Relation } from '../data/types';
import { KnError } from '../shared/errors';
import { checkBaseline, DEFAULT_BASELINE, DEFAULT_FACTS, DEFAULT_SEED, DEFAULT_STEPS, FACTS_MAX, FACTS_MIN, SEED_MAX, SEED_MIN, STEPS_MAX, STEPS_MIN } from '../engine/rules';
import type { LoadedModel } from '../engine/families';
import {
  DEFAULT_METHODS,
  makeMeta,
  metaMismatch,
  parseMethodSpec,
  parseShard,
  readingSpecs,
  rowProblem,
  runManipulation,
  type ExperimentMeta,
  type FactRow,
  type FactTiming,
  type MethodSpec,
} from '../engine/experiments';
import { reportFiles, summarize } from '../engine/report';
import { FolderStore } from '../engine/node';
import { modelDefaults } from '../engine/selection';
import * as tf from '@tensorflow/tfjs';
import { intOpt, parseCli } from './args';
import { JOBS_OPTION, jobsArg, jobsFor, runJobs, type CliContext } from './jobs';
import { reproduceCommand } from '../engine/experiments';
import { ATTRIBUTION_CACHE, langsArg, quadratureArg } from './matrice-cmd';
import { EXPERIMENT_OPTIONS, factProgressLine, NdjsonRowSink, pickOrResume, progressPrinter, readResultRows, readResultsMeta, runMergeCommand, runReportCommand, pickKnownFacts, splitCandidates, weightFlags, withSigint, type ResultRows, type ResultsKind } from './results';

const RUN_OPTIONS = {
  ...EXPERIMENT_OPTIONS,
  alpha1: { type: 'string' },
  alpha2: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  quadrature: { type: 'string' },
  ...JOBS_OPTION,
} as const;

// ------------------------------------------------------------------------------------------- files (results.ts)

export type ReadRows = ResultRows<FactRow, FactTiming>;

/** Reads the NDJSON rows of a results folder; corrupt or foreign lines are skipped and reported, never fatal. */
export const readRows = (dir: string, meta: ExperimentMeta): Promise<ReadRows> => readResultRows<FactRow, FactTiming>(dir, (r) => rowProblem(r, meta));

export const readMeta = (dir: string): Promise<ExperimentMeta> =>
  readResultsMeta<ExperimentMeta>(dir, (m) => (m.experiment !== 'manipulate' || !Array.isArray(m.facts) || !m.model ? 'not a manipulation experiment' : null));

/** NDJSON sink of the manipulation rows (results.ts). */
export class NdjsonSink extends NdjsonRowSink<FactRow, FactTiming> {
  constructor(
    dir: string,
    readonly meta: ExperimentMeta,
  ) {
    super(dir, (r) => rowProblem(r, meta));
  }
}

// ------------------------------------------------------------------------------------------- commands

export async function runExperiment(kind: 'manipulate' | 'readings', argv: string[], load: (arg: string | undefined, dtype: string | undefined) => Promise<{ model: LoadedModel; arg: string }>, ctx?: CliContext) {
  const { values: v } = parseCli(argv, RUN_OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const relations = (v.relations ? v.relations.split(',').map((s) => s.trim()) : []) as Relation[];
  for (const r of relations) if (!(RELATIONS as readonly string[]).includes(r)) throw new KnError('bad-input', `unknown relation "${r}"; one of ${RELATIONS.join(', ')}`);
  const specs: MethodSpec[] = kind === 'readings' ? readingSpecs() : (v.methods ?? DEFAULT_METHODS.join(',')).split(',').map(parseMethodSpec);
  if (new Set(specs.map((s) => s.key)).size !== specs.length) throw new KnError('bad-input', '--methods lists a method twice');
  if (kind === 'manipulate' && !specs.some((s) => s.key === 'matrice')) specs.unshift(parseMethodSpec('matrice'));
  const shard = v.shard ? parseShard(v.shard) : null;
  const jobs = jobsArg(v.jobs, !!shard, ctx);
  const nFacts = intOpt(v.facts, 'facts', FACTS_MIN, FACTS_MAX, DEFAULT_FACTS[kind]);
  const seed = intOpt(v.seed, 'seed', SEED_MIN, SEED_MAX, DEFAULT_SEED);
  const steps = intOpt(v.steps, 'steps', STEPS_MIN, STEPS_MAX, DEFAULT_STEPS);
  const baseline = checkBaseline(v.baseline ?? DEFAULT_BASELINE, '--baseline');
  const quadrature = quadratureArg(v.quadrature);
  const tau = v.tau === undefined ? undefined : Number(v.tau);
  if (tau !== undefined && !(Number.isFinite(tau) && tau >= 0 && tau <= 1)) throw new KnError('bad-input', `--tau must be a number in 0..1, got "${v.tau}"`);
  const weights = weightFlags(v);
  const { model, arg } = await load(v.model, v.dtype);
  const print = progressPrinter(!!v.quiet);
  print(`kn: ${modelDefaults(model.info).note}`, true);
  try {
    return await withSigint(print, async (signal) => {
      const candidates = await splitCandidates(arg, v.split);
      const base = makeMeta({
        model: { id: arg, contentHash: model.info.contentHash, dtype: model.info.dtype, kind: model.info.kind, numLayers: model.cfg.numLayers, ffnSize: model.cfg.ffn },
        // the model's calibrated settings (calibration.json) unless flags say otherwise; the meta records them all
        settings: { ...modelDefaults(model.info).settings, ...weights, ...(tau !== undefined ? { tau } : {}), ...(v.norm ? { norm: v.norm as never } : {}), ...(v['attr-norm'] ? { attrNorm: v['attr-norm'] as never } : {}) },
        steps,
        baseline,
        quadrature,
        seed,
        langs,
        methods: specs.map((s) => s.key),
        facts: [],
        request: { facts: nFacts, relations, split: v.split ?? null, minKnownLangs: Math.min(4, langs.length) },
        shard,
      });
      const meta: ExperimentMeta = await pickOrResume(out, {
        read: readMeta,
        mismatch: (old) => metaMismatch({ ...old, facts: [] }, base),
        what: 'results of another run',
        print,
        pick: async () => ({ ...base, facts: await pickKnownFacts(model, { facts: nFacts, relations, langs, seed, candidates, signal }, print) }),
      });
      // --jobs N: N child processes run the shards and the parent merges them (jobs.ts); the model is theirs to load
      const n = jobsFor(jobs, meta.facts.length, print);
      if (n > 1) {
        const backend = tf.getBackend();
        model.dispose();
        const r = await runJobs({ sub: kind, argv, out, jobs: n, meta, readRows, print, signal, label: 'fact', backend, ctx });
        return { out, facts: meta.facts.length, shard: meta.shard, written: r.written, skipped: r.skipped, jobs: r.jobs };
      }
      const r = await runManipulation({
        model,
        bench: await openLocal(),
        meta,
        methods: specs,
        sink: new NdjsonSink(out, meta),
        store: v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE),
        signal,
        onProgress: (p) => print(factProgressLine('fact', p), p.etaMs === 0),
      });
      return { out, facts: meta.facts.length, shard: meta.shard, written: r.written, skipped: r.skipped };
    });
  } finally {
    model.dispose();
  }
}

const MANIPULATION: ResultsKind<ExperimentMeta, FactRow, FactTiming> = {
  readMeta,
  readRows,
  mismatch: (a, b) => metaMismatch(a, b, true),
  report: (meta, rows, timings, problems) => {
    const summary = summarize(meta, rows, timings, problems);
    return { summary, files: reportFiles(summary, reproduceCommand(meta)) };
  },
};

export const runReport = (argv: string[]) => runReportCommand(argv, MANIPULATION);
export const runMerge = (argv: string[]) => runMergeCommand(argv, MANIPULATION);

/** The command line that reproduces a run (printed in its report): engine/experiments/commands.ts, shared with the page. */
export { reproduceCommand };


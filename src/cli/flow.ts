/**
 * The one flow of every `kn experiment <run>` command (manipulate, readings, edit, enhance, inject, calibrate):
 * load the model, pick the facts or resume the folder (pickOrResume), then either N shard processes merged
 * into the folder (--jobs, jobs.ts) or the runner core here (engine/experiments/core.ts) writing NDJSON rows;
 * and what each kind's report and merge read (resultsKindOf). The commands bring their flags and their meta.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openLocal } from '../data/node';
import { LANGS, type Lang, type Relation } from '../data/types';
import { checkLang, checkRelation } from '../engine/rules';
import { checkQuadrature, DEFAULT_QUADRATURE, type Quadrature } from '../engine/attribution';
import { runPlugin, type ExperimentPlugin, type FactRowBase, type FactTiming, type RunProgress, type ShardedMeta } from '../engine/experiments';
import type { LoadedModel } from '../engine/families';
import { FolderStore, REPO_ROOT } from '../engine/node';
import { modelDefaults, type MatriceSettings } from '../engine/selection';
import { str, type Args } from './args';
import { jobsFor, runJobs, type CliContext } from './jobs';
import {
  factProgressLine,
  NdjsonRowSink,
  pickOrResume,
  progressPrinter,
  readResultRows,
  readResultsMeta,
  withSigint,
  type Printer,
  type ResultsKind,
} from './results';

export const ATTRIBUTION_CACHE = process.env.KN_CACHE_DIR ?? join(REPO_ROOT, '.cache', 'attributions');

/** How a run command loads its model: the --model argument (or the demo model) and --dtype. */
export type Loader = (arg: string | undefined, dtype: string | undefined) => Promise<{ model: LoadedModel; arg: string }>;

/** `--quadrature` (default DEFAULT_QUADRATURE), refused with the allowed values otherwise. */
export function quadratureArg(value: string | undefined): Quadrature {
  return checkQuadrature(value ?? DEFAULT_QUADRATURE, '--quadrature');
}

export function langsArg(a: Args): Lang[] {
  const v = str(a, 'langs');
  if (!v) return [...LANGS];
  const ls = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const l of ls) checkLang(l);
  return ls as Lang[];
}

/** `--relations P36,P1376,…` (none: every relation). */
export function relationsArg(v: string | undefined): Relation[] {
  const relations = (v ? v.split(',').map((s) => s.trim()) : []) as Relation[];
  for (const r of relations) checkRelation(r);
  return relations;
}

/** The selection settings of a run: the model's calibrated ones (calibration.json) unless flags say otherwise. */
export function runSettings(
  model: LoadedModel,
  v: { norm?: string; 'attr-norm'?: string },
  weights: Partial<MatriceSettings>,
  tau: number | undefined,
): Partial<MatriceSettings> {
  return {
    ...modelDefaults(model.info).settings,
    ...weights,
    ...(tau !== undefined ? { tau } : {}),
    ...(v.norm ? { norm: v.norm as never } : {}),
    ...(v['attr-norm'] ? { attrNorm: v['attr-norm'] as never } : {}),
  };
}

/** What report and merge read of a kind of results folder: its meta check, the plugin's row check and comparison, its report. */
export function resultsKindOf<M extends ShardedMeta & { facts: string[]; shard: { k: number; n: number } | null }, R extends FactRowBase>(
  plugin: ExperimentPlugin<M, R, never>,
  metaProblem: (m: M) => string | null,
  report: ResultsKind<M, R, FactTiming>['report'],
): ResultsKind<M, R, FactTiming> {
  return {
    readMeta: (dir) => readResultsMeta<M>(dir, metaProblem),
    readRows: (dir, meta) => readResultRows<R, FactTiming>(dir, (r) => plugin.rowProblem(r, meta)),
    mismatch: (a, b) => plugin.mismatch(a, b, true),
    report,
  };
}

/** The command line of a run: its argv and parsed flags, the results folder, --jobs, the model loader. */
export interface RunCli {
  argv: string[];
  v: { quiet?: boolean; 'no-cache'?: boolean; model?: string; dtype?: string };
  out: string;
  jobs: number;
  load: Loader;
  ctx?: CliContext;
}

export interface RunFlow<M extends ShardedMeta & { facts: string[]; shard: { k: number; n: number } | null }, R extends FactRowBase, O, T> {
  /** the jobs' subcommand (`kn experiment <sub>` in each child) */
  sub: string;
  /** print the model's selection defaults (calibration.json or METHOD's) first */
  note: boolean;
  kind: ResultsKind<M, R, FactTiming>;
  plugin: ExperimentPlugin<M, R, O>;
  /** the plugin's run options beside the core's (e.g. the manipulation's method specs) */
  options: (meta: M) => O;
  /** the progress line's label */
  label: string;
  /** the --jobs progress label (default: label) */
  jobsLabel?: string;
  /** what a folder of a mismatching run holds (pickOrResume's message) */
  what: string;
  /** the meta the flags make on the loaded model, facts still empty */
  fresh: (model: LoadedModel, arg: string) => M | Promise<M>;
  /** why a folder's meta (its picked facts aside) cannot be resumed by this run, or null */
  resumable: (old: M, fresh: M) => string | null;
  /** the fresh meta with the facts picked */
  pick: (model: LoadedModel, fresh: M, signal: AbortSignal, print: Printer) => Promise<M>;
  /** what the command returns once the rows are written (or the shards merged) */
  done: (meta: M, r: { written: number; skipped: number; jobs?: number }) => T | Promise<T>;
}

/** The flow of a run command: load, pick or resume, run (here or in --jobs processes), report what was done. */
export async function runFlow<M extends ShardedMeta & { facts: string[]; shard: { k: number; n: number } | null }, R extends FactRowBase, O, T>(
  cli: RunCli,
  f: RunFlow<M, R, O, T>,
): Promise<T> {
  const { model, arg } = await cli.load(cli.v.model, cli.v.dtype);
  const print = progressPrinter(!!cli.v.quiet);
  if (f.note) print(`kn: ${modelDefaults(model.info).note}`, true);
  try {
    return await withSigint(print, async (signal) => {
      const base = await f.fresh(model, arg);
      const meta: M = await pickOrResume(cli.out, {
        read: f.kind.readMeta,
        mismatch: (old) => f.resumable(old, base),
        what: f.what,
        print,
        pick: () => f.pick(model, base, signal, print),
      });
      // --jobs N: N child processes run the shards and the parent merges them (jobs.ts); the model is theirs to load
      const n = jobsFor(cli.jobs, meta.facts.length, print);
      if (n > 1) {
        const backend = tf.getBackend();
        model.dispose();
        const r = await runJobs({
          sub: f.sub,
          argv: cli.argv,
          out: cli.out,
          jobs: n,
          meta,
          readRows: f.kind.readRows,
          print,
          signal,
          label: f.jobsLabel ?? f.label,
          backend,
          ctx: cli.ctx,
        });
        return f.done(meta, r);
      }
      const r = await runPlugin<M, R, O, RunProgress>(f.plugin, {
        model,
        bench: await openLocal(),
        meta,
        ...f.options(meta),
        sink: new NdjsonRowSink<R, FactTiming>(cli.out, (x) => f.plugin.rowProblem(x, meta)),
        store: cli.v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE),
        signal,
        onProgress: (p) => print(factProgressLine(f.label, p), p.etaMs === 0),
      });
      return f.done(meta, r);
    });
  } finally {
    model.dispose();
  }
}

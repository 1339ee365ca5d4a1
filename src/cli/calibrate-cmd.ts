/**
 * `kn experiment calibrate [--model <m>] [--split dev] [--facts N] [--grid-alpha2 0,0.5,1] [--grid-beta2 …]
 * [--grid-tau …] --out <dir>`: the grid of engine/experiments/calibrate.ts over dev facts the model knows, in the
 * results folder every experiment shares (meta.json, rows.ndjson, timing.ndjson; a re-run resumes), then
 * <out>/report/: report.md (frontier table, the rule, the chosen setting), frontier.csv, frontier.svg and
 * calibration.json (the block a model card carries).
 */
import { LEGACY_QUADRATURE } from '../engine/attribution';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openLocal } from '../data/node';
import { KnError } from '../shared/errors';
import { checkBaseline, DEFAULT_BASELINE, DEFAULT_FACTS, DEFAULT_SEED, DEFAULT_STEPS, FACTS_MAX, FACTS_MIN, SEED_MAX, SEED_MIN, STEPS_MAX, STEPS_MIN } from '../engine/rules';
import type { LoadedModel } from '../engine/families';
import { resolveSettings } from '../engine/selection';
import { calibrateCommand, calibrationMismatch, calibrationFiles, calibrationRowProblem, CALIBRATION_VERSION, parseGrid, runCalibration, summarizeCalibration, type CalibrationMeta, type CalibrationRow } from '../engine/experiments';
import type { FactTiming } from '../engine/experiments';
import { FolderStore } from '../engine/node';
import * as tf from '@tensorflow/tfjs';
import { intOpt, parseCli } from './args';
import { JOBS_OPTION, jobsArg, jobsFor, runJobs, type CliContext } from './jobs';
import { parseShard } from '../engine/experiments';
import { ATTRIBUTION_CACHE, langsArg, quadratureArg } from './matrice-cmd';
import { factProgressLine, NdjsonRowSink, pickOrResume, progressPrinter, readResultRows, readResultsMeta, runMergeCommand, runReportCommand, pickKnownFacts, splitCandidates, withSigint, type ResultsKind } from './results';

const OPTIONS = {
  model: { type: 'string' },
  dtype: { type: 'string' },
  facts: { type: 'string' },
  langs: { type: 'string' },
  split: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  baseline: { type: 'string' },
  quadrature: { type: 'string' },
  norm: { type: 'string' },
  'attr-norm': { type: 'string' },
  'grid-alpha2': { type: 'string' },
  'grid-beta2': { type: 'string' },
  'grid-tau': { type: 'string' },
  shard: { type: 'string' },
  ...JOBS_OPTION,
  out: { type: 'string' },
  'no-cache': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export const readCalibrationMeta = (dir: string) =>
  readResultsMeta<CalibrationMeta>(dir, (m) => (m.experiment !== 'calibrate' || !Array.isArray(m.facts) || !m.grid ? 'not a calibration run' : null));

const readRows = (dir: string, meta: CalibrationMeta) => readResultRows<CalibrationRow, FactTiming>(dir, (r) => calibrationRowProblem(r, meta));

/** The command line that reproduces a calibration (engine/experiments/calibrate.ts: the page's run writes the same). */
export { calibrateCommand };

const mismatch = calibrationMismatch;

const KIND: ResultsKind<CalibrationMeta, CalibrationRow, FactTiming> = {
  readMeta: readCalibrationMeta,
  readRows,
  mismatch,
  report: (meta, rows, _t, problems) => {
    const summary = summarizeCalibration(meta, rows, problems);
    return { summary, files: calibrationFiles(meta, summary, calibrateCommand(meta)) };
  },
};

export const runCalibrationReport = (argv: string[]) => runReportCommand(argv, KIND);
/** `kn experiment merge <calibration shard dir>… --out <dir>` (then `kn experiment report <dir>` writes calibration.json). */
export const runCalibrationMerge = (argv: string[]) => runMergeCommand(argv, KIND);

export async function runCalibrate(argv: string[], load: (arg: string | undefined, dtype: string | undefined) => Promise<{ model: LoadedModel; arg: string }>, ctx?: CliContext) {
  const { values: v } = parseCli(argv, OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  if (v.split === 'test') throw new KnError('bad-input', '--split test: calibration never sees the test split (it judges the chosen settings); use --split dev');
  const shard = v.shard ? parseShard(v.shard) : null;
  const jobs = jobsArg(v.jobs, !!shard, ctx);
  const grid = parseGrid({ alpha2: v['grid-alpha2'], beta2: v['grid-beta2'], tau: v['grid-tau'] });
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const nFacts = intOpt(v.facts, 'facts', FACTS_MIN, FACTS_MAX, DEFAULT_FACTS.calibrate);
  const seed = intOpt(v.seed, 'seed', SEED_MIN, SEED_MAX, DEFAULT_SEED);
  const steps = intOpt(v.steps, 'steps', STEPS_MIN, STEPS_MAX, DEFAULT_STEPS);
  const baseline = checkBaseline(v.baseline ?? DEFAULT_BASELINE, '--baseline');
  const quadrature = quadratureArg(v.quadrature);
  const base = resolveSettings({ ...(v.norm ? { norm: v.norm as never } : {}), ...(v['attr-norm'] ? { attrNorm: v['attr-norm'] as never } : {}) });
  const { model, arg } = await load(v.model, v.dtype);
  const print = progressPrinter(!!v.quiet);
  try {
    return await withSigint(print, async (signal) => {
      // a bundled model calibrates on its dev split unless told otherwise
      const split = v.split ?? (/^bundled:/.test(arg) ? 'dev' : undefined);
      const candidates = await splitCandidates(arg, split);
      const fresh: CalibrationMeta = {
        v: CALIBRATION_VERSION,
        experiment: 'calibrate',
        model: { id: arg, contentHash: model.info.contentHash, dtype: model.info.dtype, kind: model.info.kind, numLayers: model.cfg.numLayers, ffnSize: model.cfg.ffn },
        base,
        grid,
        steps,
        baseline,
        // recorded unless it is the legacy rule (folders written before the option have none)
        ...(quadrature !== LEGACY_QUADRATURE ? { quadrature } : {}),
        seed,
        langs,
        facts: [],
        request: { facts: nFacts, split: split ?? null, minKnownLangs: Math.min(4, langs.length) },
        shard,
      };
      const meta: CalibrationMeta = await pickOrResume(out, {
        read: readCalibrationMeta,
        mismatch: (old) => mismatch(old, fresh) ?? (JSON.stringify(old.shard ?? null) !== JSON.stringify(shard) ? `shard (${JSON.stringify(old.shard ?? null)} vs ${JSON.stringify(shard)})` : null),
        what: 'another calibration',
        print,
        pick: async () => ({ ...fresh, facts: await pickKnownFacts(model, { facts: nFacts, langs, seed, candidates, signal }, print) }),
      });
      // --jobs N: N child processes run the shards and the parent merges them (jobs.ts), then reports as below
      const n = jobsFor(jobs, meta.facts.length, print);
      let r: { written: number; skipped: number };
      if (n > 1) {
        const backend = tf.getBackend();
        model.dispose();
        r = await runJobs({ sub: 'calibrate', argv, out, jobs: n, meta, readRows, print, signal, label: 'calibration fact', backend, ctx });
      } else {
        r = await runCalibration({
          model,
          bench: await openLocal(),
          meta,
          sink: new NdjsonRowSink<CalibrationRow, FactTiming>(out, (x) => calibrationRowProblem(x, meta)),
          store: v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE),
          signal,
          onProgress: (p) => print(factProgressLine('calibrating fact', p), p.etaMs === 0),
        });
      }
      // a shard's facts alone choose nothing: `kn experiment merge` the shards, then `kn experiment report`
      if (meta.shard) return { out, facts: meta.facts.length, shard: meta.shard, written: r.written, skipped: r.skipped };
      const { rows, problems } = await readRows(out, meta);
      const summary = summarizeCalibration(meta, rows, problems);
      const files = calibrationFiles(meta, summary, calibrateCommand(meta));
      await mkdir(join(out, 'report'), { recursive: true });
      for (const [name, text] of Object.entries(files)) await writeFile(join(out, 'report', name), text);
      await writeFile(join(out, 'report', 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
      return { out, facts: rows.length, written: r.written, skipped: r.skipped, chosen: summary.chosen, report: join(out, 'report', 'report.md') };
    });
  } finally {
    model.dispose();
  }
}

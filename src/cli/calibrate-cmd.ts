/**
 * `kn experiment calibrate [--model <m>] [--split dev] [--facts N] [--grid-alpha2 0,0.5,1] [--grid-beta2 …]
 * [--grid-tau …] --out <dir>`: the grid of engine/experiments/calibrate.ts over dev facts the model knows, in the
 * results folder every experiment shares (meta.json, rows.ndjson, timing.ndjson; a re-run resumes), then
 * <out>/report/: report.md (frontier table, the rule, the chosen setting), frontier.csv, frontier.svg and
 * calibration.json (the block a model card carries).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KnError } from '../shared/errors';
import * as rules from '../engine/rules';
import { resolveSettings } from '../engine/selection';
import {
  CALIBRATE,
  calibrateCommand,
  calibrationFiles,
  calibrationMeta,
  calibrationMismatch,
  parseGrid,
  parseShard,
  summarizeCalibration,
  type CalibrationMeta,
  type CalibrationRow,
} from '../engine/experiments';
import { intOpt, parseCli } from './args';
import { langsArg, quadratureArg, resultsKindOf, runFlow, type Loader } from './flow';
import { JOBS_OPTION, jobsArg, type CliContext } from './jobs';
import { pickKnownFacts, runMergeCommand, runReportCommand, splitCandidates } from './results';

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

const KIND = resultsKindOf<CalibrationMeta, CalibrationRow>(
  CALIBRATE,
  (m) => (m.experiment !== 'calibrate' || !Array.isArray(m.facts) || !m.grid ? 'not a calibration run' : null),
  (meta, rows, _t, problems) => {
    const summary = summarizeCalibration(meta, rows, problems);
    return { summary, files: calibrationFiles(meta, summary, calibrateCommand(meta)) };
  },
);

export const readCalibrationMeta = (dir: string) => KIND.readMeta(dir);

/** The command line that reproduces a calibration (engine/experiments/calibrate.ts: the page's run writes the same). */
export { calibrateCommand };

export const runCalibrationReport = (argv: string[]) => runReportCommand(argv, KIND);
/** `kn experiment merge <calibration shard dir>… --out <dir>` (then `kn experiment report <dir>` writes calibration.json). */
export const runCalibrationMerge = (argv: string[]) => runMergeCommand(argv, KIND);

export async function runCalibrate(argv: string[], load: Loader, ctx?: CliContext) {
  const { values: v } = parseCli(argv, OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  if (v.split === 'test')
    throw new KnError('bad-input', '--split test: calibration never sees the test split (it judges the chosen settings); use --split dev');
  const shard = v.shard ? parseShard(v.shard) : null;
  const jobs = jobsArg(v.jobs, !!shard, ctx);
  const grid = parseGrid({ alpha2: v['grid-alpha2'], beta2: v['grid-beta2'], tau: v['grid-tau'] });
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const nFacts = intOpt(v.facts, 'facts', rules.FACTS_MIN, rules.FACTS_MAX, rules.DEFAULT_FACTS.calibrate);
  const seed = intOpt(v.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED);
  const steps = intOpt(v.steps, 'steps', rules.STEPS_MIN, rules.STEPS_MAX, rules.DEFAULT_STEPS);
  const baseline = rules.checkBaseline(v.baseline ?? rules.DEFAULT_BASELINE, '--baseline');
  const quadrature = quadratureArg(v.quadrature);
  const base = resolveSettings({ ...(v.norm ? { norm: v.norm as never } : {}), ...(v['attr-norm'] ? { attrNorm: v['attr-norm'] as never } : {}) });
  let candidates: string[] | undefined;
  return runFlow(
    { argv, v, out, jobs, load, ctx },
    {
      sub: 'calibrate',
      note: false,
      kind: KIND,
      plugin: CALIBRATE,
      options: () => ({}),
      label: 'calibrating fact',
      jobsLabel: 'calibration fact',
      what: 'another calibration',
      fresh: async (model, arg) => {
        // a bundled model calibrates on its dev split unless told otherwise
        const split = v.split ?? (/^bundled:/.test(arg) ? 'dev' : undefined);
        candidates = await splitCandidates(arg, split);
        return calibrationMeta(model, { id: arg, base, grid, steps, baseline, quadrature, seed, langs, facts: nFacts, split: split ?? null, shard });
      },
      resumable: (old, fresh) =>
        calibrationMismatch(old, fresh) ??
        (JSON.stringify(old.shard ?? null) !== JSON.stringify(shard) ? `shard (${JSON.stringify(old.shard ?? null)} vs ${JSON.stringify(shard)})` : null),
      pick: async (model, fresh, signal, print) => ({
        ...fresh,
        facts: await pickKnownFacts(model, { facts: nFacts, langs, seed, candidates, signal }, print),
      }),
      done: async (meta, r) => {
        // a shard's facts alone choose nothing: `kn experiment merge` the shards, then `kn experiment report`
        if (meta.shard) return { out, facts: meta.facts.length, shard: meta.shard, written: r.written, skipped: r.skipped };
        const { rows, problems } = await KIND.readRows(out, meta);
        const summary = summarizeCalibration(meta, rows, problems);
        const files = calibrationFiles(meta, summary, calibrateCommand(meta));
        await mkdir(join(out, 'report'), { recursive: true });
        for (const [name, text] of Object.entries(files)) await writeFile(join(out, 'report', name), text);
        await writeFile(join(out, 'report', 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
        return { out, facts: rows.length, written: r.written, skipped: r.skipped, chosen: summary.chosen, report: join(out, 'report', 'report.md') };
      },
    },
  );
}

/**
 * `kn experiment edit|enhance` (Tables III-IV, Fig. 6) and their report/merge: the same results-folder
 * conventions as `kn experiment manipulate` (meta.json, rows.ndjson appended one whole line per fact,
 * timing.ndjson, resumable, `--shard k/n`, merge), and `report` writing Markdown, CSV, SVG and
 * summary.json (`--json` prints the summary).
 */
import { KnError } from '../shared/errors';
import * as rules from '../engine/rules';
import {
  EDIT,
  EDIT_METHODS,
  ENHANCE_METHODS,
  INJECT_METHODS,
  editMetaMismatch,
  editRowProblem,
  makeEditMeta,
  minKnownLangsFor,
  modelRef,
  parseEditMethods,
  parseShard,
  pickEditFacts,
  reproduceEditCommand,
  type AnyRow,
  type EditExperiment,
  type EditMeta,
  type RowTiming,
} from '../engine/experiments';
import { reportFor } from '../engine/report';
import { openLocal } from '../data/node';
import { intOpt, numOpt, parseCli } from './args';
import { langsArg, quadratureArg, relationsArg, resultsKindOf, runFlow, runSettings, type Loader } from './flow';
import { JOBS_OPTION, jobsArg, type CliContext } from './jobs';
import * as results from './results';

const RUN_OPTIONS = {
  ...results.EXPERIMENT_OPTIONS,
  lambda1: { type: 'string' },
  lambda2: { type: 'string' },
  unrelated: { type: 'string' },
  'train-steps': { type: 'string' },
  lr: { type: 'string' },
  old: { type: 'string' },
  k: { type: 'string' },
  quadrature: { type: 'string' },
  ...results.WEIGHT_OPTIONS,
  ...JOBS_OPTION,
} as const;

export const EDIT_HELP = `  kn experiment edit [--model <m>] [--facts N] [--relations P36,...] [--langs ...] [--methods ${EDIT_METHODS.join(',')}] [--lambda1 ${rules.DEFAULT_LAMBDA1}] [--lambda2 ${rules.DEFAULT_LAMBDA2}] [--unrelated ${rules.DEFAULT_UNRELATED}] [--split dev|test] [--seed S] [--steps M] [--quadrature ${rules.QUADRATURES.join('|')}] [--shard k/n | --jobs N] --out <dir>   Tables III-IV: erase / update from English, reliability, generality, locality per language
  kn experiment inject [--model <m>] [--facts N] [--relations ...] [--langs ...] [--methods ${INJECT_METHODS.join(',')}] [--train-steps ${rules.TEACH_DEFAULTS.trainSteps}] [--lr ${rules.TEACH_DEFAULTS.lr}] [--old ${rules.DEFAULT_OLD_FACTS}] [--k ${rules.TEACH_DEFAULTS.k}] [--seed S] [--steps M] [--quadrature ${rules.QUADRATURES.join('|')}] [--shard k/n | --jobs N] --out <dir>   Table V: train only the neurons (MaTrice: top-k by S; Random: k) on an unknown fact's English queries; accuracy on Q_new per language and on Q_old
  kn experiment enhance [--model <m>] [--facts N] [--relations ...] [--langs ...] [--methods ${ENHANCE_METHODS.join(',')}] [--seed S] [--steps M] [--quadrature ${rules.QUADRATURES.join('|')}] [--shard k/n | --jobs N] --out <dir>   Fig. 6: accuracy on Q_error (${rules.LOW_RESOURCE_LANGS.join(', ')}) after doubling the neurons`;

export { resultsKind } from './results';

/** True when the first positional argument of `argv` is an edit or enhancement results folder. */
export async function isEditResults(argv: string[]): Promise<boolean> {
  const dirs = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1] === '--out'));
  const k = await results.resultsKind(dirs[0]);
  return k === 'edit' || k === 'enhance' || k === 'inject';
}

const EDITS = resultsKindOf<EditMeta, AnyRow>(
  EDIT,
  (m) =>
    !['edit', 'enhance', 'inject'].includes(m.experiment) || !Array.isArray(m.facts) || !m.model ? 'not an edit, enhancement or injection experiment' : null,
  (meta, rows, timings, problems) => reportFor(meta, rows, timings, problems, reproduceEditCommand(meta)),
);

export const readEditMeta = (dir: string): Promise<EditMeta> => EDITS.readMeta(dir);

export const readEditRows = (dir: string, meta: EditMeta): Promise<results.ResultRows<AnyRow, RowTiming>> => EDITS.readRows(dir, meta);

/** NDJSON sink of the edit / enhance / inject rows (results.ts). */
export class EditNdjsonSink extends results.NdjsonRowSink<AnyRow, RowTiming> {
  constructor(
    dir: string,
    readonly meta: EditMeta,
  ) {
    super(dir, (r) => editRowProblem(r, meta));
  }
}

// ------------------------------------------------------------------------------------------- commands

export async function runEditCommand(kind: EditExperiment, argv: string[], load: Loader, ctx?: CliContext) {
  const { values: v } = parseCli(argv, RUN_OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const relations = relationsArg(v.relations);
  const methods = parseEditMethods(v.methods, kind);
  const shard = v.shard ? parseShard(v.shard) : null;
  const jobs = jobsArg(v.jobs, !!shard, ctx);
  const nFacts = intOpt(v.facts, 'facts', rules.FACTS_MIN, rules.FACTS_MAX, rules.DEFAULT_FACTS[kind]);
  const seed = intOpt(v.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED);
  const steps = intOpt(v.steps, 'steps', rules.STEPS_MIN, rules.STEPS_MAX, rules.DEFAULT_STEPS);
  const unrelatedFacts = intOpt(v.unrelated, 'unrelated', 0, rules.UNRELATED_MAX, rules.DEFAULT_UNRELATED);
  if (kind !== 'edit' && (v.lambda1 !== undefined || v.lambda2 !== undefined || v.unrelated !== undefined))
    throw new KnError('bad-input', '--lambda1, --lambda2 and --unrelated belong to `experiment edit`');
  if (kind !== 'inject' && (v['train-steps'] !== undefined || v.lr !== undefined || v.old !== undefined || v.k !== undefined))
    throw new KnError('bad-input', '--train-steps, --lr, --old and --k belong to `experiment inject`');
  const injectK = intOpt(v.k, 'k', 1, rules.INJECT_K_MAX, rules.TEACH_DEFAULTS.k);
  const injectSteps = intOpt(v['train-steps'], 'train-steps', 1, rules.TRAIN_STEPS_MAX, rules.TEACH_DEFAULTS.trainSteps);
  const nOld = intOpt(v.old, 'old', 1, rules.OLD_FACTS_MAX, rules.DEFAULT_OLD_FACTS);
  const lr = numOpt(v.lr, 'lr');
  if (lr !== undefined && !(lr > 0 && lr <= rules.TEACH_LR_MAX))
    throw new KnError('bad-input', `--lr must be a number in (0, ${rules.TEACH_LR_MAX}], got "${v.lr}"`);
  const baseline = rules.checkBaseline(v.baseline ?? rules.DEFAULT_BASELINE, '--baseline');
  const quadrature = quadratureArg(v.quadrature);
  const weights = results.weightFlags(v);
  const tau = numOpt(v.tau, 'tau');
  if (tau !== undefined && !(tau >= rules.TAU_MIN && tau <= rules.TAU_MAX))
    throw new KnError('bad-input', `--tau must be a number in ${rules.TAU_MIN}..${rules.TAU_MAX}, got "${v.tau}"`);
  const lambda1 = numOpt(v.lambda1, 'lambda1'),
    lambda2 = numOpt(v.lambda2, 'lambda2');
  const minKnownLangs = minKnownLangsFor(langs);
  const request = { facts: nFacts, relations, split: v.split ?? null, minKnownLangs };
  const knobs = { lambda1, lambda2, unrelatedFacts, injectSteps, lr, injectK };
  // the run's meta from the flags; `model` and `settings` once the model is loaded
  const metaFor = (model: EditMeta['model'], settings?: ReturnType<typeof runSettings>, q?: typeof quadrature) =>
    makeEditMeta({ experiment: kind, model, settings, steps, baseline, quadrature: q, seed, langs, methods, facts: [], request, shard, ...knobs });
  // validates λ and languages before the model loads
  metaFor({ id: '', contentHash: '', dtype: '', kind: '', numLayers: 0, ffnSize: 0 });
  let candidates: string[] | undefined;
  return runFlow(
    { argv, v, out, jobs, load, ctx },
    {
      sub: kind,
      note: true,
      kind: EDITS,
      plugin: EDIT,
      options: () => ({}),
      label: `${kind} fact`,
      what: 'results of another run',
      fresh: async (model, arg) => {
        candidates = await results.splitCandidates(arg, v.split);
        // the model's calibrated settings (calibration.json) unless flags say otherwise; the meta records them all
        return metaFor(modelRef(model, arg), runSettings(model, v, weights, tau), quadrature);
      },
      resumable: (old, base) => editMetaMismatch({ ...old, facts: [], ...(old.inject ? { inject: { ...old.inject, oldFacts: [] } } : {}) }, base),
      pick: async (model, base, signal, print) => {
        const t0 = Date.now();
        const oldPick = kind === 'inject' ? { want: nOld, facts: [] as string[] } : undefined;
        const facts = await pickEditFacts(model, await openLocal(), {
          kind,
          facts: nFacts,
          relations,
          langs,
          seed,
          candidates,
          minKnownLangs,
          old: oldPick,
          signal,
          onProgress: (p) => print(`kn: picking facts: ${p.picked}/${nFacts} kept of ${p.probed} probed · ${results.dur(Date.now() - t0)}`),
        });
        if (facts.length < nFacts) print(`kn: only ${facts.length} suitable facts found (asked for ${nFacts})`, true);
        return { ...base, facts, ...(base.inject ? { inject: { ...base.inject, oldFacts: oldPick!.facts } } : {}) };
      },
      done: (meta, r) => ({
        out,
        experiment: kind,
        facts: meta.facts.length,
        shard: meta.shard,
        written: r.written,
        skipped: r.skipped,
        ...(r.jobs !== undefined ? { jobs: r.jobs } : {}),
      }),
    },
  );
}

/** The command line that reproduces a run (printed in its report): engine/experiments/commands.ts. */
export { reproduceEditCommand };

export const runEditReport = (argv: string[]) => results.runReportCommand(argv, EDITS);
export const runEditMerge = (argv: string[]) => results.runMergeCommand(argv, EDITS);

/**
 * `kn experiment edit|enhance` (Tables III-IV, Fig. 6) and their report/merge: the same results-folder
 * conventions as `kn experiment manipulate` (meta.json, rows.ndjson appended one whole line per fact,
 * timing.ndjson, resumable, `--shard k/n`, merge), and `report` writing Markdown, CSV, SVG and
 * summary.json (`--json` prints the summary).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openLocal } from '../data/node';
import { RELATIONS, type Relation } from '../data/types';
import { KnError } from '../engine/errors';
import type { LoadedModel } from '../engine/model';
import {
  editMetaMismatch,
  editRowProblem,
  makeEditMeta,
  parseEditMethods,
  parseShard,
  pickEditFacts,
  runEditExperiment,
  type AnyRow,
  type EditExperiment,
  type EditMeta,
  type EditSink,
  type RowTiming,
} from '../engine/runner/edit';
import { reportFor } from '../engine/runner/edit-report';
import { BUNDLED_DIR, FolderStore } from '../engine/source-node';
import { ATTRIBUTION_CACHE, langsArg } from './matrice-cmd';

type Options = NonNullable<ParseArgsConfig['options']>;

const RUN_OPTIONS = {
  model: { type: 'string' },
  facts: { type: 'string' },
  relations: { type: 'string' },
  langs: { type: 'string' },
  methods: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  baseline: { type: 'string' },
  tau: { type: 'string' },
  norm: { type: 'string' },
  'attr-norm': { type: 'string' },
  split: { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
  dtype: { type: 'string' },
  lambda1: { type: 'string' },
  lambda2: { type: 'string' },
  unrelated: { type: 'string' },
  'train-steps': { type: 'string' },
  lr: { type: 'string' },
  old: { type: 'string' },
  k: { type: 'string' },
  'no-cache': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export const EDIT_HELP = `  kn experiment edit [--model <m>] [--facts N] [--relations P36,...] [--langs ...] [--methods matrice,amig,random,layer] [--lambda1 1] [--lambda2 8] [--unrelated 5] [--split dev|test] [--seed S] [--steps M] [--shard k/n] --out <dir>   Tables III-IV: erase / update from English, reliability, generality, locality per language
  kn experiment inject [--model <m>] [--facts N] [--relations ...] [--langs ...] [--methods direct,random,amig,matrice] [--train-steps 40] [--lr 0.01] [--old 10] [--k 10] [--seed S] [--steps M] [--shard k/n] --out <dir>   Table V: train only the neurons (MaTrice: top-k by S; Random: k) on an unknown fact's English queries; accuracy on Q_new per language and on Q_old
  kn experiment enhance [--model <m>] [--facts N] [--relations ...] [--langs ...] [--methods matrice,amig,random] [--seed S] [--steps M] [--shard k/n] --out <dir>   Fig. 6: accuracy on Q_error (fi, hu, ja, ko) after doubling the neurons`;

function parse<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new KnError('bad-input', e instanceof Error ? e.message : String(e));
  }
}

function intOpt(v: string | undefined, name: string, lo: number, hi: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new KnError('bad-input', `--${name} must be an integer in ${lo}..${hi}, got "${v}"`);
  return n;
}

function numOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new KnError('bad-input', `--${name} must be a number, got "${v}"`);
  return n;
}

async function writeAtomic(path: string, text: string) {
  await writeFile(path + '.tmp', text);
  await rename(path + '.tmp', path);
}

const dur = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

function progressPrinter(quiet: boolean) {
  let last = 0;
  return (line: string, force = false) => {
    if (quiet) return;
    const now = Date.now();
    if (!force && now - last < 2000) return;
    last = now;
    process.stderr.write(line + '\n');
  };
}

// ------------------------------------------------------------------------------------------- files

/** The experiment a results folder holds ('edit', 'enhance', 'manipulate', …), or null without a readable meta.json. */
export async function resultsKind(dir: string | undefined): Promise<string | null> {
  if (!dir || !existsSync(join(dir, 'meta.json'))) return null;
  try {
    return String((JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { experiment?: unknown }).experiment ?? '');
  } catch {
    return null;
  }
}

/** True when the first positional argument of `argv` is an edit or enhancement results folder. */
export async function isEditResults(argv: string[]): Promise<boolean> {
  const dirs = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1] === '--out'));
  const k = await resultsKind(dirs[0]);
  return k === 'edit' || k === 'enhance' || k === 'inject';
}

export async function readEditMeta(dir: string): Promise<EditMeta> {
  const p = join(dir, 'meta.json');
  if (!existsSync(p)) throw new KnError('missing-file', `${dir} is not an experiment results folder (no meta.json)`);
  try {
    const m = JSON.parse(await readFile(p, 'utf8')) as EditMeta;
    if (!['edit', 'enhance', 'inject'].includes(m.experiment) || !Array.isArray(m.facts) || !m.model) throw new Error('not an edit, enhancement or injection experiment');
    return m;
  } catch (e) {
    throw new KnError('corrupt-file', `${p}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function readEditRows(dir: string, meta: EditMeta): Promise<{ rows: AnyRow[]; timings: RowTiming[]; problems: string[] }> {
  const problems: string[] = [];
  const rows: AnyRow[] = [];
  const seen = new Set<string>();
  const path = join(dir, 'rows.ndjson');
  const text = existsSync(path) ? await readFile(path, 'utf8') : '';
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      return void problems.push(`${path} line ${i + 1}: not valid JSON; skipped`);
    }
    const p = editRowProblem(r, meta);
    if (p) return void problems.push(`${path} line ${i + 1}: ${p}; skipped`);
    const row = r as AnyRow;
    if (seen.has(row.fact)) return void problems.push(`${path} line ${i + 1}: fact ${row.fact} repeated; the first is kept`);
    seen.add(row.fact);
    rows.push(row);
  });
  const timings: RowTiming[] = [];
  if (existsSync(join(dir, 'timing.ndjson'))) {
    for (const line of (await readFile(join(dir, 'timing.ndjson'), 'utf8')).split('\n')) {
      try {
        const t = JSON.parse(line) as RowTiming;
        if (typeof t.fact === 'string' && Number.isFinite(t.ms) && seen.has(t.fact)) timings.push(t);
      } catch {
        /* informative only */
      }
    }
  }
  rows.sort((a, b) => a.index - b.index);
  return { rows, timings, problems };
}

/** NDJSON sink: one whole line per fact; a torn last line (a killed run) is fenced off. */
export class EditNdjsonSink implements EditSink<AnyRow> {
  constructor(
    readonly dir: string,
    readonly meta: EditMeta,
  ) {}
  async finished() {
    return new Set((await readEditRows(this.dir, this.meta)).rows.map((r) => r.fact));
  }
  async write(row: AnyRow, timing: RowTiming) {
    const p = join(this.dir, 'rows.ndjson');
    let prefix = '';
    if (existsSync(p)) {
      const t = await readFile(p, 'utf8');
      if (t.length && !t.endsWith('\n')) prefix = '\n';
    }
    await appendFile(p, prefix + JSON.stringify(row) + '\n');
    await appendFile(join(this.dir, 'timing.ndjson'), JSON.stringify(timing) + '\n');
  }
}

async function splitCandidates(modelArg: string, split: string | undefined): Promise<string[] | undefined> {
  if (!split) return undefined;
  if (split !== 'dev' && split !== 'test') throw new KnError('bad-input', `--split must be dev or test, got "${split}"`);
  const m = /^bundled:(.+)$/.exec(modelArg);
  const path = m ? join(BUNDLED_DIR, m[1], 'split.json') : join(modelArg, 'split.json');
  if (!existsSync(path)) throw new KnError('bad-input', `--split ${split} needs the model's split.json (a bundled demo model); not found at ${path}`);
  const j = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const ids = j[split === 'dev' ? 'devFacts' : 'testFacts'];
  if (!Array.isArray(ids) || !ids.length) throw new KnError('bad-input', `${path} has no ${split === 'dev' ? 'devFacts' : 'testFacts'} list`);
  return ids.map(String);
}

// ------------------------------------------------------------------------------------------- commands

export async function runEditCommand(kind: EditExperiment, argv: string[], load: (arg: string | undefined, dtype: string | undefined) => Promise<{ model: LoadedModel; arg: string }>) {
  const { values: v } = parse(argv, RUN_OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const relations = (v.relations ? v.relations.split(',').map((s) => s.trim()) : []) as Relation[];
  for (const r of relations) if (!(RELATIONS as readonly string[]).includes(r)) throw new KnError('bad-input', `unknown relation "${r}"; one of ${RELATIONS.join(', ')}`);
  const methods = parseEditMethods(v.methods, kind);
  const shard = v.shard ? parseShard(v.shard) : null;
  const nFacts = intOpt(v.facts, 'facts', 1, 100000, kind === 'edit' ? 50 : kind === 'inject' ? 20 : 100);
  const seed = intOpt(v.seed, 'seed', 0, 2 ** 31 - 1, 1);
  const steps = intOpt(v.steps, 'steps', 1, 1000, 20);
  const unrelatedFacts = intOpt(v.unrelated, 'unrelated', 0, 100, 5);
  if (kind !== 'edit' && (v.lambda1 !== undefined || v.lambda2 !== undefined || v.unrelated !== undefined)) throw new KnError('bad-input', '--lambda1, --lambda2 and --unrelated belong to `experiment edit`');
  if (kind !== 'inject' && (v['train-steps'] !== undefined || v.lr !== undefined || v.old !== undefined || v.k !== undefined)) throw new KnError('bad-input', '--train-steps, --lr, --old and --k belong to `experiment inject`');
  const injectK = intOpt(v.k, 'k', 1, 100000, 10);
  const injectSteps = intOpt(v['train-steps'], 'train-steps', 1, 1000, 40);
  const nOld = intOpt(v.old, 'old', 1, 1000, 10);
  const lr = numOpt(v.lr, 'lr');
  if (lr !== undefined && !(lr > 0 && lr <= 10)) throw new KnError('bad-input', `--lr must be a number in (0, 10], got "${v.lr}"`);
  const baseline = (v.baseline ?? 'pad') as 'pad' | 'zero';
  if (baseline !== 'pad' && baseline !== 'zero') throw new KnError('bad-input', `--baseline must be pad or zero, got "${v.baseline}"`);
  const tau = numOpt(v.tau, 'tau');
  if (tau !== undefined && !(tau >= 0 && tau <= 1)) throw new KnError('bad-input', `--tau must be a number in 0..1, got "${v.tau}"`);
  const lambda1 = numOpt(v.lambda1, 'lambda1'), lambda2 = numOpt(v.lambda2, 'lambda2');
  const minKnownLangs = Math.min(4, langs.length);
  // validates λ and languages before the model loads
  const probe = makeEditMeta({ experiment: kind, model: { id: '', contentHash: '', dtype: '', kind: '', numLayers: 0, ffnSize: 0 }, steps, baseline, seed, langs, methods, facts: [], request: { facts: nFacts, relations, split: v.split ?? null, minKnownLangs }, shard, lambda1, lambda2, unrelatedFacts, injectSteps, lr, injectK });
  void probe;
  const { model, arg } = await load(v.model, v.dtype);
  const print = progressPrinter(!!v.quiet);
  const ctl = new AbortController();
  const onSigint = () => {
    print('kn: cancelling; finished facts are kept', true);
    ctl.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const candidates = await splitCandidates(arg, v.split);
    const base = makeEditMeta({
      experiment: kind,
      model: { id: arg, contentHash: model.info.contentHash, dtype: model.info.dtype, kind: model.info.kind, numLayers: model.cfg.numLayers, ffnSize: model.cfg.ffn },
      settings: { ...(tau !== undefined ? { tau } : {}), ...(v.norm ? { norm: v.norm as never } : {}), ...(v['attr-norm'] ? { attrNorm: v['attr-norm'] as never } : {}) },
      steps,
      baseline,
      seed,
      langs,
      methods,
      facts: [],
      request: { facts: nFacts, relations, split: v.split ?? null, minKnownLangs },
      shard,
      lambda1,
      lambda2,
      unrelatedFacts,
      injectSteps,
      lr,
      injectK,
    });
    await mkdir(out, { recursive: true });
    let meta: EditMeta;
    if (existsSync(join(out, 'meta.json'))) {
      const old = await readEditMeta(out);
      const diff = editMetaMismatch({ ...old, facts: [], ...(old.inject ? { inject: { ...old.inject, oldFacts: [] } } : {}) }, base);
      if (diff) throw new KnError('bad-input', `${out} holds results of another run: ${diff} differs; choose another --out or the same settings`);
      meta = old;
      print(`kn: resuming ${out} (${meta.facts.length} facts picked before)`, true);
    } else {
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
        signal: ctl.signal,
        onProgress: (p) => print(`kn: picking facts: ${p.picked}/${nFacts} kept of ${p.probed} probed · ${dur(Date.now() - t0)}`),
      });
      if (facts.length < nFacts) print(`kn: only ${facts.length} suitable facts found (asked for ${nFacts})`, true);
      meta = { ...base, facts, ...(base.inject ? { inject: { ...base.inject, oldFacts: oldPick!.facts } } : {}) };
      await writeAtomic(join(out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
    }
    const r = await runEditExperiment({
      model,
      bench: await openLocal(),
      meta,
      sink: new EditNdjsonSink(out, meta),
      store: v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE),
      signal: ctl.signal,
      onProgress: (p) =>
        print(`kn: ${kind} fact ${Math.min(p.done + 1, p.total)}/${p.total}${p.skipped ? ` (+${p.skipped} done before)` : ''}${p.fact ? ' ' + p.fact : ''} · ${dur(p.elapsedMs)} elapsed${p.etaMs !== null ? ` · about ${dur(p.etaMs)} left` : ''}`, p.etaMs === 0),
    });
    return { out, experiment: kind, facts: meta.facts.length, shard: meta.shard, written: r.written, skipped: r.skipped };
  } finally {
    process.off('SIGINT', onSigint);
    model.dispose();
  }
}

/** The command line that reproduces a run (printed in its report). */
export function reproduceEditCommand(m: EditMeta): string {
  const parts = [`npm run -s kn -- experiment ${m.experiment} --model ${m.model.id}`, `--facts ${m.request.facts}`];
  if (m.request.split) parts.push(`--split ${m.request.split}`);
  if (m.request.relations.length) parts.push(`--relations ${m.request.relations.join(',')}`);
  parts.push(`--langs ${m.langs.join(',')} --methods ${m.methods.join(',')}`);
  if (m.edit) parts.push(`--lambda1 ${m.edit.lambda1} --lambda2 ${m.edit.lambda2} --unrelated ${m.edit.unrelatedFacts}`);
  if (m.inject) parts.push(`--train-steps ${m.inject.steps} --lr ${m.inject.lr} --old ${m.inject.oldFacts.length} --k ${m.inject.k}`);
  parts.push(`--seed ${m.seed} --steps ${m.steps} --tau ${m.settings.tau} --norm ${m.settings.norm} --attr-norm ${m.settings.attrNorm}`);
  if (m.model.dtype && m.model.dtype !== 'int8') parts.push(`--dtype ${m.model.dtype}`);
  parts.push('--out <dir>');
  return parts.join(' ');
}

export async function runEditReport(argv: string[]) {
  const { values: v, positionals } = parse(argv, { json: { type: 'boolean' }, out: { type: 'string' } } as const);
  const dir = positionals[0];
  if (!dir) throw new KnError('bad-input', 'usage: kn experiment report <results dir> [--out <dir>] [--json]');
  const meta = await readEditMeta(dir);
  const { rows, timings, problems } = await readEditRows(dir, meta);
  if (!rows.length) throw new KnError('bad-input', `${dir} has no finished fact yet${problems.length ? ` (${problems.length} unreadable lines: ${problems[0]})` : ''}`);
  const missing = meta.shard ? 0 : meta.facts.length - rows.length;
  if (missing > 0) problems.push(`${missing} of ${meta.facts.length} picked facts are not finished yet (the report covers ${rows.length})`);
  for (const p of problems) process.stderr.write(`kn: ${p}\n`);
  const { summary, files } = reportFor(meta, rows, timings, problems, reproduceEditCommand(meta));
  const outDir = v.out ?? join(dir, 'report');
  await mkdir(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(outDir, name), text);
  await writeFile(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
  if (v.json) return summary;
  process.stdout.write(files['report.md']);
  return undefined;
}

export async function runEditMerge(argv: string[]) {
  const { values: v, positionals } = parse(argv, { out: { type: 'string' }, json: { type: 'boolean' } } as const);
  if (!v.out || positionals.length < 1) throw new KnError('bad-input', 'usage: kn experiment merge <shard dir> <shard dir> … --out <dir>');
  const metas = await Promise.all(positionals.map(readEditMeta));
  for (let i = 1; i < metas.length; i++) {
    const d = editMetaMismatch(metas[0], metas[i], true);
    if (d) throw new KnError('bad-input', `cannot merge ${positionals[i]} with ${positionals[0]}: ${d} differs`);
  }
  const n = metas[0].shard?.n ?? 1;
  const ks = new Set<number>();
  metas.forEach((m, i) => {
    if (!m.shard) throw new KnError('bad-input', `${positionals[i]} is not a shard (run with --shard k/n)`);
    if (m.shard.n !== n) throw new KnError('bad-input', `${positionals[i]} is shard ${m.shard.k}/${m.shard.n}, the others are of ${n}`);
    if (ks.has(m.shard.k)) throw new KnError('bad-input', `shard ${m.shard.k}/${n} is given twice`);
    ks.add(m.shard.k);
  });
  if (existsSync(join(v.out, 'rows.ndjson'))) throw new KnError('bad-input', `${v.out} already holds rows; merge into a new folder`);
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !ks.has(k));
  const all: AnyRow[] = [], timings: RowTiming[] = [], problems: string[] = [];
  for (const [i, d] of positionals.entries()) {
    const r = await readEditRows(d, metas[i]);
    all.push(...r.rows);
    timings.push(...r.timings);
    problems.push(...r.problems);
  }
  all.sort((a, b) => a.index - b.index);
  await mkdir(v.out, { recursive: true });
  await writeAtomic(join(v.out, 'rows.ndjson'), all.map((r) => JSON.stringify(r) + '\n').join(''));
  await writeFile(join(v.out, 'timing.ndjson'), timings.map((t) => JSON.stringify(t) + '\n').join(''));
  await writeAtomic(join(v.out, 'meta.json'), JSON.stringify({ ...metas[0], shard: null }, null, 1) + '\n');
  for (const p of problems) process.stderr.write(`kn: ${p}\n`);
  if (missing.length) process.stderr.write(`kn: shards ${missing.map((k) => `${k}/${n}`).join(', ')} are missing; the merged folder lacks their facts\n`);
  return { out: v.out, facts: all.length, of: metas[0].facts.length, shards: [...ks].sort(), missing, problems: problems.length };
}

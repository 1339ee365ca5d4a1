/**
 * The results folder every `kn experiment` shares (manipulate, readings, edit, enhance, inject):
 *
 *   <out>/meta.json      what was run (model hash, settings, seed, languages, methods, the picked facts, shard)
 *   <out>/rows.ndjson    one line per finished fact (written whole, after the fact; a re-run skips them)
 *   <out>/timing.ndjson  wall time per fact (kept apart so rows are byte-identical across machines/shards)
 *
 * and the option parsing, progress lines and split lists their commands share. Each experiment brings its
 * own meta check and row check; reading, appending and merging are written once here.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KnError } from '../shared/errors';
import { backendRecord, gpuLostMessage, gpuLostSignal } from './node-engine';
import { parseCli } from './args';
import { pickFacts, unfinishedNote, type PickOptions, type RowSink } from '../engine/experiments';
import type { LoadedModel } from '../engine/families';
import { openLocal } from '../data/node';
import { BUNDLED_DIR } from '../engine/node';

/** The options every `kn experiment` run command takes (each adds its own). */
export const EXPERIMENT_OPTIONS = {
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
  'no-cache': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export async function writeAtomic(path: string, text: string) {
  await writeFile(path + '.tmp', text);
  await rename(path + '.tmp', path);
}

export const dur = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

/** Progress lines on stderr, at most one every 2 s unless forced (the last one). */
export function progressPrinter(quiet: boolean) {
  let last = 0;
  return (line: string, force = false) => {
    if (quiet) return;
    const now = Date.now();
    if (!force && now - last < 2000) return;
    last = now;
    process.stderr.write(line + '\n');
  };
}

/** `--alpha1 --alpha2 --beta1 --beta2`: the std weights given on the command line (finite numbers), the rest absent. */
export const WEIGHT_OPTIONS = {
  alpha1: { type: 'string' },
  alpha2: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
} as const;

export function weightFlags(v: Partial<Record<keyof typeof WEIGHT_OPTIONS, string>>): Partial<Record<keyof typeof WEIGHT_OPTIONS, number>> {
  const weights: Partial<Record<keyof typeof WEIGHT_OPTIONS, number>> = {};
  for (const k of ['alpha1', 'alpha2', 'beta1', 'beta2'] as const) {
    if (v[k] === undefined) continue;
    const n = Number(v[k]);
    if (!Number.isFinite(n) || Math.abs(n) > 1e6) throw new KnError('bad-input', `--${k} must be a finite number, got "${v[k]}"`);
    weights[k] = n;
  }
  return weights;
}

export type Printer = ReturnType<typeof progressPrinter>;

/**
 * Runs `work` with a signal that Ctrl-C (SIGINT) aborts: the run stops after the fact in hand is abandoned, the
 * finished facts stay in the folder and a re-run resumes. The handler is removed afterwards, whatever happened.
 */
export async function withSigint<T>(print: Printer, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onSigint = () => {
    print('kn: cancelling; finished facts are kept (run again to resume)', true);
    ctl.abort();
  };
  process.once('SIGINT', onSigint);
  // a lost WebGPU device stops the run the same way, and the error says how to resume on another backend
  const gpu = gpuLostSignal();
  let onLost = () => {};
  // a read-back from a lost device may never settle: the loss itself ends the wait
  const lostWait = new Promise<never>((_, reject) => {
    onLost = () => {
      ctl.abort();
      reject(new KnError('backend', gpuLostMessage() ?? 'the WebGPU device was lost'));
    };
  });
  lostWait.catch(() => {});
  if (gpu.aborted) onLost();
  else gpu.addEventListener('abort', onLost, { once: true });
  try {
    return await Promise.race([work(ctl.signal), lostWait]);
  } catch (e) {
    const lost = gpuLostMessage();
    throw lost ? new KnError('backend', lost) : e;
  } finally {
    process.off('SIGINT', onSigint);
    gpu.removeEventListener('abort', onLost);
  }
}

/**
 * The results folder's meta: resumed when `<out>/meta.json` exists and `mismatch(old)` finds no difference
 * (otherwise refused, naming the differing field: `<out> holds <what>: <field> differs`), else `pick()`ed and
 * written atomically before any row.
 */
export async function pickOrResume<M extends { facts: readonly unknown[] }>(
  out: string,
  o: { read: (dir: string) => Promise<M>; mismatch: (old: M) => string | null; what: string; print: Printer; pick: () => Promise<M> },
): Promise<M> {
  await mkdir(out, { recursive: true });
  if (existsSync(join(out, 'meta.json'))) {
    const old = await o.read(out);
    const diff = o.mismatch(old);
    if (diff) throw new KnError('bad-input', `${out} holds ${o.what}: ${diff} differs; choose another --out or the same settings`);
    const was = (old as { backend?: { name: string } }).backend?.name,
      now = backendRecord()?.name;
    o.print(
      `kn: resuming ${out} (${old.facts.length} facts picked before)${was && now && was !== now ? `; it began on ${was}, it goes on on ${now}` : ''}`,
      true,
    );
    return old;
  }
  // the backend that picked the facts (resuming on another one is allowed: timing.ndjson names each fact's)
  const backend = backendRecord();
  const meta = { ...(await o.pick()), ...(backend ? { backend } : {}) };
  await writeAtomic(join(out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  return meta;
}

/** pickFacts on the local benchmark with its progress printed, and a line when fewer known facts were found than asked. */
export async function pickKnownFacts(model: LoadedModel, o: PickOptions, print: Printer): Promise<string[]> {
  const t0 = Date.now();
  const facts = await pickFacts(model, await openLocal(), {
    ...o,
    onProgress: (p) => print(`kn: picking facts the model knows: ${p.picked}/${o.facts} kept of ${p.probed} probed · ${dur(Date.now() - t0)}`),
  });
  if (facts.length < o.facts) print(`kn: only ${facts.length} known facts found (asked for ${o.facts})`, true);
  return facts;
}

/** A runner's progress as one line: `kn: <label> 3/20 (+2 done before) P36:1 · 1 min elapsed · about 2 min left`. */
export function factProgressLine(
  label: string,
  p: { done: number; total: number; skipped: number; fact?: string | null; elapsedMs: number; etaMs: number | null },
): string {
  return `kn: ${label} ${Math.min(p.done + 1, p.total)}/${p.total}${p.skipped ? ` (+${p.skipped} done before)` : ''}${p.fact ? ' ' + p.fact : ''} · ${dur(p.elapsedMs)} elapsed${p.etaMs !== null ? ` · about ${dur(p.etaMs)} left` : ''}`;
}

/** A bundled demo model's dev or test facts (its split.json), for `--split`. */
export async function splitCandidates(modelArg: string, split: string | undefined): Promise<string[] | undefined> {
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

/** The experiment a results folder holds ('manipulate', 'edit', …), or null without a readable meta.json. */
export async function resultsKind(dir: string | undefined): Promise<string | null> {
  if (!dir || !existsSync(join(dir, 'meta.json'))) return null;
  try {
    return String((JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { experiment?: unknown }).experiment ?? '');
  } catch {
    return null;
  }
}

/** A results folder's meta.json; `problem` says why it is not the expected experiment (null: it is). */
export async function readResultsMeta<M>(dir: string, problem: (m: M) => string | null): Promise<M> {
  const p = join(dir, 'meta.json');
  if (!existsSync(p)) throw new KnError('missing-file', `${dir} is not an experiment results folder (no meta.json)`);
  try {
    const m = JSON.parse(await readFile(p, 'utf8')) as M;
    const why = problem(m);
    if (why) throw new Error(why);
    return m;
  } catch (e) {
    throw new KnError('corrupt-file', `${p}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export interface ResultRows<R, T> {
  rows: R[];
  timings: T[];
  problems: string[];
}

/**
 * The NDJSON rows of a results folder, by index; corrupt, foreign (`problem` says why) or repeated lines are
 * skipped and reported, never fatal. Timings are kept for the rows read.
 */
export async function readResultRows<R extends { fact: string; index: number }, T extends { fact: string; ms: number }>(
  dir: string,
  problem: (r: unknown) => string | null,
): Promise<ResultRows<R, T>> {
  const problems: string[] = [];
  const rows: R[] = [];
  const seen = new Set<string>();
  const path = join(dir, 'rows.ndjson');
  const text = existsSync(path) ? await readFile(path, 'utf8') : '';
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (e) {
      return void problems.push(`${path} line ${i + 1}: not valid JSON (${e instanceof Error ? e.message.slice(0, 60) : e}); skipped`);
    }
    const p = problem(r);
    if (p) return void problems.push(`${path} line ${i + 1}: ${p}; skipped`);
    const row = r as R;
    if (seen.has(row.fact)) return void problems.push(`${path} line ${i + 1}: fact ${row.fact} repeated; the first is kept`);
    seen.add(row.fact);
    rows.push(row);
  });
  const timings: T[] = [];
  if (existsSync(join(dir, 'timing.ndjson'))) {
    for (const line of (await readFile(join(dir, 'timing.ndjson'), 'utf8')).split('\n')) {
      try {
        const t = JSON.parse(line) as T;
        if (typeof t.fact === 'string' && Number.isFinite(t.ms) && seen.has(t.fact)) timings.push(t);
      } catch {
        /* timings are informative only */
      }
    }
  }
  rows.sort((a, b) => a.index - b.index);
  return { rows, timings, problems };
}

/** NDJSON sink: appends a whole line per fact; a torn last line (a killed run) is fenced off, not glued to. */
export class NdjsonRowSink<R extends { fact: string; index: number }, T extends { fact: string; ms: number }> implements RowSink<R> {
  constructor(
    readonly dir: string,
    private readonly problem: (r: unknown) => string | null,
  ) {}
  async finished() {
    return new Set((await readResultRows<R, T>(this.dir, this.problem)).rows.map((r) => r.fact));
  }
  async write(row: R, timing: T) {
    const p = join(this.dir, 'rows.ndjson');
    let prefix = '';
    if (existsSync(p)) {
      const t = await readFile(p, 'utf8');
      if (t.length && !t.endsWith('\n')) prefix = '\n';
    }
    await appendFile(p, prefix + JSON.stringify(row) + '\n');
    const backend = backendRecord()?.name;
    await appendFile(join(this.dir, 'timing.ndjson'), JSON.stringify(backend ? { ...timing, backend } : timing) + '\n');
  }
}

/** What `report` and `merge` need of one kind of experiment (manipulation, or edit / enhance / inject). */
export interface ResultsKind<
  M extends { facts: string[]; shard: { k: number; n: number } | null },
  R extends { fact: string; index: number },
  T extends { fact: string; ms: number },
> {
  readMeta(dir: string): Promise<M>;
  readRows(dir: string, meta: M): Promise<ResultRows<R, T>>;
  /** the first field two shards' metas differ in (the shard itself ignored), or null */
  mismatch(a: M, b: M): string | null;
  report(meta: M, rows: R[], timings: T[], problems: string[]): { summary: unknown; files: Record<string, string> };
}

/** `kn experiment report <dir> [--out <dir>] [--json]`: report.md, CSV, SVG and summary.json. */
export async function runReportCommand<
  M extends { facts: string[]; shard: { k: number; n: number } | null },
  R extends { fact: string; index: number },
  T extends { fact: string; ms: number },
>(argv: string[], kind: ResultsKind<M, R, T>) {
  const { values: v, positionals } = parseCli(argv, { json: { type: 'boolean' }, out: { type: 'string' } } as const);
  const dir = positionals[0];
  if (!dir) throw new KnError('bad-input', 'usage: kn experiment report <results dir> [--out <dir>] [--json]');
  const meta = await kind.readMeta(dir);
  const { rows, timings, problems } = await kind.readRows(dir, meta);
  if (!rows.length)
    throw new KnError('bad-input', `${dir} has no finished fact yet${problems.length ? ` (${problems.length} unreadable lines: ${problems[0]})` : ''}`);
  const unfinished = unfinishedNote(meta, rows.length);
  if (unfinished) problems.push(unfinished);
  for (const p of problems) process.stderr.write(`kn: ${p}\n`);
  const { summary, files } = kind.report(meta, rows, timings, problems);
  const outDir = v.out ?? join(dir, 'report');
  await mkdir(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(outDir, name), text);
  await writeFile(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
  if (v.json) return summary;
  process.stdout.write(files['report.md']);
  return undefined;
}

/** `kn experiment merge <shard dir> … --out <dir>`: the shards' rows by fact index, byte for byte as one run. */
export async function runMergeCommand<
  M extends { facts: string[]; shard: { k: number; n: number } | null },
  R extends { fact: string; index: number },
  T extends { fact: string; ms: number },
>(argv: string[], kind: ResultsKind<M, R, T>) {
  const { values: v, positionals } = parseCli(argv, { out: { type: 'string' }, json: { type: 'boolean' } } as const);
  if (!v.out || positionals.length < 1) throw new KnError('bad-input', 'usage: kn experiment merge <shard dir> <shard dir> … --out <dir>');
  const metas = await Promise.all(positionals.map((d) => kind.readMeta(d)));
  for (let i = 1; i < metas.length; i++) {
    const d = kind.mismatch(metas[0], metas[i]);
    if (d) throw new KnError('bad-input', `cannot merge ${positionals[i]} with ${positionals[0]}: ${d} differs`);
  }
  const n = metas[0].shard?.n ?? 1;
  const ks = new Set<number>();
  metas.forEach((m, i) => {
    const s = m.shard;
    if (!s) throw new KnError('bad-input', `${positionals[i]} is not a shard (run with --shard k/n)`);
    if (s.n !== n) throw new KnError('bad-input', `${positionals[i]} is shard ${s.k}/${s.n}, the others are of ${n}`);
    if (ks.has(s.k)) throw new KnError('bad-input', `shard ${s.k}/${n} is given twice`);
    ks.add(s.k);
  });
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !ks.has(k));
  if (existsSync(join(v.out, 'rows.ndjson'))) throw new KnError('bad-input', `${v.out} already holds rows; merge into a new folder`);
  const all: R[] = [],
    timings: T[] = [],
    problems: string[] = [];
  for (const [i, d] of positionals.entries()) {
    const r = await kind.readRows(d, metas[i]);
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

/**
 * `kn experiment <kind> … --jobs N`: N shard processes on one machine, merged into one results folder.
 *
 * The parent validates the options, loads the model and picks the facts once (`<out>/meta.json`, as a one-process
 * run writes it), then starts N child `kn` processes with the same options and `--shard k/N --jobs 1 --quiet
 * --out <out>/shards/k-of-N`. Each shard folder gets the parent's meta (with its shard) before its child starts,
 * so no child picks again; rows already finished in `<out>` (a one-process run, or one with another N) are copied
 * into the shard that owns them, so no child repeats them. While the children run, the parent prints one
 * progress line (facts finished / total, time left by engine/experiments/estimate.ts) from the shards' rows.ndjson. When they
 * end, the parent merges every finished fact into `<out>/rows.ndjson` by fact index, byte for byte what a
 * one-process run writes (and `<out>/timing.ndjson`), and removes `<out>/shards` once every fact is finished.
 * Ctrl-C stops the children; a child that dies (killed, out of memory, an error) lets the others finish. Either way
 * the finished facts are merged into `<out>` and kept, and the same command resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KnError } from '../shared/errors';
import { timeLeftMs } from '../engine/experiments';
import { shardIndices } from '../engine/experiments';
import { JOBS_MAX, JOBS_MIN } from '../engine/rules';
import { intOpt, mapArgv } from './args';
import { dur, writeAtomic, type Printer, type ResultRows } from './results';

/** What the `kn` entry point passes to an experiment command (in-process callers, e.g. tests, pass nothing). */
export interface CliContext {
  /** --jobs when it is not given (kn: defaultJobs(os.availableParallelism())); absent: 1 */
  defaultJobs?: number;
  /** the command line that starts `kn` again (node, its flags, the script); absent: src/cli/kn.ts through tsx */
  self?: string[];
}

/** The `--jobs` option (a string option beside each command's own). */
export const JOBS_OPTION = { jobs: { type: 'string' } } as const;

/**
 * `--jobs N` checked against JOBS_MIN..JOBS_MAX (refused naming the flag and the range); absent: the context's
 * default, or 1 for a `--shard k/n` run (a shard is already one piece of a run).
 */
export function jobsArg(v: string | undefined, shard: boolean, ctx: CliContext | undefined): number {
  const n = intOpt(v, 'jobs', JOBS_MIN, JOBS_MAX, undefined);
  if (n !== undefined && n > 1 && shard)
    throw new KnError('bad-input', `--jobs ${n} runs shards of its own; with --shard k/n give --jobs 1 or leave --jobs out`);
  return n ?? (shard ? 1 : Math.max(JOBS_MIN, Math.min(JOBS_MAX, ctx?.defaultJobs ?? 1)));
}

/** The jobs a run of `facts` facts uses: at most one per fact (said on stderr when fewer than asked). */
export function jobsFor(jobs: number, facts: number, print: Printer): number {
  if (jobs > 1 && facts < jobs) {
    print(
      `kn: --jobs ${jobs} but the run has ${facts} fact${facts === 1 ? '' : 's'}: running ${Math.max(1, facts)} job${facts > 1 ? 's' : ''}, one per fact`,
      true,
    );
    return Math.max(1, facts);
  }
  return jobs;
}

/** argv without the options the parent sets for each child (`--out`, `--jobs`, `--shard`, `--quiet`). */
export function childArgv(argv: readonly string[]): string[] {
  return mapArgv(argv, (a, _next, out) => {
    if (a === '--quiet' || /^--(out|jobs|shard)=/.test(a)) return 1;
    if (/^--(out|jobs|shard)$/.test(a)) return 2;
    out.push(a);
    return 1;
  });
}

function selfCommand(ctx: CliContext | undefined): string[] {
  if (ctx?.self?.length) return ctx.self;
  const kn = fileURLToPath(new URL('./kn.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', tsx, kn];
}

/** Appends whole NDJSON lines, fencing off a torn last line (as NdjsonRowSink does). */
async function appendLines(path: string, lines: string[]) {
  if (!lines.length) return;
  let prefix = '';
  if (existsSync(path)) {
    const t = await readFile(path, 'utf8');
    if (t.length && !t.endsWith('\n')) prefix = '\n';
  }
  await appendFile(path, prefix + lines.join(''));
}

/** Newline-terminated, non-blank lines of a file (a fact each in rows.ndjson); re-read only when its size changed. */
class LineCounter {
  private size = -1;
  private count = 0;
  constructor(readonly path: string) {}
  async lines(): Promise<number> {
    let s: number;
    try {
      s = (await stat(this.path)).size;
    } catch {
      return 0;
    }
    if (s === this.size) return this.count;
    // size and count are set together, after the read: a call that overlaps one in flight (the progress timer's and
    // the final line's) reads again instead of returning the count of the size before
    const t = await readFile(this.path, 'utf8');
    const parts = t.split('\n');
    parts.pop(); // the text after the last newline: empty, or a line still being written
    const n = parts.filter((l) => l.trim()).length;
    this.size = Buffer.byteLength(t);
    this.count = n;
    return n;
  }
}

export interface JobsRun<
  M extends { facts: string[]; shard: { k: number; n: number } | null },
  R extends { fact: string; index: number },
  T extends { fact: string; ms: number },
> {
  /** the experiment (`manipulate`, `readings`, `edit`, …): `kn experiment <sub>` */
  sub: string;
  /** the experiment command's own argv (after `experiment <sub>`) */
  argv: string[];
  out: string;
  /** the jobs to run (> 1, at most one per fact: jobsFor) */
  jobs: number;
  /** the run's meta, picked (or resumed) by the parent and written to `<out>/meta.json` */
  meta: M;
  readRows(dir: string, meta: M): Promise<ResultRows<R, T>>;
  print: Printer;
  signal: AbortSignal;
  /** what the progress line counts (`fact`, `edit fact`, …) */
  label: string;
  /** the backend the parent runs on (the children get it as KN_BACKEND) */
  backend?: string;
  ctx?: CliContext;
}

const TAIL = 4000;

/**
 * Runs the shards of `o.meta` in `o.jobs` child processes and merges them into `o.out`; resolves with the facts
 * written in this run and those finished before, or throws (cancelled, or a child lost) after keeping what finished.
 */
export async function runJobs<
  M extends { facts: string[]; shard: { k: number; n: number } | null },
  R extends { fact: string; index: number },
  T extends { fact: string; ms: number },
>(o: JobsRun<M, R, T>): Promise<{ written: number; skipped: number; jobs: number }> {
  const { meta, out, jobs: n } = o;
  const total = meta.facts.length;
  const shardsDir = join(out, 'shards');
  const shards = Array.from({ length: n }, (_, i) => {
    const k = i + 1;
    return { k, dir: join(shardsDir, `${k}-of-${n}`), meta: { ...meta, shard: { k, n } } as M };
  });
  // each shard folder: the parent's meta (so its child resumes instead of picking), and the rows finished in <out>
  const before = await o.readRows(out, meta);
  const timingOf = new Map(before.timings.map((t) => [t.fact, t]));
  let pending = 0;
  const todo: typeof shards = [];
  for (const s of shards) {
    await mkdir(s.dir, { recursive: true });
    if (!existsSync(join(s.dir, 'meta.json'))) await writeAtomic(join(s.dir, 'meta.json'), JSON.stringify(s.meta, null, 1) + '\n');
    const mine = new Set(shardIndices(total, s.meta.shard).map((i) => meta.facts[i]));
    const have = new Set((await o.readRows(s.dir, s.meta)).rows.map((r) => r.fact));
    const copy = before.rows.filter((r) => mine.has(r.fact) && !have.has(r.fact));
    await appendLines(
      join(s.dir, 'rows.ndjson'),
      copy.map((r) => JSON.stringify(r) + '\n'),
    );
    await appendLines(
      join(s.dir, 'timing.ndjson'),
      copy.flatMap((r) => (timingOf.has(r.fact) ? [JSON.stringify(timingOf.get(r.fact)) + '\n'] : [])),
    );
    for (const r of copy) have.add(r.fact);
    const left = [...mine].filter((f) => !have.has(f)).length;
    pending += left;
    if (left) todo.push(s);
  }
  const skipped = total - pending;

  const counters = shards.map((s) => new LineCounter(join(s.dir, 'rows.ndjson')));
  const count = async () => (await Promise.all(counters.map((c) => c.lines()))).reduce((a, b) => a + b, 0);
  const linesAtStart = await count();
  const t0 = Date.now();
  const failures: string[] = [];
  let stopping = false;
  if (todo.length) {
    const [cmd, ...pre] = selfCommand(o.ctx);
    const base = childArgv(o.argv);
    const children: { k: number; proc: ChildProcess; tail: string; done: Promise<void> }[] = [];
    const stopAll = () => {
      stopping = true;
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
    };
    const onExit = () => stopAll();
    process.once('exit', onExit);
    o.signal.addEventListener('abort', stopAll, { once: true });
    const progress = async (force = false) => {
      const finished = Math.max(0, (await count()) - linesAtStart);
      const elapsedMs = Date.now() - t0;
      const eta = timeLeftMs({ elapsedMs, finished, total: pending });
      o.print(
        `kn: ${o.label}s finished ${skipped + finished}/${total}${skipped ? ` (${skipped} before)` : ''} · ${todo.length} job${todo.length > 1 ? 's' : ''} · ${dur(elapsedMs)} elapsed${eta !== null ? ` · about ${dur(eta)} left` : ''}`,
        force,
      );
    };
    const timer = setInterval(() => void progress().catch(() => {}), 1000);
    try {
      for (const s of todo) {
        const args = [...pre, 'experiment', o.sub, ...base, '--shard', `${s.k}/${n}`, '--jobs', '1', '--quiet', '--out', s.dir];
        const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...(o.backend ? { KN_BACKEND: o.backend } : {}) } });
        const c = { k: s.k, proc, tail: '', done: Promise.resolve() };
        proc.stderr!.setEncoding('utf8');
        proc.stderr!.on('data', (d: string) => (c.tail = (c.tail + d).slice(-TAIL)));
        c.done = new Promise<void>((resolve) => {
          proc.on('error', (e) => {
            failures.push(`job ${s.k}/${n} could not start (${e.message})`);
            resolve();
          });
          proc.on('close', (code, sig) => {
            if (code !== 0 && !stopping) {
              const why = sig ? `was killed (${sig})` : `exited with code ${code}`;
              const lines = c.tail.trim().split('\n').filter(Boolean);
              // its own error line, else (an exit without one) its last words
              const last = lines.filter((l) => l.startsWith('kn: error')).pop() ?? (sig ? '' : (lines.pop() ?? ''));
              failures.push(`job ${s.k}/${n} (pid ${proc.pid}) ${why}${last ? `: ${last.replace(/^kn: /, '')}` : ''}`);
            }
            resolve();
          });
        });
        children.push(c);
      }
      o.print(
        `kn: ${todo.length} job${todo.length > 1 ? 's' : ''} (${n} shards of ${total} facts${skipped ? `, ${skipped} done before` : ''}; pids ${children.map((c) => `${c.k}/${n}: ${c.proc.pid}`).join(', ')}) in ${shardsDir}`,
        true,
      );
      await Promise.all(children.map((c) => c.done));
    } finally {
      clearInterval(timer);
      o.signal.removeEventListener('abort', stopAll);
      process.off('exit', onExit);
    }
    await progress(true);
  }

  // merge: every finished fact of <out> and of the shards, by fact index (as `kn experiment merge` writes them)
  const rows = new Map<string, R>(before.rows.map((r) => [r.fact, r]));
  const timings = new Map<string, T>(before.timings.map((t) => [t.fact, t]));
  for (const s of shards) {
    const r = await o.readRows(s.dir, s.meta);
    for (const row of r.rows) if (!rows.has(row.fact)) rows.set(row.fact, row);
    for (const t of r.timings) if (!timings.has(t.fact)) timings.set(t.fact, t);
  }
  const all = [...rows.values()].sort((a, b) => a.index - b.index);
  const index = new Map(meta.facts.map((f, i) => [f, i]));
  await writeAtomic(join(out, 'rows.ndjson'), all.map((r) => JSON.stringify(r) + '\n').join(''));
  await writeAtomic(
    join(out, 'timing.ndjson'),
    [...timings.values()]
      .filter((t) => rows.has(t.fact))
      .sort((a, b) => index.get(a.fact)! - index.get(b.fact)!)
      .map((t) => JSON.stringify(t) + '\n')
      .join(''),
  );
  const finished = all.length;
  const written = Math.max(0, finished - skipped);
  const resume = `run the same command again to resume (finished facts are skipped; any --jobs, or none)`;
  if (o.signal.aborted) throw new KnError('cancelled', `experiment cancelled: ${finished} of ${total} facts are finished and kept in ${out}; ${resume}`);
  if (failures.length) {
    throw new KnError(
      'job-failed',
      `${failures.join('; ')}. ${finished} of ${total} facts are finished and kept in ${out} (the shards in ${shardsDir}); ${resume}`,
    );
  }
  if (finished === total) await rm(shardsDir, { recursive: true, force: true });
  return { written, skipped, jobs: n };
}

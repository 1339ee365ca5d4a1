/**
 * `kn experiment … --jobs N` through the real CLI (`tsx src/cli/kn.ts`, child processes and all) on the bundled
 * demo-causal model with tiny settings (3 facts, 4 languages, M = 2, two methods, no attribution cache): the rows and
 * meta of `--jobs 2` and of `--jobs 5` (clamped to the 3 facts) are byte for byte those of `--jobs 1`; a child
 * killed mid-run leaves the finished facts in --out and a message that says how to resume, and the same command
 * resumes to the one-process rows; Ctrl-C (SIGINT to the parent) stops the children; --jobs 0 and friends are
 * refused before any work; edit and calibrate shard the same way. About a minute in all on an idle 2-core machine.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JOBS_MAX, JOBS_MIN } from '../src/engine/rules';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const TMP = mkdtempSync(join(tmpdir(), 'kn-jobs-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `kn <args>`; `onStderr` sees stderr as it comes (with the child process, to signal it). */
function kn(args: string[], onStderr?: (text: string, proc: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve) => {
    const proc = spawn(TSX, ['src/cli/kn.ts', ...args], { cwd: ROOT, env: { ...process.env, KN_BACKEND: '' } });
    let stdout = '',
      stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, proc);
    });
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const result = (r: Run) => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const SMALL = ['--facts', '3', '--langs', 'en,fr,fi,ja', '--steps', '2', '--methods', 'matrice,random', '--no-cache'];
const manipulate = (out: string, ...extra: string[]) => ['experiment', 'manipulate', ...SMALL, ...extra, '--out', join(TMP, out)];

describe('kn experiment manipulate --jobs', () => {
  it('--jobs 2 and --jobs 5 (3 facts: 3 jobs, and it says so) write the meta and rows of --jobs 1 byte for byte, with one progress line', async () => {
    const one = await kn(manipulate('one', '--jobs', '1'));
    expect(result(one)).toEqual({ out: join(TMP, 'one'), facts: 3, shard: null, written: 3, skipped: 0 });
    // one process: no child, so no job line
    expect(one.stderr).not.toMatch(/ jobs? \(/);

    const [two, five] = await Promise.all([kn(manipulate('two', '--jobs', '2')), kn(manipulate('five', '--jobs', '5'))]);
    expect(result(two)).toEqual({ out: join(TMP, 'two'), facts: 3, shard: null, written: 3, skipped: 0, jobs: 2 });
    expect(result(five)).toMatchObject({ facts: 3, written: 3, jobs: 3 });
    expect(five.stderr).toContain('kn: --jobs 5 but the run has 3 facts: running 3 jobs, one per fact');
    for (const [dir, r, n] of [
      ['two', two, 2],
      ['five', five, 3],
    ] as const) {
      const d = join(TMP, dir);
      expect(read(d, 'rows.ndjson')).toBe(read(join(TMP, 'one'), 'rows.ndjson'));
      expect(read(d, 'meta.json')).toBe(read(join(TMP, 'one'), 'meta.json'));
      expect(
        read(d, 'timing.ndjson')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).fact),
      ).toEqual(JSON.parse(read(d, 'meta.json')).facts);
      // the shard folders are gone once every fact is merged: the folder is a one-process run's
      expect(readdirSync(d).sort()).toEqual(['meta.json', 'rows.ndjson', 'timing.ndjson']);
      // one combined progress line (the children run --quiet): facts finished over all shards
      expect(r.stderr).toMatch(new RegExp(`kn: ${n} jobs \\(${n} shards of 3 facts; pids `));
      expect(r.stderr).toMatch(/kn: facts finished 3\/3 · \d jobs · /);
      expect(r.stderr).not.toMatch(/kn: fact \d\/\d/);
    }
    // a re-run has nothing left to do and starts no child
    const again = await kn(manipulate('two', '--jobs', '2'));
    expect(result(again)).toMatchObject({ written: 0, skipped: 3, jobs: 2 });
    expect(again.stderr).not.toContain('pids');
    expect(read(join(TMP, 'two'), 'rows.ndjson')).toBe(read(join(TMP, 'one'), 'rows.ndjson'));
  }, 600_000);

  it('a child killed mid-run: the finished facts are kept and the message says how to resume; the same command resumes to the rows of --jobs 1', async () => {
    let victim = 0;
    const lost = await kn(manipulate('lost', '--jobs', '2'), (text) => {
      // shard 2/2 holds the second fact only: kill its process as soon as it started, before it finished anything
      const m = /pids 1\/2: \d+, 2\/2: (\d+)/.exec(text);
      if (m && !victim) {
        victim = Number(m[1]);
        process.kill(victim, 'SIGKILL');
      }
    });
    expect(victim).toBeGreaterThan(0);
    expect(lost.code).toBe(2);
    expect(lost.stderr).toContain(
      `kn: error [job-failed]: job 2/2 (pid ${victim}) was killed (SIGKILL). 2 of 3 facts are finished and kept in ${join(TMP, 'lost')}`,
    );
    expect(lost.stderr).toContain('run the same command again to resume');
    const kept = read(join(TMP, 'lost'), 'rows.ndjson').trim().split('\n');
    expect(kept.length).toBe(2);
    const oneRows = read(join(TMP, 'one'), 'rows.ndjson').trim().split('\n');
    expect(kept).toEqual([oneRows[0], oneRows[2]]);

    const resumed = await kn(manipulate('lost', '--jobs', '2'));
    expect(result(resumed)).toMatchObject({ written: 1, skipped: 2, jobs: 2 });
    expect(resumed.stderr).toMatch(/kn: 1 job \(2 shards of 3 facts, 2 done before; pids 2\/2: \d+\)/);
    expect(read(join(TMP, 'lost'), 'rows.ndjson')).toBe(read(join(TMP, 'one'), 'rows.ndjson'));
    expect(existsSync(join(TMP, 'lost', 'shards'))).toBe(false);
  }, 600_000);

  it('Ctrl-C (SIGINT to the parent) stops every child and says how to resume', async () => {
    let pids: number[] = [];
    const r = await kn(manipulate('cancelled', '--jobs', '2'), (text, proc) => {
      const m = /pids 1\/2: (\d+), 2\/2: (\d+)/.exec(text);
      if (m && !pids.length) {
        pids = [Number(m[1]), Number(m[2])];
        proc.kill('SIGINT');
      }
    });
    expect(pids.length).toBe(2);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/kn: error \[cancelled\]: experiment cancelled: \d of 3 facts are finished and kept in .*; run the same command again to resume/);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 600_000);

  it('refuses --jobs 0, --jobs above the limit and --jobs N with --shard, naming the flag and the range, before any work', async () => {
    const range = `${JOBS_MIN}..${JOBS_MAX}`;
    const runs = await Promise.all([
      kn(manipulate('never-0', '--jobs', '0')),
      kn(manipulate('never-big', '--jobs', String(JOBS_MAX + 1))),
      kn(manipulate('never-x', '--jobs', 'two')),
      kn(manipulate('never-shard', '--jobs', '2', '--shard', '1/2')),
      kn(['experiment', 'calibrate', '--jobs', '0', '--out', join(TMP, 'never-c')]),
    ]);
    const msgs = [
      `--jobs must be an integer in ${range}, got "0"`,
      `--jobs must be an integer in ${range}, got "${JOBS_MAX + 1}"`,
      `--jobs must be an integer in ${range}, got "two"`,
      '--jobs 2 runs shards of its own; with --shard k/n give --jobs 1 or leave --jobs out',
      `--jobs must be an integer in ${range}, got "0"`,
    ];
    runs.forEach((r, i) => {
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`kn: error [bad-input]: ${msgs[i]}`);
    });
    for (const d of ['never-0', 'never-big', 'never-x', 'never-shard', 'never-c']) expect(existsSync(join(TMP, d))).toBe(false);
  }, 600_000);
});

describe('kn experiment edit|calibrate --jobs', () => {
  /** edit rows carry each step's wall time (`ms`), which no two runs share: compared without them */
  const noMs = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.stringify(JSON.parse(l, (k, v) => (k === 'ms' ? undefined : v))));

  it('edit --jobs 2 = --jobs 1 (rows without their wall times, meta byte for byte)', async () => {
    const args = (out: string, jobs: string) => [
      'experiment',
      'edit',
      '--facts',
      '2',
      '--steps',
      '2',
      '--langs',
      'en,fr,fi,ja',
      '--methods',
      'matrice,random',
      '--unrelated',
      '2',
      '--no-cache',
      '--jobs',
      jobs,
      '--out',
      join(TMP, out),
    ];
    const [one, two] = await Promise.all([kn(args('edit-1', '1')), kn(args('edit-2', '2'))]);
    expect(result(one)).toMatchObject({ experiment: 'edit', facts: 2, written: 2 });
    expect(result(two)).toMatchObject({ experiment: 'edit', facts: 2, written: 2, jobs: 2 });
    expect(two.stderr).toMatch(/kn: edit facts finished 2\/2 · 2 jobs/);
    expect(noMs(read(join(TMP, 'edit-2'), 'rows.ndjson'))).toEqual(noMs(read(join(TMP, 'edit-1'), 'rows.ndjson')));
    expect(read(join(TMP, 'edit-2'), 'meta.json')).toBe(read(join(TMP, 'edit-1'), 'meta.json'));
  }, 600_000);

  it('calibrate --jobs 2 = --jobs 1: rows, meta and the report with its calibration.json', async () => {
    const args = (out: string, jobs: string) => [
      'experiment',
      'calibrate',
      '--facts',
      '3',
      '--steps',
      '2',
      '--langs',
      'en,fr,fi,ja',
      '--grid-alpha2',
      '1',
      '--grid-beta2',
      '0.5,1',
      '--grid-tau',
      '0.1',
      '--no-cache',
      '--jobs',
      jobs,
      '--out',
      join(TMP, out),
    ];
    const [one, two] = await Promise.all([kn(args('cal-1', '1')), kn(args('cal-2', '2'))]);
    const a = result(one),
      b = result(two);
    expect(b).toEqual({ ...a, out: join(TMP, 'cal-2'), report: join(TMP, 'cal-2', 'report', 'report.md') });
    for (const f of ['rows.ndjson', 'meta.json', 'report/report.md', 'report/calibration.json', 'report/frontier.csv', 'report/summary.json']) {
      if (existsSync(join(TMP, 'cal-1', f))) expect(read(join(TMP, 'cal-2'), f), f).toBe(read(join(TMP, 'cal-1'), f));
    }
  }, 600_000);
});

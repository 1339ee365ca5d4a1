/**
 * Byte-identity guard (issue 20: "CLI output and file formats stay byte-identical"): fixed results folders
 * are reported with `kn experiment report <dir> --out <tmp> --json` (spawned, as a user runs it) and the
 * stdout and every report file are compared byte for byte with tests/fixtures/golden/out/; the runners
 * (manipulate, edit, enhance, inject, calibrate) are re-run in-process with tiny settings on the bundled causal
 * demo model and their meta.json and rows.ndjson compared with the committed inputs (wall-time fields, `ms`,
 * zeroed: they differ run to run).
 *
 * Inputs: tests/fixtures/golden/in/demo-causal (docs/experiments/demo-causal's 100 manipulation rows at the redesign) and
 * tests/fixtures/golden/in/<kind>/ (written by
 * the runners below). Regenerate everything (only when a format change is intended, and say so in the commit):
 *
 *   KN_GOLDEN_WRITE=1 nice -n 5 npx vitest run tests/runner/golden-output.test.ts
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelArg } from '../../src/engine/index';
import { ready, TMP } from '../engine/setup';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const GOLDEN = join(ROOT, 'tests', 'fixtures', 'golden');
const WRITE = process.env.KN_GOLDEN_WRITE === '1';
const DIR = join(TMP, 'golden');
const LONG = 600_000;

const load = async (m: string | undefined, dtype: string | undefined) => {
  await ready;
  const arg = m ?? 'bundled:demo-causal';
  return { model: await loadModelArg(arg, { dtype: (dtype ?? 'int8') as 'int8' }), arg };
};

// the selection settings named, so that a recalibration of the bundled model (its calibration.json) leaves these runs alone
const PINNED = ['--alpha2', '1', '--beta2', '1', '--tau', '0.1'];
const small = ['--facts', '2', '--steps', '4', '--langs', 'en,fr,fi,ja', ...PINNED, '--no-cache', '--quiet'];
/** the runs whose folders are the report inputs; each re-run must write the same rows */
const RUNS: { name: string; run: (out: string) => Promise<unknown> }[] = [
  {
    name: 'manipulate',
    run: async (out) =>
      (await import('../../src/cli/experiment-cmd')).runExperiment('manipulate', [...small, '--methods', 'matrice,random,amig', '--out', out], load),
  },
  {
    name: 'edit',
    run: async (out) =>
      (await import('../../src/cli/edit-cmd')).runEditCommand('edit', [...small, '--methods', 'matrice,random,layer', '--unrelated', '2', '--out', out], load),
  },
  {
    name: 'enhance',
    run: async (out) => (await import('../../src/cli/edit-cmd')).runEditCommand('enhance', [...small, '--methods', 'matrice,random', '--out', out], load),
  },
  {
    name: 'inject',
    run: async (out) =>
      (await import('../../src/cli/edit-cmd')).runEditCommand(
        'inject',
        [
          '--facts',
          '1',
          '--steps',
          '4',
          '--langs',
          'en,fr,fi,ja',
          '--methods',
          'direct,matrice',
          ...PINNED,
          '--train-steps',
          '3',
          '--old',
          '2',
          '--no-cache',
          '--quiet',
          '--out',
          out,
        ],
        load,
      ),
  },
  {
    name: 'calibrate',
    run: async (out) =>
      (await import('../../src/cli/calibrate-cmd')).runCalibrate(
        [
          '--facts',
          '2',
          '--langs',
          'en,fr',
          '--steps',
          '2',
          '--grid-alpha2',
          '1',
          '--grid-beta2',
          '0,1',
          '--grid-tau',
          '0.2',
          '--no-cache',
          '--quiet',
          '--out',
          out,
        ],
        load,
      ),
  },
];

/** rows with their wall times (`ms`, any depth) zeroed */
const stable = (ndjson: string) =>
  ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.stringify(JSON.parse(l), (k, v) => (k === 'ms' ? 0 : v)))
    .join('\n');

function kn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/kn.ts', ...args], { cwd: ROOT, timeout: 120_000, env: { ...process.env, KN_BACKEND: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const REPORTS: { name: string; dir: string }[] = [
  // docs/experiments/demo-causal as it was at the redesign (100 manipulation rows); kept here, since docs/ is re-run
  { name: 'demo-causal', dir: join(GOLDEN, 'in', 'demo-causal') },
  ...RUNS.map((r) => ({ name: r.name, dir: join(GOLDEN, 'in', r.name) })),
];

describe('golden output (byte-identical across the redesign)', () => {
  beforeAll(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    if (!WRITE) return;
    // write mode: the inputs first (the runners' folders, without their report/), then the reports below
    for (const r of RUNS) {
      const out = join(DIR, 'run', r.name);
      await r.run(out);
      const dest = join(GOLDEN, 'in', r.name);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      for (const f of ['meta.json', 'rows.ndjson', 'timing.ndjson']) if (existsSync(join(out, f))) cpSync(join(out, f), join(dest, f));
    }
  }, LONG);

  it.each(RUNS.map((r) => [r.name, r] as const))(
    'the %s runner writes the committed meta and rows',
    async (_name, r) => {
      if (WRITE) return;
      const out = join(DIR, 'run', r.name);
      await r.run(out);
      const want = join(GOLDEN, 'in', r.name);
      expect(readFileSync(join(out, 'meta.json'), 'utf8')).toBe(readFileSync(join(want, 'meta.json'), 'utf8'));
      expect(stable(readFileSync(join(out, 'rows.ndjson'), 'utf8'))).toBe(stable(readFileSync(join(want, 'rows.ndjson'), 'utf8')));
    },
    LONG,
  );

  it.each(REPORTS.map((r) => [r.name, r] as const))(
    'kn experiment report %s --json: stdout and files byte for byte',
    async (name, r) => {
      const out = join(DIR, 'report', name);
      const res = await kn(['experiment', 'report', r.dir, '--out', out, '--json']);
      expect(res.stderr.includes('error')).toBe(false);
      expect(res.code).toBe(0);
      const want = join(GOLDEN, 'out', name);
      if (WRITE) {
        rmSync(want, { recursive: true, force: true });
        mkdirSync(want, { recursive: true });
        writeFileSync(join(want, 'stdout.json'), res.stdout);
        writeFileSync(join(want, 'stderr.txt'), res.stderr);
        for (const f of readdirSync(out)) cpSync(join(out, f), join(want, 'files', f));
        return;
      }
      expect(res.stdout).toBe(readFileSync(join(want, 'stdout.json'), 'utf8'));
      expect(res.stderr).toBe(readFileSync(join(want, 'stderr.txt'), 'utf8'));
      const files = readdirSync(join(want, 'files')).sort();
      expect(readdirSync(out).sort()).toEqual(files);
      for (const f of files) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(want, 'files', f), 'utf8'));
    },
    LONG,
  );
});

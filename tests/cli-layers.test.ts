/**
 * `kn attribute` / `kn localize --layers` (partial runs), the refusals of bad values (exit 2, naming the value
 * and the model's layer count), and a model that cannot fit even streamed refused before its weights are read.
 * Spawns the CLI (tsx src/cli/kn.ts) as tests/cli.test.ts does; seven spawns.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tiny, TMP } from './engine/setup';
import { relErr } from './helpers/compare';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const REF = join(ROOT, 'tests', 'fixtures', 'reference', 'models', 'gpt2');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function kn(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/kn.ts', ...args], { cwd: ROOT, timeout: 120_000, env: { ...process.env, KN_BACKEND: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** one refusal: exit 2, nothing on stdout, exactly `kn: error [code]: message` */
function refused(r: Run, code: string, message: string) {
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`kn: error [${code}]: ${message}\n`);
  expect(r.code).toBe(2);
}

describe('kn --layers', () => {
  it('kn attribute --layers 1 attributes layer 1 only, equal to transformers (≤ 1e-3 rel)', { timeout: 180_000 }, async () => {
    // the reference fixture: transformers' SAIG of layer 1, ⟨PAD⟩ baselines, right Riemann sum, M = 16
    const exp = JSON.parse(readFileSync(join(REF, 'expected.json'), 'utf8'));
    const q = exp.queries[0];
    const r = await kn(
      'attribute',
      '--model',
      REF,
      '--dtype',
      'f32',
      '--prompt',
      q.prompt,
      '--target',
      q.target,
      '--layers',
      String(q.ig.layer),
      '--steps',
      String(q.ig.steps),
      '--quadrature',
      'riemann-right',
      '--baseline',
      'pad',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.layers).toEqual([q.ig.layer]);
    out.raw.forEach((l: number[], i: number) => expect(l.length).toBe(i === q.ig.layer ? q.ig.raw.length : 0));
    expect(relErr(out.raw[q.ig.layer], q.ig.raw)).toBeLessThan(1e-3);
  });

  it('kn localize --layers 0 selects neurons of layer 0 only', { timeout: 180_000 }, async () => {
    const r = await kn('localize', '--fact', 'P36:0', '--langs', 'en', '--layers', '0', '--steps', '2', '--no-cache', '--no-recheck', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.layers).toEqual([0]);
    for (const [l] of out.neurons as [number, number][]) expect(l).toBe(0);
  });

  it('out-of-range and malformed --layers are refused naming the value and the layer count', { timeout: 180_000 }, async () => {
    const t = await tiny('gpt2', {}, 'cli-layers'); // 2 layers
    const run = (v: string) =>
      kn('attribute', '--model', t.dir, '--prompt', 'The capital of France is', '--target', ' Paris', '--layers', v, '--steps', '2', '--json');
    const tail = 'the model has 2 layers (0..1), e.g. --layers 0,1 or --layers 0-1 or --layers all';
    const [big, word, empty] = await Promise.all([run('0,2'), run('one'), run('1-0')]);
    refused(big, 'bad-input', `--layers "0,2": layer 2 does not exist; ${tail}`);
    refused(word, 'bad-input', `--layers "one": "one" is not a layer index; ${tail}`);
    refused(empty, 'bad-input', `--layers "1-0": the range 1-0 is empty; ${tail}`);
  });
});

describe('a model that cannot fit even streamed', () => {
  it('is refused before its weights are read, with the numbers', { timeout: 120_000 }, async () => {
    // a GPT-2 config with d = 16384: one block's matrices are 12·d² float32 = 12 GiB, above wasm's 2 GiB; the
    // folder has no weights at all, so anything but an up-front refusal would fail on the missing file instead
    const t = await tiny('gpt2', {}, 'cli-huge');
    const dir = join(TMP, 'huge-gpt2');
    mkdirSync(dir, { recursive: true });
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(t.dir, f), join(dir, f));
    const cfg = JSON.parse(readFileSync(join(t.dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_embd: 16384, n_head: 16, n_inner: null }));
    const r = await kn('attribute', '--model', dir, '--prompt', 'The capital of France is', '--target', ' Paris', '--layers', '0', '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^kn: error \[too-large\]: the model has [\d.]+M parameters and needs at least [\d.]+ GiB of device memory in int8, even attributing layer by layer \(.*one layer's weights as float32 12\.00 GiB.*\); this device allows 2\.00 GiB; nothing was loaded\n$/,
    );
  });
});

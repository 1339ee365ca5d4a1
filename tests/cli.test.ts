/**
 * The headless CLI (`tsx src/cli/kn.ts`), spawned as a child process: `probe --json` prints exactly one
 * JSON object on stdout; errors go to stderr as `kn: error [code]: message` with a non-zero exit code.
 * Bad values (--backend, bundled:<name>, negative numbers) are refused with our messages, before any
 * work. Thirteen spawns in all (each costs about a second).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/engine/index';
import { maxAbsDiff, ready, tiny, TMP } from './engine/setup';
import type { TinyCheckpoint } from './helpers/tiny-checkpoints';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function kn(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/kn.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { ...process.env, KN_BACKEND: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

interface ProbeJson {
  ids: number[];
  position: number;
  top: { id: number; token: string; prob: number }[];
  target?: { text: string; id: number; prob: number };
}

/** stdout must be exactly one JSON object on one line. */
function oneJson(r: Run): ProbeJson {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.endsWith('\n')).toBe(true);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines.length).toBe(1);
  const obj = JSON.parse(lines[0]);
  expect(typeof obj).toBe('object');
  expect(Array.isArray(obj)).toBe(false);
  return obj;
}

function asArray(top: ProbeJson['top'], vocab: number): Float64Array {
  const p = new Float64Array(vocab);
  for (const t of top) p[t.id] = t.prob;
  return p;
}

const PROMPT = 'The capital of France is';
const GPT2_VOCAB = 531; // the tiny byte-level BPE tokenizer's size; --top this many gives the whole distribution

let gpt2: TinyCheckpoint;
let bert: TinyCheckpoint;
let full: ProbeJson; // gpt2, int8, --top 531, --target Paris

beforeAll(async () => {
  gpt2 = await tiny('gpt2', { seed: 21 });
  bert = await tiny('bert', { seed: 21 });
});

describe('kn probe --json', () => {
  it('causal model: one JSON object {ids, position, top, target}; target is the first token of " Paris" as a continuation', async () => {
    const r = await kn('probe', '--model', gpt2.dir, '--prompt', PROMPT, '--target', 'Paris', '--top', String(GPT2_VOCAB), '--json');
    expect(r.stderr).toBe('');
    full = oneJson(r);
    expect(Object.keys(full).sort()).toEqual(['ids', 'position', 'target', 'top']);
    for (const t of full.top) expect(Object.keys(t).sort()).toEqual(['id', 'prob', 'token']);
    expect(Object.keys(full.target!).sort()).toEqual(['id', 'prob', 'text']);
    expect(full.target!.text).toBe('Paris');

    // the tokenizer, independently of the engine
    const tok = new Tokenizer(gpt2.tokenizerJson, gpt2.tokenizerConfig);
    const ids = tok.encode(PROMPT).ids;
    expect(full.ids).toEqual(ids);
    expect(full.position).toBe(ids.length - 1);
    const withTarget = tok.encode(PROMPT + ' Paris').ids;
    expect(withTarget.slice(0, ids.length)).toEqual(ids);
    expect(full.target!.id).toBe(withTarget[ids.length]);
    expect(tok.decode([full.target!.id])).toBe(' Paris');

    // the whole distribution came back: target.prob is the probability of target.id
    expect(full.top.length).toBe(GPT2_VOCAB);
    expect(new Set(full.top.map((t) => t.id)).size).toBe(GPT2_VOCAB);
    const p = asArray(full.top, GPT2_VOCAB);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(full.target!.prob).toBe(p[full.target!.id]);
    for (let i = 1; i < full.top.length; i++) expect(full.top[i].prob).toBeLessThanOrEqual(full.top[i - 1].prob);

    // and it is what the engine gives in-process (default dtype int8)
    await ready;
    const m = await loadModel({ type: 'folder', path: gpt2.dir });
    try {
      const e = await m.probe(PROMPT, { target: 'Paris', topK: GPT2_VOCAB });
      expect(e.target!.id).toBe(full.target!.id);
      expect(maxAbsDiff(asArray(e.top, GPT2_VOCAB), p)).toBeLessThanOrEqual(1e-6);
    } finally {
      m.dispose();
    }
  });

  it('--top 3 gives 3 entries sorted by descending probability (the 3 most likely)', async () => {
    const r = oneJson(await kn('probe', '--model', gpt2.dir, '--prompt', PROMPT, '--top', '3', '--json'));
    expect(Object.keys(r).sort()).toEqual(['ids', 'position', 'top']); // no --target, no target key
    expect(r.top.length).toBe(3);
    expect(r.top[0].prob).toBeGreaterThanOrEqual(r.top[1].prob);
    expect(r.top[1].prob).toBeGreaterThanOrEqual(r.top[2].prob);
    expect(r.top[0].prob).toBeGreaterThan(r.top[2].prob);
    expect(full).toBeDefined();
    expect(r.top.map((t) => t.id)).toEqual(full.top.slice(0, 3).map((t) => t.id));
  });

  it('masked model: position is the index of the [MASK] id', async () => {
    const r = oneJson(await kn('probe', '--model', bert.dir, '--prompt', 'the capital of france is [MASK] .', '--target', 'paris', '--top', '5', '--json'));
    const maskId = bert.special.mask.id;
    expect(r.ids.filter((i) => i === maskId).length).toBe(1);
    expect(r.position).toBe(r.ids.indexOf(maskId));
    expect(r.ids[0]).toBe(bert.special.cls.id);
    expect(r.ids[r.ids.length - 1]).toBe(bert.special.sep.id);
    const tok = new Tokenizer(bert.tokenizerJson, bert.tokenizerConfig);
    expect(r.target!.id).toBe(tok.encode('paris', { add_special_tokens: false }).ids[0]);
    expect(r.top.length).toBe(5);
    const inTop = r.top.find((t) => t.id === r.target!.id);
    if (inTop) expect(r.target!.prob).toBe(inTop.prob);
    else expect(r.target!.prob).toBeLessThanOrEqual(r.top[4].prob);
  });

  it('an error (missing folder) exits non-zero with "kn: error [code]: message" on stderr and nothing on stdout', async () => {
    const missing = join(TMP, 'no-such-model');
    const r = await kn('probe', '--model', missing, '--prompt', PROMPT, '--json');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^kn: error \[missing-file\]: .+\n$/);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain('folder does not exist');
    expect(r.stderr.trimEnd().split('\n').length).toBe(1);
  });

  it('--dtype f32 and the default int8 give probabilities within 5e-3, but not identical', async () => {
    const f = oneJson(await kn('probe', '--model', gpt2.dir, '--prompt', PROMPT, '--target', 'Paris', '--top', String(GPT2_VOCAB), '--dtype', 'f32', '--json'));
    expect(full).toBeDefined();
    expect(f.ids).toEqual(full.ids);
    expect(f.target!.id).toBe(full.target!.id);
    const d = maxAbsDiff(asArray(f.top, GPT2_VOCAB), asArray(full.top, GPT2_VOCAB));
    expect(d).toBeLessThan(5e-3);
    expect(d).toBeGreaterThan(0);
    expect(f.target!.prob).not.toBe(full.target!.prob);
  });
});

describe('kn refuses bad values naming them and what is accepted', () => {
  /** one refusal: exit 2, nothing on stdout, exactly `kn: error [code]: message` */
  function refused(r: Run, code: string, message: string) {
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kn: error [${code}]: ${message}\n`);
    expect(r.code).toBe(2);
  }
  const BACKEND = (bad: string, extra = '') =>
    `unknown backend "${bad}"; the names are webgpu, wasm, cpu (--backend in the CLI: one name, or a comma-separated order to try)${extra}`;

  it('--backend: one rule for every command (backend, probe, experiment), and a good name is used', { timeout: 180_000 }, async () => {
    refused(await kn('backend', '--backend', 'nonsense', '--json'), 'bad-input', BACKEND('nonsense'));
    refused(
      await kn('probe', '--backend', 'webgl', '--prompt', PROMPT, '--json'),
      'bad-input',
      BACKEND('webgl', "; webgl runs only in the browser (the page's ?backend=)"),
    );
    refused(await kn('experiment', 'manipulate', '--facts', '1', '--backend=nonsense', '--out', join(TMP, 'never-written')), 'bad-input', BACKEND('nonsense'));
    expect(existsSync(join(TMP, 'never-written'))).toBe(false);
    expect(oneJson(await kn('backend', '--backend', 'cpu', '--json'))).toMatchObject({ name: 'cpu' });
    const r = await kn('probe', '--model', gpt2.dir, '--backend', 'cpu', '--prompt', PROMPT, '--top', '3', '--json');
    expect(oneJson(r).top.length).toBe(3);
  });

  it('--model bundled:<no such name> lists the bundled models', { timeout: 180_000 }, async () => {
    refused(
      await kn('probe', '--model', 'bundled:nope', '--prompt', PROMPT, '--json'),
      'missing-file',
      'no bundled model is named "nope"; the bundled models are demo-causal, demo-masked (bundled:<name>)',
    );
  });

  it('a negative number reaches the option\'s range check (no "argument is ambiguous")', { timeout: 180_000 }, async () => {
    refused(
      await kn('experiment', 'manipulate', '--facts', '-2', '--out', join(TMP, 'never-written')),
      'bad-input',
      '--facts must be an integer in 1..100000, got "-2"',
    );
    refused(
      await kn('experiment', 'edit', '--facts', '5', '--unrelated', '-1', '--out', join(TMP, 'never-written')),
      'bad-input',
      '--unrelated must be an integer in 0..100, got "-1"',
    );
    refused(await kn('probe', '--model', gpt2.dir, '--prompt', PROMPT, '--top', '-3', '--json'), 'bad-input', '--top must be an integer in 1..1000, got "-3"');
    refused(await kn('eval', '--limit', '-5', '--json'), 'bad-input', '--limit must be a positive integer, got "-5"');
    expect(existsSync(join(TMP, 'never-written'))).toBe(false);
  });
});

describe('kn export', () => {
  it('writes a kn-int8 bundle that loads and predicts exactly like the int8 model', async () => {
    const out = join(TMP, 'cli-export');
    const r = await kn('export', '--model', gpt2.dir, '--out', out, '--shard-mb', '1');
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.out).toBe(out);
    expect(res.shards).toBeGreaterThanOrEqual(1);
    for (const f of ['kn-manifest.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'weights-00001.bin']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(full).toBeDefined();
    await ready;
    const m = await loadModel({ type: 'folder', path: out });
    try {
      const e = await m.probe(PROMPT, { target: 'Paris', topK: GPT2_VOCAB });
      expect(e.target!.id).toBe(full.target!.id);
      expect(maxAbsDiff(asArray(e.top, GPT2_VOCAB), asArray(full.top, GPT2_VOCAB))).toBeLessThanOrEqual(1e-6);
    } finally {
      m.dispose();
    }
  });
});

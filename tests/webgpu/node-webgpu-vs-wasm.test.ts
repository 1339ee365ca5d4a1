/**
 * `--backend webgpu` in Node (Dawn's bindings, src/cli/node-webgpu.ts) computes what wasm computes, and what
 * Hugging Face transformers computed: every family's tiny transformers-written checkpoint
 * (tests/fixtures/reference/models/<family>, expected.json from scripts/reference/models.py in float64).
 *
 * Per family, one query: phase 1 on wasm, phase 2 on WebGPU (SwiftShader's Vulkan driver on a machine without
 * a GPU), the same engine code.
 * - float32 weights: full-vocabulary probabilities WebGPU vs wasm ≤ 1e-5 (absolute) and vs transformers' top-k
 *   ≤ 1e-5; SAIG attributions of every layer (⟨PAD⟩ baselines, M = 3) WebGPU vs wasm ≤ 1e-4 relative; the
 *   fixture's layer at its M (right Riemann) vs transformers ≤ 1e-3 relative (the bound of
 *   tests/reference/transformers.test.ts).
 * - int8 weights: packed int8 kernels on WebGPU vs wasm's dequantized int8 — probabilities ≤ 1e-5, attributions
 *   ≤ 1e-4 relative (the same int8 values, two kernels).
 * And the CLI: `kn backend --backend webgpu --json` names the adapter, `kn probe` agrees with wasm, and a
 * Vulkan driver that is not there is refused naming VK_ICD_FILENAMES.
 * Without Dawn or Vulkan the file is skipped with the reason, except under CI=1, where it fails.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend/backend';
import { loadModel, type LoadedModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/attribution/attribute';
import type { BackendInfo, LoadOptions } from '../../src/shared/types';
import { installNodeWebGPU, SWIFTSHADER_ICD, useSwiftShaderIfNoDriverChosen } from '../../src/cli/node-webgpu';
import '../../src/engine/source/source-node';
import { relErr } from '../helpers/compare';

const REF = join(process.cwd(), 'tests', 'fixtures', 'reference', 'models');
const FAMILIES = ['gpt2', 'llama', 'qwen2', 'qwen3', 'bloom', 'gemma2', 'gemma3', 'bert', 'xlmr'];

interface Expected {
  queries: {
    prompt: string;
    target: string;
    targetId: number;
    position: number;
    ids: number[];
    top: [number, number][];
    ig: { layer: number; steps: number; raw: number[] };
  }[];
}

useSwiftShaderIfNoDriverChosen();
const why = await installNodeWebGPU();
let unavailable = why;
if (!why) {
  // is there an adapter at all? (initBackend below switches between wasm and webgpu per phase)
  try {
    const adapter = await (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu.requestAdapter();
    if (!adapter) unavailable = 'no WebGPU adapter';
  } catch (e) {
    unavailable = String(e);
  }
}
if (unavailable && process.env.CI) throw new Error(`WebGPU in Node is unavailable: ${unavailable} (.ci/run installs libvulkan1 and chromium's SwiftShader)`);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function probs(m: LoadedModel, ids: number[], pos: number): Promise<Float32Array> {
  const t = tf.tidy(() => tf.softmax(m.logitsAt([ids], pos)).reshape([-1]));
  const p = (await t.data()) as Float32Array;
  t.dispose();
  return p;
}

interface Run {
  probs: Float32Array;
  /** every layer, ⟨PAD⟩ baselines, M = 3 */
  all: Float64Array[];
  /** the fixture's layer at the fixture's M (right Riemann), only float32 */
  fixtureLayer?: Float64Array;
}

/** fixture folders with a gzip'd tokenizer.json are unpacked into a temp copy */
const folders = new Map<string, string>();
function folder(fam: string): string {
  const dir = join(REF, fam);
  if (!existsSync(join(dir, 'tokenizer.json.gz'))) return dir;
  let f = folders.get(fam);
  if (!f) {
    f = mkdtempSync(join(tmpdir(), `kn-webgpu-${fam}-`));
    cpSync(dir, f, { recursive: true });
    writeFileSync(join(f, 'tokenizer.json'), gunzipSync(readFileSync(join(dir, 'tokenizer.json.gz'))));
    folders.set(fam, f);
  }
  return f;
}

async function runFamily(fam: string, opts: LoadOptions): Promise<Run> {
  const exp = JSON.parse(readFileSync(join(REF, fam, 'expected.json'), 'utf8')) as Expected;
  const q = exp.queries[0];
  const m = await loadModel({ type: 'folder', path: folder(fam) }, opts);
  try {
    const p = await probs(m, q.ids, q.position);
    const a = await attributeQuery(m, q.prompt, q.target, { steps: 3, baseline: 'pad' });
    const run: Run = { probs: p, all: a.raw };
    if (opts.dtype === 'f32') {
      const f = await attributeQuery(m, q.prompt, q.target, { steps: q.ig.steps, baseline: 'pad', layers: [q.ig.layer], quadrature: 'riemann-right' });
      run.fixtureLayer = f.raw[q.ig.layer];
    }
    return run;
  } finally {
    m.dispose();
  }
}

const DTYPES = ['f32', 'int8'] as const;
const wasm = new Map<string, Run>();
let gpu: BackendInfo | null = null;

describe.skipIf(!!unavailable)('--backend webgpu in Node = wasm = transformers, every family', () => {
  beforeAll(async () => {
    // phase 1: wasm
    const w = await initBackend({ prefer: ['wasm'] });
    expect(w.name).toBe('wasm');
    for (const fam of FAMILIES) for (const dtype of DTYPES) wasm.set(`${fam}/${dtype}`, await runFamily(fam, { dtype }));
    // phase 2: WebGPU, a software adapter allowed because it is asked for alone
    gpu = await initBackend({ prefer: ['webgpu'] });
    expect(gpu.name, JSON.stringify(gpu.fallbacks)).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(gpu.adapter).toBeDefined();
    console.log(`WebGPU in Node: ${gpu.detail}; adapter ${JSON.stringify(gpu.adapter)}`);
  }, 600_000);
  afterAll(() => {
    for (const f of folders.values()) rmSync(f, { recursive: true, force: true });
  });

  for (const fam of FAMILIES) {
    it(`${fam}: probabilities and attributions on WebGPU = wasm (float32 and int8) and = transformers`, async () => {
      const exp = JSON.parse(readFileSync(join(REF, fam, 'expected.json'), 'utf8')) as Expected;
      const q = exp.queries[0];
      const log: string[] = [];
      for (const dtype of DTYPES) {
        const g = await runFamily(fam, { dtype });
        const w = wasm.get(`${fam}/${dtype}`)!;
        expect(g.probs.length).toBeGreaterThan(300); // the whole vocabulary
        const dp = maxAbs(g.probs, w.probs);
        expect(dp, `${dtype} probabilities`).toBeLessThanOrEqual(1e-5);
        const total = w.all.reduce((s, r) => s + r.reduce((b, v) => b + Math.abs(v), 0), 0);
        expect(total).toBeGreaterThan(0); // real attributions, not all zero
        const da = relErr(g.all, w.all);
        expect(da, `${dtype} attributions`).toBeLessThanOrEqual(1e-4);
        log.push(`${dtype}: probs ${dp.toExponential(2)}, attributions ${da.toExponential(2)} rel`);
        if (dtype === 'f32') {
          // the independent reference: transformers in float64
          const dt = Math.max(
            ...q.top.map(([id, pr]) => Math.abs(g.probs[id] - pr)),
            Math.abs(g.probs[q.targetId] - (q as unknown as { targetProb: number }).targetProb),
          );
          expect(dt, 'probabilities vs transformers').toBeLessThan(1e-5);
          const di = relErr(g.fixtureLayer!, q.ig.raw);
          expect(di, 'SAIG vs transformers').toBeLessThan(1e-3);
          log.push(`vs transformers: probs ${dt.toExponential(2)}, SAIG ${di.toExponential(2)} rel`);
        }
      }
      console.log(`${fam} WebGPU vs wasm: ${log.join('; ')}`);
    }, 300_000);
  }
});

/** the CLI as a user runs it: its own process, the environment it is given */
function kn(args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'cli', 'kn.ts'), ...args], { env: { ...process.env, ...env } });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!!unavailable)('kn --backend webgpu', () => {
  const gpt2 = join(REF, 'gpt2');
  const exp = JSON.parse(readFileSync(join(gpt2, 'expected.json'), 'utf8')) as Expected;
  const q = exp.queries[0];

  it("kn backend names the adapter; kn probe gives wasm's probabilities (and transformers')", async () => {
    const icd = process.env.VK_ICD_FILENAMES ?? SWIFTSHADER_ICD;
    const b = await kn(['backend', '--backend', 'webgpu', '--json'], { VK_ICD_FILENAMES: icd });
    expect(b.code, b.stderr).toBe(0);
    const info = JSON.parse(b.stdout);
    expect(info.name).toBe('webgpu');
    expect(Object.keys(info.adapter).sort()).toEqual(['architecture', 'description', 'device', 'software', 'vendor']);
    if (icd === SWIFTSHADER_ICD) expect(info.adapter.software).toBe('SwiftShader');
    const probe = async (backend: string) => {
      const r = await kn(['probe', '--model', gpt2, '--backend', backend, '--prompt', q.prompt, '--target', q.target, '--top', '5', '--json'], {
        VK_ICD_FILENAMES: icd,
      });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { top: { id: number; prob: number }[] };
    };
    const [g, w] = [await probe('webgpu'), await probe('wasm')];
    expect(g.top.map((t) => t.id)).toEqual(w.top.map((t) => t.id));
    g.top.forEach((t, i) => expect(Math.abs(t.prob - w.top[i].prob)).toBeLessThanOrEqual(1e-5));
    // the engine's default dtype for a checkpoint folder may be int8; the top ids still match transformers'
    expect(g.top[0].id).toBe(q.top[0][0]);
  }, 300_000);

  it('no Vulkan driver: exit 2, the error names VK_ICD_FILENAMES and the driver; a webgpu,wasm order falls back to wasm', async () => {
    const bad = await kn(['backend', '--backend', 'webgpu', '--json'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(bad.stdout).toBe('');
    expect(bad.code).toBe(2);
    // (the Vulkan loader's own warnings come first, on stderr)
    expect(bad.stderr).toMatch(/^kn: error \[backend\]: /m);
    expect(bad.stderr).toContain('VK_ICD_FILENAMES=/nonexistent/icd.json');
    expect(bad.stderr).toContain("vendor's Vulkan driver");
    const order = await kn(['backend', '--backend', 'webgpu,wasm', '--json'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(order.code, order.stderr).toBe(0);
    const info = JSON.parse(order.stdout);
    expect(info.name).toBe('wasm');
    expect(info.fallbacks[0].name).toBe('webgpu');
    expect(info.fallbacks[0].reason).toContain('VK_ICD_FILENAMES');
  }, 300_000);

  it('a software adapter is passed over for wasm unless webgpu is named alone', async () => {
    const r = await kn(['backend', '--backend', 'webgpu,wasm', '--json'], { VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).name).toBe('wasm');
  }, 300_000);
});

it.skipIf(!unavailable)('WebGPU in Node is unavailable here', () => {
  console.log(`skipped the Node WebGPU tests: ${unavailable}`);
});

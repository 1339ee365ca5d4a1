/**
 * The GPU check (scripts/gpu-check, issue 19 item 4) as CI can run it: `pack` into a temporary folder (without Node,
 * which run.sh then takes from PATH, and with gzip instead of xz: the real pack's 2-minute xz of Node is not what
 * is tested here), then the pack's run.sh `--dry` on SwiftShader with one of the four shapes scaled down (GPT-2;
 * `npm run -s gpu-check -- run --dry` runs all four) and M = 2; the report's structure is checked (validateReport), and where PyTorch ran (the
 * reference venv .cache/venv-ref, else python3) its attributions must equal ours. A software adapter without --dry is
 * refused with the reason. No timing is asserted. Without Dawn or Vulkan the file is skipped with the reason,
 * except under CI=1, where it fails (as tests/webgpu/int8-packed-webgpu.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNodeWebGPU, useSwiftShaderIfNoDriverChosen } from '../../src/cli/node-webgpu';
import { initBackend } from '../../src/engine/backend/backend';
import { pack, PACK_LIMIT_BYTES, type PackResult } from '../../scripts/gpu-check/pack';
import { type GpuCheckReport, validateReport } from '../../scripts/gpu-check/report';

useSwiftShaderIfNoDriverChosen();
let unavailable = await installNodeWebGPU();
if (!unavailable) {
  try {
    const b = await initBackend({ prefer: ['webgpu'] });
    if (b.name !== 'webgpu') unavailable = `initBackend chose ${b.name}: ${b.fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`;
  } catch (e) {
    unavailable = String(e);
  }
}
if (unavailable && process.env.CI) throw new Error(`WebGPU in Node is unavailable: ${unavailable} (.ci/run installs libvulkan1 and chromium's SwiftShader)`);

const venv = join(process.cwd(), '.cache', 'venv-ref', 'bin', 'python');
const python = existsSync(venv) ? venv : 'python3';

describe.skipIf(!!unavailable)(`gpu-check pack and run --dry${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let tmp: string;
  let packed: PackResult;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kn-gpu-check-test-'));
    packed = await pack({ out: join(tmp, 'pack'), noNode: true, fast: true, noDebs: true, log: () => {} });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const run = (args: string[], timeoutS: number) =>
    spawnSync('bash', [join(packed.dir, 'run.sh'), ...args], {
      encoding: 'utf8',
      timeout: timeoutS * 1000,
      maxBuffer: 1 << 26,
      env: { ...process.env, KN_GPU_CHECK_UNPACK: join(tmp, 'bin'), OUT: '' },
    });

  it('packs within the limit: the bundle, Dawn, the tokenizers, the reference, run.sh', () => {
    const names = packed.files.map((f) => f.path);
    for (const f of [
      'run.sh',
      'gpu-check.mjs.gz',
      'node_modules/webgpu/index.js',
      'node_modules/webgpu/dist/linux-x64/dawn.node.gz',
      'assets/torch_ig.py',
      'assets/reference/models.py',
      'assets/tokenizers/xlmr/tokenizer.json',
    ]) {
      expect(names).toContain(f);
    }
    expect(JSON.parse(readFileSync(join(packed.dir, 'MANIFEST.json'), 'utf8')).bytes).toBe(packed.bytes);
    expect(packed.bytes).toBeLessThan(PACK_LIMIT_BYTES);
    expect(packed.leftOut.join(' ')).toMatch(/--no-node/);
  });

  it('run --dry: one JSON report whose structure holds, every step measured or skipped with a reason', () => {
    const out = join(tmp, 'out');
    const r = run(['--dry', '--models', 'gpt2', '--steps', '2', '--python', python, '--work', join(tmp, 'work'), '--out', out], 170);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(r.stdout) as GpuCheckReport;
    expect(validateReport(report)).toEqual([]);
    expect(report.dry).toBe(true);
    expect(report.adapter?.software).toBeTruthy();
    expect(report.models.map((m) => m.name)).toEqual(['gpt2-small-dry']);
    for (const m of report.models) {
      expect(m.f32?.device_bytes_per_param).toBeGreaterThan(3.5);
      expect(m.int8?.device_bytes_per_param).toBeLessThan(2);
      expect(m.int8_vs_f32?.max_rel_diff).toBeLessThan(0.1);
      // PyTorch ran (the reference venv) or says why not; where it ran, the same attributions
      if (m.torch && !('skipped' in m.torch)) expect(m.torch.max_rel_diff).toBeLessThan(1e-3);
      else expect(m.torch?.skipped).toMatch(/\w/);
    }
    expect(JSON.parse(readFileSync(join(out, 'gpu-check.json'), 'utf8'))).toEqual(report);
    expect(readFileSync(join(out, 'gpu-check.md'), 'utf8')).toMatch(/\| gpt2-small-dry \|/);
    expect(r.stderr).toMatch(/\| model \(random weights\) \|/);
  }, 180_000);

  it('refuses a software adapter without --dry, saying so', () => {
    const r = run(['--no-torch', '--work', join(tmp, 'work')], 120);
    const report = JSON.parse(r.stdout) as GpuCheckReport;
    expect(report.adapter?.software).toBeTruthy();
    expect(report.models).toEqual([]);
    expect(report.skipped.map((s) => s.reason).join(' ')).toMatch(/software renderer.*nvidia_icd\.json/);
  }, 130_000);
});

describe('gpu-check report structure', () => {
  it('names what a report lacks', () => {
    const base: GpuCheckReport = {
      tool: 'kn gpu-check',
      dry: true,
      started_at: '',
      budget_s: 60,
      wall_s: 1,
      host: { cpus: 2, memory_gib: 1, node: 'v20', platform: 'linux-x64', gpu: null },
      settings: { shapes: 'dry', steps: 2, baseline: 'pad', quadrature: 'gauss-legendre', fact_queries: 28, fact_sample: 1, layers: 'all' },
      backend: null,
      adapter: { vendor: 'v', architecture: 'a', device: '', description: '', software: 'SwiftShader' },
      matmul_gflops: { 256: 0.1 },
      int8_matmul_gflops: { 256: 0.1 },
      models: [
        {
          name: 'm',
          repo: 'r',
          params: 10,
          config: {},
          write_s: 0,
          f32: { weights: 'f32', query_s: 1, fact_s: 28, fact_basis: '1 query' },
          torch: { skipped: 'no torch' },
        },
      ],
      torch: { skipped: 'no torch' },
      skipped: [],
      complete: false,
    };
    expect(validateReport(base).join('; ')).toMatch(/m\]\.int8: neither measured nor skipped/);
    const skippedInt8 = { ...base, dry: false, skipped: [{ step: 'm packed-int8: load', reason: 'time budget' }] };
    expect(validateReport(skippedInt8)).toEqual([]);
    expect(validateReport({ ...base, dry: false, models: [{ ...base.models[0], int8: { weights: 'packed-int8', query_s: -1 } }] }).join()).toMatch(
      /int8\.query_s/,
    );
  });
});

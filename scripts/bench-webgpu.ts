/**
 * `npm run bench -- --backend webgpu [--gpu] [--json] [--steps M] [--quick]` (scripts/bench.ts hands over
 * here): the bench on WebGPU, inside headless Chromium driven by Playwright.
 *
 * - the random GPT-2-small- and BERT-base-shaped checkpoints of the wasm bench (.cache/bench) are served
 *   by a local file server (e2e/model-server.ts), the bundled demo-causal by Vite from public/models;
 * - a Vite dev server serves the engine harness gpu.html (src/gpu/harness.ts);
 * - Chromium starts with SwiftShader's flags (what CI has), or with `--gpu` (`npm run bench:gpu`) the flags a
 *   hardware adapter needs in headless Chromium on Linux (Vulkan, no GPU blocklist);
 * - the page prints the adapter and its limits, then runs src/gpu/bench.ts runPageBench.
 * CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { existsSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { startModelServer } from '../e2e/model-server';
import { BERT_BASE_CONFIG, GPT2_SMALL_CONFIG, QWEN25_05B_CONFIG, type PageBenchParams } from '../src/gpu/bench';
import { softwareAdapter } from '../src/engine/backend/backend';

/** what the e2e tests use: SwiftShader's WebGPU adapter on a machine without a GPU */
const MODES = ['f32', 'int8-dequantized', 'int8-packed'] as const;
function parseModes(v: string): PageBenchParams['modes'] {
  const ms = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const m of ms) if (!(MODES as readonly string[]).includes(m)) throw new Error(`--modes: unknown mode "${m}"; one of ${MODES.join(', ')}`);
  return ms as PageBenchParams['modes'];
}

export const SWIFTSHADER_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
];
/** a hardware adapter in headless Chromium on Linux: Vulkan without a window surface, no blocklist */
export const GPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=vulkan',
  '--use-vulkan',
  '--disable-vulkan-surface',
  '--ignore-gpu-blocklist',
  '--enable-gpu',
  '--no-sandbox',
];

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = netServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface WebGPUBenchOptions {
  gpu: boolean;
  json: boolean;
  quick: boolean;
  /** comma-separated model labels to keep (gpt2-small-shape, bert-base-shape, demo-causal) */
  models?: string;
  /** `--modes f32,int8-dequantized,int8-packed`: the weight modes of the SAIG rows (default all three) */
  modes?: string;
  /** stop after printing the adapter and its limits */
  adapterOnly?: boolean;
  steps?: number;
  tokens?: number;
  writeRandomCheckpoint: (dir: string, arch: 'gpt2' | 'bert', config: Record<string, unknown>) => Promise<void>;
}

export async function benchWebGPU(o: WebGPUBenchOptions): Promise<void> {
  const err = (s: string) => process.stderr.write(s + '\n');
  const cache = join(process.cwd(), '.cache', 'bench');
  await o.writeRandomCheckpoint(join(cache, 'gpt2-small-shape'), 'gpt2', GPT2_SMALL_CONFIG);
  if (!o.quick && (!o.models || o.models.includes('bert'))) await o.writeRandomCheckpoint(join(cache, 'bert-base-shape'), 'bert', BERT_BASE_CONFIG);
  const modelPort = await freePort();
  const files = await startModelServer(cache, modelPort);
  const appPort = await freePort();
  const vite = await createServer({ server: { port: appPort, strictPort: true, host: '127.0.0.1', hmr: false }, logLevel: 'error', clearScreen: false });
  await vite.listen();
  const flags = o.gpu ? GPU_FLAGS : SWIFTSHADER_FLAGS;
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  err(`chromium: ${executablePath} ${flags.join(' ')}`);
  const browser = await chromium.launch({ executablePath, args: flags, headless: true });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      // (the loader's probes for optional files answer 404: not worth a line)
      if (m.text().startsWith('[bench]') || (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))) err(`  ${m.text()}`);
    });
    page.on('pageerror', (e) => err(`[pageerror] ${e.message}`));
    page.setDefaultTimeout(0);
    await page.goto(`http://127.0.0.1:${appPort}/gpu.html`, { timeout: 300_000 });
    await page.waitForFunction(() => (globalThis as unknown as { knReady?: boolean }).knReady === true, null, { timeout: 300_000 });
    const adapter = (await page.evaluate(() => (globalThis as unknown as { kn: { adapterReport(): Promise<unknown> } }).kn.adapterReport())) as {
      info: Record<string, unknown>;
      limits: Record<string, number>;
      features: string[];
    } | null;
    if (!adapter) throw new Error(`no WebGPU adapter in Chromium with ${flags.join(' ')}`);
    const software = softwareAdapter(adapter.info as never);
    err(`adapter: ${JSON.stringify(adapter.info)}${software ? ` — a software adapter (${software}): speeds mean little` : ''}`);
    err(
      `limits: ${Object.entries(adapter.limits)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    if (o.gpu && software) err(`warning: --gpu asked for a hardware adapter but Chromium gave ${software}; check the GPU driver (Vulkan) and the flags above`);
    if (o.adapterOnly) {
      if (o.json)
        console.log(
          JSON.stringify(
            {
              backend: 'webgpu',
              adapter: { ...adapter.info, software: software ?? null },
              limits: adapter.limits,
              features: adapter.features,
              chromium_flags: flags,
            },
            null,
            2,
          ),
        );
      return;
    }
    const backend = await page.evaluate(() =>
      (globalThis as unknown as { kn: { init(p: string[]): Promise<{ name: string; detail?: string }> } }).kn.init(['webgpu']),
    );
    if (backend.name !== 'webgpu') throw new Error(`the page could not start tfjs on WebGPU: ${JSON.stringify(backend)}`);
    // a software adapter runs ~0.5 GFLOP/s: a shorter query and M = 2 keep the run within minutes
    const steps = o.steps ?? (software ? 2 : 20);
    const tokens = o.tokens ?? (software ? 5 : 10);
    const demo = existsSync(join(process.cwd(), 'public', 'models', 'demo-causal', 'kn-manifest.json'));
    const params: PageBenchParams = {
      models: [
        { label: 'gpt2-small-shape (causal)', url: `http://127.0.0.1:${modelPort}/gpt2-small-shape/`, target: 'Paris', layer: 0 },
        ...(o.quick ? [] : [{ label: 'bert-base-shape (masked)', url: `http://127.0.0.1:${modelPort}/bert-base-shape/`, target: 'paris', layer: 0 }]),
        ...(demo && !o.quick ? [{ label: 'demo-causal (bundled)', url: `http://127.0.0.1:${appPort}/models/demo-causal/`, target: 'Paris', layer: 0 }] : []),
      ],
      modes: o.modes ? parseModes(o.modes) : ['f32', 'int8-dequantized', 'int8-packed'],
      steps,
      tokens,
      whole: !o.quick,
      resident: [
        { name: 'gpt2-small-shape', config: GPT2_SMALL_CONFIG, lruToo: true },
        { name: 'qwen2.5-0.5b-shape', config: QWEN25_05B_CONFIG },
      ],
    };
    if (o.models) {
      const keep = o.models.split(',').map((x) => x.trim());
      params.models = params.models.filter((m) => keep.some((k) => m.label.startsWith(k)));
      if (!params.models.length) throw new Error(`--models ${o.models}: none of gpt2-small-shape, bert-base-shape, demo-causal`);
    }
    err(
      `settings: M = ${steps} steps, ${tokens}-token queries, ${params.whole ? 'whole query too' : 'no whole query'}, models ${params.models.map((m) => m.label).join(', ')}`,
    );
    const r = await page.evaluate(
      (p) => (globalThis as unknown as { kn: { runBench(p: PageBenchParams): Promise<Record<string, unknown>> } }).kn.runBench(p),
      params,
    );
    const resident = r.resident as { config: string; weights: string; device_bytes_per_param: number }[];
    const result = {
      backend: 'webgpu',
      adapter: { ...adapter.info, software: software ?? null },
      limits: adapter.limits,
      chromium_flags: flags,
      steps,
      tokens,
      device_bytes_per_param: Object.fromEntries(resident.filter((x) => x.weights === 'packed-int8').map((x) => [x.config, x.device_bytes_per_param])),
      matmul_gflops: r.matmul_gflops,
      int8_matmul_gflops: r.int8_matmul_gflops,
      saig: r.saig,
      resident,
      tfMemory: r.numTensorsAfter,
    };
    const table = (rows: unknown[]) => {
      const log = console.log;
      if (o.json) console.log = (...a: unknown[]) => process.stderr.write(a.join(' ') + '\n');
      console.table(rows);
      console.log = log;
    };
    table([
      {
        adapter: [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' / '),
        software: software ?? '',
        matmul_gflops: r.matmul_gflops,
        int8_matmul_gflops: r.int8_matmul_gflops,
      },
    ]);
    table(r.saig as unknown[]);
    table(resident);
    if (o.json) console.log(JSON.stringify(result, null, 2));
  } finally {
    await browser.close();
    await vite.close();
    files.close();
  }
}

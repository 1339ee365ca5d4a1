/**
 * `npm run bench -- --page-threads [--repeat N] [--json]` (scripts/bench.ts hands over here): the page's localize of the
 * featured fact (bundled demo-causal, the page's default settings: 7 languages, M = 20, ⟨PAD⟩ baselines) on wasm with
 * threads against one thread, side by side in one run.
 *
 * - `vite build` into .cache/bench/page-dist, served by `vite preview` (vite.config.ts sends COOP/COEP, so the page is
 *   cross-origin isolated and wasm runs one thread per core, at most 8);
 * - headless Chromium (Playwright; /usr/bin/chromium or CHROMIUM_PATH), a fresh context per run (no attribution cached in
 *   IndexedDB): `/?backend=wasm` (threads: the page's default) and `/?backend=wasm&threads=off` (one thread);
 * - the time is the page's own (the localize summary's data-ms: from the click to the last query's attribution);
 * - `--repeat N` runs each N times, alternating which goes first; the medians and their ratio are printed with the load
 *   average before and after (other work on the machine slows the threaded run most).
 */
import { existsSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { build, preview } from 'vite';

interface Run {
  mode: 'threads' | 'off';
  threads: number;
  ms: number;
  queries: number;
  cached: number;
}

async function localizeOnce(browser: Browser, base: string, mode: Run['mode'], err: (s: string) => void): Promise<Run> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => err(`[pageerror] ${e.message}`));
    // threads: one per core, at least 2 (the page's auto runs threads only from 4 cores on)
    await page.goto(`${base}/?backend=wasm&threads=${mode === 'off' ? 'off' : Math.max(2, Math.min(cpus().length, 8))}`);
    const chip = page.getByTestId('backend-threads');
    await chip.waitFor({ timeout: 120_000 });
    const threads = Number(await chip.getAttribute('data-threads'));
    // the first visit opens the demo model on its featured fact
    await page.getByTestId('fact-queries').waitFor({ state: 'attached', timeout: 300_000 });
    await page.getByTestId('tab-localize').click();
    const button = page.getByTestId('localize-button');
    await button.waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => !(document.querySelector('[data-testid="localize-button"]') as HTMLButtonElement | null)?.disabled, null, {
      timeout: 300_000,
    });
    await button.click();
    const summary = page.getByTestId('localize-summary');
    await summary.waitFor({ timeout: 1_800_000 });
    const run: Run = {
      mode,
      threads,
      ms: Number(await summary.getAttribute('data-ms')),
      queries: Number(await summary.getAttribute('data-queries')),
      cached: Number(await summary.getAttribute('data-cached')),
    };
    if (run.cached) err(`  warning: ${run.cached} queries came from the cache`);
    return run;
  } finally {
    await ctx.close();
  }
}

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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function benchPageThreads(o: { repeat: number; json: boolean }): Promise<void> {
  const err = (s: string) => process.stderr.write(s + '\n');
  if (!existsSync(join(process.cwd(), 'public', 'models', 'demo-causal', 'kn-manifest.json')))
    throw new Error('needs the bundled demo model (public/models/demo-causal)');
  const outDir = join(process.cwd(), '.cache', 'bench', 'page-dist');
  err(`vite build → ${outDir}`);
  await build({ logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const port = await freePort();
  const server = await preview({ logLevel: 'error', build: { outDir }, preview: { port, strictPort: true, host: '127.0.0.1' } });
  const base = `http://127.0.0.1:${port}`;
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
  const load0 = loadavg()[0];
  const runs: Run[] = [];
  try {
    for (let i = 0; i < o.repeat; i++) {
      for (const mode of (i % 2 ? ['off', 'threads'] : ['threads', 'off']) as Run['mode'][]) {
        const r = await localizeOnce(browser, base, mode, err);
        err(
          `  ${mode === 'off' ? '?threads=off' : 'threaded'}: ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.queries} queries, ${(r.ms / 1000).toFixed(1)} s`,
        );
        runs.push(r);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const on = runs.filter((r) => r.mode === 'threads');
  const off = runs.filter((r) => r.mode === 'off');
  const result = {
    page_localize_featured_fact: {
      model: 'bundled:demo-causal',
      repeat: o.repeat,
      threads: on[0]?.threads,
      queries: on[0]?.queries,
      threaded_s: +(median(on.map((r) => r.ms)) / 1000).toFixed(2),
      one_thread_s: +(median(off.map((r) => r.ms)) / 1000).toFixed(2),
      speedup: +(median(off.map((r) => r.ms)) / median(on.map((r) => r.ms))).toFixed(2),
      runs_s: runs.map((r) => ({ mode: r.mode, threads: r.threads, s: +(r.ms / 1000).toFixed(2) })),
      load_average_before: +load0.toFixed(2),
      load_average_after: +loadavg()[0].toFixed(2),
    },
  };
  const t = result.page_localize_featured_fact;
  if (o.json) err(JSON.stringify(t));
  console.table([
    {
      threads: t.threads,
      threaded_s: t.threaded_s,
      one_thread_s: t.one_thread_s,
      speedup: t.speedup,
      load_before: t.load_average_before,
      load_after: t.load_average_after,
    },
  ]);
  console.log(JSON.stringify(result, null, 2));
}

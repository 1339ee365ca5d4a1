/**
 * `npx tsx scripts/bench-page-big.ts [--shape qwen2.5-0.5b|bloom-560m] [--steps M] [--lang en] [--fact P36:0]
 *   [--dtype int8|f32] [--threads auto|off|N] [--cap-min 20]` (issue 19 item 2, the page half): a real-size
 * checkpoint (random weights, the real config: scripts/bench-big-shapes.ts, scripts/reference/real_size.py →
 * .cache/reference/real/<org>/<name>/) loaded BY URL in the page on wasm and localized as a user does it, through
 * the UI: one fact, one language, M steps (every layer: the page offers no layer choice).
 *
 * - `vite build` into .cache/bench/page-big-dist, served by `vite preview` (COOP/COEP as deployed);
 * - .cache/reference/real served by e2e/model-server.ts (CORS), loaded with the page's "URL" source;
 * - headless Debian Chromium (/usr/bin/chromium or CHROMIUM_PATH), `/?backend=wasm&autoload=0`;
 * - records: load time (click → model card), the attribution path the engine takes for that model (choosePath on
 *   the same config, computed here: the page's worker does not report it), the localize time (the page's own
 *   data-ms), the progress / time-left text sampled every 5 s, the main thread's responsiveness (a
 *   requestAnimationFrame round trip per sample), the tfjs bytes the worker holds (its memory() call) and the
 *   peak RSS of the whole Chromium process tree (browser + renderer + GPU/utility: the worker lives in the renderer);
 * - `--cap-min`: after that many minutes of localizing, the run is cancelled (the last progress sample is the result).
 * No timing assertion: it prints what it measured, as JSON on the last line.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { build, preview } from 'vite';
import { startModelServer } from '../e2e/model-server';
import { BIG_SHAPES } from './bench-big-shapes';
import { ATTRIBUTION_RESIDENT_BYTES } from '../src/engine/rules';

const ROOT = process.cwd();
const REAL = join(ROOT, '.cache', 'reference', 'real');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
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

/** RSS (bytes) of the process tree rooted at `pid` (Linux /proc). */
function treeRss(pid: number): number {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const l = kids.get(ppid) ?? [];
      l.push(Number(d));
      kids.set(ppid, l);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      /* gone */
    }
    stack.push(...(kids.get(p) ?? []));
  }
  return total;
}

/** The browser process: the chromium whose command line carries our marker. */
function browserPid(marker: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(marker) && !cmd.includes('--type=')) return Number(d);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Main-thread responsiveness: ms for an evaluate that waits for the next animation frame. */
async function rafMs(page: Page): Promise<number> {
  const t0 = Date.now();
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => r())));
  return Date.now() - t0;
}

/**
 * The path the worker's attributeQuery takes (choosePath): 'streamed' when the fast path's float32 weights from the
 * lowest layer exceed ATTRIBUTION_RESIDENT_BYTES. Counted here from the safetensors header: the transformer layers'
 * 2-D matrices alone, as float32 (a lower bound of what the fast path would keep for layer 0).
 */
function pathFor(dir: string, budget: number): { layerMatricesF32GiB: number; budgetGiB: number; path: string } {
  const fd = openSync(join(dir, 'model.safetensors'), 'r');
  const buf = Buffer.alloc(8 + 16 * 1024 * 1024);
  readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape?: number[] }>;
  let bytes = 0;
  for (const [name, t] of Object.entries(header)) if (t.shape?.length === 2 && /\.(layers|h)\.\d+\./.test(name)) bytes += t.shape[0] * t.shape[1] * 4;
  return {
    layerMatricesF32GiB: +(bytes / 1024 ** 3).toFixed(2),
    budgetGiB: +(budget / 1024 ** 3).toFixed(2),
    path: bytes > budget ? 'streamed' : 'fast (or streamed by the device limit)',
  };
}

async function main() {
  const shape = arg('shape', 'qwen2.5-0.5b');
  const s = BIG_SHAPES[shape];
  if (!s || shape === 'xlm-roberta-base') throw new Error(`--shape: one of bloom-560m, qwen2.5-0.5b`);
  const steps = Number(arg('steps', '1'));
  const lang = arg('lang', 'en');
  const fact = arg('fact', 'P36:0');
  const dtype = arg('dtype', 'int8') as 'int8' | 'f32';
  const threads = arg('threads', 'auto');
  const capMs = Number(arg('cap-min', '20')) * 60_000;
  const dir = join(REAL, s.repo);
  if (!existsSync(join(dir, 'model.safetensors'))) throw new Error(`no checkpoint in ${dir} (scripts/reference/real_size.py)`);
  const log = (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);

  const outDir = join(ROOT, '.cache', 'bench', 'page-big-dist');
  log(`vite build → ${outDir}`);
  await build({ logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const port = await freePort();
  const server = await preview({ logLevel: 'error', build: { outDir }, preview: { port, strictPort: true, host: '127.0.0.1' } });
  const mport = await freePort();
  const models = await startModelServer(REAL, mport);
  const base = `http://127.0.0.1:${port}`;
  const modelUrl = `http://127.0.0.1:${mport}/${s.repo}/`;
  const marker = `--kn-bench-page-big=${process.pid}`;
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', marker], headless: true });
  const bpid = browserPid(marker);
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    if (bpid) peakRss = Math.max(peakRss, treeRss(bpid));
  }, 1000);
  const result: Record<string, unknown> = { shape, repo: s.repo, modelUrl, dtype, steps, lang, fact, threadsParam: threads };
  const errors: string[] = [];
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`[pageerror] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.text().startsWith('[kn]')) errors.push(`[console ${m.type()}] ${m.text().slice(0, 400)}`);
    });
    page.on('crash', () => errors.push('[crash] the page crashed'));
    await page.goto(`${base}/?backend=wasm&autoload=0&threads=${threads}`);
    const chip = page.getByTestId('backend-threads');
    await chip.waitFor({ state: 'attached', timeout: 120_000 }).catch(() => undefined);
    result.backend = await page.getByTestId('backend').getAttribute('data-backend');
    result.threads = (await chip.count()) ? Number(await chip.getAttribute('data-threads')) : null;
    log(`page on ${result.backend}, ${result.threads} thread(s); loading ${modelUrl} (${dtype})`);

    // load by URL, as e2e/helpers.ts loadByUrl
    await page.getByTestId('source-url').check();
    await page.getByTestId('model-url').fill(modelUrl);
    await page.getByTestId(`dtype-${dtype}`).check();
    const tLoad = Date.now();
    await page.getByTestId('load-button').click();
    const loadSamples: string[] = [];
    for (;;) {
      if (await page.getByTestId('model-info').count()) break;
      const err = page.locator('[role="alert"]');
      if (await err.count()) {
        const t = (await err.first().innerText()).trim();
        if (t) throw new Error(`load failed: ${t}`);
      }
      if (Date.now() - tLoad > 900_000) throw new Error('load did not finish in 15 min');
      const txt = (
        await page
          .locator('main')
          .innerText()
          .catch(() => '')
      )
        .split('\n')
        .find((l) => /%|MB|MiB|GB|GiB|load/i.test(l));
      if (txt && loadSamples[loadSamples.length - 1] !== txt) loadSamples.push(`${Math.round((Date.now() - tLoad) / 1000)} s: ${txt.slice(0, 160)}`);
      await page.waitForTimeout(2000);
    }
    result.loadS = +((Date.now() - tLoad) / 1000).toFixed(1);
    result.loadSamples = loadSamples.slice(-6);
    result.rssAfterLoadGiB = bpid ? +(treeRss(bpid) / 1024 ** 3).toFixed(2) : null;
    log(`loaded in ${result.loadS} s, Chromium tree RSS ${result.rssAfterLoadGiB} GiB`);

    // one fact, one language, M steps
    await page.getByTestId('relation-select').selectOption(fact.split(':')[0]);
    const item = page.locator(`[data-testid="fact-item"][data-fact-id="${fact}"]`);
    if (!(await item.count())) await page.getByTestId('fact-search').fill('Azerb');
    await item.first().click({ timeout: 60_000 });
    await page.locator(`[data-testid="fact-queries"][data-fact-id="${fact}"]`).waitFor({ state: 'attached', timeout: 600_000 });
    log(`fact ${fact} open`);
    await page.getByTestId('tab-localize').click();
    for (const l of ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko']) {
      const cb = page.getByTestId(`lang-${l}`);
      if (await cb.count()) await cb.setChecked(l === lang);
    }
    await page.getByTestId('steps-input').fill(String(steps));
    await page.waitForFunction(() => !(document.querySelector('[data-testid="localize-button"]') as HTMLButtonElement | null)?.disabled, null, {
      timeout: 300_000,
    });
    const tLoc = Date.now();
    await page.getByTestId('localize-button').click();
    const samples: { s: number; text: string; rafMs: number; rssGiB: number | null }[] = [];
    let maxRaf = 0;
    let cancelled = false;
    let lastBeat = Date.now();
    for (;;) {
      const summary = page.getByTestId('localize-summary');
      if (await summary.count()) {
        result.localizeMs = Number(await summary.getAttribute('data-ms'));
        result.queries = Number(await summary.getAttribute('data-queries'));
        result.cached = Number(await summary.getAttribute('data-cached'));
        break;
      }
      const alert = page.locator('[data-testid="localize-panel"] [role="alert"], [data-testid="localize-error"]');
      if (await alert.count()) {
        const t = (await alert.first().innerText()).trim();
        if (t) {
          result.localizeError = t;
          break;
        }
      }
      const ms = await rafMs(page);
      maxRaf = Math.max(maxRaf, ms);
      const prog = page.getByTestId('localize-progress');
      const text = (await prog.count()) ? (await prog.innerText()).replace(/\s+/g, ' ').trim() : '';
      const rssGiB = bpid ? +(treeRss(bpid) / 1024 ** 3).toFixed(2) : null;
      if (text && samples[samples.length - 1]?.text !== text) {
        samples.push({ s: Math.round((Date.now() - tLoc) / 1000), text, rafMs: ms, rssGiB });
        log(`  ${samples[samples.length - 1].s} s: ${text} (rAF ${ms} ms, RSS ${rssGiB} GiB)`);
        lastBeat = Date.now();
      } else if (Date.now() - lastBeat > 60_000) {
        // a heartbeat while the text stays the same (the worker may be busy before its first progress)
        log(`  ${Math.round((Date.now() - tLoc) / 1000)} s: (unchanged) ${text || '(no progress shown)'} (rAF ${ms} ms, RSS ${rssGiB} GiB)`);
        lastBeat = Date.now();
      }
      if (Date.now() - tLoc > capMs) {
        cancelled = true;
        await page
          .getByTestId('localize-cancel')
          .click()
          .catch(() => undefined);
        break;
      }
      await page.waitForTimeout(5000);
    }
    result.wallLocalizeS = +((Date.now() - tLoc) / 1000).toFixed(1);
    result.cancelledAtCap = cancelled;
    result.progressSamples = samples;
    result.progressUpdates = samples.length;
    result.maxRafMs = maxRaf;
    // the worker answers memory() only between stages of a cancelled attribution: bounded, not awaited forever
    // (measured: it did not answer within 2 min of a cancel at the cap)
    result.tfjsMemory = await Promise.race([
      page
        .evaluate(async () => {
          const c = (globalThis as { __knEngine?: { memory(): Promise<unknown> } }).__knEngine;
          return c ? await c.memory() : null;
        })
        .catch((e) => String(e)),
      new Promise((r) => setTimeout(() => r('no answer within 20 s'), 20_000)),
    ]);
    const perf = await ctx
      .newCDPSession(page)
      .then((c) => c.send('Performance.enable').then(() => c.send('Performance.getMetrics')))
      .catch(() => null);
    result.mainThreadJsHeapMiB = perf ? +((perf.metrics.find((m) => m.name === 'JSHeapTotalSize')?.value ?? 0) / 1024 ** 2).toFixed(1) : null;
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  } finally {
    clearInterval(rssTimer);
    result.peakChromiumRssGiB = +(peakRss / 1024 ** 3).toFixed(2);
    result.pageErrors = errors.slice(-10);
    result.path = pathFor(dir, ATTRIBUTION_RESIDENT_BYTES);
    await browser.close().catch(() => undefined);
    await server.close();
    await new Promise((r) => models.close(r));
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

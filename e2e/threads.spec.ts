import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { MODEL_BASE } from './fixtures';
import { appUrl, expectLoaded, loadByUrl, openApp, predict, projectBackend } from './helpers';

/**
 * Cross-origin isolation and threaded wasm (issue 19 item 3; README "Deploying"):
 * - `vite preview` (and the dev server) send COOP/COEP: the page is isolated, wasm runs one thread per core (at most 8)
 *   and computes the same probabilities as with `?threads=off`;
 * - a static host without the headers: the page still works, on one thread, where no service worker may run;
 * - the same host with service workers: coi-serviceworker.js adds the headers after one reload, and wasm is threaded.
 * The headerless host is a tiny server over the build (dist/, what `vite build` wrote for the preview server).
 * Measured (2-core machine, load average 3.7): 12 s and 11 s; the budgets of playwright.config.ts (180 s) stay ≥ 5× that.
 */

const DIST = join(process.cwd(), 'dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** the build served as most static hosts do: no COOP/COEP, no CORS headers */
async function startPlainServer(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const base = normalize(root + sep);
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(base)) return void res.writeHead(403).end();
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const threadsChip = (page: Page) => page.getByTestId('backend-threads');

/** the tiny GPT-2 (f32) by URL from the model server (another origin, CORS), then one prediction */
async function tinyPrediction(page: Page) {
  await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'f32');
  await expectLoaded(page);
  return predict(page, 'The capital of France is');
}

test.describe('cross-origin isolation and wasm threads', () => {
  test.beforeEach(({}, info) => {
    test.skip(projectBackend(info) !== 'wasm', 'about the wasm backend');
  });

  test('the preview server sends COOP/COEP: the page is isolated, wasm runs one thread per core, same probabilities as ?threads=off', async ({
    page,
    request,
    context,
  }, info) => {
    const r = await request.get('/');
    expect(r.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers()['cross-origin-embedder-policy']).toBe('credentialless');
    // ?threads=2: the default (auto) runs threads only from 4 cores on, and this machine may have 2
    await openApp(page, info, { params: { threads: '2' } });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const want = 2;
    await expect(threadsChip(page)).toHaveAttribute('data-threads', String(want));
    if (want > 1) await expect(threadsChip(page)).toHaveText(`${want} threads`);
    await expect(page.getByTestId('backend-detail')).toContainText(want > 1 ? `threads ${want}` : 'threads off');
    const threaded = await tinyPrediction(page);

    // the same page with ?threads=off (a real option): one thread, the same numbers
    const off = await context.newPage();
    await off.goto(appUrl(info, { params: { threads: 'off' } }));
    await expect(off.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 120_000 });
    await expect(threadsChip(off)).toHaveAttribute('data-threads', '1');
    await expect(off.getByTestId('backend-detail')).toContainText('threads off (asked for)');
    const single = await tinyPrediction(off);
    expect(single.ids).toEqual(threaded.ids);
    expect(single.rows.map((x) => x.id)).toEqual(threaded.rows.map((x) => x.id));
    for (let i = 0; i < single.rows.length; i++) expect(Math.abs(single.rows[i].prob - threaded.rows[i].prob)).toBeLessThanOrEqual(1e-5);
    console.log(`  ${want} threads vs one: top-1 p ${threaded.rows[0].prob} / ${single.rows[0].prob}`);
    // a value that is no thread count is refused with the accepted ones
    await off.goto(appUrl(info, { params: { threads: 'many' } }));
    await expect(off.getByTestId('error-message')).toContainText('threads must be auto, off or a number from 1 to 8, got "many"', { timeout: 120_000 });
    await off.close();
  });

  test('a static host without the headers: with no service worker the page works on one thread; with one, coi-serviceworker isolates it after a reload', async ({
    browser,
  }, info) => {
    test.skip(
      !existsSync(join(DIST, 'index.html')) || !existsSync(join(DIST, 'coi-serviceworker.js')),
      'needs the build (dist/, written by the preview web server)',
    );
    const plain = await startPlainServer(DIST);
    try {
      // no service worker (blocked, as in some private modes): not isolated, wasm on one thread, still computes
      const ctx = await browser.newContext({ baseURL: plain.url, serviceWorkers: 'block' });
      const page = await ctx.newPage();
      // as a browser without service workers shows it (Playwright's block alone hands the script an empty registration)
      await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined }));
      await openApp(page, info);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await expect(threadsChip(page)).toHaveAttribute('data-threads', '1');
      await expect(threadsChip(page)).toHaveAttribute('title', /not cross-origin isolated/);
      const { rows } = await tinyPrediction(page);
      expect(rows).toHaveLength(10);
      await ctx.close();

      // service workers allowed: the first visit registers coi-serviceworker.js and reloads once; then isolated
      const ctx2 = await browser.newContext({ baseURL: plain.url });
      const page2 = await ctx2.newPage();
      await page2.goto(appUrl(info, { params: { threads: '2' } }));
      await expect.poll(() => page2.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 60_000 }).toBe(true);
      expect(await page2.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${plain.url}/coi-serviceworker.js`);
      // the service worker's COEP is the headers' (credentialless: the page's no-cors probe of a model server still answers)
      expect(await page2.evaluate(async () => (await fetch('/', { cache: 'no-store' })).headers.get('cross-origin-embedder-policy'))).toBe('credentialless');
      await expect(page2.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 120_000 });
      await expect(threadsChip(page2)).toHaveAttribute('data-threads', '2');
      // a model from another origin (CORS) still loads through the worker, the service worker in between
      const { rows: rows2 } = await tinyPrediction(page2);
      expect(rows2).toHaveLength(10);
      await ctx2.close();
    } finally {
      await plain.close();
    }
  });
});

import { expect, type Page, type TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FILE } from './fixtures';

export function e2eState(): { root: string; unreachablePort: number } {
  return JSON.parse(process.env.KN_E2E_STATE ?? readFileSync(STATE_FILE, 'utf8'));
}

/** The backend the current project runs on. */
export function projectBackend(info: TestInfo): 'webgpu' | 'wasm' {
  return info.project.name === 'wasm' ? 'wasm' : 'webgpu';
}

/**
 * Opens the app on the project's backend. The bundled demo model is not loaded automatically
 * (`autoload=0`) unless `opts.autoload`; `opts.hash` opens a share link.
 */
export async function openApp(page: Page, info: TestInfo, opts: { autoload?: boolean; hash?: string; params?: Record<string, string> } = {}): Promise<void> {
  const backend = projectBackend(info);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning' || m.text().startsWith('[kn]')) console.log(`[browser ${m.type()}] ${m.text().slice(0, 400)}`);
  });
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(appUrl(info, opts));
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', backend, { timeout: 120_000 });
}

export function appUrl(info: TestInfo, opts: { autoload?: boolean; hash?: string; params?: Record<string, string> } = {}): string {
  const q = new URLSearchParams(opts.params ?? {});
  // by name: on SwiftShader the page itself would prefer wasm (src/engine/backend/backend.ts)
  q.set('backend', projectBackend(info));
  if (!opts.autoload) q.set('autoload', '0');
  return `/?${q.toString()}${opts.hash ?? ''}`;
}

export async function loadByUrl(page: Page, url: string, dtype: 'int8' | 'f32' = 'int8'): Promise<void> {
  await page.getByTestId('source-url').check();
  await page.getByTestId('model-url').fill(url);
  await page.getByTestId(`dtype-${dtype}`).check();
  await page.getByTestId('load-button').click();
}

/**
 * A model is loaded: its card is in the page. Attached, not visible: the card sits in the Model & facts view,
 * and a link with a fact moves the page to the Localize view once the fact is restored, so "visible" held
 * only until then (a busy machine's load and restore finished between two polls: a stress-suite failure).
 */
export async function expectLoaded(page: Page, timeout = 150_000): Promise<void> {
  const t0 = Date.now();
  await expect(page.getByTestId('model-info')).toBeAttached({ timeout });
  console.log(`  model loaded in ${Date.now() - t0} ms`);
}

export interface Row {
  id: number;
  prob: number;
  token: string;
}

export async function predict(page: Page, prompt: string, target?: string): Promise<{ rows: Row[]; ids: number[]; position: number }> {
  const input = page.getByTestId('prompt-input');
  await input.fill(prompt);
  if (target !== undefined) await page.getByTestId('target-input').fill(target);
  // wait for a fresh table: remember the previous ids (if any)
  const before = (await page.getByTestId('probe-ids').count()) ? await page.getByTestId('probe-ids').getAttribute('data-ids') : null;
  const t0 = Date.now();
  await page.getByTestId('predict-button').click();
  await expect(page.getByTestId('top-row')).toHaveCount(10, { timeout: 120_000 });
  await expect(page.getByTestId('predict-button')).toBeEnabled({ timeout: 120_000 });
  // same ids as last time is legitimate (same prompt); otherwise wait until the new result is shown
  if (before !== null && before !== JSON.stringify(await page.getByTestId('probe-ids').getAttribute('data-ids'))) {
    await expect(page.getByTestId('probe-ids'))
      .not.toHaveAttribute('data-ids', before, { timeout: 5_000 })
      .catch(() => undefined);
  }
  console.log(`  predicted in ${Date.now() - t0} ms`);
  const rows = await page
    .getByTestId('top-row')
    .evaluateAll((els) =>
      els.map((e) => ({ id: Number(e.getAttribute('data-id')), prob: Number(e.getAttribute('data-prob')), token: e.getAttribute('data-token') ?? '' })),
    );
  const details = page.getByTestId('probe-ids');
  const ids = JSON.parse((await details.getAttribute('data-ids')) ?? '[]') as number[];
  const position = Number(await details.getAttribute('data-position'));
  return { rows, ids, position };
}

/** 10 rows, probabilities in (0, 1], sorted descending, summing to at most 1. */
export function checkTopTable(rows: Row[]): void {
  expect(rows).toHaveLength(10);
  let sum = 0;
  for (let i = 0; i < rows.length; i++) {
    expect(rows[i].prob).toBeGreaterThan(0);
    expect(rows[i].prob).toBeLessThanOrEqual(1);
    if (i > 0) expect(rows[i].prob).toBeLessThanOrEqual(rows[i - 1].prob);
    sum += rows[i].prob;
  }
  expect(sum).toBeLessThanOrEqual(1 + 1e-6);
  expect(new Set(rows.map((r) => r.id)).size).toBe(10);
}

export async function screenshot(page: Page, info: TestInfo, name: string): Promise<void> {
  const dir = join(process.cwd(), 'test-results', 'screenshots');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${info.project.name}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

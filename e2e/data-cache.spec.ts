/**
 * RML-LAMA shards are fetched lazily and kept in IndexedDB keyed by their sha256: a second visit is
 * served from IndexedDB with no network request for them.
 */
import { expect, test, type Page } from '@playwright/test';
import { MODEL_BASE } from './fixtures';
import { expectLoaded, loadByUrl, openApp, projectBackend } from './helpers';

async function browseP36(page: Page) {
  // the fact browser opens once a model is loaded (the tiny GPT-2 of the e2e model server)
  await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'int8');
  await expectLoaded(page);
  await page.getByTestId('relation-select').selectOption('P36');
  await page.getByTestId('fact-search').fill('Azerb');
  await expect(page.locator('[data-testid="fact-item"][data-fact-id="P36:0"]')).toBeVisible({ timeout: 60_000 });
}

test('benchmark shards: first visit fetches them, a reload reads them from IndexedDB with no request', async ({ page }, info) => {
  test.skip(projectBackend(info) === 'wasm', 'storage behaviour does not depend on the compute backend');
  const shardRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/data/rml-lama/')) shardRequests.push(r.url());
  });
  await openApp(page, info);
  await browseP36(page);
  const first = shardRequests.length;
  expect(first).toBeGreaterThan(0);
  expect(shardRequests.every((u) => /\/data\/rml-lama\/v1\/P36\.\w\w\.json$/.test(u))).toBe(true);
  const stored = await page.evaluate(async () => {
    const dbs = await indexedDB.databases();
    return dbs.map((d) => d.name);
  });
  expect(stored).toContain('kn-rml-lama');

  shardRequests.length = 0;
  await page.reload();
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu', { timeout: 120_000 });
  await browseP36(page);
  expect(shardRequests).toEqual([]);
  console.log(`  first visit: ${first} shard requests; second visit: 0`);
});

import { expect, test } from '@playwright/test';
import { MODEL_BASE, TRUNCATED_SHARD } from './fixtures';
import { checkTopTable, e2eState, expectLoaded, loadByUrl, openApp, predict, screenshot } from './helpers';

async function expectAlert(page: import('@playwright/test').Page, ...parts: (string | RegExp)[]) {
  const alert = page.getByTestId('error-alert');
  await expect(alert).toBeVisible({ timeout: 120_000 });
  for (const p of parts) await expect(page.getByTestId('error-message')).toContainText(p);
  return alert;
}

async function thenValidModelLoads(page: import('@playwright/test').Page) {
  await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'int8');
  await expectLoaded(page);
  await expect(page.getByTestId('error-alert')).toHaveCount(0);
  const { rows } = await predict(page, 'The capital of France is');
  checkTopTable(rows);
}

test('corrupt safetensors header: alert names the file; a valid model still loads', async ({ page }, info) => {
  await openApp(page, info);
  await loadByUrl(page, `${MODEL_BASE}/gpt2-corrupt/`);
  await expectAlert(page, 'model.safetensors');
  console.log('corrupt ->', await page.getByTestId('error-message').textContent());
  await screenshot(page, info, 'error-corrupt');
  await thenValidModelLoads(page);
});

test('truncated shard: alert names the shard; a valid model still loads', async ({ page }, info) => {
  await openApp(page, info);
  await loadByUrl(page, `${MODEL_BASE}/gpt2-truncated/`);
  await expectAlert(page, TRUNCATED_SHARD);
  console.log('truncated ->', await page.getByTestId('error-message').textContent());
  await screenshot(page, info, 'error-truncated');
  await thenValidModelLoads(page);
});

test('unreachable URL: alert names the address; a valid model still loads', async ({ page }, info) => {
  await openApp(page, info);
  const port = e2eState().unreachablePort;
  await loadByUrl(page, `http://127.0.0.1:${port}/nothing-here/`);
  await expectAlert(page, `127.0.0.1:${port}`);
  await expect(page.getByTestId('error-alert')).toHaveAttribute('data-code', 'unreachable');
  console.log('unreachable ->', await page.getByTestId('error-message').textContent());
  await screenshot(page, info, 'error-unreachable');
  await thenValidModelLoads(page);
});

test('GPU device lost: the page says so, falls back to wasm, and a model loads again', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'only meaningful on WebGPU');
  await openApp(page, info);
  await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'f32');
  await expectLoaded(page);
  // a real device loss cannot be provoked from JS; the worker's handler is driven directly
  await page.evaluate(() => (globalThis as any).__knEngine.simulateDeviceLost('test reason'));
  await expect(page.getByTestId('notice')).toContainText('GPU device lost: test reason; falling back to wasm');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('backend-why')).toContainText('WebGPU unavailable: GPU device lost: test reason');
  await expect(page.getByTestId('model-info')).toHaveCount(0);
  await screenshot(page, info, 'device-lost');
  await thenValidModelLoads(page);
});

test('progress shows stage and bytes; Cancel stops the load and the app keeps working', async ({ page }, info) => {
  await openApp(page, info);
  await loadByUrl(page, `${MODEL_BASE}/slow/gpt2/`, 'int8');
  const progress = page.getByTestId('progress');
  await expect(progress).toBeVisible();
  await expect(progress).toContainText('model.safetensors', { timeout: 30_000 });
  await expect(page.getByTestId('progress-bytes')).toContainText(/KiB \/ \d/);
  await screenshot(page, info, 'progress');
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('notice')).toContainText('cancelled');
  await expect(progress).toHaveCount(0);
  await expect(page.getByTestId('model-info')).toHaveCount(0);
  await expect(page.getByTestId('error-alert')).toHaveCount(0);
  await thenValidModelLoads(page);
});

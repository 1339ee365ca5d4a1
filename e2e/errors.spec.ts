import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { MODEL_BASE, TRUNCATED_SHARD } from './fixtures';
import { appUrl, checkTopTable, e2eState, expectLoaded, loadByUrl, openApp, predict, projectBackend, screenshot } from './helpers';
import { defaultState, encodeState } from '../src/ui/share/state';

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
  await expectAlert(page, `http://127.0.0.1:${port}/nothing-here/config.json: unreachable (`);
  await expect(page.getByTestId('error-alert')).toHaveAttribute('data-code', 'unreachable');
  await expect(page.getByTestId('error-message')).not.toContainText('CORS');
  console.log('unreachable ->', await page.getByTestId('error-message').textContent());
  await screenshot(page, info, 'error-unreachable');
  await thenValidModelLoads(page);
});

test('a server without CORS headers: the alert says the server answered and names the header to add', async ({ page }, info) => {
  await openApp(page, info);
  const url = `${MODEL_BASE}/nocors/gpt2/`;
  await loadByUrl(page, url);
  await expectAlert(
    page,
    `${url}config.json: the server answered, but without CORS permission for this page (no Access-Control-Allow-Origin header)`,
    'serve the model with the header "Access-Control-Allow-Origin: *"',
  );
  await expect(page.getByTestId('error-alert')).toHaveAttribute('data-code', 'cors');
  await expect(page.getByTestId('error-message')).not.toContainText('unreachable');
  console.log('no CORS ->', await page.getByTestId('error-message').textContent());
  await screenshot(page, info, 'error-cors');
  await thenValidModelLoads(page);
});

test('a failed load keeps the loaded model: a truncated folder picked over the demo model', async ({ page }, info) => {
  test.skip(
    projectBackend(info) === 'webgpu',
    'the model slot does not depend on the backend (tests/worker/model-slot.test.ts); the demo model on SwiftShader takes a minute',
  );
  await openApp(page, info, { autoload: true });
  await expectLoaded(page);
  await expect(page.getByTestId('model-source')).toContainText('bundled:demo-causal');
  // the demo model opens on its featured fact
  await expect(page.getByTestId('fact-summary')).toBeVisible({ timeout: 120_000 });
  const factShown = await page.getByTestId('fact-summary').textContent();
  const { rows: before } = await predict(page, 'The capital of Azerbaijan is');

  await page.getByTestId('source-files').check();
  await page.getByTestId('folder-input').setInputFiles(join(e2eState().root, 'gpt2-truncated'));
  await page.getByTestId('load-button').click();
  const alert = await expectAlert(page, TRUNCATED_SHARD);
  await expect(alert).toContainText('Could not load gpt2-truncated');
  await expect(page.getByTestId('notice')).toContainText('bundled:demo-causal is still loaded: its facts, results and edits are as they were.');
  await screenshot(page, info, 'error-kept-model');
  // the demo model, its fact and its predictions are as they were
  await expect(page.getByTestId('model-info')).toBeVisible();
  await expect(page.getByTestId('model-source')).toContainText('bundled:demo-causal');
  await expect(page.getByTestId('fact-summary')).toHaveText(factShown ?? '');
  const { rows: after } = await predict(page, 'The capital of Azerbaijan is');
  expect(after).toEqual(before);
  await page.getByTestId('tab-localize').click();
  await expect(page.getByTestId('view-localize')).toBeVisible();
  await expect(page.getByTestId('view-localize')).not.toContainText('Choose a fact in');
});

test('?backend=nonsense: the page names the value and the accepted names, and loads and computes nothing', async ({ page }, info) => {
  test.skip(projectBackend(info) === 'webgpu', 'no compute involved: once is enough');
  // autoload is on: without the refusal the demo model would load now
  await page.goto('/?backend=nonsense');
  const backendAlert = page.getByTestId('error-alert').filter({ hasText: 'Could not start the compute backend' });
  await expect(backendAlert).toBeVisible({ timeout: 120_000 });
  await expect(backendAlert.getByTestId('error-message')).toHaveText(
    'unknown backend "nonsense"; the names are webgpu, wasm, webgl, cpu (?backend= in the page: one name, or a comma-separated order to try)',
  );
  await expect(page.getByTestId('backend')).toContainText('no backend');
  await expect(page.getByTestId('source-bundled')).toBeChecked({ timeout: 30_000 }); // the bundled list has arrived
  await page.waitForTimeout(2_000);
  await expect(page.getByTestId('model-info')).toHaveCount(0);
  await expect(page.getByTestId('progress')).toHaveCount(0);
  // asked to load, it refuses and says why
  await page.getByTestId('load-button').click();
  const loadAlert = page.getByTestId('error-alert').filter({ hasText: 'Could not load bundled:demo-causal' });
  await expect(loadAlert).toBeVisible();
  await expect(loadAlert).toHaveAttribute('data-code', 'backend');
  await expect(loadAlert.getByTestId('error-message')).toContainText('no model loads while the compute backend is not started: unknown backend "nonsense"');
  await page.waitForTimeout(1_000);
  await expect(page.getByTestId('model-info')).toHaveCount(0);
  await screenshot(page, info, 'backend-nonsense');
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

test('missing files say "not found"; a foreign ?static= is refused with its reason; Share without a model says so', async ({ page }, info) => {
  test.skip(projectBackend(info) === 'wasm', 'no compute involved: once is enough');
  // a link to a bundled model that does not exist: the server answers its HTML page with HTTP 200
  await openApp(page, info, { hash: encodeState({ ...defaultState(), model: { type: 'bundled', name: 'nope' } }) });
  await expectAlert(page, 'config.json: not found in bundled:nope');
  await expect(page.getByTestId('error-alert')).toHaveAttribute('data-code', 'missing-file');
  await expect(page.getByTestId('error-message')).not.toContainText('JSON');
  console.log('  bundled:nope ->', await page.getByTestId('error-message').textContent());

  // ?static= naming a file that is not there
  await page.goto(appUrl(info, { params: { static: 'nope.json' } }));
  await expectAlert(
    page,
    "static exploration nope.json: not found (the server answered with a web page, not the file); put nope.json beside the app's index.html",
  );
  await screenshot(page, info, 'error-static-not-found');

  // ?static= on another origin: refused, the reason shown, and it stays (the demo model does not autoload over it)
  await page.goto(appUrl(info, { autoload: true, params: { static: 'https://evil.example/x.json' } }));
  const alert = await expectAlert(page, 'must be a relative path on this host', 'cannot make it fetch data from elsewhere');
  await expect(alert).toContainText('Static exploration refused');
  await page.waitForTimeout(2_000); // the bundled list is fetched meanwhile; nothing may replace the alert
  await expect(alert).toBeVisible();
  await expect(page.getByTestId('model-info')).toHaveCount(0);
  await screenshot(page, info, 'error-static-foreign');

  // the Share view with no model loaded
  await page.goto(appUrl(info));
  await page.getByTestId('tab-share').click();
  await expect(page.getByTestId('link-error')).toContainText('No model is loaded yet');
  await expect(page.getByTestId('link-error')).not.toContainText('local files');
  await screenshot(page, info, 'share-no-model');
});

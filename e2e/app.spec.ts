import { expect, test } from '@playwright/test';
import { refProbs } from '../tests/helpers/ref64';
import { MODEL_BASE, referenceCheckpoint, FIXTURES, int8Simulated } from './fixtures';
import { checkTopTable, e2eState, expectLoaded, loadByUrl, openApp, predict, projectBackend, screenshot } from './helpers';
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { visibleToken } from '../src/ui/format';

test('header names the backend that runs', async ({ page }, info) => {
  await openApp(page, info);
  const backend = page.getByTestId('backend');
  await expect(backend).toContainText(projectBackend(info));
  if (projectBackend(info) === 'webgpu') {
    await expect(page.getByTestId('backend-detail')).toContainText('maxStorageBufferBindingSize');
    console.log('  backend detail:', await page.getByTestId('backend-detail').textContent());
  }
  await screenshot(page, info, 'start');
});

test('a software WebGPU adapter: the page picks wasm, says why, and one click switches; an unknown ?backend= is refused', async ({ page }, info) => {
  test.skip(projectBackend(info) === 'wasm', 'about choosing WebGPU; once is enough');
  // no ?backend=: the default choice (Chromium runs WebGPU on SwiftShader here, see playwright.config.ts)
  await page.goto('/?autoload=0');
  const chip = page.getByTestId('backend');
  await expect(chip).toHaveAttribute('data-backend', 'wasm', { timeout: 120_000 });
  await expect(page.getByTestId('backend-why')).toContainText(
    'WebGPU passed over: the WebGPU adapter is a software renderer (SwiftShader); wasm is faster on it',
  );
  const sw = page.getByTestId('backend-switch');
  await expect(sw).toHaveText('Use WebGPU anyway');
  await screenshot(page, info, 'backend-software-default');
  await sw.click();
  await expect(page).toHaveURL(/[?&]backend=webgpu/);
  await expect(chip).toHaveAttribute('data-backend', 'webgpu', { timeout: 120_000 });
  await expect(chip).toHaveAttribute('data-software', 'SwiftShader');
  await expect(page.getByTestId('backend-why')).toContainText('WebGPU on a software adapter (SwiftShader): slower than wasm here');
  await expect(page.getByTestId('backend-switch')).toHaveText('Use wasm');
  // a name that is no backend: refused with the list, not run on cpu
  await page.goto('/?autoload=0&backend=gpu');
  await expect(page.getByTestId('error-alert')).toContainText('Could not start the compute backend');
  await expect(page.getByTestId('error-message')).toContainText('unknown backend "gpu"; the names are webgpu, wasm, webgl, cpu');
  await expect(chip).toHaveAttribute('data-backend', '');
  await screenshot(page, info, 'backend-unknown-name');
  await page.getByTestId('backend-default').click();
  await expect(chip).toHaveAttribute('data-backend', 'wasm', { timeout: 120_000 });
  expect(new URL(page.url()).searchParams.get('backend')).toBeNull();
});

for (const dtype of ['int8', 'f32'] as const) {
  test(`tiny GPT-2 by URL (${dtype}): top-10 matches the float64 reference`, async ({ page }, info) => {
    await openApp(page, info);
    await loadByUrl(page, `${MODEL_BASE}/gpt2/`, dtype);
    await expectLoaded(page);
    await expect(page.getByTestId('model-architecture')).toContainText('GPT2LMHeadModel');
    await expect(page.getByTestId('model-dtype')).toContainText(dtype);

    const { rows, ids, position } = await predict(page, 'The capital of France is');
    checkTopTable(rows);
    // tokens are shown as text with visible whitespace ("␣Paris"), never as HTML
    const shown = await page.getByTestId('top-token').allTextContents();
    expect(shown).toEqual(rows.map((r) => visibleToken(r.token)));
    for (const t of shown) expect(t).not.toMatch(/^\s|\s$/);
    const ck = await referenceCheckpoint('gpt2');
    const ref = refProbs('gpt2', ck.config, dtype === 'int8' ? int8Simulated('gpt2', ck.tensors) : ck.tensors, ids, position);
    const tol = dtype === 'int8' ? 1e-3 : 1e-4;
    for (const r of rows) expect(Math.abs(r.prob - ref[r.id]), `token ${r.id} ${JSON.stringify(r.token)}`).toBeLessThanOrEqual(tol);
    if (dtype === 'int8') {
      // and the quantization itself costs little against the exact float64 model
      const exact = refProbs('gpt2', ck.config, ck.tensors, ids, position);
      for (const r of rows) expect(Math.abs(r.prob - exact[r.id])).toBeLessThanOrEqual(2e-2);
    }
    // the page's top-1 is the reference's top-1 up to near-ties
    const refTop = Math.max(...ref);
    expect(Math.abs(rows[0].prob - refTop)).toBeLessThanOrEqual(tol);
    await screenshot(page, info, `gpt2-${dtype}`);
  });
}

for (const dtype of ['int8', 'f32'] as const) {
  test(`tiny BERT by URL (${dtype}): mask prediction matches the float64 reference`, async ({ page }, info) => {
    await openApp(page, info);
    await loadByUrl(page, `${MODEL_BASE}/bert/`, dtype);
    await expectLoaded(page);
    await expect(page.getByTestId('model-architecture')).toContainText('BertForMaskedLM');
    const mask = (await page.getByTestId('mask-token').textContent())!.trim();
    expect(mask).toBe('[MASK]');
    // build the prompt with the insert button at the end of the text
    const input = page.getByTestId('prompt-input');
    await input.fill('the capital of france is ');
    await input.press('End');
    await page.getByTestId('insert-mask').click();
    await expect(input).toHaveValue(`the capital of france is ${mask}`);
    const { rows, ids, position } = await predict(page, `the capital of france is ${mask} .`);
    checkTopTable(rows);
    const ck = await referenceCheckpoint('bert');
    const ref = refProbs('bert', ck.config, dtype === 'int8' ? int8Simulated('bert', ck.tensors) : ck.tensors, ids, position);
    const tol = dtype === 'int8' ? 1e-3 : 1e-4;
    for (const r of rows) expect(Math.abs(r.prob - ref[r.id]), `token ${r.id} ${JSON.stringify(r.token)}`).toBeLessThanOrEqual(tol);
    if (dtype === 'int8') {
      const exact = refProbs('bert', ck.config, ck.tensors, ids, position);
      for (const r of rows) expect(Math.abs(r.prob - exact[r.id])).toBeLessThanOrEqual(2e-2);
    }
    await screenshot(page, info, `bert-${dtype}`);
  });
}

test('local folder via the folder input (sharded GPT-2)', async ({ page }, info) => {
  await openApp(page, info);
  await page.getByTestId('source-files').check();
  await page.getByTestId('folder-input').setInputFiles(join(e2eState().root, 'gpt2-sharded'));
  await expect(page.getByTestId('files-summary')).toContainText('model-00002-of-00002.safetensors');
  await page.getByTestId('dtype-f32').check();
  await page.getByTestId('load-button').click();
  await expectLoaded(page);
  const { rows, ids, position } = await predict(page, 'The capital of France is');
  checkTopTable(rows);
  const ck = await referenceCheckpoint('gpt2-sharded');
  expect(FIXTURES['gpt2-sharded'].opts.seed).toBe(FIXTURES.gpt2.opts.seed);
  const ref = refProbs('gpt2', ck.config, ck.tensors, ids, position);
  for (const r of rows) expect(Math.abs(r.prob - ref[r.id])).toBeLessThanOrEqual(1e-4);
  await screenshot(page, info, 'local-folder');
});

test('local files by drag and drop (BERT)', async ({ page }, info) => {
  await openApp(page, info);
  await page.getByTestId('source-files').check();
  const dir = join(e2eState().root, 'bert');
  const files = await Promise.all((await readdir(dir)).map(async (name) => ({ name, b64: (await readFile(join(dir, name))).toString('base64') })));
  // a synthetic drop: DataTransfer built in the page from the files' bytes
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return d;
  }, files);
  await page.getByTestId('dropzone').dispatchEvent('dragover', { dataTransfer: dt });
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('files-summary')).toContainText('model.safetensors');
  await page.getByTestId('dtype-f32').check();
  await page.getByTestId('load-button').click();
  await expectLoaded(page);
  await expect(page.getByTestId('model-architecture')).toContainText('BertForMaskedLM');
  const { rows, ids, position } = await predict(page, 'paris is the capital of [MASK] .');
  checkTopTable(rows);
  const ck = await referenceCheckpoint('bert');
  const ref = refProbs('bert', ck.config, ck.tensors, ids, position);
  for (const r of rows) expect(Math.abs(r.prob - ref[r.id])).toBeLessThanOrEqual(1e-4);
  await screenshot(page, info, 'drop-files');
});

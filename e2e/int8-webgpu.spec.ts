/**
 * Packed int8 weights on WebGPU (src/engine/weights/int8-webgpu.ts) in Chromium: the int8 bytes stay on the device
 * and the matmuls dequantize in WGSL. What needs the browser stays here: one family (gpt2) through the engine
 * harness gpu.html (src/gpu/harness.ts) on Chromium's WebGPU adapter (SwiftShader in CI), against the same
 * model on the dequantized-float32 path (deviceWeights 'lru'); and the app on packed int8 (device loss,
 * ?weights=). Every family, an edited matrix and the size limits run in Node on Dawn's WebGPU
 * (tests/webgpu/int8-packed-webgpu.test.ts): the same engine code without a page.
 * No timing assertions: SwiftShader on a busy 2-core machine; budgets are ≥ 5× the measured times.
 */
import { expect, test, type Page } from '@playwright/test';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_BASE, referenceCheckpoint } from './fixtures';
import { e2eState, expectLoaded, loadByUrl, openApp, predict, checkTopTable } from './helpers';

const REF = join(process.cwd(), 'tests', 'fixtures', 'reference', 'models');
/** every family runs in Node (tests/webgpu/); here the one the app's e2e models use */
const FAMILIES = ['gpt2'];

/** the reference fixtures, copied once under the model server's root */
function serveReference(): void {
  const root = e2eState().root;
  for (const f of FAMILIES) {
    const dst = join(root, 'int8-ref', f);
    if (!existsSync(join(dst, 'config.json'))) cpSync(join(REF, f), dst, { recursive: true });
  }
}

async function openHarness(page: Page): Promise<void> {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[browser ${m.type()}] ${m.text().slice(0, 400)}`);
  });
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto('/gpu.html');
  await page.waitForFunction(() => (globalThis as any).knReady === true, null, { timeout: 120_000 });
  const b = await page.evaluate(async () => (await (globalThis as any).kn.init(['webgpu'])).name);
  expect(b).toBe('webgpu');
}

test.describe('packed int8 on WebGPU', () => {
  test.beforeEach(({}, info) => test.skip(info.project.name !== 'webgpu', 'the packed kernels run on WebGPU only'));
  test.beforeAll(() => serveReference());

  for (const fam of FAMILIES) {
    test(`${fam}: packed int8 = dequantized float32 (probabilities, attributions), no leaks (fast = naive: tests/webgpu/)`, async ({ page }) => {
      test.setTimeout(240_000); // measured 8-25 s per family on SwiftShader
      await openHarness(page);
      const expected = JSON.parse(readFileSync(join(REF, fam, 'expected.json'), 'utf8')) as { queries: { prompt: string; target: string }[] };
      const queries = expected.queries.slice(0, 1).map((q) => ({ prompt: q.prompt, target: q.target }));
      const r = await page.evaluate(
        async ({ url, queries }) => {
          const kn = (globalThis as any).kn;
          const before = kn.memory();
          const P = await kn.load(url, { dtype: 'int8' });
          const L = await kn.load(url, { dtype: 'int8', deviceWeights: 'lru' });
          const out: any = { before, packedInfo: P.info.deviceWeights, lruInfo: L.info.deviceWeights, probs: [], attr: [], sums: [] };
          for (const q of queries) {
            const pp = await kn.probs(P.id, q.prompt),
              pl = await kn.probs(L.id, q.prompt);
            out.probs.push({ rel: kn.relErr(pp, pl), maxP: Math.max(...pl), n: pl.length });
            const opts = { steps: 3, baseline: 'pad' };
            const ap = await kn.attribute(P.id, q.prompt, q.target, opts);
            const al = await kn.attribute(L.id, q.prompt, q.target, opts);
            out.attr.push(kn.relErr(ap.raw, al.raw));
            out.sums.push(ap.raw.flat().reduce((a: number, v: number) => a + Math.abs(v), 0));
          }
          const paths = kn.paths(P.id);
          out.packedPaths = Object.values(paths.paths);
          out.packedBytes = paths.packedBytes;
          out.lruPaths = Object.values(kn.paths(L.id).paths);
          out.during = kn.memory();
          kn.dispose(P.id);
          kn.dispose(L.id);
          out.after = kn.memory();
          return out;
        },
        { url: `${MODEL_BASE}/int8-ref/${fam}/`, queries },
      );
      console.log(
        `${fam}: probs ${r.probs.map((p: any) => p.rel.toExponential(2)).join(', ')}; attributions ${r.attr.map((x: number) => x.toExponential(2)).join(', ')}; packed ${r.packedBytes} B; GPU bytes ${r.before.numBytesInGPU} → ${r.during.numBytesInGPU} → ${r.after.numBytesInGPU}`,
      );
      expect(r.packedInfo).toBe('packed-int8');
      expect(r.lruInfo).toBe('dequantized-lru');
      // every matrix of the packed model goes through the int8 kernels; none of the other's does
      expect(new Set(r.packedPaths)).toEqual(new Set(['packed']));
      expect(new Set(r.lruPaths)).toEqual(new Set(['f32']));
      expect(r.packedBytes).toBeGreaterThan(0);
      for (const p of r.probs) {
        expect(p.n).toBeGreaterThan(300); // the whole vocabulary
        expect(p.maxP).toBeGreaterThan(0);
        expect(p.rel).toBeLessThanOrEqual(1e-5);
      }
      for (const s of r.sums) expect(s).toBeGreaterThan(0); // real attributions, not all zero
      for (const a of r.attr) expect(a).toBeLessThanOrEqual(1e-5);
      // the backend's memory report: the models were on the GPU, and nothing is left after disposing them
      expect(r.during.numBytesInGPU).toBeGreaterThan(r.before.numBytesInGPU);
      expect(r.after.numTensors).toBe(r.before.numTensors);
      expect(r.after.numBytes).toBe(r.before.numBytes);
      expect(r.after.numBytesInGPU).toBe(r.before.numBytesInGPU);
    });
  }

  test('the app on packed int8: a lost GPU device is reported, the page goes on on wasm and the model loads again', async ({ page }, info) => {
    await openApp(page, info);
    await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'int8');
    await expectLoaded(page);
    await expect(page.getByTestId('model-device-weights')).toHaveAttribute('data-mode', 'packed-int8');
    checkTopTable((await predict(page, 'The capital of France is')).rows);
    // the worker holds the model packed: its device memory is ≈ 1 byte per parameter, far below float32's 4
    const mem = await page.evaluate(() => (globalThis as any).__knEngine.memory());
    let params = 0;
    for (const t of (await referenceCheckpoint('gpt2')).tensors.values()) params += t.shape.reduce((a, b) => a * b, 1);
    console.log(`worker memory on packed int8: ${JSON.stringify(mem)}; ${params} parameters`);
    expect(mem.numBytesInGPU).toBeGreaterThan(0);
    expect(mem.numBytesInGPU).toBeLessThan(2 * params); // float32 would be 4 bytes per parameter
    await page.evaluate(() => (globalThis as any).__knEngine.simulateDeviceLost('test reason'));
    await expect(page.getByTestId('notice')).toContainText('GPU device lost: test reason; falling back to wasm');
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByTestId('model-info')).toHaveCount(0);
    await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'int8');
    await expectLoaded(page);
    await expect(page.getByTestId('model-device-weights')).toHaveAttribute('data-mode', 'dequantized-lru');
    checkTopTable((await predict(page, 'The capital of France is')).rows);
  });

  test('?weights=lru asks the page for the float32 (LRU) path on WebGPU; a bad value is refused by name', async ({ page }, info) => {
    await openApp(page, info, { params: { weights: 'lru' } });
    await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'int8');
    await expectLoaded(page);
    await expect(page.getByTestId('model-device-weights')).toHaveAttribute('data-mode', 'dequantized-lru');
    checkTopTable((await predict(page, 'The capital of France is')).rows);
    await page.goto(`/?backend=webgpu&autoload=0&weights=int4`);
    await expect(page.getByRole('alert')).toContainText('weights must be auto, packed or lru, got "int4"');
  });
});

/**
 * Packed int8 weights on WebGPU (src/engine/int8-webgpu.ts): the int8 bytes stay on the device and the
 * matmuls dequantize in WGSL. Checked in Chromium on the WebGPU adapter (SwiftShader in CI) through the
 * engine harness gpu.html (src/gpu/harness.ts), against the reference the issue names: the same model on
 * the dequantized-float32 path (deviceWeights 'lru', tfjs's own matmuls on the dequantized matrices).
 *
 * Every family: the tiny transformers-written checkpoints of tests/fixtures/reference/models (the ones
 * tests/reference/ checks against transformers), served by the e2e model server. Per family: full-vocabulary
 * probabilities and SAIG attributions (every layer) packed vs dequantized ≤ 1e-5 relative; the packed fast
 * path vs the packed naive path ≤ 1e-4 relative (the tolerance tests/engine/attribution.test.ts uses); and
 * the backend's memory report (tensors, bytes on the GPU) the same before loading and after disposing.
 * No timing assertions: SwiftShader on a busy 2-core machine; budgets are ≥ 5× the measured times.
 */
import { expect, test, type Page } from '@playwright/test';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_BASE, referenceCheckpoint } from './fixtures';
import { e2eState, expectLoaded, loadByUrl, openApp, predict, checkTopTable } from './helpers';

const REF = join(process.cwd(), 'tests', 'fixtures', 'reference', 'models');
const FAMILIES = ['gpt2', 'llama', 'qwen2', 'qwen3', 'bloom', 'gemma2', 'gemma3', 'bert', 'xlmr'];

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
    test(`${fam}: packed int8 = dequantized float32 (probabilities, attributions), fast = naive, no leaks`, async ({ page }) => {
      test.setTimeout(240_000); // measured 8-25 s per family on SwiftShader
      await openHarness(page);
      const expected = JSON.parse(readFileSync(join(REF, fam, 'expected.json'), 'utf8')) as { queries: { prompt: string; target: string }[] };
      const queries = expected.queries.slice(0, 2).map((q) => ({ prompt: q.prompt, target: q.target }));
      const r = await page.evaluate(
        async ({ url, queries }) => {
          const kn = (globalThis as any).kn;
          const before = kn.memory();
          const P = await kn.load(url, { dtype: 'int8' });
          const L = await kn.load(url, { dtype: 'int8', deviceWeights: 'lru' });
          const out: any = { before, packedInfo: P.info.deviceWeights, lruInfo: L.info.deviceWeights, probs: [], attr: [], naive: [], sums: [] };
          for (const q of queries) {
            const pp = await kn.probs(P.id, q.prompt), pl = await kn.probs(L.id, q.prompt);
            out.probs.push({ rel: kn.relErr(pp, pl), maxP: Math.max(...pl), n: pl.length });
            const opts = { steps: 3, baseline: 'pad' };
            const ap = await kn.attribute(P.id, q.prompt, q.target, opts);
            const al = await kn.attribute(L.id, q.prompt, q.target, opts);
            const an = await kn.attribute(P.id, q.prompt, q.target, { ...opts, path: 'naive' });
            out.attr.push(kn.relErr(ap.raw, al.raw));
            out.naive.push(kn.relErr(ap.raw, an.raw));
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
      console.log(`${fam}: probs ${r.probs.map((p: any) => p.rel.toExponential(2)).join(', ')}; attributions ${r.attr.map((x: number) => x.toExponential(2)).join(', ')}; fast vs naive ${r.naive.map((x: number) => x.toExponential(2)).join(', ')}; packed ${r.packedBytes} B; GPU bytes ${r.before.numBytesInGPU} → ${r.during.numBytesInGPU} → ${r.after.numBytesInGPU}`);
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
      for (const a of r.naive) expect(a).toBeLessThanOrEqual(1e-4);
      // the backend's memory report: the models were on the GPU, and nothing is left after disposing them
      expect(r.during.numBytesInGPU).toBeGreaterThan(r.before.numBytesInGPU);
      expect(r.after.numTensors).toBe(r.before.numTensors);
      expect(r.after.numBytes).toBe(r.before.numBytes);
      expect(r.after.numBytesInGPU).toBe(r.before.numBytesInGPU);
    });
  }

  test('an edited matrix takes the float32 path and stays exact; undoing the edit goes back to packed', async ({ page }) => {
    test.setTimeout(240_000);
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const kn = (globalThis as any).kn;
      const before = kn.memory();
      const P = await kn.load(url, { dtype: 'int8' });
      const L = await kn.load(url, { dtype: 'int8', deviceWeights: 'lru' });
      const prompt = 'The capital of France is', target = ' Paris';
      const p0 = await kn.probs(P.id, prompt);
      const mp = kn.model(P.id), ml = kn.model(L.id);
      // layer 0's FFN output matrix (down_proj, HF [d, F]); three neurons' slices scaled by 3 and shifted
      const { name, neuronAxis: axis } = mp.family.outWeight(0);
      const spec = mp.store.names().find((s: any) => s.name === name);
      const entries = [0, 5, 17].map((j) => {
        const v = mp.store.readSlice(name, axis, j);
        return { index: j, values: Float32Array.from(v, (x: number, i: number) => 3 * x + 0.01 * ((i % 5) - 2)) };
      });
      mp.store.writeSlices(name, axis, entries);
      ml.store.writeSlices(name, axis, entries);
      const paths = kn.paths(P.id).paths;
      const pe = await kn.probs(P.id, prompt), le = await kn.probs(L.id, prompt);
      const ae = await kn.attribute(P.id, prompt, target, { steps: 3 });
      const be = await kn.attribute(L.id, prompt, target, { steps: 3 });
      // undo: back to the int8 bytes
      const undo = entries.map((e: any) => ({ index: e.index, values: null }));
      mp.store.writeSlices(name, axis, undo);
      ml.store.writeSlices(name, axis, undo);
      const pathAfter = kn.paths(P.id).paths[name];
      const pu = await kn.probs(P.id, prompt);
      kn.dispose(P.id);
      kn.dispose(L.id);
      return {
        name, shape: spec.shape, editedPath: paths[name], otherPaths: Object.entries(paths).filter(([n]) => n !== name).map(([, v]) => v),
        changed: kn.relErr(pe, p0), probs: kn.relErr(pe, le), attr: kn.relErr(ae.raw, be.raw), pathAfter, undone: kn.relErr(pu, p0),
        before, after: kn.memory(),
      };
    }, `${MODEL_BASE}/int8-ref/llama/`);
    console.log(`edit of ${r.name} [${r.shape}]: probs moved by ${r.changed.toExponential(2)}; packed vs dequantized ${r.probs.toExponential(2)} (probs), ${r.attr.toExponential(2)} (attributions); undone ${r.undone.toExponential(2)}`);
    expect(r.editedPath).toBe('f32');
    expect(new Set(r.otherPaths)).toEqual(new Set(['packed']));
    expect(r.changed).toBeGreaterThan(1e-3); // the edit did change the answer
    expect(r.probs).toBeLessThanOrEqual(1e-5);
    expect(r.attr).toBeLessThanOrEqual(1e-5);
    expect(r.pathAfter).toBe('packed');
    expect(r.undone).toBe(0); // the same kernels on the same bytes
    expect(r.after.numTensors).toBe(r.before.numTensors);
    expect(r.after.numBytesInGPU).toBe(r.before.numBytesInGPU);
  });

  test('packed weights above the buffer or memory limit are refused before anything is uploaded; deviceWeights lru falls back', async ({ page }) => {
    await openHarness(page);
    const r = await page.evaluate(async (url) => {
      const kn = (globalThis as any).kn;
      const before = kn.memory();
      const fail = async (opts: any) => {
        try {
          await kn.load(url, opts);
          return null;
        } catch (e: any) {
          return { code: e.code, message: e.message, mem: kn.memory() };
        }
      };
      const buffer = await fail({ dtype: 'int8', maxTensorBytes: 4096 });
      const memory = await fail({ dtype: 'int8', maxDeviceBytes: 20_000 });
      const L = await kn.load(url, { dtype: 'int8', deviceWeights: 'lru' });
      const probs = await kn.probs(L.id, 'The capital of France is');
      const info = L.info;
      kn.dispose(L.id);
      return { before, buffer, memory, lru: info.deviceWeights, probsSum: probs.reduce((a: number, b: number) => a + b, 0), after: kn.memory() };
    }, `${MODEL_BASE}/int8-ref/gpt2/`);
    console.log(`refused: ${r.buffer?.message} | ${r.memory?.message}`);
    expect(r.buffer?.code).toBe('too-large');
    // the largest packed matrix (wte [400, 16] → 400 × 4 words × 4 bytes = 6400 B) and the limit
    expect(r.buffer?.message).toContain('"wte.weight" needs 6.3 KiB as packed int8, above this device\'s 4.0 KiB buffer limit');
    expect(r.buffer?.message).toContain('nothing was uploaded');
    expect(r.memory?.code).toBe('too-large');
    expect(r.memory?.message).toMatch(/has [\d,]+ parameters and needs [\d.]+ KiB of device memory as packed int8 .*this device allows 19\.5 KiB/);
    for (const f of [r.buffer, r.memory]) {
      expect(f!.mem.numTensors).toBe(r.before.numTensors);
      expect(f!.mem.numBytesInGPU).toBe(r.before.numBytesInGPU);
    }
    expect(r.lru).toBe('dequantized-lru');
    expect(r.probsSum).toBeCloseTo(1, 4);
    expect(r.after.numTensors).toBe(r.before.numTensors);
  });

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

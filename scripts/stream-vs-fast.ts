/**
 * The streamed attribution path (src/engine/attribution/stream.ts) against the fast path, side by side (issue 19
 * item 2; the numbers in docs/PERFORMANCE.md "Any model size within memory").
 *
 *   npx tsx scripts/stream-vs-fast.ts --fixtures
 *     every family's tiny reference checkpoint (tests/fixtures/reference/models), f32 and int8: the max relative
 *     difference per layer (⟨PAD⟩ baselines, right Riemann M = 16, every layer; the head in 7-row chunks)
 *   npx tsx scripts/stream-vs-fast.ts <model dir> <prompt> <target> <layers, e.g. 0 or 0,11> <M>
 *     one query on a real-size checkpoint (int8, wasm): fast, streamed, streamed, fast (ABBA), the times and the
 *     max relative difference (max |a − b| / max |b| per layer)
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { nodeBackend } from '../src/cli/node-engine';
import { loadModel } from '../src/engine/index';
import { attributeQuery, type AttributeOptions } from '../src/engine/attribution/attribute';

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let n = 0,
    d = 0;
  for (let i = 0; i < b.length; i++) {
    n = Math.max(n, Math.abs(a[i] - b[i]));
    d = Math.max(d, Math.abs(b[i]));
  }
  return n / Math.max(d, 1e-30);
};

async function fixtures() {
  const out: Record<string, unknown>[] = [];
  for (const fam of ['gpt2', 'llama', 'qwen2', 'qwen3', 'bloom', 'gemma2', 'gemma3', 'bert', 'xlmr']) {
    let dir = join('tests/fixtures/reference/models', fam);
    if (existsSync(join(dir, 'tokenizer.json.gz'))) {
      const f = mkdtempSync(join(tmpdir(), 'kn-svf-'));
      cpSync(dir, f, { recursive: true });
      writeFileSync(join(f, 'tokenizer.json'), gunzipSync(readFileSync(join(dir, 'tokenizer.json.gz'))));
      dir = f;
    }
    const q = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')).queries[0];
    for (const dtype of ['f32', 'int8'] as const) {
      const m = await loadModel({ type: 'folder', path: dir }, { dtype });
      const o: AttributeOptions = { steps: q.ig.steps, baseline: 'pad', quadrature: 'riemann-right' };
      const fast = await attributeQuery(m, q.prompt, q.target, { ...o, path: 'fast' });
      const st = await attributeQuery(m, q.prompt, q.target, { ...o, path: 'streamed', headChunkBytes: 7 * 4 * m.cfg.hidden, chunkBudgetBytes: 200_000 });
      const perLayer = fast.raw.map((r, l) => rel(st.raw[l], r));
      out.push({ family: fam, dtype, maxRelPerLayer: perLayer.map((e) => +e.toExponential(2)), pDiff: Math.abs(st.pFull - fast.pFull) });
      console.error(`${fam} ${dtype}: ${perLayer.map((e) => e.toExponential(1)).join(' ')}`);
      m.dispose();
    }
  }
  console.log(JSON.stringify({ fixtures: out, maxRel: Math.max(...out.flatMap((r) => r.maxRelPerLayer as number[])) }));
}

async function real(dir: string, prompt: string, target: string, layersArg: string, steps: string) {
  const b = await nodeBackend();
  const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'int8', maxDeviceBytes: b.limits?.maxDeviceBytes });
  const layers = layersArg.split(',').map(Number);
  const res: Record<string, { t: number[]; raw?: Float64Array[] }> = { fast: { t: [] }, streamed: { t: [] } };
  for (const path of ['fast', 'streamed', 'streamed', 'fast'] as const) {
    const t0 = performance.now();
    const a = await attributeQuery(m, prompt, target, { steps: Number(steps), layers, path });
    res[path].t.push((performance.now() - t0) / 1000);
    res[path].raw = a.raw;
    console.error(`${path} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const mean = (x: number[]) => x.reduce((a, v) => a + v, 0) / x.length;
  const errs = layers.map((l) => rel(res.streamed.raw![l], res.fast.raw![l]));
  console.log(
    JSON.stringify({
      dir,
      layers,
      steps: Number(steps),
      fastS: res.fast.t,
      streamedS: res.streamed.t,
      ratio: +(mean(res.streamed.t) / mean(res.fast.t)).toFixed(2),
      maxRelStreamedVsFast: Math.max(...errs),
    }),
  );
}

const args = process.argv.slice(2);
(args[0] === '--fixtures' ? fixtures() : real(args[0], args[1], args[2], args[3], args[4])).catch((e) => {
  console.error(e);
  process.exit(1);
});

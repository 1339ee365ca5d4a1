/**
 * The streamed attribution path (src/engine/attribution/stream.ts: layer-by-layer recompute, the LM head in
 * vocabulary chunks) against transformers itself, on every family's tiny reference checkpoint
 * (tests/fixtures/reference/models/<family>/expected.json, scripts/reference/models.py), at the tolerances of
 * tests/reference/transformers.test.ts; and its memory: with a small budget it never holds more than about
 * one layer's float32 weights, where the fast path holds them all.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/attribution/attribute';
import { ready, tiny } from './setup';
import { relErr } from '../helpers/compare';

const DIR = join(__dirname, '..', 'fixtures', 'reference', 'models');
const FAMILIES = ['gpt2', 'llama', 'qwen2', 'qwen3', 'bloom', 'gemma2', 'gemma3', 'bert', 'xlmr'];

interface Expected {
  queries: {
    prompt: string;
    target: string;
    acts: number[][];
    grad: { neurons: number[]; values: number[][] };
    ig: { layer: number; steps: number; baselinePositions: number[]; raw: number[] };
  }[];
}

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

function fixture(fam: string): string {
  const dir = join(DIR, fam);
  if (!existsSync(join(dir, 'tokenizer.json.gz'))) return dir;
  const folder = mkdtempSync(join(tmpdir(), `kn-stream-${fam}-`));
  tmp.push(folder);
  cpSync(dir, folder, { recursive: true });
  writeFileSync(join(folder, 'tokenizer.json'), gunzipSync(readFileSync(join(dir, 'tokenizer.json.gz'))));
  return folder;
}

describe('streamed attribution = transformers on every family', () => {
  for (const fam of FAMILIES) {
    it(`${fam}: SAIG of one layer (≤ 1e-3 rel) and w̄·∂P/∂w on every layer (≤ 1e-4 rel), head in 7-row chunks`, async () => {
      await ready;
      const exp = JSON.parse(readFileSync(join(DIR, fam, 'expected.json'), 'utf8')) as Expected;
      const m = await loadModel({ type: 'folder', path: fixture(fam) }, { dtype: 'f32' });
      try {
        // several vocabulary chunks (the fixtures' vocabularies have ~400 rows) and several batches of points
        const opts = { path: 'streamed' as const, headChunkBytes: 7 * 4 * m.cfg.hidden, chunkBudgetBytes: 64 * 1024 };
        const q = exp.queries[0];
        const a = await attributeQuery(m, q.prompt, q.target, {
          ...opts,
          steps: q.ig.steps,
          baseline: 'pad',
          layers: [q.ig.layer],
          quadrature: 'riemann-right',
        });
        expect(a.baselinePositions).toEqual(q.ig.baselinePositions);
        expect(relErr(a.raw[q.ig.layer], q.ig.raw)).toBeLessThan(1e-3);
        // zero baseline, one right end point: raw_j = w̄_j · ∂P/∂w_j at w̄, on every layer (the streamed chain
        // of vector-Jacobian products through every layer above it)
        const z = await attributeQuery(m, q.prompt, q.target, { ...opts, steps: 1, baseline: 'zero', quadrature: 'riemann-right' });
        for (let l = 0; l < m.cfg.numLayers; l++) {
          const want = q.grad.neurons.map((j, k) => q.acts[l][j] * q.grad.values[l][k]);
          expect(
            relErr(
              q.grad.neurons.map((j) => z.raw[l][j]),
              want,
            ),
            `layer ${l}`,
          ).toBeLessThan(1e-4);
        }
      } finally {
        m.dispose();
      }
    }, 120_000);
  }
});

describe('streamed attribution memory', () => {
  it('with a small budget it holds about one layer of float32 weights; the fast path holds every layer', async () => {
    await ready;
    const d = 128,
      F = 512,
      L = 4;
    const t = await tiny('gpt2', { sizes: { layers: L, hidden: d, heads: 4, ffn: F } }, 'streamed-memory');
    const m: LoadedModel = await loadModel({ type: 'folder', path: t.dir }, { dtype: 'int8' });
    try {
      // GPT-2's block: c_attn [d, 3d], c_proj [d, d], c_fc [d, F], mlp c_proj [F, d], float32
      const layerBytes = 4 * (3 * d * d + d * d + 2 * d * F);
      const peak = async (opts: Parameters<typeof attributeQuery>[3]) => {
        m.store.deviceBudgetBytes = 0; // the LRU keeps only the layer in use
        m.store.unpin();
        const base = tf.memory().numBytes;
        let max = base;
        const sample = () => (max = Math.max(max, tf.memory().numBytes));
        const store = m.store as unknown as Record<string, (...a: unknown[]) => unknown>;
        const orig = { mat: store.mat, headColumns: store.headColumns };
        for (const k of ['mat', 'headColumns'] as const) {
          store[k] = (...a: unknown[]) => {
            const r = orig[k].apply(m.store, a);
            sample();
            return r;
          };
        }
        try {
          await attributeQuery(m, 'The capital of France is', ' Paris', { steps: 2, layers: [0], chunkBudgetBytes: 64 * 1024, onProgress: sample, ...opts });
        } finally {
          Object.assign(store, orig);
        }
        return max - base;
      };
      const streamed = await peak({ residentBudgetBytes: 0, headChunkBytes: 4 * d * 16 });
      const fast = await peak({ path: 'fast' });
      console.log(`peak tfjs bytes during a layer-0 attribution: streamed ${streamed}, fast ${fast}; one layer ${layerBytes}`);
      expect(streamed).toBeLessThan(2 * layerBytes);
      expect(fast).toBeGreaterThan(L * layerBytes);
    } finally {
      m.dispose();
    }
  }, 120_000);

  it('a cancel mid-batch stops between stages and leaves no tensor behind', async () => {
    await ready;
    const t = await tiny('gpt2', { sizes: { layers: 4 } }, 'streamed-cancel');
    const m = await loadModel({ type: 'folder', path: t.dir }, { dtype: 'int8' });
    try {
      await attributeQuery(m, 'The capital of France is', ' Paris', { steps: 1, layers: [3], path: 'streamed' }); // warm-up: caches and kernels
      const before = tf.memory().numTensors;
      const ac = new AbortController();
      let partial = 0;
      const run = attributeQuery(m, 'The capital of France is', ' Paris', {
        steps: 4,
        layers: [0],
        path: 'streamed',
        signal: ac.signal,
        onProgress: (d) => {
          // the first report inside a batch (a fraction of its points) cancels
          if (d % 1 !== 0 && !ac.signal.aborted) {
            partial = d;
            ac.abort();
          }
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'cancelled' });
      expect(partial).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      m.dispose();
    }
  }, 60_000);

  it('refuses up front, with the numbers, what cannot fit even streamed', async () => {
    await ready;
    const t = await tiny('gpt2', {}, 'streamed-refusal');
    const m = await loadModel({ type: 'folder', path: t.dir }, { dtype: 'int8' });
    try {
      m.maxDeviceBytes = 64 * 1024; // below the 256 MiB work budget alone
      await expect(attributeQuery(m, 'The capital of France is', ' Paris', { steps: 2 })).rejects.toThrow(
        /attributing layer by layer \(streamed\) keeps at least \d+\.\d\d GiB on the device at once .*this backend allows 0\.00 GiB/,
      );
    } finally {
      m.dispose();
    }
  }, 60_000);
});

/**
 * SAIG attributions against the independent float64 IG reference, the completeness check on every
 * architecture, and the fast path against the naive path.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import { attributeQuery, completenessError } from '../../src/engine/attribution/attribute';
import { refFfnActivations, refIntegratedGradients } from '../helpers/ref64';
import type { TinyArch } from '../helpers/tiny-checkpoints';
import { ready, tiny } from './setup';

const Q: Record<TinyArch, [string, string]> = {
  gpt2: ['The capital of France is', 'Paris'],
  llama: ['The capital of France is', 'Paris'],
  qwen2: ['The capital of France is', 'Paris'],
  bert: ['the capital of france is [MASK] .', 'paris'],
};
const ARCHS: TinyArch[] = ['gpt2', 'llama', 'qwen2', 'bert'];

function relErr(a: ArrayLike<number>, b: ArrayLike<number>) {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

async function load(arch: TinyArch) {
  await ready;
  const ck = await tiny(arch, { seed: 11 });
  const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
  return { ck, m };
}

describe('SAIG vs float64 IG reference (1e-3 relative)', () => {
  for (const arch of ARCHS) {
    it(`${arch}: zero baseline and one ⟨PAD⟩ baseline, layer 0, M = 8`, async () => {
      const { ck, m } = await load(arch);
      try {
        const [prompt, target] = Q[arch];
        const steps = 8;
        const z = await attributeQuery(m, prompt, target, { steps, baseline: 'zero', layers: [0], quadrature: 'riemann-right' });
        const refZ = refIntegratedGradients(arch, ck.config, ck.tensors, z.ids, z.position, 0, z.targetId, new Float64Array(m.cfg.ffn), steps);
        expect(relErr(z.raw[0], refZ.attr)).toBeLessThan(1e-3);
        // pad baselines: sum over every baseline sentence of the reference IG
        const pad = await attributeQuery(m, prompt, target, { steps, baseline: 'pad', layers: [0], quadrature: 'riemann-right' });
        expect(pad.baselinePositions.length).toBeGreaterThan(2);
        const sum = new Float64Array(m.cfg.ffn);
        for (const i of pad.baselinePositions) {
          const ids = pad.ids.map((v, k) => (k === i ? pad.padId! : v));
          const w0 = refFfnActivations(arch, ck.config, ck.tensors, ids)[0][pad.position];
          const r = refIntegratedGradients(arch, ck.config, ck.tensors, pad.ids, pad.position, 0, pad.targetId, w0, steps);
          r.attr.forEach((v, j) => (sum[j] += v));
        }
        expect(relErr(pad.raw[0], sum)).toBeLessThan(1e-3);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('completeness: Σ_j Attr_i(n_j) ≈ P(w̄) − P(w′_i)', () => {
  for (const arch of ARCHS) {
    it(`${arch}: every layer and baseline, error shrinks with M`, async () => {
      const { m } = await load(arch);
      try {
        const [prompt, target] = Q[arch];
        const coarse = completenessError(await attributeQuery(m, prompt, target, { steps: 10, quadrature: 'riemann-right' }));
        const fine = await attributeQuery(m, prompt, target, { steps: 200, quadrature: 'riemann-right' });
        const e = completenessError(fine);
        expect(fine.completeness.length).toBe(m.cfg.numLayers * fine.baselinePositions.length);
        const scale = Math.max(...fine.completeness.map((c) => Math.abs(c.expected)));
        // right-end-point Riemann error is O(1/M): 20× the steps must cut the error by well over 10×
        expect(e.maxAbs).toBeLessThan(2e-2 * scale);
        expect(e.maxAbs).toBeLessThan(coarse.maxAbs / 10);
        // P(w̄) is the model's own probability of the target
        const pr = await m.probe(prompt, { target });
        expect(Math.abs(fine.pFull - pr.target!.prob)).toBeLessThan(1e-6);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('fast path equals the naive path (1e-4 relative) and leaks nothing', () => {
  for (const arch of ARCHS) {
    it(arch, async () => {
      const { m } = await load(arch);
      try {
        const [prompt, target] = Q[arch];
        const before = tf.memory().numTensors;
        const fast = await attributeQuery(m, prompt, target, { steps: 5, chunkBudgetBytes: 64 * 1024 });
        const mid = tf.memory().numTensors;
        const naive = await attributeQuery(m, prompt, target, { steps: 5, path: 'naive' });
        expect(tf.memory().numTensors).toBe(before);
        expect(mid).toBe(before);
        for (let l = 0; l < m.cfg.numLayers; l++) expect(relErr(fast.raw[l], naive.raw[l])).toBeLessThan(1e-4);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('bad input', () => {
  it('M outside 1..1000, a target not in the vocabulary, cancel frees tensors', async () => {
    const { m } = await load('bert');
    try {
      await expect(attributeQuery(m, Q.bert[0], 'paris', { steps: 0 })).rejects.toThrow(/1\.\.1000/);
      await expect(attributeQuery(m, Q.bert[0], 'paris', { steps: 1001 })).rejects.toThrow(/1\.\.1000/);
      await expect(attributeQuery(m, Q.bert[0], '北京')).rejects.toThrow(/not in the vocabulary/);
      await expect(attributeQuery(m, 'the capital of france is paris', 'paris')).rejects.toThrow(/mask/);
      const before = tf.memory().numTensors;
      const ac = new AbortController();
      const run = attributeQuery(m, Q.bert[0], 'paris', { steps: 50, signal: ac.signal, chunkBudgetBytes: 1024, onProgress: (d) => d > 3 && ac.abort() });
      await expect(run).rejects.toMatchObject({ code: 'cancelled' });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      m.dispose();
    }
  });
});

/**
 * The engine's probabilities against the independent float64 reference (tests/helpers/ref64.ts) on tiny
 * random checkpoints of every architecture, written in the exact HF format.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { refProbs } from '../helpers/ref64';
import type { TinyArch, TinyCheckpoint, TinyOptions } from '../helpers/tiny-checkpoints';
import { maxAbsDiff, ready, tiny } from './setup';

const PROMPTS: Record<TinyArch, string> = {
  gpt2: 'The capital of France is',
  llama: 'The capital of France is',
  qwen2: 'The capital of France is',
  bert: 'the capital of france is [MASK] .',
};

async function engineProbs(m: LoadedModel, prompt: string) {
  const q = m.tok.encodeQuery(prompt);
  const t = tf.tidy(() => tf.softmax(m.logitsAt([q.ids], q.position)).reshape([-1]));
  const p = Float64Array.from(await t.data());
  t.dispose();
  return { ids: q.ids, position: q.position, p };
}

async function compare(ck: TinyCheckpoint, dtype: 'f32' | 'int8', prompt = PROMPTS[ck.arch]) {
  await ready;
  const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype });
  try {
    const e = await engineProbs(m, prompt);
    const ref = refProbs(ck.arch, ck.config, ck.tensors, e.ids, e.position);
    return { err: maxAbsDiff(e.p, ref), ids: e.ids, model: m.info, refMax: Math.max(...ref) };
  } finally {
    m.dispose();
  }
}

const VARIANTS: [string, TinyArch, TinyOptions][] = [
  ['GPT-2 (Conv1D, tied head)', 'gpt2', {}],
  ['LLaMA (GQA, untied head, llama3 rope scaling)', 'llama', {}],
  ['Qwen2 (q/k/v biases, tied head)', 'qwen2', {}],
  ['BERT (post-LN, MLM head)', 'bert', {}],
];

describe('f32 engine vs float64 reference (max |Δp| over the vocabulary ≤ 1e-5)', () => {
  for (const [label, arch, opts] of VARIANTS) {
    it(label, async () => {
      const ck = await tiny(arch, { seed: 7, ...opts });
      const r = await compare(ck, 'f32');
      expect(r.refMax).toBeLessThan(0.9); // the random model is not degenerate
      expect(r.err).toBeLessThan(1e-5);
    });
  }
  it('GPT-2 with unprefixed names (h.0…) and F16 weights', async () => {
    const r = await compare(await tiny('gpt2', { seed: 3, prefixed: false, dtype: 'F16' }), 'f32');
    expect(r.err).toBeLessThan(1e-5);
  });
  it('LLaMA with BF16 weights in 3 shards (model.safetensors.index.json)', async () => {
    const r = await compare(await tiny('llama', { seed: 4, dtype: 'BF16', shards: 3 }), 'f32');
    expect(r.err).toBeLessThan(1e-5);
  });
  it('Qwen2 unprefixed, untied', async () => {
    const r = await compare(await tiny('qwen2', { seed: 5, prefixed: false, tieWordEmbeddings: false }), 'f32');
    expect(r.err).toBeLessThan(1e-5);
  });
  it('BERT unprefixed', async () => {
    const r = await compare(await tiny('bert', { seed: 6, prefixed: false }), 'f32');
    expect(r.err).toBeLessThan(1e-5);
  });
  it('a longer prompt in another language (LLaMA)', async () => {
    const r = await compare(await tiny('llama', { seed: 8 }), 'f32', 'La capitale de la France est');
    expect(r.ids.length).toBeGreaterThan(5);
    expect(r.err).toBeLessThan(1e-5);
  });
});

describe('int8 weights: ≈1 byte per parameter, bounded probability error', () => {
  for (const [label, arch] of VARIANTS) {
    it(label, async () => {
      const ck = await tiny(arch, { seed: 7 });
      const r = await compare(ck, 'int8');
      const bpp = r.model.weightBytes / r.model.numParams;
      // tiny models have many small vectors kept in f32 and one scale per channel; big ones approach 1.0
      expect(bpp).toBeLessThan(1.35);
      expect(r.err).toBeLessThan(1e-2);
      expect(r.err).toBeGreaterThan(0); // it really is quantized
    });
  }
});

describe('probeMany: batched probes equal one-by-one probes', () => {
  it('queries of different lengths, with and without an intervention', async () => {
    await ready;
    const ck = await tiny('gpt2', { seed: 9 });
    const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
    try {
      const qs = [
        { prompt: 'The capital of France is', target: 'Paris' },
        { prompt: 'The capital of Spain is', target: 'Madrid' },
        { prompt: 'Paris is the capital of', target: 'France' },
        { prompt: 'The capital is', target: 'Paris' },
      ];
      for (const intervention of [
        undefined,
        {
          neurons: [
            [0, 3],
            [1, 7],
            [1, 100],
          ] as [number, number][],
          factor: 0,
        },
      ]) {
        const many = await m.probeMany(qs, { topK: 5, intervention });
        for (let i = 0; i < qs.length; i++) {
          const one = await m.probe(qs[i].prompt, { target: qs[i].target, topK: 5, intervention });
          expect(many[i].ids).toEqual(one.ids);
          expect(many[i].top.map((t) => t.id)).toEqual(one.top.map((t) => t.id));
          expect(Math.abs(many[i].target!.prob - one.target!.prob)).toBeLessThan(1e-6);
          expect(many[i].target!.rank).toBe(one.target!.rank);
        }
      }
      // the intervention really changes something
      const a = await m.probeMany(qs, {}),
        b = await m.probeMany(qs, {
          intervention: {
            neurons: [
              [0, 3],
              [1, 7],
            ],
            factor: 0,
          },
        });
      expect(a.some((r, i) => Math.abs(r.target!.prob - b[i].target!.prob) > 1e-7)).toBe(true);
    } finally {
      m.dispose();
    }
  });
});

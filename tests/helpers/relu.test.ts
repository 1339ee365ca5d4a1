/**
 * ReLU FFNs (GPT-2 activation_function "relu", BERT hidden_act "relu", as the demo models v2 use): the f32
 * engine equals the float64 reference, the reference's analytic BERT gradient equals finite differences, and
 * the activation really is used (a relu checkpoint differs from the same weights with GELU).
 */
import * as tf from '@tensorflow/tfjs';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import { maxAbsDiff, ready, tiny, TMP } from '../engine/setup';
import { refFfnActivations, refGradFd, refGradLastLayer, refProbFunction, refProbs } from './ref64';
import type { TinyArch } from './tiny-checkpoints';

const PROMPT: Record<'gpt2' | 'bert', string> = { gpt2: 'The capital of France is', bert: 'the capital of france is [MASK] .' };
const KEY: Record<'gpt2' | 'bert', string> = { gpt2: 'activation_function', bert: 'hidden_act' };

/** the tiny checkpoint of `arch` copied with its activation switched to relu */
async function reluCheckpoint(arch: 'gpt2' | 'bert', seed: number) {
  const ck = await tiny(arch as TinyArch, { seed });
  const dir = join(TMP, `relu-${arch}-${seed}`);
  cpSync(ck.dir, dir, { recursive: true });
  const config = { ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), [KEY[arch]]: 'relu' };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { ck, dir, config };
}

async function engineRun(dir: string, prompt: string) {
  const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
  try {
    const q = m.tok.encodeQuery(prompt);
    const t = tf.tidy(() => tf.softmax(m.logitsAt([q.ids], q.position)).reshape([-1]));
    const p = Float64Array.from(await t.data());
    t.dispose();
    return { ids: q.ids, position: q.position, p };
  } finally {
    m.dispose();
  }
}

describe('ReLU FFN: f32 engine vs float64 reference', () => {
  for (const arch of ['gpt2', 'bert'] as const) {
    it(`${arch} ${KEY[arch]}: "relu"`, async () => {
      await ready;
      const { ck, dir, config } = await reluCheckpoint(arch, 21);
      const e = await engineRun(dir, PROMPT[arch]);
      const ref = refProbs(arch, config, ck.tensors, e.ids, e.position);
      expect(Math.max(...ref)).toBeLessThan(0.9);
      expect(maxAbsDiff(e.p, ref)).toBeLessThan(1e-5);
      // the activation matters: the same weights with the default GELU give other probabilities
      const gelu = refProbs(arch, ck.config, ck.tensors, e.ids, e.position);
      expect(maxAbsDiff(gelu, ref)).toBeGreaterThan(1e-4);
      // ReLU neurons: non-negative with exact zeros
      const acts = refFfnActivations(arch, config, ck.tensors, e.ids);
      const a = acts[0][e.position];
      expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
      expect(a.filter((v) => v === 0).length).toBeGreaterThan(0);
    });
  }

  it('BERT relu: analytic last-layer gradient equals central finite differences', async () => {
    const { ck, config } = await reluCheckpoint('bert', 22);
    const ids = [2, 10, 11, 12, 4, 3];
    const L = config.num_hidden_layers as number;
    const p = refProbs('bert', config, ck.tensors, ids, 4);
    const target = p.indexOf(Math.max(...p));
    const { P, actual } = refProbFunction('bert', config, ck.tensors, ids, 4, L - 1, target);
    const w = actual.map((v, j) => 0.7 * v + 0.01 * Math.sin(j));
    const exact = refGradLastLayer('bert', config, ck.tensors, ids, 4, target, w);
    const fd = refGradFd(P, w, 1e-5);
    const scale = Math.max(...exact.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    expect(maxAbsDiff(exact, fd)).toBeLessThan(1e-6 * scale);
  });

  it('an unknown activation is refused with a message', async () => {
    await ready;
    const { dir, config } = await reluCheckpoint('gpt2', 23);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, activation_function: 'tanh' }));
    await expect(loadModel({ type: 'folder', path: dir }, { dtype: 'f32' })).rejects.toThrow(/activation_function "tanh"/);
  });
});

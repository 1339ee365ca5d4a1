/**
 * Knowledge injection (src/engine/interventions/inject.ts) on the planted model with its second fact: train only
 * Japan's 10 language-agnostic neurons on ONE English query to answer "seoul"; the fact then changes in
 * every language (the neurons are shared), China's fact stays; undo restores every byte; a diverging run
 * changes nothing and says why.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelEditor } from '../../src/engine/interventions/edit';
import { loadModel } from '../../src/engine/index';
import { injectFact } from '../../src/engine/interventions/inject';
import type { LoadedModel } from '../../src/engine/families/model';
import { buildPlanted, JAPAN_NEURONS, LANGS, SUBJECT, SUBJECT_JA } from '../helpers/planted';
import { ready, TMP } from '../engine/setup';

function bytes(m: LoadedModel): string[] {
  return m.store.names().map((s) => {
    const h = m.store.hostMatrix(s.name);
    const a = h.q ? [...h.q.q, ...new Uint8Array(h.q.scales.slice().buffer)] : [...new Uint8Array(h.f32!.slice().buffer)];
    let x = 0;
    for (let i = 0; i < a.length; i++) x = (Math.imul(x, 31) + a[i]) | 0;
    return `${s.name}:${a.length}:${x}`;
  });
}

describe('injection', () => {
  for (const dtype of ['f32', 'int8'] as const) {
    it(`${dtype}: training only Japan's neurons on one English query moves the answer in every language`, async () => {
      await ready;
      const dir = join(TMP, 'planted-inject-' + dtype);
      await buildPlanted(dir, { second: true }).write();
      const m = await loadModel({ type: 'folder', path: dir }, { dtype });
      try {
        const japan = LANGS.map((l) => ({ lang: l, prompt: `${SUBJECT_JA[l]} r${l}1`, target: 'seoul' }));
        const china = LANGS.map((l) => ({ lang: l, prompt: `${SUBJECT[l]} r${l}1`, target: 'beijing' }));
        const before = bytes(m);
        const b = await m.probeMany([...japan, ...china], { topK: 1 });
        const tensorsBefore = tf.memory().numTensors;
        for (const r of b.slice(0, 7)) expect(r.top[0].token).toBe('tokyo');
        const ed = new ModelEditor(m);
        const r = await injectFact(ed, {
          neurons: JAPAN_NEURONS.map((j) => [0, j]),
          queries: [{ prompt: 'japan ren0', target: 'seoul' }],
          steps: 60,
          lr: 0.05,
        });
        expect(r.stopped).toBeNull();
        expect(r.converged).toBe(true);
        expect(r.params).toBe(10 * (16 + 16 + 16)); // gate and up columns, down rows
        const a = await m.probeMany([...japan, ...china], { topK: 1 });
        const moved = a.slice(0, 7).filter((x) => x.top[0].token === 'seoul').length;
        console.log(
          `inject (${dtype}): ${r.steps} steps, ${r.ms.toFixed(0)} ms, loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}; seoul now top-1 for Japan in ${moved}/7 languages (trained on English only)`,
        );
        expect(moved).toBe(7);
        a.slice(7).forEach((x) => expect(x.top[0].token).toBe('beijing'));
        ed.undo();
        expect(bytes(m)).toEqual(before);
        const c = await m.probeMany([...japan, ...china], { topK: 1 });
        c.forEach((x, i) => expect(x.target!.prob).toBe(b[i].target!.prob));
        // nothing of the training stays behind (variables, optimizer slots, one-hot selectors)
        expect(tf.memory().numTensors).toBe(tensorsBefore);
      } finally {
        m.dispose();
      }
    });
  }

  it('a diverging run changes nothing and says why; bad settings are refused', async () => {
    await ready;
    const dir = join(TMP, 'planted-inject-div');
    await buildPlanted(dir, { second: true }).write();
    const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
    try {
      const before = bytes(m);
      const ed = new ModelEditor(m);
      // a model whose loss is not finite (one head row pushed to 1e38) stands in for a run that blows up
      const seoul = m.tok.tok.token_to_id('seoul')!;
      ed.patch('inject', [], [{ name: 'lm_head.weight', axis: 0, index: seoul, delta: new Float32Array(16).fill(3e38) }]);
      const broken = bytes(m);
      const r = await injectFact(ed, { neurons: 'all', queries: [{ prompt: 'japan ren0', target: 'seoul' }], steps: 5 });
      expect(r.stopped).toMatch(/training diverged at step 1 .*nothing was changed/);
      expect(r.edit).toBeNull();
      expect(ed.edits).toHaveLength(1);
      expect(bytes(m)).toEqual(broken);
      ed.undo();
      expect(bytes(m)).toEqual(before);
      await expect(injectFact(ed, { neurons: [[0, 99]], queries: [{ prompt: 'japan ren0', target: 'seoul' }] })).rejects.toThrow(
        /neuron \[0, 99\] does not exist/,
      );
      await expect(injectFact(ed, { neurons: [[0, 1]], queries: [] })).rejects.toThrow(/at least one query/);
      await expect(injectFact(ed, { neurons: [[0, 1]], queries: [{ prompt: 'japan ren0', target: 'seoul' }], lr: -1 })).rejects.toThrow(/learning rate/);
    } finally {
      m.dispose();
    }
  });
});

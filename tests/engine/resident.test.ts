/** An attribution that would not fit the backend's device memory is refused up front, with the numbers. */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/attribution/attribute';
import { ready, tiny } from './setup';

describe('attribution memory', () => {
  it('refuses, naming the layers and the GiB, when the float32 weights it pins exceed the limit; runs when they fit', async () => {
    await ready;
    const t = await tiny('gpt2', {}, 'resident');
    const m = await loadModel({ type: 'folder', path: t.dir }, { dtype: 'int8' });
    try {
      const prompt = 'The capital of France is';
      m.maxDeviceBytes = 64 * 1024; // far below the weights plus the 1 MiB work budget
      await expect(attributeQuery(m, prompt, ' Paris', { steps: 2, chunkBudgetBytes: 1024 * 1024, path: 'fast' })).rejects.toThrow(
        /attributing layers 0\.\.\d+ keeps \d+\.\d\d GiB on the device at once .* this backend allows 0\.00 GiB/,
      );
      // not asked for the fast path: the streamed one, which does not fit either (tests/engine/streamed.test.ts)
      await expect(attributeQuery(m, prompt, ' Paris', { steps: 2, chunkBudgetBytes: 1024 * 1024 })).rejects.toThrow(/attributing layer by layer \(streamed\)/);
      m.maxDeviceBytes = 1024 ** 3;
      const r = await attributeQuery(m, prompt, ' Paris', { steps: 2, chunkBudgetBytes: 1024 * 1024 });
      expect(r.raw.length).toBe(m.cfg.numLayers);
    } finally {
      m.dispose();
    }
  }, 300_000);
});

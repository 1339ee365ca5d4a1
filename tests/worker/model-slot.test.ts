/**
 * The worker's model slot (src/worker/model-slot.ts): a failed or cancelled load keeps the loaded model
 * working, and what was computed on it; only a load that succeeds disposes the old model, and only then.
 */
import { describe, expect, it } from 'vitest';
import { stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModel, loadModelArg } from '../../src/engine/index';
import { KnError } from '../../src/shared/errors';
import type { LoadedModel } from '../../src/engine/families/model';
import { ModelSlot } from '../../src/worker/model-slot';
import { ready, tiny } from '../engine/setup';

const PROMPT = 'The capital of Azerbaijan is';

async function truncatedFolder(): Promise<string> {
  const { dir } = await tiny('gpt2', { seed: 5, shards: 2 }, 'slot-truncated');
  const shard = join(dir, 'model-00002-of-00002.safetensors');
  await truncate(shard, (await stat(shard)).size - 100);
  return dir;
}

describe('the worker model slot', () => {
  it('a truncated folder fails to load and the demo model it was to replace still probes exactly as before', async () => {
    await ready;
    let forgotten = 0;
    const slot = new ModelSlot(() => forgotten++);
    const demo = await slot.replace((signal) => loadModelArg('bundled:demo-causal', { dtype: 'int8', signal }));
    expect(slot.current).toBe(demo);
    forgotten = 0; // the first load had nothing to forget
    const before = await demo.probe(PROMPT, { target: ' Baku', topK: 5 });
    const tensors = tf.memory().numTensors;
    let disposed = 0;
    const dispose = demo.dispose.bind(demo);
    demo.dispose = () => {
      disposed++;
      dispose();
    };

    const dir = await truncatedFolder();
    const err = await slot.replace((signal) => loadModel({ type: 'folder', path: dir }, { dtype: 'int8', signal })).catch((e) => e);
    expect(err).toBeInstanceOf(KnError);
    expect(err.code).toBe('truncated');
    expect(err.message).toContain('model-00002-of-00002.safetensors');
    // the old model is the slot's, undisposed, with nothing it computed dropped, and answers as before
    expect(slot.current).toBe(demo);
    expect(disposed).toBe(0);
    expect(forgotten).toBe(0);
    expect(slot.loading).toBe(false);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = await slot.current!.probe(PROMPT, { target: ' Baku', topK: 5 });
    expect(after.top).toEqual(before.top);
    expect(after.target?.prob).toBe(before.target?.prob);

    // a cancelled load keeps it too
    const cancelled = slot.replace(
      (signal) => new Promise<LoadedModel>((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    );
    expect(slot.loading).toBe(true);
    slot.cancel();
    const c = await cancelled.catch((e) => e);
    expect(c).toBeInstanceOf(KnError);
    expect(c.code).toBe('cancelled');
    expect(slot.current).toBe(demo);
    expect(disposed).toBe(0);

    // a load that succeeds replaces it: the old model is disposed once, after the new one loaded
    let oldAliveWhileLoading = false;
    const masked = await slot.replace(async (signal) => {
      const m = await loadModelArg('bundled:demo-masked', { dtype: 'int8', signal });
      oldAliveWhileLoading = slot.current === demo && disposed === 0;
      return m;
    });
    expect(oldAliveWhileLoading).toBe(true);
    expect(slot.current).toBe(masked);
    expect(masked.info.architecture).toBe('BertForMaskedLM');
    expect(disposed).toBe(1);
    expect(forgotten).toBe(1);
    slot.unload();
    expect(slot.current).toBeNull();
    expect(forgotten).toBe(2);
  });

  it('a load that returns after its cancel is disposed, never put in place', async () => {
    await ready;
    const slot = new ModelSlot(() => undefined);
    let gotSignal: AbortSignal | null = null;
    let disposedLate = 0;
    const p = slot.replace(async (signal) => {
      gotSignal = signal;
      const m = await loadModelArg('bundled:demo-causal', { dtype: 'int8' }); // ignores the signal
      const d = m.dispose.bind(m);
      m.dispose = () => {
        disposedLate++;
        d();
      };
      return m;
    });
    slot.cancel();
    const e = await p.catch((x) => x);
    expect(gotSignal!.aborted).toBe(true);
    expect(e.code).toBe('cancelled');
    expect(slot.current).toBeNull();
    expect(disposedLate).toBe(1);
  });
});

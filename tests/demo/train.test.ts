/**
 * The demo-model training script on a tiny configuration: the tokenizer it learns round-trips through
 * @huggingface/tokenizers and splits queries at the prompt's end, a few steps from scratch lower the
 * loss, and a run interrupted by a checkpoint and resumed ends with the same weights as an uninterrupted one.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { LANGS } from '../../src/data/types';
import { causalQuery } from '../../src/data/queries';
import { makeBatch, trainStep, lossOf } from '../../scripts/train/model';
import { prepare, train, writeHf, SPECS, type DemoSpec } from '../../scripts/train/train-demo';
import { compareWithEngine } from '../../scripts/train/export-demo';
import { template } from '../../scripts/train/data';
import { ready, TMP } from '../engine/setup';

const tinySpec = (kind: 'causal' | 'masked'): DemoSpec => ({
  ...SPECS[kind],
  model: { d: 16, layers: 2, heads: 2, ffn: 32, ctx: 64 }, // 2 layers: the v2 recipe's attention-free layer 1 is exported too
  vocabSize: 300,
  perRelation: 2,
  batch: 16,
  steps: 6,
  lr: 1e-2,
  warmup: 1,
});

const quiet = () => {};

describe('train:demo (tiny)', () => {
  it('learns a tokenizer that round-trips and splits every causal query at the prompt end', async () => {
    await ready;
    const run = await prepare(tinySpec('causal'), join(TMP, 'train-tok'), true, quiet);
    const tok = new Tokenizer(run.files.json, run.files.config);
    let n = 0;
    for (const f of run.data.facts) {
      for (const l of LANGS) {
        const t = template(run.data, f.relation, l, run.data.split.templates[f.relation][l].trained[0]);
        const q = causalQuery(t, { id: f.id, subject: f.subject[l], object: f.object[l] })!;
        const text = q.prompt + q.target;
        expect(tok.decode(tok.encode(text).ids)).toBe(text);
        const pre = tok.encode(q.prompt).ids,
          full = tok.encode(text).ids;
        expect(full.slice(0, pre.length), text).toEqual(pre);
        // the object's first token is a whole character (never a lone UTF-8 byte) and not a bare space
        const first = run.tok.display(run.tok.targetId(q.prompt, q.target));
        expect(first, text).not.toContain('\uFFFD');
        expect(first.trim().length, text).toBeGreaterThan(0);
        n++;
      }
    }
    expect(n).toBe(run.data.facts.length * 7);
  });

  it.each(['causal', 'masked'] as const)('%s: a few steps from scratch lower the loss', async (kind) => {
    await ready;
    const run = await prepare(tinySpec(kind), join(TMP, `train-loss-${kind}`), true, quiet);
    const batch = makeBatch(run.builder.base.slice(0, 16), 0);
    const before = lossOf(run.config, run.P, batch).dataSync()[0];
    for (let i = 0; i < 8; i++) trainStep(run.config, run.P, run.S, batch, { lr: 1e-2 });
    const after = lossOf(run.config, run.P, batch).dataSync()[0];
    expect(after).toBeLessThan(before * 0.8);
  });

  it('resumes from its checkpoint exactly', async () => {
    await ready;
    const spec = tinySpec('causal');
    const straight = await prepare({ ...spec }, join(TMP, 'train-a'), true, quiet);
    await train(straight, { ckptDir: join(TMP, 'train-a'), log: quiet, evalEvery: 1000 });
    expect(straight.meta.step).toBe(6);

    const dir = join(TMP, 'train-b');
    const first = await prepare({ ...spec }, dir, true, quiet);
    expect(await train(first, { ckptDir: dir, log: quiet, evalEvery: 1000, stopAt: 3 })).toEqual({ done: false });
    const resumed = await prepare({ ...spec }, dir, false, quiet);
    expect(resumed.meta.step).toBe(3);
    await train(resumed, { ckptDir: dir, log: quiet, evalEvery: 1000 });
    expect(resumed.meta.step).toBe(6);
    for (const [name, v] of straight.P) {
      const a = v.dataSync(),
        b = resumed.P.get(name)!.dataSync();
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
      expect(m, name).toBeLessThan(1e-5);
    }
  });

  it.each(['causal', 'masked'] as const)('%s: the engine loading the saved safetensors predicts what the training model predicts', async (kind) => {
    await ready;
    const dir = join(TMP, `train-export-${kind}`);
    const run = await prepare(tinySpec(kind), dir, true, quiet);
    await train(run, { ckptDir: dir, log: quiet, evalEvery: 1000 });
    await writeHf(run, join(dir, 'hf'));
    const r = await compareWithEngine(run, join(dir, 'hf'), 60);
    expect(r.n).toBeGreaterThanOrEqual(50);
    expect(r.agree).toBe(r.n);
  });
});

/**
 * The logit lens (src/engine/atlas/lens.ts) against transformers in float64 (scripts/reference/atlas_lens.py →
 * tests/fixtures/atlas/lens.json): for GPT-2, LLaMA, BERT and XLM-R tiny reference checkpoints, every vocabulary
 * logit of three neurons' output vectors through the family's final norm and head (≤ 1e-4 relative, float32 here),
 * the same top promoted and suppressed tokens, and the same ranks.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/engine/index';
import { checkNeuron, lensLogits, lensRank, logitLens } from '../../src/engine/atlas';
import { ready } from '../engine/setup';

const MODELS = join(__dirname, '..', 'fixtures', 'reference', 'models');
const REF = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'atlas', 'lens.json'), 'utf8')) as {
  families: Record<string, { neurons: { neuron: [number, number]; logits: number[] }[] }>;
};

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
};
const order = (x: ArrayLike<number>, dir: 1 | -1) =>
  Array.from({ length: x.length }, (_, i) => i)
    .sort((a, b) => dir * (x[b] - x[a]) || a - b)
    .slice(0, 10);

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function load(fam: string): Promise<LoadedModel> {
  await ready;
  let dir = join(MODELS, fam);
  if (existsSync(join(dir, 'tokenizer.json.gz'))) {
    const copy = mkdtempSync(join(tmpdir(), `kn-lens-${fam}-`));
    cpSync(dir, copy, { recursive: true });
    writeFileSync(join(copy, 'tokenizer.json'), gunzipSync(readFileSync(join(dir, 'tokenizer.json.gz'))));
    tmp.push(copy);
    dir = copy;
  }
  return loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
}

for (const [fam, ref] of Object.entries(REF.families)) {
  describe(`logit lens of ${fam} against transformers (float64)`, () => {
    it('every logit ≤ 1e-4 relative; the same top-10 promoted and suppressed tokens and ranks', async () => {
      const m = await load(fam);
      try {
        const got = await lensLogits(
          m,
          ref.neurons.map((n) => n.neuron),
        );
        ref.neurons.forEach((n, i) => {
          expect(got[i].length).toBe(n.logits.length);
          expect(relErr(got[i], n.logits), `L${n.neuron[0]}·${n.neuron[1]}`).toBeLessThan(1e-4);
          expect(order(got[i], 1)).toEqual(order(n.logits, 1));
          expect(order(got[i], -1)).toEqual(order(n.logits, -1));
          const best = order(n.logits, 1)[3];
          expect(lensRank(got[i], best)).toBe(3);
        });
        const r = await logitLens(m, ref.neurons[0].neuron, 5);
        expect(r.promoted.map((t) => t.id)).toEqual(order(ref.neurons[0].logits, 1).slice(0, 5));
        expect(r.suppressed.map((t) => t.id)).toEqual(order(ref.neurons[0].logits, -1).slice(0, 5));
        expect(r.promoted[0].logit).toBeCloseTo(ref.neurons[0].logits[r.promoted[0].id], 4);
        expect(() => checkNeuron(m, [m.cfg.numLayers, 0])).toThrow(new RegExp(`does not exist in this model \\(${m.cfg.numLayers} layers`));
        expect(() => checkNeuron(m, [0, m.cfg.ffn])).toThrow(/does not exist/);
      } finally {
        m.dispose();
      }
    });
  });
}

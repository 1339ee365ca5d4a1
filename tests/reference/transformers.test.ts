/**
 * The engine against Hugging Face transformers itself: tiny random checkpoints written by
 * `save_pretrained(safe_serialization=True)` with real tokenizers, and the outputs transformers computed
 * on them in float64 (scripts/reference/models.py, `npm run reference`; fixtures in
 * tests/fixtures/reference/models/<family>/).
 *
 * Per family and query: token ids, target position and target id; top-k probabilities (≤ 1e-5);
 * the neuron activations of every layer at the target position (≤ 1e-5 relative); dP/d(neuron) for a
 * few neurons (≤ 1e-4 relative); SAIG raw scores of one layer with ⟨PAD⟩ baselines, fast and naive
 * path (≤ 1e-3 relative); the fast path equal to the naive path on every layer; and int8 weights within
 * a bounded error (per-channel int8 of these small random matrices: measured ≤ 1.3e-2 in probability).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/attribution/attribute';
import { ready } from '../engine/setup';

const DIR = join(__dirname, '..', 'fixtures', 'reference', 'models');

/** the families checked here (a fixture folder each) */
export const REFERENCE_FAMILIES = ['gpt2', 'llama', 'qwen2', 'qwen3', 'bloom', 'gemma2', 'gemma3', 'bert', 'xlmr'];

interface Expected {
  family: string;
  architecture: string;
  kind: 'causal' | 'masked';
  queries: {
    prompt: string;
    target: string;
    ids: number[];
    position: number;
    targetId: number;
    top: [number, number][];
    targetProb: number;
    acts: number[][];
    grad: { neurons: number[]; values: number[][] };
    ig: { layer: number; steps: number; padId: number; baselinePositions: number[]; raw: number[] };
  }[];
}

/** max |a − b| / max |b| */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

/**
 * transformers ≥ 5 writes `rope_parameters` (and Gemma's `layer_types`); the checkpoints on the hub mostly
 * have the older keys. The same model in the older form, or null when the config has nothing to convert.
 */
function legacyConfig(cfg: Record<string, any>): Record<string, any> | null {
  const c = { ...cfg };
  const rp = c.rope_parameters;
  const gemma = c.model_type === 'gemma2' || c.model_type === 'gemma3_text';
  if (!rp && !gemma) return null;
  delete c.rope_parameters;
  const split = (r: Record<string, unknown>) => {
    const { rope_theta, ...rest } = r;
    return { theta: rope_theta, scaling: rest.rope_type && rest.rope_type !== 'default' ? rest : undefined };
  };
  if (rp?.full_attention) {
    const full = split(rp.full_attention),
      local = split(rp.sliding_attention);
    c.rope_theta = full.theta;
    c.rope_local_base_freq = local.theta;
    if (full.scaling) c.rope_scaling = full.scaling;
  } else if (rp) {
    const r = split(rp);
    c.rope_theta = r.theta;
    if (r.scaling) c.rope_scaling = r.scaling;
  }
  if (gemma && Array.isArray(c.layer_types)) {
    // the fixtures alternate sliding / full, which is Gemma 2's fixed pattern and Gemma 3's pattern 2
    expect(c.layer_types).toEqual(c.layer_types.map((_: string, i: number) => ((i + 1) % 2 ? 'sliding_attention' : 'full_attention')));
    delete c.layer_types;
    if (c.model_type === 'gemma3_text') c.sliding_window_pattern = 2;
  }
  return c;
}

async function fullProbs(m: LoadedModel, ids: number[], pos: number): Promise<Float32Array> {
  const t = tf.tidy(() => tf.softmax(m.logitsAt([ids], pos)).reshape([-1]));
  const p = (await t.data()) as Float32Array;
  t.dispose();
  return p;
}

/** neuron vectors at `pos` of every layer */
async function activations(m: LoadedModel, ids: number[], pos: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const T = ids.length;
  let h = m.fm.embed([ids]);
  for (let l = 0; l < m.cfg.numLayers; l++) {
    const { h1 } = m.fm.attnHalf(l, h, 1, T);
    const a = m.fm.ffnAct(l, h1);
    const row = a.slice([pos, 0], [1, -1]);
    out.push((await row.data()) as Float32Array);
    const next = m.fm.ffnOut(l, h1, a);
    tf.dispose([h, h1, a, row]);
    h = next;
  }
  h.dispose();
  return out;
}

/** dP(target)/dw at the actual neuron vector w of layer l, target position */
async function gradAt(m: LoadedModel, ids: number[], pos: number, layer: number, targetId: number, w: Float32Array): Promise<Float32Array> {
  const T = ids.length;
  const onehot = tf.oneHot(tf.tensor1d([pos], 'int32'), T).reshape([T, 1]);
  const g = tf.grad((W: tf.Tensor) => {
    let h = m.fm.embed([ids]);
    for (let l = 0; l < m.cfg.numLayers; l++) {
      const { h1 } = m.fm.attnHalf(l, h, 1, T);
      let a = m.fm.ffnAct(l, h1);
      if (l === layer) a = a.mul(tf.sub(1, onehot)).add(W.mul(onehot)) as tf.Tensor2D;
      h = m.fm.ffnOut(l, h1, a);
    }
    const logits = m.fm.logits(h.slice([pos, 0], [1, -1]) as tf.Tensor2D);
    return tf
      .softmax(logits)
      .reshape([-1])
      .mul(tf.oneHot(tf.tensor1d([targetId], 'int32'), m.cfg.vocab).reshape([-1]))
      .sum() as tf.Scalar;
  });
  const W = tf.tensor2d(w, [1, w.length]);
  const gt = g(W);
  const d = (await gt.data()) as Float32Array;
  tf.dispose([gt, W, onehot]);
  return d;
}

/** the worst error of each kind per family (printed after each family; the closing note reports them) */
const worst: Record<string, Record<string, number>> = {};
const note = (fam: string, what: string, v: number) => {
  worst[fam] ??= {};
  worst[fam][what] = Math.max(worst[fam][what] ?? 0, v);
  return v;
};

const ONLY = process.env.REF_FAMILIES?.split(',');
for (const fam of REFERENCE_FAMILIES.filter((f) => !ONLY || ONLY.includes(f))) {
  const dir = join(DIR, fam);
  const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  describe(`${exp.architecture} (${fam}) against transformers`, () => {
    let m: LoadedModel;
    let folder = dir;
    beforeAll(async () => {
      await ready;
      if (existsSync(join(dir, 'tokenizer.json.gz'))) {
        // a large tokenizer.json (SentencePiece charsmap) is committed gzip'd: unpack it into a copy
        folder = mkdtempSync(join(tmpdir(), `kn-ref-${fam}-`));
        cpSync(dir, folder, { recursive: true });
        writeFileSync(join(folder, 'tokenizer.json'), gunzipSync(readFileSync(join(dir, 'tokenizer.json.gz'))));
      }
      m = await loadModel({ type: 'folder', path: folder }, { dtype: 'f32' });
    });
    afterAll(() => {
      m?.dispose();
      console.log(`worst error vs transformers, ${fam}: ${JSON.stringify(worst[fam])}`);
      if (folder !== dir) rmSync(folder, { recursive: true, force: true });
    });

    it('tokenization: ids, target position, target id', () => {
      expect(m.info.kind).toBe(exp.kind);
      for (const q of exp.queries) {
        const e = m.tok.encodeQuery(q.prompt);
        expect(e.ids, q.prompt).toEqual(q.ids);
        expect(e.position).toBe(q.position);
        expect(m.tok.targetId(q.prompt, q.target)).toBe(q.targetId);
      }
    });

    it('top-k probabilities at the target position (≤ 1e-5) and activations of every layer (≤ 1e-5 relative)', async () => {
      for (const q of exp.queries) {
        const p = await fullProbs(m, q.ids, q.position);
        for (const [id, pr] of q.top) expect(note(fam, 'prob', Math.abs(p[id] - pr)), `${q.prompt}: P(${id})`).toBeLessThan(1e-5);
        expect(note(fam, 'prob', Math.abs(p[q.targetId] - q.targetProb))).toBeLessThan(1e-5);
        const pr = await m.probe(q.prompt, { target: q.target, topK: q.top.length });
        expect(pr.top[0].id).toBe(q.top[0][0]);
        const acts = await activations(m, q.ids, q.position);
        expect(acts.length).toBe(q.acts.length);
        acts.forEach((a, l) => expect(note(fam, 'actRel', relErr(a, q.acts[l])), `${q.prompt}: layer ${l}`).toBeLessThan(1e-5));
      }
    });

    it('dP(target)/d(neuron) at the actual activations (≤ 1e-4 relative)', async () => {
      const q = exp.queries[0];
      const acts = await activations(m, q.ids, q.position);
      for (let l = 0; l < m.cfg.numLayers; l++) {
        const g = await gradAt(m, q.ids, q.position, l, q.targetId, acts[l]);
        const mine = q.grad.neurons.map((j) => g[j]);
        expect(note(fam, 'gradRel', relErr(mine, q.grad.values[l])), `layer ${l}`).toBeLessThan(1e-4);
      }
    });

    it('SAIG raw scores of one layer, ⟨PAD⟩ baselines: fast and naive path (≤ 1e-3 relative)', async () => {
      for (const [qi, q] of exp.queries.entries()) {
        const paths = qi === 0 ? (['fast', 'naive'] as const) : (['fast'] as const);
        for (const path of paths) {
          // the fixture's IG is the right Riemann sum (scripts/reference/models.py)
          const a = await attributeQuery(m, q.prompt, q.target, {
            steps: q.ig.steps,
            baseline: 'pad',
            layers: [q.ig.layer],
            path,
            quadrature: 'riemann-right',
          });
          expect(a.baselinePositions).toEqual(q.ig.baselinePositions);
          expect(a.padId).toBe(q.ig.padId);
          expect(note(fam, `ig${path === 'fast' ? 'Fast' : 'Naive'}Rel`, relErr(a.raw[q.ig.layer], q.ig.raw)), `${path}: ${q.prompt}`).toBeLessThan(1e-3);
        }
      }
    });

    it('fast path equals naive path on every layer (zero baseline, 1e-4 relative)', async () => {
      const q = exp.queries[1] ?? exp.queries[0];
      const opts = { steps: 4, baseline: 'zero' as const };
      const fast = await attributeQuery(m, q.prompt, q.target, { ...opts, path: 'fast' });
      const naive = await attributeQuery(m, q.prompt, q.target, { ...opts, path: 'naive' });
      for (let l = 0; l < m.cfg.numLayers; l++) expect(note(fam, 'fastVsNaiveRel', relErr(fast.raw[l], naive.raw[l])), `layer ${l}`).toBeLessThan(1e-4);
    });

    it('the same checkpoint with a transformers 4 style config (rope_theta / rope_scaling / rope_local_base_freq, no layer_types)', async (ctx) => {
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      const old = legacyConfig(cfg);
      if (!old) return ctx.skip();
      const tmp = mkdtempSync(join(tmpdir(), `kn-ref-legacy-${fam}-`));
      try {
        cpSync(folder, tmp, { recursive: true });
        writeFileSync(join(tmp, 'config.json'), JSON.stringify(old));
        const ml = await loadModel({ type: 'folder', path: tmp }, { dtype: 'f32' });
        try {
          for (const q of exp.queries) {
            const p = await fullProbs(ml, q.ids, q.position);
            for (const [id, pr] of q.top) expect(Math.abs(p[id] - pr)).toBeLessThan(1e-5);
          }
        } finally {
          ml.dispose();
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('int8 weights: top-k probabilities within 3e-2, attributions within 30 % (relative to the largest)', async () => {
      const m8 = await loadModel({ type: 'folder', path: folder }, { dtype: 'int8' });
      try {
        const q = exp.queries[0];
        const p = await fullProbs(m8, q.ids, q.position);
        let err = 0;
        for (const [id, pr] of q.top) err = Math.max(err, Math.abs(p[id] - pr));
        expect(note(fam, 'int8Prob', err)).toBeLessThan(3e-2);
        const a = await attributeQuery(m8, q.prompt, q.target, { steps: q.ig.steps, baseline: 'pad', layers: [q.ig.layer], quadrature: 'riemann-right' });
        expect(note(fam, 'int8IgRel', relErr(a.raw[q.ig.layer], q.ig.raw))).toBeLessThan(0.3);
      } finally {
        m8.dispose();
      }
    });
  });
}

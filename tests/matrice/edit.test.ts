/**
 * Knowledge editing (src/engine/interventions/edit.ts): erase and update are reversible byte for byte in f32 and
 * int8, on every family; erase of the planted fact's neurons removes it in every language and leaves the
 * second planted fact alone; bad input is refused with a message that names what is wrong.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputEmbeddingName, ModelEditor, objectToken } from '../../src/engine/interventions/edit';
import { loadModel } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { attributeFact, selectNeurons, type QuerySpec } from '../../src/engine/interventions/manipulate';
import { scoreNoUaL } from '../../src/engine/selection/scoring';
import type { ProbeResult } from '../../src/shared/types';
import { buildPlanted, JAPAN_NEURONS, LANGS, PLANTED, SUBJECT, SUBJECT_JA } from '../helpers/planted';
import { ready, tiny, TMP } from '../engine/setup';

/** Every matrix and vector of the model as held (int8 bytes + scales, or float32 bytes). */
function snapshot(m: LoadedModel): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const s of m.store.names()) {
    const h = m.store.hostMatrix(s.name);
    if (h.q) {
      out.set(s.name + ':q', new Uint8Array(h.q.q.buffer.slice(h.q.q.byteOffset, h.q.q.byteOffset + h.q.q.byteLength)));
      out.set(s.name + ':s', new Uint8Array(h.q.scales.slice().buffer));
    } else out.set(s.name, new Uint8Array(h.f32!.slice().buffer));
  }
  return out;
}

function sameBytes(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): string | null {
  if (a.size !== b.size) return `${a.size} vs ${b.size} tensors`;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y || y.length !== x.length) return `${k}: missing or resized`;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${k}: byte ${i} differs`;
  }
  return null;
}

const mean = (rs: ProbeResult[]) => (rs.reduce((s, r) => s + r.target!.prob, 0) / rs.length).toFixed(3);

async function logits(m: LoadedModel, prompt: string): Promise<Float32Array> {
  const q = m.tok.encodeQuery(prompt);
  const t = m.logitsAt([q.ids], q.position);
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

describe('edits are reversible byte for byte', () => {
  for (const arch of ['gpt2', 'llama', 'bert'] as const) {
    for (const dtype of ['f32', 'int8'] as const) {
      it(`${arch} ${dtype}: erase and update change the forward; undo restores every byte and the logits`, async () => {
        await ready;
        const ck = await tiny(arch, { seed: 5 });
        const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype });
        try {
          const prompt = arch === 'bert' ? `hello ${m.tok.maskToken} world` : 'hello world';
          const hash0 = m.info.contentHash;
          const before = snapshot(m);
          const l0 = await logits(m, prompt);
          const ed = new ModelEditor(m);
          const neurons: [number, number][] = [
            [0, 1],
            [0, 3],
            [m.cfg.numLayers - 1, 2],
          ];
          const { name, neuronAxis } = m.family.outWeight(0);
          const w0 = m.store.readSlice(name, neuronAxis, 1);
          expect(w0.some((x) => x !== 0)).toBe(true);
          const e1 = ed.erase(neurons);
          expect(m.store.readSlice(name, neuronAxis, 1).every((x) => x === 0)).toBe(true);
          expect(m.info.contentHash).not.toBe(hash0);
          expect(e1.precision).toBe(dtype === 'f32' ? 'f32' : 'int8 + float32 overlay');
          if (dtype === 'int8') expect(e1.requantization!.clipped).toBe(0); // zero is exact in int8
          const l1 = await logits(m, prompt);
          expect(l1.some((x, i) => Math.abs(x - l0[i]) > 1e-6)).toBe(true);
          // a stacked update on top of the erase, then undo both (last first)
          const vocab = [...m.tok.tok.get_vocab(true).keys()].filter((t) => /^[a-z]+$/.test(t));
          const [a, b] = [vocab[0], vocab.find((t) => m.tok.targetId(prompt, t) !== m.tok.targetId(prompt, vocab[0]))!];
          const e2 = ed.update(
            [
              [0, 1],
              [0, 5],
            ],
            { prompt, oldObject: a, newObject: b },
          );
          const E = m.store.rows(inputEmbeddingName(m), [e2.newObject!.id, e2.oldObject!.id]);
          const e = E.dataSync();
          E.dispose();
          const w5 = m.store.readSlice(name, neuronAxis, 5);
          const d = m.cfg.hidden;
          const w1 = m.store.readSlice(name, neuronAxis, 1);
          for (let i = 0; i < d; i++) expect(w1[i]).toBeCloseTo(0 - 1 * e[d + i] + 8 * e[i], 5); // on top of the erase
          expect(w5.some((x) => Number.isFinite(x) && x !== 0)).toBe(true);
          expect(() => ed.undo(e1.id)).toThrow(/not the last one/);
          ed.undo();
          ed.undo();
          expect(ed.edits).toHaveLength(0);
          expect(sameBytes(before, snapshot(m))).toBeNull();
          if (dtype === 'int8') expect(m.store.overlay(name)).toBeUndefined();
          expect(m.info.contentHash).toBe(hash0);
          const l2 = await logits(m, prompt);
          for (let i = 0; i < l0.length; i++) expect(l2[i]).toBe(l0[i]);
        } finally {
          m.dispose();
        }
      });
    }
  }

  it('int8: an update keeps the intended float32 values; re-quantizing in place would clip (measured)', async () => {
    await ready;
    const ck = await tiny('gpt2', { seed: 5 });
    const m = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'int8' });
    const f = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'int8' });
    try {
      const ed = new ModelEditor(m);
      const vocab = [...m.tok.tok.get_vocab(true).keys()].filter((t) => /^[a-z]+$/.test(t));
      // the new object is written into the model: its first token after the prompt must be a whole token
      // (not the bare space that a word missing from the tiny vocabulary starts with: KnTokenizer.wholeTargetId)
      const first = (t: string) => m.tok.targetId('hello world', t);
      const newObject = vocab.find((t) => m.tok.tokenProblem(first(t)) === null && first(t) !== first(vocab[0]))!;
      const e = ed.update(
        [
          [0, 0],
          [1, 7],
        ],
        { prompt: 'hello world', oldObject: vocab[0], newObject, lambda2: 8 },
      );
      const { name, neuronAxis } = m.family.outWeight(1);
      const w = m.store.readSlice(name, neuronAxis, 7);
      const w0 = f.store.readSlice(name, neuronAxis, 7);
      const E = m.store.rows(inputEmbeddingName(m), [e.oldObject!.id, e.newObject!.id]);
      const emb = E.dataSync();
      E.dispose();
      for (let i = 0; i < w.length; i++) expect(w[i]).toBe(Math.fround(w0[i] - emb[i] + 8 * emb[m.cfg.hidden + i]));
      console.log(
        `int8 update, 2 neurons: re-quantizing the edited slices with the existing scales would give max abs error ${e.requantization!.maxAbs.toExponential(2)} (${(100 * e.requantization!.maxRel).toFixed(1)} % of the largest value), ${e.requantization!.clipped}/${e.requantization!.values} values clipped; the overlay's error is 0`,
      );
      expect(e.requantization!.values).toBe(2 * m.cfg.hidden);
    } finally {
      m.dispose();
      f.dispose();
    }
  });
});

describe('bad input', () => {
  it('refuses λ out of range, unknown neurons, edits while pinned; names the token used for a multi-token object', async () => {
    await ready;
    const dir = join(TMP, 'planted-edit-bad');
    await buildPlanted(dir).write();
    const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
    try {
      const ed = new ModelEditor(m);
      const o = { prompt: 'china ren0', oldObject: 'beijing', newObject: 'tokyo' };
      expect(() => ed.update([[0, 1]], { ...o, lambda1: -1 })).toThrow(/λ1 must be a number in 0\.\.50/);
      expect(() => ed.update([[0, 1]], { ...o, lambda2: 1e6 })).toThrow(/λ2 must be a number in 0\.\.50/);
      expect(() => ed.update([[0, 1]], { ...o, lambda2: NaN })).toThrow(/λ2/);
      expect(() => ed.update([[0, 1]], { ...o, lambda1: 0, lambda2: 0 })).toThrow(/changes nothing/);
      expect(() => ed.erase([[1, 0]])).toThrow(/neuron \[1,0\] does not exist .*layers 0\.\.0/);
      expect(() => ed.erase([[0, 64]])).toThrow(/neurons 0\.\.63/);
      expect(() => ed.update([[0, 1]], { ...o, newObject: 'beijing' })).toThrow(/same token/);
      expect(() => ed.update([[0, 1]], { ...o, newObject: 'atlantis' })).toThrow(/not in the vocabulary/);
      const multi = ed.update([[0, 1]], { ...o, newObject: 'tokyo paris' });
      expect(multi.newObject!.parts).toEqual(['tokyo', 'paris']);
      expect(multi.notes.join(' ')).toMatch(/the new object "tokyo paris" is 2 tokens \("tokyo" \+ "paris"\); the update uses its first token "tokyo" only/);
      ed.undo();
      expect(() => ed.update([[0, 1]], { ...o, newObject: 'tokyo paris', requireSingleToken: true })).toThrow(/2 tokens .*first token "tokyo"/);
      expect(objectToken(m, 'china ren0', 'beijing').parts).toEqual(['beijing']);
      m.store.pin();
      try {
        expect(() => ed.erase([[0, 1]])).toThrow(/while an attribution or training step runs/);
      } finally {
        m.store.unpin();
      }
      expect(ed.edits).toHaveLength(0);
    } finally {
      m.dispose();
    }
  });
});

describe('erase on the planted model', () => {
  for (const dtype of ['f32', 'int8'] as const) {
    it(`${dtype}: erasing MaTrice's neurons for ⟨China, capital, Beijing⟩ removes it in every language and leaves ⟨Japan, capital, Tokyo⟩`, async () => {
      await ready;
      const dir = join(TMP, 'planted-edit-' + dtype);
      await buildPlanted(dir, { second: true }).write();
      const m = await loadModel({ type: 'folder', path: dir }, { dtype });
      try {
        const china: QuerySpec[] = LANGS.flatMap((l) => [0, 1, 2].map((t) => ({ lang: l, prompt: `${SUBJECT[l]} r${l}${t}`, target: 'beijing' })));
        const japan: QuerySpec[] = LANGS.flatMap((l) => [0, 1, 2].map((t) => ({ lang: l, prompt: `${SUBJECT_JA[l]} r${l}${t}`, target: 'tokyo' })));
        const b = await m.probeMany([...china, ...japan], { topK: 1 });
        for (const r of b) expect(r.target!.rank).toBe(0);
        const { fa } = await attributeFact(m, china, { steps: 4 });
        const sel = selectNeurons(fa, 'matrice').neurons;
        // the selection is the planted set (or nearly): none of Japan's neurons
        expect(sel.filter(([, j]) => PLANTED.includes(j)).length).toBeGreaterThanOrEqual(9);
        expect(sel.some(([, j]) => JAPAN_NEURONS.includes(j))).toBe(false);
        const ed = new ModelEditor(m);
        const t0 = performance.now();
        ed.erase(sel);
        const a = await m.probeMany([...china, ...japan], { topK: 1 });
        const ms = performance.now() - t0;
        for (const l of LANGS) {
          const ci = china.map((q, i) => (q.lang === l ? i : -1)).filter((i) => i >= 0);
          // the language-agnostic neurons carried ≥ 75 % of P(beijing) in every language; the 2 language-specific
          // distractors per language (which UaL rightly leaves out) keep beijing the likeliest token at ≈ 0.2
          for (const i of ci) expect(a[i].target!.prob, china[i].prompt).toBeLessThan(0.25 * b[i].target!.prob);
          const ji = japan.map((q, i) => (q.lang === l ? china.length + i : -1)).filter((i) => i >= 0);
          for (const i of ji) {
            expect(a[i].target!.rank, `${japan[i - china.length].prompt}`).toBe(0);
            expect(a[i].top[0].id).toBe(b[i].top[0].id);
          }
        }
        console.log(
          `planted erase (${dtype}): ${sel.length} neurons; edit + 42 probes ${ms.toFixed(0)} ms; mean P(beijing) ${mean(b.slice(0, 21))} → ${mean(a.slice(0, 21))}`,
        );
        // erasing the language-specific neurons too removes the fact outright: beijing is no longer the answer anywhere
        const own = Object.values(scoreNoUaL(fa).perLanguageSelected).flat();
        ed.erase(own.filter(([l, j]) => !sel.some(([l2, j2]) => l2 === l && j2 === j)));
        const a2 = await m.probeMany([...china, ...japan], { topK: 1 });
        a2.slice(0, 21).forEach((r, i) => expect(r.target!.rank, china[i].prompt).toBeGreaterThan(0));
        a2.slice(21).forEach((r, i) => expect(r.top[0].id, japan[i].prompt).toBe(b[21 + i].top[0].id));
        console.log(`  + each language's own neurons (${own.length}): mean P(beijing) ${mean(a2.slice(0, 21))}, top-1 now ${a2[0].top[0].token}`);
        ed.undo();
        ed.undo();
        const c = await m.probeMany(china, { topK: 1 });
        c.forEach((r, i) => expect(r.target!.prob).toBe(b[i].target!.prob));
      } finally {
        m.dispose();
      }
    });
  }
});

/**
 * Gauss-Legendre quadrature for SAIG: the nodes and weights, the engine's GL attributions against the float64
 * reference, completeness against the Riemann sum of the same M, the cache keeping the two apart, and refusals.
 */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/index';
import {
  attributeQuery,
  checkQuadrature,
  completenessError,
  DEFAULT_QUADRATURE,
  gaussLegendre,
  LEGACY_QUADRATURE,
  QUADRATURES,
} from '../../src/engine/attribution/attribute';
import { attributionKey, CACHE_VERSION, decodeAttribution, encodeAttribution, MemoryBytesStore } from '../../src/engine/attribution/cache';
import { attributeCached, queryCacheKey } from '../../src/engine/interventions/manipulate';
import { openLocal } from '../../src/data/node';
import { loadModelArg } from '../../src/engine/index';
import { makeMeta, metaMismatch, runFact } from '../../src/engine/experiments/manipulate';
import { COMPLETENESS_FLAG, FactSession, RECHECK } from '../../src/engine/session/session';
import { selectNeurons, toFactAttributions } from '../../src/engine/interventions/manipulate';
import { reproduceCommand } from '../../src/cli/experiment-cmd';
import { quadratureArg } from '../../src/cli/matrice-cmd';
import { refFfnActivations, refGaussLegendre, refIntegratedGradientsQuadrature } from '../helpers/ref64';
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

describe('Gauss-Legendre nodes and weights on [0, 1]', () => {
  it('known values: M = 1, 2, 3', () => {
    expect(Array.from(gaussLegendre(1).nodes)).toEqual([0.5]);
    expect(gaussLegendre(1).weights[0]).toBeCloseTo(1, 15);
    const two = gaussLegendre(2);
    expect(two.nodes[0]).toBeCloseTo(0.5 - 0.5 / Math.sqrt(3), 15);
    expect(two.nodes[1]).toBeCloseTo(0.5 + 0.5 / Math.sqrt(3), 15);
    for (const w of two.weights) expect(w).toBeCloseTo(0.5, 15);
    const three = gaussLegendre(3);
    const r = 0.5 * Math.sqrt(3 / 5);
    [0.5 - r, 0.5, 0.5 + r].forEach((x, i) => expect(three.nodes[i]).toBeCloseTo(x, 15));
    [5 / 18, 8 / 18, 5 / 18].forEach((w, i) => expect(three.weights[i]).toBeCloseTo(w, 15));
  });

  it('weights sum to 1, nodes ascending in (0, 1), exact on t^d for d ≤ 2M − 1, up to M = 1000', () => {
    for (const M of [1, 2, 3, 4, 7, 8, 16, 20, 33, 64, 100, 500, 1000]) {
      const { nodes, weights } = gaussLegendre(M);
      expect(nodes).toHaveLength(M);
      let sum = 0;
      for (let i = 0; i < M; i++) {
        sum += weights[i];
        expect(weights[i]).toBeGreaterThan(0);
        expect(nodes[i]).toBeGreaterThan(0);
        expect(nodes[i]).toBeLessThan(1);
        if (i) expect(nodes[i]).toBeGreaterThan(nodes[i - 1]);
        expect(Math.abs(nodes[i] + nodes[M - 1 - i] - 1)).toBeLessThan(1e-15); // symmetric about ½
      }
      expect(Math.abs(sum - 1)).toBeLessThan(1e-14);
      // ∫_0^1 t^d dt = 1/(d+1); monomials of high degree lose relative accuracy only through rounding
      for (let d = 0; d <= Math.min(2 * M - 1, 40); d++) {
        let s = 0;
        for (let i = 0; i < M; i++) s += weights[i] * nodes[i] ** d;
        expect(Math.abs(s * (d + 1) - 1)).toBeLessThan(1e-13);
      }
      if (M <= 4) {
        // not exact one degree higher (t^2M): the rule has degree exactly 2M − 1
        let s = 0;
        for (let i = 0; i < M; i++) s += weights[i] * nodes[i] ** (2 * M);
        expect(Math.abs(s * (2 * M + 1) - 1)).toBeGreaterThan(1e-4);
      }
    }
  });

  it('equals the reference (Golub-Welsch by Sturm bisection, Christoffel weights) for M = 1..64', () => {
    for (let M = 1; M <= 64; M++) {
      const a = gaussLegendre(M),
        b = refGaussLegendre(M);
      for (let i = 0; i < M; i++) {
        expect(Math.abs(a.nodes[i] - b.nodes[i])).toBeLessThan(1e-14);
        expect(Math.abs(a.weights[i] - b.weights[i]) / b.weights[i]).toBeLessThan(1e-12);
      }
    }
  });

  it('M outside 1..1000 is refused', () => {
    expect(() => gaussLegendre(0)).toThrow(/1\.\.1000/);
    expect(() => gaussLegendre(1001)).toThrow(/1\.\.1000/);
    expect(() => gaussLegendre(2.5)).toThrow(/1\.\.1000/);
  });
});

describe('SAIG Gauss-Legendre vs the float64 reference (1e-3 relative)', () => {
  for (const arch of ARCHS) {
    it(`${arch}: zero baseline and the ⟨PAD⟩ baselines, layer 0, M = 8`, async () => {
      const { ck, m } = await load(arch);
      try {
        const [prompt, target] = Q[arch];
        const steps = 8,
          rule = refGaussLegendre(steps);
        const z = await attributeQuery(m, prompt, target, { steps, baseline: 'zero', layers: [0], quadrature: 'gauss-legendre' });
        expect(z.quadrature).toBe('gauss-legendre');
        const refZ = refIntegratedGradientsQuadrature(arch, ck.config, ck.tensors, z.ids, z.position, 0, z.targetId, new Float64Array(m.cfg.ffn), rule);
        expect(relErr(z.raw[0], refZ.attr)).toBeLessThan(1e-3);
        // completeness "expected" is P(w̄) − P(w′) from the extra forward at t = 1
        expect(Math.abs(z.completeness[0].expected - (refZ.pActual - refZ.pBaseline))).toBeLessThan(1e-5);
        const pad = await attributeQuery(m, prompt, target, { steps, baseline: 'pad', layers: [0], quadrature: 'gauss-legendre' });
        const sum = new Float64Array(m.cfg.ffn);
        for (const i of pad.baselinePositions) {
          const ids = pad.ids.map((v, k) => (k === i ? pad.padId! : v));
          const w0 = refFfnActivations(arch, ck.config, ck.tensors, ids)[0][pad.position];
          const r = refIntegratedGradientsQuadrature(arch, ck.config, ck.tensors, pad.ids, pad.position, 0, pad.targetId, w0, rule);
          r.attr.forEach((v, j) => (sum[j] += v));
        }
        expect(relErr(pad.raw[0], sum)).toBeLessThan(1e-3);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('completeness: Gauss-Legendre beats the right Riemann sum of the same M', () => {
  for (const arch of ARCHS) {
    it(`${arch}: every layer and baseline, M = 8; P(w̄) is the model's own probability; fast = naive`, async () => {
      const { m } = await load(arch);
      try {
        const [prompt, target] = Q[arch];
        const riemann = await attributeQuery(m, prompt, target, { steps: 8, quadrature: 'riemann-right' });
        const gl = await attributeQuery(m, prompt, target, { steps: 8, quadrature: 'gauss-legendre' });
        const eR = completenessError(riemann).maxAbs,
          eG = completenessError(gl).maxAbs;
        const scale = Math.max(...gl.completeness.map((c) => Math.abs(c.expected)));
        if (process.env.KN_PRINT)
          console.log(
            `${arch} M = 8 completeness max |Σ attr − ΔP|: riemann-right ${eR.toExponential(3)}, gauss-legendre ${eG.toExponential(3)} (scale ${scale.toExponential(3)})`,
          );
        expect(eG).toBeLessThan(eR / 10);
        expect(eG).toBeLessThan(1e-3 * scale);
        const pr = await m.probe(prompt, { target });
        expect(Math.abs(gl.pFull - pr.target!.prob)).toBeLessThan(1e-6);
        // the same "expected" as the Riemann run (its k = M point is w̄ too)
        gl.completeness.forEach((c, i) => expect(Math.abs(c.expected - riemann.completeness[i].expected)).toBeLessThan(1e-6));
        const naive = await attributeQuery(m, prompt, target, { steps: 3, path: 'naive', quadrature: 'gauss-legendre' });
        const fast = await attributeQuery(m, prompt, target, { steps: 3, quadrature: 'gauss-legendre', chunkBudgetBytes: 64 * 1024 });
        for (let l = 0; l < m.cfg.numLayers; l++) expect(relErr(fast.raw[l], naive.raw[l])).toBeLessThan(1e-4);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('the attribution cache keeps the quadratures apart', () => {
  it('a riemann-right key is the key written before the option; a Gauss-Legendre one differs; hits decode their quadrature', async () => {
    const { m } = await load('gpt2');
    try {
      const q = { lang: 'en', prompt: Q.gpt2[0], target: Q.gpt2[1] };
      const enc = m.tok.encodeQuery(q.prompt);
      const legacy = await attributionKey({
        model: `${m.info.contentHash}:${m.info.dtype}`,
        ids: enc.ids,
        position: enc.position,
        targetId: m.tok.targetId(q.prompt, q.target),
        steps: 4,
        baseline: 'pad',
        layers: [0, 1],
      });
      expect(await queryCacheKey(m, q, { steps: 4, quadrature: 'riemann-right' })).toBe(legacy);
      const glKey = await queryCacheKey(m, q, { steps: 4, quadrature: 'gauss-legendre' });
      expect(glKey).not.toBe(legacy);
      // no quadrature named: the default's key
      expect(await queryCacheKey(m, q, { steps: 4 })).toBe(DEFAULT_QUADRATURE === LEGACY_QUADRATURE ? legacy : glKey);
      expect(CACHE_VERSION).toBe(1);

      const store = new MemoryBytesStore();
      const r1 = await attributeCached(m, q, { steps: 4, store, quadrature: 'riemann-right' });
      const g1 = await attributeCached(m, q, { steps: 4, store, quadrature: 'gauss-legendre' });
      expect([r1.cached, g1.cached]).toEqual([false, false]);
      expect(store.size).toBe(2);
      const r2 = await attributeCached(m, q, { steps: 4, store, quadrature: 'riemann-right' });
      const g2 = await attributeCached(m, q, { steps: 4, store, quadrature: 'gauss-legendre' });
      expect([r2.cached, g2.cached]).toEqual([true, true]);
      expect([r2.attribution.quadrature, g2.attribution.quadrature]).toEqual(['riemann-right', 'gauss-legendre']);
      expect(Array.from(g2.attribution.raw[1])).toEqual(Array.from(g1.attribution.raw[1]));
      expect(Array.from(g2.attribution.raw[1])).not.toEqual(Array.from(r2.attribution.raw[1]));
      // an entry written before the option (no quadrature in its meta) decodes as riemann-right
      const { quadrature: _q, ...old } = r1.attribution;
      const dec = decodeAttribution(encodeAttribution(old as typeof r1.attribution), m.cfg.numLayers)!;
      expect(dec.quadrature).toBe(LEGACY_QUADRATURE);
    } finally {
      m.dispose();
    }
  });
});

describe('the quadrature option: one list, refusals, experiment metas', () => {
  it('one list and its default; unknown values refused with the option and the allowed values named', async () => {
    expect(QUADRATURES).toContain(DEFAULT_QUADRATURE);
    expect(QUADRATURES).toContain(LEGACY_QUADRATURE);
    for (const q of QUADRATURES) expect(checkQuadrature(q)).toBe(q);
    expect(quadratureArg(undefined)).toBe(DEFAULT_QUADRATURE);
    expect(() => quadratureArg('simpson')).toThrow(`--quadrature must be one of ${QUADRATURES.join(', ')}, got "simpson"`);
    expect(() => checkQuadrature('gauss')).toThrow(expect.objectContaining({ code: 'bad-input' }));
    const { m } = await load('gpt2');
    try {
      await expect(attributeQuery(m, Q.gpt2[0], Q.gpt2[1], { steps: 2, quadrature: 'trapezoid' as never })).rejects.toThrow(
        `quadrature must be one of ${QUADRATURES.join(', ')}, got "trapezoid"`,
      );
      await expect((async () => queryCacheKey(m, { lang: 'en', prompt: Q.gpt2[0], target: Q.gpt2[1] }, { quadrature: 'x' as never }))()).rejects.toMatchObject({
        code: 'bad-input',
      });
    } finally {
      m.dispose();
    }
  });

  it('metas: riemann-right omitted (old folders resume), Gauss-Legendre recorded, compared and reproduced', () => {
    const base = {
      model: { id: 'bundled:x', contentHash: 'h', dtype: 'int8', kind: 'causal', numLayers: 2, ffnSize: 8 },
      steps: 20,
      baseline: 'pad' as const,
      seed: 1,
      langs: ['en' as const],
      methods: ['matrice'],
      facts: [],
      request: { facts: 1, relations: [], split: null, minKnownLangs: 1 },
      shard: null,
    };
    const old = makeMeta(base);
    expect('quadrature' in old).toBe(false);
    expect('quadrature' in makeMeta({ ...base, quadrature: 'riemann-right' })).toBe(false);
    const gl = makeMeta({ ...base, quadrature: 'gauss-legendre' });
    expect(gl.quadrature).toBe('gauss-legendre');
    expect(metaMismatch(old, { ...old, quadrature: 'riemann-right' })).toBeNull();
    expect(metaMismatch(old, gl)).toMatch(/^quadrature \("riemann-right" vs "gauss-legendre"\)/);
    // printed when not the default
    // always named, so a later change of the default cannot change what a printed command computes
    expect(reproduceCommand(old)).toContain('--quadrature riemann-right ');
    expect(reproduceCommand(gl)).toContain('--quadrature gauss-legendre ');
  });
});

describe('the session and the runner thread the quadrature', () => {
  it("FactSession.localize refuses an unknown one; runFact attributes with the meta's (its cache keys)", async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = await openLocal();
      const fact = 'P36:0';
      const s = await FactSession.open(model, bench, fact, ['en'], { topK: 1 });
      await expect(s.localize({ steps: 2, quadrature: 'simpson' as never })).rejects.toThrow(
        `quadrature must be one of ${QUADRATURES.join(', ')}, got "simpson"`,
      );
      const store = new MemoryBytesStore();
      await s.localize({ steps: 2, quadrature: 'gauss-legendre', store });
      expect(s.quadrature).toBe('gauss-legendre');
      expect(s.attributed!.every((q) => q.attribution.quadrature === 'gauss-legendre')).toBe(true);
      const meta = makeMeta({
        model: {
          id: 'bundled:demo-causal',
          contentHash: model.info.contentHash,
          dtype: 'int8',
          kind: model.info.kind,
          numLayers: model.cfg.numLayers,
          ffnSize: model.cfg.ffn,
        },
        steps: 2,
        baseline: 'pad',
        quadrature: 'gauss-legendre',
        seed: 1,
        langs: ['en'],
        methods: ['matrice'],
        knockout: [1],
        facts: [fact],
        request: { facts: 1, relations: [], split: null, minKnownLangs: 1 },
        shard: null,
      });
      const runStore = new MemoryBytesStore();
      await runFact({ model, bench, meta, methods: [{ key: 'matrice', method: 'matrice', settings: {} }], store: runStore }, fact, 0);
      expect(runStore.size).toBe(s.queries.length);
      for (const q of s.queries) {
        expect(await runStore.get(await queryCacheKey(model, q, { steps: 2, quadrature: 'gauss-legendre' }))).toBeDefined();
        expect(await runStore.get(await queryCacheKey(model, q, { steps: 2, quadrature: 'riemann-right' }))).toBeUndefined();
      }
    } finally {
      model.dispose();
    }
  });

  it('checkConvergence: the flagged queries are the ones above COMPLETENESS_FLAG; re-attributed finer they decide the selection', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = await openLocal();
      const s = await FactSession.open(model, bench, 'P36:0', ['en'], { topK: 1 });
      const store = new MemoryBytesStore();
      // M = 2 right Riemann: far too coarse, so queries are flagged
      await s.localize({ steps: 2, quadrature: 'riemann-right', store });
      const c = await s.checkConvergence({ settings: { tau: 0.2 }, store });
      // the flag recomputed here from its definition: max over layers and baselines of |Σ_j attr − (P(w̄) − P(w'))| / P
      const share = (a: { pFull: number; completeness: { sum: number; expected: number }[] }) =>
        Math.max(...a.completeness.map((x) => Math.abs(x.sum - x.expected))) / a.pFull;
      const expected = s
        .attributed!.map((q) => share(q.attribution))
        .map((r, i) => ({ r, i }))
        .filter((x) => x.r > COMPLETENESS_FLAG);
      expect(c.flag).toBe(COMPLETENESS_FLAG);
      expect(c.queries).toBe(s.queries.length);
      expect(c.flagged).toBe(expected.length);
      expect(c.flagged).toBeGreaterThan(0);
      expect(c.finer).toEqual({ quadrature: RECHECK.quadrature, steps: RECHECK.steps });
      expect(c.worstAfter!).toBeLessThan(c.worstBefore / 4);
      // the selection after: the flagged queries attributed directly with the finer rule, the rest as they were
      const mixed = await Promise.all(
        s.attributed!.map(async (q, i) => {
          if (!expected.some((x) => x.i === i)) return q;
          const a = await attributeQuery(model, q.prompt, q.target, { steps: RECHECK.steps, quadrature: RECHECK.quadrature });
          return { ...q, attribution: a, completeness: completenessError(a) };
        }),
      );
      const after = selectNeurons(toFactAttributions(model, mixed), 'matrice', { tau: 0.2 }).neurons;
      const before = s.select('matrice', { tau: 0.2 }).neurons;
      expect(c.before).toEqual(before);
      expect(c.after).toEqual(after);
      const key = (n: number[]) => n.join(':');
      expect(c.same).toBe(before.length === after.length && before.every((n) => after.map(key).includes(key(n))));
      // the session keeps its own attributions
      expect(s.attributed!.every((q) => q.attribution.quadrature === 'riemann-right' && q.attribution.steps === 2)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});

/**
 * The fact session and the manipulation runner on the bundled causal demo model (small work: 2 languages,
 * M = 2, a few facts): the known-query rule and ΔP checked against single-query probes computed here in
 * float64, deterministic fact picking, a 3-way sharded run merged byte-equal to the unsharded run, resume,
 * refusal of a results folder from another run, corrupt and torn NDJSON lines, cancel, no known fact.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import type { RmlLama } from '../../src/data/loader';
import { loadModelArg } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { KnError } from '../../src/shared/errors';
import { parseShard, pickFacts, shardIndices, type FactRow } from '../../src/engine/experiments/manipulate';
import { summarize } from '../../src/engine/report/report';
import { FactSession, KNOWN_LANGUAGE_SHARE } from '../../src/engine/session/session';
import { ready, tiny } from '../engine/setup';

const DIR = mkdtempSync(join(tmpdir(), 'kn-runner-'));
process.env.KN_CACHE_DIR = join(DIR, 'cache');
const LONG = 900_000; // ≥ 5× the slowest run seen on a loaded 2-core machine
const LANGS = ['en', 'fr'] as const;

let model: LoadedModel;
let bench: RmlLama;
let x: typeof import('../../src/cli/experiment-cmd');
/** trained facts of the bundled model (split.json), so the model knows most of them */
let candidates: string[];

const load = async (m: string | undefined) => ({ model: await loadModelArg(m ?? 'bundled:demo-causal', { dtype: 'int8' }), arg: m ?? 'bundled:demo-causal' });
const run = (out: string, extra: string[] = []) =>
  x.runExperiment(
    'manipulate',
    ['--facts', '3', '--langs', LANGS.join(','), '--steps', '2', '--relations', 'P36,P37,P101', '--quiet', '--out', out, ...extra],
    load,
  );

beforeAll(async () => {
  await ready;
  x = await import('../../src/cli/experiment-cmd'); // after KN_CACHE_DIR is set
  model = (await load(undefined)).model;
  bench = await openLocal();
  const split = JSON.parse(readFileSync(join(__dirname, '../../public/models/demo-causal/split.json'), 'utf8'));
  const facts = split.testFacts ?? Object.values(split.facts as Record<string, string[]>).flat();
  candidates = facts as string[];
}, LONG);

describe('FactSession', () => {
  it(
    'probes every query once; known = top-1; ΔP per language over the known queries equals single probes in float64',
    async () => {
      const fact = candidates.find((f) => f.startsWith('P36:'))!;
      const s = await FactSession.open(model, bench, fact, [...LANGS]);
      expect(s.queries.length).toBeGreaterThan(4);
      const neurons: [number, number][] = [
        [0, 1],
        [1, 2],
        [2, 3],
        [0, 7],
      ];
      const r = await s.manipulate(neurons, 0);
      for (const lang of LANGS) {
        let sum = 0,
          n = 0,
          known = 0;
        for (const q of s.queries.filter((q) => q.lang === lang)) {
          const b = await model.probe(q.prompt, { target: q.target, topK: 1 });
          const a = await model.probe(q.prompt, { target: q.target, topK: 1, intervention: { neurons, factor: 0 } });
          expect(q.before).toBeCloseTo(b.target!.prob, 5);
          expect(q.known).toBe(b.target!.rank === 0);
          if (b.target!.rank !== 0) continue;
          known++;
          sum += (a.target!.prob - b.target!.prob) / b.target!.prob;
          n++;
        }
        expect(r.languages[lang].correctBefore).toBe(known);
        if (n) expect(r.languages[lang].deltaP).toBeCloseTo(sum / n, 4);
        else expect(Number.isNaN(r.languages[lang].deltaP)).toBe(true);
      }
      const qs = (l: string) => s.queries.filter((q) => q.lang === l);
      for (const l of s.knownLanguages()) expect(qs(l).filter((q) => q.known).length).toBeGreaterThanOrEqual(KNOWN_LANGUAGE_SHARE * qs(l).length);
    },
    LONG,
  );

  it(
    'many manipulations in one batched pass equal single-query probes',
    async () => {
      const s = await FactSession.open(model, bench, candidates[1], [...LANGS]);
      const list = [
        {
          neurons: [
            [0, 3],
            [1, 4],
          ] as [number, number][],
          factor: 0,
        },
        { neurons: [[2, 5]] as [number, number][], factor: 2 },
        { neurons: [] as [number, number][], factor: 0 },
        {
          neurons: [
            [3, 1],
            [0, 3],
          ] as [number, number][],
          factor: 0.5,
          langs: ['fr'] as const,
        },
      ];
      const many = await s.manipulateMany(
        list.map((x) => ({ ...x, langs: x.langs ? [...x.langs] : undefined })),
        3,
      );
      for (const [k, m] of list.entries()) {
        const qs = s.queries.filter((q) => !m.langs || (m.langs as readonly string[]).includes(q.lang));
        // each query alone (model.probe: no batching), the path the batched one must equal
        const one = m.neurons.length
          ? await Promise.all(qs.map((q) => model.probe(q.prompt, { target: q.target, topK: 3, intervention: { neurons: m.neurons, factor: m.factor } })))
          : null;
        expect(many[k].rows.map((r) => r.prompt)).toEqual(qs.map((q) => q.prompt));
        many[k].rows.forEach((r, i) => {
          expect(Math.abs(r.after - (one ? one[i].target!.prob : qs[i].before))).toBeLessThan(1e-6);
          if (one) expect(r.topAfter.map((t) => t.id)).toEqual(one[i].top.map((t) => t.id));
        });
      }
    },
    LONG,
  );

  it(
    'refuses a neuron the model lacks, naming it',
    async () => {
      const s = await FactSession.open(model, bench, candidates[0], ['en']);
      await expect(s.manipulate([[model.cfg.numLayers, 0]], 0)).rejects.toThrow(/neuron 4:0 does not exist|does not exist in this model/);
    },
    LONG,
  );
});

describe('picking facts', () => {
  it(
    'is seeded, stratified by relation, and keeps only facts known in enough languages',
    async () => {
      const o = { facts: 4, relations: ['P36', 'P37'] as const, langs: [...LANGS], seed: 3, candidates };
      const a = await pickFacts(model, bench, { ...o, relations: [...o.relations] });
      const b = await pickFacts(model, bench, { ...o, relations: [...o.relations] });
      expect(a).toEqual(b);
      expect(a.filter((f) => f.startsWith('P36:')).length).toBe(2);
      expect(a.filter((f) => f.startsWith('P37:')).length).toBe(2);
      for (const f of a) expect((await FactSession.open(model, bench, f, [...LANGS])).knownLanguages().length).toBe(2);
    },
    LONG,
  );

  it(
    'says so when the model knows none of the facts',
    async () => {
      const t = await tiny('gpt2', {}, 'runner');
      const m = await loadModelArg(t.dir, { dtype: 'f32' });
      try {
        await expect(pickFacts(m, bench, { facts: 2, relations: ['P36'], langs: ['en'], seed: 1, candidates: candidates.slice(0, 3) })).rejects.toThrow(
          /knows none of the \d+ facts tried/,
        );
      } finally {
        m.dispose();
      }
    },
    LONG,
  );

  it('shard specs: k/n with 1 ≤ k ≤ n; the shards partition the facts', () => {
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '2', '-1/3']) expect(() => parseShard(bad)).toThrow(/--shard must be k\/n/);
    const all = [1, 2, 3].flatMap((k) => shardIndices(10, { k, n: 3 })).sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});

describe('runner, shards, merge, resume', () => {
  it(
    'a 3-way sharded run merged equals the unsharded run byte for byte; a re-run skips finished facts',
    async () => {
      const whole = join(DIR, 'whole');
      const r = await run(whole);
      expect(r.written).toBe(3);
      const shards = [1, 2, 3].map((k) => join(DIR, `shard${k}`));
      for (const [i, d] of shards.entries()) expect((await run(d, ['--shard', `${i + 1}/3`])).written).toBe(1);
      const merged = join(DIR, 'merged');
      const m = await x.runMerge([...shards, '--out', merged]);
      expect(m).toMatchObject({ facts: 3, missing: [] });
      expect(readFileSync(join(merged, 'rows.ndjson'))).toEqual(readFileSync(join(whole, 'rows.ndjson')));
      // resume: nothing left to do
      expect(await run(whole)).toMatchObject({ written: 0, skipped: 3 });
      // a shard given twice, or shards of another run, are refused
      await expect(x.runMerge([shards[0], shards[0], '--out', join(DIR, 'm2')])).rejects.toThrow(/given twice/);
    },
    LONG,
  );

  it(
    'refuses to mix a results folder with another run, naming the field',
    async () => {
      const out = join(DIR, 'whole');
      await expect(run(out, ['--steps', '3'])).rejects.toThrow(/steps \(2 vs 3\) differs/);
      const t = await tiny('gpt2', {}, 'runner');
      await expect(
        x.runExperiment(
          'manipulate',
          ['--facts', '3', '--langs', 'en,fr', '--steps', '2', '--relations', 'P36,P37,P101', '--quiet', '--out', out],
          async () => ({ model: await loadModelArg(t.dir, { dtype: 'f32' }), arg: t.dir }),
        ),
      ).rejects.toThrow(/model\.contentHash .* differs/);
    },
    LONG,
  );

  it(
    'skips and reports a corrupt line, loses no other row, and fences off a torn last line',
    async () => {
      const out = join(DIR, 'corrupt');
      await run(out, ['--facts', '2']);
      const meta = await x.readMeta(out);
      const good = readFileSync(join(out, 'rows.ndjson'), 'utf8').trim().split('\n');
      writeFileSync(join(out, 'rows.ndjson'), good[0] + '\n{"v":1,"fact":oops\n' + good[1].slice(0, 40));
      const r1 = await x.readRows(out, meta);
      expect(r1.rows.map((r) => r.fact)).toEqual(meta.facts.slice(0, 1));
      expect(r1.problems.some((p) => /line 2: not valid JSON/.test(p))).toBe(true);
      expect(r1.problems.some((p) => /line 3: not valid JSON/.test(p))).toBe(true);
      expect(summarize(meta, r1.rows, r1.timings, r1.problems).facts).toBe(1);
      // resuming recomputes the torn fact on a line of its own; every good row survives, identical
      expect(await run(out, ['--facts', '2'])).toMatchObject({ written: 1, skipped: 1 });
      const r2 = await x.readRows(out, meta);
      expect(r2.rows.map((r) => JSON.stringify(r))).toEqual(good);
      expect(r2.problems.length).toBe(2);
    },
    LONG,
  );

  it(
    'cancel: rejects with cancelled and leaves only whole rows',
    async () => {
      const out = join(DIR, 'cancel');
      const { runManipulation, makeMeta } = await import('../../src/engine/experiments/manipulate');
      const facts = await pickFacts(model, bench, { facts: 2, relations: ['P36'], langs: [...LANGS], seed: 5, candidates });
      const meta = makeMeta({
        model: {
          id: 'x',
          contentHash: model.info.contentHash,
          dtype: model.info.dtype,
          kind: model.info.kind,
          numLayers: model.cfg.numLayers,
          ffnSize: model.cfg.ffn,
        },
        steps: 2,
        baseline: 'pad',
        seed: 5,
        langs: [...LANGS],
        methods: ['matrice'],
        facts,
        request: { facts: 2, relations: ['P36'], split: null, minKnownLangs: 2 },
        shard: null,
      });
      const { mkdirSync } = await import('node:fs');
      mkdirSync(out, { recursive: true });
      const ctl = new AbortController();
      const p = runManipulation({
        model,
        bench,
        meta,
        methods: [{ key: 'matrice', method: 'matrice', settings: {} }],
        sink: new x.NdjsonSink(out, meta),
        signal: ctl.signal,
        onProgress: (pr) => {
          if (pr.done === 1) ctl.abort();
        },
      });
      await expect(p).rejects.toSatisfy((e: unknown) => e instanceof KnError && e.code === 'cancelled');
      const lines = existsSync(join(out, 'rows.ndjson')) ? readFileSync(join(out, 'rows.ndjson'), 'utf8').split('\n').filter(Boolean) : [];
      expect(lines.length).toBe(1);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    },
    LONG,
  );
});

describe('report', () => {
  it(
    'Fig. 5 numbers: per fact the mean ΔP over known queries of a language, then mean and 95 % interval over facts (float64 here)',
    async () => {
      const out = join(DIR, 'whole');
      const meta = await x.readMeta(out);
      const { rows } = await x.readRows(out, meta);
      const s = summarize(meta, rows);
      for (const key of meta.methods) {
        for (const lang of LANGS) {
          const perFact: number[] = [];
          for (const r of rows as FactRow[]) {
            const ds = r.queries.flatMap((q, i) => (q.lang === lang && q.known ? [(r.methods[key].suppress[i] - q.before) / q.before] : []));
            if (ds.length) perFact.push(ds.reduce((a, b) => a + b, 0) / ds.length);
          }
          const got = s.methods[key].languages[lang];
          if (!perFact.length) {
            expect(got.suppress).toBeNull();
            continue;
          }
          const mean = perFact.reduce((a, b) => a + b, 0) / perFact.length;
          expect(got.suppress).toBeCloseTo(mean, 10);
          if (perFact.length > 1) {
            const sd = Math.sqrt(perFact.reduce((a, b) => a + (b - mean) ** 2, 0) / (perFact.length - 1));
            expect(got.suppressCi95).toBeCloseTo((1.96 * sd) / Math.sqrt(perFact.length), 10);
          }
        }
        const sizes = rows.map((r) => r.methods[key].neurons.length).sort((a, b) => a - b);
        expect(s.methods[key].selectedMedian).toBe(sizes[1]);
      }
      // Random draws as many neurons as MaTrice, per fact
      for (const r of rows) expect(r.methods.random.neurons.length).toBe(r.methods.matrice.neurons.length);
      // coverage: per MaTrice neuron, the languages whose own set (same settings) holds it, pooled over neurons
      const counts = (rows as FactRow[]).flatMap((r) =>
        r.methods.matrice.neurons.map((n) => LANGS.filter((l) => r.perLanguage[l]?.neurons.some((o) => o[0] === n[0] && o[1] === n[1])).length),
      );
      if (counts.length) expect(s.methods.matrice.coverageMean).toBeCloseTo(counts.reduce((a, b) => a + b, 0) / counts.length, 12);
      else expect(s.methods.matrice.coverageMean).toBeNull();
      // flip rate: each known query probed alone with MaTrice's set at ×0; flipped when the target is no longer top-1
      const sessionQueries = new Map<string, FactSession>();
      for (const lang of LANGS) {
        let known = 0,
          flipped = 0;
        for (const r of rows as FactRow[]) {
          const sess = sessionQueries.get(r.fact) ?? (await FactSession.open(model, bench, r.fact, [...LANGS]));
          sessionQueries.set(r.fact, sess);
          for (const [i, q] of sess.queries.entries()) {
            if (q.lang !== lang || !r.queries[i].known) continue;
            known++;
            const a = await model.probe(q.prompt, { target: q.target, topK: 1, intervention: { neurons: r.methods.matrice.neurons, factor: 0 } });
            if (a.target!.rank !== 0) flipped++;
          }
        }
        expect(s.methods.matrice.languages[lang].flipRate).toBe(known ? flipped / known : null);
      }
      const files = (await import('../../src/engine/report/report')).reportFiles(s, 'cmd');
      for (const f of ['report.md', 'fig5.csv', 'knockout.csv', 'fig5-suppress.svg', 'fig4-layers.svg', 'knockout.svg', 'own-vs-shared.svg'])
        expect(files[f]?.length).toBeGreaterThan(50);
      expect(files['fig5-suppress.svg']).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    },
    LONG,
  );
});

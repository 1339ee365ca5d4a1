/**
 * The Experiments view: the IndexedDB row sink (through its in-memory twin: same RecordStore interface),
 * the experiment id, the worker-side runner on the bundled causal model (cancel, resume, another
 * setting kept apart, a foreign saved run refused naming the field), and the page logic (tables equal to
 * report.md's, the report file round trip and its refusals, progress text, ?report=).
 */
import { DEFAULT_QUADRATURE, LEGACY_QUADRATURE } from '../../src/engine/rules';
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { KnError, loadModelArg } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { makeMeta, readingSpecs, type ExperimentMeta, type FactRow } from '../../src/engine/experiments/manipulate';
import { reportFiles, summarize } from '../../src/engine/report/report';
import { ExperimentRunner, IdbRowSink, MemoryRecordStore, experimentId, requestMeta, type ExperimentProgress } from '../../src/worker/experiments';
import {
  buildStaticReport,
  defaultForm,
  exportReport,
  formToRequest,
  importReport,
  metaToForm,
  progressView,
  reportDownloads,
  reportParam,
  reproduceCommand,
  reportBlocks,
} from '../../src/ui/experiments/logic';
import { ready } from '../engine/setup';

function meta(over: Partial<ExperimentMeta> = {}): ExperimentMeta {
  return makeMeta({
    model: { id: 'bundled:tiny', contentHash: 'abc', dtype: 'int8', kind: 'causal', numLayers: 2, ffnSize: 4 },
    steps: 2,
    baseline: 'pad',
    seed: 1,
    langs: ['en', 'fr'],
    methods: ['matrice', 'amig', 'random'],
    facts: ['P36:0', 'P36:1', 'P19:2'],
    request: { facts: 3, relations: [], split: null, minKnownLangs: 2 },
    shard: null,
    knockout: [1, 2],
    ...over,
  });
}

function row(fact: string, index: number, scale = 1): FactRow {
  const queries = [
    { lang: 'en' as const, template: 't1', before: 0.8, known: true },
    { lang: 'fr' as const, template: 't2', before: 0.5, known: true },
  ];
  const m = (k: number) => ({ neurons: [[0, k] as [number, number], [1, 1] as [number, number]], suppress: [0.4 * scale, 0.25], enhance: [0.9, 0.6 * scale] });
  return {
    v: 1,
    fact,
    index,
    relation: fact.split(':')[0] as FactRow['relation'],
    queries,
    methods: { matrice: m(0), amig: m(1), random: { neurons: [[1, 3]], suppress: [0.8, 0.5], enhance: [0.8, 0.5] } },
    perLanguage: { en: { neurons: [[0, 0]], suppress: [0.5] }, fr: { neurons: [[1, 1]], suppress: [0.3] } },
    knockout: {
      top: [
        [0.7, 0.4],
        [0.6, 0.3],
      ],
      random: [
        [0.8, 0.5],
        [0.8, 0.5],
      ],
    },
    completeness: 0.01,
  };
}

describe('IdbRowSink (memory twin of IndexedDB)', () => {
  it('keeps whole rows per fact, resumes from them, and skips corrupt or foreign records', async () => {
    const store = new MemoryRecordStore();
    const m = meta();
    const id = await experimentId(m);
    const sink = new IdbRowSink(store, id, m);
    expect((await sink.finished()).size).toBe(0);
    await sink.write(row('P36:0', 0), { fact: 'P36:0', ms: 120 });
    await sink.write(row('P19:2', 2), { fact: 'P19:2', ms: 80 });
    // a second sink on the same store (a reload) sees both
    const again = new IdbRowSink(store, id, m);
    expect([...(await again.finished())].sort()).toEqual(['P19:2', 'P36:0']);
    // corrupt: a record that is not a row, a misaligned row, a row filed under another fact, another run's row
    await store.set(`row:${id}:P36:1`, { row: { v: 1, fact: 'P36:1' }, timing: { fact: 'P36:1', ms: 1 } });
    const bad = row('P36:1', 1);
    bad.methods.amig.suppress = [0.1];
    await store.set(`row:${id}:X`, { row: bad, timing: { fact: 'P36:1', ms: 1 } });
    await store.set(`row:other-id:P36:1`, { row: row('P36:1', 1), timing: { fact: 'P36:1', ms: 1 } });
    const r = await again.read();
    expect(r.rows.map((x) => x.fact)).toEqual(['P36:0', 'P19:2']);
    expect(r.timings.map((t) => t.ms)).toEqual([120, 80]);
    expect(r.problems).toHaveLength(2);
    expect(r.problems.join('\n')).toMatch(/P36:1: missing queries/);
    expect(r.problems.join('\n')).toMatch(/method amig missing or misaligned/);
  });

  it('derives the id from what makes runs comparable: not the model label, the picked facts or the shard', async () => {
    const a = await experimentId(meta());
    expect(a).toMatch(/^manipulate-[0-9a-f]{16}$/);
    expect(await experimentId(meta({ model: { ...meta().model, id: 'http://elsewhere/tiny' } }))).toBe(a);
    expect(await experimentId(meta({ facts: [] }))).toBe(a);
    expect(await experimentId(meta({ seed: 2 }))).not.toBe(a);
    expect(await experimentId(meta({ model: { ...meta().model, contentHash: 'other' } }))).not.toBe(a);
    expect(await experimentId(meta({ settings: { ...meta().settings, tau: 0.3 } }))).not.toBe(a);
  });
});

// measured on the shared 2-core machine: 11-55 s for the whole runner test (load average 4-13); budget 600 s
describe('ExperimentRunner on the bundled causal model', () => {
  const request = {
    experiment: 'manipulate' as const,
    modelLabel: 'bundled:demo-causal',
    facts: 2,
    langs: ['en', 'fr'],
    methods: ['matrice', 'random'],
    seed: 1,
    steps: 2,
  };

  it('cancels between facts keeping finished ones, resumes, keeps other settings apart and refuses a foreign saved run', { timeout: 600_000 }, async () => {
    await ready;
    const model: LoadedModel = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = await openLocal();
      const store = new MemoryRecordStore();
      const runner = new ExperimentRunner(
        () => model,
        () => Promise.resolve(bench),
        store,
      );
      const seen: ExperimentProgress[] = [];
      const t0 = Date.now();
      // cancel as soon as the first fact is finished
      const r1 = await runner.run(request, (p) => {
        seen.push(p);
        if (p.phase === 'run' && p.done >= 1) runner.cancel();
      });
      console.log(`  first fact + cancel: ${Date.now() - t0} ms`);
      expect(r1.status).toBe('cancelled');
      expect(r1.resumed).toBe(false);
      expect(r1.written).toBe(1);
      expect(r1.message).toMatch(/1 of 2 facts are finished and kept/);
      expect(seen.some((p) => p.phase === 'pick')).toBe(true);
      expect(seen.find((p) => p.phase === 'run' && p.done === 1)?.etaMs).toBeGreaterThan(0);
      let runs = await runner.list();
      expect(runs).toHaveLength(1);
      expect(runs[0].done).toBe(1);
      expect(runs[0].meta.model.contentHash).toBe(model.info.contentHash);

      const r2 = await runner.run(request);
      expect(r2).toMatchObject({ id: r1.id, status: 'done', resumed: true, written: 1, skipped: 1, total: 2 });
      const rep = await runner.report(r1.id);
      expect(rep.summary.facts).toBe(2);
      expect(Object.keys(rep.summary.methods)).toEqual(['matrice', 'random']);
      expect(rep.summary.timing.facts).toBe(2);

      // another seed: a separate run; the view is told which field differs from the saved one
      const r3 = await runner.run({ ...request, seed: 2, facts: 1 }, (p) => {
        if (p.phase === 'run') runner.cancel();
      });
      expect(r3.id).not.toBe(r1.id);
      expect(r3.differsFrom?.id).toBe(r1.id);
      expect(r3.differsFrom?.field).toMatch(/^seed \(1 vs 2\)|^request\.facts/);
      runs = await runner.list();
      expect(runs.map((r) => r.id).sort()).toEqual([r1.id, r3.id].sort());

      // a saved run under the same id whose meta says another model: refused, naming the field
      const rec = (await store.get<{ meta: ExperimentMeta; createdAt: number; updatedAt: number }>(`run:${r1.id}`))!;
      await store.set(`run:${r1.id}`, { ...rec, meta: { ...rec.meta, model: { ...rec.meta.model, contentHash: 'someone-else' } } });
      const e = await runner.run(request).catch((x) => x);
      expect(e).toBeInstanceOf(KnError);
      expect(e.message).toMatch(/model\.contentHash \("someone-else" vs /);

      // the readings experiment on the same runner: one fact, every reading, the readings table in the report
      const rr = await runner.run({ ...request, experiment: 'readings', facts: 1 });
      expect(rr).toMatchObject({ status: 'done', written: 1 });
      expect(rr.id).toMatch(/^readings-/);
      const rrep = await runner.report(rr.id);
      // every Eq. 9 × Eq. 5 reading plus the lowered std weights on the default reading
      expect(rrep.summary.readings).toHaveLength(readingSpecs().filter((x) => x.method === 'matrice').length);
      expect(reportBlocks(reportFiles(rrep.summary)['report.md']).some((b) => b.type === 'table' && b.id === 'readings')).toBe(true);
      await runner.delete(rr.id);

      await runner.delete(r3.id);
      expect((await runner.list()).map((r) => r.id)).toEqual([r1.id]);
      expect((await store.keys()).some((k) => k.includes(r3.id))).toBe(false);
    } finally {
      model.dispose();
    }
  });

  it('refuses without a model and with bad requests', async () => {
    const runner = new ExperimentRunner(
      () => null,
      () => Promise.reject(new Error('unused')),
      new MemoryRecordStore(),
    );
    await expect(runner.run(request)).rejects.toThrow(/no model is loaded/);
  });
});

describe('Experiments view logic', () => {
  const m = meta();
  const rows = [row('P36:0', 0), row('P36:1', 1, 0.5), row('P19:2', 2, 0.2)];
  const summary = summarize(m, rows, [{ fact: 'P36:0', ms: 1000 }], []);

  it("turns the CLI's report.md into text, tables and charts (the page shows what the CLI writes)", () => {
    const files = reportFiles(summary, 'npm run -s kn -- experiment manipulate --facts 3');
    const blocks = reportBlocks(files['report.md']);
    const tables = blocks.filter((b) => b.type === 'table');
    expect(tables.map((t) => t.id)).toEqual(['fig5-suppress', 'fig5-enhance', 'flip-rate', 'selection', 'fig4-layers', 'table2', 'own-vs-shared', 'knockout']);
    const fig5 = tables[0] as Extract<(typeof blocks)[number], { type: 'table' }>;
    expect(fig5.head).toEqual(['method', 'en', 'fr', 'mean']);
    expect(fig5.rows.map((r) => r[0])).toEqual(['MaTrice', 'AMIG', 'Random']);
    expect(fig5.rows[0][1]).toMatch(/^-?\d+\.\d %( ± \d+\.\d)?$/);
    const charts = blocks.filter((b) => b.type === 'chart').map((b) => (b as { file: string }).file);
    expect(charts).toEqual(['fig5-suppress.svg', 'fig5-enhance.svg', 'fig4-layers.svg', 'own-vs-shared.svg', 'knockout.svg']);
    for (const f of charts) expect(files[f]).toMatch(/^<svg /);
    expect(blocks[0]).toEqual({ type: 'title', text: 'Manipulation experiment: bundled:tiny' });
    const reproduce = blocks.find((b) => b.type === 'p' && b.parts[0].text.startsWith('Reproduce'));
    expect(reproduce).toEqual({ type: 'p', parts: [{ text: 'Reproduce: ' }, { text: 'npm run -s kn -- experiment manipulate --facts 3', code: true }] });
    // the rows of every table equal the Markdown's lines
    const mdRows = files['report.md'].split('\n').filter((l) => l.startsWith('|') && !/^\|(---\|)+$/.test(l));
    expect(tables.flatMap((t) => [t.head, ...t.rows]).map((r) => `| ${r.join(' | ')} |`)).toEqual(mdRows);
  });

  it('shows the readings table and accepts its fields in a report file', () => {
    const rm = meta({ methods: ['matrice@scale/none', 'random@scale/none', 'matrice@language/layer', 'random@language/layer'] });
    const rrows = [0, 1].map((i) => {
      const r = row(rm.facts[i], i);
      r.methods = {
        'matrice@scale/none': r.methods.matrice,
        'random@scale/none': r.methods.random,
        'matrice@language/layer': r.methods.amig,
        'random@language/layer': r.methods.random,
      };
      return r;
    });
    const rs = summarize(rm, rrows);
    expect(rs.readings?.length).toBe(2);
    const doc = importReport(exportReport(rs, '', 2));
    expect(doc.summary.readings).toEqual(rs.readings);
    expect(doc.summary.bestReading).toEqual(rs.bestReading);
    const blocks = reportBlocks(reportFiles(doc.summary)['report.md']);
    expect(blocks.some((b) => b.type === 'table' && b.id === 'readings')).toBe(true);
  });

  it('exports a report file that imports back to the same Summary and downloads every format', () => {
    const text = exportReport(summary, 'npm run -s kn -- experiment manipulate …', 3);
    const doc = importReport(text);
    expect(doc.summary).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(doc.total).toBe(3);
    const files = reportDownloads(doc);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['report.md', 'fig5.csv', 'fig5-suppress.svg', 'knockout.svg', 'experiment-report.json']));
    expect(files['report.md']).toContain('Reproduce: `npm run -s kn -- experiment manipulate …`');
    const st = buildStaticReport(doc);
    expect(st.files.map((f) => f.path)).toEqual(['experiment-report.json', 'experiment-report.html', 'README.txt']);
    expect(reportParam(st.url.slice(2))).toBe('experiment-report.json');
    expect(st.files[1].content).toContain('url=./?report=experiment-report.json&amp;autoload=0');
  });

  it('refuses report files that are not well formed, naming the field', () => {
    const good = JSON.parse(exportReport(summary, '', 3));
    const bad = (f: (o: typeof good) => void) => {
      const o = structuredClone(good);
      f(o);
      return () => importReport(JSON.stringify(o));
    };
    expect(() => importReport('not json')).toThrow(/report file: not valid JSON/);
    expect(bad((o) => (o.format = 'kn-exploration'))).toThrow(/report file: format must be "kn-experiment-report"/);
    expect(bad((o) => (o.summary.methods.matrice.languages.en.suppress = '<script>'))).toThrow(
      /summary\.methods\.matrice\.languages\.en\.suppress must be a finite number/,
    );
    expect(bad((o) => (o.summary.methods['<img onerror=x>'] = o.summary.methods.amig))).toThrow(/is not a method/);
    expect(bad((o) => delete o.summary.knockout.topByLanguage.fr)).toThrow(/topByLanguage must have one entry per language/);
    expect(bad((o) => (o.summary.knockout.top = [0.1]))).toThrow(/summary\.knockout\.top has 1 entries, at least 2/);
    expect(bad((o) => (o.summary.extra = 1))).toThrow(/unknown field "extra"/);
    expect(bad((o) => (o.summary.model = 'x\n| fake | table |'))).toThrow(/summary\.model must be one line/);
    expect(bad((o) => (o.command = 'a`b'))).toThrow(/command must be one line without backquotes/);
    expect(bad((o) => (o.summary.readings = [{ reading: '<x>' }]))).toThrow(/summary\.readings\[0\]/);
    // text stays text: a model name with markup is kept as given (the view renders it as text)
    expect(importReport(JSON.stringify({ ...good, summary: { ...good.summary, model: '<b>x</b>' } })).summary.model).toBe('<b>x</b>');
  });

  it('turns the form into a request and a saved run back into the form', () => {
    const f = defaultForm();
    expect(formToRequest({ ...f, langs: ['fr', 'en'] }, 'bundled:demo-causal')).toMatchObject({
      langs: ['en', 'fr'],
      facts: 20,
      steps: 20,
      modelLabel: 'bundled:demo-causal',
    });
    expect(() => formToRequest({ ...f, facts: 0 }, 'x')).toThrow(/number of facts must be an integer in 1\.\.100000,/);
    expect(() => formToRequest({ ...f, langs: [] }, 'x')).toThrow(/at least one language/);
    // a saved run without a quadrature (written before the option) resumes with the legacy rule
    expect(metaToForm(m)).toEqual({
      ...defaultForm(),
      experiment: 'manipulate',
      facts: 3,
      langs: ['en', 'fr'],
      methods: ['matrice', 'amig', 'random'],
      seed: 1,
      steps: 2,
      quadrature: LEGACY_QUADRATURE,
    });
    expect(formToRequest(f, 'x').quadrature).toBe(DEFAULT_QUADRATURE);
    expect(() => formToRequest({ ...f, quadrature: 'simpson' as never }, 'x')).toThrow(
      /quadrature must be one of riemann-right, gauss-legendre, got "simpson"/,
    );
    // a new run records the default (omitted only when it is the legacy rule); its form comes back with it
    const fake = { info: { contentHash: 'h', dtype: 'int8', kind: 'causal' }, cfg: { numLayers: 4, ffn: 512 } } as unknown as LoadedModel;
    const nm = requestMeta(fake, formToRequest(f, 'bundled:demo-causal'));
    expect(nm.quadrature ?? LEGACY_QUADRATURE).toBe(DEFAULT_QUADRATURE);
    expect(metaToForm(nm).quadrature).toBe(DEFAULT_QUADRATURE);
    // the command always names the quadrature, so a later change of the default cannot change what it computes
    expect(reproduceCommand(nm)).toContain(`--quadrature ${DEFAULT_QUADRATURE} `);
    expect(reproduceCommand(m)).toContain('--quadrature riemann-right ');
  });

  it('offers the readings experiment: every Eq. 9 × Eq. 5 reading of MaTrice beside Random, as kn experiment readings', async () => {
    const req = formToRequest({ ...defaultForm(), experiment: 'readings', facts: 5, methods: [] }, 'bundled:demo-causal');
    expect(req).toMatchObject({ experiment: 'readings', methods: [] });
    const fake = { info: { contentHash: 'h', dtype: 'int8', kind: 'causal' }, cfg: { numLayers: 4, ffn: 512 } } as unknown as LoadedModel;
    const rm = requestMeta(fake, req);
    expect(rm.methods).toEqual(readingSpecs().map((x) => x.key));
    expect(rm.methods.slice(0, 2)).toEqual(['matrice@language/layer', 'random@language/layer']);
    expect(await experimentId(rm)).toMatch(/^readings-/);
    expect(metaToForm(rm).experiment).toBe('readings');
    expect(reproduceCommand(rm)).toMatch(
      /^npm run -s kn -- experiment readings --model bundled:demo-causal --facts 5 --langs zh,en,fr,fi,hu,ja,ko --seed 1 --steps 20 /,
    );
    expect(reproduceCommand(meta())).toContain('experiment manipulate --model bundled:tiny --facts 3 --langs en,fr --methods matrice,amig,random');
  });

  it('shows progress as facts done / total, elapsed and time left', () => {
    const base = { id: 'x', phase: 'run' as const, done: 1, total: 3, skipped: 2, elapsedMs: 65_000, etaMs: 130_000, runTotal: 5, runDone: 3, fact: 'P36:1' };
    expect(progressView(base)).toEqual({
      fraction: 0.6,
      text: '3 / 5 facts · 2 from an earlier session · 1 min 5 s elapsed · about 2 min 10 s left · now P36:1',
    });
    expect(progressView({ ...base, etaMs: null, skipped: 0, done: 0, runDone: 0 }).text).toMatch(/time left: after the first fact/);
    expect(progressView({ ...base, phase: 'pick', picked: 1, probed: 4, total: 2 }).text).toMatch(/picking facts the model knows: 1 of 2 kept, 4 probed/);
  });

  it('accepts only a relative same-origin .json in ?report=', () => {
    expect(reportParam('?autoload=0')).toBeNull();
    expect(reportParam('?report=r/experiment-report.json')).toBe('r/experiment-report.json');
    expect(() => reportParam('?report=https://evil.example/x.json')).toThrow(/experiment report: the "report" parameter must be a relative path/);
    expect(() => reportParam('?report=../x.json')).toThrow(/must not contain/);
  });
});

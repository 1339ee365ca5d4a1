/**
 * Time estimates (issue 23: "about 30 s left" for a localize that needed ~30 min on a software WebGPU
 * adapter, and a stale "1 min 2 s left" after an experiment's Cancel): the one estimator
 * (src/engine/experiments/estimate.ts: measured time per finished unit × units left, nothing before the first),
 * its texts and the long-job note (src/ui/long-job.ts), teach's use of it, and the stores clearing it.
 */
import { describe, expect, it } from 'vitest';
import { Estimator, LONG_JOB_MS, timeLeftMs } from '../../src/shared/estimate';
import { teachEstimate, teachProgressText } from '../../src/ui/explorer/edits';
import { AnalysisStore } from '../../src/ui/explorer/analysis.svelte';
import { EditsStore } from '../../src/ui/explorer/edits.svelte';
import { progressView } from '../../src/ui/experiments/logic';
import { Experiments } from '../../src/ui/experiments/store.svelte';
import { experimentNote, localizeNote, longJobNote, predictMs, timeLeftText } from '../../src/ui/long-job';

const SOFTWARE = { name: 'webgpu', fallbacks: [], software: 'SwiftShader' };
const WASM = { name: 'wasm', fallbacks: [] };
const GPU = { name: 'webgpu', fallbacks: [] };

describe('the estimator', () => {
  it('time left = measured time per finished unit × units left; nothing before the first', () => {
    expect(timeLeftMs({ elapsedMs: 5000, finished: 0, total: 39 })).toBeNull();
    expect(timeLeftMs({ elapsedMs: 36_000, finished: 1, total: 39 })).toBe(38 * 36_000);
    // cache reads are no measurement
    expect(timeLeftMs({ elapsedMs: 300, finished: 22, total: 39, instant: 22 })).toBeNull();
    expect(timeLeftMs({ elapsedMs: 300 + 36_000, finished: 23, total: 39, instant: 22 })).toBe((36_300 / 1) * 16);
    expect(timeLeftMs({ elapsedMs: 1000, finished: 4, total: 4 })).toBe(0);
  });

  it('the software-adapter localize of the issue: 22 of 39 cached, 36 s per query', () => {
    const e = new Estimator();
    // the cached queries are read at once, then the 23rd query's interpolation points run
    expect(e.update({ elapsedMs: 300, finished: 22, total: 39, instant: 22 })).toBeNull();
    expect(e.update({ elapsedMs: 18_000, finished: 22, total: 39, instant: 22 })).toBeNull(); // the old fraction said ≈ 13 s here
    const eta = e.update({ elapsedMs: 36_300, finished: 23, total: 39, instant: 22 })!;
    expect(eta).toBe(36_300 * 16);
    expect(eta).toBeGreaterThan(LONG_JOB_MS);
    expect(timeLeftText(eta)).toBe('about 9 min 41 s left');
    // between finishes it counts down; the next finish measures again
    expect(e.update({ elapsedMs: 46_300, finished: 23, total: 39, instant: 22 })).toBe(36_300 * 16 - 10_000);
    expect(e.update({ elapsedMs: 72_300, finished: 24, total: 39, instant: 22 })).toBe((72_300 / 2) * 15);
    expect(e.perUnitMs).toBe(36_150);
    e.clear();
    expect(e.etaMs).toBeNull();
    expect(e.update({ elapsedMs: 100, finished: 0, total: 5 })).toBeNull();
  });

  it('teach: per phase, from the phase’s own start; the texts', () => {
    const e = new Estimator();
    const p = (phase: 'localize' | 'train' | 'evaluate', done: number, total: number, elapsedMs: number) => ({
      phase,
      done,
      total,
      elapsedMs,
      loss: 2.5,
      correct: 3,
    });
    expect(teachEstimate(e, p('localize', 0.5, 10, 1000))).toBeNull();
    expect(teachProgressText(p('localize', 0.5, 10, 1000), null)).toBe('Localizing the new fact: 0 of 10 queries (1.0 s; estimating time left…)');
    expect(teachEstimate(e, p('localize', 2, 10, 4000))).toBe(2000 * 8);
    expect(teachEstimate(e, p('localize', 10, 10, 20_000))).toBe(0);
    // training starts where localizing ended: step 1 took 500 ms, 39 steps at most are left
    expect(teachEstimate(e, p('train', 1, 40, 20_500))).toBe(500 * 39);
    expect(teachProgressText(p('train', 1, 40, 20_500), 500 * 39)).toBe(
      'Training step 1 of at most 40: loss 2.500, 3 training queries right (20.5 s; at most about 19.5 s left)',
    );
    expect(teachEstimate(e, p('evaluate', 0, 1, 30_000))).toBeNull();
    expect(teachEstimate(e, null)).toBeNull();
    expect(e.etaMs).toBeNull();
  });
});

describe('the long-job note', () => {
  it('says so up front on a software adapter, and when the measured speed predicts more than a few minutes', () => {
    const sw = longJobNote({ backend: SOFTWARE, job: 'localizing P36:4', etaMs: null, running: false, keeps: 'the fact stays in the address' })!;
    expect(sw).toEqual({
      text: 'The page computes with WebGPU on a software adapter (SwiftShader), which is slower than wasm here: localizing P36:4 may take a long time. Switching to wasm reloads the page; the fact stays in the address.',
      switchTo: 'wasm',
    });
    expect(longJobNote({ backend: GPU, job: 'x', etaMs: LONG_JOB_MS, running: true, keeps: 'k' })).toBeNull();
    expect(longJobNote({ backend: GPU, job: 'localizing P36:4', etaMs: 36_300 * 16, running: true, keeps: 'k' })).toEqual({
      text: 'At the measured speed localizing P36:4 needs about 9 min 41 s more. wasm may be faster on this machine. Switching to wasm reloads the page; k.',
      switchTo: 'wasm',
    });
    expect(longJobNote({ backend: WASM, job: 'the experiment (20 facts)', etaMs: 20 * 60_000, running: false, keeps: 'k' })).toEqual({
      text: 'At the measured speed the experiment (20 facts) needs about 20 min 0 s.',
      switchTo: null,
    });
    expect(longJobNote({ backend: null, job: 'x', etaMs: 1e9, running: true, keeps: 'k' })).toBeNull();
    expect(predictMs(null, 39)).toBeNull();
    expect(predictMs(36_000, 39)).toBe(39 * 36_000);
  });

  it('before a localize: from the time per query an earlier localize measured; during one: from its time left', () => {
    const base = { backend: GPU, factId: 'P36:4', queries: 39, queryMs: 36_000, localizing: false, etaMs: null };
    expect(localizeNote(base)?.text).toMatch(/^At the measured speed localizing P36:4 needs about 23 min 24 s\. wasm may be faster/);
    expect(localizeNote({ ...base, queryMs: 200 })).toBeNull();
    expect(localizeNote({ ...base, queryMs: null })).toBeNull();
    expect(localizeNote({ ...base, queryMs: null, localizing: true, etaMs: 10 * 60_000 })?.text).toMatch(
      /needs about 10 min 0 s more\. .*the queries attributed so far are cached, and localizing resumes from them\.$/,
    );
    expect(localizeNote({ ...base, factId: null })).toBeNull();
    expect(experimentNote({ backend: SOFTWARE, facts: 20, factMs: null, running: false, etaMs: null })?.switchTo).toBe('wasm');
    expect(experimentNote({ backend: GPU, facts: 20, factMs: 30_000, running: false, etaMs: null })?.text).toMatch(
      /the experiment \(20 facts\) needs about 10 min 0 s\. .*Run then resumes the run\.$/,
    );
  });
});

describe('no estimate stays behind', () => {
  it('an experiment’s Cancel clears its progress and time left', async () => {
    let report!: (p: unknown) => void;
    let finish!: (r: unknown) => void;
    const ex = {
      model: { info: { contentHash: 'c1' }, spec: { type: 'bundled', name: 'demo-causal' } },
      client: {
        experimentRun: (_req: unknown, onProgress: (p: unknown) => void) => ((report = onProgress), new Promise((r) => (finish = r))),
        experimentCancel: async () =>
          finish({
            id: 'manipulate-1',
            status: 'cancelled',
            written: 1,
            skipped: 0,
            total: 4,
            message: 'cancelled: 1 of 4 facts are finished and kept',
            resumed: false,
            differsFrom: null,
          }),
        experimentList: async () => ({ runs: [], storage: 'idb' }),
        experimentReport: async () => ({ meta: { model: { id: 'x' } }, summary: {}, done: 1, total: 4 }),
      },
    };
    const xp = new Experiments(ex as never, null);
    const run = xp.run();
    report({ id: 'manipulate-1', phase: 'run', done: 1, total: 4, skipped: 0, elapsedMs: 20_667, etaMs: 62_000, runTotal: 4, runDone: 1 });
    expect(progressView(xp.progress).text).toContain('about 1 min 2 s left');
    expect(xp.factMs).toBe(20_667);
    await xp.cancel();
    await run;
    expect(xp.progress).toBeNull();
    expect(xp.running).toBe(false);
    expect(xp.notice).toBe('cancelled: 1 of 4 facts are finished and kept');
  });

  it('a cancelled localize clears its progress; a finished one keeps its time per query', async () => {
    let report!: (p: unknown) => void;
    let fail!: (e: unknown) => void;
    const h = {
      client: { localize: (_f: unknown, _o: unknown, onProgress: (p: unknown) => void) => ((report = onProgress), new Promise((_r, j) => (fail = j))) },
      info: {},
      factId: 'P36:4',
      staticView: null,
      restoring: false,
      notice: '',
      error: null,
      showError() {},
      updateHash() {},
    };
    const a = new AnalysisStore(h as never);
    const run = a.localize();
    report({ queriesDone: 1, queriesTotal: 3, pointsDone: 0, pointsTotal: 0, cached: 0, elapsedMs: 1000, etaMs: 2000 });
    expect(a.locProgress?.etaMs).toBe(2000);
    fail({ code: 'cancelled', message: 'localization cancelled' });
    await run;
    expect(a.localizing).toBe(false);
    expect(a.locProgress).toBeNull();

    h.client.localize = async () => ({ complete: true, factId: 'P36:4', queries: [{}, {}, {}, {}], cachedCount: 1, ms: 9000 }) as never;
    (h.client as Record<string, unknown>).score = async () => ({ selected: [] });
    (h.client as Record<string, unknown>).manipulate = async () => ({ rows: [] });
    await a.localize();
    expect(a.queryMs).toBe(3000);
  });

  it('a teach’s estimate is shown only while it runs', () => {
    const s = new EditsStore({ client: null } as never);
    s.teaching = true;
    s.teachProgress = { phase: 'localize', done: 1, total: 5, elapsedMs: 2000 };
    expect(s.teachEtaMs).toBe(8000);
    s.teaching = false;
    expect(s.teachEtaMs).toBeNull();
    s.teaching = true;
    s.teachProgress = null; // a new teach
    expect(s.teachEtaMs).toBeNull();
  });
});

/**
 * "Calibrate on this model" (Experiments view): the calibrations kept per content hash (worker/calibrations.ts,
 * through the in-memory twin of IndexedDB), the effective calibration's order (engine effectiveCalibration: this
 * page's, else the folder's calibration.json, else METHOD's) and what modelDefaults says of each, the form's
 * request, and the worker-side run on the bundled causal model (cancel, resume, the CLI's report files and block).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { LANGS } from '../../src/data/types';
import { effectiveCalibration, modelDefaults, parseCalibration } from '../../src/engine/selection/calibration';
import { loadModelArg } from '../../src/engine/index';
import { DEFAULT_SETTINGS } from '../../src/engine/selection/scoring';
import type { LoadedModel } from '../../src/engine/families/model';
import { DEFAULT_GRID, type CalibrationBlock } from '../../src/engine/experiments/calibrate';
import type { ModelInfo } from '../../src/shared/types';
import { CalibrationStore } from '../../src/worker/calibrations';
import { ExperimentRunner, MemoryRecordStore, calibrationRequestMeta, type ExperimentProgress } from '../../src/worker/experiments';
import { DEFAULT_GRID_TEXT, defaultForm, formToRequest, metaToForm, storedForm, formText } from '../../src/ui/experiments/logic';
import { ready } from '../engine/setup';

const block = (hash: string, over: Partial<CalibrationBlock['settings']> = {}): CalibrationBlock => ({
  format: 'kn-calibration',
  version: 1,
  contentHash: hash,
  settings: { alpha1: 1, alpha2: 0.5, beta1: 1, beta2: 0.25, tau: 0.1, norm: DEFAULT_SETTINGS.norm, attrNorm: DEFAULT_SETTINGS.attrNorm, ...over },
  steps: 20,
  facts: 12,
  split: 'dev',
  command: 'npm run -s kn -- experiment calibrate --model bundled:demo-causal --facts 12 --split dev --out <dir>',
  measured: { suppress: -0.3, coverageMean: 5.5, selectedMedian: 8, randomSuppress: -0.01, flipRate: 0.2 },
});

const folderText = JSON.stringify(block('h1', { alpha2: 1, beta2: 0.75, tau: 0.3 }));
const info = (hash: string, withFolder = false): ModelInfo =>
  ({ contentHash: hash, source: 'bundled:x', ...(withFolder ? { calibration: parseCalibration(folderText, 'h1') } : {}) }) as unknown as ModelInfo;

describe('calibrations kept per content hash', () => {
  it('sets, gets and forgets per content hash; another model never sees them', async () => {
    const records = new MemoryRecordStore();
    const store = new CalibrationStore(records);
    expect(await store.get('h1')).toBeNull();
    await store.set(block('h1'));
    await store.set(block('h2', { tau: 0.3 }));
    expect(JSON.parse((await store.get('h1'))!)).toEqual(block('h1'));
    expect(JSON.parse((await store.get('h2'))!).settings.tau).toBe(0.3);
    // another model: nothing of h1's or h2's
    const other = await store.effective(info('h3'));
    expect(other.calibration).toBeUndefined();
    expect(other.calibrationSource).toBeUndefined();
    expect(modelDefaults(other).settings).toEqual(DEFAULT_SETTINGS);
    // a newer one replaces the earlier
    await store.set(block('h1', { tau: 0.2 }));
    expect((await store.effective(info('h1'))).calibration!.settings.tau).toBe(0.2);
    await store.forget('h1');
    expect(await store.get('h1')).toBeNull();
    expect(await store.get('h2')).not.toBeNull();
    await expect(store.set({ ...block('h1'), contentHash: '' })).rejects.toThrow(/names no contentHash/);
  });

  it('refuses a malformed stored block naming the field, and one of other weights, and ignores them', async () => {
    const records = new MemoryRecordStore();
    const store = new CalibrationStore(records);
    await records.set('h1', { text: JSON.stringify({ ...block('h1'), settings: { ...block('h1').settings, tau: 7 } }), savedAt: 1 });
    let e = await store.effective(info('h1', true));
    expect(e.storedCalibrationProblem).toMatch(/settings\.tau must be a number in 0\.\.1/);
    // the folder's calibration applies instead
    expect(e.calibrationSource).toBe('folder');
    expect(e.calibration!.settings.tau).toBe(0.3);
    expect(modelDefaults(e).note).toMatch(
      /from the model folder's calibration\.json.*the calibration stored on this page was refused and ignored: calibration\.json: settings\.tau/,
    );
    // a block of other weights under this hash's key: refused by contentHash
    await records.set('h1', { text: JSON.stringify(block('h9')), savedAt: 1 });
    e = await store.effective(info('h1'));
    expect(e.storedCalibrationProblem).toMatch(/contentHash is h9, but these weights are h1/);
    expect(modelDefaults(e).settings).toEqual(DEFAULT_SETTINGS);
    // not even a record: the problem is named, nothing applies
    await records.set('h1', 42);
    e = await store.effective(info('h1'));
    expect(e.storedCalibrationProblem).toMatch(/must be a JSON object/);
  });

  it('the effective calibration: this page, else the folder, else METHOD; modelDefaults says which', () => {
    const page = JSON.stringify(block('h1'));
    const both = effectiveCalibration(info('h1', true), page);
    expect(both.calibrationSource).toBe('page');
    expect(both.calibration!.settings).toMatchObject({ alpha2: 0.5, beta2: 0.25, tau: 0.1 });
    expect(modelDefaults(both).note).toMatch(/^settings calibrated on this page on 12 dev facts \(α2 = 0\.5, β2 = 0\.25, τ = 0\.1\)/);
    const folder = effectiveCalibration(info('h1', true), null);
    expect(folder.calibrationSource).toBe('folder');
    expect(modelDefaults(folder).note).toMatch(
      /^settings calibrated on 12 dev facts \(α2 = 1, β2 = 0\.75, τ = 0\.3\), from the model folder's calibration\.json/,
    );
    const none = effectiveCalibration(info('h1'), undefined);
    expect(none.calibration).toBeUndefined();
    expect(modelDefaults(none)).toMatchObject({ source: 'method', settings: DEFAULT_SETTINGS });
    // applied again to an effective info (after Forget) it starts from what it is given: the loaded info is the input
    expect(effectiveCalibration(both, null).calibrationSource).toBe('folder');
  });
});

describe('Calibrate on this model: the form and the runner', () => {
  it('turns the form into a calibration request; the dev split only for bundled models, never test', () => {
    const f = { ...defaultForm(), experiment: 'calibrate' as const, facts: 2, gridAlpha2: '1', gridBeta2: '0, 1', gridTau: '0.2' };
    const r = formToRequest(f, 'bundled:demo-causal');
    expect(r).toMatchObject({ experiment: 'calibrate', facts: 2, split: 'dev', grid: { alpha2: '1', beta2: '0, 1', tau: '0.2' }, methods: [] });
    expect(formToRequest(f, 'https://example.org/model').split).toBeNull();
    expect(formToRequest({ ...f, split: 'any' }, 'bundled:demo-causal').split).toBeNull();
    expect(() => formToRequest({ ...f, gridTau: '0.2,,0.3' }, 'bundled:demo-causal')).toThrow(/--grid-tau: an empty value/);
    expect(() => calibrationRequestMeta({} as never, { ...r, split: 'test' })).toThrow(/never sees the test split/);
    // the defaults are the engine's grid
    expect(defaultForm()).toMatchObject({
      gridAlpha2: DEFAULT_GRID.alpha2.join(','),
      gridBeta2: DEFAULT_GRID.beta2.join(','),
      gridTau: DEFAULT_GRID.tau.join(','),
    });
    expect(DEFAULT_GRID_TEXT.tau).toBe(DEFAULT_GRID.tau.join(','));
    expect(storedForm(formText(f))).toEqual(f);
    expect(storedForm(JSON.stringify({ ...f, gridTau: '2,3' })).gridTau).toBe(DEFAULT_GRID_TEXT.tau);
  });

  it('runs on the bundled causal model: cancels between facts, resumes, gives the CLI report and a block the store keeps', { timeout: 600_000 }, async () => {
    await ready;
    const model: LoadedModel = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = await openLocal();
      const split = JSON.parse(readFileSync('public/models/demo-causal/split.json', 'utf8')) as { devFacts: string[] };
      const store = new MemoryRecordStore();
      const asked: string[] = [];
      const runner = new ExperimentRunner(
        () => model,
        () => Promise.resolve(bench),
        store,
        undefined,
        async (source, s) => (asked.push(`${source}:${s}`), split.devFacts),
      );
      const f = {
        ...defaultForm(),
        experiment: 'calibrate' as const,
        facts: 2,
        steps: 2,
        langs: LANGS.filter((l) => ['en', 'fr', 'zh', 'ja'].includes(l)),
        gridAlpha2: '1',
        gridBeta2: '0,1',
        gridTau: '0.2',
      };
      const req = formToRequest(f, 'bundled:demo-causal');
      const seen: ExperimentProgress[] = [];
      const r1 = await runner.run(req, (p) => {
        seen.push(p);
        if (p.phase === 'run' && p.done === 1) runner.cancel();
      });
      expect(asked).toEqual([`${model.info.source}:dev`]);
      expect(r1.id).toMatch(/^calibrate-/);
      expect(r1.status).toBe('cancelled');
      expect(r1.written).toBe(1);
      const runs = await runner.list();
      expect(runs).toHaveLength(1);
      expect(runs[0].meta.facts.every((id) => split.devFacts.includes(id))).toBe(true);
      expect(metaToForm(runs[0].meta)).toEqual(f);
      const r2 = await runner.run(req);
      expect(r2).toMatchObject({ id: r1.id, status: 'done', resumed: true, written: 1, skipped: 1, total: 2 });
      const rep = await runner.calibrationReport(r1.id);
      expect(rep.done).toBe(2);
      expect(rep.summary.frontier.map((p) => p.key)).toEqual(['a1/b0/t0.2', 'a1/b1/t0.2']);
      expect(rep.files['report.md']).toMatch(/Reproduce: `npm run -s kn -- experiment calibrate --model bundled:demo-causal --facts 2 --split dev/);
      expect(Object.keys(rep.files)).toEqual(expect.arrayContaining(['report.md', 'frontier.csv', 'frontier.svg']));
      await expect(runner.report(r1.id)).rejects.toThrow(/is a calibration/);
      if (rep.block) {
        expect(rep.files['calibration.json']).toBe(JSON.stringify(rep.block, null, 1) + '\n');
        const cals = new CalibrationStore(new MemoryRecordStore());
        await cals.set(rep.block);
        const eff = await cals.effective(model.info);
        expect(eff.calibrationSource).toBe('page');
        expect(eff.calibration!.settings).toMatchObject({ alpha2: rep.summary.chosen!.alpha2, beta2: rep.summary.chosen!.beta2, tau: rep.summary.chosen!.tau });
      } else {
        expect(rep.summary.chosen).toBeNull();
      }
    } finally {
      model.dispose();
    }
  });
});

/**
 * A model folder's calibration.json (engine/selection/calibration.ts): checked field by field on load, a malformed or foreign
 * block refused with the field named while the model still loads with METHOD's defaults, and a valid one becoming
 * the defaults of `kn localize` (real process, a tiny GPT-2 checkpoint written here).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { modelDefaults, parseCalibration } from '../../src/engine/selection/calibration';
import { loadModelArg } from '../../src/engine/index';
import { DEFAULT_SETTINGS } from '../../src/engine/selection/scoring';
import { writeTinyCheckpoint } from '../helpers/tiny-checkpoints';
import { ready } from './setup';

const run = promisify(execFile);
const LONG = 600_000;

const block = (o: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) =>
  JSON.stringify({
    format: 'kn-calibration',
    version: 1,
    contentHash: 'abc',
    steps: 20,
    facts: 20,
    split: 'dev',
    command: 'npm run -s kn -- experiment calibrate --out x',
    settings: { alpha1: 1, alpha2: 0.5, beta1: 1, beta2: 0.25, tau: 0.1, norm: 'scale', attrNorm: 'none', ...settings },
    measured: { suppress: -0.4, coverageMean: 5.2, selectedMedian: 9, randomSuppress: -0.01, flipRate: 0.3 },
    ...o,
  });

describe('calibration block', () => {
  it('parses a valid block; every refusal names the field', () => {
    const c = parseCalibration(block(), 'abc');
    expect(c.settings).toEqual({ alpha1: 1, alpha2: 0.5, beta1: 1, beta2: 0.25, tau: 0.1, norm: 'scale', attrNorm: 'none' });
    expect(modelDefaults({ calibration: c }).note).toMatch(
      /calibrated on 20 dev facts \(α2 = 0.5, β2 = 0.25, τ = 0.1\); METHOD's α = β = 1, τ = 0.2 \(the paper's weights\) is one click away/,
    );
    expect(() => parseCalibration('{', 'abc')).toThrow(/calibration.json: not valid JSON/);
    expect(() => parseCalibration(block({ format: 'x' }), 'abc')).toThrow(/calibration.json: format must be "kn-calibration"/);
    expect(() => parseCalibration(block({ version: 2 }), 'abc')).toThrow(/version must be 1/);
    expect(() => parseCalibration(block(), 'other')).toThrow(/contentHash is abc, but these weights are other: it was calibrated on another model/);
    expect(() => parseCalibration(block({}, { tau: 3 }), 'abc')).toThrow(/settings\.tau must be a number in 0\.\.1/);
    expect(() => parseCalibration(block({}, { beta2: 'half' }), 'abc')).toThrow(/settings\.beta2 must be a number/);
    expect(() => parseCalibration(block({}, { norm: 'minmax' }), 'abc')).toThrow(/settings\.norm must be language, neuron or scale/);
    expect(() => parseCalibration(block({ steps: 2.5 }), 'abc')).toThrow(/steps must be an integer/);
    expect(() => parseCalibration(block({ command: 'a\nb' }), 'abc')).toThrow(/command must be one line/);
    expect(modelDefaults({}).settings).toEqual(DEFAULT_SETTINGS);
  });

  it(
    'a folder with calibration.json: kn localize defaults to it; a malformed one leaves METHOD defaults and says why',
    async () => {
      await ready;
      const dir = mkdtempSync(join(tmpdir(), 'kn-cal-'));
      const m = join(dir, 'm');
      await writeTinyCheckpoint(m, 'gpt2', { seed: 33 });
      const hash = (await loadModelArg(m, { dtype: 'int8' })).info.contentHash;
      writeFileSync(join(m, 'calibration.json'), block({ contentHash: hash }));
      const loaded = await loadModelArg(m, { dtype: 'int8' });
      expect(loaded.info.calibration?.settings.beta2).toBe(0.25);
      loaded.dispose();
      const env = { ...process.env, KN_CACHE_DIR: join(dir, 'cache') };
      const args = ['src/cli/kn.ts', 'localize', '--model', m, '--relation', 'P36', '--fact', '0', '--langs', 'en,fr', '--steps', '2', '--json'];
      const r = JSON.parse((await run('node_modules/.bin/tsx', args, { env })).stdout);
      expect(r.defaults.source).toBe('calibrated');
      expect([r.alpha2, r.beta2, r.tau]).toEqual([0.5, 0.25, 0.1]);
      // a flag still wins over the calibration
      const r2 = JSON.parse((await run('node_modules/.bin/tsx', [...args, '--beta2', '1'], { env })).stdout);
      expect([r2.alpha2, r2.beta2]).toEqual([0.5, 1]);
      // malformed: the model loads, METHOD's defaults, and the refusal names the field
      writeFileSync(join(m, 'calibration.json'), block({ contentHash: hash }, { tau: 'x' }));
      const bad = await loadModelArg(m, { dtype: 'int8' });
      expect(bad.info.calibration).toBeUndefined();
      expect(bad.info.calibrationProblem).toMatch(/settings\.tau must be a number/);
      bad.dispose();
      const r3 = JSON.parse((await run('node_modules/.bin/tsx', args, { env })).stdout);
      expect(r3.defaults.source).toBe('method');
      expect(r3.defaults.note).toMatch(/calibration was refused: calibration.json: settings\.tau/);
      expect([r3.alpha2, r3.beta2, r3.tau]).toEqual([DEFAULT_SETTINGS.alpha2, DEFAULT_SETTINGS.beta2, DEFAULT_SETTINGS.tau]);
    },
    LONG,
  );
});

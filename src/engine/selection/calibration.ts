/**
 * A model's calibrated MaTrice settings (docs/METHOD.md "Calibration"): the block `kn experiment calibrate` writes
 * (report/calibration.json) and a model folder carries as calibration.json beside config.json. The page, the CLI
 * and the runner default to it for that model (the weights' content hash must match); without one, or with a
 * malformed one, METHOD's defaults stay and the loaded model says why. No dependencies beyond errors and scoring.
 */
import { KnError } from '../../shared/errors';
import { DEFAULT_SETTINGS, resolveSettings } from '../rules';
import type { CalibrationInfo, MatriceSettings } from '../../shared/types';

export const CALIBRATION_FILE = 'calibration.json';

export type { CalibrationInfo } from '../../shared/types';

const fail = (field: string, problem: string): never => {
  throw new KnError('bad-config', `${CALIBRATION_FILE}: ${field} ${problem}`);
};
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const finite = (o: Record<string, unknown>, k: string, where: string, lo = -1e6, hi = 1e6): number => {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    fail(`${where}${k}`, `must be a number in ${lo}..${hi}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v as number;
};
const nullableNum = (o: Record<string, unknown>, k: string): number | null => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null);

/** Parses and checks a calibration block; every refusal names the field. `contentHash`: the loaded weights'. */
export function parseCalibration(text: string, contentHash: string): CalibrationInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KnError('bad-config', `${CALIBRATION_FILE}: not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
  if (!isObj(raw)) fail('the file', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.format !== 'kn-calibration') fail('format', `must be "kn-calibration", got ${JSON.stringify(o.format)?.slice(0, 40)}`);
  if (o.version !== 1) fail('version', `must be 1, got ${JSON.stringify(o.version)?.slice(0, 20)}`);
  if (typeof o.contentHash !== 'string') fail('contentHash', 'must be a string');
  if (o.contentHash !== contentHash)
    fail('contentHash', `is ${String(o.contentHash).slice(0, 20)}, but these weights are ${contentHash}: it was calibrated on another model`);
  if (!isObj(o.settings)) fail('settings', 'must be an object');
  const s = o.settings as Record<string, unknown>;
  const w: Partial<MatriceSettings> = {};
  for (const k of ['alpha1', 'alpha2', 'beta1', 'beta2'] as const) w[k] = finite(s, k, 'settings.');
  w.tau = finite(s, 'tau', 'settings.', 0, 1);
  if (s.norm !== 'language' && s.norm !== 'neuron' && s.norm !== 'scale')
    fail('settings.norm', `must be language, neuron or scale, got ${JSON.stringify(s.norm)?.slice(0, 20)}`);
  if (s.attrNorm !== 'layer' && s.attrNorm !== 'global' && s.attrNorm !== 'none')
    fail('settings.attrNorm', `must be layer, global or none, got ${JSON.stringify(s.attrNorm)?.slice(0, 20)}`);
  const steps = finite(o, 'steps', '', 1, 1000);
  if (!Number.isInteger(steps)) fail('steps', 'must be an integer');
  const facts = finite(o, 'facts', '', 1, 1e7);
  if (typeof o.command !== 'string' || !o.command || o.command.length > 4000 || /[\n\r]/.test(o.command)) fail('command', 'must be one line of text');
  const m = isObj(o.measured) ? o.measured : {};
  return {
    settings: resolveSettings({ ...w, norm: s.norm as MatriceSettings['norm'], attrNorm: s.attrNorm as MatriceSettings['attrNorm'] }),
    steps,
    facts,
    split: typeof o.split === 'string' ? o.split : null,
    command: o.command as string,
    measured: {
      suppress: nullableNum(m, 'suppress'),
      coverageMean: nullableNum(m, 'coverageMean'),
      selectedMedian: nullableNum(m, 'selectedMedian'),
      randomSuppress: nullableNum(m, 'randomSuppress'),
      flipRate: nullableNum(m, 'flipRate'),
    },
  };
}

export interface ModelDefaults {
  settings: MatriceSettings;
  source: 'calibrated' | 'method';
  /** one line for people: where the defaults come from */
  note: string;
}

/** What modelDefaults reads of a model's info (shared/types.ts ModelInfo). */
export interface CalibrationFields {
  calibration?: CalibrationInfo;
  calibrationProblem?: string;
  calibrationSource?: 'page' | 'folder';
  storedCalibrationProblem?: string;
}

/** The MaTrice defaults for a model: its calibration when it has a valid one, else METHOD's (DEFAULT_SETTINGS). */
export function modelDefaults(info: CalibrationFields): ModelDefaults {
  const c = info.calibration;
  // a calibration stored on this page that was refused: said beside whatever applies instead
  const refused = info.storedCalibrationProblem ? ` (the calibration stored on this page was refused and ignored: ${info.storedCalibrationProblem})` : '';
  if (c) {
    const s = c.settings;
    const where = info.calibrationSource === 'page' ? 'on this page ' : '';
    const from = info.calibrationSource === 'folder' ? ", from the model folder's calibration.json" : '';
    return {
      settings: { ...s },
      source: 'calibrated',
      note: `settings calibrated ${where}on ${c.facts} ${c.split ? c.split + ' ' : ''}facts (α2 = ${s.alpha2}, β2 = ${s.beta2}, τ = ${s.tau})${from}; METHOD's α = β = ${DEFAULT_SETTINGS.alpha1}, τ = ${DEFAULT_SETTINGS.tau} (the paper's weights) is one click away${refused}`,
    };
  }
  return {
    settings: { ...DEFAULT_SETTINGS },
    source: 'method',
    note:
      (info.calibrationProblem
        ? `METHOD's defaults (the model's calibration was refused: ${info.calibrationProblem})`
        : `METHOD's defaults (α = β = ${DEFAULT_SETTINGS.alpha1}, τ = ${DEFAULT_SETTINGS.tau}): this model has no calibration`) + refused,
  };
}

/**
 * The effective calibration of loaded weights, in order: the one calibrated on this page and stored for their
 * content hash (`storedText`, parsed with parseCalibration: a malformed one, or one of other weights, is refused
 * naming the field and ignored), else the model folder's calibration.json (`info.calibration` as loaded), else none
 * (METHOD's defaults). Returns the info's calibration fields as modelDefaults reads them; the rest of `info` is kept.
 */
export function effectiveCalibration<T extends CalibrationFields & { contentHash: string }>(info: T, storedText: string | null | undefined): T {
  const { calibrationSource: _s, storedCalibrationProblem: _p, ...rest } = info;
  void _s;
  void _p;
  const folder = rest.calibration ? { calibrationSource: 'folder' as const } : {};
  if (storedText === null || storedText === undefined) return { ...rest, ...folder } as T;
  try {
    return { ...rest, calibration: parseCalibration(storedText, info.contentHash), calibrationSource: 'page' } as T;
  } catch (e) {
    return { ...rest, ...folder, storedCalibrationProblem: e instanceof Error ? e.message : String(e) } as T;
  }
}

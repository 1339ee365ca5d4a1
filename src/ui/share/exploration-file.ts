/**
 * The exploration file: a versioned JSON export of one exploration (state + model identity + results),
 * to download, re-import, or host statically (static-export.ts).
 *
 * Version 2 (current):
 *   { format: 'kn-exploration', version: 2, createdWith: string,
 *     state: ExplorationState,
 *     model: { label, contentHash, architecture, numLayers, ffnSize },
 *     fact?: { id?, relation?, labels: { [lang]: { subject, object } } },
 *     results?: {
 *       queries: [{ lang, prompt, target, before, correct?, completeness? }],   (correct: top-1 before; absent in older files)
 *       selections: { [method]: { neurons: [l, j][], scores: (number|null)[], threshold: number|null } },
 *       S?: { encoding: 'dense', digits, values: (number|null)[][] }                 (layers × neurons)
 *         | { encoding: 'sparse', digits, fill, entries: [l, j, value][] }          (top-k only; the rest = fill)
 *       layerDistribution: number[],
 *       manipulations?: { [method]: [{ lang, before, after, deltaP: number|null, correctBefore }] } } }
 *   S values are rounded to `digits` significant digits (default 4) to keep files small; with `sTopK` only
 *   the k largest are kept and the rest read back as `fill` (the minimum of S). NaN is stored as null.
 *
 * Version 1 (older, still imported and migrated):
 *   { format: 'kn-exploration', version: 1,
 *     state: { model, fact?, langs?, method, settings: { alpha1, alpha2, beta1, beta2, tau, norm?, attrNorm? }, steps },
 *     numLayers, ffnSize, modelLabel?, selected: [l, j][] }
 *   Migration: state gets v: 1, baseline 'pad' and the norm/attrNorm of v1's day ('language'/'layer'); the model's meta is
 *   { label: modelLabel or the model spec, contentHash: '', architecture: '', numLayers, ffnSize }; the
 *   selection becomes results.selections[state.method] with unknown scores, and its layer distribution is
 *   recomputed.
 *
 * Import trusts nothing: size, JSON, the format tag, the version, every field (types, ranges, shapes
 * consistent with numLayers × ffnSize, string lengths, no control characters, no unknown fields). All
 * refusals are `KnError('bad-input', 'exploration file: <what is wrong>')`. Strings from a file must only
 * ever be rendered as text.
 */
import { KnError } from '../../engine/errors';
import { modelLabel } from '../../engine/model-id';
import { layerDistribution } from '../../engine/matrice/scoring';
import type { ProbRow } from '../plots/charts';
import { Checker, LANG_PATTERN, MAX_FFN, MAX_LAYERS, describe, join } from './validate';
import {
  EXPLORATION_METHODS,
  type ExplorationMethod,
  type ExplorationModel,
  type ExplorationState,
  defaultState,
  validateLangs,
  validateModel,
  validateState,
} from './state';

export const EXPLORATION_FORMAT = 'kn-exploration';
export const EXPLORATION_VERSION = 2;
export const CREATED_WITH = 'knowledge-neuron-explorer 0.1.0';

export const FILE_LIMITS = Object.freeze({
  /** characters of the whole file */
  maxChars: 64 * 1024 * 1024,
  maxQueries: 10_000,
  /** neurons in one stored selection */
  maxSelected: 1_000_000,
  maxRows: 10_000,
  maxPrompt: 4096,
  maxLabel: 1024,
  /** entries of S (numLayers × ffnSize) */
  maxScores: 1 << 24,
});

export interface ExplorationModelMeta {
  /** a human label, e.g. "gpt2" or "bundled:demo" */
  label: string;
  contentHash: string;
  architecture: string;
  numLayers: number;
  ffnSize: number;
}

export interface ExplorationFact {
  id?: string;
  relation?: string;
  /** the fact's subject and object labels per language */
  labels: Record<string, { subject: string; object: string }>;
}

export interface ExplorationMeta {
  /** the app that wrote the file (set by exportExploration when absent) */
  createdWith?: string;
  model: ExplorationModelMeta;
  fact?: ExplorationFact;
}

export interface ExplorationQuery {
  lang: string;
  prompt: string;
  target: string;
  /** P(correct) before any manipulation */
  before: number;
  /** whether the model answered it top-1 before any change (absent in files that did not store it) */
  correct?: boolean;
  /** the completeness error of the attribution (Σ Attr − (P(w̄) − P(w'))); NaN when unknown */
  completeness?: number;
}

export interface StoredSelection {
  neurons: [number, number][];
  /** S of each selected neuron (MaTrice, w/o UaQ), null for the others */
  scores: (number | null)[];
  threshold: number | null;
}

export interface ExplorationResults {
  queries: ExplorationQuery[];
  selections: Partial<Record<ExplorationMethod, StoredSelection>>;
  /** layers × neurons language-agnostic scores (as stored: rounded, maybe sparsified) */
  S?: number[][];
  /** share of the state method's selected neurons per layer */
  layerDistribution: number[];
  manipulations?: Partial<Record<ExplorationMethod, ProbRow[]>>;
}

export interface ExportOptions {
  /** significant digits kept for S (1..17, default 4) */
  sDigits?: number;
  /** keep only the k largest S values (the rest read back as the minimum of S) */
  sTopK?: number;
}

export interface ImportedExploration {
  state: ExplorationState;
  meta: ExplorationMeta;
  results?: ExplorationResults;
  /** the version the file was written in (1 = migrated) */
  fromVersion: 1 | 2;
}

type SWire =
  | { encoding: 'dense'; digits: number; values: (number | null)[][] }
  | { encoding: 'sparse'; digits: number; fill: number | null; entries: [number, number, number | null][] };

// ---------------------------------------------------------------------------------------------------
// export

/** Serializes an exploration (version 2). Validates everything it writes; throws `bad-input`. */
export function exportExploration(
  state: ExplorationState,
  meta: ExplorationMeta,
  results?: ExplorationResults,
  opts: ExportOptions = {},
): string {
  const digits = opts.sDigits ?? 4;
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) {
    throw new KnError('bad-input', `exploration file: sDigits must be an integer in [1, 17], got ${digits}`);
  }
  if (opts.sTopK !== undefined && (!Number.isSafeInteger(opts.sTopK) || opts.sTopK < 0)) {
    throw new KnError('bad-input', `exploration file: sTopK must be a non-negative integer, got ${opts.sTopK}`);
  }
  const file: Record<string, unknown> = {
    format: EXPLORATION_FORMAT,
    version: EXPLORATION_VERSION,
    createdWith: meta.createdWith ?? CREATED_WITH,
    state: validateState(state, new Checker('exploration file'), 'state'),
    model: parseModelMeta(meta.model, new Checker('exploration file'), 'model'),
  };
  if (meta.fact !== undefined) file.fact = parseFact(meta.fact, new Checker('exploration file'), 'fact');
  if (results !== undefined) {
    const r: Record<string, unknown> = {
      queries: results.queries.map((q) => {
        const o: Record<string, unknown> = { lang: q.lang, prompt: q.prompt, target: q.target, before: q.before };
        if (q.correct !== undefined) o.correct = q.correct;
        if (q.completeness !== undefined) o.completeness = nanToNull(q.completeness);
        return o;
      }),
      selections: Object.fromEntries(
        Object.entries(results.selections).map(([k, sel]) => [
          k,
          sel && {
            neurons: sel.neurons.map(([l, j]) => [l, j]),
            scores: Array.from(sel.scores, (x) => (x === null ? null : nanToNull(x))),
            threshold: sel.threshold === null ? null : nanToNull(sel.threshold),
          },
        ]),
      ),
    };
    if (results.S !== undefined) r.S = encodeS(results.S, digits, opts.sTopK);
    r.layerDistribution = Array.from(results.layerDistribution);
    if (results.manipulations !== undefined) {
      const m: Record<string, unknown> = {};
      for (const [k, rows] of Object.entries(results.manipulations)) {
        m[k] = rows?.map((x) => ({
          lang: x.lang,
          before: x.before,
          after: x.after,
          deltaP: nanToNull(x.deltaP),
          correctBefore: x.correctBefore,
        }));
      }
      r.manipulations = m;
    }
    file.results = r;
  }
  const text = JSON.stringify(file);
  // what we write must be what we can read
  parseV2(JSON.parse(text), new Checker('exploration file'));
  if (text.length > FILE_LIMITS.maxChars) {
    throw new KnError(
      'bad-input',
      `exploration file: ${text.length} characters, at most ${FILE_LIMITS.maxChars} allowed (use sTopK to store fewer scores)`,
    );
  }
  return text;
}

function nanToNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Rounds to `digits` significant digits; non-finite → null. */
export function roundSignificant(x: number, digits: number): number | null {
  if (!Number.isFinite(x)) return null;
  if (x === 0) return 0;
  return Number(x.toPrecision(digits));
}

function encodeS(S: number[][], digits: number, topK?: number): SWire {
  if (topK === undefined) {
    return { encoding: 'dense', digits, values: S.map((row) => Array.from(row, (x) => roundSignificant(x, digits))) };
  }
  const all: [number, number, number][] = [];
  let min = Infinity;
  for (let l = 0; l < S.length; l++) {
    const row = S[l];
    for (let j = 0; j < row.length; j++) {
      const x = row[j];
      if (!Number.isFinite(x)) continue;
      if (x < min) min = x;
      all.push([l, j, x]);
    }
  }
  all.sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
  const kept = all.slice(0, topK).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    encoding: 'sparse',
    digits,
    fill: Number.isFinite(min) ? roundSignificant(min, digits) : null,
    entries: kept.map(([l, j, x]) => [l, j, roundSignificant(x, digits)]),
  };
}

// ---------------------------------------------------------------------------------------------------
// import

/** Parses and validates an exploration file (version 2, or version 1 migrated). Throws `bad-input`. */
export function importExploration(text: string): ImportedExploration {
  const c: Checker = new Checker('exploration file');
  if (typeof text !== 'string') c.fail('content', `must be text, got ${describe(text)}`);
  if (text.length > FILE_LIMITS.maxChars) {
    throw new KnError(
      'bad-input',
      `exploration file: too large (${text.length} characters, at most ${FILE_LIMITS.maxChars} allowed)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KnError('bad-input', `exploration file: not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new KnError('bad-input', `exploration file: must be a JSON object, got ${describe(json)}`);
  }
  const o = json as Record<string, unknown>;
  if (o.format !== EXPLORATION_FORMAT) {
    throw new KnError(
      'bad-input',
      `exploration file: format must be "${EXPLORATION_FORMAT}", got ${describe(o.format)} (is this an exploration export?)`,
    );
  }
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 1) {
    throw new KnError('bad-input', `exploration file: version must be a positive integer, got ${describe(o.version)}`);
  }
  if (o.version > EXPLORATION_VERSION) {
    throw new KnError(
      'bad-input',
      `exploration file: version ${o.version} is newer than this explorer reads (up to ${EXPLORATION_VERSION}); update the explorer`,
    );
  }
  if (o.version === 1) return { ...migrateV1(o, c), fromVersion: 1 };
  return { ...parseV2(o, c), fromVersion: 2 };
}

function parseV2(v: unknown, c: Checker): Omit<ImportedExploration, 'fromVersion'> {
  const o = c.object(
    v,
    '',
    ['format', 'version', 'createdWith', 'state', 'model', 'fact', 'results'],
    ['format', 'version', 'createdWith', 'state', 'model'],
    'file',
  );
  const createdWith = c.string(o.createdWith, 'createdWith', 256);
  const state = validateState(o.state, c, 'state');
  const model = parseModelMeta(o.model, c, 'model');
  const meta: ExplorationMeta = { createdWith, model };
  if (o.fact !== undefined) meta.fact = parseFact(o.fact, c, 'fact');
  const out: Omit<ImportedExploration, 'fromVersion'> = { state, meta };
  if (o.results !== undefined) out.results = parseResults(o.results, c, 'results', model);
  return out;
}

function parseModelMeta(v: unknown, c: Checker, path: string): ExplorationModelMeta {
  const keys = ['label', 'contentHash', 'architecture', 'numLayers', 'ffnSize'] as const;
  const o = c.object(v, path, keys, keys);
  const m: ExplorationModelMeta = {
    label: c.string(o.label, join(path, 'label'), FILE_LIMITS.maxLabel),
    contentHash: c.string(o.contentHash, join(path, 'contentHash'), 256),
    architecture: c.string(o.architecture, join(path, 'architecture'), 256),
    numLayers: c.integer(o.numLayers, join(path, 'numLayers'), 1, MAX_LAYERS),
    ffnSize: c.integer(o.ffnSize, join(path, 'ffnSize'), 1, MAX_FFN),
  };
  if (m.numLayers * m.ffnSize > FILE_LIMITS.maxScores) {
    c.fail(path, `numLayers × ffnSize = ${m.numLayers * m.ffnSize} is above ${FILE_LIMITS.maxScores}`);
  }
  return m;
}

function parseFact(v: unknown, c: Checker, path: string): ExplorationFact {
  const o = c.object(v, path, ['id', 'relation', 'labels'], ['labels']);
  const f = {} as ExplorationFact;
  if (o.id !== undefined) f.id = c.string(o.id, join(path, 'id'), 256);
  if (o.relation !== undefined) f.relation = c.string(o.relation, join(path, 'relation'), 256);
  f.labels = {};
  const labels = c.object(o.labels, join(path, 'labels'), null);
  const keys = Object.keys(labels);
  if (keys.length > 64) c.fail(join(path, 'labels'), `has ${keys.length} languages, at most 64 allowed`);
  for (const lang of keys) {
    const p = join(join(path, 'labels'), lang);
    c.string(lang, `${join(path, 'labels')} key`, 16, { pattern: LANG_PATTERN, what: 'a language code such as "en"' });
    const e = c.object(labels[lang], p, ['subject', 'object'], ['subject', 'object']);
    f.labels[lang] = {
      subject: c.string(e.subject, join(p, 'subject'), FILE_LIMITS.maxLabel),
      object: c.string(e.object, join(p, 'object'), FILE_LIMITS.maxLabel),
    };
  }
  return f;
}

function parseResults(v: unknown, c: Checker, path: string, model: ExplorationModelMeta): ExplorationResults {
  const o = c.object(
    v,
    path,
    ['queries', 'selections', 'S', 'layerDistribution', 'manipulations'],
    ['queries', 'selections', 'layerDistribution'],
  );
  const qp = join(path, 'queries');
  const queries = c.array(o.queries, qp, FILE_LIMITS.maxQueries).map((q, i) => {
    const p = join(qp, i);
    const e = c.object(q, p, ['lang', 'prompt', 'target', 'before', 'correct', 'completeness'], ['lang', 'prompt', 'target', 'before']);
    const out: ExplorationQuery = {
      lang: c.string(e.lang, join(p, 'lang'), 16, { pattern: LANG_PATTERN, what: 'a language code such as "en"' }),
      prompt: c.string(e.prompt, join(p, 'prompt'), FILE_LIMITS.maxPrompt),
      target: c.string(e.target, join(p, 'target'), FILE_LIMITS.maxLabel),
      before: c.number(e.before, join(p, 'before'), 0, 1),
    };
    if (e.correct !== undefined) out.correct = c.boolean(e.correct, join(p, 'correct'));
    if (e.completeness !== undefined) out.completeness = c.numberOrNaN(e.completeness, join(p, 'completeness'));
    return out;
  });

  const sp = join(path, 'selections');
  const sel = c.object(o.selections, sp, EXPLORATION_METHODS);
  const selections: Partial<Record<ExplorationMethod, StoredSelection>> = {};
  for (const m of EXPLORATION_METHODS) {
    if (sel[m] === undefined) continue;
    const p = join(sp, m);
    const e = c.object(sel[m], p, ['neurons', 'scores', 'threshold'], ['neurons', 'scores', 'threshold']);
    const neurons = c
      .array(e.neurons, join(p, 'neurons'), FILE_LIMITS.maxSelected)
      .map((n, i) => c.neuron(n, join(join(p, 'neurons'), i), model.numLayers, model.ffnSize));
    const scores = c
      .array(e.scores, join(p, 'scores'), FILE_LIMITS.maxSelected)
      .map((x, i) => (x === null ? null : c.number(x, join(join(p, 'scores'), i))));
    if (scores.length !== neurons.length) {
      c.fail(join(p, 'scores'), `has ${scores.length} entries for ${neurons.length} neurons`);
    }
    const threshold = e.threshold === null ? null : c.number(e.threshold, join(p, 'threshold'));
    selections[m] = { neurons, scores, threshold };
  }

  const res: ExplorationResults = { queries, selections, layerDistribution: [] };
  if (o.S !== undefined) res.S = parseS(o.S, c, join(path, 'S'), model);
  const dp = join(path, 'layerDistribution');
  const dist = c.array(o.layerDistribution, dp, MAX_LAYERS);
  if (dist.length !== model.numLayers) c.fail(dp, `has ${dist.length} entries for ${model.numLayers} layers`);
  res.layerDistribution = dist.map((x, i) => c.number(x, join(dp, i), 0, 1));
  const total = res.layerDistribution.reduce((a, b) => a + b, 0);
  if (total !== 0 && Math.abs(total - 1) > 1e-6) c.fail(dp, `must sum to 1 (or be all 0), sums to ${total}`);

  if (o.manipulations !== undefined) {
    const mp = join(path, 'manipulations');
    const man = c.object(o.manipulations, mp, EXPLORATION_METHODS);
    const manipulations: Partial<Record<ExplorationMethod, ProbRow[]>> = {};
    for (const m of EXPLORATION_METHODS) {
      if (man[m] === undefined) continue;
      manipulations[m] = parseProbRows(man[m], c, join(mp, m));
    }
    res.manipulations = manipulations;
  }
  return res;
}

export function parseProbRows(v: unknown, c: Checker, path: string): ProbRow[] {
  return c.array(v, path, FILE_LIMITS.maxRows).map((r, i) => {
    const p = join(path, i);
    const keys = ['lang', 'before', 'after', 'deltaP', 'correctBefore'] as const;
    const e = c.object(r, p, keys, keys.filter((k) => k !== 'deltaP'));
    if (!('deltaP' in e)) c.fail(join(p, 'deltaP'), 'is missing');
    return {
      lang: c.string(e.lang, join(p, 'lang'), 16, { pattern: LANG_PATTERN, what: 'a language code such as "en"' }),
      before: c.number(e.before, join(p, 'before'), 0, 1),
      after: c.number(e.after, join(p, 'after'), 0, 1),
      deltaP: c.numberOrNaN(e.deltaP, join(p, 'deltaP')),
      correctBefore: c.boolean(e.correctBefore, join(p, 'correctBefore')),
    };
  });
}

function parseS(v: unknown, c: Checker, path: string, model: ExplorationModelMeta): number[][] {
  const { numLayers, ffnSize } = model;
  const base = c.object(v, path, ['encoding', 'digits', 'values', 'fill', 'entries'], ['encoding', 'digits']);
  const enc = c.oneOf(base.encoding, join(path, 'encoding'), ['dense', 'sparse'] as const);
  c.integer(base.digits, join(path, 'digits'), 1, 17);
  if (enc === 'dense') {
    const o = c.object(v, path, ['encoding', 'digits', 'values'], ['values']);
    const rows = c.array(o.values, join(path, 'values'), MAX_LAYERS);
    if (rows.length !== numLayers) c.fail(join(path, 'values'), `has ${rows.length} layers, the model has ${numLayers}`);
    return rows.map((row, l) => {
      const p = join(join(path, 'values'), l);
      if (!Array.isArray(row)) c.fail(p, `must be an array, got ${describe(row)}`);
      if (row.length !== ffnSize) c.fail(p, `has ${row.length} neurons, the model has ${ffnSize} per layer`);
      const out = new Array<number>(ffnSize);
      for (let j = 0; j < ffnSize; j++) {
        const x = row[j];
        if (x === null) out[j] = NaN;
        else if (typeof x === 'number' && Number.isFinite(x)) out[j] = x;
        else c.fail(join(p, j), `must be a finite number or null, got ${describe(x)}`);
      }
      return out;
    });
  }
  const o = c.object(v, path, ['encoding', 'digits', 'fill', 'entries'], ['fill', 'entries']);
  const fill = c.numberOrNaN(o.fill, join(path, 'fill'));
  const out: number[][] = [];
  for (let l = 0; l < numLayers; l++) out.push(new Array<number>(ffnSize).fill(fill));
  const ep = join(path, 'entries');
  const entries = c.array(o.entries, ep, numLayers * ffnSize);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const p = join(ep, i);
    if (!Array.isArray(e) || e.length !== 3) c.fail(p, `must be [layer, index, value], got ${describe(e)}`);
    const [l, j] = c.neuron([e[0], e[1]], p, numLayers, ffnSize);
    out[l][j] = c.numberOrNaN(e[2], join(p, 2));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// version 1

function migrateV1(v: unknown, c: Checker): Omit<ImportedExploration, 'fromVersion'> {
  const o = c.object(
    v,
    '',
    ['format', 'version', 'state', 'numLayers', 'ffnSize', 'modelLabel', 'selected'],
    ['format', 'version', 'state', 'numLayers', 'ffnSize', 'selected'],
    'file',
  );
  const sp = 'state';
  const s = c.object(o.state, sp, ['model', 'fact', 'langs', 'method', 'settings', 'steps'], ['model', 'method', 'settings', 'steps']);
  const numLayers = c.integer(o.numLayers, 'numLayers', 1, MAX_LAYERS);
  const ffnSize = c.integer(o.ffnSize, 'ffnSize', 1, MAX_FFN);
  const settingsV1 = c.object(
    s.settings,
    join(sp, 'settings'),
    ['alpha1', 'alpha2', 'beta1', 'beta2', 'tau', 'norm', 'attrNorm'],
    ['alpha1', 'alpha2', 'beta1', 'beta2', 'tau'],
  );
  const d = defaultState();
  const candidate: Record<string, unknown> = {
    v: 1,
    model: s.model,
    ...(s.fact !== undefined ? { fact: s.fact } : {}),
    ...(s.langs !== undefined ? { langs: s.langs } : {}),
    method: s.method,
    // a v1 file was computed under the defaults of its day (Eq. 9 min-max per language, Eq. 5 per layer): keep them
    settings: { norm: 'language', attrNorm: 'layer', ...settingsV1 },
    steps: s.steps,
    baseline: 'pad',
  };
  const state = validateState(candidate, c, sp);
  if (s.langs !== undefined) validateLangs(s.langs, c, join(sp, 'langs'));
  const label =
    o.modelLabel !== undefined ? c.string(o.modelLabel, 'modelLabel', FILE_LIMITS.maxLabel) : modelLabel(validateModel(s.model, c, join(sp, 'model')));
  const neurons = c
    .array(o.selected, 'selected', FILE_LIMITS.maxSelected)
    .map((n, i) => c.neuron(n, join('selected', i), numLayers, ffnSize));
  const meta: ExplorationMeta = {
    createdWith: 'kn-exploration v1 (migrated)',
    model: { label, contentHash: '', architecture: '', numLayers, ffnSize },
  };
  const results: ExplorationResults = {
    queries: [],
    selections: { [state.method]: { neurons, scores: neurons.map(() => null), threshold: null } },
    layerDistribution: layerDistribution(neurons, numLayers),
  };
  return { state, meta, results };
}

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
 * Import trusts nothing: size, JSON, the format tag, the version, every field against one valibot schema
 * (schema.ts: types, ranges, string lengths, no control characters, no unknown fields), then the shapes
 * against the model's numLayers × ffnSize. All refusals are `KnError('bad-input', 'exploration file: <what is wrong>')`. Strings from a file must only
 * ever be rendered as text.
 */
import { KnError } from '../../shared/errors';
import { modelLabel } from '../../engine/source';
import { layerDistribution } from '../../engine/selection';
import type { ProbRow } from '../plots/charts';
import * as v from 'valibot';
import {
  MAX_FFN,
  MAX_LAYERS,
  arr,
  bool,
  byLang,
  describe,
  fail,
  fields,
  int,
  lang,
  neuron,
  num,
  numOrNaN,
  obj,
  parse,
  pathOf,
  str,
  tag,
  tagged,
  type Schema,
} from './schema';
import { EXPLORATION_METHODS, type ExplorationMethod, type ExplorationState, langsSchema, stateSchema, validateModel, validateState } from './state';

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

/**
 * The note shown when an exploration file opens beside a loaded model that is not the one it was made
 * with (null when it is the same model, or when no model is loaded): both models named. Same model: the
 * same content hash when both are known, else the same label and shape (files of version 1 store no hash).
 */
export function modelMismatchNote(file: ExplorationModelMeta, loaded: ExplorationModelMeta | null): string | null {
  if (!loaded) return null;
  const same =
    file.contentHash && loaded.contentHash
      ? file.contentHash === loaded.contentHash
      : file.label === loaded.label && file.numLayers === loaded.numLayers && file.ffnSize === loaded.ffnSize;
  if (same) return null;
  return `This exploration was made with ${file.label} (${file.numLayers} layers × ${file.ffnSize} neurons), not with the loaded model ${loaded.label} (${loaded.numLayers} × ${loaded.ffnSize}): what it shows are ${file.label}'s results, and reopening it live loads ${file.label}.`;
}

// ---------------------------------------------------------------------------------------------------
// export

/** Serializes an exploration (version 2). Validates everything it writes; throws `bad-input`. */
export function exportExploration(state: ExplorationState, meta: ExplorationMeta, results?: ExplorationResults, opts: ExportOptions = {}): string {
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
    state: validateState(state, WHERE, 'state'),
    model: parse(modelMetaSchema, meta.model, WHERE, 'model'),
  };
  if (meta.fact !== undefined) file.fact = parse(factSchema, meta.fact, WHERE, 'fact');
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
  parseV2(JSON.parse(text));
  if (text.length > FILE_LIMITS.maxChars) {
    throw new KnError('bad-input', `exploration file: ${text.length} characters, at most ${FILE_LIMITS.maxChars} allowed (use sTopK to store fewer scores)`);
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
  if (typeof text !== 'string') fail(WHERE, 'content', `must be text, got ${describe(text)}`);
  if (text.length > FILE_LIMITS.maxChars) {
    throw new KnError('bad-input', `exploration file: too large (${text.length} characters, at most ${FILE_LIMITS.maxChars} allowed)`);
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
    throw new KnError('bad-input', `exploration file: format must be "${EXPLORATION_FORMAT}", got ${describe(o.format)} (is this an exploration export?)`);
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
  if (o.version === 1) return { ...migrateV1(o), fromVersion: 1 };
  return { ...parseV2(o), fromVersion: 2 };
}

const WHERE = 'exploration file';

// ---------------------------------------------------------------------------------------------------
// the schema (valibot, via schema.ts); then the shapes against the model (checkAgainstModel)

const modelMetaSchema: Schema<ExplorationModelMeta> = v.pipe(
  obj({
    label: str(FILE_LIMITS.maxLabel),
    contentHash: str(256),
    architecture: str(256),
    numLayers: int(1, MAX_LAYERS),
    ffnSize: int(1, MAX_FFN),
  }),
  v.check(
    (m) => m.numLayers * m.ffnSize <= FILE_LIMITS.maxScores,
    (i) => `numLayers × ffnSize = ${i.input.numLayers * i.input.ffnSize} is above ${FILE_LIMITS.maxScores}`,
  ),
);

const factSchema: Schema<ExplorationFact> = obj({
  id: v.optional(str(256)),
  relation: v.optional(str(256)),
  labels: byLang(obj({ subject: str(FILE_LIMITS.maxLabel), object: str(FILE_LIMITS.maxLabel) })),
});

const querySchema: Schema<ExplorationQuery> = obj({
  lang: lang(),
  prompt: str(FILE_LIMITS.maxPrompt),
  target: str(FILE_LIMITS.maxLabel),
  before: num(0, 1),
  correct: v.optional(bool()),
  completeness: v.optional(numOrNaN()),
});

const selectionSchema: Schema<StoredSelection> = obj({
  neurons: arr(neuron(), FILE_LIMITS.maxSelected),
  scores: arr(v.nullable(num()), FILE_LIMITS.maxSelected),
  threshold: v.nullable(num()),
});

export const probRowSchema: Schema<ProbRow> = obj({
  lang: lang(),
  before: num(0, 1),
  after: num(0, 1),
  deltaP: numOrNaN(),
  correctBefore: bool(),
});

/** One optional entry per method. */
const perMethod = <T>(s: Schema<T>) =>
  obj(Object.fromEntries(EXPLORATION_METHODS.map((m) => [m, v.optional(s)]))) as unknown as Schema<Partial<Record<ExplorationMethod, T>>>;

const sparseEntry = v.pipe(
  v.custom<unknown[]>(
    (x) => Array.isArray(x) && x.length === 3,
    (i) => `must be [layer, index, value], got ${describe(i.input)}`,
  ),
  v.strictTuple([int(0, MAX_LAYERS - 1), int(0, MAX_FFN - 1), numOrNaN()]),
);

const sSchema: Schema<SRead> = tagged('encoding', [
  fields({ encoding: tag('dense'), digits: int(1, 17), values: arr(arr(numOrNaN(), MAX_FFN), MAX_LAYERS) }),
  fields({ encoding: tag('sparse'), digits: int(1, 17), fill: numOrNaN(), entries: arr(sparseEntry, FILE_LIMITS.maxScores) }),
]);

type SRead =
  | { encoding: 'dense'; digits: number; values: number[][] }
  | { encoding: 'sparse'; digits: number; fill: number; entries: [number, number, number][] };

const resultsSchema = obj({
  queries: arr(querySchema, FILE_LIMITS.maxQueries),
  selections: perMethod(selectionSchema),
  S: v.optional(sSchema),
  layerDistribution: arr(num(0, 1), MAX_LAYERS),
  manipulations: v.optional(perMethod(arr(probRowSchema, FILE_LIMITS.maxRows))),
});

const fileSchema = obj({
  format: v.literal(EXPLORATION_FORMAT),
  version: v.literal(EXPLORATION_VERSION),
  createdWith: str(256),
  state: stateSchema,
  model: modelMetaSchema,
  fact: v.optional(factSchema),
  results: v.optional(resultsSchema),
});

function parseV2(x: unknown): Omit<ImportedExploration, 'fromVersion'> {
  const f = parse(fileSchema, x, WHERE, '', 'file');
  const meta: ExplorationMeta = { createdWith: f.createdWith, model: f.model };
  if (f.fact !== undefined) meta.fact = f.fact;
  const out: Omit<ImportedExploration, 'fromVersion'> = { state: f.state, meta };
  if (f.results !== undefined) {
    const { S, ...r } = f.results;
    checkAgainstModel(r, f.model);
    out.results = { ...r, ...(S !== undefined ? { S: readS(S, f.model) } : {}) };
  }
  return out;
}

/** What the schema cannot see: the neurons, S and the layer distribution against the model's shape. */
function checkAgainstModel(r: Omit<ExplorationResults, 'S'>, model: ExplorationModelMeta) {
  for (const [m, sel] of Object.entries(r.selections)) {
    if (!sel) continue;
    const p = pathOf('results.selections', [m]);
    sel.neurons.forEach((n, i) => checkNeuron(n, pathOf(p, ['neurons', i]), model));
    if (sel.scores.length !== sel.neurons.length) fail(WHERE, `${p}.scores`, `has ${sel.scores.length} entries for ${sel.neurons.length} neurons`);
  }
  const dp = 'results.layerDistribution';
  if (r.layerDistribution.length !== model.numLayers) fail(WHERE, dp, `has ${r.layerDistribution.length} entries for ${model.numLayers} layers`);
  const total = r.layerDistribution.reduce((a, b) => a + b, 0);
  if (total !== 0 && Math.abs(total - 1) > 1e-6) fail(WHERE, dp, `must sum to 1 (or be all 0), sums to ${total}`);
}

function checkNeuron([l, j]: readonly number[], path: string, model: ExplorationModelMeta) {
  if (l >= model.numLayers) fail(WHERE, path, `layer ${l} is out of range (the model has ${model.numLayers} layers)`);
  if (j >= model.ffnSize) fail(WHERE, path, `neuron index ${j} is out of range (${model.ffnSize} neurons per layer)`);
}

function readS(s: SRead, model: ExplorationModelMeta): number[][] {
  const { numLayers, ffnSize } = model;
  if (s.encoding === 'dense') {
    const p = 'results.S.values';
    if (s.values.length !== numLayers) fail(WHERE, p, `has ${s.values.length} layers, the model has ${numLayers}`);
    s.values.forEach((row, l) => {
      if (row.length !== ffnSize) fail(WHERE, pathOf(p, [l]), `has ${row.length} neurons, the model has ${ffnSize} per layer`);
    });
    return s.values;
  }
  if (s.entries.length > numLayers * ffnSize) fail(WHERE, 'results.S.entries', `has ${s.entries.length} entries, at most ${numLayers * ffnSize} allowed`);
  const out: number[][] = [];
  for (let l = 0; l < numLayers; l++) out.push(new Array<number>(ffnSize).fill(s.fill));
  s.entries.forEach(([l, j, x], i) => {
    checkNeuron([l, j], pathOf('results.S.entries', [i]), model);
    out[l][j] = x;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// version 1

const anyValue = v.custom<unknown>((x) => x !== undefined);

const v1Schema = obj({
  format: v.literal(EXPLORATION_FORMAT),
  version: v.literal(1),
  state: obj({
    model: anyValue,
    fact: v.optional(anyValue),
    langs: v.optional(anyValue),
    method: anyValue,
    settings: obj({
      alpha1: anyValue,
      alpha2: anyValue,
      beta1: anyValue,
      beta2: anyValue,
      tau: anyValue,
      norm: v.optional(anyValue),
      attrNorm: v.optional(anyValue),
    }),
    steps: anyValue,
  }),
  numLayers: int(1, MAX_LAYERS),
  ffnSize: int(1, MAX_FFN),
  modelLabel: v.optional(str(FILE_LIMITS.maxLabel)),
  selected: arr(neuron(), FILE_LIMITS.maxSelected),
});

function migrateV1(x: unknown): Omit<ImportedExploration, 'fromVersion'> {
  const o = parse(v1Schema, x, WHERE, '', 'file');
  const s = o.state;
  const candidate: Record<string, unknown> = {
    v: 1,
    model: s.model,
    ...(s.fact !== undefined ? { fact: s.fact } : {}),
    ...(s.langs !== undefined ? { langs: s.langs } : {}),
    method: s.method,
    // a v1 file was computed under the defaults of its day (Eq. 9 min-max per language, Eq. 5 per layer): keep them
    settings: { norm: 'language', attrNorm: 'layer', ...s.settings },
    steps: s.steps,
    baseline: 'pad',
  };
  const state = validateState(candidate, WHERE, 'state');
  if (s.langs !== undefined) parse(langsSchema, s.langs, WHERE, 'state.langs');
  const label = o.modelLabel ?? modelLabel(validateModel(s.model, WHERE, 'state.model'));
  const { numLayers, ffnSize } = o;
  const meta: ExplorationMeta = {
    createdWith: 'kn-exploration v1 (migrated)',
    model: { label, contentHash: '', architecture: '', numLayers, ffnSize },
  };
  o.selected.forEach((n, i) => checkNeuron(n, pathOf('selected', [i]), meta.model));
  const neurons = o.selected.map(([l, j]) => [l, j] as [number, number]);
  const results: ExplorationResults = {
    queries: [],
    selections: { [state.method]: { neurons, scores: neurons.map(() => null), threshold: null } },
    layerDistribution: layerDistribution(neurons, numLayers),
  };
  return { state, meta, results };
}

/**
 * The explorer's shareable state and its URL form.
 *
 * Link format: `#z=<base64url(raw DEFLATE(UTF-8 JSON))>` (fflate; RFC 4648 §5 alphabet, no padding); the
 * uncompressed `#s=<base64url(UTF-8 JSON)>` of earlier versions still opens. The JSON is the state with
 * its keys in a fixed order and absent optional fields left out, so `encodeState` is canonical and
 * `decodeState(encodeState(s))` deep-equals `s` exactly (numbers survive JSON exactly).
 *
 * `decodeState` trusts nothing: it checks the link length, the base64url alphabet, the inflated size, the
 * JSON, and every field of the state against one valibot schema (schema.ts: types, ranges, known enums, no
 * unknown fields), and throws
 * `KnError('bad-input', 'link: <field> <problem>')` on anything malformed. `encodeState` runs the same
 * validation, so the app can never produce a link it cannot open.
 */
import { KnError } from '../../shared/errors';
import {
  BASELINES,
  EDIT_NEURONS_MAX,
  FACTOR_MAX,
  FACTOR_MIN,
  LAMBDA_MAX,
  QUADRATURES,
  STEPS_MAX,
  STEPS_MIN,
  TAU_MAX,
  TAU_MIN,
  TEACH_LR_MAX,
  TRAIN_STEPS_MAX,
  type Baseline,
  type Quadrature,
} from '../../engine/rules';
import type { MatriceSettings } from '../../engine/selection';
import { DEFAULT_BASELINE, DEFAULT_STEPS, defaultSettings } from '../explorer/settings';
import { HUB_REPO_PATTERN } from '../../engine/source';
import { METHODS, type Method } from '../../engine/selection';
import type { EditSpec } from '../../worker/api';
import * as v from 'valibot';
import { deflateSync, inflateSync } from 'fflate';
import { arr, bool, clip, describe, fail, fields, int, lang, neuron, num, obj, oneOf, parse, str, tag, tagged, type Schema } from './schema';

/** The engine's methods (engine/selection/methods.ts), as links and files name them. */
export type ExplorationMethod = Method;
export const EXPLORATION_METHODS: readonly ExplorationMethod[] = METHODS;

export type ExplorationModel = { type: 'bundled'; name: string } | { type: 'url'; url: string } | { type: 'hub'; repo: string; revision?: string };

/** The engine's MaTrice settings, as a link carries them. */
export type ExplorationSettings = MatriceSettings;

export interface ExplorationToggles {
  /** 'selected': the method's selection; 'manual': the neurons listed here */
  set: 'selected' | 'manual';
  neurons: [number, number][];
  /** activation scale: 0 suppresses, 2 enhances (docs/METHOD.md "Manipulation") */
  factor: number;
}

/**
 * An edit of the model the exploration was made with (src/shared/edit-spec.ts EditSpec): erase / update from
 * English, or a taught fact (its neurons trained again on restore, only when the user asks).
 */
export type ExplorationEdit = EditSpec;

export interface ExplorationState {
  v: 1;
  model: ExplorationModel;
  /** the fact's id, e.g. "P36/0" (relation / index in RML-LAMA) */
  fact?: string;
  langs?: string[];
  method: ExplorationMethod;
  settings: ExplorationSettings;
  /** M, the quadrature points of the integrated gradients */
  steps: number;
  baseline: Baseline;
  /** the IG quadrature; absent = LEGACY_QUADRATURE (riemann-right), what every link before the option used */
  quadrature?: Quadrature;
  toggles?: ExplorationToggles;
  compare?: boolean;
  /** edits of the model, oldest first (a reload re-applies erase/update and asks before re-teaching) */
  edits?: ExplorationEdit[];
  /** the neuron open in the Atlas view, [layer, index] (a link made there reopens its page; absent in older files) */
  neuron?: [number, number];
}

/** Limits enforced on links (and on the state inside exploration files). */
export const STATE_LIMITS = Object.freeze({
  /** characters of the whole hash, `#z=…` included */
  maxLinkLength: 262_144,
  maxToggledNeurons: 10_000,
  maxLangs: 64,
  maxFactLength: 256,
  maxUrlLength: 2048,
  maxNameLength: 256,
  /** M, the IG steps: the engine's range (engine/rules/index.ts) */
  minSteps: STEPS_MIN,
  maxSteps: STEPS_MAX,
  minFactor: FACTOR_MIN,
  maxFactor: FACTOR_MAX,
  /** |α|, |β| bound: generous, but keeps the scores finite */
  maxWeight: 1e6,
  maxEdits: 32,
  maxEditNeurons: EDIT_NEURONS_MAX,
  maxLabelLength: 200,
  /** the engine's λ range (engine/rules LAMBDA_MAX) */
  maxLambda: LAMBDA_MAX,
  /** bytes of a compressed link's JSON once inflated */
  maxStateBytes: 4 * 1024 * 1024,
});

/** the uncompressed link of earlier versions, still read */
const HASH_KEY = 's';
/** the compressed link (raw DEFLATE) written now */
const ZIP_KEY = 'z';

export function defaultState(): ExplorationState {
  return {
    v: 1,
    model: { type: 'bundled', name: 'demo' },
    method: 'matrice',
    settings: defaultSettings(),
    steps: DEFAULT_STEPS,
    baseline: DEFAULT_BASELINE,
  };
}

/**
 * `#z=…` for `location.hash`: the canonical JSON, deflated (fflate, raw DEFLATE) and base64url-encoded.
 * Throws `bad-input` (naming the field) if the state is invalid.
 */
export function encodeState(s: ExplorationState): string {
  const canonical = validateState(s, 'state');
  const json = new TextEncoder().encode(JSON.stringify(canonical));
  const hash = `#${ZIP_KEY}=${base64urlEncode(deflateSync(json, { level: 9 }))}`;
  if (hash.length > STATE_LIMITS.maxLinkLength) {
    throw new KnError(
      'bad-input',
      `state: the link would be ${hash.length} characters long, at most ${STATE_LIMITS.maxLinkLength} allowed (toggle fewer neurons)`,
    );
  }
  return hash;
}

/** The uncompressed form `#s=<base64url(JSON)>` of earlier versions (still read by decodeState). */
export function encodeStateUncompressed(s: ExplorationState): string {
  return `#${HASH_KEY}=${base64urlEncode(new TextEncoder().encode(JSON.stringify(validateState(s, 'state'))))}`;
}

/**
 * Reads a state from `location.hash` (with or without the leading `#`; a whole URL works too): `z=`
 * (compressed) or `s=` (the uncompressed links of earlier versions). Other `&`-separated parameters in
 * the hash are ignored. Throws `KnError('bad-input', 'link: …')`.
 */
export function decodeState(hash: string): ExplorationState {
  const where = 'link';
  if (typeof hash !== 'string') fail(where, 'hash', `must be a string, got ${describe(hash)}`);
  if (hash.length > STATE_LIMITS.maxLinkLength) {
    fail(where, 'hash', `is ${hash.length} characters long, at most ${STATE_LIMITS.maxLinkLength} allowed`);
  }
  const at = hash.indexOf('#');
  const h = at >= 0 ? hash.slice(at + 1) : hash;
  const parts = h.split('&');
  const part = parts.find((p) => p.startsWith(`${ZIP_KEY}=`) || p.startsWith(`${HASH_KEY}=`));
  if (part === undefined) fail(where, 'hash', `has no "${ZIP_KEY}=" or "${HASH_KEY}=" parameter`);
  const key = part.slice(0, part.indexOf('='));
  const payload = part.slice(key.length + 1);
  if (payload.length === 0) fail(where, key, 'is empty');
  let bytes: Uint8Array;
  try {
    bytes = base64urlDecode(payload);
  } catch (e) {
    fail(where, key, `is not valid base64url (${(e as Error).message})`);
  }
  if (key === ZIP_KEY) {
    let out: Uint8Array;
    try {
      // one byte more than allowed: a longer output (a "zip bomb") is cut there and refused below
      out = inflateSync(bytes, { out: new Uint8Array(STATE_LIMITS.maxStateBytes + 1) });
    } catch (e) {
      fail(where, key, `is not valid compressed data (${(e as Error).message})`);
    }
    if (out.length > STATE_LIMITS.maxStateBytes) fail(where, key, `decompresses to more than ${STATE_LIMITS.maxStateBytes} bytes`);
    bytes = out;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(where, key, 'is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(where, key, `is not valid JSON (${(e as Error).message})`);
  }
  return parse(stateSchema, json, where);
}

/**
 * Validates an untrusted value as an ExplorationState and returns a fresh canonical copy (fixed key order,
 * absent optionals omitted). `where` names the container in messages ("link", "exploration file"), `root`
 * prefixes field names (e.g. "state" inside a file).
 */
export function validateState(x: unknown, where: string, root = ''): ExplorationState {
  return parse(stateSchema, x, where, root);
}

export function validateModel(x: unknown, where: string, root = 'model'): ExplorationModel {
  return parse(modelSchema, x, where, root);
}

// ---------------------------------------------------------------------------------------------------
// the schema (valibot, via schema.ts)

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const REVISION_PATTERN = /^[A-Za-z0-9._/-]+$/;
const noDotDot = v.check((x: string) => !x.includes('..'), 'must not contain ".."');

export const modelSchema: Schema<ExplorationModel> = tagged('type', [
  fields({
    type: tag('bundled'),
    name: v.pipe(str(STATE_LIMITS.maxNameLength, { pattern: NAME_PATTERN, what: 'a folder name of letters, digits, ".", "_" and "-"' }), noDotDot),
  }),
  fields({
    type: tag('url'),
    url: v.pipe(
      str(STATE_LIMITS.maxUrlLength, { nonEmpty: true }),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        let parsed: URL;
        try {
          parsed = new URL(dataset.value);
        } catch {
          addIssue({ message: `is not an absolute URL: "${clip(dataset.value, 60)}"` });
          return;
        }
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') addIssue({ message: `must be an http(s) URL, got the scheme ${parsed.protocol}` });
      }),
    ),
  }),
  fields({
    type: tag('hub'),
    repo: v.pipe(str(STATE_LIMITS.maxNameLength, { pattern: HUB_REPO_PATTERN, what: 'a Hugging Face repo id such as "org/name"' }), noDotDot),
    revision: v.optional(v.pipe(str(STATE_LIMITS.maxNameLength, { pattern: REVISION_PATTERN, what: 'a branch, tag or commit' }), noDotDot)),
  }),
]);

export const langsSchema = v.pipe(
  arr(lang(), STATE_LIMITS.maxLangs),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    dataset.value.forEach((l, i) => {
      if (seen.has(l)) addIssue({ message: `repeats the language "${l}"`, path: [{ type: 'array', origin: 'value', input: dataset.value, key: i, value: l }] });
      seen.add(l);
    });
  }),
);

const w = STATE_LIMITS.maxWeight;
export const settingsSchema: Schema<ExplorationSettings> = obj({
  alpha1: num(-w, w),
  alpha2: num(-w, w),
  beta1: num(-w, w),
  beta2: num(-w, w),
  tau: num(TAU_MIN, TAU_MAX),
  norm: oneOf(['language', 'neuron', 'scale'] as const),
  attrNorm: oneOf(['layer', 'global', 'none'] as const),
});

export const togglesSchema: Schema<ExplorationToggles> = obj({
  set: oneOf(['selected', 'manual'] as const),
  neurons: arr(neuron(), STATE_LIMITS.maxToggledNeurons),
  factor: num(STATE_LIMITS.minFactor, STATE_LIMITS.maxFactor),
});

const factIdSchema = str(STATE_LIMITS.maxFactLength, { nonEmpty: true });
const editNeurons = arr(neuron(), STATE_LIMITS.maxEditNeurons);
const label = str(STATE_LIMITS.maxLabelLength, { nonEmpty: true });
export const editSchema: Schema<ExplorationEdit> = tagged('kind', [
  fields({ kind: tag('erase'), fact: factIdSchema, neurons: editNeurons }),
  fields({
    kind: tag('update'),
    fact: factIdSchema,
    neurons: editNeurons,
    newObject: label,
    lambda1: num(0, STATE_LIMITS.maxLambda),
    lambda2: num(0, STATE_LIMITS.maxLambda),
    lang: v.optional(lang()),
  }),
  fields({
    kind: tag('inject'),
    fact: v.union(
      [factIdSchema, obj({ relation: str(16, { nonEmpty: true }), lang: lang(), subject: label, object: label })],
      (i) => `must be a fact id or a typed fact {relation, lang, subject, object}, got ${describe(i.input)}`,
    ),
    neurons: editNeurons,
    lang: lang(),
    trainSteps: int(1, TRAIN_STEPS_MAX),
    lr: v.pipe(
      num(0, TEACH_LR_MAX),
      v.check((x: number) => x > 0, 'must be above 0'),
    ),
  }),
]);

export const stateSchema: Schema<ExplorationState> = obj({
  v: v.literal(1, (i) => `must be 1 (the only state version), got ${describe(i.input)}`),
  model: modelSchema,
  fact: v.optional(str(STATE_LIMITS.maxFactLength, { nonEmpty: true })),
  langs: v.optional(langsSchema),
  method: oneOf(EXPLORATION_METHODS),
  settings: settingsSchema,
  steps: int(STATE_LIMITS.minSteps, STATE_LIMITS.maxSteps),
  baseline: oneOf(BASELINES),
  quadrature: v.optional(oneOf(QUADRATURES)),
  toggles: v.optional(togglesSchema),
  compare: v.optional(bool()),
  edits: v.optional(arr(editSchema, STATE_LIMITS.maxEdits)),
  neuron: v.optional(neuron()),
}) as Schema<ExplorationState>;

// ---------------------------------------------------------------------------------------------------
// base64url (RFC 4648 §5), strict: only the URL-safe alphabet, no padding required, none of "+/" allowed

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

export function base64urlDecode(s: string): Uint8Array {
  let str = s;
  while (str.endsWith('=')) str = str.slice(0, -1);
  if (str.length % 4 === 1) throw new Error(`length ${s.length} is impossible`);
  const out = new Uint8Array(Math.floor((str.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    const d = code < 128 ? LOOKUP[code] : -1;
    if (d < 0) throw new Error(`unexpected character "${str[i] === undefined ? '' : str[i]}" at ${i}`);
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/**
 * The explorer's shareable state and its URL form.
 *
 * Link format: `#s=<base64url(UTF-8 JSON)>` (RFC 4648 §5 alphabet, no padding). The JSON is the state
 * with its keys in a fixed order and absent optional fields left out, so `encodeState` is canonical and
 * `decodeState(encodeState(s))` deep-equals `s` exactly (numbers survive JSON exactly).
 *
 * `decodeState` trusts nothing: it checks the link length, the base64url alphabet, the JSON, and every
 * field of the state (types, ranges, known enums, no unknown fields), and throws
 * `KnError('bad-input', 'link: <field> <problem>')` on anything malformed. `encodeState` runs the same
 * validation, so the app can never produce a link it cannot open.
 */
import { KnError } from '../../engine/errors';
import type { MatriceSettings } from '../../engine/matrice/scoring';
import { DEFAULT_BASELINE, DEFAULT_STEPS, defaultSettings } from '../explorer/settings';
import { HUB_REPO_PATTERN } from '../../engine/model-id';
import { METHODS, type Method } from '../../engine/matrice/methods';
import { Checker, LANG_PATTERN, describe, join } from './validate';

/** The engine's methods (engine/matrice/methods.ts), as links and files name them. */
export type ExplorationMethod = Method;
export const EXPLORATION_METHODS: readonly ExplorationMethod[] = METHODS;

export type ExplorationModel =
  | { type: 'bundled'; name: string }
  | { type: 'url'; url: string }
  | { type: 'hub'; repo: string; revision?: string };

/** The engine's MaTrice settings, as a link carries them. */
export type ExplorationSettings = MatriceSettings;

export interface ExplorationToggles {
  /** 'selected': the method's selection; 'manual': the neurons listed here */
  set: 'selected' | 'manual';
  neurons: [number, number][];
  /** activation scale: 0 suppresses, 2 enhances (docs/METHOD.md "Manipulation") */
  factor: number;
}

export interface ExplorationState {
  v: 1;
  model: ExplorationModel;
  /** the fact's id, e.g. "P36/0" (relation / index in RML-LAMA) */
  fact?: string;
  langs?: string[];
  method: ExplorationMethod;
  settings: ExplorationSettings;
  /** Riemann steps M of the integrated gradients */
  steps: number;
  baseline: 'pad' | 'zero';
  toggles?: ExplorationToggles;
  compare?: boolean;
}

/** Limits enforced on links (and on the state inside exploration files). */
export const STATE_LIMITS = Object.freeze({
  /** characters of the whole hash, `#s=…` included */
  maxLinkLength: 262_144,
  maxToggledNeurons: 10_000,
  maxLangs: 64,
  maxFactLength: 256,
  maxUrlLength: 2048,
  maxNameLength: 256,
  minSteps: 1,
  maxSteps: 1000,
  minFactor: -10,
  maxFactor: 10,
  /** |α|, |β| bound: generous, but keeps the scores finite */
  maxWeight: 1e6,
});

const HASH_KEY = 's';

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

/** `#s=…` for `location.hash`. Throws `bad-input` (naming the field) if the state is invalid. */
export function encodeState(s: ExplorationState): string {
  const canonical = validateState(s, new Checker('state'), '');
  const hash = `#${HASH_KEY}=${base64urlEncode(new TextEncoder().encode(JSON.stringify(canonical)))}`;
  if (hash.length > STATE_LIMITS.maxLinkLength) {
    throw new KnError(
      'bad-input',
      `state: the link would be ${hash.length} characters long, at most ${STATE_LIMITS.maxLinkLength} allowed (toggle fewer neurons)`,
    );
  }
  return hash;
}

/**
 * Reads a state from `location.hash` (with or without the leading `#`; a whole URL works too). Other
 * `&`-separated parameters in the hash are ignored. Throws `KnError('bad-input', 'link: …')`.
 */
export function decodeState(hash: string): ExplorationState {
  const c: Checker = new Checker('link');
  if (typeof hash !== 'string') c.fail('hash', `must be a string, got ${describe(hash)}`);
  if (hash.length > STATE_LIMITS.maxLinkLength) {
    c.fail('hash', `is ${hash.length} characters long, at most ${STATE_LIMITS.maxLinkLength} allowed`);
  }
  const at = hash.indexOf('#');
  const h = at >= 0 ? hash.slice(at + 1) : hash;
  const part = h.split('&').find((p) => p.startsWith(`${HASH_KEY}=`));
  if (part === undefined) c.fail('hash', `has no "${HASH_KEY}=" parameter`);
  const payload = part.slice(HASH_KEY.length + 1);
  if (payload.length === 0) c.fail(HASH_KEY, 'is empty');
  let bytes: Uint8Array;
  try {
    bytes = base64urlDecode(payload);
  } catch (e) {
    c.fail(HASH_KEY, `is not valid base64url (${(e as Error).message})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    c.fail(HASH_KEY, 'is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    c.fail(HASH_KEY, `is not valid JSON (${(e as Error).message})`);
  }
  return validateState(json, c, '');
}

/**
 * Validates an untrusted value as an ExplorationState and returns a fresh canonical copy (fixed key order,
 * absent optionals omitted). `path` prefixes field names in messages (e.g. "state" inside a file).
 */
export function validateState(v: unknown, c: Checker, path: string): ExplorationState {
  const o = c.object(
    v,
    path,
    ['v', 'model', 'fact', 'langs', 'method', 'settings', 'steps', 'baseline', 'toggles', 'compare'],
    ['v', 'model', 'method', 'settings', 'steps', 'baseline'],
  );
  if (o.v !== 1) c.fail(join(path, 'v'), `must be 1 (the only state version), got ${describe(o.v)}`);
  // rebuild in canonical key order
  const res = { v: 1, model: validateModel(o.model, c, join(path, 'model')) } as ExplorationState;
  if (o.fact !== undefined) {
    res.fact = c.string(o.fact, join(path, 'fact'), STATE_LIMITS.maxFactLength, { nonEmpty: true });
  }
  if (o.langs !== undefined) res.langs = validateLangs(o.langs, c, join(path, 'langs'));
  res.method = c.oneOf(o.method, join(path, 'method'), EXPLORATION_METHODS);
  res.settings = validateSettings(o.settings, c, join(path, 'settings'));
  res.steps = c.integer(o.steps, join(path, 'steps'), STATE_LIMITS.minSteps, STATE_LIMITS.maxSteps);
  res.baseline = c.oneOf(o.baseline, join(path, 'baseline'), ['pad', 'zero'] as const);
  if (o.toggles !== undefined) res.toggles = validateToggles(o.toggles, c, join(path, 'toggles'));
  if (o.compare !== undefined) res.compare = c.boolean(o.compare, join(path, 'compare'));
  return res;
}

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const REVISION_PATTERN = /^[A-Za-z0-9._/-]+$/;

export function validateModel(v: unknown, c: Checker, path: string): ExplorationModel {
  const base = c.object(v, path, null, ['type']);
  const type = c.oneOf(base.type, join(path, 'type'), ['bundled', 'url', 'hub'] as const);
  if (type === 'bundled') {
    const o = c.object(v, path, ['type', 'name'], ['name']);
    const name = c.string(o.name, join(path, 'name'), STATE_LIMITS.maxNameLength, {
      pattern: NAME_PATTERN,
      what: 'a folder name of letters, digits, ".", "_" and "-"',
    });
    if (name.includes('..')) c.fail(join(path, 'name'), 'must not contain ".."');
    return { type, name };
  }
  if (type === 'url') {
    const o = c.object(v, path, ['type', 'url'], ['url']);
    const url = c.string(o.url, join(path, 'url'), STATE_LIMITS.maxUrlLength, { nonEmpty: true });
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      c.fail(join(path, 'url'), `is not an absolute URL: "${url.slice(0, 60)}"`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      c.fail(join(path, 'url'), `must be an http(s) URL, got the scheme ${parsed.protocol}`);
    }
    return { type, url };
  }
  const o = c.object(v, path, ['type', 'repo', 'revision'], ['repo']);
  const repo = c.string(o.repo, join(path, 'repo'), STATE_LIMITS.maxNameLength, {
    pattern: HUB_REPO_PATTERN,
    what: 'a Hugging Face repo id such as "org/name"',
  });
  if (repo.includes('..')) c.fail(join(path, 'repo'), 'must not contain ".."');
  const m: ExplorationModel = { type, repo };
  if (o.revision !== undefined) {
    const revision = c.string(o.revision, join(path, 'revision'), STATE_LIMITS.maxNameLength, {
      pattern: REVISION_PATTERN,
      what: 'a branch, tag or commit',
    });
    if (revision.includes('..')) c.fail(join(path, 'revision'), 'must not contain ".."');
    m.revision = revision;
  }
  return m;
}

export function validateLangs(v: unknown, c: Checker, path: string): string[] {
  const arr = c.array(v, path, STATE_LIMITS.maxLangs);
  const seen = new Set<string>();
  return arr.map((x, i) => {
    const lang = c.string(x, join(path, i), 16, { pattern: LANG_PATTERN, what: 'a language code such as "en"' });
    if (seen.has(lang)) c.fail(join(path, i), `repeats the language "${lang}"`);
    seen.add(lang);
    return lang;
  });
}

export function validateSettings(v: unknown, c: Checker, path: string): ExplorationSettings {
  const keys = ['alpha1', 'alpha2', 'beta1', 'beta2', 'tau', 'norm', 'attrNorm'] as const;
  const o = c.object(v, path, keys, keys);
  const w = STATE_LIMITS.maxWeight;
  return {
    alpha1: c.number(o.alpha1, join(path, 'alpha1'), -w, w),
    alpha2: c.number(o.alpha2, join(path, 'alpha2'), -w, w),
    beta1: c.number(o.beta1, join(path, 'beta1'), -w, w),
    beta2: c.number(o.beta2, join(path, 'beta2'), -w, w),
    tau: c.number(o.tau, join(path, 'tau'), 0, 1),
    norm: c.oneOf(o.norm, join(path, 'norm'), ['language', 'neuron', 'scale'] as const),
    attrNorm: c.oneOf(o.attrNorm, join(path, 'attrNorm'), ['layer', 'global', 'none'] as const),
  };
}

export function validateToggles(v: unknown, c: Checker, path: string): ExplorationToggles {
  const o = c.object(v, path, ['set', 'neurons', 'factor'], ['set', 'neurons', 'factor']);
  const set = c.oneOf(o.set, join(path, 'set'), ['selected', 'manual'] as const);
  const arr = c.array(o.neurons, join(path, 'neurons'), STATE_LIMITS.maxToggledNeurons);
  const neurons = arr.map((n, i) => c.neuron(n, join(join(path, 'neurons'), i)));
  const factor = c.number(o.factor, join(path, 'factor'), STATE_LIMITS.minFactor, STATE_LIMITS.maxFactor);
  return { set, neurons, factor };
}

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

/**
 * The schema helpers of the share link (state.ts) and the exploration file (exploration-file.ts), on
 * valibot. Every refusal is `KnError('bad-input', '<where>: <field> <problem>')`, where `<where>` is e.g.
 * "link" or "exploration file" and `<field>` a dotted path such as `state.settings.tau` or
 * `results.queries[3].before` (`parse` turns valibot's first issue into that sentence).
 *
 * Nothing trusts its input: strings are length-limited and control characters refused, numbers must be
 * finite, arrays are length-limited, objects must be plain objects, and unknown keys are refused (so a typo
 * or a future field never passes silently).
 */
import * as v from 'valibot';
import { KnError } from '../../shared/errors';

/** Generous caps on model shape, so indices stay small integers. */
export const MAX_LAYERS = 1024;
export const MAX_FFN = 1 << 20;

/** A language code: "en", "zh", "pt-BR", "zh-Hant" … (also keeps "__proto__" and friends out of records). */
export const LANG_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** A message that names the parent of the failing value (e.g. `neurons[1] layer …`, not `neurons[1][0] …`). */
const AT_PARENT = '\u0001';

export function clip(s: string, n = 40): string {
  const t = s.length > n ? `${s.slice(0, n)}…` : s;
  // eslint-disable-next-line no-control-regex
  return t.replace(/[\u0000-\u001f\u007f]/g, '?');
}

export function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (typeof x === 'number') return String(x);
  if (typeof x === 'string') return `"${clip(x)}"`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x;
}

export type Schema<T> = v.GenericSchema<unknown, T>;

/**
 * Validates `input` against `schema` and returns valibot's output (fresh objects, keys in the schema's
 * order). Throws `KnError('bad-input', '<where>: <path> <problem>')` for the first problem; `root` prefixes
 * the path (e.g. "state" inside a file), `rootLabel` names the value itself when the path is empty.
 */
export function parse<T>(schema: Schema<T>, input: unknown, where: string, root = '', rootLabel = root || 'state'): T {
  const r = v.safeParse(schema, input, { abortEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0];
  const keys: (string | number)[] = (issue.path ?? []).map((p) => p.key as string | number);
  let problem = issue.message;
  if (problem.startsWith(AT_PARENT)) {
    problem = problem.slice(1);
    keys.pop();
  } else if ((issue.type === 'strict_object' || issue.type === 'variant') && issue.kind === 'schema') {
    if (issue.expected === 'never') problem = `has an unknown field "${clip(String(keys.pop()))}" ${problem}`;
    else if (issue.received === 'undefined' && keys.length) problem = 'is missing';
  }
  fail(where, pathOf(root, keys) || rootLabel, problem);
}

export function fail(where: string, path: string, problem: string): never {
  throw new KnError('bad-input', `${where}: ${path} ${problem}`);
}

/** "a.b[3].c" from a root and keys. */
export function pathOf(root: string, keys: readonly (string | number)[] = []): string {
  let p = root;
  for (const k of keys) p = typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${k}` : k;
  return p;
}

// ---------------------------------------------------------------------------------------------------
// building blocks (each message is the problem; `parse` puts the field in front)

const isPlainObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const notObject = (i: { input: unknown }) => `must be an object, got ${describe(i.input)}`;

/** An object schema with exactly these fields (optional ones wrapped in v.optional); see obj. */
export function fields<const E extends v.ObjectEntries>(entries: E) {
  const known = Object.keys(entries).join(', ');
  return v.strictObject(entries, (i) => (i.expected === 'never' ? `(known: ${known})` : i.received === 'undefined' ? 'is missing' : notObject(i)));
}

/** A plain object (not an array) with exactly these fields (optional ones wrapped in v.optional). */
export function obj<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, notObject), fields(entries));
}

/** A union of objects told apart by `key` (e.g. the model's "type"); the options are `fields(...)`. */
export function tagged<const K extends string, const O extends v.VariantOptions<K>>(key: K, options: O): Schema<v.InferOutput<O[number]>> {
  const tagOf = (o: unknown) => ((o as { entries: Record<string, { literal?: unknown }> }).entries[key]?.literal ?? '?') as string;
  const tags = options.map((o) => `"${tagOf(o)}"`).join(', ');
  const variant = v.variant(key, options, (i) =>
    i.expected === 'Object' ? notObject(i) : `must be one of ${tags}, got ${describe(isPlainObject(i.input) ? i.input[key] : i.input)}`,
  );
  return v.pipe(v.custom<unknown>(isPlainObject, notObject), variant as unknown as Schema<v.InferOutput<O[number]>>);
}

/** A tag field's value (inside `tagged`). */
export const tag = <const T extends string>(value: T) => v.literal(value);

const finiteMsg = (i: { input: unknown }) => `must be a finite number, got ${describe(i.input)}`;

/** A finite number in [min, max]. */
export function num(min = -Number.MAX_VALUE, max = Number.MAX_VALUE) {
  const range = (i: { input: number }) => `must be in [${min}, ${max}], got ${i.input}`;
  return v.pipe(v.number(finiteMsg), v.finite(finiteMsg), v.minValue(min, range), v.maxValue(max, range));
}

/** A finite number, or null (JSON's stand-in for NaN) read as NaN. */
export function numOrNaN(min = -Number.MAX_VALUE, max = Number.MAX_VALUE) {
  const msg = (i: { input: unknown }) => `must be a finite number or null, got ${describe(i.input)}`;
  const range = (i: { input: number }) => `must be in [${min}, ${max}], got ${i.input}`;
  return v.pipe(
    v.nullable(v.pipe(v.number(msg), v.finite(msg), v.minValue(min, range), v.maxValue(max, range))),
    v.transform((x) => (x === null ? NaN : x)),
  );
}

/** An integer in [min, max]. */
export function int(min: number, max: number) {
  const notInt = (i: { input: unknown }) => `must be an integer, got ${describe(i.input)}`;
  const range = (i: { input: number }) => `must be an integer in [${min}, ${max}], got ${i.input}`;
  return v.pipe(v.number(notInt), v.safeInteger(notInt), v.minValue(min, range), v.maxValue(max, range));
}

export const bool = () => v.boolean((i) => `must be true or false, got ${describe(i.input)}`);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A string of at most `max` characters, without control characters, optionally non-empty / matching a pattern. */
export function str(max = 1024, opts: { pattern?: RegExp; what?: string; nonEmpty?: boolean } = {}) {
  const base = v.pipe(
    v.string((i) => `must be a string, got ${describe(i.input)}`),
    v.maxLength(max, (i) => `is ${i.input.length} characters long, at most ${max} allowed`),
    v.check((s) => !opts.nonEmpty || s.length > 0, 'must not be empty'),
    v.check((s) => !CONTROL.test(s), 'contains control characters'),
  );
  if (!opts.pattern) return base;
  const pattern = opts.pattern;
  return v.pipe(
    base,
    v.regex(pattern, (i) => `must be ${opts.what ?? `like ${pattern}`}, got "${clip(i.input)}"`),
  );
}

export const lang = () => str(16, { pattern: LANG_PATTERN, what: 'a language code such as "en"' });

/** One of the given strings. */
export function oneOf<const T extends readonly string[]>(values: T) {
  return v.picklist(values, (i) => `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${describe(i.input)}`);
}

/** An array of at most `max` (and at least `min`) items. */
export function arr<const S extends v.GenericSchema>(item: S, max: number, min = 0) {
  return v.pipe(
    v.custom<unknown[]>(Array.isArray, (i) => `must be an array, got ${describe(i.input)}`),
    v.maxLength(max, (i) => `has ${i.input.length} entries, at most ${max} allowed`),
    v.minLength(min, (i) => `has ${i.input.length} entries, at least ${min} needed`),
    v.array(item),
  );
}

/** A neuron `[layer, index]` of non-negative integers below the given bounds. */
export function neuron(maxLayer = MAX_LAYERS, maxIndex = MAX_FFN) {
  const pair = (i: { input: unknown }) => `must be a pair [layer, index], got ${describe(i.input)}`;
  const part = (name: string, max: number, out: (x: number) => string) =>
    v.pipe(
      v.number((i) => `${AT_PARENT}${name} must be a non-negative integer, got ${describe(i.input)}`),
      v.safeInteger((i) => `${AT_PARENT}${name} must be a non-negative integer, got ${describe(i.input)}`),
      v.minValue(0, (i) => `${AT_PARENT}${name} must be a non-negative integer, got ${i.input}`),
      v.maxValue(max - 1, (i) => `${AT_PARENT}${out(i.input)}`),
    );
  return v.pipe(
    v.custom<unknown[]>((x) => Array.isArray(x) && x.length === 2, pair),
    v.strictTuple([
      part('layer', maxLayer, (l) => `layer ${l} is out of range (the model has ${maxLayer} layers)`),
      part('neuron index', maxIndex, (j) => `neuron index ${j} is out of range (${maxIndex} neurons per layer)`),
    ]),
  );
}

/** A record keyed by language codes (at most `max` languages), of `value`. */
export function byLang<const S extends v.GenericSchema>(value: S, max = 64) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, notObject),
    v.check(
      (o) => Object.keys(o).length <= max,
      (i) => `has ${Object.keys(i.input).length} languages, at most ${max} allowed`,
    ),
    // checked on the raw keys: valibot's record drops "__proto__" silently, and such a file is refused instead
    v.check(
      (o) => Object.keys(o).every((k) => LANG_PATTERN.test(k) && k.length <= 16),
      (i) => `key must be a language code such as "en", got "${clip(Object.keys(i.input).find((k) => !LANG_PATTERN.test(k) || k.length > 16) ?? '')}"`,
    ),
    v.record(v.string(), value),
  );
}

/**
 * A plain object of `value`s under any keys, which `vetKeys` sees first, raw (valibot's record drops
 * "__proto__" and friends silently; vet them here): it returns nothing, a problem of the whole object, or
 * a problem of one field (`key`, as the message should name it).
 */
export function keyed<const S extends v.GenericSchema>(value: S, vetKeys: (keys: string[]) => string | { key: string; problem: string } | undefined) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, notObject),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const bad = vetKeys(Object.keys(dataset.value));
      if (bad === undefined) return;
      if (typeof bad === 'string') addIssue({ message: bad });
      else addIssue({ message: bad.problem, path: [{ type: 'object', origin: 'value', input: dataset.value, key: bad.key, value: undefined }] });
    }),
    v.record(v.string(), value),
  );
}

/**
 * Small strict validators shared by the share link (state.ts) and the exploration file
 * (exploration-file.ts). Every failure throws `KnError('bad-input', '<where>: <field> <problem>')`, where
 * `<where>` is e.g. "link" or "exploration file" and `<field>` is a dotted path such as
 * `state.settings.tau` or `results.queries[3].before`.
 *
 * Nothing here trusts its input: strings are length-limited and control characters refused, numbers must
 * be finite, arrays are length-limited, objects must be plain objects, and unknown keys are refused (so a
 * typo or a future field never passes silently).
 */
import { KnError } from '../../engine/errors';

export class Checker {
  constructor(readonly where: string) {}

  fail(path: string, problem: string): never {
    throw new KnError('bad-input', `${this.where}: ${path} ${problem}`);
  }

  /** A plain object with only `allowed` keys and all `required` ones; `label` names it ('' path = root). */
  object(
    v: unknown,
    path: string,
    allowed: readonly string[] | null,
    required: readonly string[] = [],
    label = path || 'state',
  ): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(label, `must be an object, got ${describe(v)}`);
    const o = v as Record<string, unknown>;
    if (allowed) {
      for (const k of Object.keys(o)) {
        if (!allowed.includes(k)) this.fail(label, `has an unknown field "${clip(k)}" (known: ${allowed.join(', ')})`);
      }
    }
    for (const k of required) {
      if (o[k] === undefined) this.fail(join(path, k), 'is missing');
    }
    return o;
  }

  array(v: unknown, path: string, max: number, min = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    if (v.length > max) this.fail(path, `has ${v.length} entries, at most ${max} allowed`);
    if (v.length < min) this.fail(path, `has ${v.length} entries, at least ${min} needed`);
    return v;
  }

  string(v: unknown, path: string, max = 1024, opts: { pattern?: RegExp; what?: string; nonEmpty?: boolean } = {}): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
    if (v.length > max) this.fail(path, `is ${v.length} characters long, at most ${max} allowed`);
    if (opts.nonEmpty && v.length === 0) this.fail(path, 'must not be empty');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)) this.fail(path, 'contains control characters');
    if (opts.pattern && !opts.pattern.test(v)) this.fail(path, `must be ${opts.what ?? `like ${opts.pattern}`}, got "${clip(v)}"`);
    return v;
  }

  number(v: unknown, path: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `must be a finite number, got ${describe(v)}`);
    if (v < min || v > max) this.fail(path, `must be in [${min}, ${max}], got ${v}`);
    return v;
  }

  /** A finite number, or null (JSON's stand-in for NaN) mapped to NaN. */
  numberOrNaN(v: unknown, path: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): number {
    if (v === null) return NaN;
    return this.number(v, path, min, max);
  }

  integer(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(path, `must be an integer, got ${describe(v)}`);
    if (v < min || v > max) this.fail(path, `must be an integer in [${min}, ${max}], got ${v}`);
    return v;
  }

  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(path, `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  /** A neuron `[layer, index]` of non-negative integers below the given bounds. */
  neuron(v: unknown, path: string, maxLayer = MAX_LAYERS, maxIndex = MAX_FFN): [number, number] {
    if (!Array.isArray(v) || v.length !== 2) this.fail(path, `must be a pair [layer, index], got ${describe(v)}`);
    const [l, j] = v as unknown[];
    if (typeof l !== 'number' || !Number.isSafeInteger(l) || l < 0) {
      this.fail(path, `layer must be a non-negative integer, got ${describe(l)}`);
    }
    if (typeof j !== 'number' || !Number.isSafeInteger(j) || j < 0) {
      this.fail(path, `neuron index must be a non-negative integer, got ${describe(j)}`);
    }
    if (l >= maxLayer) this.fail(path, `layer ${l} is out of range (the model has ${maxLayer} layers)`);
    if (j >= maxIndex) this.fail(path, `neuron index ${j} is out of range (${maxIndex} neurons per layer)`);
    return [l, j];
  }
}

/** Generous caps on model shape, so indices stay small integers. */
export const MAX_LAYERS = 1024;
export const MAX_FFN = 1 << 20;

/** A language code: "en", "zh", "pt-BR", "zh-Hant" … (also keeps "__proto__" and friends out of records). */
export const LANG_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function clip(s: string, n = 40): string {
  const t = s.length > n ? `${s.slice(0, n)}…` : s;
  // eslint-disable-next-line no-control-regex
  return t.replace(/[\u0000-\u001f\u007f]/g, '?');
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `"${clip(v)}"`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v;
}

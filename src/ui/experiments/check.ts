/**
 * A small strict checker for the experiment report file (logic.ts): every failure throws
 * `KnError('bad-input', 'report file: <field> <problem>')`. Strings are length-limited and control
 * characters refused, numbers must be finite, arrays are length-limited, objects must be plain objects,
 * and unknown keys are refused where the allowed keys are given.
 */
import { KnError } from '../../engine/errors';

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

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

export class Checker {
  constructor(readonly where: string) {}

  fail(path: string, problem: string): never {
    throw new KnError('bad-input', `${this.where}: ${path} ${problem}`);
  }

  /** A plain object with only `allowed` keys (null: any) and all `required` ones. */
  object(v: unknown, path: string, allowed: readonly string[] | null, required: readonly string[] = [], label = path || 'file'): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(label, `must be an object, got ${describe(v)}`);
    const o = v as Record<string, unknown>;
    if (allowed) for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(label, `has an unknown field "${clip(k)}" (known: ${allowed.join(', ')})`);
    for (const k of required) if (o[k] === undefined) this.fail(join(path, k), 'is missing');
    return o;
  }

  array(v: unknown, path: string, max: number, min = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    if (v.length > max) this.fail(path, `has ${v.length} entries, at most ${max} allowed`);
    if (v.length < min) this.fail(path, `has ${v.length} entries, at least ${min} needed`);
    return v;
  }

  string(v: unknown, path: string, max = 1024, opts: { pattern?: RegExp; what?: string } = {}): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
    if (v.length > max) this.fail(path, `is ${v.length} characters long, at most ${max} allowed`);
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

  integer(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(path, `must be an integer, got ${describe(v)}`);
    if (v < min || v > max) this.fail(path, `must be an integer in [${min}, ${max}], got ${v}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) this.fail(path, `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${describe(v)}`);
    return v as T;
  }
}

/**
 * Command-line options, parsed by `node:util` parseArgs for every kn command (kn.ts, matrice-cmd.ts,
 * data-cmd.ts): `--flag value`, `--flag=value`, `--bool`, positionals. Unknown options and a missing value
 * are refused as `KnError('bad-input')` naming the option. A negative number after an option that takes a
 * value (`--facts -2`) is that option's value, so it reaches the option's own range check (intOpt, numOpt)
 * instead of node:util's "argument is ambiguous".
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { KnError } from '../shared/errors';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Args {
  _: string[];
  [k: string]: string | boolean | string[] | undefined;
}

export interface ParseOptions {
  /** refuse unknown options (default true); false treats them as booleans (a dispatcher that only reads a few) */
  strict?: boolean;
  /**
   * list options (declared `multiple`) that also take the plain words after them, up to the next option:
   * `--langs en ja` = `--langs en,ja` = `--langs en --langs ja`
   */
  lists?: readonly string[];
}

/** node:util's complaints (unknown option, missing value) as `KnError('bad-input')`. */
function refused<R>(parse: () => R): R {
  try {
    return parse();
  } catch (e) {
    throw new KnError('bad-input', e instanceof Error ? e.message : String(e));
  }
}

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--opt -2` (and `-o -2`) as `--opt=-2` for every option of `options` that takes a value: node:util
 * would read "-2" as an option and refuse `--opt` as ambiguous. Words after `--` are left alone.
 */
export function joinNegativeValues(argv: readonly string[], options: OptionSpec): string[] {
  return mapArgv(argv, (a, next, out) => {
    const long = /^--([^=]+)$/.exec(a)?.[1];
    const name = long ?? (/^-([^-])$/.test(a) ? Object.keys(options).find((k) => options[k].short === a[1]) : undefined);
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      return 2;
    }
    out.push(a);
    return 1;
  });
}

/**
 * Rewrites argv word by word up to a `--` (it and the words after it are kept as they are): `step` sees a
 * word and the next, pushes what it keeps onto `out` and says how many words it used (0 is read as 1).
 */
export function mapArgv(argv: readonly string[], step: (word: string, next: string | undefined, out: string[]) => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; ) {
    if (argv[i] === '--') {
      out.push(...argv.slice(i));
      break;
    }
    i += Math.max(1, step(argv[i], argv[i + 1], out));
  }
  return out;
}

/**
 * Takes every `--name value` / `--name=value` out of argv (the last one wins), for an option the
 * dispatcher reads for every command (kn.ts: --backend) before the command parses the rest. A missing
 * value is refused naming the option.
 */
export function takeOption(argv: readonly string[], name: string): { value: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === `--${name}`) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new KnError('bad-input', `--${name} needs a value (--${name} <value>)`);
      value = next;
      i++;
    } else if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
    else rest.push(a);
  }
  return { value, rest };
}

/** node:util parseArgs, strict, with typed values (the experiment commands). */
export function parseCli<T extends OptionSpec>(argv: string[], options: T) {
  return refused(() => nodeParseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true }));
}

export function parseOptions(argv: string[], options: OptionSpec, opts: ParseOptions = {}): Args {
  const r = refused(() =>
    nodeParseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: opts.strict ?? true, tokens: true }),
  );
  const out: Args = { _: [] };
  for (const [k, v] of Object.entries(r.values)) out[k] = v as Args[string];
  // list options are rebuilt from the tokens, in order, with the plain words that follow `--list value`
  const lists = new Set(opts.lists ?? []);
  for (const name of lists) if (out[name] !== undefined) out[name] = [];
  let list: string | null = null;
  for (const t of r.tokens ?? []) {
    if (t.kind === 'option') {
      const isList = lists.has(t.name) && t.value !== undefined;
      if (isList) (out[t.name] as string[]).push(t.value!);
      list = isList && !t.inlineValue ? t.name : null;
    } else if (t.kind === 'positional') {
      if (list) (out[list] as string[]).push(t.value);
      else out._.push(t.value);
    } else list = null;
  }
  return out;
}

/** The options of the commands kn.ts parses itself (probe, attribute, localize, export) and the dispatcher's. */
export const KN_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  'no-recheck': { type: 'boolean' },
  model: { type: 'string' },
  dtype: { type: 'string' },
  prompt: { type: 'string' },
  target: { type: 'string' },
  top: { type: 'string' },
  out: { type: 'string' },
  'shard-mb': { type: 'string' },
  steps: { type: 'string' },
  baseline: { type: 'string' },
  quadrature: { type: 'string' },
  layers: { type: 'string' },
  relation: { type: 'string' },
  fact: { type: 'string' },
  method: { type: 'string' },
  langs: { type: 'string' },
  tau: { type: 'string' },
  norm: { type: 'string' },
  'attr-norm': { type: 'string' },
  alpha1: { type: 'string' },
  alpha2: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  seed: { type: 'string' },
} as const satisfies OptionSpec;

/** kn's own options; `strict: false` for commands that parse the rest themselves (data, eval, experiment). */
export function parseArgs(argv: string[], opts: ParseOptions = {}): Args {
  return parseOptions(argv, KN_OPTIONS, opts);
}

export function str(a: Args, k: string): string | undefined {
  const v = a[k];
  return typeof v === 'string' ? v : undefined;
}

/** `--name` as an integer in lo..hi (absent: the fallback); anything else is refused naming the option. */
export function intOpt<F extends number | undefined>(v: string | undefined, name: string, lo: number, hi: number, fallback: F): number | F {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new KnError('bad-input', `--${name} must be an integer in ${lo}..${hi}, got "${v}"`);
  return n;
}

/** `--name` as a finite number (absent: undefined). */
export function numOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new KnError('bad-input', `--${name} must be a number, got "${v}"`);
  return n;
}

export function int(a: Args, k: string, min: number, max: number, fallback?: number): number | undefined {
  return intOpt(str(a, k), k, min, max, fallback);
}

/** Tiny argv parser: --flag value, --flag=value, --bool; positionals. */
import { KnError } from '../engine/errors';

export interface Args {
  _: string[];
  [k: string]: string | boolean | string[];
}

export function parseArgs(argv: string[], booleans: string[] = ['json', 'help']): Args {
  const out: Args = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) out[key] = a.slice(eq + 1);
      else if (booleans.includes(key)) out[key] = true;
      else {
        if (i + 1 >= argv.length) throw new KnError('bad-input', `--${key} needs a value`);
        out[key] = argv[++i];
      }
    } else out._.push(a);
  }
  return out;
}

export function str(a: Args, k: string): string | undefined {
  const v = a[k];
  return typeof v === 'string' ? v : undefined;
}

export function int(a: Args, k: string, min: number, max: number, fallback?: number): number | undefined {
  const v = str(a, k);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new KnError('bad-input', `--${k} must be an integer in ${min}..${max}, got "${v}"`);
  return n;
}

/** Error measures the tests compare numbers with (engine vs a reference, one backend vs another). */
import { expect } from 'vitest';

/** max |a − b| / max |b| over flat or nested arrays of the same length */
export function relErr(a: ArrayLike<number> | ArrayLike<number>[], b: ArrayLike<number> | ArrayLike<number>[]): number {
  const flat = (v: ArrayLike<number> | ArrayLike<number>[]) =>
    typeof (v as ArrayLike<number>[])[0] === 'number' ? Array.from(v as ArrayLike<number>) : (v as ArrayLike<number>[]).flatMap((r) => Array.from(r));
  const x = flat(a),
    y = flat(b);
  expect(x.length).toBe(y.length);
  let num = 0,
    den = 0;
  for (let i = 0; i < y.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / Math.max(den, 1e-30);
}

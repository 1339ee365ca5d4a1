/**
 * Seeded, reproducible pseudo-random numbers for the Random baseline (METHOD.md "Baselines").
 * No Math.random, no clocks: the same seed gives the same stream on every platform (only 32-bit integer
 * arithmetic via Math.imul and >>> is used).
 *
 * Generator: xoshiro128** (Blackman & Vigna), its 128-bit state filled from the seed by splitmix32.
 */
import { KnError } from '../../shared/errors';

/** A seed is a safe integer (negative allowed) or any string. */
export type Seed = number | string;

function splitmix32(start: number): () => number {
  let a = start | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    return t >>> 0;
  };
}

/** FNV-1a over UTF-16 code units, 32 bit. */
function fnv1a(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Two 32-bit words from a seed; distinct safe integers (and distinct strings, up to hash collisions) differ. */
function seedWords(seed: Seed): [number, number] {
  if (typeof seed === 'string') return [fnv1a(seed, 0x811c9dc5), fnv1a(seed, 0x050c5d1f) ^ 0x5eed];
  if (!Number.isSafeInteger(seed)) {
    throw new KnError('bad-input', `matrice: random seed must be a safe integer or a string, got ${seed}`);
  }
  const TWO32 = 0x100000000;
  const lo = ((seed % TWO32) + TWO32) % TWO32;
  const hi = Math.floor(seed / TWO32);
  return [lo >>> 0, hi >>> 0];
}

export interface Rng {
  /** uniform 32-bit unsigned integer */
  nextUint32(): number;
  /** uniform integer in [0, n), 1 ≤ n ≤ 2^32, without modulo bias (rejection sampling) */
  nextInt(n: number): number;
  /** uniform float in [0, 1) with 53 random bits */
  nextFloat(): number;
}

export function createRng(seed: Seed): Rng {
  const [lo, hi] = seedWords(seed);
  const sm = splitmix32(lo ^ Math.imul(hi, 0x9e3779b1) ^ (typeof seed === 'string' ? 0x73747200 : 0));
  let s0 = sm();
  let s1 = sm() ^ hi;
  let s2 = sm();
  let s3 = sm();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // xoshiro must not start from the all-zero state
  const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const TWO32 = 0x100000000;
  return {
    nextUint32,
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > TWO32) {
        throw new KnError('bad-input', `matrice: random range must be an integer in [1, 2^32], got ${n}`);
      }
      const limit = TWO32 - (TWO32 % n); // largest multiple of n that fits; values ≥ limit are rejected
      for (;;) {
        const x = nextUint32();
        if (x < limit) return x % n;
      }
    },
    nextFloat(): number {
      const a = nextUint32() >>> 5; // 27 bits
      const b = nextUint32() >>> 6; // 26 bits
      return (a * 67108864 + b) / 9007199254740992;
    },
  };
}

/**
 * `count` distinct integers drawn uniformly without replacement from [0, n), in draw order.
 * Sparse partial Fisher–Yates: O(count) time and memory, independent of n.
 */
export function sampleWithoutReplacement(count: number, n: number, seed: Seed): number[] {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new KnError('bad-input', `matrice: population size must be a non-negative integer, got ${n}`);
  }
  if (!Number.isSafeInteger(count) || count < 0 || count > n) {
    throw new KnError('bad-input', `matrice: cannot draw ${count} distinct items from ${n}`);
  }
  const rng = createRng(seed);
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = i + rng.nextInt(n - i);
    const vr = swapped.get(r) ?? r;
    const vi = swapped.get(i) ?? i;
    swapped.set(r, vi);
    out.push(vr);
  }
  return out;
}

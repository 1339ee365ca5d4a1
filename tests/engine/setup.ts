/** Shared test set-up: wasm backend in Node, tiny checkpoints in a temp folder. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBackend } from '../../src/cli/node-engine';
import { writeTinyCheckpoint, type TinyArch, type TinyCheckpoint, type TinyOptions } from '../helpers/tiny-checkpoints';

export const TMP = mkdtempSync(join(tmpdir(), 'kn-test-'));
export const ready = nodeBackend();

const cache = new Map<string, Promise<TinyCheckpoint>>();
export function tiny(arch: TinyArch, opts: TinyOptions = {}, tag = ''): Promise<TinyCheckpoint> {
  const key = `${arch}-${JSON.stringify(opts)}-${tag}`;
  let p = cache.get(key);
  if (!p) {
    p = writeTinyCheckpoint(join(TMP, key.replace(/[^\w-]+/g, '_')), arch, opts);
    cache.set(key, p);
  }
  return p;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

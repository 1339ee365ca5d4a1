import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileFetch } from '../../src/data/node';
import type { FetchLike } from '../../src/data/loader';

export const REPO = resolve(__dirname, '../..');
export const DATA_DIR = join(REPO, 'public/data/rml-lama');
/** the raw public sources `npm run data:build` reads (committed, with PROVENANCE.md and LICENSES.md) */
export const SOURCES_DIR = join(REPO, 'data/rml-sources');

/** a private copy of the committed data that a test may damage */
export function copyData(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rml-data-'));
  cpSync(DATA_DIR, dir, { recursive: true });
  return dir + '/';
}

/** fileFetch that counts requests per path */
export function countingFetch(inner: FetchLike = fileFetch): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const f = (async (url: string, init?: { signal?: AbortSignal }) => {
    calls.push(url);
    return inner(url, init);
  }) as FetchLike & { calls: string[] };
  f.calls = calls;
  return f;
}

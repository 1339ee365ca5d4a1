/** Node-only helpers: read the shards from disk through the same loader the browser uses. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { FetchLike } from './loader';
import { RmlLama } from './loader';
import type { ShardStore } from './store';

/** public/data/rml-lama of this checkout */
export function defaultDataDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../public/data/rml-lama');
}

/** A fetch over the file system: the "URL" is a path. Missing file -> 404. */
export const fileFetch: FetchLike = async (url) => {
  try {
    const buf = await readFile(url);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    return { ok: true, status: 200, arrayBuffer: async () => ab };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, status: code === 'ENOENT' ? 404 : 500, statusText: code ?? String(e), arrayBuffer: async () => new ArrayBuffer(0) };
  }
};

export function openLocal(dir = defaultDataDir(), store?: ShardStore): Promise<RmlLama> {
  return RmlLama.open({ baseUrl: dir.endsWith('/') ? dir : dir + '/', fetch: fileFetch, store });
}

/** Node-only model sources: a folder on disk, and the bundled models under public/models. */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KnError } from '../../shared/errors';
import { parseBundledIndex } from './model-id';
import { registerSourceFactory, type FileHandle, type ModelSource } from './source';

export class FolderSource implements ModelSource {
  readonly label: string;
  constructor(readonly dir: string) {
    this.label = resolve(dir);
  }
  async open(name: string): Promise<FileHandle | null> {
    const p = join(this.dir, name);
    let size: number;
    try {
      const s = await stat(p);
      if (!s.isFile()) return null;
      size = s.size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        try {
          await stat(this.dir);
        } catch {
          throw new KnError('missing-file', `${this.label}: folder does not exist`);
        }
        return null;
      }
      throw new KnError('unreachable', `${p}: ${(e as Error).message}`);
    }
    return { size, stream: Readable.toWeb(createReadStream(p)) as unknown as ReadableStream<Uint8Array> };
  }
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUNDLED_DIR = join(REPO_ROOT, 'public', 'models');

registerSourceFactory('folder', (s) => new FolderSource((s as { path: string }).path));
/** The names public/models/index.json lists (the page's list of bundled models), in its order. */
export function bundledModelNames(dir = BUNDLED_DIR): string[] {
  try {
    return parseBundledIndex(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))).map((m) => m.name);
  } catch {
    return [];
  }
}

/** A bundled model's folder; a name that is none (no such folder, or a path) is refused with the list of names. */
export function bundledDir(name: string, dir = BUNDLED_DIR): string {
  const p = join(dir, name);
  const isModel = /^[\w.-]+$/.test(name) && !/^\.+$/.test(name) && existsSync(p) && statSync(p).isDirectory();
  if (!isModel) {
    const names = bundledModelNames(dir);
    throw new KnError(
      'missing-file',
      `no bundled model is named "${name}"; the bundled models are ${names.length ? names.join(', ') : '(none: public/models/index.json lists none)'} (bundled:<name>)`,
    );
  }
  return p;
}

registerSourceFactory('bundled', (s) => {
  const name = (s as { name: string }).name;
  const src = new FolderSource(bundledDir(name));
  (src as { label: string }).label = `bundled:${name}`;
  return src;
});

/** A byte store in a folder (the Node twin of the browser's IndexedDB caches). */
export class FolderStore {
  constructor(readonly dir: string) {}
  private path(key: string) {
    return join(this.dir, key.replace(/[^\w.-]+/g, '_'));
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch {
      return undefined;
    }
  }
  async set(key: string, bytes: Uint8Array): Promise<void> {
    const { mkdir, writeFile, rename } = await import('node:fs/promises');
    await mkdir(this.dir, { recursive: true });
    const tmp = this.path(key) + '.tmp' + process.pid;
    await writeFile(tmp, bytes);
    await rename(tmp, this.path(key)); // never leave a half-written entry
  }
}

/**
 * The tiny checkpoints the e2e tests load, and how to (re)create them. writeTinyCheckpoint is
 * deterministic for a given seed, so the test process can rebuild the exact tensors for the float64
 * reference while the global setup's server serves the files.
 */
import { mkdtemp, readFile, rm, truncate, writeFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyCheckpoint, type TinyArch, type TinyOptions, type TinyCheckpoint } from '../tests/helpers/tiny-checkpoints';

export const MODEL_PORT = Number(process.env.E2E_MODEL_PORT ?? 4181);
export const MODEL_BASE = `http://127.0.0.1:${MODEL_PORT}`;
/** written by global setup: { root, unreachablePort } */
export const STATE_FILE = join(process.cwd(), 'test-results', '.e2e-state.json');

export interface FixtureDef {
  arch: TinyArch;
  opts: TinyOptions;
}

/** served at MODEL_BASE/<name>/ */
export const FIXTURES: Record<string, FixtureDef> = {
  gpt2: { arch: 'gpt2', opts: { seed: 11 } },
  bert: { arch: 'bert', opts: { seed: 12 } },
  // sharded, later truncated / corrupted copies of gpt2
  'gpt2-sharded': { arch: 'gpt2', opts: { seed: 11, shards: 2 } },
  'gpt2-truncated': { arch: 'gpt2', opts: { seed: 11, shards: 2 } },
  'gpt2-corrupt': { arch: 'gpt2', opts: { seed: 11 } },
};

export const TRUNCATED_SHARD = 'model-00002-of-00002.safetensors';

export async function materializeFixtures(root: string): Promise<void> {
  for (const [name, def] of Object.entries(FIXTURES)) {
    await writeTinyCheckpoint(join(root, name), def.arch, def.opts);
  }
  // Truncated shard: drop the last 100 bytes of the second shard.
  const shard = join(root, 'gpt2-truncated', TRUNCATED_SHARD);
  await truncate(shard, (await stat(shard)).size - 100);
  // Corrupt file: a plausible 8-byte header length followed by garbage instead of JSON.
  const corrupt = join(root, 'gpt2-corrupt', 'model.safetensors');
  const bytes = await readFile(corrupt);
  const garbage = Buffer.from('{"h.0.attn.c_attn.weight": {"dtype": "F32", "shape": [32, 96], "data_offsets": [0, 12288]}, ### not json ###');
  garbage.copy(bytes, 8);
  await writeFile(corrupt, bytes);
}

const cache = new Map<string, Promise<TinyCheckpoint>>();
/** The same checkpoint as served, rebuilt in this process (for config + tensors). */
export function referenceCheckpoint(name: keyof typeof FIXTURES & string): Promise<TinyCheckpoint> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const dir = await mkdtemp(join(tmpdir(), `kn-ref-${name}-`));
      try {
        return await writeTinyCheckpoint(dir, FIXTURES[name].arch, FIXTURES[name].opts);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    cache.set(name, p);
  }
  return p;
}

export async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

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

/**
 * What the int8 mode computes with: every 2-D matrix quantized symmetrically per output channel
 * (scale = max|w| / 127, q = round(w / scale) ∈ [-127, 127]) and dequantized back, in float32.
 * Output channels are rows ([out, in] nn.Linear and [vocab, d] embeddings) except GPT-2's Conv1D
 * weights, stored [in, out]. Written here independently of src/engine/weights/quant.ts.
 * Comparing int8 output to the float64 reference on THESE weights isolates engine errors from the
 * (legitimate) quantization error, which for a peaky tiny BERT is ~7e-3 in probability.
 */
export function int8Simulated(arch: string, tensors: Map<string, { shape: number[]; data: ArrayLike<number> }>) {
  const conv1d = /(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, t] of tensors) {
    if (t.shape.length !== 2) {
      out.set(name, { shape: t.shape, data: Float64Array.from(t.data) });
      continue;
    }
    const [r, c] = t.shape;
    const colwise = arch === 'gpt2' && conv1d.test(name);
    const channels = colwise ? c : r;
    const maxAbs = new Float64Array(channels);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        const k = colwise ? j : i;
        maxAbs[k] = Math.max(maxAbs[k], Math.abs(Math.fround(t.data[i * c + j])));
      }
    const scale = Array.from(maxAbs, (m) => (m > 0 ? Math.fround(m / 127) : 1));
    const data = new Float64Array(r * c);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        const s = scale[colwise ? j : i];
        const q = Math.max(-127, Math.min(127, Math.round(Math.fround(t.data[i * c + j]) / s)));
        data[i * c + j] = Math.fround(q * s);
      }
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/**
 * The shipped demo models (public/models/demo-causal, demo-masked): they load with the engine from the
 * int8 bundle, answer trained RML-LAMA queries in every language, and a bundle whose shard fails its
 * sha256 is refused. No training here.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { causalQuery, maskedQuery } from '../../src/data/queries';
import { LANGS, RELATIONS } from '../../src/data/types';
import { KnError, loadModel, loadModelArg } from '../../src/engine/index';
import { BUNDLED_DIR } from '../../src/engine/source/source-node';
import { ready, TMP } from '../engine/setup';

interface Split {
  kind: 'causal' | 'masked';
  facts: Record<string, string[]>;
  templates: Record<string, Record<string, { trained: string[]; heldout: string[] }>>;
  devFacts: string[];
  testFacts: string[];
}

const PER_RELATION = 2; // queries per relation and language: 16 per language

async function sampleAccuracy(name: string) {
  await ready;
  const split: Split = JSON.parse(readFileSync(join(BUNDLED_DIR, name, 'split.json'), 'utf8'));
  const bench = await openLocal();
  const model = await loadModelArg(`bundled:${name}`, { dtype: 'int8' });
  const acc: Record<string, { correct: number; n: number; wrong: string[] }> = {};
  try {
    for (const lang of LANGS) {
      const a = (acc[lang] = { correct: 0, n: 0, wrong: [] as string[] });
      for (const rel of RELATIONS) {
        const ids = split.facts[rel];
        if (!ids.length) continue; // v2 keeps only subjects with facts in ≥ 2 relations: P176 has none
        const shard = await bench.shard(rel, lang);
        const trained = split.templates[rel][lang].trained;
        for (let k = 0; k < PER_RELATION; k++) {
          // spread over the relation's facts and the trained templates
          const fact = shard.facts.find((f) => f.id === ids[(Math.floor((k * ids.length) / PER_RELATION) + 1) % ids.length])!;
          const t = shard.templates.find((x) => x.id === trained[k % trained.length])!;
          const q = split.kind === 'causal' ? causalQuery(t, fact)! : maskedQuery(t, fact, model.info.maskToken!);
          const r = await model.probe(q.prompt, { target: q.target, topK: 1 });
          a.n++;
          if (r.target?.rank === 0) a.correct++;
          else a.wrong.push(`${q.prompt} → ${q.target}`);
        }
      }
    }
  } finally {
    model.dispose();
  }
  return acc;
}

describe.each([
  ['demo-causal', 'causal', 'GPT2LMHeadModel'],
  ['demo-masked', 'masked', 'BertForMaskedLM'],
])('bundled %s', (name, kind, arch) => {
  it('is shipped with its files, a split and a model card, listed in index.json', () => {
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'kn-manifest.json', 'split.json', 'README.md', 'weights-00001.bin']) {
      expect(existsSync(join(BUNDLED_DIR, name, f)), f).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(BUNDLED_DIR, name, 'kn-manifest.json'), 'utf8'));
    expect(manifest.architecture).toBe(arch);
    const bytes = manifest.shards.reduce((s: number, x: { bytes: number }) => s + x.bytes, 0);
    expect(bytes).toBeLessThanOrEqual(10 * 1024 * 1024);
    const index = JSON.parse(readFileSync(join(BUNDLED_DIR, 'index.json'), 'utf8'));
    expect(index.models.map((m: { name: string }) => m.name)).toContain(name);
    const split: Split = JSON.parse(readFileSync(join(BUNDLED_DIR, name, 'split.json'), 'utf8'));
    expect(split.kind).toBe(kind);
    const all = Object.values(split.facts).flat();
    expect(all.length).toBeGreaterThanOrEqual(300);
    expect(Object.keys(split.facts).sort()).toEqual([...RELATIONS].sort());
    expect(Object.values(split.facts).filter((ids) => ids.length > 0).length).toBeGreaterThanOrEqual(6);
    // dev (≈ 25 %, for choosing the recipe) and test (≥ 100, never used to choose it): disjoint, covering every trained fact
    const dev = new Set(split.devFacts),
      test = new Set(split.testFacts);
    expect(dev.size).toBe(split.devFacts.length);
    expect(test.size).toBe(split.testFacts.length);
    expect(split.devFacts.filter((id) => test.has(id))).toEqual([]);
    expect([...dev, ...test].sort()).toEqual([...all].sort());
    expect(test.size).toBeGreaterThanOrEqual(100);
    expect(dev.size / all.length).toBeGreaterThan(0.2);
    expect(dev.size / all.length).toBeLessThan(0.3);
  });

  it('has a ReLU FFN and self-attention only in the layers its model card names (zero attention weights above)', () => {
    const config = JSON.parse(readFileSync(join(BUNDLED_DIR, name, 'config.json'), 'utf8'));
    expect(kind === 'causal' ? config.activation_function : config.hidden_act).toBe('relu');
    const card = readFileSync(join(BUNDLED_DIR, name, 'README.md'), 'utf8');
    expect(card).toMatch(/trained to be interpretable/);
    expect(card).toMatch(/Real\s+LLMs are messier/);
    // "self-attention only in layer 0" / "layers 0-2" (scripts/train/model-card.ts), or attention in every layer
    const m = /self-attention only in (?:layer 0|layers 0-(\d+))/.exec(card);
    const layers = kind === 'causal' ? config.n_layer : config.num_hidden_layers;
    const attnLayers = m ? (m[1] ? Number(m[1]) + 1 : 1) : layers;
    // the Hugging Face checkpoint: attention weights and biases are zero in every layer from attnLayers on
    const buf = readFileSync(join(BUNDLED_DIR, '..', '..', 'models', name, 'model.safetensors'));
    const hlen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
    const attn = Object.keys(header).filter((k) => (kind === 'causal' ? /\.h\.\d+\.attn\.c_/ : /\.layer\.\d+\.attention\.(self|output\.dense)/).test(k));
    expect(attn.length).toBeGreaterThan(0);
    for (const k of attn) {
      const layer = Number(/\.(\d+)\./.exec(k)![1]);
      const [a, b] = header[k].data_offsets as [number, number];
      const v = new Float32Array(buf.buffer.slice(buf.byteOffset + 8 + hlen + a, buf.byteOffset + 8 + hlen + b));
      const maxAbs = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      if (layer < attnLayers) {
        if (k.endsWith('weight')) expect(maxAbs, k).toBeGreaterThan(0);
      } else expect(maxAbs, k).toBe(0);
    }
  });

  it('answers trained queries in every language (top-1)', async () => {
    const acc = await sampleAccuracy(name);
    for (const lang of LANGS) {
      const a = acc[lang];
      expect(a.correct / a.n, `${lang}: wrong ${a.wrong.join('; ')}`).toBeGreaterThanOrEqual(0.9);
    }
  }, 60_000);
});

describe('kn eval --split', () => {
  it('without --model evaluates the causal demo model on its trained queries / held-out templates', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const run = (split: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          join(root, 'node_modules', '.bin', 'tsx'),
          ['src/cli/kn.ts', 'eval', '--split', split, '--relations', 'P36', '--langs', 'en,ja', '--json'],
          { cwd: root, timeout: 60_000, env: { ...process.env, KN_BACKEND: '' } },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
      });
    const [trained, heldout] = await Promise.all([run('trained'), run('heldout')]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(heldout.code, heldout.stderr).toBe(0);
    const t = JSON.parse(trained.stdout),
      h = JSON.parse(heldout.stdout);
    expect(t.kind).toBe('causal');
    expect(t.split).toBe('trained');
    const split: Split = JSON.parse(readFileSync(join(BUNDLED_DIR, 'demo-causal', 'split.json'), 'utf8'));
    for (const l of ['en', 'ja']) {
      expect(t.languages[l].n).toBe(split.facts.P36.length * split.templates.P36[l].trained.length);
      expect(h.languages[l].n).toBe(split.facts.P36.length * split.templates.P36[l].heldout.length);
      expect(t.languages[l].accuracy).toBeGreaterThanOrEqual(0.9);
      expect(typeof h.languages[l].accuracy).toBe('number');
    }
  }, 60_000);
});

describe('bundle integrity', () => {
  it('refuses a demo bundle whose weight shard fails its sha256', async () => {
    await ready;
    const dir = join(TMP, 'demo-causal-flipped');
    cpSync(join(BUNDLED_DIR, 'demo-causal'), dir, { recursive: true });
    const shard = join(dir, 'weights-00001.bin');
    const bytes = readFileSync(shard);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(shard, bytes);
    let err: unknown;
    try {
      (await loadModel({ type: 'folder', path: dir })).dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KnError);
    expect((err as KnError).code).toBe('integrity');
    expect((err as KnError).message).toMatch(/weights-00001\.bin: sha256 .* does not match kn-manifest\.json/);
  });
});

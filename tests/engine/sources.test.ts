/**
 * Every model source gives the same model: a Node folder, a base URL (real HTTP server), a hub repo id
 * (HubSource + @huggingface/hub against the same server), a sharded checkpoint over URL, a browser-style
 * File list, and our kn-int8 bundle (by folder and by URL). Plus progress reporting and cancellation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportKnBundle } from '../../src/cli/export';
import { KnError, loadModel } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { setHubUrl } from '../../src/engine/source/source';
import type { LoadOptions, ModelSourceSpec, Progress } from '../../src/shared/types';
import { start, stop, type TestServer } from '../helpers/http-server';
import type { TinyCheckpoint } from '../helpers/tiny-checkpoints';
import { maxAbsDiff, ready, tiny, TMP } from './setup';

const PROMPT = 'The capital of France is';
const MASKED = 'the capital of france is [MASK] .';

/** The full next-token distribution (topK = vocabulary) as an array indexed by token id. */
async function distribution(m: LoadedModel, prompt = m.info.kind === 'masked' ? MASKED : PROMPT) {
  const r = await m.probe(prompt, { topK: m.info.vocabSize });
  const p = new Float64Array(m.info.vocabSize);
  for (const t of r.top) p[t.id] = t.prob;
  return { p, top1: r.top[0].id, ids: r.ids };
}

async function loadDist(spec: ModelSourceSpec, opts: LoadOptions = {}) {
  const m = await loadModel(spec, opts);
  try {
    return { ...(await distribution(m)), info: m.info };
  } finally {
    m.dispose();
  }
}

function expectSame(a: { p: Float64Array; top1: number; ids: number[] }, b: { p: Float64Array; top1: number; ids: number[] }) {
  expect(b.ids).toEqual(a.ids);
  expect(b.top1).toBe(a.top1);
  expect(b.p.length).toBe(a.p.length);
  expect(maxAbsDiff(a.p, b.p)).toBeLessThanOrEqual(1e-6);
}

let gpt2: TinyCheckpoint;
let ref: Awaited<ReturnType<typeof loadDist>>; // gpt2 from its folder, f32
let server: TestServer;
const HUB_REPO = 'kn-test/tiny-gpt2';

beforeAll(async () => {
  await ready;
  gpt2 = await tiny('gpt2', { seed: 11 });
  ref = await loadDist({ type: 'folder', path: gpt2.dir }, { dtype: 'f32' });
  server = await start({ mounts: { '/gpt2': gpt2.dir, [`/${HUB_REPO}/resolve/main`]: gpt2.dir } });
});
afterAll(async () => {
  await stop(server);
});

describe('every source loads the same model', () => {
  it('local folder ({type: "folder"}) is not degenerate and labels itself with the path', async () => {
    expect(ref.info.source).toBe(gpt2.dir);
    expect(ref.info.architecture).toBe('GPT2LMHeadModel');
    expect(Math.max(...ref.p)).toBeLessThan(0.9);
    expect(ref.p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it('base URL over real HTTP ({type: "url"})', async () => {
    server.requests.length = 0;
    const r = await loadDist({ type: 'url', url: `${server.url}/gpt2/` }, { dtype: 'f32' });
    expect(r.info.source.replace(/\/$/, '')).toBe(`${server.url}/gpt2`);
    const got = server.requests.filter((q) => q.status === 200).map((q) => q.path);
    expect(got).toEqual(expect.arrayContaining(['/gpt2/config.json', '/gpt2/tokenizer.json', '/gpt2/model.safetensors']));
    expectSame(ref, r);
  });

  it('hub repo id through HubSource + @huggingface/hub, pointed at the local server with setHubUrl', async () => {
    server.requests.length = 0;
    setHubUrl(server.url + '/');
    const r = await loadDist({ type: 'hub', repo: HUB_REPO, revision: 'main' }, { dtype: 'f32' });
    expect(r.info.source).toBe(`hf:${HUB_REPO}@main`);
    const base = `/${HUB_REPO}/resolve/main`;
    // downloadFile first asks for bytes 0-0 (size from Content-Range, ETag), then GETs the whole file
    const st = server.requests.filter((q) => q.path === `${base}/model.safetensors`);
    expect(st.map((q) => [q.range ?? null, q.status])).toEqual([
      ['bytes=0-0', 206],
      [null, 200],
    ]);
    // kn-manifest.json does not exist: the library's 404 (X-Error-Code: EntryNotFound) is "no such file"
    expect(server.requests.find((q) => q.path === `${base}/kn-manifest.json`)?.status).toBe(404);
    expectSame(ref, r);
  });

  it('a hub repo that does not exist → missing-file naming config.json and the repo', async () => {
    setHubUrl(server.url);
    const e = await loadModel({ type: 'hub', repo: 'kn-test/no-such-repo' }).then(
      () => null,
      (x) => x,
    );
    expect(e).toBeInstanceOf(KnError);
    expect(e.code).toBe('missing-file');
    expect(e.message).toContain('config.json');
    expect(e.message).toContain('hf:kn-test/no-such-repo@main');
  });

  it('sharded checkpoint (model.safetensors.index.json + 3 BF16 shards) over URL equals the folder', async () => {
    const llama = await tiny('llama', { seed: 4, dtype: 'BF16', shards: 3 });
    const s = await start(llama.dir);
    try {
      const fromFolder = await loadDist({ type: 'folder', path: llama.dir }, { dtype: 'f32' });
      const fromUrl = await loadDist({ type: 'url', url: s.url }, { dtype: 'f32' });
      const shards = s.requests.filter((q) => /^\/model-0000\d-of-00003\.safetensors$/.test(q.path) && q.status === 200);
      expect(shards.map((q) => q.path).sort()).toEqual([1, 2, 3].map((i) => `/model-0000${i}-of-00003.safetensors`));
      expect(s.requests.find((q) => q.path === '/model.safetensors')?.status).toBe(404);
      expectSame(fromFolder, fromUrl);
    } finally {
      await stop(s);
    }
  });

  it('FilesSource from File objects with webkitRelativePath (a picked browser folder)', async () => {
    const files = readdirSync(gpt2.dir).map((name) => {
      const f = new File([readFileSync(join(gpt2.dir, name))], name);
      Object.defineProperty(f, 'webkitRelativePath', { value: `tiny-gpt2/${name}` });
      return f;
    });
    expect(files.length).toBeGreaterThanOrEqual(4);
    const r = await loadDist({ type: 'files', files }, { dtype: 'f32' });
    expect(r.info.source).toBe('tiny-gpt2');
    expectSame(ref, r);
  });

  describe('our kn-int8 bundle (exportKnBundle) equals the int8 model it was exported from', () => {
    let int8: Awaited<ReturnType<typeof loadDist>>;
    let bundleDir: string;
    let shards = 0;
    beforeAll(async () => {
      const m = await loadModel({ type: 'folder', path: gpt2.dir }, { dtype: 'int8' });
      try {
        int8 = { ...(await distribution(m)), info: m.info };
        bundleDir = join(TMP, 'bundle-gpt2');
        // 32 KiB shards so the bundle has several
        const res = await exportKnBundle(m, gpt2.dir, bundleDir, 32 * 1024);
        shards = res.shards;
      } finally {
        m.dispose();
      }
    });

    it('by folder', async () => {
      expect(shards).toBeGreaterThan(1);
      const files = readdirSync(bundleDir).sort();
      expect(files).toContain('kn-manifest.json');
      expect(files).not.toContain('model.safetensors');
      const r = await loadDist({ type: 'folder', path: bundleDir });
      expect(r.info.dtype).toBe('int8');
      expect(r.info.numParams).toBe(int8.info.numParams);
      expectSame(int8, r);
      // and int8 really differs from f32 (so the comparison above is not vacuous)
      expect(maxAbsDiff(ref.p, r.p)).toBeGreaterThan(0);
    });

    it('by URL', async () => {
      const s = await start(bundleDir);
      try {
        const r = await loadDist({ type: 'url', url: s.url });
        const got = s.requests.filter((q) => q.status === 200).map((q) => q.path);
        expect(got).toContain('/kn-manifest.json');
        expect(got).toContain('/weights-00001.bin');
        expect(got.filter((p) => p.endsWith('.bin')).length).toBe(shards);
        expectSame(int8, r);
      } finally {
        await stop(s);
      }
    });
  });
});

describe('progress and cancellation', () => {
  it('onProgress over URL: loaded increases and ends at the file size', async () => {
    const size = statSync(join(gpt2.dir, 'model.safetensors')).size;
    const events: Progress[] = [];
    const m = await loadModel({ type: 'url', url: `${server.url}/gpt2` }, { onProgress: (p) => events.push({ ...p }) });
    m.dispose();
    const st = events.filter((e) => e.stage === 'model.safetensors');
    expect(st.length).toBeGreaterThanOrEqual(3); // the server writes 16 KiB chunks
    for (let i = 1; i < st.length; i++) expect(st[i].loaded).toBeGreaterThan(st[i - 1].loaded);
    expect(st[st.length - 1].loaded).toBe(size);
    for (const e of st) expect(e.total).toBe(size);
    expect(events[0].stage).toBe('config.json');
    expect(events[events.length - 1]).toEqual({ stage: 'ready', loaded: 1, total: 1 });
  });

  it('cancel from onProgress (AbortSignal) → "cancelled", and every tensor made so far is freed', async () => {
    // small, separated chunks so that bytes are still missing when the abort comes
    const s = await start({ mounts: { '/': gpt2.dir }, chunkBytes: 8 * 1024, chunkDelayMs: 3 });
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const size = statSync(join(gpt2.dir, 'model.safetensors')).size;
    let sawBytes = 0;
    const err = await loadModel(
      { type: 'url', url: s.url },
      {
        dtype: 'f32',
        signal: ac.signal,
        onProgress: (p) => {
          if (p.stage === 'model.safetensors') {
            sawBytes = p.loaded;
            if (p.loaded > size / 2) ac.abort();
          }
        },
      },
    ).then(
      () => null,
      (e) => e,
    );
    await stop(s);
    expect(err).toBeInstanceOf(KnError);
    expect(err.code).toBe('cancelled');
    expect(err.message).toMatch(/cancelled/);
    expect(sawBytes).toBeGreaterThan(size / 2); // it was cancelled mid-file, after tensors were made
    expect(sawBytes).toBeLessThan(size);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cancel from a timer while the body is still arriving (slow server) → "cancelled", tensors freed', async () => {
    const s = await start({ mounts: { '/': gpt2.dir }, chunkBytes: 8 * 1024, chunkDelayMs: 25 });
    try {
      const before = tf.memory().numTensors;
      const ac = new AbortController();
      let bytes = 0;
      const p = loadModel(
        { type: 'url', url: s.url },
        {
          dtype: 'f32',
          signal: ac.signal,
          onProgress: (e) => {
            if (e.stage === 'model.safetensors' && e.loaded > 0 && bytes === 0) {
              bytes = e.loaded;
              setTimeout(() => ac.abort(), 60); // while a read is pending
            }
          },
        },
      );
      const err = await p.then(
        () => null,
        (e) => e,
      );
      expect(bytes).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
      expect(err).toBeInstanceOf(KnError);
      expect(err.code).toBe('cancelled');
      expect(err.message).toMatch(/cancelled/);
    } finally {
      await stop(s);
    }
  });
});

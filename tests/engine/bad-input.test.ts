/**
 * The loader on bad input: every refusal is a KnError with a stable `code` and a message that names the
 * file or tensor at fault and the problem; a failed load leaves no tensors behind and the engine keeps
 * working. Also the tokenizer/probe refusals (bad prompts and targets).
 *
 * Corrupt checkpoints are made by writing a real tiny checkpoint and editing its bytes with node:fs.
 * Header edits keep the header length (padding with spaces, which safetensors allows).
 */
import { cpSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportKnBundle } from '../../src/cli/export';
import { KnError, loadModel } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import type { KnErrorCode } from '../../src/shared/errors';
import type { LoadOptions, ModelSourceSpec } from '../../src/shared/types';
import { start, stop } from '../helpers/http-server';
import type { TinyArch, TinyCheckpoint, TinyOptions } from '../helpers/tiny-checkpoints';
import { maxAbsDiff, ready, tiny, TMP } from './setup';

// ---------------------------------------------------------------------------------------------------
// helpers

async function caught(p: Promise<unknown>): Promise<KnError> {
  const e = await p.then(
    () => null,
    (err) => err,
  );
  if (e === null) throw new Error('expected a KnError, but the call succeeded');
  expect(e, `not a KnError: ${e}`).toBeInstanceOf(KnError);
  return e as KnError;
}

function expectMessage(e: KnError, patterns: (string | RegExp)[]) {
  for (const p of patterns) {
    if (typeof p === 'string') expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
}

/** Loads `spec`, expects a KnError with `code` and a message matching every pattern, and no leaked tensors. */
async function failLoad(spec: ModelSourceSpec, code: KnErrorCode, patterns: (string | RegExp)[], opts: LoadOptions = {}): Promise<KnError> {
  await ready;
  const before = tf.memory().numTensors;
  const e = await caught(loadModel(spec, opts));
  expect(e.code, e.message).toBe(code);
  expectMessage(e, patterns);
  expect(tf.memory().numTensors).toBe(before);
  return e;
}

let copies = 0;
/** A private copy of a tiny checkpoint that the test may damage. */
async function damaged(arch: TinyArch, opts: TinyOptions = {}): Promise<{ dir: string; ck: TinyCheckpoint }> {
  const ck = await tiny(arch, opts);
  const dir = join(TMP, `damaged-${arch}-${++copies}`);
  cpSync(ck.dir, dir, { recursive: true });
  return { dir, ck };
}

interface StHeader {
  n: number; // JSON header length
  header: Record<string, any>;
  buf: Buffer;
}
function readSt(file: string): StHeader {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  return { n, header: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), buf };
}
/** Rewrites the JSON header in place, keeping its byte length (drops __metadata__ if it must, pads with spaces). */
function editHeader(file: string, edit: (h: Record<string, any>) => void) {
  const { n, header, buf } = readSt(file);
  edit(header);
  let json = JSON.stringify(header);
  if (Buffer.byteLength(json) > n) {
    delete header.__metadata__;
    json = JSON.stringify(header);
  }
  if (Buffer.byteLength(json) > n) throw new Error(`edited header is ${Buffer.byteLength(json)} bytes, more than ${n}`);
  buf.write(json.padEnd(n, ' '), 8, 'utf8');
  writeFileSync(file, buf);
}
/** Byte position (in the file) of a tensor's data range. */
function tensorRange(file: string, name: string): [number, number] {
  const { n, header } = readSt(file);
  const t = header[name];
  if (!t) throw new Error(`no tensor ${name} in ${file}`);
  return [8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]];
}

const GPT2_PROMPT = 'The capital of France is';

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  await ready;
});

describe('config.json and tokenizer.json', () => {
  it('config.json missing → missing-file naming config.json and the folder', async () => {
    const { dir } = await damaged('gpt2');
    rmSync(join(dir, 'config.json'));
    await failLoad({ type: 'folder', path: dir }, 'missing-file', ['config.json', 'not found', dir]);
  });

  it('config.json is not JSON → corrupt-file', async () => {
    const { dir } = await damaged('gpt2');
    writeFileSync(join(dir, 'config.json'), '{"architectures": ["GPT2LMHeadModel"], n_embd: 32');
    await failLoad({ type: 'folder', path: dir }, 'corrupt-file', ['config.json', 'not valid JSON']);
  });

  it('unknown architecture (MambaForCausalLM) → unsupported-architecture listing the supported ones', async () => {
    const { dir, ck } = await damaged('gpt2');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...ck.config, architectures: ['MambaForCausalLM'], model_type: 'mamba' }));
    await failLoad({ type: 'folder', path: dir }, 'unsupported-architecture', [
      'config.json',
      '"MambaForCausalLM" is not supported',
      'GPT2LMHeadModel',
      'LlamaForCausalLM',
      'Qwen2ForCausalLM',
      'BertForMaskedLM',
    ]);
  });

  it('config.json without n_embd → bad-config naming the key', async () => {
    const { dir, ck } = await damaged('gpt2');
    const cfg = { ...ck.config };
    delete cfg.n_embd;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    await failLoad({ type: 'folder', path: dir }, 'bad-config', ['config.json', '"n_embd"']);
  });

  it('tokenizer.json missing → missing-file naming tokenizer.json', async () => {
    const { dir } = await damaged('gpt2');
    rmSync(join(dir, 'tokenizer.json'));
    await failLoad({ type: 'folder', path: dir }, 'missing-file', ['tokenizer.json', 'not found']);
  });
});

describe('model.safetensors', () => {
  it('garbage bytes → corrupt-file naming model.safetensors', async () => {
    const { dir } = await damaged('gpt2');
    const size = statSync(join(dir, 'model.safetensors')).size;
    const junk = Buffer.alloc(size);
    for (let i = 0; i < size; i++) junk[i] = (i * 7919 + 13) & 0xff;
    writeFileSync(join(dir, 'model.safetensors'), junk);
    await failLoad({ type: 'folder', path: dir }, 'corrupt-file', ['model.safetensors', 'not a safetensors file']);
  });

  it('truncated in the middle of a tensor (folder) → truncated naming the tensor', async () => {
    const { dir } = await damaged('gpt2');
    const file = join(dir, 'model.safetensors');
    const name = 'transformer.h.1.mlp.c_fc.weight';
    const [a, b] = tensorRange(file, name);
    truncateSync(file, Math.floor((a + b) / 2));
    await failLoad({ type: 'folder', path: dir }, 'truncated', ['model.safetensors', `"${name}"`], { dtype: 'f32' });
  });

  it('truncated in the middle of a tensor, streamed with unknown size (chunked HTTP) → truncated naming the tensor', async () => {
    const { dir } = await damaged('gpt2');
    const file = join(dir, 'model.safetensors');
    const name = 'transformer.h.1.mlp.c_fc.weight';
    const [a, b] = tensorRange(file, name);
    truncateSync(file, Math.floor((a + b) / 2));
    const s = await start({ mounts: { '/': dir }, chunked: true });
    try {
      await failLoad({ type: 'url', url: s.url }, 'truncated', ['model.safetensors', `inside tensor "${name}"`], { dtype: 'f32' });
    } finally {
      await stop(s);
    }
  });

  // The server promises Content-Length bytes and closes the socket halfway. 'truncated' (the file ended
  // early) and 'unreachable' (the connection broke) are both fair codes; a raw TypeError is not.
  it('connection closed mid-body (Content-Length promised more) → truncated/unreachable naming the file', async () => {
    const { dir } = await damaged('gpt2');
    const file = join(dir, 'model.safetensors');
    const [a, b] = tensorRange(file, 'transformer.h.1.mlp.c_fc.weight');
    const cut = Math.floor((a + b) / 2);
    const s = await start({ mounts: { '/': dir }, abortAfter: (p) => (p === '/model.safetensors' ? cut : undefined) });
    try {
      const before = tf.memory().numTensors;
      const e = await caught(loadModel({ type: 'url', url: s.url }, { dtype: 'f32' }));
      expect(['truncated', 'unreachable'], e.message).toContain(e.code);
      expect(e.message).toContain('model.safetensors');
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await stop(s);
    }
  });

  it('header data_offsets outside the file → bad-header "lie outside the file" naming the tensor', async () => {
    const { dir } = await damaged('gpt2');
    const file = join(dir, 'model.safetensors');
    const name = 'transformer.ln_f.bias';
    editHeader(file, (h) => {
      const [x, y] = h[name].data_offsets;
      h[name].data_offsets = [x + 1_000_000, y + 1_000_000];
    });
    await failLoad({ type: 'folder', path: dir }, 'bad-header', ['model.safetensors', `"${name}"`, 'lie outside the file']);
  });

  it('a tensor with the wrong shape → bad-tensor naming the tensor and both shapes', async () => {
    const { dir } = await damaged('gpt2');
    const name = 'transformer.h.1.mlp.c_fc.weight'; // [32, 128]; late in the file, after many tensors were made
    editHeader(join(dir, 'model.safetensors'), (h) => {
      h[name].shape = [128, 32];
    });
    await failLoad({ type: 'folder', path: dir }, 'bad-tensor', ['model.safetensors', `"${name}"`, '[128, 32]', 'expected [32, 128]'], {
      dtype: 'f32',
    });
  });

  for (const dtype of ['I64', 'F64']) {
    it(`a tensor with unsupported dtype ${dtype} → bad-tensor naming the tensor and the dtype`, async () => {
      const { dir } = await damaged('gpt2');
      const name = 'transformer.h.1.ln_2.bias'; // F32 [32] = 128 bytes = 16 × 8-byte values
      editHeader(join(dir, 'model.safetensors'), (h) => {
        h[name].dtype = dtype;
        h[name].shape = [16];
      });
      await failLoad({ type: 'folder', path: dir }, 'bad-tensor', ['model.safetensors', `"${name}"`, dtype, 'F32, F16 and BF16']);
    });
  }

  it('a missing tensor → bad-tensor "missing tensor" naming it', async () => {
    const { dir } = await damaged('gpt2');
    editHeader(join(dir, 'model.safetensors'), (h) => {
      delete h['transformer.h.1.ln_2.bias'];
    });
    await failLoad({ type: 'folder', path: dir }, 'bad-tensor', ['model.safetensors', 'missing tensor', '"h.1.ln_2.bias"']);
  });
});

describe('sharded checkpoints', () => {
  it('a truncated shard → truncated naming the shard and the tensor', async () => {
    const { dir } = await damaged('llama', { seed: 2, shards: 3 });
    const shard = 'model-00002-of-00003.safetensors';
    const file = join(dir, shard);
    const { header } = readSt(file);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const biggest = names.sort((x, y) => header[y].data_offsets[1] - header[y].data_offsets[0] - (header[x].data_offsets[1] - header[x].data_offsets[0]))[0];
    const [a, b] = tensorRange(file, biggest);
    truncateSync(file, Math.floor((a + b) / 2));
    await failLoad({ type: 'folder', path: dir }, 'truncated', [shard, `"${biggest}"`], { dtype: 'f32' });
  });

  it('a shard listed in the index but absent → missing-file naming the shard and the index', async () => {
    const { dir } = await damaged('llama', { seed: 2, shards: 3 });
    rmSync(join(dir, 'model-00003-of-00003.safetensors'));
    await failLoad({ type: 'folder', path: dir }, 'missing-file', ['model-00003-of-00003.safetensors', 'not found', 'model.safetensors.index.json'], {
      dtype: 'f32',
    });
  });
});

describe('URLs', () => {
  it('unreachable URL (closed port) → unreachable naming the URL', async () => {
    const s = await start((await tiny('gpt2')).dir);
    const url = s.url;
    await stop(s); // nothing listens on that port any more
    await failLoad({ type: 'url', url }, 'unreachable', [`${url}/config.json`, 'unreachable']);
  });

  it('HTTP 500 → unreachable with the status and the URL', async () => {
    const s = await start({ mounts: { '/': (await tiny('gpt2')).dir }, status: (p) => (p === '/tokenizer.json' ? 500 : undefined) });
    try {
      await failLoad({ type: 'url', url: s.url }, 'unreachable', [`${s.url}/tokenizer.json`, 'HTTP 500']);
    } finally {
      await stop(s);
    }
  });
});

describe('device limits', () => {
  it('maxDeviceBytes too small → too-large with the parameter count and the limit', async () => {
    const ck = await tiny('gpt2');
    await failLoad({ type: 'folder', path: ck.dir }, 'too-large', ['parameters', 'device memory in f32', 'this device allows'], {
      dtype: 'f32',
      maxDeviceBytes: 10_000,
    });
  });

  it('maxTensorBytes too small → too-large naming the largest tensor', async () => {
    const ck = await tiny('gpt2');
    await failLoad({ type: 'folder', path: ck.dir }, 'too-large', ['"wte.weight"', 'buffer limit'], { maxTensorBytes: 1024 });
  });
});

describe('kn-int8 bundles', () => {
  let bundle: string;
  beforeAll(async () => {
    const ck = await tiny('gpt2');
    const m = await loadModel({ type: 'folder', path: ck.dir });
    try {
      bundle = join(TMP, 'bad-input-bundle');
      await exportKnBundle(m, ck.dir, bundle, 32 * 1024);
    } finally {
      m.dispose();
    }
  });
  const copy = () => {
    const dir = join(TMP, `damaged-bundle-${++copies}`);
    cpSync(bundle, dir, { recursive: true });
    return dir;
  };

  it('the untouched bundle loads (control)', async () => {
    const m = await loadModel({ type: 'folder', path: copy() });
    expect(m.info.numParams).toBeGreaterThan(0);
    m.dispose();
  });

  it('a modified shard (same size) → integrity, "refusing", naming the shard', async () => {
    const dir = copy();
    const file = join(dir, 'weights-00002.bin');
    const buf = readFileSync(file);
    buf[100] ^= 0x01;
    writeFileSync(file, buf);
    await failLoad({ type: 'folder', path: dir }, 'integrity', ['weights-00002.bin', 'sha256', 'does not match kn-manifest.json', 'refusing']);
  });

  it('connection closed in the middle of a bundle shard → truncated/unreachable naming the shard', async () => {
    const dir = copy();
    const size = statSync(join(dir, 'weights-00002.bin')).size;
    const s = await start({ mounts: { '/': dir }, abortAfter: (p) => (p === '/weights-00002.bin' ? Math.floor(size / 2) : undefined) });
    try {
      const before = tf.memory().numTensors;
      const e = await caught(loadModel({ type: 'url', url: s.url }));
      expect(['truncated', 'unreachable'], e.message).toContain(e.code);
      expect(e.message).toContain('weights-00002.bin');
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await stop(s);
    }
  });

  it('a bundle shard served shorter than the manifest says → truncated naming the shard and both sizes', async () => {
    const dir = copy();
    const size = statSync(join(dir, 'weights-00002.bin')).size;
    truncateSync(join(dir, 'weights-00002.bin'), size - 100);
    await failLoad({ type: 'folder', path: dir }, 'truncated', ['weights-00002.bin', `${size - 100} bytes`, `says ${size}`]);
  });

  it('a manifest with an unknown formatVersion → corrupt-file naming kn-manifest.json and the version', async () => {
    const dir = copy();
    const m = JSON.parse(readFileSync(join(dir, 'kn-manifest.json'), 'utf8'));
    m.formatVersion = 2;
    writeFileSync(join(dir, 'kn-manifest.json'), JSON.stringify(m));
    await failLoad({ type: 'folder', path: dir }, 'corrupt-file', ['kn-manifest.json', 'format version 2 is not supported']);
  });
});

describe('after failed loads the engine keeps working', () => {
  it('a load that fails after making tensors frees them, and a valid model then loads and probes as before', async () => {
    const ck = await tiny('gpt2');
    const first = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
    const a = await first.probe(GPT2_PROMPT, { topK: 531 });
    first.dispose();

    const before = tf.memory().numTensors;
    const { dir } = await damaged('gpt2');
    editHeader(join(dir, 'model.safetensors'), (h) => {
      h['transformer.ln_f.weight'].shape = [2, 16]; // the last tensors: nearly all others were on the device
    });
    const e = await caught(loadModel({ type: 'folder', path: dir }, { dtype: 'f32' }));
    expect(e.code).toBe('bad-tensor');
    expect(e.message).toContain('"transformer.ln_f.weight"');
    expect(tf.memory().numTensors).toBe(before);

    const again = await loadModel({ type: 'folder', path: ck.dir }, { dtype: 'f32' });
    try {
      const b = await again.probe(GPT2_PROMPT, { topK: 531 });
      expect(b.top[0].id).toBe(a.top[0].id);
      const pa = new Float64Array(531),
        pb = new Float64Array(531);
      for (const t of a.top) pa[t.id] = t.prob;
      for (const t of b.top) pb[t.id] = t.prob;
      expect(maxAbsDiff(pa, pb)).toBe(0);
      expect(tf.memory().numTensors).toBeGreaterThan(before);
    } finally {
      again.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('prompts and targets', () => {
  let gpt2: LoadedModel;
  let bert: LoadedModel;
  beforeAll(async () => {
    gpt2 = await loadModel({ type: 'folder', path: (await tiny('gpt2')).dir });
    bert = await loadModel({ type: 'folder', path: (await tiny('bert')).dir });
  });
  afterAll(() => {
    gpt2?.dispose();
    bert?.dispose();
  });
  async function failProbe(m: LoadedModel, prompt: string, target: string | undefined, patterns: (string | RegExp)[]) {
    const before = tf.memory().numTensors;
    const e = await caught(m.probe(prompt, { target }));
    expect(e.code, e.message).toBe('bad-input');
    expectMessage(e, patterns);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('empty prompt → bad-input', async () => {
    await failProbe(gpt2, '', undefined, ['the prompt is empty']);
    await failProbe(gpt2, '   \n', undefined, ['the prompt is empty']);
  });

  it('masked model prompt without [MASK] → bad-input naming the mask token', async () => {
    await failProbe(bert, 'the capital of france is paris .', undefined, ['no mask token', '[MASK]']);
  });

  it('masked model prompt with two masks → bad-input', async () => {
    await failProbe(bert, 'the capital of [MASK] is [MASK] .', undefined, ['2 mask tokens', 'exactly one [MASK]']);
  });

  it('a prompt longer than the context (64 positions) → bad-input with both lengths', async () => {
    const long = Array.from({ length: 80 }, () => 'the capital of france').join(' ');
    await failProbe(gpt2, long, undefined, [/the prompt has \d+ tokens/, "the model's context is 64 tokens"]);
    await failProbe(bert, long + ' [MASK] .', undefined, [/the prompt has \d+ tokens/, "the model's context is 64 tokens"]);
  });

  it('a BERT target not in the vocabulary → bad-input "not in the vocabulary"', async () => {
    await failProbe(bert, 'the capital of france is [MASK] .', '🙂', ['"🙂"', 'not in the vocabulary', '[UNK]']);
  });

  it('the same prompts work when they are right (control)', async () => {
    const r = await bert.probe('the capital of france is [MASK] .', { target: 'paris' });
    expect(r.ids[r.position]).toBe(bert.tok.maskId);
    expect(r.target!.prob).toBeGreaterThan(0);
    const g = await gpt2.probe(GPT2_PROMPT, { target: 'Paris' });
    expect(g.position).toBe(g.ids.length - 1);
  });
});

/**
 * Loads a model from any source: Hugging Face layout (config.json, tokenizer.json, model.safetensors or
 * model.safetensors.index.json + shards; F32/F16/BF16) or our pre-quantized bundle (kn-manifest.json).
 * Weights are streamed tensor by tensor, checked against the family's expected names and shapes, and
 * quantized on arrival in int8 mode.
 */
import { KnError } from '../../shared/errors';
import { familyFor } from '../families/registry';
import type { ArchConfig, FamilyDef } from '../families/family';
import { Hash64, sha256Hex } from '../../shared/hash';
import { decodeTensor, validateManifest, type KnManifest } from './knformat';
import { LoadedModel } from '../families/model';
import { readAll, readSafetensorsStream } from './safetensors';
import { readJson, readText, type ModelSource } from './source';
import { CALIBRATION_FILE, parseCalibration } from '../selection/calibration';
import { KnTokenizer } from '../families/tokenizer';
import type { LoadOptions, ModelInfo, Progress } from '../../shared/types';
import { WeightStore, type StoredTensor } from '../weights/weights';
import { packedBytes, packedKernelsAvailable, registerInt8Kernels } from '../weights/int8-webgpu';
import * as tf from '@tensorflow/tfjs';
import { ATTRIBUTION_WORK_BYTES, HEAD_CHUNK_BYTES } from '../rules';

const GiB = 1024 ** 3;

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new KnError('cancelled', 'loading cancelled');
}

export async function loadFromSource(src: ModelSource, opts: LoadOptions = {}): Promise<LoadedModel> {
  const { signal } = opts;
  const progress = (p: Progress) => opts.onProgress?.(p);
  progress({ stage: 'config.json', loaded: 0, total: 0 });
  const config = await readJson<Record<string, unknown>>(src, 'config.json', signal);
  if (!config) throw new KnError('missing-file', `config.json: not found in ${src.label}`);
  const { family, architecture } = familyFor(config);
  const cfg = family.parseConfig(config);

  progress({ stage: 'tokenizer.json', loaded: 0, total: 0 });
  const tokJson = await readJson<Record<string, unknown>>(src, 'tokenizer.json', signal);
  if (!tokJson) throw new KnError('missing-file', `tokenizer.json: not found in ${src.label}`);
  const tokCfg = (await readJson<Record<string, unknown>>(src, 'tokenizer_config.json', signal)) ?? {};
  const tok = new KnTokenizer(tokJson, tokCfg, family.kind, config);
  if (tok.vocabSize > cfg.vocab) {
    throw new KnError('bad-config', `tokenizer.json has ${tok.vocabSize} tokens but config.json's vocab_size is ${cfg.vocab}`);
  }

  const expected = family.expected(cfg);
  const dtype = opts.dtype ?? 'int8';
  const numParams = expected.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  const packed = usePacked(dtype, opts);
  if (packed) checkFitsPacked(expected, numParams, opts);
  else checkFits(expected, numParams, dtype, opts, cfg);

  const store = new WeightStore(dtype, opts.deviceBudgetBytes, { packed });
  const hash = new Hash64().text(JSON.stringify(config));
  try {
    const manifest = await readJson<unknown>(src, 'kn-manifest.json', signal);
    if (manifest) await loadKnBundle(src, validateManifest(manifest), expected, store, hash, opts);
    else await loadSafetensors(src, family, expected, store, hash, opts);
  } catch (e) {
    store.dispose();
    throw e;
  }
  const info: ModelInfo = {
    architecture,
    family: family.key,
    kind: family.kind,
    numLayers: cfg.numLayers,
    hiddenSize: cfg.hidden,
    ffnSize: cfg.ffn,
    vocabSize: cfg.vocab,
    maxPositions: cfg.maxPositions,
    numParams: store.numParams,
    dtype,
    weightBytes: store.heldBytes,
    deviceWeights: dtype === 'f32' ? 'f32' : packed ? 'packed-int8' : 'dequantized-lru',
    contentHash: hash.hex(),
    source: src.label,
    maskToken: tok.maskToken,
  };
  // the folder's calibrated MaTrice settings: a malformed or foreign block is refused, never fatal
  try {
    const text = await readText(src, CALIBRATION_FILE, signal);
    if (text !== null) info.calibration = parseCalibration(text, info.contentHash);
  } catch (e) {
    if (e instanceof KnError && e.code === 'cancelled') {
      store.dispose();
      throw e;
    }
    info.calibrationProblem = e instanceof Error ? e.message : String(e);
  }
  progress({ stage: 'ready', loaded: 1, total: 1 });
  const model = new LoadedModel(info, family, cfg, tok, store, { config, tokenizerJson: tokJson, tokenizerConfig: tokCfg });
  model.maxDeviceBytes = opts.maxDeviceBytes;
  return model;
}

/** Whether int8 matrices go to the device packed (WebGPU) or dequantized into the LRU. */
function usePacked(dtype: string, opts: LoadOptions): boolean {
  const mode = opts.deviceWeights ?? 'auto';
  if (mode !== 'auto' && mode !== 'packed' && mode !== 'lru') {
    throw new KnError('bad-input', `deviceWeights must be "auto", "packed" or "lru", got "${String(mode)}"`);
  }
  if (dtype !== 'int8' || mode === 'lru') return false;
  if (!packedKernelsAvailable()) {
    if (mode === 'packed')
      throw new KnError('bad-input', `packed int8 weights need the WebGPU backend; this one is ${tf.getBackend()} (use deviceWeights "lru" or "auto")`);
    return false;
  }
  registerInt8Kernels();
  return true;
}

/**
 * Packed mode: every matrix packed (1 byte per parameter, a scale per output channel) plus the float32
 * vectors must fit the device, and the largest packed matrix one storage buffer; refused before anything
 * is uploaded, with the numbers.
 */
function checkFitsPacked(expected: StoredTensor[], numParams: number, opts: LoadOptions) {
  let need = 0;
  let largest: StoredTensor | undefined,
    largestBytes = 0;
  for (const t of expected) {
    if (t.shape.length === 2) {
      const b = packedBytes(t.shape, t.axis ?? 0);
      need += b;
      const words = b - t.shape[t.axis ?? 0] * 4; // the int32 words (the scales are a buffer of their own)
      if (words > largestBytes) {
        largestBytes = words;
        largest = t;
      }
    } else need += t.shape.reduce((a, b) => a * b, 1) * 4;
  }
  if (opts.maxTensorBytes !== undefined && largest && largestBytes > opts.maxTensorBytes) {
    throw new KnError(
      'too-large',
      `tensor "${largest.name}" needs ${fmtBytes(largestBytes)} as packed int8, above this device's ${fmtBytes(opts.maxTensorBytes)} buffer limit (maxStorageBufferBindingSize / maxBufferSize); nothing was uploaded`,
    );
  }
  if (opts.maxDeviceBytes !== undefined && need > opts.maxDeviceBytes) {
    throw new KnError(
      'too-large',
      `the model has ${numParams.toLocaleString('en-US')} parameters and needs ${fmtBytes(need)} of device memory as packed int8 (1 byte per parameter, a float32 scale per output channel, float32 norms and biases); this device allows ${fmtBytes(opts.maxDeviceBytes)}; nothing was uploaded`,
    );
  }
}

/** 1023 B, 6.3 KiB, 130.2 MiB, 1.25 GiB */
function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < GiB) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / GiB).toFixed(2)} GiB`;
}

function checkFits(expected: StoredTensor[], numParams: number, dtype: string, opts: LoadOptions, cfg: ArchConfig) {
  const largest = expected.reduce((a, t) => Math.max(a, t.shape.reduce((x, y) => x * y, 1) * 4), 0);
  if (dtype !== 'f32' && opts.maxDeviceBytes !== undefined) {
    // int8 on the LRU path: what the streamed attribution needs at least (matrice/stream.ts), as float32 on
    // the device: every norm and bias, the LRU (or the largest layer, dequantized as a whole), one chunk of the
    // vocabulary matrices (embedding rows and head chunks are never dequantized whole) or the largest other
    // matrix, and the attribution's work budget; the int8 matrices themselves stay on the host
    let vectors = 0,
      other = 0;
    const layers = new Map<string, number>();
    for (const t of expected) {
      const b = t.shape.reduce((x, y) => x * y, 1) * 4;
      if (t.shape.length === 1) vectors += b;
      else if (t.group.startsWith('layer.')) layers.set(t.group, (layers.get(t.group) ?? 0) + b);
      else if (t.shape[0] === cfg.vocab) other = Math.max(other, Math.min(b, HEAD_CHUNK_BYTES));
      else other = Math.max(other, b);
    }
    const layer = Math.max(0, ...layers.values());
    const need = vectors + Math.max(opts.deviceBudgetBytes ?? 256 * 1024 ** 2, layer) + other + ATTRIBUTION_WORK_BYTES;
    if (need > opts.maxDeviceBytes) {
      throw new KnError(
        'too-large',
        `the model has ${(numParams / 1e6).toFixed(1)}M parameters and needs at least ${(need / GiB).toFixed(2)} GiB of device memory in ${dtype}, even attributing layer by layer (float32 norms and biases ${fmtBytes(vectors)}, one layer's weights as float32 ${fmtBytes(layer)} or the weight cache, a chunk of the vocabulary matrix ${fmtBytes(other)}, a ${fmtBytes(ATTRIBUTION_WORK_BYTES)} work budget); this device allows ${(opts.maxDeviceBytes / GiB).toFixed(2)} GiB; nothing was loaded`,
      );
    }
  }
  const need = dtype === 'f32' ? numParams * 4 : 0;
  if (opts.maxDeviceBytes !== undefined && need > opts.maxDeviceBytes) {
    throw new KnError(
      'too-large',
      `the model has ${(numParams / 1e6).toFixed(1)}M parameters and needs ${(need / GiB).toFixed(2)} GiB of device memory in ${dtype}; this device allows ${(opts.maxDeviceBytes / GiB).toFixed(2)} GiB`,
    );
  }
  if (opts.maxTensorBytes !== undefined && largest > opts.maxTensorBytes) {
    const t = expected.find((x) => x.shape.reduce((a, b) => a * b, 1) * 4 === largest)!;
    throw new KnError(
      'too-large',
      `tensor "${t.name}" needs ${(largest / 1024 ** 2).toFixed(0)} MiB as float32, above this device's ${(opts.maxTensorBytes / 1024 ** 2).toFixed(0)} MiB buffer limit`,
    );
  }
}

async function loadSafetensors(src: ModelSource, family: FamilyDef, expected: StoredTensor[], store: WeightStore, hash: Hash64, opts: LoadOptions) {
  const { signal } = opts;
  let files: string[];
  const single = await src.open('model.safetensors', signal);
  let handles: ({ size?: number; stream: ReadableStream<Uint8Array> } | null)[] = [];
  if (single) {
    files = ['model.safetensors'];
    handles = [single];
  } else {
    const index = await readJson<{ weight_map?: Record<string, string> }>(src, 'model.safetensors.index.json', signal);
    if (!index) throw new KnError('missing-file', `model.safetensors: not found in ${src.label} (nor model.safetensors.index.json)`);
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new KnError('corrupt-file', 'model.safetensors.index.json: "weight_map" is missing');
    }
    files = [...new Set(Object.values(index.weight_map))].sort();
  }
  const byName = new Map(expected.map((t) => [t.name, t]));
  const seen = new Map<string, string>();
  const tensorHashes: [string, string][] = [];
  let loadedBefore = 0;
  // sizes are known per file as it opens; the total grows as shards open
  const sizes: number[] = [];
  for (let i = 0; i < files.length; i++) {
    checkAbort(signal);
    const file = files[i];
    const h = handles[i] ?? (await src.open(file, signal));
    if (!h) throw new KnError('missing-file', `${file}: not found in ${src.label} (listed in model.safetensors.index.json)`);
    sizes[i] = h.size ?? 0;
    const total = () => sizes.reduce((a, b) => a + b, 0) + (files.length - 1 - i) * (sizes[0] || 0);
    await readSafetensorsStream(h.stream, {
      file,
      size: h.size,
      signal,
      onBytes: (n) => opts.onProgress?.({ stage: file, loaded: loadedBefore + n, total: total() }),
      onTensor: (t) => {
        const name = family.canonical(t.name);
        if (name === null) return;
        const spec = byName.get(name);
        if (!spec) return; // unused by this architecture (e.g. an untied copy the model ties)
        if (seen.has(name)) throw new KnError('bad-tensor', `${file}: tensor "${t.name}" appears twice (also in ${seen.get(name)})`);
        if (t.shape.length !== spec.shape.length || t.shape.some((d, k) => d !== spec.shape[k])) {
          throw new KnError('bad-tensor', `${file}: tensor "${t.name}" has shape [${t.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
        }
        for (let k = 0; k < t.data.length; k++) {
          if (!Number.isFinite(t.data[k])) throw new KnError('bad-tensor', `${file}: tensor "${t.name}" contains ${t.data[k]} at element ${k}`);
        }
        seen.set(name, file);
        tensorHashes.push([name, new Hash64().words(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)).hex()]);
        store.add(spec, t.data);
      },
    });
    loadedBefore += sizes[i];
  }
  const missing = expected.filter((t) => !seen.has(t.name));
  if (missing.length) {
    const names = missing
      .slice(0, 5)
      .map((t) => `"${t.name}"`)
      .join(', ');
    throw new KnError(
      'bad-tensor',
      `${files.join(', ')}: missing tensor${missing.length > 1 ? 's' : ''} ${names}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
    );
  }
  for (const [n, h] of tensorHashes.sort((a, b) => (a[0] < b[0] ? -1 : 1))) hash.text(n + h);
}

async function loadKnBundle(src: ModelSource, m: KnManifest, expected: StoredTensor[], store: WeightStore, hash: Hash64, opts: LoadOptions) {
  const { signal } = opts;
  const byName = new Map(expected.map((t) => [t.name, t]));
  const total = m.shards.reduce((a, s) => a + s.bytes, 0);
  let loaded = 0;
  const seen = new Set<string>();
  for (let i = 0; i < m.shards.length; i++) {
    checkAbort(signal);
    const s = m.shards[i];
    const h = await src.open(s.file, signal);
    if (!h) throw new KnError('missing-file', `${s.file}: not found in ${src.label} (listed in kn-manifest.json)`);
    const buf = await readAll(h.stream, s.file, h.size, signal);
    if (buf.byteLength !== s.bytes) {
      throw new KnError('truncated', `${s.file}: has ${buf.byteLength} bytes, kn-manifest.json says ${s.bytes}`);
    }
    const digest = await sha256Hex(buf);
    if (digest !== s.sha256) {
      throw new KnError(
        'integrity',
        `${s.file}: sha256 ${digest.slice(0, 12)}… does not match kn-manifest.json (${s.sha256.slice(0, 12)}…); refusing to load this model`,
      );
    }
    loaded += s.bytes;
    opts.onProgress?.({ stage: s.file, loaded, total });
    for (const e of m.tensors) {
      if (e.shard !== i) continue;
      const spec = byName.get(e.name);
      if (!spec) continue;
      if (e.shape.length !== spec.shape.length || e.shape.some((d, k) => d !== spec.shape[k])) {
        throw new KnError('bad-tensor', `${s.file}: tensor "${e.name}" has shape [${e.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
      }
      const d = decodeTensor(e, buf);
      if (d.q) store.addQuantized(spec, d.q);
      else store.add(spec, d.f32!);
      seen.add(e.name);
    }
  }
  const missing = expected.filter((t) => !seen.has(t.name));
  if (missing.length)
    throw new KnError('bad-tensor', `kn-manifest.json: missing tensor "${missing[0].name}"${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}`);
  hash.text(m.contentHash);
}

export type { ArchConfig };

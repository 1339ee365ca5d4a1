/**
 * Our pre-quantized shard format for bundled models ("kn-int8", version 1), documented in docs/MODEL_FORMAT.md.
 * A folder holds config.json, tokenizer.json, tokenizer_config.json, kn-manifest.json and weight shards
 * (weights-00001.bin, …). Each tensor is a byte range of one shard: int8 matrices store q (rows·cols
 * int8, row-major, HF layout) then, at the next multiple of 4, one float32 scale per output channel;
 * f32 tensors store little-endian float32. The manifest gives every shard's sha256.
 */
import { KnError } from '../../shared/errors';
import type { QuantizedMatrix } from '../weights/quant';

export const KN_FORMAT = 'kn-int8';
export const KN_FORMAT_VERSION = 1;

export interface KnTensorEntry {
  name: string; // canonical name (unprefixed HF name)
  shape: number[];
  kind: 'int8' | 'f32';
  axis?: 0 | 1;
  shard: number;
  offset: number;
  bytes: number;
}

export interface KnManifest {
  format: typeof KN_FORMAT;
  formatVersion: number;
  architecture: string;
  numParams: number;
  contentHash: string;
  shards: { file: string; bytes: number; sha256: string }[];
  tensors: KnTensorEntry[];
}

export function validateManifest(m: unknown): KnManifest {
  const x = m as Partial<KnManifest>;
  if (!x || x.format !== KN_FORMAT) throw new KnError('corrupt-file', `kn-manifest.json: format is "${x?.format}", expected "${KN_FORMAT}"`);
  if (x.formatVersion !== KN_FORMAT_VERSION) {
    throw new KnError('corrupt-file', `kn-manifest.json: format version ${x.formatVersion} is not supported (this app reads version ${KN_FORMAT_VERSION})`);
  }
  if (!Array.isArray(x.shards) || !Array.isArray(x.tensors)) throw new KnError('corrupt-file', 'kn-manifest.json: shards or tensors missing');
  for (const t of x.tensors) {
    const s = x.shards[t.shard];
    if (!s || t.offset < 0 || t.offset + t.bytes > s.bytes) {
      throw new KnError('corrupt-file', `kn-manifest.json: tensor "${t.name}" points outside its shard`);
    }
  }
  return x as KnManifest;
}

export function decodeTensor(e: KnTensorEntry, shard: Uint8Array): { f32?: Float32Array; q?: QuantizedMatrix } {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const bytes = shard.slice(e.offset, e.offset + e.bytes);
  if (e.kind === 'f32') {
    if (e.bytes !== n * 4) throw new KnError('corrupt-file', `kn-manifest.json: tensor "${e.name}" has ${e.bytes} bytes, expected ${n * 4}`);
    return { f32: new Float32Array(bytes.buffer, 0, n) };
  }
  const shape = e.shape as [number, number];
  const channels = e.axis === 1 ? shape[1] : shape[0];
  const scaleOff = align4(n);
  if (e.bytes !== scaleOff + channels * 4) {
    throw new KnError('corrupt-file', `kn-manifest.json: tensor "${e.name}" has ${e.bytes} bytes, expected ${scaleOff + channels * 4}`);
  }
  return {
    q: { shape, axis: e.axis ?? 0, q: new Int8Array(bytes.buffer, 0, n), scales: new Float32Array(bytes.buffer, scaleOff, channels) },
  };
}

export function align4(n: number) {
  return (n + 3) & ~3;
}

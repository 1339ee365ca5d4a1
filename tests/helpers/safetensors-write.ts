/**
 * Test helper: write safetensors files (single file and sharded checkpoints), independent of src/engine.
 *
 * Format (https://github.com/huggingface/safetensors): 8-byte little-endian unsigned header length N,
 * then N bytes of UTF-8 JSON `{ "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] } }`
 * (offsets relative to the start of the data section, header padded with spaces to a multiple of 8 bytes
 * as the Rust writer does), then the raw little-endian tensor bytes.
 *
 * Conversions from float64 round to nearest, ties to even, directly from the float64 value (no detour
 * through float32, so there is no double rounding). Overflow gives ±Infinity, NaN stays NaN.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type StDtype = 'F32' | 'F16' | 'BF16';

export interface TensorEntry {
  name: string;
  shape: number[];
  /** values in row-major order; rounded to `dtype` when written */
  data: ArrayLike<number>;
  dtype?: StDtype; // default F32
}

export const BYTES_PER: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Round a float64 to the nearest value of a binary floating-point format with `mant` fraction bits and
 * exponent range [emin, emax] (normal numbers), ties to even, subnormals included. Returns the rounded
 * value as a float64 (exactly representable in the target format), or ±Infinity on overflow.
 */
function roundToFormat(x: number, mant: number, emin: number, emax: number): number {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  if (e < emin) e = emin; // subnormal: fixed quantum 2^(emin - mant)
  const q = e - mant; // quantum exponent
  const s = a * 2 ** -q; // exact (power-of-two scaling), s < 2^(mant+1)
  let r = Math.floor(s);
  const d = s - r; // exact
  if (d > 0.5 || (d === 0.5 && r % 2 === 1)) r += 1;
  const v = r * 2 ** q;
  const maxFinite = (2 - 2 ** -mant) * 2 ** emax;
  if (v > maxFinite) return sign * Infinity;
  return sign * v;
}

/** float64 -> nearest float32 (ties to even), as a float64. */
export function roundF32(x: number): number {
  return Math.fround(x);
}
/** float64 -> nearest IEEE half (ties to even), as a float64. */
export function roundF16(x: number): number {
  return roundToFormat(x, 10, -14, 15);
}
/** float64 -> nearest bfloat16 (ties to even), as a float64. */
export function roundBF16(x: number): number {
  return roundToFormat(x, 7, -126, 127);
}

/** Bits of the half-precision value nearest to x. */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const v = roundF16(x);
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | Math.round(a * 2 ** 24); // subnormal, exact
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  const frac = a * 2 ** (10 - e) - 1024; // exact integer in [0, 1023]
  return sign | ((e + 15) << 10) | frac;
}

/** Bits of the bfloat16 value nearest to x. */
export function bf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const v = roundBF16(x); // exactly representable as float32, upper 16 bits carry it
  const f = new Float32Array([v]);
  return new Uint32Array(f.buffer)[0] >>> 16;
}

/** Decode half-precision bits (independent of the encoder). */
export function f16FromBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decode bfloat16 bits. */
export function bf16FromBits(b: number): number {
  const u = new Uint32Array([(b & 0xffff) << 16]);
  return new Float32Array(u.buffer)[0];
}

/** The values exactly as they will be stored for `dtype`. */
export function roundTo(dtype: StDtype, data: ArrayLike<number>): Float64Array {
  const r = dtype === 'F32' ? roundF32 : dtype === 'F16' ? roundF16 : roundBF16;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = r(data[i]);
  return out;
}

function encodeData(dtype: StDtype, data: ArrayLike<number>): Uint8Array {
  const n = data.length;
  const buf = new Uint8Array(n * BYTES_PER[dtype]);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    if (dtype === 'F32') dv.setFloat32(i * 4, data[i], true);
    else if (dtype === 'F16') dv.setUint16(i * 2, f16Bits(data[i]), true);
    else dv.setUint16(i * 2, bf16Bits(data[i]), true);
  }
  return buf;
}

function checkEntry(t: TensorEntry): void {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) {
    throw new Error(`tensor ${t.name}: shape [${t.shape}] needs ${n} values, got ${t.data.length}`);
  }
}

/** Serialize tensors (in the given order) into one safetensors byte buffer. */
export function encodeSafetensors(tensors: TensorEntry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    checkEntry(t);
    if (t.name in header) throw new Error(`duplicate tensor name ${t.name}`);
    const dtype = t.dtype ?? 'F32';
    const blob = encodeData(dtype, t.data);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + blob.length] };
    blobs.push(blob);
    offset += blob.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.length;
  for (const b of blobs) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Write one safetensors file. */
export async function writeSafetensors(file: string, tensors: TensorEntry[], metadata: Record<string, string> | undefined = { format: 'pt' }): Promise<void> {
  await writeFile(file, encodeSafetensors(tensors, metadata));
}

export interface ShardedResult {
  files: string[]; // file names (not paths), in shard order
  weightMap: Record<string, string>;
  totalSize: number; // bytes of tensor data over all shards (what HF writes as metadata.total_size)
}

/** `model-00001-of-00003.safetensors` */
export function shardFileName(i: number, n: number, stem = 'model'): string {
  const p = (k: number) => String(k).padStart(5, '0');
  return `${stem}-${p(i + 1)}-of-${p(n)}.safetensors`;
}

/**
 * Write a sharded checkpoint into `dir`: `shards` files holding contiguous runs of `tensors` with about
 * equal byte sizes (every shard gets at least one tensor), plus `model.safetensors.index.json`.
 */
export async function writeShardedSafetensors(
  dir: string,
  tensors: TensorEntry[],
  shards: number,
  metadata: Record<string, string> | undefined = { format: 'pt' },
  stem = 'model',
): Promise<ShardedResult> {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards must be a positive integer, got ${shards}`);
  if (shards > tensors.length) throw new Error(`cannot split ${tensors.length} tensors into ${shards} shards`);
  await mkdir(dir, { recursive: true });
  const sizes = tensors.map((t) => t.data.length * BYTES_PER[t.dtype ?? 'F32']);
  const totalSize = sizes.reduce((a, b) => a + b, 0);
  // greedy contiguous split at cumulative byte targets, keeping enough tensors for the remaining shards
  const groups: TensorEntry[][] = [];
  let idx = 0;
  let cum = 0;
  for (let s = 0; s < shards; s++) {
    const group: TensorEntry[] = [];
    const target = (totalSize * (s + 1)) / shards;
    const mustLeave = shards - s - 1;
    while (idx < tensors.length - mustLeave && (group.length === 0 || cum + sizes[idx] / 2 <= target || s === shards - 1)) {
      group.push(tensors[idx]);
      cum += sizes[idx];
      idx++;
    }
    groups.push(group);
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const name = shardFileName(s, shards, stem);
    files.push(name);
    for (const t of groups[s]) weightMap[t.name] = name;
    await writeSafetensors(join(dir, name), groups[s], metadata);
  }
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  await writeFile(join(dir, `${stem}.safetensors.index.json`), JSON.stringify(index, null, 2) + '\n');
  return { files, weightMap, totalSize };
}

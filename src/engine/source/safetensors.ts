/**
 * Streaming safetensors reader. The file is consumed once, front to back; each tensor is handed to
 * `onTensor` as soon as its bytes have arrived, converted to Float32Array, so peak memory is one tensor
 * plus the stream's buffer, never the whole file.
 * Format: u64 little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}), then the data block.
 */
import { KnError } from '../../shared/errors';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const SUPPORTED = new Set(['F32', 'F16', 'BF16']);
const MAX_HEADER = 100 * 1024 * 1024;

export interface TensorHeader {
  name: string;
  dtype: string;
  shape: number[];
  begin: number; // offsets relative to the data block
  end: number;
}

export interface SafetensorsHeader {
  headerBytes: number; // 8 + N
  tensors: TensorHeader[]; // sorted by begin
  metadata: Record<string, string>;
}

export function parseHeader(file: string, json: string, headerBytes: number, fileSize?: number): SafetensorsHeader {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(json);
  } catch (e) {
    throw new KnError('bad-header', `${file}: the safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new KnError('bad-header', `${file}: the safetensors header is not a JSON object`);
  }
  const dataSize = fileSize === undefined ? undefined : fileSize - headerBytes;
  const tensors: TensorHeader[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(obj)) {
    if (name === '__metadata__') {
      metadata = (v ?? {}) as Record<string, string>;
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!t || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets) || t.data_offsets.length !== 2) {
      throw new KnError('bad-header', `${file}: header entry for tensor "${name}" lacks dtype, shape or data_offsets`);
    }
    const shape = t.shape as number[];
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new KnError('bad-header', `${file}: tensor "${name}" has an invalid shape [${shape.join(', ')}]`);
    }
    const [begin, end] = t.data_offsets as number[];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin) {
      throw new KnError('bad-header', `${file}: tensor "${name}" has invalid data_offsets [${begin}, ${end}]`);
    }
    const bytes = DTYPE_BYTES[t.dtype];
    if (bytes === undefined) throw new KnError('bad-tensor', `${file}: tensor "${name}" has unknown dtype ${t.dtype}`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n * bytes !== end - begin) {
      throw new KnError(
        'bad-header',
        `${file}: tensor "${name}" (${t.dtype} [${shape.join(', ')}]) needs ${n * bytes} bytes but its offsets span ${end - begin}`,
      );
    }
    tensors.push({ name, dtype: t.dtype, shape, begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin);
  if (dataSize !== undefined) {
    const outside = tensors.find((t) => t.end > dataSize);
    if (outside) {
      // tensors packed back to back from offset 0 whose data runs past the end: the file was cut short;
      // otherwise the header itself points outside the file
      const packed = tensors.every((t, i) => t.begin === (i === 0 ? 0 : tensors[i - 1].end));
      if (packed) {
        const cut = tensors.find((t) => t.end > dataSize)!;
        throw new KnError(
          'truncated',
          `${file}: file is truncated: ${fileSize} bytes, but the header needs ${headerBytes + tensors[tensors.length - 1].end}; it ends inside tensor "${cut.name}"`,
        );
      }
      throw new KnError(
        'bad-header',
        `${file}: header offsets of tensor "${outside.name}" [${outside.begin}, ${outside.end}] lie outside the file (data block is ${dataSize} bytes)`,
      );
    }
  }
  for (let i = 1; i < tensors.length; i++) {
    if (tensors[i].begin < tensors[i - 1].end) {
      throw new KnError('bad-header', `${file}: tensors "${tensors[i - 1].name}" and "${tensors[i].name}" overlap in the data block`);
    }
  }
  return { headerBytes, tensors, metadata };
}

const f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

/** Converts raw little-endian bytes of a supported dtype to float32. */
export function toFloat32(dtype: string, bytes: Uint8Array, file: string, name: string): Float32Array {
  if (!SUPPORTED.has(dtype)) {
    throw new KnError('bad-tensor', `${file}: tensor "${name}" has dtype ${dtype}; only F32, F16 and BF16 are supported`);
  }
  // copy to an aligned buffer (stream chunks have arbitrary offsets)
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === 'F32') {
    return new Float32Array(aligned.buffer.slice(aligned.byteOffset, aligned.byteOffset + aligned.byteLength));
  }
  const n = bytes.byteLength / 2;
  const u16 = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = f16Table[u16[i]];
  } else {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = u16[i] << 16;
  }
  return out;
}

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** Accumulates stream chunks and hands out exact byte ranges. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  size = 0;
  push(c: Uint8Array) {
    if (c.byteLength) {
      this.chunks.push(c);
      this.size += c.byteLength;
    }
  }
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      const avail = c.byteLength - this.head;
      const k = Math.min(avail, n - o);
      out.set(c.subarray(this.head, this.head + k), o);
      o += k;
      this.head += k;
      if (this.head === c.byteLength) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.size -= n;
    return out;
  }
}

export interface StreamOptions {
  file: string;
  size?: number; // total file size when known (Content-Length / File.size)
  onHeader?: (h: SafetensorsHeader) => void; // may throw to refuse the file before its data arrives
  onTensor: (t: RawTensor) => void | Promise<void>;
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

export async function readSafetensorsStream(stream: ReadableStream<Uint8Array>, opts: StreamOptions): Promise<SafetensorsHeader> {
  const { file } = opts;
  const reader = stream.getReader();
  const q = new ByteQueue();
  let done = false;
  let total = 0;
  const need = async (n: number, what: () => string) => {
    while (q.size < n && !done) {
      if (opts.signal?.aborted) throw new KnError('cancelled', `${file}: loading cancelled`);
      const r = await readChunk(reader, file, total, opts.size, opts.signal);
      if (r.done) done = true;
      else {
        q.push(r.value);
        total += r.value.byteLength;
        opts.onBytes?.(total);
      }
    }
    if (q.size < n) {
      throw new KnError('truncated', `${file}: file is truncated: it ended after ${total} bytes, ${what()}`);
    }
  };
  try {
    if (opts.size !== undefined && opts.size < 8) {
      throw new KnError('corrupt-file', `${file}: ${opts.size} bytes is too short to be a safetensors file`);
    }
    await need(8, () => 'inside the 8-byte header length');
    const lenBytes = q.take(8);
    const dv = new DataView(lenBytes.buffer);
    const n = Number(dv.getBigUint64(0, true));
    if (n <= 1 || n > MAX_HEADER || (opts.size !== undefined && 8 + n > opts.size)) {
      throw new KnError(
        'corrupt-file',
        `${file}: not a safetensors file (header length ${n} bytes is impossible${opts.size !== undefined ? ` for a ${opts.size}-byte file` : ''})`,
      );
    }
    await need(n, () => `inside the ${n}-byte JSON header`);
    const json = new TextDecoder('utf-8', { fatal: false }).decode(q.take(n));
    if (json.trimStart()[0] !== '{') throw new KnError('corrupt-file', `${file}: not a safetensors file (header does not start with "{")`);
    const header = parseHeader(file, json, 8 + n, opts.size);
    opts.onHeader?.(header);
    let pos = 0;
    for (const t of header.tensors) {
      if (t.begin > pos) {
        await need(t.begin - pos, () => `before tensor "${t.name}"`);
        q.take(t.begin - pos);
        pos = t.begin;
      }
      const len = t.end - t.begin;
      await need(len, () => `inside tensor "${t.name}" (expected data up to byte ${header.headerBytes + t.end})`);
      const bytes = q.take(len);
      pos = t.end;
      await opts.onTensor({ name: t.name, dtype: t.dtype, shape: t.shape, data: toFloat32(t.dtype, bytes, file, t.name) });
    }
    return header;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** reader.read() with its failures (abort, a connection closed mid-body) turned into KnErrors. */
export async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  file: string,
  got: number,
  size: number | undefined,
  signal?: AbortSignal,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (e) {
    if (signal?.aborted) throw new KnError('cancelled', `${file}: loading cancelled`);
    const why = e instanceof Error ? e.message : String(e);
    throw new KnError('truncated', `${file}: download broke off after ${got}${size ? ` of ${size}` : ''} bytes (${why})`);
  }
}

/** Reads a whole stream into memory, with the same error handling. */
export async function readAll(stream: ReadableStream<Uint8Array>, file: string, size?: number, signal?: AbortSignal): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw new KnError('cancelled', `${file}: loading cancelled`);
      const r = await readChunk(reader, file, got, size, signal);
      if (r.done) break;
      parts.push(r.value);
      got += r.value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(got);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/**
 * Attribution cache: results keyed by (model content hash, query ids, target, method settings), so
 * repeating a query costs nothing. The store is any byte key-value store: IndexedDB (idb-keyval) in the
 * browser, a folder in Node (FolderStore in store-node.ts), memory in tests and private windows.
 */
import { sha256Hex } from '../../shared/hash';
import { LEGACY_QUADRATURE, type QueryAttribution } from './attribute';

export interface BytesStore {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, bytes: Uint8Array): Promise<void>;
}

export const CACHE_VERSION = 1;

export async function attributionKey(parts: {
  model: string;
  ids: number[];
  position: number;
  targetId: number;
  steps: number;
  baseline: string;
  layers: number[];
  /** absent for LEGACY_QUADRATURE (queryCacheKey), so keys written before the option existed stay valid */
  quadrature?: string;
}): Promise<string> {
  return 'attr:' + (await sha256Hex(new TextEncoder().encode(JSON.stringify({ v: CACHE_VERSION, ...parts }))));
}

/** [u32 meta length][meta JSON][float32 raw, layer-major for the attributed layers] */
export function encodeAttribution(a: QueryAttribution): Uint8Array {
  const { raw, ...meta } = a;
  const F = raw.find((r) => r.length)?.length ?? 0;
  const json = new TextEncoder().encode(JSON.stringify({ ...meta, ffn: F }));
  const head = (json.length + 4 + 3) & ~3;
  const out = new Uint8Array(head + a.layers.length * F * 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  const f32 = new Float32Array(out.buffer, head, a.layers.length * F);
  a.layers.forEach((l, i) => f32.set(raw[l], i * F));
  return out;
}

export function decodeAttribution(bytes: Uint8Array, numLayers: number): QueryAttribution | null {
  try {
    const buf = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const len = new DataView(buf.buffer, buf.byteOffset).getUint32(0, true);
    const meta = JSON.parse(new TextDecoder().decode(buf.subarray(4, 4 + len)));
    const head = (len + 4 + 3) & ~3;
    const F = meta.ffn as number;
    if (buf.byteLength !== head + meta.layers.length * F * 4) return null;
    const f32 = new Float32Array(buf.buffer, buf.byteOffset + head, meta.layers.length * F);
    const raw: Float64Array[] = Array.from({ length: numLayers }, () => new Float64Array(0));
    (meta.layers as number[]).forEach((l, i) => (raw[l] = Float64Array.from(f32.subarray(i * F, (i + 1) * F))));
    delete meta.ffn;
    return { quadrature: LEGACY_QUADRATURE, ...meta, raw }; // entries written before the option lack it
  } catch {
    return null; // a damaged entry is recomputed, never used
  }
}

export class MemoryBytesStore implements BytesStore {
  private m = new Map<string, Uint8Array>();
  async get(k: string) {
    return this.m.get(k);
  }
  async set(k: string, v: Uint8Array) {
    this.m.set(k, v);
  }
  get size() {
    return this.m.size;
  }
}

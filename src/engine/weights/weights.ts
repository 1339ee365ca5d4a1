/**
 * The model's weights as held in memory. On the device every matrix is in the [in, out] orientation
 * (`mat()` returns W for x·W): HF's [out, in] matrices (axis 0) are transposed once when uploaded. f32 mode: every tensor lives on the device as float32.
 * int8 mode: every 2-D matrix stays on the host as int8 + per-output-channel scales (≈1 byte/param);
 * vectors (norms, biases) are float32 on the device. How a matrix reaches the device:
 * - packed (`devicePacked`, WebGPU): the int8 bytes themselves, four to an int32 word, with the scales
 *   (src/engine/weights/int8-webgpu.ts), uploaded the first time `mat()` asks for the matrix and kept for the
 *   model's life (≈1 byte/param on the device); the matmuls dequantize in the shader. A matrix with edited
 *   slices (float32 overlays), one under a training override, and every matrix while `weightGrad.on`
 *   take the dequantized path below instead (exact float32 values, edits included).
 * - dequantized (the LRU path: wasm, WebGL, cpu, or packed turned off): dequantized into a float32 device
 *   tensor when a layer needs it and kept in an LRU of layers bounded by `deviceBudgetBytes`; while a
 *   gradient is being taken the cache is pinned (the backward pass needs the forward's weights).
 */
import * as tf from '@tensorflow/tfjs';
import { dequantize, dequantizeInOut, dequantizeRows, quantize, quantizedBytes, type QuantizedMatrix } from './quant';
import { KnError } from '../../shared/errors';
import { weightGrad, type WeightMat } from './weight-mat';
import { packedBytes, uploadPacked, type PackedWeight } from './int8-webgpu';
import type { WeightDtype } from '../../shared/types';

export interface StoredTensor {
  name: string;
  shape: number[];
  group: string; // LRU unit: 'embed', 'layer.3', 'head', …
  axis?: 0 | 1; // output-channel axis of a matrix
}

interface GroupEntry {
  tensors: Map<string, tf.Tensor>;
  bytes: number;
  lastUse: number;
}

export class WeightStore {
  private vectors = new Map<string, tf.Tensor1D>();
  private deviceMats = new Map<string, tf.Tensor2D>(); // f32 mode
  private hostMats = new Map<string, QuantizedMatrix>(); // int8 mode
  private specs = new Map<string, StoredTensor>();
  private cache = new Map<string, GroupEntry>();
  /** int8 mode: edited slices (rows or columns in HF layout) kept in float32 over the untouched int8 bytes */
  private overlays = new Map<string, { axis: 0 | 1; slices: Map<number, Float32Array> }>();
  /** training: a matrix computed from its stored value (W + a trainable delta), in the device orientation */
  private overrides = new Map<string, (w: tf.Tensor2D) => tf.Tensor2D>();
  /** packed mode: int8 matrices on the device as uploaded (src/engine/weights/int8-webgpu.ts) */
  private packed = new Map<string, PackedWeight>();
  private clock = 0;
  private pins = 0;
  cacheBytes = 0;
  peakCacheBytes = 0;
  hostBytes = 0;
  vectorBytes = 0;
  numParams = 0;
  /** packed mode: device bytes of the packed matrices uploaded so far (int32 words + scales) */
  packedBytes = 0;
  /** int8 matrices go to the device packed (WebGPU kernels) instead of dequantized into the LRU */
  readonly devicePacked: boolean;

  constructor(
    readonly dtype: WeightDtype,
    public deviceBudgetBytes = 256 * 1024 * 1024,
    opts: { packed?: boolean } = {},
  ) {
    this.devicePacked = dtype === 'int8' && !!opts.packed;
  }

  /** Adds one tensor (float32 data in HF layout). Matrices are quantized now in int8 mode. */
  add(spec: StoredTensor, data: Float32Array) {
    this.specs.set(spec.name, spec);
    this.numParams += data.length;
    if (spec.shape.length === 1) {
      this.vectors.set(spec.name, tf.keep(tf.tensor1d(data)));
      this.vectorBytes += data.byteLength;
      return;
    }
    const shape = spec.shape as [number, number];
    if (this.dtype === 'f32') {
      this.deviceMats.set(spec.name, tf.keep(tf.tidy(() => inOut(tf.tensor2d(data, shape), spec.axis ?? 0))));
      this.vectorBytes += data.byteLength;
    } else {
      const q = quantize(data, shape, spec.axis ?? 0);
      this.hostMats.set(spec.name, q);
      this.hostBytes += quantizedBytes(q);
    }
  }

  /** Adds an already-quantized matrix (our bundled shard format). */
  addQuantized(spec: StoredTensor, q: QuantizedMatrix) {
    this.specs.set(spec.name, spec);
    this.numParams += q.q.length;
    if (this.dtype === 'f32') {
      this.deviceMats.set(spec.name, tf.keep(tf.tidy(() => inOut(tf.tensor2d(dequantize(q), q.shape), q.axis))));
      this.vectorBytes += q.q.length * 4;
    } else {
      this.hostMats.set(spec.name, q);
      this.hostBytes += quantizedBytes(q);
    }
  }

  has(name: string) {
    return this.specs.has(name);
  }

  vec(name: string): tf.Tensor1D {
    const v = this.vectors.get(name);
    if (!v) throw new Error(`internal: vector ${name} not loaded`);
    return v;
  }

  mat(name: string): WeightMat {
    const o = this.overrides.get(name);
    if (o) return o(this.storedMat(name));
    if (this.devicePacked && !weightGrad.on && !this.overlays.has(name)) {
      const p = this.packedMat(name);
      if (p) return p;
    }
    return this.storedMat(name);
  }

  /** Packed mode: the matrix as packed int8 on the device, uploaded on first use (null if not int8). */
  private packedMat(name: string): PackedWeight | null {
    let p = this.packed.get(name);
    if (p) return p;
    const q = this.hostMats.get(name);
    if (!q) return null;
    // called inside the families' tidy scopes: kept, disposed with the store
    p = uploadPacked(q);
    tf.keep(p.p);
    tf.keep(p.s);
    this.packed.set(name, p);
    this.packedBytes += packedBytes(q.shape, q.axis);
    return p;
  }

  /** How a matrix reaches the matmuls now: 'packed', 'f32' (dequantized or float32 model). */
  matPath(name: string): 'packed' | 'f32' {
    return this.devicePacked && !weightGrad.on && !this.overlays.has(name) && !this.overrides.has(name) && this.hostMats.has(name) ? 'packed' : 'f32';
  }

  /**
   * Training hook: while set, `mat(name)` returns `fn(W)` (device orientation [in, out]) instead of W, so a
   * gradient can flow into a delta; null removes it. The stored weights never change through this.
   */
  setOverride(name: string, fn: ((w: tf.Tensor2D) => tf.Tensor2D) | null) {
    if (!this.specs.has(name)) throw new Error(`internal: matrix ${name} not loaded`);
    if (fn) this.overrides.set(name, fn);
    else this.overrides.delete(name);
  }

  private storedMat(name: string): tf.Tensor2D {
    const d = this.deviceMats.get(name);
    if (d) return d;
    const spec = this.specs.get(name);
    const q = this.hostMats.get(name);
    if (!spec || !q) throw new Error(`internal: matrix ${name} not loaded`);
    let g = this.cache.get(spec.group);
    if (!g) {
      g = { tensors: new Map(), bytes: 0, lastUse: 0 };
      this.cache.set(spec.group, g);
    }
    g.lastUse = ++this.clock;
    let t = g.tensors.get(name) as tf.Tensor2D | undefined;
    if (!t) {
      const bytes = q.q.length * 4;
      this.evict(bytes, spec.group);
      const d = this.dequantizeEdited(name, q);
      t = tf.keep(tf.tensor2d(d.data, d.shape));
      g.tensors.set(name, t);
      g.bytes += bytes;
      this.cacheBytes += bytes;
      this.peakCacheBytes = Math.max(this.peakCacheBytes, this.cacheBytes);
    }
    return t;
  }

  /** Rows of a [rows, d] matrix (embedding lookups) without putting the whole matrix on the device. */
  rows(name: string, ids: number[]): tf.Tensor2D {
    const d = this.deviceMats.get(name);
    if (d) {
      const axis = this.specs.get(name)!.axis ?? 0;
      // device copies of [rows, d] matrices are stored transposed: gather columns
      return tf.tidy(() => (axis === 0 ? tf.gather(d, tf.tensor1d(ids, 'int32'), 1).transpose() : tf.gather(d, tf.tensor1d(ids, 'int32'))) as tf.Tensor2D);
    }
    const q = this.hostMats.get(name);
    if (!q) throw new Error(`internal: matrix ${name} not loaded`);
    const out = dequantizeRows(q, ids);
    const ov = this.overlays.get(name);
    if (ov) {
      const c = q.shape[1];
      ids.forEach((i, k) => {
        if (ov.axis === 0) {
          const v = ov.slices.get(i);
          if (v) out.set(v, k * c);
        } else for (const [j, v] of ov.slices) out[k * c + j] = v[i];
      });
    }
    return tf.tensor2d(out, [ids.length, q.shape[1]]);
  }

  /**
   * Rows v0..v1 of a [vocab, d] head matrix (HF layout, output channels on axis 0) as a [d, v1 − v0] float32
   * tensor in the device orientation, edits included: a fresh tensor the caller disposes, never cached and
   * never the whole matrix (vocabulary chunks of the streamed attribution, src/engine/attribution/stream.ts).
   */
  headColumns(name: string, v0: number, v1: number): tf.Tensor2D {
    const spec = this.specs.get(name);
    if (!spec || spec.shape.length !== 2 || (spec.axis ?? 0) !== 0) throw new Error(`internal: ${name} is not a [vocab, d] matrix`);
    const [V, d] = spec.shape;
    if (!(Number.isInteger(v0) && Number.isInteger(v1) && 0 <= v0 && v0 < v1 && v1 <= V)) throw new Error(`internal: ${name} has no rows ${v0}..${v1}`);
    const n = v1 - v0;
    const dm = this.deviceMats.get(name);
    if (dm) return tf.slice(dm, [0, v0], [d, n]);
    const q = this.hostMats.get(name);
    if (!q) throw new Error(`internal: matrix ${name} not loaded`);
    const { data } = dequantizeInOut({ shape: [n, d], axis: 0, q: q.q.subarray(v0 * d, v1 * d), scales: q.scales.subarray(v0, v1) });
    const ov = this.overlays.get(name);
    if (ov) {
      for (const [k, v] of ov.slices) {
        if (ov.axis === 0) {
          if (k >= v0 && k < v1) for (let j = 0; j < d; j++) data[j * n + k - v0] = v[j];
        } else for (let i = v0; i < v1; i++) data[k * n + i - v0] = v[i];
      }
    }
    return tf.tensor2d(data, [d, n]);
  }

  /** Host copy of a matrix as float32 (for export and edits). */
  hostMatrix(name: string): { q?: QuantizedMatrix; f32?: Float32Array } {
    const q = this.hostMats.get(name);
    // an edited int8 matrix is handed out as float32 with its edits (an export keeps them)
    if (q) return this.overlays.has(name) ? { f32: this.hostEdited(name, q) } : { q };
    const d = this.deviceMats.get(name);
    if (d) {
      // the transposed copy leaves the tidy scope: dispose it here (d itself is the model's)
      const t = tf.tidy(() => inOut(d, this.specs.get(name)!.axis ?? 0));
      const f32 = t.dataSync() as Float32Array;
      if (t !== d) t.dispose();
      return { f32 };
    }
    const v = this.vectors.get(name);
    if (v) return { f32: v.dataSync() as Float32Array };
    throw new Error(`internal: ${name} not loaded`);
  }

  /** int8 → float32 in HF layout with the edited slices applied. */
  private hostEdited(name: string, q: QuantizedMatrix): Float32Array {
    const data = dequantize(q);
    const ov = this.overlays.get(name);
    if (ov) for (const [i, v] of ov.slices) writeSlice(data, q.shape, ov.axis, i, v);
    return data;
  }

  /** Device orientation ([in, out]) of an int8 matrix with its edits. */
  private dequantizeEdited(name: string, q: QuantizedMatrix): { data: Float32Array; shape: [number, number] } {
    if (!this.overlays.has(name)) return dequantizeInOut(q);
    const data = this.hostEdited(name, q);
    if (q.axis === 1) return { data, shape: q.shape };
    const [r, c] = q.shape;
    const out = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j];
    return { data: out, shape: [c, r] };
  }

  /**
   * The float32 values the model computes with for slice `index` along `axis` of a matrix in HF layout
   * (axis 0: row `index`, axis 1: column `index`), edits included.
   */
  readSlice(name: string, axis: 0 | 1, index: number): Float32Array {
    return this.readSlices(name, axis, [index])[0];
  }

  /** Several slices of one matrix (the host copy is made once). */
  readSlices(name: string, axis: 0 | 1, indices: readonly number[]): Float32Array[] {
    const spec = this.specs.get(name);
    if (!spec || spec.shape.length !== 2) throw new Error(`internal: matrix ${name} not loaded`);
    const shape = spec.shape as [number, number];
    for (const index of indices)
      if (!Number.isInteger(index) || index < 0 || index >= shape[axis]) throw new Error(`internal: ${name} has no slice ${index} along axis ${axis}`);
    const q = this.hostMats.get(name);
    const ov = q ? this.overlays.get(name) : undefined;
    let host: Float32Array | null = null;
    return indices.map((index) => {
      if (ov && ov.axis === axis && ov.slices.has(index)) return ov.slices.get(index)!.slice();
      if (q && (!ov || ov.axis === axis)) {
        // straight from the int8 bytes
        const [r, c] = shape;
        const out = new Float32Array(axis === 0 ? c : r);
        if (axis === 0) for (let j = 0; j < c; j++) out[j] = q.q[index * c + j] * (q.axis === 0 ? q.scales[index] : q.scales[j]);
        else for (let i = 0; i < r; i++) out[i] = q.q[i * c + index] * (q.axis === 0 ? q.scales[i] : q.scales[index]);
        return out;
      }
      host ??= q ? this.hostEdited(name, q) : this.hostMatrix(name).f32!;
      return readSlice(host, shape, axis, index);
    });
  }

  /** int8 mode: the edited slices of a matrix (index → float32 values), or undefined when none. */
  overlay(name: string): { axis: 0 | 1; slices: ReadonlyMap<number, Float32Array> } | undefined {
    return this.overlays.get(name);
  }

  /**
   * Replaces slices of a matrix (HF layout; `values` null drops an int8 overlay, back to the int8 bytes).
   * f32 mode: written into the device tensor (exact float32). int8 mode: the int8 bytes and scales are
   * never touched; the slices are kept as float32 overlays that every dequantization applies. The
   * device tensor cached for the matrix is dropped, so the next forward uses the new values. Refused
   * while the cache is pinned (a gradient in flight needs the weights it started with).
   */
  writeSlices(name: string, axis: 0 | 1, entries: { index: number; values: Float32Array | null }[]) {
    if (this.pins > 0) throw new KnError('bad-input', `cannot change ${name} while an attribution or training step runs; wait for it or cancel it`);
    const spec = this.specs.get(name);
    if (!spec || spec.shape.length !== 2) throw new Error(`internal: matrix ${name} not loaded`);
    const shape = spec.shape as [number, number];
    const len = shape[1 - axis];
    for (const e of entries) {
      if (!Number.isInteger(e.index) || e.index < 0 || e.index >= shape[axis]) throw new Error(`internal: ${name} has no slice ${e.index} along axis ${axis}`);
      if (e.values && e.values.length !== len) throw new Error(`internal: slice of ${name} needs ${len} values, got ${e.values.length}`);
    }
    const q = this.hostMats.get(name);
    if (q) {
      let ov = this.overlays.get(name);
      if (ov && ov.axis !== axis) throw new Error(`internal: ${name} already has edits along axis ${ov.axis}`);
      if (!ov) ov = { axis, slices: new Map() };
      for (const e of entries) {
        if (e.values) ov.slices.set(e.index, Float32Array.from(e.values));
        else ov.slices.delete(e.index);
      }
      if (ov.slices.size) this.overlays.set(name, ov);
      else this.overlays.delete(name);
      this.dropCached(name);
      return;
    }
    const d = this.deviceMats.get(name);
    if (!d) throw new Error(`internal: matrix ${name} not loaded`);
    const data = this.hostMatrix(name).f32!;
    for (const e of entries) {
      if (!e.values) throw new Error(`internal: ${name} is float32; an undo writes the old values back`);
      writeSlice(data, shape, axis, e.index, e.values);
    }
    const t = tf.keep(tf.tidy(() => inOut(tf.tensor2d(data, shape), spec.axis ?? 0)));
    d.dispose();
    this.deviceMats.set(name, t);
  }

  /** Drops the cached device tensor of one matrix (after an edit). */
  private dropCached(name: string) {
    const spec = this.specs.get(name);
    const g = spec && this.cache.get(spec.group);
    const t = g?.tensors.get(name);
    if (!g || !t) return;
    const bytes = t.size * 4;
    t.dispose();
    g.tensors.delete(name);
    g.bytes -= bytes;
    this.cacheBytes -= bytes;
  }

  names(): StoredTensor[] {
    return [...this.specs.values()];
  }

  /**
   * Bytes the matrices of these groups would add on the device if all were used now (what pinning them all
   * would add): float32 for the dequantized path, the packed size for packed matrices not yet uploaded.
   */
  pendingBytes(groups: (g: string) => boolean): number {
    let n = 0;
    for (const spec of this.specs.values()) {
      if (spec.shape.length !== 2 || !groups(spec.group) || this.deviceMats.has(spec.name)) continue;
      if (this.devicePacked && !this.overlays.has(spec.name)) {
        if (!this.packed.has(spec.name)) n += packedBytes(spec.shape, spec.axis ?? 0);
        continue;
      }
      if (this.cache.get(spec.group)?.tensors.has(spec.name)) continue;
      n += spec.shape[0] * spec.shape[1] * 4;
    }
    return n;
  }

  pin() {
    this.pins++;
  }
  unpin() {
    this.pins = Math.max(0, this.pins - 1);
    if (this.pins === 0) this.evict(0, '');
  }

  private evict(incoming: number, keepGroup: string) {
    if (this.pins > 0) return;
    while (this.cacheBytes + incoming > this.deviceBudgetBytes) {
      let victim: string | undefined;
      let oldest = Infinity;
      for (const [k, g] of this.cache) {
        if (k !== keepGroup && g.lastUse < oldest && g.bytes > 0) {
          oldest = g.lastUse;
          victim = k;
        }
      }
      if (!victim) return;
      const g = this.cache.get(victim)!;
      for (const t of g.tensors.values()) t.dispose();
      this.cacheBytes -= g.bytes;
      this.cache.delete(victim);
    }
  }

  /** Bytes the weights occupy as held (host int8 + scales, plus float32 device tensors). */
  get heldBytes() {
    return this.hostBytes + this.vectorBytes;
  }
  get deviceBytes() {
    return this.vectorBytes + this.cacheBytes + this.packedBytes;
  }

  dispose() {
    for (const v of this.vectors.values()) v.dispose();
    for (const v of this.deviceMats.values()) v.dispose();
    for (const g of this.cache.values()) for (const t of g.tensors.values()) t.dispose();
    for (const p of this.packed.values()) tf.dispose([p.p, p.s]);
    this.packed.clear();
    this.packedBytes = 0;
    this.vectors.clear();
    this.deviceMats.clear();
    this.cache.clear();
    this.hostMats.clear();
    this.overlays.clear();
    this.cacheBytes = 0;
  }
}

function readSlice(data: Float32Array, shape: [number, number], axis: 0 | 1, index: number): Float32Array {
  const [r, c] = shape;
  if (axis === 0) return data.slice(index * c, (index + 1) * c);
  const out = new Float32Array(r);
  for (let i = 0; i < r; i++) out[i] = data[i * c + index];
  return out;
}

function writeSlice(data: Float32Array, shape: [number, number], axis: 0 | 1, index: number, v: Float32Array) {
  const [r, c] = shape;
  if (axis === 0) data.set(v, index * c);
  else for (let i = 0; i < r; i++) data[i * c + index] = v[i];
}

/** HF layout → [in, out] (and back: the transpose is its own inverse). */
function inOut(t: tf.Tensor2D, axis: 0 | 1): tf.Tensor2D {
  return axis === 0 ? (t.transpose() as tf.Tensor2D) : t;
}

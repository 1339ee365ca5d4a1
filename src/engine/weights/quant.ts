/**
 * int8 weights with one float32 scale per output channel (symmetric: w ≈ q · scale, q ∈ [-127, 127]).
 * Matrices are stored as HF lays them out; `axis` says which axis indexes output channels:
 * 0 for nn.Linear [out, in] and embeddings [vocab, d], 1 for GPT-2's Conv1D [in, out].
 */
export interface QuantizedMatrix {
  shape: [number, number];
  axis: 0 | 1;
  q: Int8Array;
  scales: Float32Array;
}

export function quantize(data: Float32Array, shape: [number, number], axis: 0 | 1): QuantizedMatrix {
  const [r, c] = shape;
  const channels = axis === 0 ? r : c;
  const maxAbs = new Float32Array(channels);
  if (axis === 0) {
    for (let i = 0; i < r; i++) {
      let m = 0;
      const o = i * c;
      for (let j = 0; j < c; j++) {
        const a = Math.abs(data[o + j]);
        if (a > m) m = a;
      }
      maxAbs[i] = m;
    }
  } else {
    for (let i = 0; i < r; i++) {
      const o = i * c;
      for (let j = 0; j < c; j++) {
        const a = Math.abs(data[o + j]);
        if (a > maxAbs[j]) maxAbs[j] = a;
      }
    }
  }
  const scales = new Float32Array(channels);
  const inv = new Float32Array(channels);
  for (let k = 0; k < channels; k++) {
    scales[k] = maxAbs[k] > 0 ? maxAbs[k] / 127 : 1;
    inv[k] = 1 / scales[k];
  }
  const q = new Int8Array(r * c);
  for (let i = 0; i < r; i++) {
    const o = i * c;
    for (let j = 0; j < c; j++) {
      const v = Math.round(data[o + j] * (axis === 0 ? inv[i] : inv[j]));
      q[o + j] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { shape, axis, q, scales };
}

export function dequantize(m: QuantizedMatrix): Float32Array {
  const [r, c] = m.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    const o = i * c;
    if (m.axis === 0) {
      const s = m.scales[i];
      for (let j = 0; j < c; j++) out[o + j] = m.q[o + j] * s;
    } else {
      for (let j = 0; j < c; j++) out[o + j] = m.q[o + j] * m.scales[j];
    }
  }
  return out;
}

/** Rows `ids` of a quantized [rows, cols] matrix (an embedding lookup without dequantizing it all). */
export function dequantizeRows(m: QuantizedMatrix, ids: ArrayLike<number>): Float32Array {
  const c = m.shape[1];
  const out = new Float32Array(ids.length * c);
  for (let k = 0; k < ids.length; k++) {
    const i = ids[k];
    const o = i * c;
    for (let j = 0; j < c; j++) out[k * c + j] = m.q[o + j] * (m.axis === 0 ? m.scales[i] : m.scales[j]);
  }
  return out;
}

export function quantizedBytes(m: QuantizedMatrix): number {
  return m.q.byteLength + m.scales.byteLength;
}

/**
 * Dequantizes into the [in, out] orientation used on the device (x·W without a transposed matmul,
 * which is several times slower on the wasm backend): matrices with axis 0 ([out, in]: nn.Linear,
 * embeddings) are transposed, Conv1D matrices (axis 1, already [in, out]) are not.
 */
export function dequantizeInOut(m: QuantizedMatrix): { data: Float32Array; shape: [number, number] } {
  if (m.axis === 1) return { data: dequantize(m), shape: m.shape };
  const [r, c] = m.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    const s = m.scales[i],
      o = i * c;
    for (let j = 0; j < c; j++) out[j * r + i] = m.q[o + j] * s;
  }
  return { data: out, shape: [c, r] };
}

/**
 * Packed int8 weights on WebGPU: each int8 matrix stays on the device four values to an int32 word, with
 * its per-output-channel float32 scales beside it, and the model's matmuls run through two WGSL kernels
 * (registered with tfjs-backend-webgpu under the names below) that dequantize in the shader:
 *
 *   KnInt8MatMul      y  = x·W          x [M, K], W = diag-scaled int8 [K, N] → y [M, N]
 *   KnInt8MatMulGradX dx = dy·Wᵀ        dy [M, N] → dx [M, K] (the input gradient attribution needs)
 *
 * Device layout of one matrix (`PackedWeight.p`, int32 [N, ⌈K/4⌉]): row n holds output channel n's K int8
 * values in input order, byte j of word w (little-endian: bits 8j..8j+7) is input 4w+j, and a K that is not
 * a multiple of 4 is padded with zero bytes. That is HF's nn.Linear [out, in] layout byte for byte, so such
 * matrices are viewed, not copied, on the host; GPT-2's Conv1D [in, out] matrices are transposed once.
 * No float32 copy of the matrix exists on the device: 1 byte per parameter + 4 bytes per output channel.
 *
 * Both kernels tile 16 rows × 16 output columns (or 16 words = 64 inputs) per 256-thread workgroup with
 * the operands staged in workgroup memory; the int8 values are unpacked with shifts (sign extension by an
 * arithmetic right shift of i32), which every WGSL implementation has (no packed-dot extension needed).
 */
import * as tf from '@tensorflow/tfjs';
import type { QuantizedMatrix } from './quant';

export const INT8_MATMUL = 'KnInt8MatMul';
export const INT8_MATMUL_GRAD_X = 'KnInt8MatMulGradX';
const TILE = 16;

/** An int8 matrix on the device, used as W in x·W ([in, out] = [K, N]). */
export interface PackedWeight {
  readonly kind: 'packed-int8';
  /** int32 [N, ⌈K/4⌉]: the int8 values of output channel n, four to a word */
  readonly p: tf.Tensor2D;
  /** float32 [N]: one scale per output channel */
  readonly s: tf.Tensor1D;
  /** K (inputs) */
  readonly inDim: number;
  /** N (outputs) */
  readonly outDim: number;
}

export function isPacked(w: unknown): w is PackedWeight {
  return !!w && typeof w === 'object' && (w as { kind?: unknown }).kind === 'packed-int8';
}

/** Bytes one matrix takes on the device packed: ⌈K/4⌉·4 bytes per output channel plus its scale. */
export function packedBytes(shape: readonly number[], axis: 0 | 1): number {
  const [r, c] = shape;
  const N = axis === 0 ? r : c,
    K = axis === 0 ? c : r;
  return N * Math.ceil(K / 4) * 4 + N * 4;
}

/**
 * The host words of a quantized matrix in the device layout (int32 [N, ⌈K/4⌉]). An [out, in] matrix whose
 * K is a multiple of 4 is a view of the int8 bytes (no copy); otherwise the bytes are rearranged once.
 */
export function packWords(q: QuantizedMatrix): { words: Int32Array; N: number; K: number; K4: number } {
  const [r, c] = q.shape;
  const N = q.axis === 0 ? r : c,
    K = q.axis === 0 ? c : r;
  const K4 = Math.ceil(K / 4);
  if (q.axis === 0 && K % 4 === 0 && q.q.byteOffset % 4 === 0) {
    return { words: new Int32Array(q.q.buffer, q.q.byteOffset, N * K4), N, K, K4 };
  }
  const bytes = new Int8Array(N * K4 * 4);
  if (q.axis === 0) {
    for (let n = 0; n < N; n++) bytes.set(q.q.subarray(n * K, (n + 1) * K), n * K4 * 4);
  } else {
    // Conv1D [in, out]: element (k, n) at k·N + n
    for (let k = 0; k < K; k++) {
      const o = k * N;
      for (let n = 0; n < N; n++) bytes[n * K4 * 4 + k] = q.q[o + n];
    }
  }
  return { words: new Int32Array(bytes.buffer), N, K, K4 };
}

/** Uploads a quantized matrix packed (the caller keeps and disposes both tensors). */
export function uploadPacked(q: QuantizedMatrix): PackedWeight {
  const { words, N, K, K4 } = packWords(q);
  const p = tf.tensor2d(words, [N, K4], 'int32');
  const s = tf.tensor1d(q.scales);
  return { kind: 'packed-int8', p, s, inDim: K, outDim: N };
}

// ---------------------------------------------------------------- the WGSL programs

/** the four signed bytes of an i32 word as floats (byte 0 = bits 0..7) */
const UNPACK = `
  fn unpack4(w : i32) -> vec4<f32> {
    return vec4<f32>(f32((w << 24u) >> 24u), f32((w << 16u) >> 24u), f32((w << 8u) >> 24u), f32(w >> 24u));
  }`;

interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  getUserCode: () => string;
}

/**
 * y[m, n] = Σ_k x[m, k]·(q[n, k]·s[n]); inputs A = x [M, K], P [N, K4], S [N]. Each weight is dequantized
 * to the same float32 the host's dequantize() gives (q·s, one rounding) and the products are summed one at a
 * time in ascending k, as tfjs's own matmul does on the dequantized matrix, so both paths round alike.
 */
function forwardProgram(M: number, N: number): Program {
  return {
    variableNames: ['A', 'P', 'S'],
    outputShape: [M, N],
    shaderKey: `knInt8MatMul_${TILE}`,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(N / TILE), Math.ceil(M / TILE), 1],
    workgroupSize: [TILE, TILE, 1],
    getUserCode: () => `
  var<workgroup> As : array<array<vec4<f32>, ${TILE}>, ${TILE}>;
  var<workgroup> Ps : array<array<i32, ${TILE}>, ${TILE}>;
  ${UNPACK}
  fn readA(m : i32, k : i32, M : i32, K : i32) -> f32 {
    if (m < M && k < K) { return A[m * K + k]; }
    return 0.0;
  }
  fn main() {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let M = uniforms.aShape[0];
    let K = uniforms.aShape[1];
    let N = uniforms.pShape[0];
    let K4 = uniforms.pShape[1];
    let row = i32(workgroupId.y) * ${TILE} + ty;
    let n0 = i32(workgroupId.x) * ${TILE};
    let col = n0 + tx;
    var acc = 0.0;
    var sc = 0.0;
    if (col < N) { sc = S[col]; }
    let tiles = (K4 + ${TILE - 1}) / ${TILE};
    for (var t = 0; t < tiles; t = t + 1) {
      let kw = t * ${TILE} + tx;
      let k0 = kw * 4;
      As[ty][tx] = vec4<f32>(readA(row, k0, M, K), readA(row, k0 + 1, M, K), readA(row, k0 + 2, M, K), readA(row, k0 + 3, M, K));
      let n = n0 + ty;
      var w = 0;
      if (n < N && kw < K4) { w = P[n * K4 + kw]; }
      Ps[ty][tx] = w;
      workgroupBarrier();
      for (var kk = 0; kk < ${TILE}; kk = kk + 1) {
        let a = As[ty][kk];
        let w = unpack4(Ps[tx][kk]) * sc;
        acc = acc + a.x * w.x;
        acc = acc + a.y * w.y;
        acc = acc + a.z * w.z;
        acc = acc + a.w * w.w;
      }
      workgroupBarrier();
    }
    if (row < M && col < N) { result[row * N + col] = acc; }
  }`,
  };
}

/** dx[m, k] = Σ_n dy[m, n]·(q[n, k]·s[n]) in ascending n; inputs D = dy [M, N], P [N, K4], S [N]; each thread 4 k's. */
function gradXProgram(M: number, K: number, K4: number): Program {
  return {
    variableNames: ['D', 'P', 'S'],
    outputShape: [M, K],
    shaderKey: `knInt8MatMulGradX_${TILE}`,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(K4 / TILE), Math.ceil(M / TILE), 1],
    workgroupSize: [TILE, TILE, 1],
    getUserCode: () => `
  var<workgroup> Ds : array<array<f32, ${TILE}>, ${TILE}>;
  var<workgroup> Ps : array<array<i32, ${TILE}>, ${TILE}>;
  var<workgroup> Ss : array<f32, ${TILE}>;
  ${UNPACK}
  fn main() {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let M = uniforms.dShape[0];
    let N = uniforms.dShape[1];
    let K4 = uniforms.pShape[1];
    let K = uniforms.outShape[1];
    let row = i32(workgroupId.y) * ${TILE} + ty;
    let kw = i32(workgroupId.x) * ${TILE} + tx;
    var acc = vec4<f32>(0.0);
    let tiles = (N + ${TILE - 1}) / ${TILE};
    for (var t = 0; t < tiles; t = t + 1) {
      let nd = t * ${TILE} + tx;
      var d = 0.0;
      if (row < M && nd < N) { d = D[row * N + nd]; }
      Ds[ty][tx] = d;
      if (ty == 0) {
        var sv = 0.0;
        if (nd < N) { sv = S[nd]; }
        Ss[tx] = sv;
      }
      let np = t * ${TILE} + ty;
      var w = 0;
      if (np < N && kw < K4) { w = P[np * K4 + kw]; }
      Ps[ty][tx] = w;
      workgroupBarrier();
      for (var nn = 0; nn < ${TILE}; nn = nn + 1) {
        acc = acc + Ds[ty][nn] * (unpack4(Ps[nn][tx]) * Ss[nn]);
      }
      workgroupBarrier();
    }
    if (row < M) {
      let k0 = kw * 4;
      let o = row * K;
      if (k0 < K) { result[o + k0] = acc.x; }
      if (k0 + 1 < K) { result[o + k0 + 1] = acc.y; }
      if (k0 + 2 < K) { result[o + k0 + 2] = acc.z; }
      if (k0 + 3 < K) { result[o + k0 + 3] = acc.w; }
    }
  }`,
  };
}

interface WebGPUBackendLike {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo;
  device: GPUDevice;
}

function checkDispatch(backend: WebGPUBackendLike, p: Program, what: string) {
  const max = backend.device.limits.maxComputeWorkgroupsPerDimension;
  if (p.dispatch[0] > max || p.dispatch[1] > max) {
    throw new Error(`internal: ${what} needs ${p.dispatch[0]}×${p.dispatch[1]} workgroups, above this adapter's ${max} per dimension`);
  }
}

let registered = false;
/** Registers both kernels for the 'webgpu' backend (idempotent; harmless where WebGPU never runs). */
export function registerInt8Kernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel(INT8_MATMUL, 'webgpu')) {
    tf.registerKernel({
      kernelName: INT8_MATMUL,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend }) => {
        const { x, p, s } = inputs as unknown as { x: tf.TensorInfo; p: tf.TensorInfo; s: tf.TensorInfo };
        const b = backend as unknown as WebGPUBackendLike;
        const prog = forwardProgram(x.shape[0], p.shape[0]);
        checkDispatch(b, prog, 'an int8 matmul');
        return b.runWebGPUProgram(prog, [x, p, s], 'float32');
      },
    });
  }
  if (!tf.getKernel(INT8_MATMUL_GRAD_X, 'webgpu')) {
    tf.registerKernel({
      kernelName: INT8_MATMUL_GRAD_X,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { dy, p, s } = inputs as unknown as { dy: tf.TensorInfo; p: tf.TensorInfo; s: tf.TensorInfo };
        const K = (attrs as unknown as { inDim: number }).inDim;
        const b = backend as unknown as WebGPUBackendLike;
        const prog = gradXProgram(dy.shape[0], K, p.shape[1]);
        checkDispatch(b, prog, 'an int8 matmul gradient');
        return b.runWebGPUProgram(prog, [dy, p, s], 'float32');
      },
    });
  }
}

/** True when the active backend runs the packed kernels (WebGPU). */
export function packedKernelsAvailable(): boolean {
  return tf.getBackend() === 'webgpu';
}

/**
 * x·W for a packed W, with the input gradient dy·Wᵀ from the second kernel (W is a constant: no weight
 * gradient; training keeps the float32 path, see families/ops.ts matMulW).
 */
export function packedMatMul(x: tf.Tensor2D, w: PackedWeight): tf.Tensor2D {
  if (x.shape[1] !== w.inDim) throw new Error(`internal: int8 matmul of [${x.shape.join(', ')}] with a [${w.inDim}, ${w.outDim}] matrix`);
  if (tf.getBackend() !== 'webgpu') throw new Error(`internal: packed int8 weights need the webgpu backend, the active one is ${tf.getBackend()}`);
  registerInt8Kernels();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((xx: tf.Tensor) => ({
    value: tf.engine().runKernel(INT8_MATMUL, { x: xx, p: w.p, s: w.s } as unknown as tf.NamedTensorMap, {}) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor) =>
      tf
        .engine()
        .runKernel(INT8_MATMUL_GRAD_X, { dy, p: w.p, s: w.s } as unknown as tf.NamedTensorMap, { inDim: w.inDim } as unknown as tf.NamedAttrMap) as tf.Tensor2D,
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

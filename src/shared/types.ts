/** Shared engine types: the contract between the engine, the worker, the CLI and the UI. */

export type ModelKind = 'causal' | 'masked';
export type WeightDtype = 'f32' | 'int8';
export type DeviceWeights = 'auto' | 'packed' | 'lru';

/** Where a model comes from. `bundled` names a folder under public/models (served at /models/<name>/). */
export type ModelSourceSpec =
  | { type: 'hub'; repo: string; revision?: string }
  | { type: 'url'; url: string }
  | { type: 'folder'; path: string } // Node only
  | { type: 'files'; files: File[] } // browser: picked or dropped folder
  | { type: 'bundled'; name: string };

export interface Progress {
  /** what is happening, e.g. "model.safetensors" or "quantizing layer 3" */
  stage: string;
  loaded: number;
  total: number; // 0 when unknown
}
export type ProgressFn = (p: Progress) => void;

export interface LoadOptions {
  dtype?: WeightDtype; // default int8
  /** Max bytes of dequantized f32 weights kept on the device at once (int8 mode). */
  deviceBudgetBytes?: number;
  /** Refuse models whose f32 working set would exceed this (bytes). */
  maxDeviceBytes?: number;
  /** Refuse models with a single float32 tensor above this (e.g. WebGPU maxStorageBufferBindingSize). */
  maxTensorBytes?: number;
  /**
   * int8 mode, how matrices reach the device: 'packed' keeps the int8 bytes on the device (WebGPU kernels
   * that dequantize in the shader, src/engine/weights/int8-webgpu.ts); 'lru' dequantizes each layer into float32
   * device tensors in an LRU (`deviceBudgetBytes`); 'auto' (default): packed on WebGPU, lru elsewhere.
   */
  deviceWeights?: DeviceWeights;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export interface ModelInfo {
  architecture: string; // e.g. GPT2LMHeadModel
  family: string; // registry key: gpt2 | llama | bert
  kind: ModelKind;
  numLayers: number;
  hiddenSize: number;
  ffnSize: number; // neurons per layer
  vocabSize: number;
  maxPositions: number;
  numParams: number;
  dtype: WeightDtype;
  /** bytes the weights occupy as held (int8 + scales + f32 norms/biases) */
  weightBytes: number;
  /** how the matrices reach the matmuls: packed int8 on the device, dequantized into an LRU, or float32 */
  deviceWeights?: 'packed-int8' | 'dequantized-lru' | 'f32';
  contentHash: string;
  source: string;
  maskToken?: string;
  /** the model folder's calibration.json, checked (engine/selection/calibration.ts): the MaTrice defaults for this model */
  calibration?: CalibrationInfo;
  /** why the folder's calibration.json was refused (the model loads with METHOD's defaults) */
  calibrationProblem?: string;
  /** where `calibration` comes from: one calibrated on this page (stored per content hash), or the model folder's calibration.json */
  calibrationSource?: 'page' | 'folder';
  /** why the calibration stored on this page for these weights was refused (then the folder's, else METHOD's, applies) */
  storedCalibrationProblem?: string;
}

export interface TokenProb {
  id: number;
  token: string;
  prob: number;
}

export interface ProbeResult {
  ids: number[];
  tokens: string[];
  position: number;
  top: TokenProb[];
  target?: { text: string; id: number; token: string; prob: number; rank: number };
}

export interface BackendInfo {
  name: string; // webgpu | wasm | webgl | cpu
  /**
   * why faster backends were not used, in order tried; `usable`: it works but was passed over because
   * another is faster here (a software WebGPU adapter), so the page offers it with one click
   */
  fallbacks: { name: string; reason: string; usable?: boolean }[];
  /** set when the running WebGPU backend is a software adapter ("SwiftShader"): slower than wasm */
  software?: string;
  /** webgpu: the adapter (vendor, architecture, device, description, software or not) */
  adapter?: { vendor: string; architecture: string; device: string; description: string; software: string | null };
  detail?: string; // adapter description, limits
  /** wasm: the threads its kernels run on (1: single-threaded; more only on a cross-origin isolated page) */
  threads?: number;
  /** what loadModel should refuse up front (pass as LoadOptions.maxDeviceBytes / maxTensorBytes) */
  limits?: { maxDeviceBytes?: number; maxTensorBytes?: number };
}

// ---------------------------------------------------------------------------------------------------
// MaTrice's settings (docs/METHOD.md); their defaults and check are rules (src/engine/rules/index.ts).

/** Eq. 5 normalization of a query's raw scores: per layer (paper), over all layers, or none (raw). */
export type AttrNorm = 'layer' | 'global' | 'none';
/**
 * Eq. 9: min-max of each language's vector over all neurons (default), min-max of each neuron across
 * languages (the literal reading), or 'scale': each language's vector divided by its largest |score|,
 * which removes the per-language scale like the default but keeps a zero score at zero (with signed IG
 * scores, min-max lifts the many near-zero neurons to a common level that can sit above τ·max S).
 */
export type LangNorm = 'language' | 'neuron' | 'scale';

export interface MatriceSettings {
  /** UaQ weight of the mean across queries (Eq. 8) */
  alpha1: number;
  /** UaQ weight of the std across queries (Eq. 8) */
  alpha2: number;
  /** UaL weight of the mean across languages (Eq. 11) */
  beta1: number;
  /** UaL weight of the std across languages (Eq. 11) */
  beta2: number;
  /** threshold scale τ of Eq. 12 */
  tau: number;
  norm: LangNorm;
  attrNorm: AttrNorm;
}

/** A model's calibrated MaTrice settings (src/engine/selection/calibration.ts parses them). */
export interface CalibrationInfo {
  settings: MatriceSettings;
  /** M the calibration ran at */
  steps: number;
  facts: number;
  split: string | null;
  /** the command that produced it */
  command: string;
  /** what it measured on its facts (mean suppress ΔP, coverage, median selection, Random's ΔP, flip rate) */
  measured: { suppress: number | null; coverageMean: number | null; selectedMedian: number | null; randomSuppress: number | null; flipRate: number | null };
}

/** What every architecture in the registry provides. */
import type * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import type { ModelKind } from '../../shared/types';
import type { StoredTensor, WeightStore } from '../weights/weights';
import type { KV } from './ops';

export interface ArchConfig {
  numLayers: number;
  hidden: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  raw: Record<string, unknown>;
}

export interface AttnOptions {
  /** absolute position of the first row (the fast path runs only the target position) */
  offset?: number;
  /** cached keys/values of earlier positions, batch 1, [1, Hkv, Tp, dh] */
  past?: KV;
  /** return this layer's keys/values (past + new) */
  wantKv?: boolean;
}

export interface FamilyModel {
  /** token (+position) embeddings of a [B][T] batch → [B*T, d] */
  embed(ids: number[][], offset?: number): tf.Tensor2D;
  /** the attention half of block l: h → h1 (residual included; post-LN for BERT) */
  attnHalf(l: number, h: tf.Tensor2D, B: number, T: number, opts?: AttnOptions): { h1: tf.Tensor2D; kv?: KV };
  /** the neuron vector of block l, after the activation: [B*T, d] → [B*T, ffn] */
  ffnAct(l: number, h1: tf.Tensor2D): tf.Tensor2D;
  /** block output from h1 and the (possibly replaced) neuron vector */
  ffnOut(l: number, h1: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D;
  /** final norm + LM head for the rows given ([N, d] → [N, vocab]) */
  logits(h: tf.Tensor2D): tf.Tensor2D;
  /** the same LM head in parts, so it can run on vocabulary chunks (streamed attribution, large heads) */
  head: HeadParts;
}

/**
 * logits(h)[:, v0:v1] = cap(pre(h) · M[v0:v1]ᵀ + bias[v0:v1]), with M the [vocab, d] matrix `matrix` (HF layout)
 * and cap(z) = softcap · tanh(z / softcap) when `softcap` is set (Gemma 2).
 */
export interface HeadParts {
  /** final norm (and BERT's transform) of the rows: [N, d] → [N, d] */
  pre(h: tf.Tensor2D): tf.Tensor2D;
  matrix: string;
  /** a [vocab] bias vector (BERT's cls.predictions.bias) */
  bias?: string;
  softcap?: number;
}

export interface FamilyDef {
  key: 'gpt2' | 'llama' | 'bert' | 'xlmr' | 'bloom' | 'gemma';
  architectures: string[];
  kind: ModelKind;
  /** what a neuron is, in words (METHOD.md "Objects") */
  neuron: string;
  parseConfig(raw: Record<string, unknown>): ArchConfig;
  /** HF tensor name (prefixed or not) → canonical name, or null for tensors the model does not use */
  canonical(hfName: string): string | null;
  /** the tensors a checkpoint must provide, with shapes, LRU groups and output-channel axes */
  expected(cfg: ArchConfig): StoredTensor[];
  /** canonical name of block l's FFN output matrix (rows/columns = neurons) and its layout */
  outWeight(l: number): { name: string; neuronAxis: 0 | 1 };
  create(cfg: ArchConfig, store: WeightStore): FamilyModel;
}

export function num(raw: Record<string, unknown>, key: string | string[], fallback?: number): number {
  const keys = Array.isArray(key) ? key : [key];
  for (const k of keys) {
    const v = raw[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  if (fallback !== undefined) return fallback;
  throw new KnError('bad-config', `config.json: missing or non-numeric "${keys[0]}"`);
}

export function positiveInt(raw: Record<string, unknown>, key: string | string[], fallback?: number): number {
  const v = num(raw, key, fallback);
  if (!Number.isInteger(v) || v <= 0) {
    throw new KnError('bad-config', `config.json: "${Array.isArray(key) ? key[0] : key}" must be a positive integer, got ${v}`);
  }
  return v;
}

export function checkHeads(hidden: number, heads: number, kvHeads: number) {
  if (hidden % heads !== 0) throw new KnError('bad-config', `config.json: hidden size ${hidden} is not divisible by ${heads} attention heads`);
  if (heads % kvHeads !== 0) {
    throw new KnError('bad-config', `config.json: ${heads} attention heads are not a multiple of num_key_value_heads ${kvHeads}`);
  }
}

/** The fields of a config with one key/value head per query head (GPT-2, BLOOM, BERT): heads checked, head size derived. */
export function mhaConfig(
  raw: Record<string, unknown>,
  f: Pick<ArchConfig, 'numLayers' | 'hidden' | 'ffn' | 'vocab' | 'maxPositions' | 'heads' | 'eps'>,
): ArchConfig {
  checkHeads(f.hidden, f.heads, f.heads);
  return { ...f, kvHeads: f.heads, headDim: f.hidden / f.heads, raw };
}

/** An nn.Linear stored [out, in] (output channels on axis 0) and its bias, in LRU group `g`. */
export function linearTensors(name: string, out: number, inp: number, g: string): StoredTensor[] {
  return [
    { name: `${name}.weight`, shape: [out, inp], group: g, axis: 0 },
    { name: `${name}.bias`, shape: [out], group: g },
  ];
}

/** GPT-2's Conv1D, stored [in, out] (output channels on axis 1), and its bias. */
export function conv1dTensors(name: string, inp: number, out: number, g: string): StoredTensor[] {
  return [
    { name: `${name}.weight`, shape: [inp, out], group: g, axis: 1 },
    { name: `${name}.bias`, shape: [out], group: g },
  ];
}

/** A LayerNorm's weight and bias of size d. */
export function layerNormTensors(name: string, d: number, g: string): StoredTensor[] {
  return [
    { name: `${name}.weight`, shape: [d], group: g },
    { name: `${name}.bias`, shape: [d], group: g },
  ];
}

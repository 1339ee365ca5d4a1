/**
 * The one representation of a neuron score map used by all MaTrice arithmetic (framework-free, no tfjs).
 *
 * `LayerScores` is layer-major: `scores[l][j]` is the score of neuron n_j^l (unit j of the FFN hidden
 * layer of block l, METHOD.md "Objects"). There is one `Float64Array` per layer and every layer has the
 * same length (`ffnSize`). The flat form used for interchange is the same numbers in the same order:
 * `flat[l * ffnSize + j] === scores[l][j]`.
 *
 * A neuron is identified by the pair `[layer, index]` (`NeuronId`). Lists of neurons produced by this
 * module are always sorted layer-major (by layer, then index) and free of duplicates.
 */
import { KnError } from '../../shared/errors';

export type LayerScores = Float64Array[];
export type NeuronId = [layer: number, index: number];

export interface ScoreShape {
  numLayers: number;
  ffnSize: number;
}

function checkDim(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new KnError('bad-input', `matrice: ${name} must be a positive integer, got ${v}`);
  }
}

/** Shape of a score map; throws `bad-input` (naming `what`) when it is empty or ragged. */
export function shapeOf(scores: LayerScores, what = 'scores'): ScoreShape {
  if (!Array.isArray(scores) || scores.length === 0) {
    throw new KnError('bad-input', `matrice: ${what} has no layers`);
  }
  const ffnSize = scores[0].length;
  if (ffnSize === 0) throw new KnError('bad-input', `matrice: ${what} layer 0 has no neurons`);
  for (let l = 0; l < scores.length; l++) {
    if (!(scores[l] instanceof Float64Array)) {
      throw new KnError('bad-input', `matrice: ${what} layer ${l} is not a Float64Array`);
    }
    if (scores[l].length !== ffnSize) {
      throw new KnError('bad-input', `matrice: ${what} layer ${l} has ${scores[l].length} neurons, layer 0 has ${ffnSize}`);
    }
  }
  return { numLayers: scores.length, ffnSize };
}

/** Throws `bad-input` unless `scores` has exactly the given shape. */
export function assertShape(scores: LayerScores, shape: ScoreShape, what = 'scores'): void {
  const s = shapeOf(scores, what);
  if (s.numLayers !== shape.numLayers || s.ffnSize !== shape.ffnSize) {
    throw new KnError('bad-input', `matrice: ${what} is ${s.numLayers}x${s.ffnSize}, expected ${shape.numLayers}x${shape.ffnSize}`);
  }
}

/** Layer-major flat copy: `flat[l * ffnSize + j] = scores[l][j]`. */
export function toFlat(scores: LayerScores): Float64Array {
  const { numLayers, ffnSize } = shapeOf(scores);
  const flat = new Float64Array(numLayers * ffnSize);
  for (let l = 0; l < numLayers; l++) flat.set(scores[l], l * ffnSize);
  return flat;
}

/** Inverse of `toFlat` (copies). Accepts any numeric array-like, e.g. a Float32Array from the engine. */
export function fromFlat(flat: ArrayLike<number>, numLayers: number, ffnSize: number): LayerScores {
  checkDim('numLayers', numLayers);
  checkDim('ffnSize', ffnSize);
  if (flat.length !== numLayers * ffnSize) {
    throw new KnError('bad-input', `matrice: flat scores have ${flat.length} values, expected ${numLayers}x${ffnSize}`);
  }
  const out: LayerScores = [];
  for (let l = 0; l < numLayers; l++) {
    const row = new Float64Array(ffnSize);
    for (let j = 0; j < ffnSize; j++) row[j] = flat[l * ffnSize + j];
    out.push(row);
  }
  return out;
}

/** Copy of nested numbers (e.g. parsed JSON, or per-layer Float32Arrays) as `LayerScores`. */
export function fromNested(rows: ArrayLike<ArrayLike<number>>): LayerScores {
  const out: LayerScores = [];
  for (let l = 0; l < rows.length; l++) out.push(Float64Array.from(rows[l]));
  shapeOf(out);
  return out;
}

/**
 * JSON-serializable form: `number[][]`, layer-major. Non-finite values (NaN, ±Infinity) become `null`
 * because JSON cannot hold them; `layerScoresFromJSON` turns `null` back into NaN.
 */
export function layerScoresToJSON(scores: LayerScores): (number | null)[][] {
  return scores.map((r) => Array.from(r, (v) => (Number.isFinite(v) ? v : null)));
}

export function layerScoresFromJSON(rows: (number | null)[][]): LayerScores {
  return fromNested(rows.map((r) => r.map((v) => (v === null ? NaN : v))));
}

/** Flat key of a neuron: `layer * ffnSize + index`. */
export function neuronKey(n: NeuronId, ffnSize: number): number {
  return n[0] * ffnSize + n[1];
}

export function neuronFromKey(key: number, ffnSize: number): NeuronId {
  return [Math.floor(key / ffnSize), key % ffnSize];
}

/** Throws `bad-input` when a neuron id lies outside the shape. */
export function assertNeuron(n: NeuronId, shape: ScoreShape, what = 'neuron'): void {
  const [l, j] = n;
  if (!Number.isInteger(l) || !Number.isInteger(j) || l < 0 || j < 0 || l >= shape.numLayers || j >= shape.ffnSize) {
    throw new KnError('bad-input', `matrice: ${what} [${l}, ${j}] is outside ${shape.numLayers} layers x ${shape.ffnSize} neurons`);
  }
}

/** Sorted (layer-major), de-duplicated neuron list from flat keys. */
export function neuronsFromKeys(keys: Iterable<number>, ffnSize: number): NeuronId[] {
  const sorted = Array.from(new Set(keys)).sort((a, b) => a - b);
  return sorted.map((k) => neuronFromKey(k, ffnSize));
}

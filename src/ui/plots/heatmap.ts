/**
 * The math behind Heatmap.svelte, pure and unit-tested (tests/ui/heatmap.test.ts): the visible neuron
 * window (view) and its link to a d3-zoom transform, the binning of neurons into pixel columns with
 * max-pooling, the diverging colour domain (colorDomain) and lookup table, cursor movement by keyboard, and the text summary.
 *
 * Coordinates: neurons on x, a continuous axis where neuron j occupies [j, j + 1); layers on y, layer 0
 * at the bottom (ArrowUp goes to a higher layer). A view is the continuous window [start, end) ⊆ [0, N].
 */
import { color as d3color, interpolateRdBu } from 'd3';

export interface HeatView {
  start: number;
  end: number;
}

export function fullView(ffnSize: number): HeatView {
  return { start: 0, end: ffnSize };
}

/** Keeps the view inside [0, N] with a span in [minSpan, N] (span kept when possible). */
export function clampView(v: HeatView, ffnSize: number, minSpan = 1): HeatView {
  const N = ffnSize;
  const lo = Math.min(Math.max(1e-9, minSpan), N);
  let span = v.end - v.start;
  if (!Number.isFinite(span) || span <= 0) span = N;
  span = Math.min(N, Math.max(lo, span));
  let start = Number.isFinite(v.start) ? v.start : 0;
  start = Math.min(Math.max(0, start), N - span);
  return { start, end: start + span };
}

/** Zoom by `factor` (> 1 zooms in) keeping the neuron coordinate `center` at the same screen position. */
export function zoomView(v: HeatView, factor: number, center: number, ffnSize: number, minSpan = 1): HeatView {
  const span = v.end - v.start;
  const newSpan = span / factor;
  const t = span > 0 ? (center - v.start) / span : 0.5;
  return clampView({ start: center - t * newSpan, end: center - t * newSpan + newSpan }, ffnSize, minSpan);
}

/** The smallest pan that makes neuron j ([j, j + 1)) fully visible. */
export function panToInclude(v: HeatView, j: number, ffnSize: number): HeatView {
  const span = v.end - v.start;
  if (j < v.start) return clampView({ start: j, end: j + span }, ffnSize, span);
  if (j + 1 > v.end) return clampView({ start: j + 1 - span, end: j + 1 }, ffnSize, span);
  return v;
}

/** The d3-zoom transform (k, x) that shows `v` on a plot `width` pixels wide (base scale [0, N] → [0, width]). */
export function viewToTransform(v: HeatView, ffnSize: number, width: number): { k: number; x: number } {
  const k = ffnSize / (v.end - v.start);
  return { k, x: -((v.start * width) / ffnSize) * k };
}

/** The view a d3-zoom transform (k, x) shows. */
export function transformToView(k: number, x: number, ffnSize: number, width: number): HeatView {
  const toN = ffnSize / width;
  return { start: (-x / k) * toN, end: ((width - x) / k) * toN };
}

/** Zoom-in limit: at most this scale factor, so that a neuron is at most `maxPx` pixels wide. */
export function maxZoom(ffnSize: number, width: number, maxPx = 24): number {
  return Math.max(1, (ffnSize * maxPx) / Math.max(1, width));
}

/** The integer neuron range [first, last) touched by the view. */
export function visibleRange(v: HeatView, ffnSize: number): [number, number] {
  const first = Math.max(0, Math.min(ffnSize - 1, Math.floor(v.start)));
  const last = Math.max(first + 1, Math.min(ffnSize, Math.ceil(v.end - 1e-9)));
  return [first, last];
}

// ---------------------------------------------------------------------------------------------------
// binning + max-pooling

/** Bin i of `bins` over the neurons [first, last): [first + ⌈i·w/bins⌉, first + ⌈(i+1)·w/bins⌉). */
export function binBounds(first: number, last: number, bins: number, i: number): [number, number] {
  const w = last - first;
  return [first + Math.floor((i * w + bins - 1) / bins), first + Math.floor(((i + 1) * w + bins - 1) / bins)];
}

/** The bin of neuron j (first ≤ j < last); inverse of binBounds. */
export function binOf(j: number, first: number, last: number, bins: number): number {
  const w = last - first;
  return Math.min(bins - 1, Math.max(0, Math.floor(((j - first) * bins) / w)));
}

export interface Pooled {
  first: number;
  last: number;
  numLayers: number;
  /** number of columns: min(last − first, maxColumns) */
  columns: number;
  /** layer-major: values[l * columns + c] = max of layer l over the neurons of column c (NaN if none finite) */
  values: Float64Array;
  /** the neuron achieving that max (the first one on ties; the bin's first neuron when none is finite) */
  argmax: Int32Array;
}

/**
 * Max-pools each layer's neurons [first, last) into at most `maxColumns` columns (one per pixel column
 * when zoomed out; one per neuron when the range is narrower than that). Non-finite scores are skipped.
 */
export function poolColumns(scores: ArrayLike<number>[], first: number, last: number, maxColumns: number): Pooled {
  const numLayers = scores.length;
  const w = Math.max(0, last - first);
  const columns = Math.max(0, Math.min(w, Math.floor(maxColumns)));
  const values = new Float64Array(numLayers * columns);
  const argmax = new Int32Array(numLayers * columns);
  for (let c = 0; c < columns; c++) {
    const [lo, hi] = binBounds(first, last, columns, c);
    for (let l = 0; l < numLayers; l++) {
      const row = scores[l];
      let best = NaN;
      let at = lo;
      for (let j = lo; j < hi; j++) {
        const x = row[j];
        if (!Number.isFinite(x)) continue;
        if (best !== best || x > best) {
          best = x;
          at = j;
        }
      }
      values[l * columns + c] = best;
      argmax[l * columns + c] = at;
    }
  }
  return { first, last, numLayers, columns, values, argmax };
}

// ---------------------------------------------------------------------------------------------------
// colour

/** [min, max] of the finite scores; [0, 1] when there are none; widened when min = max. */
export function scoreDomain(scores: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of scores) {
    for (let j = 0; j < row.length; j++) {
      const x = row[j];
      if (!Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  if (lo > hi) return [0, 1];
  if (lo === hi) return lo === 0 ? [0, 1] : [Math.min(0, lo), Math.max(0, hi)];
  return [lo, hi];
}

/**
 * The colour scale's ends [lo, hi], lo < 0 < hi: a diverging scale around S = 0 (blue below, white at 0,
 * red above), each side stretched to its own end, so that the neurons that matter are never washed out by
 * the other sign. hi is the largest positive score itself: the selection keeps S > τ·max S, so the selected
 * neurons take the top 1 − τ of the red ramp and the strongest is the darkest red. lo is the
 * NEGATIVE_QUANTILE quantile of the negative scores' magnitudes (a robust end: one outlier far below zero
 * does not turn every other negative cell white); lower scores are clamped. With one sign only, the other
 * side mirrors it; with no non-zero score, [−1, 1].
 */
export type ColorDomain = [number, number];

/** The quantile of |S| over the negative cells where the blue side ends (lower scores clamp to it). */
export const NEGATIVE_QUANTILE = 0.99;

/** The q-quantile (nearest rank, 0 < q ≤ 1) of the values; 0 for none. */
export function quantile(values: Float64Array, q: number): number {
  if (!values.length) return 0;
  const v = Float64Array.from(values).sort();
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
}

export function colorDomain(scores: ArrayLike<number>[], q = NEGATIVE_QUANTILE): ColorDomain {
  let hi = 0;
  let n = 0;
  for (const row of scores) for (let j = 0; j < row.length; j++) if (Number.isFinite(row[j]) && row[j] < 0) n++;
  const neg = new Float64Array(n);
  n = 0;
  for (const row of scores) {
    for (let j = 0; j < row.length; j++) {
      const x = row[j];
      if (!Number.isFinite(x)) continue;
      if (x > hi) hi = x;
      if (x < 0) neg[n++] = -x;
    }
  }
  const lo = quantile(neg, q);
  if (hi === 0 && lo === 0) return [-1, 1];
  if (hi === 0) return [-lo, lo];
  if (lo === 0) return [-hi, hi];
  return [-lo, hi];
}

/** Where a score falls on the colour ramp: 0 (lo and below) … 0.5 (zero) … 1 (hi and above); NaN if not finite. */
export function colorT(x: number, d: ColorDomain): number {
  if (!Number.isFinite(x)) return NaN;
  return x < 0 ? 0.5 - 0.5 * Math.min(1, x / d[0]) : 0.5 + 0.5 * Math.min(1, x / d[1]);
}

/** The diverging ramp: blue (negative) … white (0) … red (positive), ColorBrewer RdBu (colour-blind safe). */
export const diverging = (t: number) => interpolateRdBu(1 - t);

/** The colour of a score (clamped to the domain). */
export function makeColorScale(d: ColorDomain): (x: number) => string {
  return (x: number) => diverging(Number.isFinite(x) ? colorT(x, d) : 0.5);
}

/** A 256-entry RGBA lookup table of the ramp (entry i is t = i / (n − 1)). */
export function colorLUT(n = 256): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const c = d3color(diverging(i / (n - 1)))!.rgb();
    lut[4 * i] = c.r;
    lut[4 * i + 1] = c.g;
    lut[4 * i + 2] = c.b;
    lut[4 * i + 3] = 255;
  }
  return lut;
}

/** The LUT index of a value (clamped; -1 for non-finite). */
export function lutIndex(x: number, d: ColorDomain, n = 256): number {
  const t = colorT(x, d);
  if (Number.isNaN(t)) return -1;
  return Math.max(0, Math.min(n - 1, Math.round(t * (n - 1))));
}

/** The legend's ticks: its two ends, zero and (when given and inside) the selection threshold 𝒯, at their offsets (0 … 1). */
export function legendTicks(d: ColorDomain, threshold?: number | null): { value: number; offset: number; threshold: boolean }[] {
  const out = [d[0], 0, d[1]].map((value) => ({ value, offset: colorT(value, d), threshold: false }));
  if (threshold !== null && threshold !== undefined && Number.isFinite(threshold) && threshold > d[0] && threshold < d[1]) {
    out.push({ value: threshold, offset: colorT(threshold, d), threshold: true });
  }
  return out;
}

/**
 * RGBA pixels (columns × numLayers, row 0 = the highest layer, as drawn) of pooled values; non-finite
 * values are transparent.
 */
export function pooledToRGBA(p: Pooled, domain: ColorDomain, lut: Uint8ClampedArray): Uint8ClampedArray {
  const n = lut.length / 4;
  const out = new Uint8ClampedArray(p.columns * p.numLayers * 4);
  for (let l = 0; l < p.numLayers; l++) {
    const row = p.numLayers - 1 - l;
    for (let c = 0; c < p.columns; c++) {
      const i = lutIndex(p.values[l * p.columns + c], domain, n);
      if (i < 0) continue;
      const o = (row * p.columns + c) * 4;
      out[o] = lut[4 * i];
      out[o + 1] = lut[4 * i + 1];
      out[o + 2] = lut[4 * i + 2];
      out[o + 3] = 255;
    }
  }
  return out;
}

/** WCAG relative luminance of a CSS colour (0 black … 1 white). */
export function relativeLuminance(css: string): number {
  const c = d3color(css)!.rgb();
  const f = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}

// ---------------------------------------------------------------------------------------------------
// keyboard cursor

export interface CursorContext {
  numLayers: number;
  ffnSize: number;
  /** neurons per Shift+arrow step (e.g. one pooled column) */
  step?: number;
  /** neurons per PageUp/PageDown (e.g. the visible span) */
  page?: number;
}

/**
 * The cursor after a key: ←/→ one neuron (Shift: `step`), ↑/↓ one layer (↑ = higher layer), Home/End the
 * row's first/last neuron, PageUp/PageDown ± `page` neurons. null when the key is not a cursor key.
 */
export function moveCursor(cursor: [number, number], key: string, ctx: CursorContext, shift = false): [number, number] | null {
  const { numLayers, ffnSize } = ctx;
  const step = Math.max(1, Math.round(shift ? (ctx.step ?? 1) : 1));
  const page = Math.max(1, Math.round(ctx.page ?? ffnSize / 10));
  let [l, j] = cursor;
  switch (key) {
    case 'ArrowLeft':
      j -= step;
      break;
    case 'ArrowRight':
      j += step;
      break;
    case 'ArrowUp':
      l += 1;
      break;
    case 'ArrowDown':
      l -= 1;
      break;
    case 'Home':
      j = 0;
      break;
    case 'End':
      j = ffnSize - 1;
      break;
    case 'PageUp':
      j -= page;
      break;
    case 'PageDown':
      j += page;
      break;
    default:
      return null;
  }
  return [Math.max(0, Math.min(numLayers - 1, l)), Math.max(0, Math.min(ffnSize - 1, j))];
}

/** The cell of the largest finite score (the cursor's natural start), [0, 0] if none. */
export function argmaxCell(scores: ArrayLike<number>[]): [number, number] {
  let best = -Infinity;
  let at: [number, number] = [0, 0];
  for (let l = 0; l < scores.length; l++) {
    const row = scores[l];
    for (let j = 0; j < row.length; j++) {
      if (Number.isFinite(row[j]) && row[j] > best) {
        best = row[j];
        at = [l, j];
      }
    }
  }
  return at;
}

/** The selected neurons inside [first, last) and the layer range (deduplicated). */
export function selectedInRange(selected: [number, number][], first: number, last: number, numLayers: number): [number, number][] {
  const seen = new Set<string>();
  const out: [number, number][] = [];
  for (const n of selected) {
    const [l, j] = n;
    if (l < 0 || l >= numLayers || j < first || j >= last) continue;
    const k = `${l}:${j}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push([l, j]);
  }
  return out;
}

/** Above this many selected neurons in view, the heatmap shades them as one layer instead of one ring each. */
export const MAX_RINGS = 200;

export interface SelectionRun {
  layer: number;
  /** neuron range [start, end) covered (whole pixel columns when pooled) */
  start: number;
  end: number;
  /** selected neurons inside it */
  count: number;
}

/**
 * A large selection as a layer: per layer, the runs of adjacent columns (of `columns` over [first, last),
 * as poolColumns bins them) that hold at least one selected neuron. Duplicates count once; neurons out of
 * range are ignored. Sorted by layer, then start.
 */
export function selectionRuns(selected: [number, number][], first: number, last: number, columns: number, numLayers: number): SelectionRun[] {
  if (columns <= 0 || last <= first) return [];
  const counts = new Map<number, Int32Array>();
  for (const [l, j] of selectedInRange(selected, first, last, numLayers)) {
    let row = counts.get(l);
    if (!row) counts.set(l, (row = new Int32Array(columns)));
    row[binOf(j, first, last, columns)]++;
  }
  const runs: SelectionRun[] = [];
  for (const l of [...counts.keys()].sort((a, b) => a - b)) {
    const row = counts.get(l)!;
    let c = 0;
    while (c < columns) {
      if (!row[c]) {
        c++;
        continue;
      }
      const c0 = c;
      let count = 0;
      while (c < columns && row[c]) count += row[c++];
      runs.push({ layer: l, start: binBounds(first, last, columns, c0)[0], end: binBounds(first, last, columns, c - 1)[1], count });
    }
  }
  return runs;
}

/** The legend gradient's stops (offset = t on the ramp, 0 … 1). */
export function legendStops(n = 11): { offset: number; t: number }[] {
  return Array.from({ length: n }, (_, i) => ({ offset: i / (n - 1), t: i / (n - 1) }));
}

export function heatmapSummary(scores: ArrayLike<number>[], selected: [number, number][]): string {
  const L = scores.length;
  const N = L ? scores[0].length : 0;
  if (!L || !N) return 'Heatmap: no scores yet.';
  const [lo, hi] = scoreDomain(scores);
  const [ml, mj] = argmaxCell(scores);
  const layers = [...new Set(selected.map(([l]) => l))].sort((a, b) => a - b);
  const fmt = (x: number) => String(Number(x.toPrecision(3))).replace('-', '\u2212');
  let s = `Heatmap of the language-agnostic score S over ${L} layers × ${N} neurons. S ranges from ${fmt(lo)} to ${fmt(hi)}; the maximum is at layer ${ml}, neuron ${mj}.`;
  s += selected.length
    ? ` ${selected.length} neuron${selected.length === 1 ? '' : 's'} selected, in layer${layers.length === 1 ? '' : 's'} ${layers.join(', ')}.`
    : ' No neurons selected.';
  return s;
}

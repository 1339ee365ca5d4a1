import { lab } from 'd3';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/engine/selection/rng';
import {
  argmaxCell,
  binBounds,
  binOf,
  clampView,
  colorDomain,
  colorLUT,
  fullView,
  heatmapSummary,
  lutIndex,
  makeColorScale,
  maxZoom,
  moveCursor,
  panToInclude,
  poolColumns,
  pooledToRGBA,
  scoreDomain,
  selectedInRange,
  transformToView,
  viewToTransform,
  visibleRange,
  zoomView,
} from '../../src/ui/plots/heatmap';
import * as heat from '../../src/ui/plots/heatmap';

function randomScores(L: number, N: number, seed: number): Float64Array[] {
  const r = createRng(seed);
  return Array.from({ length: L }, () => Float64Array.from({ length: N }, () => r.nextFloat() * 2 - 0.5));
}

describe('heatmap binning', () => {
  it('bins partition [first, last) into non-empty contiguous ranges, and binOf inverts them', () => {
    for (const [first, last, bins] of [
      [0, 3072, 800],
      [0, 3, 2],
      [17, 1000, 983],
      [5, 12, 7],
      [0, 3072, 1],
      [100, 3072, 777],
    ]) {
      let prev = first;
      for (let i = 0; i < bins; i++) {
        const [lo, hi] = binBounds(first, last, bins, i);
        expect(lo).toBe(prev);
        expect(hi).toBeGreaterThan(lo);
        for (let j = lo; j < hi; j++) expect(binOf(j, first, last, bins)).toBe(i);
        prev = hi;
      }
      expect(prev).toBe(last);
    }
  });

  it('max-pools each column to the maximum of its neurons (and remembers which one)', () => {
    const L = 12;
    const N = 3072;
    const S = randomScores(L, N, 1);
    const p = poolColumns(S, 0, N, 800);
    expect(p.columns).toBe(800);
    expect(p.values.length).toBe(L * 800);
    for (let l = 0; l < L; l++) {
      for (let c = 0; c < 800; c++) {
        const [lo, hi] = binBounds(0, N, 800, c);
        let m = -Infinity;
        for (let j = lo; j < hi; j++) m = Math.max(m, S[l][j]);
        expect(p.values[l * 800 + c]).toBe(m);
        const a = p.argmax[l * 800 + c];
        expect(a).toBeGreaterThanOrEqual(lo);
        expect(a).toBeLessThan(hi);
        expect(S[l][a]).toBe(m);
      }
    }
    // the global maximum survives pooling at any zoom level
    const [ml, mj] = argmaxCell(S);
    for (const cols of [1, 7, 300, 3072]) {
      const q = poolColumns(S, 0, N, cols);
      expect(Math.max(...q.values.subarray(ml * q.columns, (ml + 1) * q.columns))).toBe(S[ml][mj]);
    }
  });

  it('uses one column per neuron when the range is narrower than the pixels, and pools a sub-range', () => {
    const S = randomScores(3, 100, 2);
    const p = poolColumns(S, 40, 60, 800);
    expect(p.columns).toBe(20);
    for (let l = 0; l < 3; l++)
      for (let c = 0; c < 20; c++) {
        expect(p.values[l * 20 + c]).toBe(S[l][40 + c]);
        expect(p.argmax[l * 20 + c]).toBe(40 + c);
      }
  });

  it('skips non-finite scores; an all-NaN bin is NaN', () => {
    const row = Float64Array.from([NaN, 1, NaN, NaN, -Infinity, 2, Infinity, 0.5]);
    const p = poolColumns([row], 0, 8, 4);
    expect(Array.from(p.values)).toStrictEqual([1, NaN, 2, 0.5]);
    expect(Array.from(p.argmax)).toStrictEqual([1, 2, 5, 7]);
  });

  it('is fast for 12 × 3072', () => {
    const S = randomScores(12, 3072, 3);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) poolColumns(S, 0, 3072, 1200);
    expect((performance.now() - t0) / 20).toBeLessThan(50);
  });
});

describe('heatmap view and zoom', () => {
  it('view ↔ d3-zoom transform round-trip', () => {
    const N = 3072;
    const w = 900;
    for (const v of [fullView(N), { start: 100, end: 164 }, { start: 3000.5, end: 3072 }]) {
      const t = viewToTransform(v, N, w);
      const back = transformToView(t.k, t.x, N, w);
      expect(back.start).toBeCloseTo(v.start, 9);
      expect(back.end).toBeCloseTo(v.end, 9);
    }
    expect(viewToTransform(fullView(N), N, w)).toStrictEqual({ k: 1, x: -0 });
    expect(maxZoom(N, w, 24)).toBeCloseTo((N * 24) / w);
  });

  it('zooms around a point, clamps to the domain, and pans to include a neuron', () => {
    const N = 1000;
    const v = zoomView(fullView(N), 4, 500, N);
    expect(v).toStrictEqual({ start: 375, end: 625 });
    expect(zoomView(v, 0.01, 500, N)).toStrictEqual(fullView(N));
    expect(zoomView(fullView(N), 1e9, 0, N, 8)).toStrictEqual({ start: 0, end: 8 });
    expect(clampView({ start: -50, end: 50 }, N)).toStrictEqual({ start: 0, end: 100 });
    expect(clampView({ start: 990, end: 1100 }, N)).toStrictEqual({ start: 890, end: 1000 });
    expect(panToInclude(v, 800, N)).toStrictEqual({ start: 551, end: 801 });
    expect(panToInclude(v, 10, N)).toStrictEqual({ start: 10, end: 260 });
    expect(panToInclude(v, 400, N)).toBe(v);
    expect(visibleRange({ start: 10.5, end: 20.2 }, N)).toStrictEqual([10, 21]);
    expect(visibleRange(fullView(N), N)).toStrictEqual([0, 1000]);
  });
});

describe('heatmap colour', () => {
  it('domain covers the finite scores and is never degenerate', () => {
    expect(scoreDomain([Float64Array.from([0.5, -0.25, NaN]), Float64Array.from([Infinity, 2])])).toStrictEqual([-0.25, 2]);
    expect(scoreDomain([Float64Array.from([NaN])])).toStrictEqual([0, 1]);
    expect(scoreDomain([[0, 0]])).toStrictEqual([0, 1]);
    expect(scoreDomain([[3, 3]])).toStrictEqual([0, 3]);
    expect(scoreDomain([[-2, -2]])).toStrictEqual([-2, 0]);
  });

  it('the colour scale diverges around 0: white at 0, darker with |S| on each side (red above, blue below), clamped', () => {
    const d: [number, number] = [-1, 3];
    const scale = makeColorScale(d);
    const Lab = (x: number) => lab(scale(x));
    expect(Lab(0).l).toBeGreaterThan(90); // near white
    let prev = Infinity;
    for (let i = 0; i <= 100; i++) {
      const y = Lab((3 * i) / 100).l;
      expect(y).toBeLessThan(prev + 0.5); // ColorBrewer's spline: within 0.5 L* (invisible) of monotonic near 0
      prev = y;
    }
    prev = Infinity;
    for (let i = 0; i <= 100; i++) {
      const y = Lab(-i / 100).l;
      expect(y).toBeLessThan(prev + 0.5); // ColorBrewer's spline: within 0.5 L* (invisible) of monotonic near 0
      prev = y;
    }
    expect(Lab(3).a).toBeGreaterThan(30); // red: positive a*
    expect(Lab(-1).b).toBeLessThan(-20); // blue: negative b*
    expect(scale(-5)).toBe(scale(-1));
    expect(scale(9)).toBe(scale(3));
    const lut = colorLUT();
    const L = Array.from({ length: 256 }, (_, i) => lab(`rgb(${lut[4 * i]},${lut[4 * i + 1]},${lut[4 * i + 2]})`).l);
    for (let i = 129; i < 256; i++) expect(L[i]).toBeLessThan(L[i - 1] + 0.5);
    for (let i = 1; i < 127; i++) expect(L[i]).toBeGreaterThan(L[i - 1] - 0.5);
    expect(L[128] - L[255]).toBeGreaterThan(50);
    expect(L[128] - L[0]).toBeGreaterThan(50);
    expect(lutIndex(-1, d)).toBe(0);
    expect(lutIndex(0, d)).toBe(128);
    expect(lutIndex(3, d)).toBe(255);
    expect(lutIndex(100, d)).toBe(255);
    expect(lutIndex(-100, d)).toBe(0);
    expect(lutIndex(NaN, d)).toBe(-1);
  });

  it('the domain: red up to max S, blue down to the 99th percentile of the negative |S|, one-sided and empty cases', () => {
    expect(colorDomain([Float64Array.from([0.5, -0.25, NaN]), Float64Array.from([Infinity, 2])])).toStrictEqual([-0.25, 2]);
    expect(colorDomain([[0, 0]])).toStrictEqual([-1, 1]);
    expect(colorDomain([[NaN]])).toStrictEqual([-1, 1]);
    expect(colorDomain([[0, 0.4, 0.1]])).toStrictEqual([-0.4, 0.4]);
    expect(colorDomain([[-2, 0]])).toStrictEqual([-2, 2]);
    // 1000 negatives −0.001 … −1 (step 0.001): the 99th percentile is −0.99, not the outlier
    const neg = Float64Array.from({ length: 1000 }, (_, i) => -(i + 1) / 1000);
    const [lo, hi] = colorDomain([neg, Float64Array.from([0.05])]);
    expect(lo).toBeCloseTo(-0.99, 12);
    expect(hi).toBe(0.05);
    expect(heat.quantile(Float64Array.from([5, 1, 3, 2, 4]), 0.5)).toBe(3);
    expect(heat.NEGATIVE_QUANTILE).toBe(0.99);
  });

  it("shows the selected neurons of a fact like the issue's (S from −0.998 to 0.086): each one visibly coloured, the strongest darkest", () => {
    // thousands of near-zero scores, a few large negatives, and a handful of small positives the threshold selects
    const r = createRng(7);
    const S = Array.from({ length: 4 }, () => Float64Array.from({ length: 512 }, () => (r.nextFloat() - 0.5) * 0.004));
    S[0][3] = -0.998;
    S[1][9] = -0.6;
    const chosen = [0.086, 0.05, 0.03, 0.02];
    chosen.forEach((v, i) => (S[2][100 + i] = v));
    const tau = 0.2;
    const threshold = tau * 0.086;
    const d = colorDomain(S);
    expect(d[1]).toBe(0.086);
    const lut = colorLUT();
    const rgb = (x: number) => {
      const i = lutIndex(x, d);
      return `rgb(${lut[4 * i]},${lut[4 * i + 1]},${lut[4 * i + 2]})`;
    };
    const dE = (a: string, b: string) => {
      const p = lab(a),
        q = lab(b);
      return Math.hypot(p.l - q.l, p.a - q.a, p.b - q.b);
    };
    // every selected neuron (S > 𝒯) differs from a zero cell by a clearly visible CIELAB ΔE (> 15), the max by far more
    for (const v of chosen) {
      expect(v).toBeGreaterThan(threshold);
      expect(dE(rgb(v), rgb(0)), `S = ${v}`).toBeGreaterThan(15);
    }
    expect(dE(rgb(0.086), rgb(0))).toBeGreaterThan(50);
    for (let i = 1; i < chosen.length; i++) expect(lab(rgb(chosen[i - 1])).l).toBeLessThan(lab(rgb(chosen[i])).l);
    // the old min-max viridis scale over [−0.998, 0.086] gave them colours a few LUT steps from zero
    const old = (x: number) => Math.round(((x - -0.998) / (0.086 - -0.998)) * 255);
    expect(old(0.02) - old(0)).toBeLessThan(6);
    expect(lutIndex(0.02, d) - lutIndex(0, d)).toBeGreaterThan(25);
    // the legend marks 𝒯 where its colour is
    const ticks = heat.legendTicks(d, threshold);
    expect(ticks.map((t) => t.value)).toEqual([d[0], 0, 0.086, threshold]);
    expect(ticks[3]).toMatchObject({ threshold: true, offset: 0.5 + 0.5 * tau });
    expect(heat.legendTicks(d, null).length).toBe(3);
    expect(heat.legendTicks(d, 5).length).toBe(3);
  });

  it('writes RGBA with the highest layer on the first row; NaN is transparent', () => {
    const p = poolColumns([Float64Array.from([0, NaN]), Float64Array.from([1, 1])], 0, 2, 2);
    const lut = colorLUT();
    const px = pooledToRGBA(p, [-1, 1], lut);
    expect(px.length).toBe(2 * 2 * 4);
    expect(Array.from(px.subarray(0, 4))).toStrictEqual(Array.from(lut.subarray(255 * 4, 256 * 4))); // layer 1, col 0: S = 1
    expect(Array.from(px.subarray(8, 12))).toStrictEqual(Array.from(lut.subarray(128 * 4, 129 * 4))); // layer 0, col 0: S = 0
    expect(px[15]).toBe(0); // layer 0, col 1 NaN
  });
});

describe('heatmap cursor and text', () => {
  const ctx = { numLayers: 12, ffnSize: 3072, step: 4, page: 500 };
  it('moves by arrows, Shift+arrows, Home/End, PageUp/PageDown and clamps', () => {
    expect(moveCursor([5, 10], 'ArrowRight', ctx)).toStrictEqual([5, 11]);
    expect(moveCursor([5, 10], 'ArrowRight', ctx, true)).toStrictEqual([5, 14]);
    expect(moveCursor([5, 10], 'ArrowLeft', ctx, true)).toStrictEqual([5, 6]);
    expect(moveCursor([5, 0], 'ArrowLeft', ctx)).toStrictEqual([5, 0]);
    expect(moveCursor([5, 10], 'ArrowUp', ctx)).toStrictEqual([6, 10]);
    expect(moveCursor([11, 10], 'ArrowUp', ctx)).toStrictEqual([11, 10]);
    expect(moveCursor([0, 10], 'ArrowDown', ctx)).toStrictEqual([0, 10]);
    expect(moveCursor([5, 10], 'End', ctx)).toStrictEqual([5, 3071]);
    expect(moveCursor([5, 10], 'Home', ctx)).toStrictEqual([5, 0]);
    expect(moveCursor([5, 10], 'PageDown', ctx)).toStrictEqual([5, 510]);
    expect(moveCursor([5, 10], 'PageUp', ctx)).toStrictEqual([5, 0]);
    expect(moveCursor([5, 10], 'Enter', ctx)).toBeNull();
    expect(moveCursor([5, 10], 'a', ctx)).toBeNull();
  });

  it('filters the selected neurons in view and summarises', () => {
    const sel: [number, number][] = [
      [1, 5],
      [1, 5],
      [2, 50],
      [20, 6],
      [0, 9],
    ];
    expect(selectedInRange(sel, 0, 10, 3)).toStrictEqual([
      [1, 5],
      [0, 9],
    ]);
    const S = [Float64Array.from([0, -0.5, 0.25]), Float64Array.from([0.125, 0.75, 0])];
    const text = heatmapSummary(S, [[1, 1]]);
    expect(text).toContain('2 layers × 3 neurons');
    expect(text).toContain('from −0.5 to 0.75');
    expect(text).toContain('maximum is at layer 1, neuron 1');
    expect(text).toContain('1 neuron selected, in layer 1.');
    expect(heatmapSummary([], [])).toBe('Heatmap: no scores yet.');
  });
});

describe('heatmap: a large selection as a layer', () => {
  it('merges adjacent selected columns into runs per layer, counting each neuron once', () => {
    const { selectionRuns } = heat;
    // one neuron per column (no pooling)
    const runs = selectionRuns(
      [
        [1, 2],
        [1, 3],
        [1, 3],
        [1, 4],
        [1, 7],
        [0, 0],
        [5, 1],
        [1, 99],
      ],
      0,
      10,
      10,
      2,
    );
    expect(runs).toEqual([
      { layer: 0, start: 0, end: 1, count: 1 },
      { layer: 1, start: 2, end: 5, count: 3 },
      { layer: 1, start: 7, end: 8, count: 1 },
    ]);
    // pooled: 100 neurons in 10 columns of 10; neurons 5 and 12 sit in columns 0 and 1 → one run [0, 20)
    expect(
      selectionRuns(
        [
          [0, 5],
          [0, 12],
          [0, 55],
        ],
        0,
        100,
        10,
        1,
      ),
    ).toEqual([
      { layer: 0, start: 0, end: 20, count: 2 },
      { layer: 0, start: 50, end: 60, count: 1 },
    ]);
    // the view [40, 60): only what is inside
    expect(
      selectionRuns(
        [
          [0, 5],
          [0, 55],
        ],
        40,
        60,
        20,
        1,
      ),
    ).toEqual([{ layer: 0, start: 55, end: 56, count: 1 }]);
    expect(selectionRuns([], 0, 10, 10, 1)).toEqual([]);
  });

  it('a selection of 2,044 of 2,048 neurons becomes a few runs, not 2,044 rings', () => {
    const { selectionRuns } = heat;
    const sel: [number, number][] = [];
    for (let l = 0; l < 4; l++) for (let j = 0; j < 512; j++) if (!(l === 2 && j % 128 === 0)) sel.push([l, j]);
    const runs = selectionRuns(sel, 0, 512, 512, 4);
    expect(runs.reduce((a, r) => a + r.count, 0)).toBe(2044);
    expect(runs.length).toBe(3 + 4); // layers 0, 1, 3 one run each; layer 2 cut by 4 holes into 4 runs
    expect(sel.length).toBeGreaterThan(heat.MAX_RINGS);
  });
});

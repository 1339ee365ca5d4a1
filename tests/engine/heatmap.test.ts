/** The explorer's heatmap (src/engine/selection/heatmap.ts): which score a method shows, and S binned to cells. */
import { describe, expect, it } from 'vitest';
import { binHeatmap, heatmapOf, showsThreshold } from '../../src/engine/selection';
import { METHODS } from '../../src/engine/rules';

describe('heatmap', () => {
  it('keeps S as it is (non-finite as 0) when it fits, else the largest finite score of each bin', () => {
    const S = [Float64Array.from([1, -Infinity, 3, NaN]), Float64Array.from([-2, -5, NaN, NaN])];
    expect(binHeatmap(S, 2, 4, 8)).toEqual({
      S: [
        [1, 0, 3, 0],
        [-2, -5, 0, 0],
      ],
      bin: 1,
    });
    expect(binHeatmap(S, 2, 4, 4)).toEqual({
      S: [
        [1, 3],
        [-2, 0],
      ],
      bin: 2,
    });
    expect(binHeatmap(S, 2, 4, 3)).toEqual({
      S: [
        [3, 0],
        [-2, 0],
      ],
      bin: 3,
    });
    expect(binHeatmap(S, 2, 4, 0)).toEqual({ S: [[3], [-2]], bin: 8 });
  });

  it("w/o UaQ shows its own S, every other method MaTrice's; AMIG and w/o UaL show no threshold", () => {
    expect(METHODS.map(heatmapOf)).toEqual(METHODS.map((m) => (m === 'no-uaq' ? 'no-uaq' : 'matrice')));
    expect(METHODS.filter(showsThreshold)).toEqual(['matrice', 'random', 'no-uaq']);
  });
});

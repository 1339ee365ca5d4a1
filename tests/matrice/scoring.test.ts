/**
 * MaTrice scoring arithmetic (docs/METHOD.md Eq. 5-14). Every expected number below is worked out by hand in
 * the comments (2 layers x 3 neurons, 2-3 languages, 2-3 queries); none is produced by the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  type FactAttributions,
  type LayerScores,
  type NeuronId,
  combineBaselines,
  deltaP,
  fromFlat,
  fromNested,
  coverageMean,
  intersectNeuronSets,
  languageCoverage,
  perLanguage,
  layerDistribution,
  layerScoresFromJSON,
  layerScoresToJSON,
  neuronStats,
  normalize,
  normalizeAcrossLanguages,
  normalizeGlobal,
  normalizePerLayer,
  precisionRecall,
  randomNeurons,
  resolveSettings,
  scoreAmig,
  scoreMatrice,
  scoreNoUaL,
  scoreNoUaQ,
  scoreRandom,
  selectByThreshold,
  toFlat,
  toJSONable,
  ual,
  uaq,
} from '../../src/engine/selection/scoring';
import { KnError } from '../../src/shared/errors';

/** The hand computations below follow the paper's formulas (Eq. 5 per layer, Eq. 9 min-max per language), not the product's defaults. */
const PAPER = { norm: 'language', attrNorm: 'layer' } as const;
const PAPER_DEFAULTS = { ...DEFAULT_SETTINGS, ...PAPER };

const L = (rows: number[][]): LayerScores => rows.map((r) => Float64Array.from(r));
const plain = (s: LayerScores): number[][] => s.map((r) => Array.from(r));

function expectClose(actual: LayerScores, expected: number[][], digits = 7): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, l) => {
    expect(row.length).toBe(expected[l].length);
    row.forEach((v, j) => {
      expect(v, `[${l}][${j}]`).toBeCloseTo(expected[l][j], digits);
    });
  });
}

describe('representation helpers', () => {
  it('flat <-> layer-major round trip', () => {
    const s = L([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from(toFlat(s))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(plain(fromFlat([1, 2, 3, 4, 5, 6], 2, 3))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(() => fromFlat([1, 2, 3], 2, 3)).toThrow(KnError);
    expect(() => fromNested([[1, 2], [3]])).toThrow(/layer 1 has 1 neurons/);
  });

  it('JSON form maps non-finite values to null and back to NaN', () => {
    const s = L([
      [1, NaN, 3],
      [Infinity, 5, 6],
    ]);
    const j = layerScoresToJSON(s);
    expect(j).toEqual([
      [1, null, 3],
      [null, 5, 6],
    ]);
    const back = layerScoresFromJSON(JSON.parse(JSON.stringify(j)));
    expect(Number.isNaN(back[0][1])).toBe(true);
    expect(back[1][2]).toBe(6);
  });
});

describe('raw score and Eq. 5 normalization', () => {
  it('combineBaselines sums Attr_i over baselines', () => {
    // [1,2,3]+[0.5,0,-1] = [1.5,2,2]; [0,1,-1]+[2,2,2] = [2,3,1]
    const raw = combineBaselines([
      L([
        [1, 2, 3],
        [0, 1, -1],
      ]),
      L([
        [0.5, 0, -1],
        [2, 2, 2],
      ]),
    ]);
    expect(plain(raw)).toEqual([
      [1.5, 2, 2],
      [2, 3, 1],
    ]);
    expect(() => combineBaselines([])).toThrow(KnError);
  });

  it('per layer and global normalization', () => {
    const raw = L([
      [1, 2, 1],
      [2, -1, 3],
    ]);
    // layer 0: sum 4 -> [.25,.5,.25]; layer 1: sum 4 -> [.5,-.25,.75]
    const pl = normalizePerLayer(raw);
    expect(plain(pl.scores)).toEqual([
      [0.25, 0.5, 0.25],
      [0.5, -0.25, 0.75],
    ]);
    expect(pl.warnings).toEqual([]);
    // global: sum 8
    const gl = normalizeGlobal(raw);
    expect(plain(gl.scores)).toEqual([
      [0.125, 0.25, 0.125],
      [0.25, -0.125, 0.375],
    ]);
    // input untouched; 'none' is a copy
    expect(plain(raw)).toEqual([
      [1, 2, 1],
      [2, -1, 3],
    ]);
    const none = normalize(raw, 'none');
    expect(plain(none.scores)).toEqual(plain(raw));
    expect(none.scores[0]).not.toBe(raw[0]);
    expect(plain(normalize(raw, 'layer').scores)).toEqual(plain(pl.scores));
    expect(plain(normalize(raw, 'global').scores)).toEqual(plain(gl.scores));
  });

  it('zero denominator: that layer becomes zeros and is reported', () => {
    const raw = L([
      [1, -1, 0],
      [1, 1, 2],
    ]);
    // layer 0 sums to 0 -> zeros; layer 1 sum 4 -> [.25,.25,.5]
    const pl = normalizePerLayer(raw);
    expect(plain(pl.scores)).toEqual([
      [0, 0, 0],
      [0.25, 0.25, 0.5],
    ]);
    expect(pl.warnings).toEqual([{ layer: 0, kind: 'zero', denominator: 0 }]);
    // global sum 4 -> [[.25,-.25,0],[.25,.25,.5]], no warning
    const gl = normalizeGlobal(raw);
    expect(plain(gl.scores)).toEqual([
      [0.25, -0.25, 0],
      [0.25, 0.25, 0.5],
    ]);
    expect(gl.warnings).toEqual([]);
    // global zero: everything zero, reported as layer -1
    const g0 = normalizeGlobal(
      L([
        [1, -1, 0],
        [2, -2, 0],
      ]),
    );
    expect(plain(g0.scores)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(g0.warnings).toEqual([{ layer: -1, kind: 'zero', denominator: 0 }]);
  });

  it('negative, non-finite and near-zero denominators', () => {
    // layer 0: sum -4 -> literal division [.25,.75,0], flagged negative
    // layer 1: NaN -> zeros, flagged non-finite
    const r = normalizePerLayer(
      L([
        [-1, -3, 0],
        [NaN, 1, 2],
      ]),
    );
    expect(plain(r.scores)).toEqual([
      [0.25, 0.75, 0],
      [0, 0, 0],
    ]);
    expect(r.warnings.map((w) => [w.layer, w.kind])).toEqual([
      [0, 'negative'],
      [1, 'non-finite'],
    ]);
    // sum 1e-9 with Σ|raw| ≈ 2: near-zero, literal division kept: [1e9, -1e9, 1]
    const nz = normalizePerLayer(L([[1, -1, 1e-9]]));
    expect(nz.warnings.map((w) => w.kind)).toEqual(['near-zero']);
    expect(nz.scores[0][2]).toBeCloseTo(1, 6);
    expect(nz.scores[0][0]).toBeGreaterThan(1e8);
  });
});

describe('UaQ (Eq. 6-8)', () => {
  const queries = [
    L([
      [0.2, 0.5, 0.3],
      [0.1, 0.1, 0.8],
    ]),
    L([
      [0.4, 0.5, 0.1],
      [0.3, 0.1, 0.6],
    ]),
    L([
      [0.3, 0.5, 0.2],
      [0.2, 0.4, 0.4],
    ]),
  ];

  it('mean minus population std', () => {
    // (0,0): .2,.4,.3 mean .3, var (.01+.01+0)/3 = .0066667, std .0816497 -> .2183503
    //        (a sample std would give .1 -> .2: distinguishes ÷T from ÷(T−1))
    // (0,1): .5,.5,.5 -> .5
    // (0,2): .3,.1,.2 mean .2 std .0816497 -> .1183503
    // (1,0): .1,.3,.2 -> .1183503
    // (1,1): .1,.1,.4 mean .2, var (.01+.01+.04)/3=.02, std .1414214 -> .0585786
    // (1,2): .8,.6,.4 mean .6, var .08/3, std .1632993 -> .4367007
    expectClose(uaq(queries), [
      [0.2183503, 0.5, 0.1183503],
      [0.1183503, 0.0585786, 0.4367007],
    ]);
  });

  it('alpha weights', () => {
    // α1=2, α2=.5: (0,0) .6-.0408248=.5591752; (0,1) 1; (0,2) .4-.0408248=.3591752
    // (1,0) .3591752; (1,1) .4-.0707107=.3292893; (1,2) 1.2-.0816497=1.1183503
    expectClose(uaq(queries, { alpha1: 2, alpha2: 0.5 }), [
      [0.5591752, 1, 0.3591752],
      [0.3591752, 0.3292893, 1.1183503],
    ]);
  });

  it('a single query has std 0', () => {
    expectClose(uaq([queries[0]], { alpha1: 3, alpha2: 5 }), [
      [0.6, 1.5, 0.9],
      [0.3, 0.3, 2.4],
    ]);
    expect(() => uaq([])).toThrow(KnError);
  });
});

describe('UaL (Eq. 9-11)', () => {
  const A = L([
    [0, 1, 2],
    [3, 4, 4],
  ]);
  const B = L([
    [10, 0, 5],
    [0, 0, 20],
  ]);
  const C = L([
    [1, 3, 1],
    [1, 1, 5],
  ]);

  it("'language' mode: min-max each language over all neurons, then mean - std", () => {
    // A: min 0 max 4 -> [[0,.25,.5],[.75,1,1]]
    // B: min 0 max 20 -> [[.5,0,.25],[0,0,1]]
    // C: min 1 max 5 -> [[0,.5,0],[0,0,1]]
    const { S, normalized } = ual([A, B, C], { norm: 'language' });
    expectClose(normalized[0], [
      [0, 0.25, 0.5],
      [0.75, 1, 1],
    ]);
    expectClose(normalized[1], [
      [0.5, 0, 0.25],
      [0, 0, 1],
    ]);
    expectClose(normalized[2], [
      [0, 0.5, 0],
      [0, 0, 1],
    ]);
    // (0,0): 0,.5,0 mean 1/6 std sqrt(1/18)=.2357023 -> -.0690356
    // (0,1): .25,0,.5 mean .25 std sqrt(.125/3)=.2041241 -> .0458759; (0,2) same multiset
    // (1,0): .75,0,0 mean .25 std sqrt(.125)=.3535534 -> -.1035534
    // (1,1): 1,0,0 mean 1/3 std sqrt(2/9)=.4714045 -> -.1380712
    // (1,2): 1,1,1 -> 1
    expectClose(S, [
      [-0.0690356, 0.0458759, 0.0458759],
      [-0.1035534, -0.1380712, 1],
    ]);
    // selection: τ=.2 -> 𝒯=.2 -> only (1,2); τ=.04 -> 𝒯=.04 -> (0,1),(0,2),(1,2)
    expect(selectByThreshold(S, 0.2).selected).toEqual([[1, 2]]);
    expect(selectByThreshold(S, 0.04).selected).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
  });

  it("'neuron' mode: min-max each neuron across languages (differs from 'language')", () => {
    // (0,0): 0,10,1 -> 0,1,.1      (0,1): 1,0,3 -> 1/3,0,1   (0,2): 2,5,1 -> .25,1,0
    // (1,0): 3,0,1 -> 1,0,1/3     (1,1): 4,0,1 -> 1,0,.25   (1,2): 4,20,5 -> 0,1,1/16
    const { S, normalized } = ual([A, B, C], { norm: 'neuron' });
    expectClose(normalized[0], [
      [0, 1 / 3, 0.25],
      [1, 1, 0],
    ]);
    expectClose(normalized[2], [
      [0.1, 1, 0],
      [1 / 3, 0.25, 0.0625],
    ]);
    // (0,0): mean 1.1/3=.3666667, var .6066667/3=.2022222, std .4496912 -> -.0830245
    // (0,1),(1,0): mean 4/9, var .5185185/3=.1728395, std .4157397 -> .0287047
    // (0,2),(1,1): mean 1.25/3, var .5416667/3=.1805556, std .4249183 -> -.0082516
    // (1,2): mean 1.0625/3=.3541667, var .6276042/3=.2092014, std .4573854 -> -.1032187
    expectClose(
      S,
      [
        [-0.0830245, 0.0287047, -0.0082516],
        [0.0287047, -0.0082516, -0.1032187],
      ],
      6,
    );
    // τ=.2: 𝒯 = .0057409 -> (0,1),(1,0)   (language mode selected only (1,2))
    expect(selectByThreshold(S, 0.2).selected).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('0/0 cases are 0: constant language vector, equal values across languages', () => {
    const K = L([
      [2, 2, 2],
      [2, 2, 2],
    ]);
    expect(plain(normalizeAcrossLanguages([A, K], 'language')[1])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    // neuron (1,1) of A and of D below are both 4 -> both 0; elsewhere larger -> 1, smaller -> 0
    const D = L([
      [1, 1, 1],
      [1, 4, 9],
    ]);
    const n = normalizeAcrossLanguages([A, D], 'neuron');
    expect(plain(n[0])).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(plain(n[1])).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    // one language in neuron mode: every neuron constant -> all 0
    expect(plain(normalizeAcrossLanguages([A], 'neuron')[0])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('beta weights', () => {
    // β1=2, β2=0 on the 'language' normalized maps: S = 2·mean
    // (0,0) 2/6, (0,1) .5, (0,2) .5, (1,0) .5, (1,1) 2/3, (1,2) 2
    expectClose(ual([A, B, C], { norm: 'language', beta1: 2, beta2: 0 }).S, [
      [1 / 3, 0.5, 0.5],
      [0.5, 2 / 3, 2],
    ]);
  });
});

describe('selection (Eq. 12-13)', () => {
  const S = L([
    [0.1, 0.5, 1.0],
    [0.2, 0.3, -1],
  ]);

  it('strictly greater than τ·max', () => {
    // 𝒯 = .2·1 = .2; (1,0) = .2 is NOT selected
    const r = selectByThreshold(S, 0.2);
    expect(r.threshold).toBe(0.2);
    expect(r.maxScore).toBe(1);
    expect(r.selected).toEqual([
      [0, 1],
      [0, 2],
      [1, 1],
    ]);
    // default τ is 0.2
    expect(selectByThreshold(S).selected).toEqual(r.selected);
    // τ=.5: 𝒯=.5, (0,1)=.5 excluded
    expect(selectByThreshold(S, 0.5).selected).toEqual([[0, 2]]);
  });

  it('τ edge cases', () => {
    // τ=0: every positive score
    expect(selectByThreshold(S, 0).selected).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
    ]);
    // τ=1: nothing (strict >)
    expect(selectByThreshold(S, 1).selected).toEqual([]);
    expect(() => selectByThreshold(S, NaN)).toThrow(KnError);
  });

  it('max ≤ 0 selects nothing; non-finite scores are ignored', () => {
    const zeroMax = L([
      [-1, -2, -3],
      [0, -0.5, -4],
    ]);
    expect(selectByThreshold(zeroMax, 0.2).selected).toEqual([]);
    expect(selectByThreshold(zeroMax, 0).selected).toEqual([]);
    // all negative with τ=2: τ·max = -1 would admit -0.5 and -1 is not > -1; rule says nothing
    const neg = L([
      [-1, -2, -3],
      [-1.5, -0.5, -4],
    ]);
    const r = selectByThreshold(neg, 2);
    expect(r.selected).toEqual([]);
    expect(r.threshold).toBe(-1);
    // NaN ignored for the max and never selected: max 1 -> 𝒯 .2 -> (0,1)
    expect(
      selectByThreshold(
        L([
          [NaN, 1, 0.1],
          [0.2, Infinity, 0],
        ]),
        0.2,
      ).selected,
    ).toEqual([[0, 1]]);
    expect(selectByThreshold(L([[NaN, NaN, NaN]])).selected).toEqual([]);
  });
});

/**
 * Fixture: 2 languages x 2 queries (per-query raw scores, sum over baselines).
 *   en q1 raw [[1,2,1],[1,1,2]] -> Eq.5 [[.25,.5,.25],[.25,.25,.5]]
 *   en q2 raw [[2,4,2],[0,2,2]] -> Eq.5 [[.25,.5,.25],[0,.5,.5]]
 *   zh q1 raw [[1,1,2],[1,0,3]] -> Eq.5 [[.25,.25,.5],[.25,0,.75]]
 *   zh q2 raw [[1,3,0],[0,1,3]] -> Eq.5 [[.25,.75,0],[0,.25,.75]]
 * zh is inserted first: processing order must still be en, zh.
 */
function fixture(): FactAttributions {
  return {
    numLayers: 2,
    ffnSize: 3,
    languages: {
      zh: {
        queries: [
          {
            raw: L([
              [1, 1, 2],
              [1, 0, 3],
            ]),
          },
          {
            raw: L([
              [1, 3, 0],
              [0, 1, 3],
            ]),
          },
        ],
      },
      en: {
        queries: [
          {
            raw: L([
              [1, 2, 1],
              [1, 1, 2],
            ]),
          },
          {
            raw: L([
              [2, 4, 2],
              [0, 2, 2],
            ]),
          },
        ],
      },
    },
  };
}

describe('full pipelines over stored attributions', () => {
  it('MaTrice with default settings', () => {
    const fa = fixture();
    const r = scoreMatrice(fa, PAPER_DEFAULTS);
    expect(r.languages).toEqual(['en', 'zh']);
    // UaQ with α=(1,1) and two queries = min of the two:
    //   s_en = [[.25,.5,.25],[0,.25,.5]]   s_zh = [[.25,.25,0],[0,0,.75]]
    expectClose(r.perLanguage.en, [
      [0.25, 0.5, 0.25],
      [0, 0.25, 0.5],
    ]);
    expectClose(r.perLanguage.zh, [
      [0.25, 0.25, 0],
      [0, 0, 0.75],
    ]);
    // language min-max: en /.5 -> [[.5,1,.5],[0,.5,1]]; zh /.75 -> [[1/3,1/3,0],[0,0,1]]
    expectClose(r.normalizedPerLanguage.en, [
      [0.5, 1, 0.5],
      [0, 0.5, 1],
    ]);
    expectClose(r.normalizedPerLanguage.zh, [
      [1 / 3, 1 / 3, 0],
      [0, 0, 1],
    ]);
    // UaL with β=(1,1), two languages = min: [[1/3,1/3,0],[0,0,1]]
    expectClose(r.S, [
      [1 / 3, 1 / 3, 0],
      [0, 0, 1],
    ]);
    expect(r.maxS).toBeCloseTo(1, 12);
    expect(r.threshold).toBeCloseTo(0.2, 12);
    expect(r.selected).toEqual([
      [0, 0],
      [0, 1],
      [1, 2],
    ]);
    expect(r.warnings).toEqual([]);
    // omitted settings = defaults
    expect(scoreMatrice(fa, PAPER).selected).toEqual(r.selected);
  });

  it('re-scoring with new α, β, τ (no gradients) gives the hand-computed selection', () => {
    const fa = fixture();
    const before = plain(fa.languages.en.queries[0].raw);
    // α=(1,0): s = mean over queries
    //   s_en = [[.25,.5,.25],[.125,.375,.5]] -> min .125, range .375 -> [[1/3,1,1/3],[0,2/3,1]]
    //   s_zh = [[.25,.5,.25],[.125,.125,.75]] -> min .125, range .625 -> [[.2,.6,.2],[0,0,1]]
    // β=(1,0): S = mean = [[.2666667,.8,.2666667],[0,1/3,1]]; τ=.3 -> 𝒯=.3 -> (0,1),(1,1),(1,2)
    const r = scoreMatrice(fa, { ...PAPER, alpha1: 1, alpha2: 0, beta1: 1, beta2: 0, tau: 0.3 });
    expectClose(r.S, [
      [0.2666667, 0.8, 0.2666667],
      [0, 1 / 3, 1],
    ]);
    expect(r.threshold).toBeCloseTo(0.3, 12);
    expect(r.selected).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
    ]);
    // stored attributions untouched
    expect(plain(fa.languages.en.queries[0].raw)).toEqual(before);
    // τ alone: default α/β with τ=.5 -> 𝒯=.5 -> (1,2) only
    expect(scoreMatrice(fa, { ...PAPER, tau: 0.5 }).selected).toEqual([[1, 2]]);
  });

  it('w/o UaQ uses the first query of each language', () => {
    // en q1 Eq.5 [[.25,.5,.25],[.25,.25,.5]] min .25 max .5 -> [[0,1,0],[0,0,1]]
    // zh q1 Eq.5 [[.25,.25,.5],[.25,0,.75]] min 0 max .75 -> [[1/3,1/3,2/3],[1/3,0,1]]
    // S = min = [[0,1/3,0],[0,0,1]] -> 𝒯 .2 -> (0,1),(1,2)
    const r = scoreNoUaQ(fixture(), PAPER_DEFAULTS);
    expectClose(r.S, [
      [0, 1 / 3, 0],
      [0, 0, 1],
    ]);
    expect(r.selected).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('w/o UaL: UaQ per language, select per language, intersect', () => {
    // s_en = [[.25,.5,.25],[0,.25,.5]]  τ=.5: 𝒯=.25 -> (0,1),(1,2)
    // s_zh = [[.25,.25,0],[0,0,.75]]    τ=.5: 𝒯=.375 -> (1,2)
    const r = scoreNoUaL(fixture(), { ...PAPER, tau: 0.5 });
    expect(r.perLanguageThreshold.en).toBeCloseTo(0.25, 12);
    expect(r.perLanguageThreshold.zh).toBeCloseTo(0.375, 12);
    expect(r.perLanguageSelected.en).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(r.perLanguageSelected.zh).toEqual([[1, 2]]);
    expect(r.selected).toEqual([[1, 2]]);
    // τ=.2: en 𝒯=.1 -> (0,0),(0,1),(0,2),(1,1),(1,2); zh 𝒯=.15 -> (0,0),(0,1),(1,2)
    const d = scoreNoUaL(fixture(), PAPER);
    expect(d.perLanguageSelected.en).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 1],
      [1, 2],
    ]);
    expect(d.selected).toEqual([
      [0, 0],
      [0, 1],
      [1, 2],
    ]);
  });

  it('coverage: per selected neuron, the languages whose own selection holds it (hand-worked on the fixture)', () => {
    // own sets at τ = .2 (above): en {(0,0),(0,1),(0,2),(1,1),(1,2)}, zh {(0,0),(0,1),(1,2)}
    const own = scoreNoUaL(fixture(), PAPER).perLanguageSelected;
    // (0,2): en only -> 1; (1,2): en and zh -> 2; (1,0): neither -> 0
    const c = languageCoverage(
      [
        [0, 2],
        [1, 2],
        [1, 0],
      ],
      own,
    );
    expect(c).toEqual([1, 2, 0]);
    expect(coverageMean(c)).toBeCloseTo(1, 12);
    expect(coverageMean([])).toBeNull();
    expect(languageCoverage([[0, 0]], { en: [[0, 0]], zh: [[0, 0]], fr: [[0, 1]] })).toEqual([2]);
  });

  it('flip rate: share of the known queries whose target is no longer top-1 after', () => {
    const row = (lang: string, correctBefore: boolean, correctAfter: boolean) => ({ lang, before: 0.5, after: 0.2, deltaP: -0.6, correctBefore, correctAfter });
    // en: 3 known, 2 flipped; an unknown query that stays wrong does not count; fr: 1 known, none flipped
    const r = perLanguage([row('en', true, false), row('en', true, false), row('en', true, true), row('en', false, false), row('fr', true, true)]);
    expect(r.en.flipRate).toBeCloseTo(2 / 3, 12);
    expect(r.fr.flipRate).toBe(0);
    expect(Number.isNaN(perLanguage([row('ko', false, false)]).ko.flipRate)).toBe(true);
  });

  it('AMIG on the fixture: first query, per-language threshold, intersection', () => {
    // en q1 Eq.5 max .5, τ=.2 -> 𝒯=.1: all six; zh q1 max .75 -> 𝒯=.15: all but (1,1)=0
    const r = scoreAmig(fixture(), PAPER);
    expect(r.perLanguageSelected.en.length).toBe(6);
    expect(r.selected).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 2],
    ]);
    // τ=.5: en 𝒯=.25 -> (0,1),(1,2); zh 𝒯=.375 -> (0,2),(1,2); ∩ = (1,2)
    const h = scoreAmig(fixture(), { ...PAPER, tau: 0.5 });
    expect(h.perLanguageSelected.zh).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(h.selected).toEqual([[1, 2]]);
  });

  it('AMIG with three languages and raw attributions ignores later queries', () => {
    // attrNorm 'none', τ=.5:
    //   de q1 [[5,1,4],[0,3,2]] max 5 𝒯 2.5 -> (0,0),(0,2),(1,1)
    //   fr q1 [[3,0,4],[1,4,0]] max 4 𝒯 2   -> (0,0),(0,2),(1,1)
    //   ja q1 [[1,0,9],[0,6,0]] max 9 𝒯 4.5 -> (0,2),(1,1)
    //   ∩ = (0,2),(1,1). (Averaging ja's q2 [[9,0,0],[0,0,0]] in would give ja (0,0),(0,2),(1,1).)
    const fa: FactAttributions = {
      numLayers: 2,
      ffnSize: 3,
      languages: {
        ja: {
          queries: [
            {
              raw: L([
                [1, 0, 9],
                [0, 6, 0],
              ]),
            },
            {
              raw: L([
                [9, 0, 0],
                [0, 0, 0],
              ]),
            },
          ],
        },
        de: {
          queries: [
            {
              raw: L([
                [5, 1, 4],
                [0, 3, 2],
              ]),
            },
          ],
        },
        fr: {
          queries: [
            {
              raw: L([
                [3, 0, 4],
                [1, 4, 0],
              ]),
            },
          ],
        },
      },
    };
    const r = scoreAmig(fa, { ...PAPER, attrNorm: 'none', tau: 0.5 });
    expect(r.languages).toEqual(['de', 'fr', 'ja']);
    expect(r.perLanguageSelected.ja).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(r.selected).toEqual([
      [0, 2],
      [1, 1],
    ]);
  });

  it('Eq. 5 warnings carry language and query; bad input is refused', () => {
    const fa = fixture();
    fa.languages.en.queries[1].raw = L([
      [1, -1, 0],
      [1, 1, 2],
    ]);
    const r = scoreMatrice(fa, PAPER);
    expect(r.warnings).toEqual([{ layer: 0, kind: 'zero', denominator: 0, language: 'en', query: 1 }]);
    const bad = fixture();
    bad.languages.zh.queries[1].raw = L([[1, 2]]);
    expect(() => scoreMatrice(bad, PAPER)).toThrow(/zh query 1/);
    const empty = fixture();
    empty.languages.zh.queries = [];
    expect(() => scoreMatrice(empty, PAPER)).toThrow(/zh has no query/);
    expect(() => resolveSettings({ norm: 'x' as never })).toThrow(KnError);
    expect(() => resolveSettings({ alpha1: NaN })).toThrow(/alpha1/);
  });

  it('identical inputs give identical (JSON) results', () => {
    const a = JSON.stringify(toJSONable(scoreMatrice(fixture(), { ...PAPER, norm: 'neuron' })));
    const b = JSON.stringify(toJSONable(scoreMatrice(fixture(), { ...PAPER, norm: 'neuron' })));
    expect(a).toBe(b);
    // neuron mode with two languages: per neuron the larger s_k -> 1, the smaller (or a tie) -> 0,
    // so with β=(1,1) S = min = 0 everywhere -> max S = 0 -> nothing selected
    const j = JSON.parse(a);
    expect(j.selected).toEqual([]);
    expect(j.S).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(j.languages).toEqual(['en', 'zh']);
    expect(toJSONable({ x: new Float64Array([1, NaN]), y: undefined })).toEqual({ x: [1, null] });
  });
});

describe('Random baseline', () => {
  const key = (n: NeuronId) => `${n[0]}:${n[1]}`;

  it('count, range, no duplicates, sorted, determinism', () => {
    const a = randomNeurons(50, 4, 30, 7);
    expect(a.length).toBe(50);
    expect(new Set(a.map(key)).size).toBe(50);
    for (const [l, j] of a) {
      expect(l >= 0 && l < 4 && j >= 0 && j < 30).toBe(true);
    }
    const flat = a.map(([l, j]) => l * 30 + j);
    expect(flat).toEqual([...flat].sort((x, y) => x - y));
    expect(randomNeurons(50, 4, 30, 7)).toEqual(a);
    expect(randomNeurons(50, 4, 30, 8)).not.toEqual(a);
    expect(randomNeurons(50, 4, 30, 'seed-a')).toEqual(randomNeurons(50, 4, 30, 'seed-a'));
    expect(randomNeurons(50, 4, 30, 'seed-a')).not.toEqual(randomNeurons(50, 4, 30, 'seed-b'));
    expect(randomNeurons(0, 4, 30, 1)).toEqual([]);
    expect(randomNeurons(120, 4, 30, 3).length).toBe(120);
    expect(() => randomNeurons(121, 4, 30, 3)).toThrow(KnError);
    expect(() => randomNeurons(2, 4, 30, 1.5)).toThrow(KnError);
  });

  it('covers every layer and neuron over many draws, roughly uniformly', () => {
    const counts = new Array<number>(20).fill(0);
    const layers = new Set<number>();
    for (let seed = 0; seed < 4000; seed++) {
      for (const [l, j] of randomNeurons(3, 4, 5, seed)) {
        counts[l * 5 + j]++;
        layers.add(l);
      }
    }
    expect([...layers].sort()).toEqual([0, 1, 2, 3]);
    // 12000 draws over 20 neurons: 600 expected each, σ ≈ 23; allow ±6σ
    for (const c of counts) {
      expect(c).toBeGreaterThan(460);
      expect(c).toBeLessThan(740);
    }
  });

  it('scoreRandom draws as many neurons as MaTrice selected', () => {
    const fa = fixture();
    const r = scoreRandom(fa, PAPER_DEFAULTS, 42);
    expect(r.count).toBe(3);
    expect(r.selected.length).toBe(3);
    expect(scoreRandom(fa, PAPER_DEFAULTS, 42)).toEqual(r);
    expect(scoreRandom(fa, { ...PAPER, tau: 0.5 }, 42).count).toBe(1);
  });
});

describe('helpers', () => {
  it('layerDistribution sums to 1', () => {
    // 4 selected: layer 0 one, layer 1 two, layer 2 one -> [.25,.5,.25,0]
    const d = layerDistribution(
      [
        [0, 1],
        [1, 2],
        [1, 0],
        [2, 0],
      ],
      4,
    );
    expect(d).toEqual([0.25, 0.5, 0.25, 0]);
    expect(d.reduce((a, b) => a + b, 0)).toBe(1);
    // MaTrice fixture selection (0,0),(0,1),(1,2) -> [2/3, 1/3]
    const m = layerDistribution(scoreMatrice(fixture(), PAPER).selected, 2);
    expect(m[0]).toBeCloseTo(2 / 3, 12);
    expect(m[1]).toBeCloseTo(1 / 3, 12);
    expect(m[0] + m[1]).toBeCloseTo(1, 12);
    expect(layerDistribution([], 3)).toEqual([0, 0, 0]);
    expect(() => layerDistribution([[5, 0]], 3)).toThrow(KnError);
  });

  it('neuronStats', () => {
    const fa = fixture();
    // (1,2): s_en .5, s_zh .75; normalized 1, 1 -> mean 1, std 0, S 1, selected
    const a = neuronStats(fa, PAPER_DEFAULTS, [1, 2]);
    expect(a.perLanguage.en.s).toBeCloseTo(0.5, 12);
    expect(a.perLanguage.zh.s).toBeCloseTo(0.75, 12);
    expect(a.perLanguage.zh.normalized).toBeCloseTo(1, 12);
    expect(a.mean).toBeCloseTo(1, 12);
    expect(a.std).toBeCloseTo(0, 12);
    expect(a.rawMean).toBeCloseTo(0.625, 12);
    expect(a.rawStd).toBeCloseTo(0.125, 12);
    expect(a.S).toBeCloseTo(1, 12);
    expect(a.selected).toBe(true);
    // (0,2): s .25, 0 -> normalized .5, 0 -> mean .25 std .25 -> S 0, not selected
    const b = neuronStats(fa, PAPER_DEFAULTS, [0, 2]);
    expect(b.perLanguage.en.normalized).toBeCloseTo(0.5, 12);
    expect(b.mean).toBeCloseTo(0.25, 12);
    expect(b.std).toBeCloseTo(0.25, 12);
    expect(b.S).toBeCloseTo(0, 12);
    expect(b.selected).toBe(false);
    expect(() => neuronStats(fa, PAPER_DEFAULTS, [2, 0])).toThrow(KnError);
  });

  it('deltaP (Eq. 14)', () => {
    expect(deltaP(0.2, 0.1)).toBeCloseTo(-0.5, 12);
    expect(deltaP(0.2, 0.4)).toBeCloseTo(1, 12);
    expect(deltaP(0.5, 0.5)).toBe(0);
    expect(deltaP(0, 0)).toBe(0);
    expect(Number.isNaN(deltaP(0, 0.1))).toBe(true);
    expect(() => deltaP(-0.1, 0.2)).toThrow(KnError);
    expect(() => deltaP(0.1, NaN)).toThrow(KnError);
  });

  it('precisionRecall', () => {
    // sel {(0,0),(0,1),(1,2)}, truth {(0,1),(1,2),(1,0),(1,1)}: tp 2, P 2/3, R 1/2, F1 4/7
    const r = precisionRecall(
      [
        [0, 0],
        [0, 1],
        [1, 2],
      ],
      [
        [0, 1],
        [1, 2],
        [1, 0],
        [1, 1],
      ],
    );
    expect(r.truePositives).toBe(2);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBeCloseTo(0.5, 12);
    expect(r.f1).toBeCloseTo(4 / 7, 12);
    expect(precisionRecall([], [[0, 0]])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(precisionRecall([], [])).toMatchObject({ precision: 1, recall: 1 });
  });

  it('intersectNeuronSets', () => {
    expect(
      intersectNeuronSets(
        [
          [
            [1, 2],
            [0, 1],
          ],
          [
            [0, 1],
            [1, 2],
            [1, 0],
          ],
        ],
        3,
      ),
    ).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(intersectNeuronSets([], 3)).toEqual([]);
  });
});

describe("UaL with the 'scale' normalization (zero stays zero)", () => {
  it('divides each language by its largest |score| and leaves zero-score neurons at S = 0', () => {
    // language A: [[2, 0, -1]], language B: [[4, 0, 4]] (1 layer × 3 neurons)
    // scale: A / 2 = [1, 0, -0.5]; B / 4 = [1, 0, 1]
    // S = mean − std: n0: 1 − 0 = 1; n1: 0 − 0 = 0; n2: mean 0.25, std 0.75 → −0.5
    const A = [Float64Array.from([2, 0, -1])];
    const B = [Float64Array.from([4, 0, 4])];
    const r = ual([A, B], { norm: 'scale' });
    expect(Array.from(r.S[0])).toEqual([1, 0, -0.5]);
    // min-max of the same input lifts the zero neuron: A → [1, 1/3, 0], B → [1, 0, 1]
    const mm = ual([A, B], { norm: 'language' });
    expect(mm.S[0][1]).toBeCloseTo(1 / 6 - 1 / 6, 12); // mean 1/6, std 1/6
    expect(mm.normalized[0][0][1]).toBeCloseTo(1 / 3, 12);
    expect(() => resolveSettings({ norm: 'scale' })).not.toThrow();
  });
});

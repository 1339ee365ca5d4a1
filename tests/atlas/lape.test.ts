/**
 * LAPE (src/engine/atlas/lape.ts) against a table worked by hand, step by step as identify.py does it
 * (RUCAIBox/Language-Specific-Neurons, commit 1ec944c): 2 layers × 3 neurons, languages en, fr, ja.
 *
 *   neuron   en   fr   ja    q (normalized)        H
 *   L0·0    0.9  0.1  0.0   0.9, 0.1, 0           −(0.9 ln 0.9 + 0.1 ln 0.1) = 0.325083
 *   L0·1    0.5  0.5  0.5   ⅓, ⅓, ⅓               ln 3 = 1.098612
 *   L0·2    0.0  0.0  0.8   0, 0, 1               0
 *   L1·0    0.2  0.2  0.0   ½, ½, 0               ln 2 = 0.693147
 *   L1·1    0.6  0.6  0.0   ½, ½, 0               ln 2
 *   L1·2    0.0  0.0  0.0   0, 0, 0 (sum 0)       0
 *
 * The 18 probabilities sorted: eight 0, 0.1, 0.2, 0.2, 0.5, 0.5, 0.5, 0.6, 0.6, 0.8, 0.9.
 */
import { describe, expect, it } from 'vitest';
import { activationTable, lape, pyRound, type ActivationTable } from '../../src/engine/atlas';
import { LAPE_ACTIVATION_BAR_RATIO, LAPE_FILTER_RATE, LAPE_TOP_RATE } from '../../src/engine/rules';

const P = [
  [0.9, 0.1, 0.0],
  [0.5, 0.5, 0.5],
  [0.0, 0.0, 0.8],
  [0.2, 0.2, 0.0],
  [0.6, 0.6, 0.0],
  [0.0, 0.0, 0.0],
];
const table: ActivationTable = { langs: ['en', 'fr', 'ja'], numLayers: 2, ffnSize: 3, probs: [0, 1, 2].map((k) => Float64Array.from(P, (row) => row[k])) };

describe('LAPE against a hand-worked table', () => {
  it("Python's round (half to even), as identify.py's round()", () => {
    expect([pyRound(13.5), pyRound(12.5), pyRound(17.1), pyRound(0.06), pyRound(2.5), pyRound(3.5)]).toEqual([14, 12, 17, 0, 2, 4]);
  });

  it('entropies and normalized probabilities', () => {
    const r = lape(table, { topRate: 0.5, filterRate: 0.5, activationBarRate: 0.75 });
    const H = [0.325083, Math.log(3), 0, Math.log(2), Math.log(2), 0];
    H.forEach((h, n) => expect(r.rawEntropy[n]).toBeCloseTo(h, 6));
    expect(r.normalized[0][0]).toBeCloseTo(0.9, 12);
    expect(r.normalized[2][1]).toBeCloseTo(1 / 3, 12);
    expect(r.normalized[2][5]).toBe(0);
  });

  it('top_rate 0.5, filter_rate 0.5, activation_bar_ratio 0.75: bar_f = 9th smallest = 0.1, bar_a = 14th (round(13.5) = 14) = 0.5', () => {
    const r = lape(table, { topRate: 0.5, filterRate: 0.5, activationBarRate: 0.75 });
    expect(r.filterValue).toBe(0.1);
    expect(r.activationBar).toBe(0.5);
    // L1·2 has no probability above 0.1: dismissed (+∞) although its entropy is 0
    expect(r.entropy[5]).toBe(Infinity);
    expect(r.candidates).toBe(5);
    // the 3 lowest: L0·2 (0), L0·0 (0.325), then L1·0 and L1·1 tie at ln 2: layer-major order keeps L1·0
    expect(r.kept).toEqual([
      [0, 2],
      [0, 0],
      [1, 0],
    ]);
    // specific: p > 0.5
    expect(r.sets).toEqual({ en: [[0, 0]], fr: [], ja: [[0, 2]] });
  });

  it('the default rates on the same table: bar_f = 17th smallest = 0.8, top_rate 0.01 keeps round(0.06) = 0 neurons', () => {
    const r = lape(table);
    expect(r.rates).toEqual({ topRate: LAPE_TOP_RATE, filterRate: LAPE_FILTER_RATE, activationBarRate: LAPE_ACTIVATION_BAR_RATIO });
    expect(r.filterValue).toBe(0.8);
    expect(r.candidates).toBe(1);
    expect(r.kept).toEqual([]);
    expect(r.sets).toEqual({ en: [], fr: [], ja: [] });
  });

  it('dismissed neurons fill the kept list after the finite ones (as torch.topk over +∞), in layer-major order', () => {
    // only L0·0 has a probability above 0.8; keep 3: L0·0, then L0·1 and L0·2 (+∞)
    const r = lape(table, { topRate: 0.5 });
    expect(r.kept).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    // bar_a = 17th = 0.8: only L0·0's 0.9 in en
    expect(r.sets).toEqual({ en: [[0, 0]], fr: [], ja: [] });
  });

  it('counts to probabilities, and bad input refused', () => {
    const t = activationTable(
      ['en', 'fr'],
      1,
      2,
      [
        [3, 0],
        [1, 4],
      ],
      [4, 8],
    );
    expect(Array.from(t.probs[0])).toEqual([0.75, 0]);
    expect(Array.from(t.probs[1])).toEqual([0.125, 0.5]);
    expect(() => activationTable(['en'], 1, 2, [[1, 1]], [0])).toThrow(/language en has no token/);
    expect(() => lape({ ...table, probs: [table.probs[0], table.probs[1], Float64Array.from([2, 0, 0, 0, 0, 0])] })).toThrow(/outside \[0, 1\]/);
    expect(() => lape(table, { topRate: 0 })).toThrow(/top-rate must be a number in \(0, 1\]/);
  });
});

describe('docs/ATLAS.md quotes the rules', () => {
  it('the LAPE rates, the type rule and the page limits as src/engine/rules states them', async () => {
    const { readFileSync } = await import('node:fs');
    const R = await import('../../src/engine/rules');
    const doc = readFileSync(new URL('../../docs/ATLAS.md', import.meta.url), 'utf8');
    expect(doc).toContain(`\`filter_rate\` = ${R.LAPE_FILTER_RATE} and \`activation_bar_ratio\` = ${R.LAPE_ACTIVATION_BAR_RATIO}`);
    expect(doc).toContain(`\`top_rate\` = **${R.LAPE_TOP_RATE}**`);
    expect(doc).toContain(`identify.py itself sets \`top_rate = ${R.LAPE_TOP_RATE_CODE}\``);
    expect(doc).toContain(`\`ATLAS_HUB_MIN_RELATIONS\` = ${R.ATLAS_HUB_MIN_RELATIONS} relations`);
    expect(doc).toContain(`\`ATLAS_RELATION_MIN_FACTS\` = ${R.ATLAS_RELATION_MIN_FACTS} facts`);
    expect(doc).toContain(`\`ATLAS_TOP_QUERIES\` = ${R.ATLAS_TOP_QUERIES} queries`);
    expect(doc).toContain(`\`ATLAS_LENS_K\` = ${R.ATLAS_LENS_K} most promoted`);
    expect(doc).toContain(`\`ATLAS_LENS_OBJECT_RANK\` = ${R.ATLAS_LENS_OBJECT_RANK} of the whole vocabulary`);
    expect(doc).toContain(`\`ATLAS_DEFAULT_FACTS\` = ${R.ATLAS_DEFAULT_FACTS}`);
    expect(doc).toContain(`\`ATLAS_STATIC_MAX_BYTES\` (${R.ATLAS_STATIC_MAX_BYTES / 1024 ** 2} MiB served`);
  });
});

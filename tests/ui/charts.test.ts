import { describe, expect, it } from 'vitest';
import {
  OKABE_ITO,
  aggregateByLanguage,
  formatDeltaP,
  formatPercent,
  formatProbability,
  formatScore,
  layerBarsSummary,
  layerCount,
  layerMax,
  layerSeries,
  moveIndex,
  neuronLanguagesDomain,
  neuronLanguagesSummary,
  probGroups,
  probMax,
  probSummary,
  seriesColor,
  type ProbRow,
} from '../../src/ui/plots/charts';

describe('chart helpers', () => {
  it('formats', () => {
    expect(formatPercent(0.123)).toBe('12.3 %');
    expect(formatPercent(-0.5, 0)).toBe('\u221250 %');
    expect(formatDeltaP(0.25)).toBe('+25.0 %');
    expect(formatDeltaP(-0.976)).toBe('\u221297.6 %');
    expect(formatDeltaP(0)).toBe('0.0 %');
    expect(formatDeltaP(NaN)).toBe('n/a');
    expect(formatProbability(0.4213)).toBe('42.13 %');
    expect(formatProbability(2.5e-5)).toBe('2.50e\u22125');
    expect(formatScore(-0.123456)).toBe('\u22120.123');
    expect(formatScore(12345678)).toBe('1.23e+7');
    expect(seriesColor(0)).toBe(OKABE_ITO[0]);
    expect(seriesColor(OKABE_ITO.length)).toBe(OKABE_ITO[0]);
  });

  it('roving index', () => {
    expect(moveIndex(-1, 'ArrowRight', 5)).toBe(0);
    expect(moveIndex(2, 'ArrowRight', 5)).toBe(3);
    expect(moveIndex(4, 'ArrowRight', 5)).toBe(4);
    expect(moveIndex(0, 'ArrowLeft', 5)).toBe(0);
    expect(moveIndex(3, 'ArrowUp', 5)).toBe(2);
    expect(moveIndex(3, 'End', 5)).toBe(4);
    expect(moveIndex(3, 'Home', 5)).toBe(0);
    expect(moveIndex(3, 'x', 5)).toBeNull();
    expect(moveIndex(0, 'ArrowRight', 0)).toBeNull();
  });

  it('layer series', () => {
    const single = layerSeries([0, 0.25, 0.75, NaN], 'MaTrice');
    expect(single).toStrictEqual([{ name: 'MaTrice', distribution: [0, 0.25, 0.75, 0], color: seriesColor(0) }]);
    const multi = layerSeries([1], undefined, [
      { name: 'MaTrice', distribution: [0, 1] },
      { name: 'AMIG', distribution: [0.5, 0.25, 0.25] },
    ]);
    expect(multi.map((s) => s.name)).toStrictEqual(['MaTrice', 'AMIG']);
    expect(layerCount(multi)).toBe(3);
    expect(layerMax(multi)).toBe(1);
    expect(layerSeries([0, 0], undefined)[0].name).toBe('selected neurons');
    const text = layerBarsSummary([...multi, { name: 'Random', distribution: [0, 0, 0] }]);
    expect(text).toContain('MaTrice: 100 % in layer 1');
    expect(text).toContain('AMIG: 50 % in layer 0, 25 % in layer 1, 25 % in layer 2');
    expect(text).toContain('Random: no neurons selected');
  });

  it('neuron languages domain and summary', () => {
    const pl = [
      { lang: 'en', value: 0.9 },
      { lang: 'fr', value: 0.7 },
      { lang: 'ja', value: 0.1 },
    ];
    expect(neuronLanguagesDomain(pl, 0.5667, 0.35, 1.2)).toStrictEqual([0, 1.2]);
    expect(neuronLanguagesDomain(pl, 0.5, 0.8)).toStrictEqual([-0.30000000000000004, 1.3]);
    expect(neuronLanguagesDomain([], NaN, NaN)).toStrictEqual([-0.5, 0.5]);
    const s = neuronLanguagesSummary(pl, 0.5667, 0.3);
    expect(s).toContain('3 languages');
    expect(s).toContain('highest en 0.9, lowest ja 0.1');
    expect(s).toContain('Outside mean ± std: en, ja.');
  });

  it('probability groups: before + one after per series, aggregated per language', () => {
    const rows: ProbRow[] = [
      { lang: 'en', before: 0.4, after: 0.1, deltaP: -0.75, correctBefore: true },
      { lang: 'en', before: 0.2, after: 0.1, deltaP: -0.5, correctBefore: true },
      { lang: 'fi', before: 0, after: 0.1, deltaP: NaN, correctBefore: false },
    ];
    const agg = aggregateByLanguage(rows);
    expect(agg[0]).toEqual({ lang: 'en', before: 0.30000000000000004, after: 0.1, deltaP: -0.625, correctBefore: true });
    expect(Number.isNaN(agg[1].deltaP)).toBe(true);
    const g = probGroups(rows);
    expect(g.map((x) => x.lang)).toStrictEqual(['en', 'fi']);
    expect(g[0].bars.map((b) => b.kind)).toStrictEqual(['before', 'after']);
    expect(g[0].correctBefore).toBe(true);
    const two = probGroups(
      [],
      [
        { name: 'MaTrice', rows: rows.slice(0, 1) },
        { name: 'Random', rows: [{ lang: 'en', before: 0.4, after: 0.39, deltaP: -0.025, correctBefore: true }, rows[2]] },
      ],
    );
    expect(two.map((x) => x.lang)).toStrictEqual(['en', 'fi']);
    expect(two[0].bars.map((b) => b.label)).toStrictEqual(['before', 'MaTrice', 'Random']);
    expect(two[0].bars[1].color).not.toBe(two[0].bars[2].color);
    expect(two[1].bars.map((b) => b.label)).toStrictEqual(['before', 'Random']);
    expect(probMax(two)).toBe(0.4);
    const text = probSummary(two);
    expect(text).toContain('en (correct before): before 40.00 %, MaTrice 10.00 % (ΔP \u221275.0 %), Random 39.00 % (ΔP \u22122.5 %)');
    expect(text).toContain('fi: before 0, Random 10.00 % (ΔP n/a)');
    expect(probSummary([])).toBe('No manipulation results.');
  });
});

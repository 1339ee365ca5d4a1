/**
 * One colour per method in every figure (src/engine/selection/methods.ts METHOD_COLORS / methodColors):
 * the experiment report's Fig. 5 (suppress, enhance), Fig. 4 (which now includes Random), the
 * knock-out curve and the edit report's charts, and the page's layer bars and comparisons. The colours are
 * read back from the SVG the report writes (legend swatches and bars).
 */
import { describe, expect, it } from 'vitest';
import { METHOD_COLORS, METHODS, methodColors, OTHER_COLORS, BEFORE_COLOR } from '../../src/engine/selection/methods';
import { makeMeta, type ExperimentMeta, type FactRow } from '../../src/engine/experiments/manipulate';
import { reportFiles, summarize } from '../../src/engine/report/report';
import { layerSeries, probGroups } from '../../src/ui/plots/charts';

function meta(methods: string[]): ExperimentMeta {
  return makeMeta({
    model: { id: 'bundled:tiny', contentHash: 'abc', dtype: 'int8', kind: 'causal', numLayers: 2, ffnSize: 4 },
    steps: 2,
    baseline: 'pad',
    seed: 1,
    langs: ['en', 'fr'],
    methods,
    facts: ['P36:0', 'P36:1'],
    request: { facts: 2, relations: [], split: null, minKnownLangs: 2 },
    shard: null,
    knockout: [1, 2],
  });
}

function row(fact: string, index: number, methods: string[]): FactRow {
  const m = (k: number) => ({ neurons: [[k % 2, k % 4] as [number, number]], suppress: [0.4 + 0.01 * k, 0.25], enhance: [0.9, 0.6] });
  return {
    v: 1,
    fact,
    index,
    relation: 'P36',
    queries: [
      { lang: 'en', template: 't1', before: 0.8, known: true },
      { lang: 'fr', template: 't2', before: 0.5, known: true },
    ],
    methods: Object.fromEntries(methods.map((k, i) => [k, m(i)])),
    perLanguage: { en: { neurons: [[0, 0]], suppress: [0.5] }, fr: { neurons: [[1, 1]], suppress: [0.3] } },
    knockout: {
      top: [
        [0.7, 0.4],
        [0.6, 0.3],
      ],
      random: [
        [0.8, 0.5],
        [0.8, 0.5],
      ],
    },
    completeness: 0.01,
  };
}

/** legend name → swatch colour, and series name → the fills of its bars (from their <title>) */
function colours(svg: string) {
  const legend = new Map<string, string>();
  for (const m of svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="10" height="10" fill="([^"]+)"\/><text [^>]*>([^<]+)<\/text>/g)) legend.set(m[2], m[1]);
  const bars = new Map<string, Set<string>>();
  for (const m of svg.matchAll(/<rect [^>]*fill="([^"]+)"><title>([^,<]+),/g)) (bars.get(m[2]) ?? bars.set(m[2], new Set()).get(m[2])!).add(m[1]);
  return { legend, bars };
}

const LABEL: Record<string, string> = { matrice: 'MaTrice', amig: 'AMIG', random: 'Random', 'no-uaq': 'w/o UaQ', 'no-ual': 'w/o UaL' };

describe('method colours in the report', () => {
  it('Fig. 4 includes Random; every method has its one colour in Fig. 5 (both) and Fig. 4, bars and legend alike', () => {
    const methods = [...METHODS];
    const s = summarize(meta(methods), [row('P36:0', 0, methods), row('P36:1', 1, methods)], [], []);
    const files = reportFiles(s);
    const figs = ['fig5-suppress.svg', 'fig5-enhance.svg', 'fig4-layers.svg'].map((f) => colours(files[f]));
    for (const [i, fig] of figs.entries()) {
      expect([...fig.legend.keys()], `figure ${i}`).toEqual(methods.map((m) => LABEL[m]));
      for (const m of methods) {
        expect(fig.legend.get(LABEL[m]), `${m} in figure ${i}`).toBe(METHOD_COLORS[m]);
        expect([...(fig.bars.get(LABEL[m]) ?? [])], `${m}'s bars in figure ${i}`).toEqual([METHOD_COLORS[m]]);
      }
    }
    // Fig. 4 has Random's bars: its layer shares, as the Markdown table says
    expect(figs[2].bars.get('Random')?.size).toBe(1);
    expect(files['report.md']).toMatch(/\| Random \| \d/);
    // the knock-out curve: top-k by S in MaTrice's colour, k random in Random's
    expect(files['knockout.svg']).toContain(`stroke="${METHOD_COLORS.matrice}"`);
    expect(files['knockout.svg']).toContain(`stroke="${METHOD_COLORS.random}"`);
  });

  it('a run without some methods keeps each method its colour (not its position)', () => {
    const methods = ['matrice', 'random'];
    const s = summarize(meta(methods), [row('P36:0', 0, methods), row('P36:1', 1, methods)], [], []);
    const files = reportFiles(s);
    for (const f of ['fig5-suppress.svg', 'fig4-layers.svg']) {
      const { legend } = colours(files[f]);
      expect(legend.get('Random')).toBe(METHOD_COLORS.random);
      expect(legend.get('MaTrice')).toBe(METHOD_COLORS.matrice);
    }
  });

  it('the map: distinct colours for the methods and "before"; other keys get the other colours in order, the same each time', () => {
    const all = [...Object.values(METHOD_COLORS), BEFORE_COLOR];
    expect(new Set(all).size).toBe(all.length);
    for (const c of OTHER_COLORS) expect(all).not.toContain(c);
    const c = methodColors(['layer', 'matrice', 'direct', 'random', 'layer']);
    expect(c).toEqual({ layer: OTHER_COLORS[0], matrice: METHOD_COLORS.matrice, direct: OTHER_COLORS[1], random: METHOD_COLORS.random });
    expect(methodColors(['random'])).toEqual({ random: METHOD_COLORS.random });
  });
});

describe('method colours on the page', () => {
  it('layer bars and the comparison bars take the series colour given (its method), else the position colour', () => {
    expect(layerSeries([0.5, 0.5], 'Random', undefined, METHOD_COLORS.random)[0].color).toBe(METHOD_COLORS.random);
    expect(layerSeries([], undefined, [{ name: 'AMIG', distribution: [1], color: METHOD_COLORS.amig }])[0].color).toBe(METHOD_COLORS.amig);
    const rows = [{ lang: 'en', before: 0.5, after: 0.1, deltaP: -0.8, correctBefore: true }];
    const g = probGroups(rows, [
      { name: 'Random (3)', rows, color: METHOD_COLORS.random },
      { name: 'MaTrice (3)', rows, color: METHOD_COLORS.matrice },
    ]);
    expect(g[0].bars.map((b) => b.color)).toEqual([BEFORE_COLOR, METHOD_COLORS.random, METHOD_COLORS.matrice]);
  });
});

import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import Heatmap from '../../src/ui/plots/Heatmap.svelte';
import LayerBars from '../../src/ui/plots/LayerBars.svelte';
import NeuronLanguages from '../../src/ui/plots/NeuronLanguages.svelte';
import ProbBars from '../../src/ui/plots/ProbBars.svelte';

// Server-side render with realistic props: every template expression runs once (no DOM, no effects).
describe('plot components render (SSR)', () => {
  it('Heatmap', () => {
    const scores = Array.from({ length: 12 }, (_, l) => Array.from({ length: 3072 }, (_, j) => Math.sin(l * 3072 + j)));
    const { body } = render(Heatmap, {
      props: {
        scores,
        selected: [
          [3, 10],
          [11, 3071],
        ],
        cursor: [3, 10],
      },
    });
    expect(body).toContain('data-testid="heatmap"');
    expect(body).toContain('12 layers × 3072 neurons');
    expect(body).toContain('Layer 3, neuron 10');
    expect(body).toContain(', selected');
    expect(body).toContain('role="application"');
    expect((body.match(/data-testid="heatmap-mark"/g) ?? []).length).toBe(2);
    // a large selection: a hatched layer, no rings
    const many: [number, number][] = [];
    for (let l = 0; l < 12; l++) for (let j = 0; j < 3072; j += 7) many.push([l, j]);
    const big = render(Heatmap, { props: { scores, selected: many } }).body;
    expect(big).not.toContain('data-testid="heatmap-mark"');
    expect(big).toContain('data-testid="heatmap-selection-layer"');
    expect(big).toContain(`data-count="${many.length}"`);
    expect(big).toContain('drawn as a hatched layer');
    const empty = render(Heatmap, { props: { scores: [], selected: [] } }).body;
    expect(empty).toContain('no scores yet');
  });

  it('LayerBars (single and series)', () => {
    const one = render(LayerBars, { props: { distribution: [0, 0.25, 0.75], label: 'MaTrice' } }).body;
    expect(one).toContain('MaTrice: 75 % in layer 2, 25 % in layer 1');
    expect((one.match(/class="bar/g) ?? []).length).toBe(3);
    const two = render(LayerBars, {
      props: {
        distribution: [],
        series: [
          { name: 'MaTrice', distribution: [0, 1] },
          { name: '<b>AMIG</b>', distribution: [0.5, 0.5] },
        ],
      },
    }).body;
    expect((two.match(/class="bar/g) ?? []).length).toBe(4);
    expect(two).not.toContain('<b>AMIG</b>');
    expect(two).toContain('&lt;b>AMIG&lt;/b>');
    expect(render(LayerBars, { props: { distribution: [0, 0] } }).body).toContain('No neurons selected');
  });

  it('NeuronLanguages', () => {
    const body = render(NeuronLanguages, {
      props: {
        perLanguage: [
          { lang: 'en', value: 0.9 },
          { lang: 'ja', value: 0.1 },
        ],
        mean: 0.5,
        std: 0.2,
        threshold: 0.3,
      },
    }).body;
    expect(body).toContain('data-lang="en"');
    expect(body).toContain('class="band');
    expect(body).toContain('class="threshold');
    expect(body).toContain('Outside mean ± std: en, ja.');
  });

  it('ProbBars (single and series)', () => {
    const rows = [
      { lang: 'en', before: 0.4, after: 0.1, deltaP: -0.75, correctBefore: true },
      { lang: 'fi', before: 0, after: 0.1, deltaP: NaN, correctBefore: false },
    ];
    const one = render(ProbBars, { props: { rows } }).body;
    expect(one).toContain('data-correct-before="true"');
    expect(one).toContain('−75.0 %');
    expect(one).toContain('n/a');
    const two = render(ProbBars, {
      props: {
        rows: [],
        series: [
          { name: 'MaTrice', rows },
          { name: 'Random', rows: rows.slice(0, 1) },
        ],
      },
    }).body;
    expect((two.match(/data-kind="after"/g) ?? []).length).toBe(3);
    expect(two).toContain('After (Random)');
  });
});

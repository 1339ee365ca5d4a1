import { expect, test } from '@playwright/test';
import { exportExploration } from '../src/ui/share/exploration-file';
import { defaultState } from '../src/ui/share/state';
import { openApp, projectBackend } from './helpers';

// No model and no compute: hand-made exploration files, imported read-only (issue 14 items 4 and 5).
const LAYERS = 4;
const FFN = 512;

function file(selected: [number, number][], maxS: number): string {
  const S = Array.from({ length: LAYERS }, (_, l) => Array.from({ length: FFN }, (_, j) => (maxS > 0 ? (maxS * ((l * FFN + j) % 97)) / 96 : maxS - j * 1e-4)));
  const queries = Array.from({ length: 32 }, (_, i) => ({
    lang: ['zh', 'en', 'fr', 'fi'][i % 4],
    prompt: `query ${i} of the fact`,
    target: 'Paris',
    before: 0.999,
  }));
  return exportExploration(
    { ...defaultState(), fact: 'P36:0', toggles: { set: 'selected', neurons: [], factor: 0 } },
    {
      model: { label: 'bundled:demo-causal', contentHash: 'x', architecture: 'GPT2LMHeadModel', numLayers: LAYERS, ffnSize: FFN },
      fact: { id: 'P36:0', relation: 'P36', labels: { en: { subject: 'France', object: 'Paris' } } },
    },
    {
      queries,
      selections: { matrice: { neurons: selected, scores: selected.map(() => null), threshold: 0.2 * maxS } },
      S,
      layerDistribution: selected.length
        ? Array.from({ length: LAYERS }, (_, l) => selected.filter((n) => n[0] === l).length / selected.length)
        : new Array(LAYERS).fill(0),
    },
  );
}

test('an imported exploration shows what the file holds; degenerate selections are explained where the user acts', async ({ page }, info) => {
  test.skip(projectBackend(info) === 'webgpu', 'no compute involved: once is enough');
  await openApp(page, info);
  const most: [number, number][] = [];
  for (let l = 0; l < LAYERS; l++) for (let j = 0; j < FFN; j++) if (j % 128) most.push([l, j]);
  await page.getByTestId('tab-share').click();
  await page.getByTestId('import-input').setInputFiles({ name: 'most.json', mimeType: 'application/json', buffer: Buffer.from(file(most, 0.8)) });
  await expect(page.getByTestId('static-banner')).toBeVisible();

  // item 5: the Data view holds the file's 32 queries and P(correct), nothing made up
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('query-row')).toHaveCount(32);
  await expect(page.getByTestId('fact-summary')).toContainText('32 queries stored in the file');
  const facts = page.getByTestId('fact-queries');
  await expect(facts).not.toContainText(/\d+ of 32/); // no "0 of 32 answered correctly"
  await expect(facts).not.toContainText(/rank \d/);
  await expect(facts).not.toContainText('✗');
  await expect(page.getByTestId('query-row').first()).toHaveAttribute('data-correct', 'unknown');
  await expect(facts.getByRole('columnheader', { name: 'Top predictions' })).toHaveCount(0);
  await expect(page.getByTestId('query-row').first()).toContainText('99.9');

  // item 4: most neurons selected: said on Localize and on Toggle; the heatmap shades them as a layer
  await page.getByTestId('tab-localize').click();
  await expect(page.getByTestId('degenerate-selection')).toBeVisible();
  await expect(page.getByTestId('heatmap-selection-layer')).toHaveAttribute('data-count', String(most.length));
  await expect(page.getByTestId('heatmap-mark')).toHaveCount(0);
  await page.getByTestId('tab-toggle').click();
  await expect(page.getByTestId('degenerate-selection')).toHaveAttribute('data-where', 'toggle');

  // no neuron selected (every S ≤ 0): explained, with what to try
  await page.getByTestId('tab-share').click();
  await page.getByTestId('import-input').setInputFiles({ name: 'none.json', mimeType: 'application/json', buffer: Buffer.from(file([], -0.01)) });
  await page.getByTestId('tab-localize').click();
  await expect(page.getByTestId('empty-selection')).toContainText('≤ 0');
  await page.getByTestId('tab-toggle').click();
  await expect(page.getByTestId('empty-selection')).toContainText('Try:');
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { expectLoaded, openApp, projectBackend, screenshot } from './helpers';

// A first visit opens the demo model on the fact its experiment found clearest, and the model card and the
// teaching panel say what the experiment measured on this very model (public/models/demo-causal/experiment.json).
const HEADLINE = join(process.cwd(), 'public', 'models', 'demo-causal', 'experiment.json');

test('first visit: the featured fact, with the experiment headline in the model card and the help panel', async ({ page }, info) => {
  test.skip(projectBackend(info) === 'webgpu', 'no compute beyond the fact probes: once is enough');
  test.skip(!existsSync(HEADLINE), 'needs the bundled demo model and its experiment.json');
  test.setTimeout(300_000);
  const h = JSON.parse(readFileSync(HEADLINE, 'utf8')) as { featuredFact: { id: string }; facts: number; selectedMedian: number };
  await openApp(page, info, { autoload: true });
  await expectLoaded(page, 150_000);
  await expect(page.getByTestId('fact-queries')).toHaveAttribute('data-fact-id', h.featuredFact.id, { timeout: 60_000 });
  await expect(page.getByTestId('notice')).toContainText(`Opened on ${h.featuredFact.id}`);
  const card = page.getByTestId('model-info').getByTestId('experiment-headline');
  await expect(card).toContainText(`On ${h.facts} facts this model knows`);
  await expect(card).toContainText(`a median of ${h.selectedMedian} of its`);
  await expect(card).toContainText('trained to be interpretable');
  await screenshot(page, info, 'featured-fact');
  await page.getByTestId('help-button').click();
  await expect(page.locator('#teach-overview').getByTestId('experiment-headline')).toBeVisible();
});

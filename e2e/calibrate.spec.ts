/**
 * "Calibrate on this model" end to end (wasm project only, as the other benchmark-scale runs): on the bundled
 * causal demo model, 2 dev facts, M = 2, a small grid; progress shown, the frontier table and the chosen setting,
 * "Use these settings for this model", then the explorer's τ, α2, β2 sliders hold the chosen values; after a
 * reload the stored calibration (IndexedDB, per content hash) is the model's again; "Forget" returns to the
 * model folder's calibration.json (demo-causal ships one, τ = 0.03; the grid here leaves 0.03 out, so the chosen
 * setting differs from it and the sliders show which one applies). Screenshot: test-results/screenshots/wasm-calibrate.png.
 */
import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectLoaded, openApp, screenshot } from './helpers';

const TIMEOUTS = { load: 120_000, run: 240_000, localize: 180_000, test: 540_000 };
// demo-causal v3, these 2 dev facts at M = 2: only α2 = β2 = 1, τ = 0.05 qualifies (coverage 5.57; `npm run -s kn --
// experiment calibrate --facts 2 --steps 2 --split dev --grid-alpha2 0,1 --grid-beta2 0,1 --grid-tau 0.05,0.2,0.5 --out <dir>`)
const GRID = { alpha2: '0,1', beta2: '0,1', tau: '0.05,0.2,0.5' };

function demoAvailable(): boolean {
  const p = join(process.cwd(), 'public', 'models', 'index.json');
  return existsSync(p) && readFileSync(p, 'utf8').includes('demo-causal');
}

test('calibrate on this model: progress, frontier, use these settings in the explorer, kept across a reload, forget', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'the benchmark-scale run is checked on the wasm backend only');
  test.skip(!demoAvailable(), 'needs the bundled demo model (public/models/demo-causal)');
  test.setTimeout(TIMEOUTS.test);
  const t0 = Date.now();

  await openApp(page, info, { autoload: true });
  await expectLoaded(page, TIMEOUTS.load);
  await page.getByTestId('tab-experiments').click();
  await expect(page.getByTestId('xp-model')).toHaveValue('bundled:demo-causal');
  await page.getByTestId('xp-experiment').selectOption('calibrate');
  await expect(page.getByTestId('xp-calibrate')).toBeVisible();
  await expect(page.getByTestId('xp-split')).toHaveValue('dev');
  // the engine's grid is the form's default
  await expect(page.getByTestId('xp-grid-beta2')).toHaveValue('0,0.25,0.5,0.75,1');
  await expect(page.getByTestId('xp-defaults-note')).toHaveAttribute('data-source', 'folder');
  await page.getByTestId('xp-facts').fill('2');
  await page.getByTestId('xp-steps').fill('2');
  await page.getByTestId('xp-grid-alpha2').fill(GRID.alpha2);
  await page.getByTestId('xp-grid-beta2').fill(GRID.beta2);
  await page.getByTestId('xp-grid-tau').fill(GRID.tau);

  await page.getByTestId('xp-run').click();
  const progress = page.getByTestId('xp-progress');
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute('data-total', '2', { timeout: TIMEOUTS.run });
  await expect(page.getByTestId('xp-notice')).toContainText(/2 facts finished/, { timeout: TIMEOUTS.run });
  console.log(`  [time] calibration, 2 facts × 12 settings: ${Date.now() - t0} ms (with the load)`);

  const report = page.getByTestId('calibration-report');
  await expect(report).toHaveAttribute('data-facts', '2');
  await expect(page.getByTestId('xp-run-row')).toHaveAttribute('data-id', /^calibrate-/);
  // the frontier: one row per grid setting, the CLI's columns
  await expect(page.getByTestId('cal-frontier-row')).toHaveCount(12);
  await expect(page.getByTestId('cal-frontier').locator('thead')).toContainText('median selection');
  await expect(page.getByTestId('cal-chart')).toBeVisible();
  const chosen = page.getByTestId('cal-chosen');
  await expect(chosen).toHaveAttribute('data-tau', /\d/);
  const want = {
    alpha2: (await chosen.getAttribute('data-alpha2'))!,
    beta2: (await chosen.getAttribute('data-beta2'))!,
    tau: (await chosen.getAttribute('data-tau'))!,
  };
  console.log(`  chosen: α2 = ${want.alpha2}, β2 = ${want.beta2}, τ = ${want.tau}`);

  await page.getByTestId('cal-use').click();
  await expect(page.getByTestId('cal-in-use')).toBeVisible();
  await expect(page.getByTestId('xp-defaults-note')).toHaveAttribute('data-source', 'page');
  await expect(page.getByTestId('xp-defaults-note')).toContainText(
    `settings calibrated on this page on 2 dev facts (α2 = ${want.alpha2}, β2 = ${want.beta2}, τ = ${want.tau})`,
  );
  await screenshot(page, info, 'calibrate');

  // the explorer: the sliders hold the chosen settings, the note says where they come from
  await page.getByTestId('tab-localize').click();
  if (!(await page.getByTestId('localize-summary').isVisible())) await page.getByTestId('localize-button').click();
  await expect(page.getByTestId('localize-summary')).toBeVisible({ timeout: TIMEOUTS.localize });
  for (const k of ['alpha2', 'beta2', 'tau'] as const) await expect(page.getByTestId(`slider-${k}`)).toHaveValue(want[k]);
  await expect(page.getByTestId('settings-note')).toHaveAttribute('data-kind', 'calibrated');
  await expect(page.getByTestId('settings-note')).toContainText('calibrated on this page on 2 dev facts');

  // a reload: the stored calibration is the model's again (kept per content hash)
  await page.reload();
  await expectLoaded(page, TIMEOUTS.load);
  await page.getByTestId('tab-experiments').click();
  await expect(page.getByTestId('xp-experiment')).toHaveValue('calibrate');
  await expect(page.getByTestId('xp-defaults-note')).toHaveAttribute('data-source', 'page');

  // forget: the model folder's calibration again
  await page.getByTestId('xp-forget').click();
  await expect(page.getByTestId('xp-defaults-note')).toHaveAttribute('data-source', 'folder');
  await expect(page.getByTestId('xp-defaults-note')).toContainText("from the model folder's calibration.json");
  console.log(`  [time] whole test: ${Date.now() - t0} ms`);
});

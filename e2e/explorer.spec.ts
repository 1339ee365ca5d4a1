/**
 * The explorer end to end: model → fact → localize → see → toggle → share, on the bundled demo model
 * when public/models lists it (else the tiny GPT-2 served by the e2e model server).
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importExploration } from '../src/ui/share/exploration-file';
import { MODEL_BASE } from './fixtures';
import { appUrl, e2eState, expectLoaded, loadByUrl, openApp, projectBackend, screenshot } from './helpers';

const FACT = 'P36:0';

/**
 * How much work each project does. WebGPU runs on SwiftShader here (a CPU emulation: a toggle takes
 * seconds, a localize minutes on the demo model), so its project checks the plumbing on the tiny GPT-2 of
 * the e2e model server with two languages and M = 2; the realistic run (the trained demo model, three
 * languages, M = 4) is the wasm project's.
 *
 * Measured on the 2-core dev machine while other jobs kept its load average at 8-18 (2026-11-29), the
 * first test below took, click → view (webgpu on SwiftShader / wasm):
 *   open + model load           1.5-2.9 s  / 1.5-2.2 s
 *   localize                    12.8-29.0 s (8 queries, fi+hu, M = 2, zero baseline, tiny GPT-2)
 *                               / 3.2-6.0 s (16 queries, en+fr+fi, M = 4, pad baselines, demo model)
 *   convergence check           stopped (SwiftShader: M = 64 is ~32× the M = 2 localize)
 *                               / 12-45 s (measured 2026-12-02: 7-16 of 16 queries flagged at M = 4,
 *                               re-attributed with Gauss-Legendre M = 64); cached re-checks 0.04-0.12 s
 *   first toggle (suppress)     4.2-7.5 s  / 0.03-0.2 s;  later toggles 0.5-3.0 s / 0.03-0.14 s
 *   MaTrice / AMIG / Random     2.0-6.4 s  / 0.03-0.3 s
 *   language sets               2.4-4.1 s  / 0.5-0.7 s
 *   reopen the link (cached)    (wasm only) / 1.5-2.7 s
 *   whole test                  49-82 s    / 19-26 s
 * (The same test on the demo model with three languages and M = 4 took 150 s and more on WebGPU.)
 * Every wait is at least 5× its measured maximum (TIMEOUTS below): load 120 s, localize 180 s, toggle
 * 60 s, reopen 150 s, the test 480 s. The other specs' steps take 2-10 s per test on both projects,
 * against the config's 180 s per test and 60 s per expect.
 */
interface Plan {
  model: 'demo' | 'tiny';
  langs: string[];
  steps: number;
  baseline: 'pad' | 'zero';
}
const PLANS: Record<'webgpu' | 'wasm', Plan> = {
  webgpu: { model: 'tiny', langs: ['fi', 'hu'], steps: 2, baseline: 'zero' },
  wasm: { model: 'demo', langs: ['en', 'fr', 'fi'], steps: 4, baseline: 'pad' },
};
/** ms; see the measured times above */
const TIMEOUTS = { load: 120_000, localize: 180_000, check: 240_000, toggle: 60_000, reopen: 150_000, test: 480_000 };

function plan(info: TestInfo): Plan {
  const p = PLANS[projectBackend(info)];
  // without the bundled demo model (a checkout without public/models) the tiny GPT-2 stands in
  return p.model === 'demo' && !demoAvailable() ? { ...p, model: 'tiny' } : p;
}

function demoAvailable(): boolean {
  const p = join(process.cwd(), 'public', 'models', 'index.json');
  return existsSync(p) && readFileSync(p, 'utf8').includes('demo-causal') && existsSync(join(process.cwd(), 'public', 'models', 'demo-causal'));
}

async function openWithModel(page: Page, info: TestInfo) {
  const t0 = Date.now();
  if (plan(info).model === 'demo') {
    await openApp(page, info, { autoload: true });
    await expectLoaded(page, TIMEOUTS.load);
    console.log('  model: bundled:demo-causal');
  } else {
    await openApp(page, info);
    await loadByUrl(page, `${MODEL_BASE}/gpt2/`, 'int8');
    await expectLoaded(page, TIMEOUTS.load);
    console.log('  model: tiny GPT-2 (e2e model server)');
  }
  console.log(`  [time] open + load: ${Date.now() - t0} ms`);
}

async function chooseFact(page: Page) {
  await page.getByTestId('relation-select').selectOption('P36');
  await page.getByTestId('fact-search').fill('Azerb');
  const item = page.locator(`[data-testid="fact-item"][data-fact-id="${FACT}"]`);
  await expect(item).toBeVisible();
  await item.click();
  await expect(page.getByTestId('fact-queries')).toHaveAttribute('data-fact-id', FACT);
  await expect(page.getByTestId('query-row').first()).toBeVisible();
}

async function localize(page: Page, p: Plan) {
  await page.getByTestId('tab-localize').click();
  for (const l of ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko']) await page.getByTestId(`lang-${l}`).setChecked(p.langs.includes(l));
  await page.getByTestId('steps-input').fill(String(p.steps));
  await page.getByTestId('baseline-select').selectOption(p.baseline);
  const t0 = Date.now();
  await page.getByTestId('localize-button').click();
  const summary = page.getByTestId('localize-summary');
  await expect(summary).toBeVisible({ timeout: TIMEOUTS.localize });
  const ms = Date.now() - t0;
  await expect(page.getByTestId('selection-summary')).toBeVisible();
  return { ms, summary };
}

async function langRows(page: Page) {
  return page.getByTestId('lang-row').evaluateAll((els) =>
    els.map((e) => ({
      lang: e.getAttribute('data-lang')!,
      before: Number(e.getAttribute('data-before')),
      after: Number(e.getAttribute('data-after')),
      knew: e.getAttribute('data-knew') === 'true',
    })),
  );
}

/**
 * The selection's language coverage as the Localize view shows it: each neuron chip's count is an integer
 * 0..languages, the summary's mean is the one shown (2 decimals) and, when every selected neuron has a chip
 * (≤ 40), their mean. Returns the mean.
 */
async function checkCoverage(page: Page, languages: number) {
  const sum = page.getByTestId('coverage-summary');
  await expect(sum).toBeVisible();
  await expect(sum).toHaveAttribute('data-languages', String(languages));
  // one re-score's figures, read at once: a slider's re-score may still be on its way when this is called,
  // and the count, the coverage summary and the chips must come from the same one
  const read = () =>
    page.evaluate(() => {
      const q = (id: string) => document.querySelector(`[data-testid="${id}"]`)!;
      const cs = q('coverage-summary');
      return {
        count: Number(q('selection-summary').getAttribute('data-count')),
        covCount: Number(cs.getAttribute('data-count')),
        mean: cs.getAttribute('data-mean'),
        text: cs.textContent ?? '',
        chips: [...document.querySelectorAll('[data-testid="selected-neuron"]')].map((e) => ({
          cov: e.getAttribute('data-coverage'),
          text: e.textContent ?? '',
        })),
      };
    });
  let r = await read();
  await expect
    .poll(
      async () => {
        r = await read();
        return r.count === r.covCount && r.chips.length === Math.min(40, r.count);
      },
      { timeout: 10_000 },
    )
    .toBe(true);
  const { count, chips } = r;
  for (const c of chips) {
    const n = Number(c.cov);
    expect(c.cov !== '' && Number.isInteger(n) && n >= 0 && n <= languages).toBe(true);
    expect(c.text).toContain(`${n}/${languages}`);
  }
  if (!count) return null;
  const mean = Number(r.mean);
  expect(mean).toBeGreaterThanOrEqual(0);
  expect(mean).toBeLessThanOrEqual(languages);
  expect(r.text).toContain(`mean language coverage ${mean.toFixed(2)} of ${languages} (over ${count} neuron`);
  if (count <= 40) expect(mean).toBeCloseTo(chips.reduce((a, c) => a + Number(c.cov), 0) / count, 9);
  return mean;
}

/**
 * The answers lost after a toggle: per language lost ≤ known, known as the "known queries" cell says, lost
 * as the query table counts (✓ before, ✗ after); the overall figure their sums.
 */
async function checkFlips(page: Page) {
  const cells = await page.getByTestId('lang-row').evaluateAll((els) =>
    els.map((e) => {
      const f = e.querySelector('[data-testid="flip-cell"]')!;
      return {
        lang: e.getAttribute('data-lang')!,
        known: e.querySelector('[data-testid="known-cell"]')!.textContent!,
        lost: f.getAttribute('data-lost'),
        knownF: Number(f.getAttribute('data-known')),
        text: f.textContent!.trim(),
      };
    }),
  );
  const queries = await page.getByTestId('manip-row').evaluateAll((els) =>
    els.map((e) => ({
      lang: e.getAttribute('data-lang')!,
      before: !!e.querySelector('[aria-label="correct before"]'),
      after: !!e.querySelector('[aria-label="correct after"]'),
    })),
  );
  let lost = 0,
    known = 0;
  for (const c of cells) {
    expect(c.known.startsWith(`${c.knownF} of `)).toBe(true);
    const qs = queries.filter((q) => q.lang === c.lang && q.before);
    expect(qs.length).toBe(c.knownF);
    if (!c.knownF) {
      expect(c.text).toBe('no known query');
      continue;
    }
    const l = Number(c.lost);
    expect(l).toBe(qs.filter((q) => !q.after).length);
    expect(c.text).toContain(`${l}/${c.knownF} lost`);
    lost += l;
    known += c.knownF;
  }
  const overall = page.getByTestId('flip-overall');
  if (!known) {
    await expect(overall).toHaveCount(0);
    return { lost, known };
  }
  await expect(overall).toHaveAttribute('data-lost', String(lost));
  await expect(overall).toHaveAttribute('data-known', String(known));
  await expect(overall).toContainText(`answers lost: ${lost}/${known} known queries`);
  return { lost, known };
}

/**
 * The completeness line after a localize: with a query above the flag, the convergence check (the flagged
 * queries re-attributed with the engine's RECHECK) ends in 'same' (neutral) or 'changed' (the warning),
 * else 'none'; the numbers shown are the check's (k of n flagged, the selection sizes, the Jaccard index).
 * With `stop` (SwiftShader, where it would take many minutes) the check is stopped: the plain advice shows.
 */
/** τ as the score shown computed it: its threshold 𝒯 over its max S (both from the same score, not the slider). */
async function scoredTau(page: Page): Promise<number> {
  const t = (await page.getByTestId('selection-summary').textContent()) ?? '';
  const m = /𝒯 = ([\d.e+-]+) \(τ × max S = [\d.]+ × ([\d.e+-]+)\)/.exec(t);
  return m ? Number(m[1]) / Number(m[2]) : NaN;
}

async function checkConvergence(page: Page, nQueries: number, count: number, stop: boolean) {
  const t0 = Date.now();
  const comp = page.getByTestId('completeness');
  if (stop) {
    await expect(comp).toHaveAttribute('data-convergence', /^(none|running)$/);
    if ((await comp.getAttribute('data-convergence')) === 'none') return;
    await page.getByTestId('convergence-stop').click();
    await expect(comp).toHaveAttribute('data-convergence', 'unchecked');
    await expect(page.getByTestId('completeness-flag')).toContainText('localize again with more steps');
    await expect(page.getByTestId('convergence-run')).toContainText('gauss-legendre M = 64');
    return;
  }
  await expect(comp).toHaveAttribute('data-convergence', /^(none|same|changed)$/, { timeout: TIMEOUTS.check });
  const state = (await comp.getAttribute('data-convergence'))!;
  const k = Number(await comp.getAttribute('data-flagged')),
    n = Number(await comp.getAttribute('data-queries'));
  const text = (await comp.textContent())!.replace(/\s+/g, ' ');
  console.log(`  [time] convergence check: ${state}, ${k} of ${n} queries flagged, ${Date.now() - t0} ms after the selection`);
  expect(n).toBe(nQueries);
  expect(k).toBeGreaterThanOrEqual(0);
  expect(k).toBeLessThanOrEqual(n);
  if (state === 'none') {
    expect(k).toBe(0);
    await expect(page.getByTestId('completeness-flag')).toHaveCount(0);
    return;
  }
  expect(k).toBeGreaterThan(0);
  expect(text).toContain(`${k} of ${n} queries have a completeness error above 5 % of P(correct)`);
  expect(text).toContain('re-attributed with gauss-legendre M = 64');
  const before = Number(await comp.getAttribute('data-before')),
    after = Number(await comp.getAttribute('data-after'));
  const jaccard = Number(await comp.getAttribute('data-jaccard'));
  expect(jaccard).toBeGreaterThanOrEqual(0);
  expect(jaccard).toBeLessThanOrEqual(1);
  // the check compares the selection shown (MaTrice, the same settings)
  expect(before).toBe(count);
  if (state === 'same') {
    expect(after).toBe(before);
    expect(jaccard).toBe(1);
    expect(text).toContain(`they select the same ${before} neuron`);
    expect(text).toContain('the conclusion stands');
    await expect(page.getByTestId('completeness-flag')).toHaveCount(0);
  } else {
    expect(jaccard).toBeLessThan(1);
    await expect(page.getByTestId('completeness-flag')).toContainText(`the selection changes (${before} → ${after} neuron`);
    await expect(page.getByTestId('completeness-flag')).toContainText(`Jaccard ${jaccard.toFixed(2)}): localize with more steps`);
  }
}

async function waitToggle(page: Page, factor: number) {
  const s = page.getByTestId('toggle-summary');
  await expect(s).toHaveAttribute('data-factor', String(factor));
  await expect(s).not.toContainText('updating', { timeout: TIMEOUTS.toggle });
  await expect(s).not.toHaveAttribute('data-ms', '');
  return Number(await s.getAttribute('data-ms'));
}

test('explorer: localize a fact, see it, suppress it, reload from the cache, share and export', async ({ page }, info) => {
  test.setTimeout(TIMEOUTS.test);
  const p = plan(info);
  const LANGS = p.langs;
  const tTest = Date.now();
  await openWithModel(page, info);
  await chooseFact(page);
  await screenshot(page, info, 'explorer-1-facts');

  // 2. localize (few steps, few languages)
  const { ms: locMs, summary } = await localize(page, p);
  const nQueries = Number(await summary.getAttribute('data-queries'));
  expect(nQueries).toBeGreaterThan(0);
  console.log(
    `  [time] localize: ${nQueries} queries, ${await summary.getAttribute('data-ms')} ms in the worker, ${locMs} ms click → view [${projectBackend(info)}, ${p.model}, M = ${p.steps}, ${p.baseline} baseline]`,
  );
  await expect(page.getByTestId('completeness')).toContainText('completeness error');
  const count0 = Number(await page.getByTestId('selection-summary').getAttribute('data-count'));
  expect(count0).toBeGreaterThan(0);
  await checkConvergence(page, nQueries, count0, projectBackend(info) === 'webgpu');
  if (p.model === 'demo') {
    // demo-causal ships a calibration.json: the page starts from it, says so, and the paper's
    // α = β = 1 with METHOD's τ = 0.2 is one click away; the rest of the test runs at τ = 0.2
    const shipped = JSON.parse(readFileSync(join('public', 'models', 'demo-causal', 'calibration.json'), 'utf8')).settings;
    await expect(page.getByTestId('settings-note')).toHaveAttribute('data-kind', 'calibrated');
    await expect(page.getByTestId('settings-note')).toContainText('settings calibrated on 20 dev facts');
    for (const k of ['tau', 'alpha2', 'beta2'] as const) await expect(page.getByTestId(`slider-${k}`)).toHaveValue(String(shipped[k]));
    await page.getByTestId('settings-paper').click();
    await expect(page.getByTestId('slider-tau')).toHaveValue('0.2');
    for (const k of ['alpha2', 'beta2'] as const) await expect(page.getByTestId(`slider-${k}`)).toHaveValue('1');
    await expect.poll(() => scoredTau(page), { timeout: 30_000 }).toBeCloseTo(0.2, 2);
  } else {
    // the tiny test model has no calibration.json: METHOD's defaults, said beside the settings
    await expect(page.getByTestId('settings-note')).toHaveAttribute('data-kind', 'method');
    await expect(page.getByTestId('settings-paper')).toHaveCount(0);
  }
  const count = Number(await page.getByTestId('selection-summary').getAttribute('data-count'));
  expect(count).toBeGreaterThan(0);
  const coverage = await checkCoverage(page, LANGS.length);

  // 3. see: the heatmap, the layer bars, one neuron across languages; sliders re-score
  await expect(page.getByTestId('heatmap-card')).toBeVisible();
  await expect(page.getByTestId('neuron-stats')).toBeVisible();
  await page.getByTestId('slider-tau').fill('0.5');
  await expect(page.getByTestId('selection-summary')).toContainText('0.5 ×');
  const count05 = Number(await page.getByTestId('selection-summary').getAttribute('data-count'));
  expect(count05).toBeLessThanOrEqual(count);
  const coverage05 = await checkCoverage(page, LANGS.length);
  console.log(`  language coverage: mean ${coverage} of ${LANGS.length} (${count} neurons, τ = 0.2), ${coverage05} (${count05} neurons, τ = 0.5)`);
  await page.getByTestId('slider-tau').fill('0.2');
  await expect(page.getByTestId('selection-summary')).toHaveAttribute('data-count', String(count));
  // the other Eq. 9 normalization re-scores without gradients; min-max over each language ('language')
  // selects most neurons, flagged, where 'scale' keeps zero at zero
  const defaultNorm = (await page.locator('input[name="norm"]:checked').getAttribute('value')) as string;
  const warnedDefault = await page.getByTestId('degenerate-selection').isVisible();
  if (p.model === 'demo' && count > 1024) expect(warnedDefault).toBe(true); // half of the demo model's 2,048
  const otherNorm = defaultNorm === 'scale' ? 'language' : 'scale';
  await page.getByTestId(`norm-${otherNorm}`).check();
  await expect
    .poll(async () => Number(await page.getByTestId('selection-summary').getAttribute('data-count')), { timeout: 3_000 })
    .not.toBe(count)
    .catch(() => undefined); // on the tiny random model the two may agree
  const countOther = Number(await page.getByTestId('selection-summary').getAttribute('data-count'));
  const counts: Record<string, number> = { [defaultNorm]: count, [otherNorm]: countOther };
  const warned = await page.getByTestId('degenerate-selection').isVisible();
  if (p.model === 'demo' && countOther > 1024) expect(warned).toBe(true);
  console.log(
    `  selected: ${count} (default Eq. 9 '${defaultNorm}', most-neurons warning: ${warnedDefault}), ${countOther} ('${otherNorm}', warning: ${warned})`,
  );
  if (p.model === 'demo') expect(counts.scale).toBeLessThan(counts.language);
  await page.getByTestId(`norm-${defaultNorm}`).check();
  await expect(page.getByTestId('selection-summary')).toHaveAttribute('data-count', String(count));
  await screenshot(page, info, 'explorer-2-localize');

  // 4. toggle: suppress the selected neurons
  await page.getByTestId('tab-toggle').click();
  await page.getByTestId('suppress-button').click();
  const supMs = await waitToggle(page, 0);
  const rows = await langRows(page);
  expect(rows.map((r) => r.lang).sort()).toEqual([...LANGS].sort());
  const knew = rows.filter((r) => r.knew);
  const flips = await checkFlips(page);
  console.log(`  answers lost (suppress): ${flips.lost}/${flips.known}`);
  console.log(`  suppress: ${supMs} ms; ${rows.map((r) => `${r.lang} ${r.before.toFixed(4)}→${r.after.toFixed(4)}${r.knew ? ' (knew)' : ''}`).join(', ')}`);
  // P(correct) falls on average over the languages that knew the fact (a single language may not move)
  if (knew.length) expect(knew.reduce((a, r) => a + (r.after - r.before) / r.before, 0) / knew.length).toBeLessThan(0);
  // the trained demo model knows this fact in some language; the random tiny model knows nothing, and
  // there only the change itself is checked
  if (p.model === 'demo') expect(knew.length).toBeGreaterThan(0);
  else expect(rows.some((r) => r.after !== r.before)).toBe(true);
  await page.getByTestId('enhance-button').click();
  const enhMs = await waitToggle(page, 2);
  console.log(`  [time] live toggle update: enhance ${enhMs} ms (suppress ${supMs} ms)`);
  await page.getByTestId('suppress-button').click();
  await waitToggle(page, 0);
  await page.getByTestId('compare-toggle').check();
  await expect(page.getByTestId('prob-bars-wrap')).toBeVisible();
  const tCmp = Date.now();
  await expect(page.getByTestId('prob-bars-wrap')).toContainText('AMIG', { timeout: TIMEOUTS.toggle });
  console.log(`  [time] compare MaTrice / AMIG / Random: ${Date.now() - tCmp} ms`);
  await screenshot(page, info, 'explorer-3-toggle');
  await page.getByTestId('compare-toggle').uncheck();

  // 4b. shared or per language: each language's own neurons beside MaTrice's set, both suppressed
  const tSets = Date.now();
  await page.getByTestId('language-sets-run').click();
  await expect(page.getByTestId('language-sets-row')).toHaveCount(LANGS.length, { timeout: TIMEOUTS.toggle });
  for (const row of await page.getByTestId('language-sets-row').all()) {
    const own = Number(await row.getAttribute('data-own')),
      overlap = Number(await row.getAttribute('data-overlap'));
    expect(overlap).toBeLessThanOrEqual(own);
  }
  console.log(`  [time] language sets (own vs shared, ${LANGS.length} languages): ${Date.now() - tSets} ms`);
  await screenshot(page, info, 'explorer-3b-language-sets');

  // 5. share: the link holds the state
  await page.getByTestId('tab-share').click();
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toContain('#z='); // compressed (old #s= links still open)
  await screenshot(page, info, 'explorer-4-share');

  // export an exploration file
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button').click()]);
  const filePath = join(e2eState().root, `exploration-${info.project.name}.json`);
  await download.saveAs(filePath);
  const text = readFileSync(filePath, 'utf8');
  const parsed = importExploration(text);
  expect(parsed.state.fact).toBe(FACT);
  expect(parsed.results?.selections.matrice?.neurons.length).toBe(count);
  // and a static exploration (exploration.json + exploration.html + README.txt)
  const [staticDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('static-export-button').click()]);
  expect(staticDl.suggestedFilename()).toBe('exploration.json');
  const staticText = readFileSync(await staticDl.path(), 'utf8');
  await expect(page.getByTestId('export-note')).toContainText('exploration.html');
  if (projectBackend(info) === 'webgpu') {
    // reopening the link, importing the file and the static view read stored results and re-run only what
    // the steps above ran already (a fresh page on SwiftShader also recompiles every shader: 8-36 s), so
    // the wasm project checks them
    console.log(`  [time] whole test: ${Date.now() - tTest} ms`);
    return;
  }

  // reopen the link in a fresh page: same view, attributions from the cache (no recomputation)
  const hash = new URL(link).hash;
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(appUrl(info, { hash }));
  await expect(page.getByTestId('toggle-summary')).toHaveAttribute('data-factor', '0', { timeout: TIMEOUTS.reopen });
  const s2 = page.getByTestId('toggle-summary');
  await expect(s2).not.toHaveAttribute('data-ms', '', { timeout: TIMEOUTS.toggle });
  console.log(`  [time] link reopened (model load + cached localize + toggle) in ${Date.now() - t0} ms`);
  await page.getByTestId('tab-localize').click();
  const sum2 = page.getByTestId('localize-summary');
  await expect(sum2).toHaveAttribute('data-queries', String(nQueries));
  await expect(sum2).toHaveAttribute('data-cached', String(nQueries));
  console.log(`  cached localize: ${await sum2.getAttribute('data-ms')} ms in the worker`);
  await expect(page.getByTestId('selection-summary')).toHaveAttribute('data-count', String(count));
  await screenshot(page, info, 'explorer-5-reopened');

  // import the exported file: the same results, read-only
  await page.getByTestId('tab-share').click();
  await page.getByTestId('import-input').setInputFiles(filePath);
  await expect(page.getByTestId('static-banner')).toBeVisible();
  await page.getByTestId('tab-localize').click();
  await expect(page.getByTestId('selection-summary')).toHaveAttribute('data-count', String(count));

  // the static exploration, served by a static host beside the app, opens without a model
  await page.goto('about:blank');
  await page.route('**/exploration.json', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: staticText }));
  await page.goto(appUrl(info, { params: { static: 'exploration.json' } }));
  await expect(page.getByTestId('static-banner')).toBeVisible({ timeout: TIMEOUTS.load });
  await expect(page.getByTestId('selection-summary')).toHaveAttribute('data-count', String(count));
  await expect(page.getByTestId('model-info')).toHaveCount(0);
  await page.getByTestId('tab-toggle').click();
  await expect(page.getByTestId('lang-row')).toHaveCount(LANGS.length);
  await screenshot(page, info, 'explorer-6-static');
  console.log(`  [time] whole test: ${Date.now() - tTest} ms`);
});

test('explorer: a malformed link and a malformed file give clear errors; help is reachable by keyboard', async ({ page }, info) => {
  test.skip(info.project.name === 'wasm', 'no compute involved: once is enough');
  await openApp(page, info, { hash: '#s=%%%not-base64' });
  const alert = page.getByTestId('error-alert');
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('This link cannot be opened');
  await expect(page.getByTestId('error-message')).toContainText('link:');
  console.log('  malformed link ->', await page.getByTestId('error-message').textContent());
  await screenshot(page, info, 'explorer-bad-link');
  await page.getByRole('button', { name: 'Dismiss error' }).click();

  // a payload that decodes but carries markup: refused, and never rendered as HTML
  await page.getByTestId('tab-share').click();
  await page.getByTestId('import-input').setInputFiles({
    name: 'bad.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ format: 'kn-exploration', version: 2, state: { v: 1 }, model: '<img src=x onerror=alert(1)>' })),
  });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('Could not import bad.json');
  await expect(page.getByTestId('error-message')).toContainText('exploration file:');
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  console.log('  malformed file ->', await page.getByTestId('error-message').textContent());
  await page.getByTestId('import-input').setInputFiles({ name: 'notjson.json', mimeType: 'application/json', buffer: Buffer.from('{ nope') });
  await expect(page.getByTestId('error-message')).toContainText('not valid JSON');
  await screenshot(page, info, 'explorer-bad-file');

  // tabs by keyboard, help from every view
  await page.getByRole('tab').last().focus(); // ArrowRight on the last tab wraps to the first
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-data')).toBeFocused();
  await expect(page.getByTestId('tab-data')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-localize')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('help-button').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('teach-panel')).toBeVisible();
  await expect(page.getByTestId('teach-panel')).toContainText('Integrated gradients');
  await screenshot(page, info, 'explorer-teach');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('teach-panel')).toHaveCount(0);
});

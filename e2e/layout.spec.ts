/**
 * Layout at a 1024 px wide window: the help panel beside the forms covers nothing, its close button
 * stays in view, the columns of the fact tables line up, and CJK text renders as glyphs, not boxes.
 * Screenshots: test-results/screenshots/wasm-layout-*.png.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { expectLoaded, openApp, projectBackend, screenshot } from './helpers';

test.use({ viewport: { width: 1024, height: 768 } });

async function box(l: Locator) {
  const b = await l.boundingBox();
  expect(b).not.toBeNull();
  return b!;
}

/**
 * Nothing covers `l`: the element hit at its centre is `l` itself or inside it. The box and the hit test are
 * taken in one step in the page (a layout change between two round trips, e.g. the fact list filling in
 * after the model loads, moved the box under another element on a busy machine), and polled until the
 * layout has settled; a real cover never goes away, and the failure names what is on top.
 */
async function expectUncovered(page: Page, l: Locator) {
  await expect
    .poll(
      () =>
        l.evaluate((el) => {
          const r = el.getBoundingClientRect();
          const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          if (top && (top === el || el.contains(top))) return 'uncovered';
          return `covered by ${top ? `<${top.tagName.toLowerCase()}${top.id ? `#${top.id}` : ''} class="${top.className}" data-testid="${top.getAttribute('data-testid') ?? ''}">` : 'nothing (outside the viewport)'}`;
        }),
      { timeout: 30_000 },
    )
    .toBe('uncovered');
}

test('1024 px: help beside the model form, close button in view, fact tables aligned, CJK glyphs', async ({ page }, info) => {
  test.skip(projectBackend(info) !== 'wasm', 'layout does not depend on the backend; the wasm project loads the demo model fastest');
  await openApp(page, info, { autoload: true });
  await expectLoaded(page);

  // the help panel opens beside the model form and covers none of it
  await page.getByTestId('help-button').click();
  const panel = page.getByTestId('teach-panel');
  await expect(panel).toBeVisible();
  const select = page.getByTestId('bundled-select');
  const s = await box(select);
  const p = await box(panel);
  expect(s.x + s.width, 'the model dropdown ends left of the help panel').toBeLessThanOrEqual(p.x);
  await expectUncovered(page, select);
  await screenshot(page, info, 'layout-help-1024');

  // its close button stays in view when the panel's text is scrolled, and when the page is
  await panel.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.mouse.wheel(0, 3000);
  const close = page.getByTestId('teach-close');
  await expect(close).toBeInViewport();
  await expectUncovered(page, close);
  await screenshot(page, info, 'layout-help-scrolled-1024');
  await close.click();
  await expect(panel).toHaveCount(0);

  // the fact search suggests subjects in the benchmark's languages (no Swedish)
  const search = page.getByTestId('fact-search');
  const ph = (await search.getAttribute('placeholder')) ?? '';
  expect(ph).toContain('Azerbaijan');
  expect(ph).not.toMatch(/Frankrike/);

  // the fact view: every language's table has the same columns, and the k-th top prediction of every
  // row starts at the same x
  await page.getByTestId('relation-select').selectOption('P36');
  await search.fill('Azerb');
  await page.locator('[data-testid="fact-item"][data-fact-id="P36:0"]').click();
  const facts = page.getByTestId('fact-queries');
  await expect(page.getByTestId('query-row').first()).toBeVisible();
  const geometry = await facts.evaluate((root) => {
    const tables = [...root.querySelectorAll('table')];
    const heads = tables.map((t) => [...t.querySelectorAll('th')].map((th) => Math.round(th.getBoundingClientRect().left)));
    const rows = [...root.querySelectorAll('[data-testid="top-cells"]')].map((c) =>
      [...c.querySelectorAll('[data-testid="top-cell"]')].map((e) => {
        const r = e.getBoundingClientRect();
        return { x: Math.round(r.left), y: Math.round(r.top) };
      }),
    );
    return { heads, rows };
  });
  expect(geometry.heads.length).toBe(7);
  for (const h of geometry.heads) expect(h).toEqual(geometry.heads[0]);
  // the grid's columns: the x positions on each row's first line, the same on every row
  const firstLine = (r: { x: number; y: number }[]) => r.filter((c) => c.y === r[0].y).map((c) => c.x);
  const cols = firstLine(geometry.rows[0]);
  expect(cols.length).toBeGreaterThan(1);
  for (const r of geometry.rows) {
    expect(firstLine(r)).toEqual(cols);
    for (const c of r) expect(cols).toContain(c.x); // wrapped cells fall into the same columns
  }

  // CJK renders as glyphs: two different characters of each script must not draw the same box (tofu)
  const distinct = await page.evaluate(() => {
    const pixels = (ch: string) => {
      const c = document.createElement('canvas');
      c.width = c.height = 32;
      const g = c.getContext('2d')!;
      g.font = '24px sans-serif';
      g.fillText(ch, 2, 26);
      return Array.from(g.getImageData(0, 0, 32, 32).data).join();
    };
    return { zh: pixels('阿') !== pixels('塞'), ja: pixels('ア') !== pixels('ゼ'), ko: pixels('아') !== pixels('제') };
  });
  const ok = distinct.zh && distinct.ja && distinct.ko;
  if (!ok) {
    const msg = `CJK text renders as boxes (${JSON.stringify(distinct)}): install fonts-noto-cjk (apt-get install fonts-noto-cjk; .ci/run does)`;
    if (process.env.CI) throw new Error(msg);
    info.annotations.push({ type: 'warning', description: msg });
    console.log(`  warning: ${msg}`);
  }
  await screenshot(page, info, 'layout-facts-1024');
  await facts.screenshot({ path: 'test-results/screenshots/wasm-layout-fact-tables-1024.png' });
});

/**
 * `npx tsx scripts/lesson-bench.ts [page URL] [runs]`: how long opening `?lesson` takes (docs/LESSON.md), in Debian's
 * Chromium against a served build (`npx vite build --outDir /tmp/lesson-dist && npx vite preview --outDir
 * /tmp/lesson-dist --port 4193 --host 127.0.0.1`). Per run, fresh context: when the first chapter's first number is
 * on screen and when the page had drawn it (ms from the navigation's start), then, with `--live`, when the model had
 * loaded and when the fact had been computed on it (the live widgets). Prints one JSON line per run and the load
 * average; asserts nothing.
 */
import { loadavg } from 'node:os';
import { chromium } from '@playwright/test';

/** playwright.config.ts's flags: without them this headless Chromium starts no tfjs backend at all (not even wasm) */
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader', '--no-sandbox'];

async function main() {
  const args = process.argv.slice(2);
  const live = args.includes('--live');
  const [base = 'http://127.0.0.1:4193', runs = '3'] = args.filter((a) => !a.startsWith('--'));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  for (let i = 0; i < Number(runs); i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${base}/?lesson&backend=wasm`);
    await page.locator('[data-chapter="1"] [data-num="known"]').waitFor({ timeout: 120_000 });
    const seen = await page.evaluate(() => performance.now());
    if (live) await page.locator('[data-testid="lesson"][data-live="ready"]').waitFor({ timeout: 300_000 });
    const t = await page.evaluate(() => (globalThis as { __knLessonTimes?: Record<string, number | null> }).__knLessonTimes ?? {});
    const ms = (x: number | null | undefined) => (typeof x === 'number' ? Math.round(x) : null);
    process.stdout.write(
      `${JSON.stringify({ run: i + 1, firstChapterSeenMs: Math.round(seen), firstChapterDrawnMs: ms(t.firstChapterMs), ...(live ? { modelMs: ms(t.modelMs), liveMs: ms(t.liveMs) } : {}) })}\n`,
    );
    await ctx.close();
  }
  await browser.close();
  process.stdout.write(`${JSON.stringify({ loadavg: loadavg().map((x) => Number(x.toFixed(2))) })}\n`);
}

main().catch((e) => {
  process.stderr.write(`lesson-bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

/**
 * `npx tsx scripts/train/ablation-table.ts <label>=<calibration dir>[@<model dir>] ... [--out <file.md>]`
 *
 * The demo-model recipe ablation as one Markdown table: per candidate, its training (steps, wall time, from the
 * model folder's train-log.json when there is one), its trained / held-out top-1 accuracy (eval.json, the
 * engine's int8 eval), and from its calibration on the dev split (`kn experiment calibrate … --out <dir>`,
 * report/summary.json) MaTrice at METHOD's defaults (α2 = β2 = 1, τ = 0.2), at τ = 0.1, and at β2 = 0.5:
 * median selection, coverage, suppress ΔP (mean of 7 languages, the weakest language), flip rate, Random,
 * each language's own set, and what the rule chose.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Cell {
  alpha2: number;
  beta2: number;
  tau: number;
  selectedMedian: number;
  coverageMean: number;
  suppress: number;
  perLanguage: Record<string, number>;
  flipRate: number;
  randomSuppress: number;
  ownSuppress: number;
}
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? args[outIdx + 1] : undefined;
const items = outIdx >= 0 ? args.filter((_, i) => i !== outIdx && i !== outIdx + 1) : args;
if (!items.length) {
  console.error('usage: npx tsx scripts/train/ablation-table.ts <label>=<calibration dir>[@<model dir>] ... [--out <file.md>]');
  process.exit(2);
}
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '—');
const read = (p: string) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined);
const LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];
const cellText = (c: Cell | undefined) => {
  if (!c) return '— | — | — | — | — | —';
  const weakest = LANGS.map((l) => [l, c.perLanguage[l]] as const)
    .filter(([, v]) => Number.isFinite(v))
    .sort((a, b) => b[1] - a[1])[0];
  return `${c.selectedMedian} | ${c.coverageMean.toFixed(2)} | ${pct(c.suppress)} (${weakest ? `${weakest[0]} ${pct(weakest[1])}` : '—'}) | ${pct(c.flipRate)} | ${pct(c.randomSuppress)} | ${pct(c.ownSuppress)}`;
};
const rows: string[] = [];
for (const it of items) {
  const [label, rest] = it.split('=');
  const [cal, modelDir] = rest.split('@');
  // a results folder (its report/ beside the rows) or a report folder itself
  const s = read(join(cal, 'report', 'summary.json')) ?? read(join(cal, 'summary.json'));
  if (!s) throw new Error(`no summary.json in ${cal} or ${cal}/report (run kn experiment calibrate … --out ${cal})`);
  const find = (a2: number, b2: number, t: number) => (s.frontier as Cell[]).find((c) => c.alpha2 === a2 && c.beta2 === b2 && c.tau === t);
  const log = modelDir ? read(join(modelDir, 'train-log.json')) : undefined;
  const ev = modelDir ? read(join(modelDir, 'eval.json')) : undefined;
  const acc = (split: 'trained' | 'heldout') => (ev?.[split] ? LANGS.map((l) => Math.round(100 * ev[split][l].accuracy)).join('/') : '—');
  const train = log ? `${log.steps} steps, ${Math.round(log.seconds)} s` : '—';
  const chosen = s.chosen ? `α2 ${s.chosen.alpha2}, β2 ${s.chosen.beta2}, τ ${s.chosen.tau}` : 'none qualifies';
  rows.push(
    `| ${label} | ${train} | ${acc('trained')} | ${acc('heldout')} | ${cellText(find(1, 1, 0.2))} | ${cellText(find(1, 1, 0.1))} | ${cellText(find(1, 0.5, 0.2))} | ${chosen} |`,
  );
}
const head = (n: string) => `${n}: median sel. | coverage | ΔP (weakest) | flip | Random | own sets`;
const table = [
  `| candidate | training | trained top-1 % (zh/en/fr/fi/hu/ja/ko) | held-out top-1 % | ${head('α=β=1, τ=0.2')} | ${head('α=β=1, τ=0.1')} | ${head('β2=0.5, τ=0.2')} | rule's choice |`,
  `|---|---|---|---|${'---|'.repeat(18)}---|`,
  ...rows,
].join('\n');
const text = `\`\`\`\nnpx tsx scripts/train/ablation-table.ts ${args.join(' ')}\n\`\`\`\n\n${table}\n`;
if (out) writeFileSync(out, text);
console.log(text);

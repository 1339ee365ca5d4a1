/**
 * Data helpers for the bar/dot charts (LayerBars, NeuronLanguages, ProbBars): pure functions, no DOM,
 * unit-tested in tests/ui/charts.test.ts. Every text they produce is plain text (rendered with Svelte's
 * text interpolation, never as HTML).
 */
import { perLanguage } from '../../engine/selection';

/** Okabe-Ito (colour-blind safe), in the order used for series; matches the variables in app.css. */
export const OKABE_ITO = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442'] as const;
/** Neutral colour for "before" bars (distinct from every series colour in lightness and hue): the one in matrice/methods.ts. */
export { BEFORE_COLOR } from '../../engine/selection';
import { BEFORE_COLOR } from '../../engine/selection';

export function seriesColor(i: number): string {
  return OKABE_ITO[((i % OKABE_ITO.length) + OKABE_ITO.length) % OKABE_ITO.length];
}

/** Dash patterns per series, so series differ by more than colour alone. */
export const SERIES_PATTERNS = ['', '4 2', '1 2', '6 2 1 2'] as const;

// ---------------------------------------------------------------------------------------------------
// formatting

const MINUS = '\u2212';

export function formatPercent(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return 'n/a';
  const s = (x * 100).toFixed(digits);
  return `${s.startsWith('-') ? MINUS + s.slice(1) : s} %`;
}

/** ΔP as a signed percentage ("+12.3 %", "−85.0 %"); NaN (P_before = 0) → "n/a". */
export function formatDeltaP(d: number): string {
  if (!Number.isFinite(d)) return 'n/a';
  const s = formatPercent(Math.abs(d));
  if (d > 0) return `+${s}`;
  if (d < 0 && Math.abs(d) * 100 >= 0.05) return `${MINUS}${s}`;
  return s;
}

/** A probability: percent with 2 decimals, or scientific below 0.1 %. */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  if (p === 0) return '0';
  if (p >= 0.001) return `${(p * 100).toFixed(2)} %`;
  return p.toExponential(2).replace('-', MINUS);
}

/** A score: 3 significant digits, true minus sign. */
export function formatScore(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1e-3 && a < 1e4 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
  return s.replace('-', MINUS);
}

// ---------------------------------------------------------------------------------------------------
// roving focus inside a chart (one tab stop; arrows move between categories)

/** New index for a key press in a list of n categories, or null when the key is not for us. */
export function moveIndex(i: number, key: string, n: number): number | null {
  if (n <= 0) return null;
  const cur = Number.isInteger(i) && i >= 0 && i < n ? i : -1;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return cur < 0 ? 0 : Math.min(n - 1, cur + 1);
    case 'ArrowLeft':
    case 'ArrowUp':
      return cur < 0 ? 0 : Math.max(0, cur - 1);
    case 'Home':
      return 0;
    case 'End':
      return n - 1;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// LayerBars (Fig. 4)

export interface LayerSeries {
  name: string;
  distribution: number[];
  /** the series' colour (a method's, engine/selection/methods.ts METHOD_COLORS); else Okabe-Ito by position */
  color?: string;
}

/** The series to draw: `series` when non-empty, else one series from `distribution` (in `color`, when given). */
export function layerSeries(distribution: number[], label: string | undefined, series?: LayerSeries[], color?: string): LayerSeries[] {
  if (series && series.length) return series.map((s, i) => ({ name: s.name, distribution: sanitize(s.distribution), color: s.color ?? seriesColor(i) }));
  return [{ name: label ?? 'selected neurons', distribution: sanitize(distribution), color: color ?? seriesColor(0) }];
}

function sanitize(d: ArrayLike<number>): number[] {
  return Array.from(d, (x) => (Number.isFinite(x) && x > 0 ? x : 0));
}

export function layerCount(series: LayerSeries[]): number {
  return series.reduce((m, s) => Math.max(m, s.distribution.length), 0);
}

export function layerMax(series: LayerSeries[]): number {
  let m = 0;
  for (const s of series) for (const x of s.distribution) if (x > m) m = x;
  return m;
}

/** "MaTrice: 40 % in layer 9, 30 % in layer 10, …" (top 3 layers per series). */
export function layerBarsSummary(series: LayerSeries[]): string {
  const parts = series.map((s) => {
    const total = s.distribution.reduce((a, b) => a + b, 0);
    if (total === 0) return `${s.name}: no neurons selected`;
    const top = s.distribution
      .map((x, l) => [x, l] as const)
      .filter(([x]) => x > 0)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, 3)
      .map(([x, l]) => `${formatPercent(x, 0)} in layer ${l}`);
    return `${s.name}: ${top.join(', ')}`;
  });
  return `Share of selected neurons per layer. ${parts.join('. ')}.`;
}

// ---------------------------------------------------------------------------------------------------
// NeuronLanguages

export interface LangValue {
  lang: string;
  value: number;
}

/** x domain covering values, mean ± std, the threshold and 0; never degenerate. */
export function neuronLanguagesDomain(perLanguage: LangValue[], mean: number, std: number, threshold?: number): [number, number] {
  const xs: number[] = [0];
  for (const p of perLanguage) if (Number.isFinite(p.value)) xs.push(p.value);
  if (Number.isFinite(mean)) {
    xs.push(mean);
    if (Number.isFinite(std)) xs.push(mean - Math.abs(std), mean + Math.abs(std));
  }
  if (threshold !== undefined && Number.isFinite(threshold)) xs.push(threshold);
  let lo = Math.min(...xs);
  let hi = Math.max(...xs);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

export function neuronLanguagesSummary(perLanguage: LangValue[], mean: number, std: number, threshold?: number): string {
  if (perLanguage.length === 0) return 'No per-language scores.';
  const sorted = [...perLanguage].sort((a, b) => b.value - a.value);
  const hi = sorted[0];
  const lo = sorted[sorted.length - 1];
  let s = `Score per language (${perLanguage.length} languages): mean ${formatScore(mean)}, standard deviation ${formatScore(std)}; highest ${hi.lang} ${formatScore(hi.value)}, lowest ${lo.lang} ${formatScore(lo.value)}.`;
  const outside = perLanguage.filter((p) => Math.abs(p.value - mean) > Math.abs(std) + 1e-12).map((p) => p.lang);
  if (outside.length) s += ` Outside mean ± std: ${outside.join(', ')}.`;
  if (threshold !== undefined && Number.isFinite(threshold)) s += ` Threshold ${formatScore(threshold)}.`;
  return s;
}

// ---------------------------------------------------------------------------------------------------
// ProbBars (Fig. 5)

export interface ProbRow {
  lang: string;
  /** P(correct) before the manipulation */
  before: number;
  after: number;
  /** (after − before) / before; NaN when before = 0 */
  deltaP: number;
  correctBefore: boolean;
}

export interface ProbSeries {
  name: string;
  rows: ProbRow[];
  /** the series' colour (a method's, engine/selection/methods.ts METHOD_COLORS); else Okabe-Ito by position */
  color?: string;
}

/** The colour each series is drawn in: its own, else Okabe-Ito by position. */
export const probSeriesColors = (series: ProbSeries[] | undefined): string[] =>
  series && series.length ? series.map((s, i) => s.color ?? seriesColor(i)) : [seriesColor(0)];

export interface ProbBar {
  key: string;
  lang: string;
  /** 'before', or the series name */
  label: string;
  kind: 'before' | 'after';
  /** position in the group: 0 = before, 1 + i = after of series i */
  slot: number;
  value: number;
  deltaP?: number;
  color: string;
  dash: string;
}

export interface ProbGroup {
  lang: string;
  correctBefore: boolean;
  bars: ProbBar[];
}

/**
 * Groups per language: one "before" bar (from the first series that has the language) and one "after"
 * bar per series (coloured by series). Without `series`, `rows` is the single series "after".
 * Languages keep their first-seen order; several rows of one language are averaged (aggregateByLanguage).
 */
export function probGroups(rows: ProbRow[], series?: ProbSeries[]): ProbGroup[] {
  const all: ProbSeries[] = series && series.length ? series : [{ name: 'after', rows }];
  const colors = probSeriesColors(all);
  const agg = all.map((s) => ({ name: s.name, byLang: new Map(aggregateByLanguage(s.rows).map((r) => [r.lang, r])) }));
  const langs: string[] = [];
  for (const s of all) for (const r of s.rows) if (!langs.includes(r.lang)) langs.push(r.lang);
  return langs.map((lang) => {
    const first = agg.find((a) => a.byLang.has(lang))!.byLang.get(lang)!;
    const bars: ProbBar[] = [{ key: `${lang}:before`, lang, label: 'before', kind: 'before', slot: 0, value: first.before, color: BEFORE_COLOR, dash: '' }];
    agg.forEach((a, i) => {
      const r = a.byLang.get(lang);
      if (!r) return;
      bars.push({
        key: `${lang}:${i}`,
        lang,
        label: a.name,
        kind: 'after',
        slot: 1 + i,
        value: r.after,
        deltaP: r.deltaP,
        color: colors[i],
        dash: SERIES_PATTERNS[i % SERIES_PATTERNS.length],
      });
    });
    return { lang, correctBefore: first.correctBefore, bars };
  });
}

/**
 * One row per language: mean before/after, mean of the finite ΔP (NaN if none), and correctBefore when
 * every query of the language was correct before. Languages keep their first-seen order.
 */
export function aggregateByLanguage(rows: ProbRow[]): ProbRow[] {
  // "correct before" only when every query of the language was
  return Object.entries(perLanguage(rows)).map(([lang, o]) => ({
    lang,
    before: o.before,
    after: o.after,
    deltaP: o.deltaP,
    correctBefore: o.correctBefore === o.n,
  }));
}

export function probMax(groups: ProbGroup[]): number {
  let m = 0;
  for (const g of groups) for (const b of g.bars) if (Number.isFinite(b.value) && b.value > m) m = b.value;
  return m;
}

export function probSummary(groups: ProbGroup[]): string {
  if (groups.length === 0) return 'No manipulation results.';
  const parts = groups.map((g) => {
    const after = g.bars
      .filter((b) => b.kind === 'after')
      .map((b) => `${b.label === 'after' ? 'after' : b.label} ${formatProbability(b.value)} (ΔP ${formatDeltaP(b.deltaP ?? NaN)})`);
    return `${g.lang}${g.correctBefore ? ' (correct before)' : ''}: before ${formatProbability(g.bars[0].value)}, ${after.join(', ')}`;
  });
  return `Probability of the correct answer before and after the manipulation, per language. ${parts.join('; ')}.`;
}

/** One entry of a chart's legend (ChartFrame.svelte): a colour swatch, or without a colour a mark (e.g. ✓). */
export interface LegendItem {
  label: string;
  color?: string;
  mark?: string;
}

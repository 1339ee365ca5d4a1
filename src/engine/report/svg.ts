/**
 * Standalone SVG charts for experiment reports (grouped bars with 95 % whiskers, lines over k), as
 * strings: the CLI writes them as files, the page inlines them. d3 for scales and ticks, no DOM.
 * Every text is escaped.
 */
import { scaleBand, scaleLinear } from 'd3';

const PALETTE = ['#1f77b4', '#d62728', '#7f7f7f', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (x: number) => (Math.round(x * 10) / 10).toString();
const fmt = (x: number, percent?: boolean) => (percent ? `${Math.round(x * 1000) / 10}%` : String(Math.round(x * 1000) / 1000));

export interface BarSeries {
  name: string;
  values: (number | null)[];
  errors?: (number | null)[];
  /** the series' colour (a method's: matrice/methods.ts methodColors); else PALETTE by position */
  color?: string;
}

/** The colour of series `i`: its own, else PALETTE by position. */
export const seriesFill = (s: { color?: string }, i: number) => s.color ?? PALETTE[i % PALETTE.length];

function frame(w: number, h: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="${esc(title)}">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${w / 2}" y="16" text-anchor="middle" font-size="12" font-weight="600">${esc(title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function yAxis(y: ReturnType<typeof scaleLinear<number, number>>, x0: number, x1: number, percent?: boolean): string[] {
  const out: string[] = [];
  for (const t of y.ticks(6)) {
    out.push(`<line x1="${x0}" x2="${x1}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="${t === 0 ? '#333' : '#e5e5e5'}"/>`);
    out.push(`<text x="${x0 - 4}" y="${f(y(t) + 3.5)}" text-anchor="end" fill="#444">${esc(fmt(t, percent))}</text>`);
  }
  return out;
}

function legend(series: { name: string; color?: string }[], x: number, y: number): string[] {
  return series.map(
    (s, i) =>
      `<rect x="${x}" y="${y + i * 15}" width="10" height="10" fill="${seriesFill(s, i)}"/><text x="${x + 14}" y="${y + i * 15 + 9}">${esc(s.name)}</text>`,
  );
}

/** Grouped bars (groups on x, one bar per series) with optional ± whiskers; null values are drawn as "n/a". */
export function barChart(o: { title: string; groups: string[]; series: BarSeries[]; percent?: boolean; width?: number; height?: number }): string {
  const w = o.width ?? 760,
    h = o.height ?? 340;
  const m = { l: 56, r: 180, t: 28, b: 36 };
  const vals: number[] = [0];
  for (const s of o.series)
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const e = s.errors?.[i] ?? 0;
      vals.push(v - (e ?? 0), v + (e ?? 0));
    });
  const y = scaleLinear()
    .domain([Math.min(...vals), Math.max(...vals)])
    .nice()
    .range([h - m.b, m.t]);
  const x = scaleBand<string>()
    .domain(o.groups)
    .range([m.l, w - m.r])
    .padding(0.2);
  const xi = scaleBand<number>()
    .domain(o.series.map((_, i) => i))
    .range([0, x.bandwidth()])
    .padding(0.08);
  const body = yAxis(y, m.l, w - m.r, o.percent);
  o.groups.forEach((g, gi) => {
    const gx = x(g)!;
    body.push(`<text x="${f(gx + x.bandwidth() / 2)}" y="${h - m.b + 14}" text-anchor="middle">${esc(g)}</text>`);
    o.series.forEach((s, si) => {
      const v = s.values[gi];
      const bx = gx + xi(si)!,
        bw = xi.bandwidth();
      if (v === null || !Number.isFinite(v)) {
        body.push(`<text x="${f(bx + bw / 2)}" y="${f(y(0) - 3)}" text-anchor="middle" font-size="8" fill="#999">n/a</text>`);
        return;
      }
      const y0 = y(0),
        yv = y(v);
      body.push(
        `<rect x="${f(bx)}" y="${f(Math.min(y0, yv))}" width="${f(bw)}" height="${f(Math.max(0.5, Math.abs(yv - y0)))}" fill="${seriesFill(s, si)}"><title>${esc(`${s.name}, ${g}: ${fmt(v, o.percent)}`)}</title></rect>`,
      );
      const e = s.errors?.[gi];
      if (e !== null && e !== undefined && Number.isFinite(e) && e > 0) {
        const cx = f(bx + bw / 2);
        body.push(
          `<path d="M${cx},${f(y(v - e))}V${f(y(v + e))}M${f(bx + bw * 0.3)},${f(y(v - e))}H${f(bx + bw * 0.7)}M${f(bx + bw * 0.3)},${f(y(v + e))}H${f(bx + bw * 0.7)}" stroke="#222" fill="none"/>`,
        );
      }
    });
  });
  body.push(...legend(o.series, w - m.r + 12, m.t + 4));
  return frame(w, h, o.title, body);
}

/** Lines over numeric x (log2 scale when x spans more than a factor 8). */
export function lineChart(o: {
  title: string;
  x: number[];
  xLabel: string;
  series: { name: string; values: (number | null)[]; color?: string }[];
  percent?: boolean;
  width?: number;
  height?: number;
}): string {
  const w = o.width ?? 760,
    h = o.height ?? 320;
  const m = { l: 56, r: 180, t: 28, b: 44 };
  const vals = [0, ...o.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)))];
  const y = scaleLinear()
    .domain([Math.min(...vals), Math.max(...vals)])
    .nice()
    .range([h - m.b, m.t]);
  const log = Math.max(...o.x) / Math.max(1e-9, Math.min(...o.x)) > 8;
  const tx = (v: number) => (log ? Math.log2(v) : v);
  const x = scaleLinear()
    .domain([tx(Math.min(...o.x)), tx(Math.max(...o.x))])
    .range([m.l + 10, w - m.r - 10]);
  const body = yAxis(y, m.l, w - m.r, o.percent);
  for (const v of o.x) body.push(`<text x="${f(x(tx(v)))}" y="${h - m.b + 14}" text-anchor="middle">${v}</text>`);
  body.push(`<text x="${(m.l + w - m.r) / 2}" y="${h - 8}" text-anchor="middle" fill="#444">${esc(o.xLabel)}</text>`);
  o.series.forEach((s, si) => {
    const c = seriesFill(s, si);
    const pts = s.values
      .map((v, i) => (v === null || !Number.isFinite(v) ? null : ([x(tx(o.x[i])), y(v)] as const)))
      .filter((p): p is readonly [number, number] => p !== null);
    if (pts.length) body.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${f(p[0])},${f(p[1])}`).join(' ')}"/>`);
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      body.push(
        `<circle cx="${f(x(tx(o.x[i])))}" cy="${f(y(v))}" r="3" fill="${c}"><title>${esc(`${s.name}, k = ${o.x[i]}: ${fmt(v, o.percent)}`)}</title></circle>`,
      );
    });
  });
  body.push(...legend(o.series, w - m.r + 12, m.t + 4));
  return frame(w, h, o.title, body);
}

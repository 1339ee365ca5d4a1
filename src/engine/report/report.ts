/**
 * The manipulation rows turned into the paper's views (pure; the CLI writes them to files, the page shows
 * them): Fig. 5 (ΔP per language and method, mean ± 95 % interval over facts), Table II (ablations as a
 * fraction of MaTrice), Fig. 4 (share of selected neurons per layer), selection sizes, each language's own
 * neurons against the shared set, and the knock-out curve. ΔP per docs/METHOD.md: per fact and language,
 * the mean Eq. 14 over the queries the model knew (top-1) before; a language with no known query is left
 * out of that fact's mean, never counted as 0.
 */
import { LANGS, type Lang } from '../../data/types';
import { METHOD_COLORS, methodColors, methodLabel as baseLabel } from '../selection/methods';
import { deltaP } from '../selection/scoring';
import type { ExperimentMeta, FactRow, FactTiming } from '../experiments/manipulate';
import { barChart, lineChart } from './svg';
import { LEGACY_QUADRATURE, MIN_KNOWN_LANGS, RULE } from '../rules';

export interface Stat {
  /** mean over facts */
  mean: number | null;
  /** half-width of the 95 % interval (1.96 · sd / √n); null with fewer than 2 facts */
  ci95: number | null;
  /** facts with at least one known query in the language */
  n: number;
}

export interface MethodLanguage {
  known: number;
  /**
   * share of the known queries (pooled over facts) whose top-1 answer is no longer the target after suppression;
   * null when no known query, or rows written before top-1 was recorded
   */
  flipRate: number | null;
  suppress: number | null;
  enhance: number | null;
  suppressCi95: number | null;
  enhanceCi95: number | null;
  facts: number;
}

export interface MethodSummary {
  selectedMedian: number;
  selectedMean: number;
  /** facts where the method selected nothing */
  empty: number;
  /** share of selected neurons per layer (Fig. 4), pooled over facts */
  layers: number[];
  /**
   * how language-agnostic the selection is: for each selected neuron, the number of languages whose own selection
   * contains it (0..languages), averaged over all selected neurons of all facts; null when nothing was selected or
   * the rows predate coverage
   */
  coverageMean: number | null;
  languages: Record<string, MethodLanguage>;
  /** mean over languages of the per-language means (languages with no known query left out) */
  mean: { suppress: number | null; enhance: number | null };
}

export interface Reading {
  reading: string;
  selectedMedian: number;
  selectedShare: number;
  empty: number;
  suppress: number | null;
  enhance: number | null;
  randomSuppress: number | null;
}

export interface Summary {
  experiment: 'manipulate';
  model: string;
  facts: number;
  settings: ExperimentMeta['settings'] & { steps: number; baseline: string; seed: number; langs: string[]; quadrature?: string };
  methods: Record<string, MethodSummary>;
  /** each language's own neurons: size, ΔP suppress on its own queries, overlap with MaTrice's set */
  perLanguageSets: Record<
    string,
    { selectedMedian: number; suppress: number | null; suppressCi95: number | null; flipRate: number | null; sharedWithMatrice: number | null }
  >;
  /** Table II: each ablation as a fraction of MaTrice, per language then averaged */
  tableII: Record<string, { suppress: number | null; enhance: number | null; average: number | null }>;
  knockout: { k: number[]; top: (number | null)[]; random: (number | null)[]; topByLanguage: Record<string, (number | null)[]> };
  /**
   * `kn experiment readings`: MaTrice under each Eq. 9 / Eq. 5 reading beside its Random, and the reading that
   * localizes best: the most negative mean suppression ΔP among readings whose median selection is at most
   * 1 % of the neurons and never empty on more than half of the facts (null when none qualifies)
   */
  readings?: Reading[];
  bestReading?: string | null;
  completenessMedian: number | null;
  timing: { facts: number; msPerFactMedian: number | null; msPerFactMean: number | null };
  problems: string[];
}

/** The key of MaTrice under the run's settings: 'matrice', else the readings run's `matrice@<norm>/<attrNorm>`. */
export function matriceKey(methods: readonly string[], settings: { norm: string; attrNorm: string }): string {
  return methods.includes('matrice') ? 'matrice' : `matrice@${settings.norm}/${settings.attrNorm}`;
}

export function stat(xs: number[]): Stat {
  const v = xs.filter(Number.isFinite);
  if (!v.length) return { mean: null, ci95: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { mean, ci95: null, n: v.length };
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return { mean, ci95: (1.96 * sd) / Math.sqrt(v.length), n: v.length };
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Mean of the finite values; null when there is none. */
export const meanOf = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/** Mean ΔP over the known queries of `lang` in one fact; NaN when it has none. */
export function factLanguageDeltaP(row: FactRow, after: number[], lang: string, indices?: number[]): number {
  let s = 0,
    n = 0;
  const idx = indices ?? row.queries.map((_, i) => i);
  idx.forEach((qi, k) => {
    const q = row.queries[qi];
    if (q.lang !== lang || !q.known) return;
    const d = deltaP(q.before, after[indices ? k : qi]);
    if (Number.isFinite(d)) {
      s += d;
      n++;
    }
  });
  return n ? s / n : NaN;
}

/**
 * Pooled over facts: the share of `lang`'s known queries whose target is no longer top-1 after (`top1Of(row)`,
 * aligned with the row's queries, or with `indicesOf(row)` when given); null when there is no such query or a
 * row has no top-1 record.
 */
export function flipRate(
  rows: readonly FactRow[],
  lang: string,
  top1Of: (r: FactRow) => boolean[] | undefined,
  indicesOf?: (r: FactRow) => number[],
): number | null {
  let known = 0,
    flipped = 0;
  for (const r of rows) {
    const idx = indicesOf ? indicesOf(r) : r.queries.map((_, i) => i);
    const t = top1Of(r);
    const mine = idx.map((qi, k) => ({ q: r.queries[qi], k })).filter((x) => x.q.lang === lang && x.q.known);
    if (!mine.length) continue;
    if (!t) return null;
    for (const x of mine) {
      known++;
      if (!t[indicesOf ? x.k : idx[x.k]]) flipped++;
    }
  }
  return known ? flipped / known : null;
}

/** A summary's settings as every report starts them: MaTrice's settings, then M, the baseline, the seed and the languages. */
export function runSettings(meta: Pick<ExperimentMeta, 'settings' | 'steps' | 'baseline' | 'seed' | 'langs'>) {
  return { ...meta.settings, steps: meta.steps, baseline: meta.baseline, seed: meta.seed, langs: meta.langs };
}

/**
 * The opening of every report: which experiment, model, how many facts and the run's settings (plus the kind's own),
 * in the key order the report files have always had.
 */
export function reportHead<E extends string, X extends object>(
  experiment: E,
  meta: Pick<ExperimentMeta, 'settings' | 'steps' | 'baseline' | 'seed' | 'langs' | 'model'>,
  facts: number,
  extra: X,
) {
  return { experiment, model: meta.model.id, facts, settings: { ...runSettings(meta), ...extra } };
}

/** Median time per fact over the run's timed facts. */
export function factTiming(timings: readonly { ms: number }[]) {
  const ms = timings.map((t) => t.ms);
  return { facts: ms.length, msPerFactMedian: median(ms) };
}

/** Mean ΔP over all known queries of the fact (every language). */
function factDeltaP(row: FactRow, after: number[]): number {
  let s = 0,
    n = 0;
  row.queries.forEach((q, i) => {
    if (!q.known) return;
    const d = deltaP(q.before, after[i]);
    if (Number.isFinite(d)) {
      s += d;
      n++;
    }
  });
  return n ? s / n : NaN;
}

export function summarize(meta: ExperimentMeta, rows: FactRow[], timings: FactTiming[] = [], problems: string[] = []): Summary {
  const langs = [...meta.langs].sort((a, b) => (LANGS as readonly string[]).indexOf(a) - (LANGS as readonly string[]).indexOf(b));
  const L = meta.model.numLayers;
  const methods: Record<string, MethodSummary> = {};
  for (const key of meta.methods) {
    const sizes = rows.map((r) => r.methods[key].neurons.length);
    const layerCount = new Array(L).fill(0);
    for (const r of rows) for (const [l] of r.methods[key].neurons) layerCount[l]++;
    const total = layerCount.reduce((a, b) => a + b, 0);
    const languages: Record<string, MethodLanguage> = {};
    for (const lang of langs) {
      const sup = stat(rows.map((r) => factLanguageDeltaP(r, r.methods[key].suppress, lang)));
      const enh = stat(rows.map((r) => factLanguageDeltaP(r, r.methods[key].enhance, lang)));
      const known = rows.reduce((a, r) => a + r.queries.filter((q) => q.lang === lang && q.known).length, 0);
      languages[lang] = {
        known,
        flipRate: flipRate(rows, lang, (r) => r.methods[key].suppressTop1),
        suppress: sup.mean,
        enhance: enh.mean,
        suppressCi95: sup.ci95,
        enhanceCi95: enh.ci95,
        facts: sup.n,
      };
    }
    methods[key] = {
      selectedMedian: median(sizes) ?? 0,
      selectedMean: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0,
      empty: sizes.filter((s) => s === 0).length,
      layers: layerCount.map((c) => (total ? c / total : 0)),
      coverageMean: rows.some((r) => r.methods[key].neurons.length && !r.methods[key].coverage)
        ? null
        : meanOf(rows.flatMap((r) => r.methods[key].coverage ?? [])),
      languages,
      mean: { suppress: meanOf(langs.map((l) => languages[l].suppress)), enhance: meanOf(langs.map((l) => languages[l].enhance)) },
    };
  }
  // MaTrice under the run's own settings: 'matrice', or in a readings run the default reading's key
  const mkey = matriceKey(meta.methods, meta.settings);
  const perLanguageSets: Summary['perLanguageSets'] = {};
  for (const lang of langs) {
    const own = rows.filter((r) => r.perLanguage[lang as Lang]);
    const d = stat(
      own.map((r) => {
        const idx = r.queries.map((q, i) => (q.lang === lang ? i : -1)).filter((i) => i >= 0);
        return factLanguageDeltaP(r, r.perLanguage[lang as Lang]!.suppress, lang, idx);
      }),
    );
    const shared = own
      .filter((r) => r.methods[mkey]?.neurons.length && r.perLanguage[lang as Lang]!.neurons.length)
      .map((r) => {
        const mine = new Set(r.perLanguage[lang as Lang]!.neurons.map((n) => n.join(':')));
        return r.methods[mkey].neurons.filter((n) => mine.has(n.join(':'))).length / r.methods[mkey].neurons.length;
      });
    const ownIdx = (r: FactRow) => r.queries.map((q, i) => (q.lang === lang ? i : -1)).filter((i) => i >= 0);
    const ownFlip = flipRate(own, lang, (r) => r.perLanguage[lang as Lang]!.suppressTop1, ownIdx);
    perLanguageSets[lang] = {
      selectedMedian: median(own.map((r) => r.perLanguage[lang as Lang]!.neurons.length)) ?? 0,
      suppress: d.mean,
      suppressCi95: d.ci95,
      flipRate: ownFlip,
      sharedWithMatrice: meanOf(shared),
    };
  }
  const tableII: Summary['tableII'] = {};
  const base = meta.methods.find((m) => m === 'matrice');
  if (base) {
    for (const key of meta.methods) {
      if (key === base) continue;
      const frac = (op: 'suppress' | 'enhance') =>
        meanOf(
          langs.map((l) => {
            const b = methods[base].languages[l][op],
              x = methods[key].languages[l][op];
            return b === null || x === null || b === 0 ? null : x / b;
          }),
        );
      const s = frac('suppress'),
        e = frac('enhance');
      tableII[key] = { suppress: s, enhance: e, average: meanOf([s, e]) };
    }
  }
  const knockout: Summary['knockout'] = { k: meta.knockout, top: [], random: [], topByLanguage: {} };
  meta.knockout.forEach((_, ki) => {
    knockout.top.push(stat(rows.map((r) => factDeltaP(r, r.knockout.top[ki]))).mean);
    knockout.random.push(stat(rows.map((r) => factDeltaP(r, r.knockout.random[ki]))).mean);
  });
  for (const lang of langs)
    knockout.topByLanguage[lang] = meta.knockout.map((_, ki) => stat(rows.map((r) => factLanguageDeltaP(r, r.knockout.top[ki], lang))).mean);
  const total = meta.model.numLayers * meta.model.ffnSize;
  const readings: Reading[] = meta.methods
    .filter((k) => k.startsWith('matrice@'))
    .map((k) => {
      const reading = k.slice('matrice@'.length);
      const m = methods[k],
        r = methods[`random@${reading}`];
      return {
        reading,
        selectedMedian: m.selectedMedian,
        selectedShare: m.selectedMedian / total,
        empty: m.empty,
        suppress: m.mean.suppress,
        enhance: m.mean.enhance,
        randomSuppress: r?.mean.suppress ?? null,
      };
    });
  const ok = readings.filter((r) => r.selectedShare <= RULE.maxShare && r.empty <= rows.length / 2 && r.suppress !== null);
  const bestReading = ok.length ? ok.reduce((a, b) => (b.suppress! < a.suppress! ? b : a)).reading : null;
  const ms = timings.map((t) => t.ms);
  return {
    ...reportHead('manipulate' as const, meta, rows.length, { quadrature: meta.quadrature ?? LEGACY_QUADRATURE }),
    methods,
    perLanguageSets,
    tableII,
    knockout,
    readings,
    bestReading,
    completenessMedian: median(rows.map((r) => r.completeness)),
    timing: { ...factTiming(timings), msPerFactMean: ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : null },
    problems,
  };
}

// ------------------------------------------------------------------------------------ text and files

/** A method key as people read it: `matrice@scale/none/b0` → "MaTrice [scale/none/b0]". */
export const methodLabel = (k: string) => {
  const [m, r] = k.split('@');
  return baseLabel(m) + (r ? ` [${r}]` : '');
};
const pct = (x: number | null, ci?: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %` + (ci != null ? ` ± ${(ci * 100).toFixed(1)}` : ''));
const num = (x: number | null, d = 3) => (x === null ? '—' : x.toFixed(d));

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function csv(head: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [head, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export interface ReportFiles {
  /** file name → contents */
  [name: string]: string;
}

/** report.md, CSVs and SVG charts of a summary. `command` is printed as the line that reproduces it. */
export function reportFiles(s: Summary, command?: string): ReportFiles {
  const langs = Object.keys(Object.values(s.methods)[0]?.languages ?? {});
  const keys = Object.keys(s.methods);
  // one colour per method in every figure of the report (matrice/methods.ts)
  const colors = methodColors([...keys, 'own']);
  const files: ReportFiles = {};
  const F = s.settings;
  const md: string[] = [
    `# Manipulation experiment: ${s.model}`,
    '',
    command ? `Reproduce: \`${command}\`\n` : '',
    `${s.facts} facts the model knows (top-1 on at least half of the queries in ≥ ${MIN_KNOWN_LANGS} languages), languages ${F.langs.join(', ')}; ` +
      `settings τ = ${F.tau}, α = (${F.alpha1}, ${F.alpha2}), β = (${F.beta1}, ${F.beta2}), Eq. 9 \`${F.norm}\`, Eq. 5 \`${F.attrNorm}\`, M = ${F.steps}${F.quadrature ? ` (${F.quadrature})` : ''}, baseline ${F.baseline}, seed ${F.seed}. ` +
      `ΔP = (P_after − P_before) / P_before averaged over the queries the model knew, per fact, then mean ± 95 % interval over facts (docs/METHOD.md).`,
    '',
    '## Fig. 5: suppress (×0) and enhance (×2), ΔP per language',
    '',
  ];
  for (const op of ['suppress', 'enhance'] as const) {
    md.push(`### ${op}`, '');
    md.push(
      table(
        ['method', ...langs, 'mean'],
        keys.map((k) => [
          methodLabel(k),
          ...langs.map((l) => pct(s.methods[k].languages[l][op], s.methods[k].languages[l][`${op}Ci95`])),
          pct(s.methods[k].mean[op]),
        ]),
      ),
    );
    md.push('', `![${op}](fig5-${op}.svg)`, '');
  }
  md.push(
    'Known queries per language (MaTrice row; the same for every method): ' +
      langs.map((l) => `${l} ${s.methods[keys[0]]?.languages[l].known ?? 0}`).join(', '),
    '',
  );
  md.push('### Answers that disappear: flip rate after suppression', '');
  md.push('The share of the known queries (pooled over facts) whose top-1 answer is no longer the correct one once the neurons are suppressed.', '');
  md.push(
    table(
      ['method', ...langs],
      keys.map((k) => [methodLabel(k), ...langs.map((l) => pct(s.methods[k].languages[l].flipRate))]),
    ),
  );
  md.push('');
  md.push('## Selection sizes and coverage', '');
  md.push(
    `Coverage: for each selected neuron, in how many languages' own selections (that language's queries alone, the same τ and readings) it also is, 0 to ${langs.length}, averaged over every selected neuron of every fact: ${langs.length} means every neuron is each language's own too (language-agnostic), 1 that it belongs to one language.`,
    '',
  );
  md.push(
    table(
      ['method', 'median', 'mean', 'empty selections', 'coverage (of ' + langs.length + ')'],
      keys.map((k) => [
        methodLabel(k),
        String(s.methods[k].selectedMedian),
        s.methods[k].selectedMean.toFixed(1),
        `${s.methods[k].empty} of ${s.facts}`,
        num(s.methods[k].coverageMean, 2),
      ]),
    ),
  );
  md.push('', '## Fig. 4: share of selected neurons per layer', '');
  const L = s.methods[keys[0]]?.layers.length ?? 0;
  md.push(
    table(
      ['method', ...Array.from({ length: L }, (_, l) => `L${l}`)],
      keys.map((k) => [methodLabel(k), ...s.methods[k].layers.map((x) => pct(x))]),
    ),
  );
  md.push('', '![layers](fig4-layers.svg)', '');
  if (Object.keys(s.tableII).length) {
    md.push('## Table II: each method as a fraction of MaTrice (per language, then averaged)', '');
    md.push(
      table(
        ['method', 'suppress', 'enhance', 'average'],
        Object.entries(s.tableII).map(([k, v]) => [methodLabel(k), num(v.suppress), num(v.enhance), num(v.average)]),
      ),
    );
    md.push('');
  }
  if (s.readings?.length) {
    md.push('## Readings of Eq. 9 × Eq. 5', '');
    md.push(
      'MaTrice under each reading (Eq. 9 normalization / Eq. 5 normalization; `a0` = α2 = 0, no std penalty across queries; `b0.5`, `b0` = β2 = 0.5, 0, less or no std penalty across languages), from the same attributions, beside a Random set of the same size; mean ΔP over the languages.',
      '',
    );
    md.push(
      table(
        ['reading', 'median selection', 'share of neurons', 'empty', 'ΔP suppress', 'ΔP enhance', 'Random ΔP suppress'],
        s.readings.map((r) => [
          r.reading + (r.reading === s.bestReading ? ' (best)' : ''),
          String(r.selectedMedian),
          pct(r.selectedShare),
          `${r.empty} of ${s.facts}`,
          pct(r.suppress),
          pct(r.enhance),
          pct(r.randomSuppress),
        ]),
      ),
    );
    md.push(
      '',
      s.bestReading
        ? `Best reading (the largest suppression among those selecting at most 1 % of the neurons, empty on at most half of the facts): **${s.bestReading}**.`
        : 'No reading selects at most 1 % of the neurons with a measurable suppression.',
      '',
    );
  }
  md.push("## Each language's own neurons against the shared set", '');
  md.push(
    "Per language: the neurons selected from that language alone (UaQ + the same threshold, Dai-style), suppressed on its own queries, beside MaTrice's language-agnostic set; \"shared\" = the share of MaTrice's set that is also in the language's own set.",
    '',
  );
  md.push(
    table(
      ['language', 'own set median size', 'ΔP suppress own set', 'flip rate own set', 'ΔP suppress MaTrice', 'flip rate MaTrice', 'shared'],
      langs.map((l) => [
        l,
        String(s.perLanguageSets[l]?.selectedMedian ?? 0),
        pct(s.perLanguageSets[l]?.suppress ?? null, s.perLanguageSets[l]?.suppressCi95),
        pct(s.perLanguageSets[l]?.flipRate ?? null),
        pct(s.methods[matriceKey(Object.keys(s.methods), s.settings)]?.languages[l].suppress ?? null),
        pct(s.methods[matriceKey(Object.keys(s.methods), s.settings)]?.languages[l].flipRate ?? null),
        pct(s.perLanguageSets[l]?.sharedWithMatrice ?? null),
      ]),
    ),
  );
  md.push('', '![own vs shared](own-vs-shared.svg)', '');
  md.push('## Knock-out: suppress the top-k neurons by S against k random neurons (ΔP over all known queries)', '');
  md.push(
    table(
      ['k', ...s.knockout.k.map(String)],
      [
        ['top-k by S', ...s.knockout.top.map((x) => pct(x))],
        ['random k', ...s.knockout.random.map((x) => pct(x))],
        ...langs.map((l) => [`top-k, ${l}`, ...s.knockout.topByLanguage[l].map((x) => pct(x))]),
      ],
    ),
  );
  md.push('', '![knock-out](knockout.svg)', '');
  md.push('## Run', '');
  md.push(`IG completeness error (max over a fact's queries, relative to P), median over facts: ${num(s.completenessMedian, 4)}. `);
  md.push(
    `Wall time per fact: median ${s.timing.msPerFactMedian === null ? '—' : (s.timing.msPerFactMedian / 1000).toFixed(2) + ' s'} over ${s.timing.facts} facts (on the machine that ran them).`,
  );
  if (s.problems.length) md.push('', '### Problems', '', ...s.problems.map((p) => `- ${p}`));
  files['report.md'] = md.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';

  files['fig5.csv'] = csv(
    ['method', 'language', 'known_queries', 'facts', 'suppress', 'suppress_ci95', 'enhance', 'enhance_ci95', 'flip_rate'],
    keys.flatMap((k) =>
      langs.map((l) => {
        const v = s.methods[k].languages[l];
        return [k, l, v.known, v.facts, v.suppress, v.suppressCi95, v.enhance, v.enhanceCi95, v.flipRate];
      }),
    ),
  );
  files['selection.csv'] = csv(
    ['method', 'median', 'mean', 'empty', 'coverage_mean', ...Array.from({ length: L }, (_, l) => `layer${l}`)],
    keys.map((k) => [k, s.methods[k].selectedMedian, s.methods[k].selectedMean, s.methods[k].empty, s.methods[k].coverageMean, ...s.methods[k].layers]),
  );
  files['knockout.csv'] = csv(
    ['k', 'top', 'random', ...langs.map((l) => `top_${l}`)],
    s.knockout.k.map((k, i) => [k, s.knockout.top[i], s.knockout.random[i], ...langs.map((l) => s.knockout.topByLanguage[l][i])]),
  );
  files['own-vs-shared.csv'] = csv(
    ['language', 'own_median', 'own_suppress', 'matrice_suppress', 'shared'],
    langs.map((l) => [
      l,
      s.perLanguageSets[l]?.selectedMedian ?? 0,
      s.perLanguageSets[l]?.suppress ?? null,
      s.methods[matriceKey(Object.keys(s.methods), s.settings)]?.languages[l].suppress ?? null,
      s.perLanguageSets[l]?.sharedWithMatrice ?? null,
    ]),
  );
  if (s.readings?.length)
    files['readings.csv'] = csv(
      ['reading', 'median', 'share', 'empty', 'suppress', 'enhance', 'random_suppress'],
      s.readings.map((r) => [r.reading, r.selectedMedian, r.selectedShare, r.empty, r.suppress, r.enhance, r.randomSuppress]),
    );
  if (Object.keys(s.tableII).length)
    files['table2.csv'] = csv(
      ['method', 'suppress', 'enhance', 'average'],
      Object.entries(s.tableII).map(([k, v]) => [k, v.suppress, v.enhance, v.average]),
    );

  for (const op of ['suppress', 'enhance'] as const) {
    files[`fig5-${op}.svg`] = barChart({
      title: `ΔP after ${op === 'suppress' ? 'suppressing (×0)' : 'enhancing (×2)'} the selected neurons, per language (mean ± 95 % CI over ${s.facts} facts)`,
      groups: langs,
      series: keys.map((k) => ({
        name: methodLabel(k),
        values: langs.map((l) => s.methods[k].languages[l][op]),
        errors: langs.map((l) => s.methods[k].languages[l][`${op}Ci95`]),
        color: colors[k],
      })),
      percent: true,
    });
  }
  files['fig4-layers.svg'] = barChart({
    title: 'Share of the selected neurons per layer (Fig. 4)',
    groups: Array.from({ length: L }, (_, l) => `layer ${l}`),
    // every method, Random too (its spread over the layers is the reference the others are read against)
    series: keys.map((k) => ({ name: methodLabel(k), values: s.methods[k].layers, color: colors[k] })),
    percent: true,
  });
  files['own-vs-shared.svg'] = barChart({
    title: "ΔP on a language's queries: its own neurons against the shared (MaTrice) set",
    groups: langs,
    series: [
      {
        name: 'own (per-language) set',
        values: langs.map((l) => s.perLanguageSets[l]?.suppress ?? null),
        errors: langs.map((l) => s.perLanguageSets[l]?.suppressCi95 ?? null),
        color: colors.own,
      },
      {
        name: 'MaTrice (shared)',
        values: langs.map((l) => s.methods[matriceKey(Object.keys(s.methods), s.settings)]?.languages[l].suppress ?? null),
        errors: langs.map((l) => s.methods[matriceKey(Object.keys(s.methods), s.settings)]?.languages[l].suppressCi95 ?? null),
        color: colors[matriceKey(keys, s.settings)],
      },
    ],
    percent: true,
  });
  files['knockout.svg'] = lineChart({
    title: 'Knock-out: ΔP while suppressing the top-k neurons by S, against k random neurons',
    x: s.knockout.k,
    xLabel: 'k (neurons suppressed)',
    series: [
      { name: 'top-k by S', values: s.knockout.top, color: colors[matriceKey(keys, s.settings)] },
      { name: 'k random', values: s.knockout.random, color: METHOD_COLORS.random },
    ],
    percent: true,
  });
  return files;
}

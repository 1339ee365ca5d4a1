/**
 * The Experiments view's logic, framework-free: the form → request, progress text, the report's tables
 * (the same cells as the CLI's report.md, built from the Summary), the downloads, and the shareable
 * report file (`kn-experiment-report`, opened read-only with `?report=<file>.json` or by import).
 *
 * A report file trusts nothing: it is validated field by field and rebuilt from the checked values only,
 * so the SVG charts regenerated from it hold numbers and escaped text.
 */
import * as rules from '../../engine/rules';
import { reproduceCommand } from '../../engine/experiments';
import { KnError } from '../../shared/errors';
import { reportFiles, type Summary } from '../../engine/report';
import type { AnyMeta, ExperimentProgress, ExperimentRequest } from '../../worker/experiments';
import { DEFAULT_GRID, parseGrid } from '../../engine/rules';

/** The limits and report builder the view needs (it imports no engine module itself). */
export { FACTS_MAX, FACTS_MIN, SEED_MAX, SEED_MIN, STEPS_MAX, STEPS_MIN, LANGS } from '../../engine/rules';
export { reportFiles };
import * as v from 'valibot';
import { arr, fail, int, keyed, num, obj, oneOf, parse, str } from '../share/schema';
import { hostingSteps, redirectPage, staticParam } from '../share/static-export';
import { CREATED_WITH } from '../share/exploration-file';

// ------------------------------------------------------------------------------------------- form

export const EXPERIMENTS = [
  { id: 'manipulate', label: 'Manipulation (Fig. 5, Table II, Fig. 4, knock-out)' },
  { id: 'readings', label: 'Readings (each Eq. 9 × Eq. 5 reading)' },
  { id: 'calibrate', label: 'Calibrate on this model (α2, β2, τ)' },
] as const;
export type ExperimentId = (typeof EXPERIMENTS)[number]['id'];

/** A readings run: every method is a reading (`matrice@scale/none` …); the twin of worker/experiments.ts's, kept here so the page bundle does not pull in the engine. */
export const isReadings = (m: AnyMeta) => m.experiment !== 'calibrate' && m.methods.length > 0 && m.methods.every((k) => k.includes('@'));

export const ALL_METHODS = ['matrice', 'amig', 'random', 'no-uaq', 'no-ual'] as const;

export interface ExperimentForm {
  experiment: ExperimentId;
  facts: number;
  langs: string[];
  methods: string[];
  seed: number;
  steps: number;
  /** the IG quadrature: the engine's default for a new run, a saved run's own when it is resumed */
  quadrature: rules.Quadrature;
  /** calibrate: 'dev' (a bundled model's dev split, as the CLI; other models have none) or any fact the model knows */
  split: 'dev' | 'any';
  /** calibrate: the grid, comma-separated per axis (defaults: the engine's DEFAULT_GRID) */
  gridAlpha2: string;
  gridBeta2: string;
  gridTau: string;
}

/** The engine's grid as the form's text (engine/rules/calibration.ts: one source for the CLI and the page). */
export const DEFAULT_GRID_TEXT = { alpha2: DEFAULT_GRID.alpha2.join(','), beta2: DEFAULT_GRID.beta2.join(','), tau: DEFAULT_GRID.tau.join(',') };

export const defaultForm = (): ExperimentForm => ({
  experiment: 'manipulate',
  facts: rules.DEFAULT_FACTS.page,
  langs: [...rules.LANGS],
  methods: [...ALL_METHODS],
  seed: rules.DEFAULT_SEED,
  steps: rules.DEFAULT_STEPS,
  quadrature: rules.DEFAULT_QUADRATURE,
  split: 'dev',
  gridAlpha2: DEFAULT_GRID_TEXT.alpha2,
  gridBeta2: DEFAULT_GRID_TEXT.beta2,
  gridTau: DEFAULT_GRID_TEXT.tau,
});

/** Whether a model (as the page names it) has the dev split calibration picks from: the bundled demo models. */
export const hasDevSplit = (modelLabel: string) => /^bundled:/.test(modelLabel);

/** The request the worker runs; throws KnError('bad-input') naming the field at fault. */
export function formToRequest(f: ExperimentForm, modelLabel: string): ExperimentRequest {
  const int = (v: number, name: string, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new KnError('bad-input', `${name} must be an integer in ${lo}..${hi}, got ${Number.isFinite(v) ? v : 'nothing'}`);
    return v;
  };
  if (!f.langs.length) throw new KnError('bad-input', 'choose at least one language');
  if (f.experiment === 'manipulate' && !f.methods.length) throw new KnError('bad-input', 'choose at least one method');
  if (f.experiment === 'calibrate') {
    const grid = { alpha2: f.gridAlpha2.trim(), beta2: f.gridBeta2.trim(), tau: f.gridTau.trim() };
    parseGrid(grid); // refused here, naming the axis, before anything runs
    return {
      experiment: 'calibrate',
      modelLabel,
      facts: int(f.facts, 'number of facts', rules.FACTS_MIN, rules.FACTS_MAX),
      langs: rules.LANGS.filter((l) => f.langs.includes(l)),
      methods: [],
      seed: int(f.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX),
      steps: int(f.steps, 'M', rules.STEPS_MIN, rules.STEPS_MAX),
      quadrature: rules.checkQuadrature(f.quadrature, 'quadrature'),
      // the dev split where the model has one (bundled), as `kn experiment calibrate`; never the test split
      split: f.split === 'dev' && hasDevSplit(modelLabel) ? 'dev' : null,
      grid,
    };
  }
  return {
    experiment: f.experiment,
    modelLabel,
    facts: int(f.facts, 'number of facts', rules.FACTS_MIN, rules.FACTS_MAX),
    langs: rules.LANGS.filter((l) => f.langs.includes(l)),
    // readings run their own fixed set (every reading of MaTrice and Random)
    methods: f.experiment === 'readings' ? [] : ALL_METHODS.filter((m) => f.methods.includes(m)),
    seed: int(f.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX),
    steps: int(f.steps, 'M', rules.STEPS_MIN, rules.STEPS_MAX),
    quadrature: rules.checkQuadrature(f.quadrature, 'quadrature'),
  };
}

/** Where the page keeps the form across reloads (localStorage): Run again after a reload resumes the stored run. */
export const FORM_STORAGE_KEY = 'kn-experiment-form';

/** The form as stored (storedForm reads it back). */
export const formText = (f: ExperimentForm): string =>
  JSON.stringify({
    experiment: f.experiment,
    facts: f.facts,
    langs: f.langs,
    methods: f.methods,
    seed: f.seed,
    steps: f.steps,
    quadrature: f.quadrature,
    split: f.split,
    gridAlpha2: f.gridAlpha2,
    gridBeta2: f.gridBeta2,
    gridTau: f.gridTau,
  });

/**
 * The stored form back (formText), field by field: a field that is missing or not valid (another
 * version, an edited value) takes its default, the others are kept; nothing stored gives the defaults.
 */
export function storedForm(text: string | null | undefined): ExperimentForm {
  const d = defaultForm();
  if (!text) return d;
  let o: Record<string, unknown>;
  try {
    const x = JSON.parse(text);
    if (!x || typeof x !== 'object' || Array.isArray(x)) return d;
    o = x as Record<string, unknown>;
  } catch {
    return d;
  }
  const intIn = (v: unknown, lo: number, hi: number, dflt: number) => (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : dflt);
  const subset = (v: unknown, all: readonly string[], dflt: string[]) =>
    Array.isArray(v) && v.every((x) => all.includes(x)) ? all.filter((x) => v.includes(x)) : dflt;
  return {
    experiment: EXPERIMENTS.some((e) => e.id === o.experiment) ? (o.experiment as ExperimentId) : d.experiment,
    facts: intIn(o.facts, rules.FACTS_MIN, rules.FACTS_MAX, d.facts),
    langs: subset(o.langs, rules.LANGS, d.langs),
    methods: subset(o.methods, ALL_METHODS, d.methods),
    seed: intIn(o.seed, rules.SEED_MIN, rules.SEED_MAX, d.seed),
    steps: intIn(o.steps, rules.STEPS_MIN, rules.STEPS_MAX, d.steps),
    quadrature: (rules.QUADRATURES as readonly unknown[]).includes(o.quadrature) ? (o.quadrature as rules.Quadrature) : d.quadrature,
    split: o.split === 'dev' || o.split === 'any' ? o.split : d.split,
    gridAlpha2: gridText(o.gridAlpha2, 'alpha2', d.gridAlpha2),
    gridBeta2: gridText(o.gridBeta2, 'beta2', d.gridBeta2),
    gridTau: gridText(o.gridTau, 'tau', d.gridTau),
  };
}

/** A stored grid axis back when it parses (engine parseGrid), else its default. */
function gridText(v: unknown, axis: 'alpha2' | 'beta2' | 'tau', dflt: string): string {
  if (typeof v !== 'string' || v.length > 200) return dflt;
  try {
    parseGrid({ [axis]: v });
    return v;
  } catch {
    return dflt;
  }
}

/** A saved run's settings back in the form (to resume it). */
export function metaToForm(m: AnyMeta): ExperimentForm {
  if (m.experiment === 'calibrate') {
    return {
      ...defaultForm(),
      experiment: 'calibrate',
      facts: m.request.facts,
      langs: [...m.langs],
      seed: m.seed,
      steps: m.steps,
      quadrature: m.quadrature ?? rules.LEGACY_QUADRATURE,
      split: m.request.split === 'dev' ? 'dev' : 'any',
      gridAlpha2: m.grid.alpha2.join(','),
      gridBeta2: m.grid.beta2.join(','),
      gridTau: m.grid.tau.join(','),
    };
  }
  const readings = isReadings(m);
  return {
    ...defaultForm(),
    experiment: readings ? 'readings' : 'manipulate',
    facts: m.request.facts,
    langs: [...m.langs],
    methods: readings ? [...ALL_METHODS] : m.methods.filter((k) => (ALL_METHODS as readonly string[]).includes(k)),
    seed: m.seed,
    steps: m.steps,
    // a run saved before the option names none: it was computed with the legacy rule
    quadrature: m.quadrature ?? rules.LEGACY_QUADRATURE,
  };
}

// ------------------------------------------------------------------------------------------- progress

export const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

/** The progress bar's value (0..1) and its line: facts done / total, elapsed, time left. */
export function progressView(p: ExperimentProgress | null): { fraction: number; text: string } {
  if (!p) return { fraction: 0, text: 'starting…' };
  if (p.phase === 'pick') {
    return {
      fraction: p.total ? Math.min(1, (p.picked ?? 0) / p.total) : 0,
      text: `picking facts the model knows: ${p.picked ?? 0} of ${p.total} kept, ${p.probed ?? 0} probed · ${duration(p.elapsedMs)} elapsed`,
    };
  }
  const done = Math.min(p.runDone, p.runTotal);
  const parts = [`${done} / ${p.runTotal} facts`];
  if (p.skipped) parts.push(`${p.skipped} from an earlier session`);
  parts.push(`${duration(p.elapsedMs)} elapsed`);
  parts.push(p.etaMs === null ? 'time left: after the first fact' : `about ${duration(p.etaMs)} left`);
  if (p.fact && done < p.runTotal) parts.push(`now ${p.fact}`);
  return { fraction: p.runTotal ? done / p.runTotal : 0, text: parts.join(' · ') };
}

// ------------------------------------------------------------------------------------------- report blocks

/** A piece of inline text: plain, or code (`…` in the Markdown). */
export interface Inline {
  text: string;
  code?: boolean;
}

export type ReportBlock =
  | { type: 'title'; text: string }
  | { type: 'h2' | 'h3'; text: string }
  | { type: 'p'; parts: Inline[] }
  | { type: 'list'; items: string[] }
  | { type: 'table'; id: string; head: string[]; rows: string[][] }
  | { type: 'chart'; id: string; file: string; alt: string };

const inline = (t: string): Inline[] =>
  t
    .replace(/\*\*/g, '')
    .split('`')
    .map((x, i) => ({ text: x, ...(i % 2 ? { code: true } : {}) }))
    .filter((x) => x.text.length > 0);

const TABLE_IDS: [RegExp, string][] = [
  [/^Selection sizes/, 'selection'],
  [/^Answers that disappear/, 'flip-rate'],
  [/^Table II/, 'table2'],
  [/^Readings/, 'readings'],
];

/**
 * The CLI's report.md as blocks the page renders as text and HTML tables (never as HTML): so the page
 * always shows exactly what `kn experiment report` writes. A table's id is the chart that follows it
 * (fig5-suppress, fig4-layers, own-vs-shared, knockout …) or its section (selection, table2, readings).
 */
export function reportBlocks(md: string): ReportBlock[] {
  const out: ReportBlock[] = [];
  const lines = md.split('\n');
  let heading = '';
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ type: 'p', parts: inline(para.join(' ')) });
    para = [];
  };
  const cells = (l: string) =>
    l
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim());
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.trim()) {
      flush();
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^(#{1,3}) (.*)$/.exec(l))) {
      flush();
      const level = m[1].length;
      heading = m[2];
      out.push({ type: level === 1 ? 'title' : level === 2 ? 'h2' : 'h3', text: m[2].replace(/\*\*|`/g, '') });
      continue;
    }
    if ((m = /^!\[([^\]]*)\]\(([A-Za-z0-9_.-]+\.svg)\)$/.exec(l.trim()))) {
      flush();
      const file = m[2];
      const id = file.replace(/\.svg$/, '');
      // the table right before the chart takes the chart's name
      const prev = out[out.length - 1];
      if (prev?.type === 'table' && prev.id.startsWith('table-at-')) prev.id = id;
      out.push({ type: 'chart', id, file, alt: m[1] });
      continue;
    }
    if (l.startsWith('|')) {
      flush();
      const head = cells(l);
      const rows: string[][] = [];
      i++;
      if (i < lines.length && /^\|(\s*:?-+:?\s*\|)+$/.test(lines[i].trim())) i++;
      for (; i < lines.length && lines[i].startsWith('|'); i++) rows.push(cells(lines[i]));
      i--;
      const named = TABLE_IDS.find(([re]) => re.test(heading));
      const nextChart = lines
        .slice(i + 1)
        .find((x) => x.trim())
        ?.trim()
        .match(/^!\[[^\]]*\]\(([A-Za-z0-9_.-]+)\.svg\)$/);
      out.push({ type: 'table', id: nextChart ? nextChart[1] : named ? named[1] : `table-at-${out.length}`, head, rows });
      continue;
    }
    if (l.startsWith('- ')) {
      flush();
      const prev = out[out.length - 1];
      if (prev?.type === 'list') prev.items.push(l.slice(2));
      else out.push({ type: 'list', items: [l.slice(2)] });
      continue;
    }
    para.push(l.trim());
  }
  flush();
  return out;
}

/** The line that reproduces a run in the CLI: the engine's, the same as `kn experiment report` prints. */
export { reproduceCommand };

// ------------------------------------------------------------------------------------------- report file

export const REPORT_FORMAT = 'kn-experiment-report';
export const REPORT_VERSION = 1;
export const REPORT_PARAM = 'report';
export const REPORT_FILE = 'experiment-report.json';
export const REPORT_OPEN_PAGE = 'experiment-report.html';
const MAX_FILE_CHARS = 16 * 1024 * 1024;

export interface ReportDoc {
  format: typeof REPORT_FORMAT;
  version: number;
  createdWith: string;
  /** the CLI line that reproduces the run (text only) */
  command: string;
  /** facts picked for the run (the report may cover fewer while it runs) */
  total: number;
  summary: Summary;
}

export function exportReport(summary: Summary, command: string, total: number): string {
  const doc: ReportDoc = { format: REPORT_FORMAT, version: REPORT_VERSION, createdWith: CREATED_WITH, command, total, summary };
  return JSON.stringify(doc, null, 1) + '\n';
}

const MAX_LAYERS = 1024;
const READING = /^(language|neuron|scale)\/(layer|global|none)(\/[ab]-?\d+(\.\d+)?)*$/;
const METHOD_KEY = /^(matrice|amig|random|no-uaq|no-ual)(@(language|neuron|scale)\/(layer|global|none)(\/[ab]-?\d+(\.\d+)?)*)?$/;
const LANG_KEY = new RegExp(`^(${rules.LANGS.join('|')})$`);
const WHERE = 'report file';

/** Parses and checks a report file; the Summary is rebuilt from checked values only. */
export function importReport(text: string): ReportDoc {
  if (typeof text !== 'string') fail(WHERE, 'file', 'is not text');
  if (text.length > MAX_FILE_CHARS) fail(WHERE, 'file', `is ${text.length} characters long, at most ${MAX_FILE_CHARS} allowed`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KnError('bad-input', `report file: not valid JSON (${e instanceof Error ? e.message.slice(0, 80) : String(e)})`);
  }
  const doc = parse(reportSchema, raw, WHERE, '', 'file');
  // the Summary's own key order (readings and bestReading last, only when the file has them)
  const { readings, bestReading, ...rest } = doc.summary;
  const summary: Summary = rest;
  if (readings !== undefined) summary.readings = readings;
  if (bestReading !== undefined) summary.bestReading = bestReading;
  return { format: REPORT_FORMAT, version: REPORT_VERSION, createdWith: doc.createdWith, command: doc.command, total: doc.total ?? summary.facts, summary };
}

// the report file's schema (valibot, via share/schema.ts)

/** one line each: these strings go into report.md */
const line = { pattern: /^[^\n\r`]*$/, what: 'one line without backquotes' };
const nn = () => v.nullable(num());
const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const reading = () => str(40, { pattern: READING, what: '<norm>/<attr-norm>' });

/**
 * What the summary's cross-field checks compare against, read from the raw summary: the languages shown
 * (summary.settings.langs in LANGS order), the method keys, the knockout's k count. Each is only used by
 * fields after the one it comes from, which the schema checks first (and stops at when invalid).
 */
function summaryContext(s: unknown) {
  const o = isObject(s) ? s : {};
  const langs = isObject(o.settings) && Array.isArray(o.settings.langs) ? (o.settings.langs as unknown[]) : [];
  return {
    shown: rules.LANGS.filter((l) => langs.includes(l)) as string[],
    methods: isObject(o.methods) ? Object.keys(o.methods) : [],
    kLen: isObject(o.knockout) && Array.isArray(o.knockout.k) ? o.knockout.k.length : 0,
  };
}

function summarySchema({ shown, methods, kLen }: ReturnType<typeof summaryContext>) {
  /** one entry per shown language, in LANGS order */
  const perLang = <const S extends v.GenericSchema>(value: S) =>
    v.pipe(
      keyed(value, (keys) =>
        keys.length !== shown.length || !shown.every((l) => keys.includes(l))
          ? `must have one entry per language of summary.settings.langs (${shown.join(', ')})`
          : undefined,
      ),
      v.transform((o) => Object.fromEntries(shown.map((l) => [l, o[l]])) as Record<string, v.InferOutput<S>>),
    );
  const series = arr(nn(), kLen, kLen);
  const method = obj({
    selectedMedian: num(0),
    selectedMean: num(0),
    empty: int(0, 1e9),
    layers: arr(num(0, 1), MAX_LAYERS, 1),
    coverageMean: v.optional(v.nullable(num(0, rules.LANGS.length)), null),
    languages: perLang(
      obj({
        known: int(0, 1e9),
        flipRate: v.optional(v.nullable(num(0, 1)), null),
        suppress: nn(),
        enhance: nn(),
        suppressCi95: nn(),
        enhanceCi95: nn(),
        facts: int(0, 1e9),
      }),
    ),
    mean: obj({ suppress: nn(), enhance: nn() }),
  });
  return obj({
    experiment: v.literal('manipulate', 'must be "manipulate"'),
    model: str(1024, line),
    facts: int(0, 10_000_000),
    settings: obj({
      alpha1: v.optional(num(), rules.DEFAULT_SETTINGS.alpha1),
      alpha2: v.optional(num(), rules.DEFAULT_SETTINGS.alpha2),
      beta1: v.optional(num(), rules.DEFAULT_SETTINGS.beta1),
      beta2: v.optional(num(), rules.DEFAULT_SETTINGS.beta2),
      tau: num(rules.TAU_MIN, rules.TAU_MAX),
      norm: oneOf(rules.LANG_NORMS),
      attrNorm: oneOf(rules.ATTR_NORMS),
      steps: int(rules.STEPS_MIN, rules.STEPS_MAX),
      baseline: oneOf(rules.BASELINES),
      seed: int(rules.SEED_MIN, rules.SEED_MAX),
      langs: arr(str(8, { pattern: LANG_KEY, what: `one of ${rules.LANGS.join(', ')}` }), rules.LANGS.length, 1),
      // reports written before the field was added hold none
      quadrature: v.optional(oneOf(rules.QUADRATURES)),
    }),
    methods: v.pipe(
      keyed(method, (keys) => {
        if (!keys.length || keys.length > 64) return 'must hold 1..64 methods';
        const k = keys.find((x) => !METHOD_KEY.test(x));
        return k === undefined
          ? undefined
          : { key: k.slice(0, 40), problem: 'is not a method (matrice, amig, random, no-uaq, no-ual, optionally @<norm>/<attr-norm>)' };
      }),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const all = Object.entries(dataset.value);
        const n = all[0][1].layers.length;
        const odd = all.find(([, m]) => m.layers.length !== n);
        if (odd) {
          const [k, m] = odd;
          addIssue({
            message: `has ${m.layers.length} layers, the other methods ${n}`,
            path: [
              { type: 'object', origin: 'value', input: dataset.value, key: k.slice(0, 40), value: m },
              { type: 'object', origin: 'value', input: m, key: 'layers', value: m.layers },
            ],
          });
        }
      }),
    ),
    perLanguageSets: perLang(
      obj({ selectedMedian: num(0), suppress: nn(), suppressCi95: nn(), flipRate: v.optional(v.nullable(num(0, 1)), null), sharedWithMatrice: nn() }),
    ),
    tableII: keyed(obj({ suppress: nn(), enhance: nn(), average: nn() }), (keys) => {
      const k = keys.find((x) => !methods.includes(x));
      return k === undefined ? undefined : { key: k.slice(0, 40), problem: 'is not one of summary.methods' };
    }),
    knockout: obj({ k: arr(int(1, 1e9), 64), top: series, random: series, topByLanguage: perLang(series) }),
    readings: v.optional(
      arr(
        obj({ reading: reading(), selectedMedian: num(0), selectedShare: num(0, 1), empty: int(0, 1e9), suppress: nn(), enhance: nn(), randomSuppress: nn() }),
        64,
      ),
    ),
    bestReading: v.optional(v.nullable(reading())),
    completenessMedian: v.optional(nn(), null),
    timing: obj({ facts: int(0, 1e9), msPerFactMedian: v.optional(nn(), null), msPerFactMean: v.optional(nn(), null) }),
    problems: v.optional(arr(str(2000, { pattern: /^[^\n\r]*$/, what: 'one line' }), 1000), () => []),
  });
}

const reportSchema = obj({
  format: v.literal(REPORT_FORMAT, (i) => `must be "${REPORT_FORMAT}", got ${typeof i.input === 'string' ? `"${i.input.slice(0, 40)}"` : typeof i.input}`),
  version: int(1, REPORT_VERSION),
  createdWith: v.optional(str(200), ''),
  command: v.optional(str(4000, line), ''),
  total: v.optional(int(0, 10_000_000)),
  summary: v.lazy((s) => summarySchema(summaryContext(s))),
});

/** Every download of a report: report.md, the CSVs, the SVGs and the report file (JSON). */
export function reportDownloads(doc: ReportDoc): Record<string, string> {
  return { ...reportFiles(doc.summary, doc.command || undefined), [REPORT_FILE]: exportReport(doc.summary, doc.command, doc.total) };
}

/** The `report` parameter of a query string: null, or a checked relative same-origin .json path. */
export function reportParam(search: string): string | null {
  const v = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search).get(REPORT_PARAM);
  if (v === null) return null;
  try {
    return staticParam(`static=${encodeURIComponent(v)}`);
  } catch (e) {
    throw new KnError(
      'bad-input',
      (e instanceof Error ? e.message : String(e)).replace('static exploration: the "static" parameter', `experiment report: the "${REPORT_PARAM}" parameter`),
    );
  }
}

/** The files a static host needs beside the built app (dist/) to show the report read-only. */
export function buildStaticReport(doc: ReportDoc): { files: { path: string; content: string }[]; url: string } {
  const url = `./?${REPORT_PARAM}=${encodeURIComponent(REPORT_FILE)}&autoload=0`;
  const s = doc.summary;
  const readme = [
    'Knowledge Neuron Explorer - a static, read-only experiment report',
    '',
    `Model: ${s.model.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200)}; ${s.facts} facts; languages ${s.settings.langs.join(', ')}; methods ${Object.keys(s.methods).join(', ')}`,
    '',
    ...hostingSteps(REPORT_FILE, REPORT_OPEN_PAGE, `?${REPORT_PARAM}=${REPORT_FILE}&autoload=0`),
    '',
    'The page shows the tables and charts of the report read-only: no model is downloaded and nothing is',
    `computed. The same report opens in any explorer with "Open report file" in the Experiments view.`,
    '',
  ].join('\n');
  const open = redirectPage('Knowledge Neuron Explorer - experiment report', url, 'Open the experiment report');
  return {
    files: [
      { path: REPORT_FILE, content: exportReport(doc.summary, doc.command, doc.total) },
      { path: REPORT_OPEN_PAGE, content: open },
      { path: 'README.txt', content: readme },
    ],
    url,
  };
}

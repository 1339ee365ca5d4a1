/**
 * Edit and enhancement rows turned into the paper's views (pure): Table III (erase) and Table IV
 * (update) as reliability / generality / locality per method and language, and Fig. 6 (accuracy on
 * Q_error after doubling the neurons, per relation and language). Shares are pooled over the facts'
 * queries (micro averages), always with their counts:
 *
 * - reliability: the edited query (each language's first template) among those the model knew before:
 *   erase → the old object is no longer top-1; update → the new object is top-1;
 * - generality: the same on the paraphrases (the other templates);
 * - locality: queries of other facts whose top-1 prediction did not change.
 */
import type { Lang } from '../../data/types';
import type { EditMeta, EditOpResult, EditRow, EnhanceRow, InjectRow, RowTiming } from '../experiments/edit';
import { factTiming, median, methodLabel as baseLabel, reportHead, type ReportFiles } from './report';
import { barChart } from './svg';
import { BEFORE_COLOR, methodColors } from '../selection/methods';
import { MIN_KNOWN_LANGS } from '../rules';

const LANG_ORDER = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];
const sortLangs = (ls: readonly string[]) => [...ls].sort((a, b) => LANG_ORDER.indexOf(a) - LANG_ORDER.indexOf(b));
const EXTRA: Record<string, string> = { layer: 'All neurons of the layer', direct: 'Direct (all FFN weights)' };
export const editMethodLabel = (k: string) => EXTRA[k] ?? baseLabel(k);

export interface EditCell {
  reliability: number | null;
  generality: number | null;
  locality: number | null;
  /** counts behind the shares: known edited queries, known paraphrases, unrelated queries */
  n: { edited: number; paraphrase: number; unrelated: number };
}

export interface EditMethodSummary {
  languages: Record<string, EditCell>;
  /** mean over languages of the per-language shares */
  mean: { reliability: number | null; generality: number | null; locality: number | null };
}

/** A run's settings as every report states them (runSettings). */
type RunSettings = EditMeta['settings'] & { steps: number; baseline: string; seed: number; langs: string[] };

export interface EditSummary {
  experiment: 'edit';
  model: string;
  facts: number;
  settings: RunSettings & {
    editLang: string;
    lambda1: number;
    lambda2: number;
    unrelatedFacts: number;
  };
  /** Table III */
  erase: Record<string, EditMethodSummary>;
  /** Table IV */
  update: Record<string, EditMethodSummary>;
  /** before any edit: share of the known queries whose top-1 is already the new object (should be 0) */
  updateBaseline: Record<string, number | null>;
  sizes: Record<string, { median: number | null; mean: number | null; skipped: number }>;
  /** int8: what re-quantizing MaTrice's updated slices in place would have cost (the engine keeps them in float32) */
  requantization: { maxAbs: number; maxRel: number; clippedShare: number } | null;
  timing: {
    facts: number;
    msPerFactMedian: number | null;
    /** MaTrice update from English: apply + probe the fact's queries in every language + undo (the live view's cost) */
    liveMsMedian: number | null;
    editMsMedian: number | null;
    factEvalMsMedian: number | null;
    undoMsMedian: number | null;
    unrelatedEvalMsMedian: number | null;
    /** fact queries probed per edit (all languages), median */
    factQueriesMedian: number | null;
  };
  problems: string[];
}

export interface EnhanceCell {
  /** accuracy on Q_error before (0 by definition) and after doubling the neurons */
  before: number;
  after: number | null;
  /** |Q_error| */
  qError: number;
  /** the queries the model knew: share still right after doubling */
  knownKept: number | null;
}

export interface EnhanceSummary {
  experiment: 'enhance';
  model: string;
  facts: number;
  settings: RunSettings & { enhanceLangs: string[]; factor: number };
  methods: Record<
    string,
    {
      languages: Record<string, EnhanceCell>;
      relations: Record<string, Record<string, EnhanceCell>>;
      mean: { before: number; after: number | null };
      sizes: { median: number | null; empty: number };
    }
  >;
  timing: { facts: number; msPerFactMedian: number | null };
  problems: string[];
}

export interface InjectCell {
  /** accuracy (top-1) on the new fact's queries in this language (Q_new), and on the known facts' queries (Q_old) */
  new: number | null;
  old: number | null;
  n: { new: number; old: number };
}

export interface InjectSummary {
  experiment: 'inject';
  model: string;
  facts: number;
  settings: RunSettings & {
    trainLang: string;
    trainSteps: number;
    lr: number;
    oldFacts: number;
    k: number;
  };
  /** before any training */
  before: { languages: Record<string, InjectCell>; mean: { new: number | null; old: number | null; average: number | null } };
  methods: Record<
    string,
    {
      languages: Record<string, InjectCell>;
      mean: { new: number | null; old: number | null; average: number | null };
      sizeMedian: number | null;
      stepsMedian: number | null;
      trainMsMedian: number | null;
      converged: number;
      stopped: number;
      skipped: number;
    }
  >;
  timing: { facts: number; msPerFactMedian: number | null };
  problems: string[];
}

export type AnySummary = EditSummary | EnhanceSummary | InjectSummary;

const share = (a: number, n: number) => (n ? a / n : null);
const meanOf = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/** Reliability, generality and locality of one language, pooled over rows (a fact's queries and one edit's result each). */
export function editCell<R extends Pick<EditRow, 'queries'>>(
  rows: readonly R[],
  get: (r: R) => Pick<EditOpResult, 'oldTop' | 'newTop' | 'locality'> | null,
  lang: string,
  update: boolean,
): EditCell {
  // hits and counts: the edited query (reliability), its paraphrases (generality), other facts' queries (locality)
  const rel = { hit: 0, n: 0 },
    gen = { hit: 0, n: 0 },
    loc = { hit: 0, n: 0 };
  for (const r of rows) {
    const op = get(r);
    if (!op) continue;
    r.queries.forEach((q, i) => {
      if (q.lang !== lang || !q.known) return;
      if (update && q.newId === null) return;
      const tally = q.role === 'edited' ? rel : gen;
      tally.n++;
      if (update ? op.newTop![i] === 1 : op.oldTop[i] === 0) tally.hit++;
    });
    const l = op.locality[lang as Lang];
    if (l) {
      loc.hit += l[0];
      loc.n += l[1];
    }
  }
  const n = { edited: rel.n, paraphrase: gen.n, unrelated: loc.n };
  return { reliability: share(rel.hit, rel.n), generality: share(gen.hit, gen.n), locality: share(loc.hit, loc.n), n };
}

export function summarizeEdit(meta: EditMeta, rows: EditRow[], timings: RowTiming[] = [], problems: string[] = []): EditSummary {
  const langs = sortLangs(meta.langs);
  const erase: Record<string, EditMethodSummary> = {},
    update: Record<string, EditMethodSummary> = {};
  const sizes: EditSummary['sizes'] = {};
  for (const key of meta.methods) {
    for (const [op, out] of [
      ['erase', erase],
      ['update', update],
    ] as const) {
      const languages: Record<string, EditCell> = {};
      for (const l of langs) languages[l] = editCell(rows, (r) => r.methods[key]?.[op] ?? null, l, op === 'update');
      out[key] = {
        languages,
        mean: {
          reliability: meanOf(langs.map((l) => languages[l].reliability)),
          generality: meanOf(langs.map((l) => languages[l].generality)),
          locality: meanOf(langs.map((l) => languages[l].locality)),
        },
      };
    }
    const sz = rows.filter((r) => !r.methods[key]?.skipped).map((r) => r.methods[key].size);
    sizes[key] = { median: median(sz), mean: meanOf(sz), skipped: rows.length - sz.length };
  }
  const updateBaseline: Record<string, number | null> = {};
  // the old object is top-1 on known queries, so the new one is not: recorded to make the table's zero point explicit
  for (const l of langs) updateBaseline[l] = rows.some((r) => r.queries.some((q) => q.lang === l && q.known)) ? 0 : null;
  const req = rows.map((r) => r.requantization).filter((x): x is NonNullable<typeof x> => !!x);
  const live = rows.map((r) => r.methods.matrice?.update?.ms).filter((x): x is EditOpResult['ms'] => !!x);
  const E = meta.edit!;
  return {
    ...reportHead('edit' as const, meta, rows.length, { editLang: E.lang, lambda1: E.lambda1, lambda2: E.lambda2, unrelatedFacts: E.unrelatedFacts }),
    erase,
    update,
    updateBaseline,
    sizes,
    requantization: req.length
      ? {
          maxAbs: Math.max(...req.map((x) => x.maxAbs)),
          maxRel: Math.max(...req.map((x) => x.maxRel)),
          clippedShare:
            req.reduce((a, x) => a + x.clipped, 0) /
            Math.max(
              1,
              req.reduce((a, x) => a + x.values, 0),
            ),
        }
      : null,
    timing: {
      ...factTiming(timings),
      liveMsMedian: median(live.map((m) => m.edit + m.fact + m.undo)),
      editMsMedian: median(live.map((m) => m.edit)),
      factEvalMsMedian: median(live.map((m) => m.fact)),
      undoMsMedian: median(live.map((m) => m.undo)),
      unrelatedEvalMsMedian: median(live.map((m) => m.unrelated)),
      factQueriesMedian: median(rows.map((r) => r.queries.length)),
    },
    problems,
  };
}

function enhanceCell(rows: EnhanceRow[], key: string, lang: string, relation?: string): EnhanceCell {
  let err = 0,
    fixed = 0,
    known = 0,
    kept = 0;
  for (const r of rows) {
    if (relation && r.relation !== relation) continue;
    const m = r.methods[key];
    if (!m) continue;
    r.queries.forEach((q, i) => {
      if (q.lang !== lang) return;
      if (q.known) known++, (kept += m.correct[i]);
      else err++, (fixed += m.correct[i]);
    });
  }
  return { before: 0, after: share(fixed, err), qError: err, knownKept: share(kept, known) };
}

export function summarizeEnhance(meta: EditMeta, rows: EnhanceRow[], timings: RowTiming[] = [], problems: string[] = []): EnhanceSummary {
  const langs = sortLangs(meta.enhance!.langs);
  const relations = [...new Set(rows.map((r) => r.relation))].sort();
  const methods: EnhanceSummary['methods'] = {};
  for (const key of meta.methods) {
    const languages: Record<string, EnhanceCell> = {};
    for (const l of langs) languages[l] = enhanceCell(rows, key, l);
    const rel: Record<string, Record<string, EnhanceCell>> = {};
    for (const r of relations) {
      rel[r] = {};
      for (const l of langs) rel[r][l] = enhanceCell(rows, key, l, r);
    }
    const sz = rows.map((r) => r.methods[key]?.neurons.length ?? 0);
    methods[key] = {
      languages,
      relations: rel,
      mean: { before: 0, after: meanOf(langs.map((l) => languages[l].after)) },
      sizes: { median: median(sz), empty: sz.filter((x) => x === 0).length },
    };
  }
  return {
    ...reportHead('enhance' as const, meta, rows.length, { enhanceLangs: meta.enhance!.langs, factor: meta.enhance!.factor }),
    methods,
    timing: factTiming(timings),
    problems,
  };
}

function injectCell(
  rows: InjectRow[],
  lang: string,
  newOf: (r: InjectRow) => number[] | null,
  oldOf: (r: InjectRow) => Partial<Record<string, [number, number]>> | null,
): InjectCell {
  let nr = 0,
    nn = 0,
    or = 0,
    on = 0;
  for (const r of rows) {
    const c = newOf(r);
    if (c) r.queries.forEach((q, i) => q.lang === lang && (nn++, (nr += c[i])));
    const o = oldOf(r)?.[lang];
    if (o) (or += o[0]), (on += o[1]);
  }
  return { new: share(nr, nn), old: share(or, on), n: { new: nn, old: on } };
}

export function summarizeInject(meta: EditMeta, rows: InjectRow[], timings: RowTiming[] = [], problems: string[] = []): InjectSummary {
  const langs = sortLangs(meta.langs);
  const mean = (cells: Record<string, InjectCell>) => {
    const n = meanOf(langs.map((l) => cells[l].new)),
      o = meanOf(langs.map((l) => cells[l].old));
    return { new: n, old: o, average: meanOf([n, o]) };
  };
  const beforeCells: Record<string, InjectCell> = {};
  for (const l of langs)
    beforeCells[l] = injectCell(
      rows,
      l,
      (r) => r.queries.map((q) => q.correctBefore),
      (r) => r.oldBefore,
    );
  const methods: InjectSummary['methods'] = {};
  for (const key of meta.methods) {
    const cells: Record<string, InjectCell> = {};
    const ran = rows.filter((r) => r.methods[key] && !r.methods[key].skipped);
    for (const l of langs)
      cells[l] = injectCell(
        rows,
        l,
        (r) => r.methods[key]?.newCorrect ?? null,
        (r) => r.methods[key]?.old ?? null,
      );
    methods[key] = {
      languages: cells,
      mean: mean(cells),
      sizeMedian: median(ran.map((r) => r.methods[key].size)),
      stepsMedian: median(ran.map((r) => r.methods[key].steps)),
      trainMsMedian: median(ran.map((r) => r.methods[key].ms)),
      converged: ran.filter((r) => r.methods[key].converged).length,
      stopped: ran.filter((r) => r.methods[key].stopped).length,
      skipped: rows.length - ran.length,
    };
  }
  const J = meta.inject!;
  return {
    ...reportHead('inject' as const, meta, rows.length, { trainLang: J.lang, trainSteps: J.steps, lr: J.lr, oldFacts: J.oldFacts.length, k: J.k }),
    before: { languages: beforeCells, mean: mean(beforeCells) },
    methods,
    timing: factTiming(timings),
    problems,
  };
}

export function injectReportFiles(s: InjectSummary, command?: string): ReportFiles {
  const keys = Object.keys(s.methods);
  const colors = methodColors(keys); // one colour per method in every figure
  const langs = Object.keys(s.before.languages);
  const F = s.settings;
  const files: ReportFiles = {};
  const row = (label: string, c: { languages: Record<string, InjectCell>; mean: { new: number | null; old: number | null; average: number | null } }) => [
    label,
    ...langs.flatMap((l) => [pct(c.languages[l].new), pct(c.languages[l].old)]),
    pct(c.mean.new),
    pct(c.mean.old),
    pct(c.mean.average),
  ];
  const md: string[] = [
    `# Knowledge injection (Table V): ${s.model}`,
    '',
    command ? `Reproduce: \`${command}\`\n` : '',
    `${s.facts} facts the model does not know (no language known, no ${F.trainLang} query answered). Per fact and method, only the chosen parameters are trained (Adam, lr ${F.lr}, at most ${F.trainSteps} steps, ` +
      `stopping once every training query is answered) on the fact's **${F.trainLang}** queries only, then the fact's queries in every language are asked (Q_new: accuracy in ${F.trainLang} is the training fit, elsewhere it is transfer) ` +
      `together with the queries of ${F.oldFacts} known facts (Q_old), and the training is undone. Neurons: localized with all languages on the unknown fact (τ = ${F.tau}, Eq. 9 \`${F.norm}\`, M = ${F.steps}). ` +
      `Direct = every FFN weight of every layer; the others train each chosen neuron's input weights and its write vector: MaTrice its ${F.k} neurons with the largest S ≠ 0 ` +
      `among those that fire (activation ≠ 0) on at least half of the ${F.trainLang} training queries (a fact the model does not know has S ≤ 0 everywhere, so the thresholded selection is empty; a neuron that is off on the training queries gets no gradient), Random ${F.k} random neurons, AMIG its own selection.`,
    '',
    '## Table V: accuracy on Q_new and Q_old per language',
    '',
    table(
      ['method', ...langs.flatMap((l) => [`${l} new`, `${l} old`]), 'new', 'old', 'mean'],
      [row('before', s.before), ...keys.map((k) => row(editMethodLabel(k), s.methods[k]))],
    ),
    '',
    '![Table V](table5.svg)',
    '',
    '## Training',
    '',
    table(
      ['method', 'parameters: neurons (median)', 'steps (median)', 'time (median)', 'converged', 'stopped', 'skipped (empty selection)'],
      keys.map((k) => {
        const m = s.methods[k];
        return [
          editMethodLabel(k),
          String(m.sizeMedian ?? '—'),
          String(m.stepsMedian ?? '—'),
          m.trainMsMedian === null ? '—' : `${(m.trainMsMedian / 1000).toFixed(2)} s`,
          String(m.converged),
          String(m.stopped),
          String(m.skipped),
        ];
      }),
    ),
    '',
    `Wall time per fact (localization and every method): median ${s.timing.msPerFactMedian === null ? '—' : (s.timing.msPerFactMedian / 1000).toFixed(1) + ' s'} over ${s.timing.facts} facts.`,
  ];
  if (s.problems.length) md.push('', '### Problems', '', ...s.problems.map((p) => `- ${p}`));
  files['report.md'] = md.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
  files['table5.csv'] = csv(
    ['method', 'language', 'new', 'old', 'new_queries', 'old_queries'],
    [['before', s.before] as const, ...keys.map((k) => [k, s.methods[k]] as const)].flatMap(([k, c]) =>
      langs.map((l) => [k, l, c.languages[l].new, c.languages[l].old, c.languages[l].n.new, c.languages[l].n.old]),
    ),
  );
  files['table5.svg'] = barChart({
    title: `Injection from ${F.trainLang}: accuracy on the new fact (Q_new) per language`,
    groups: langs,
    series: [
      { name: 'before', values: langs.map((l) => s.before.languages[l].new), color: BEFORE_COLOR },
      ...keys.map((k) => ({ name: editMethodLabel(k), values: langs.map((l) => s.methods[k].languages[l].new), color: colors[k] })),
    ],
    percent: true,
  });
  return files;
}

// ------------------------------------------------------------------------------------ text and files

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
function csv(head: string[], rows: (string | number | null)[][]): string {
  const c = (v: string | number | null) => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [head, ...rows].map((r) => r.map(c).join(',')).join('\n') + '\n';
}
const METRICS = ['reliability', 'generality', 'locality'] as const;

export function editReportFiles(s: EditSummary, command?: string): ReportFiles {
  const langs = Object.keys(Object.values(s.erase)[0]?.languages ?? {});
  const keys = Object.keys(s.erase);
  const colors = methodColors(keys); // one colour per method in every figure
  const F = s.settings;
  const files: ReportFiles = {};
  const md: string[] = [
    `# Editing experiment: ${s.model}`,
    '',
    command ? `Reproduce: \`${command}\`\n` : '',
    `${s.facts} facts the model knows (in English and in ≥ ${MIN_KNOWN_LANGS} languages). Neurons localized with all of ${F.langs.join(', ')} ` +
      `(τ = ${F.tau}, Eq. 9 \`${F.norm}\`, Eq. 5 \`${F.attrNorm}\`, M = ${F.steps}, seed ${F.seed}); every edit made from English only ` +
      `(update: w − ${F.lambda1}·E(o) + ${F.lambda2}·E(o′), the English objects' first tokens), then evaluated in every language and undone. ` +
      `Reliability: the edited query (each language's first template) among those known before; generality: its paraphrases (the other templates); ` +
      `locality: queries of ${F.unrelatedFacts} other facts per fact whose top-1 did not change. Erase succeeds when the old object is no longer top-1, update when the new object is top-1. ` +
      `Shares pooled over queries; counts in the CSV. "All neurons of the layer": every neuron of the layer holding most of MaTrice's neurons.`,
    '',
  ];
  for (const [op, title, tab] of [
    ['erase', 'Table III: erasure', 'table3'],
    ['update', 'Table IV: update', 'table4'],
  ] as const) {
    md.push(`## ${title}`, '');
    for (const m of METRICS) {
      md.push(`### ${m}`, '');
      md.push(
        table(
          ['method', ...langs, 'mean'],
          keys.map((k) => [editMethodLabel(k), ...langs.map((l) => pct(s[op][k].languages[l][m])), pct(s[op][k].mean[m])]),
        ),
      );
      md.push('', `![${op} ${m}](${tab}-${m}.svg)`, '');
      files[`${tab}-${m}.svg`] = barChart({
        title: `${title}: ${m} per language (edit made from English)`,
        groups: langs,
        series: keys.map((k) => ({ name: editMethodLabel(k), values: langs.map((l) => s[op][k].languages[l][m]), color: colors[k] })),
        percent: true,
      });
    }
    files[`${tab}.csv`] = csv(
      ['method', 'language', 'reliability', 'generality', 'locality', 'edited_known', 'paraphrases_known', 'unrelated'],
      keys.flatMap((k) =>
        langs.map((l) => {
          const c = s[op][k].languages[l];
          return [k, l, c.reliability, c.generality, c.locality, c.n.edited, c.n.paraphrase, c.n.unrelated];
        }),
      ),
    );
  }
  md.push(
    'Queries behind each share (MaTrice row, erase): ' +
      langs
        .map((l) => {
          const n = s.erase[keys[0]]?.languages[l].n;
          return `${l} ${n?.edited ?? 0} edited / ${n?.paraphrase ?? 0} paraphrases / ${n?.unrelated ?? 0} unrelated`;
        })
        .join('; '),
    '',
  );
  md.push('## Neurons edited', '');
  md.push(
    table(
      ['method', 'median', 'mean', 'facts skipped (empty selection)'],
      keys.map((k) => [
        editMethodLabel(k),
        String(s.sizes[k].median ?? '—'),
        s.sizes[k].mean === null ? '—' : s.sizes[k].mean!.toFixed(1),
        String(s.sizes[k].skipped),
      ]),
    ),
  );
  md.push('');
  if (s.requantization) {
    md.push(
      '## int8',
      '',
      `The model is held in int8. Edited write vectors are kept in float32 beside the untouched int8 bytes (undo drops them: the bytes are the loaded ones). ` +
        `Re-quantizing MaTrice's updated slices with the existing per-channel scales instead would have clipped ${(s.requantization.clippedShare * 100).toFixed(1)} % of their values ` +
        `(max abs error ${s.requantization.maxAbs.toPrecision(3)}, ${(s.requantization.maxRel * 100).toFixed(1)} % of the largest value).`,
      '',
    );
  }
  const t = s.timing;
  const sec = (x: number | null) => (x === null ? '—' : x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`);
  md.push('## Run', '');
  md.push(
    `A MaTrice update from English with its evaluation in every language (apply + probe the fact's ${t.factQueriesMedian ?? '—'} queries + undo), median: ${sec(t.liveMsMedian)} ` +
      `(apply ${sec(t.editMsMedian)}, probe ${sec(t.factEvalMsMedian)}, undo ${sec(t.undoMsMedian)}); the unrelated queries ${sec(t.unrelatedEvalMsMedian)}. ` +
      `Wall time per fact (localization included): median ${sec(t.msPerFactMedian)} over ${t.facts} facts.`,
  );
  if (s.problems.length) md.push('', '### Problems', '', ...s.problems.map((p) => `- ${p}`));
  files['report.md'] = md.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
  return files;
}

export function enhanceReportFiles(s: EnhanceSummary, command?: string): ReportFiles {
  const keys = Object.keys(s.methods);
  const colors = methodColors(keys); // one colour per method in every figure
  const langs = Object.keys(s.methods[keys[0]]?.languages ?? {});
  const relations = Object.keys(s.methods[keys[0]]?.relations ?? {});
  const F = s.settings;
  const files: ReportFiles = {};
  const md: string[] = [
    `# Enhancement in low-resource languages (Fig. 6): ${s.model}`,
    '',
    command ? `Reproduce: \`${command}\`\n` : '',
    `${s.facts} facts known in ≥ ${MIN_KNOWN_LANGS} languages with at least one wrong query in ${F.enhanceLangs.join(', ')}. Q_error = those wrong queries (accuracy 0 before, by definition). ` +
      `Each method's neurons (localized with all of ${F.langs.join(', ')}; τ = ${F.tau}, Eq. 9 \`${F.norm}\`, M = ${F.steps}, seed ${F.seed}) are multiplied by ${F.factor} at the target position; ` +
      `the tables give the accuracy on Q_error after (top-1), pooled over queries, and the share of the queries the model knew that stay right.`,
    '',
    '## Accuracy on Q_error after enhancing, per language',
    '',
    table(
      ['method', ...langs.map((l) => `${l} (n = ${s.methods[keys[0]].languages[l].qError})`), 'mean'],
      keys.map((k) => [editMethodLabel(k), ...langs.map((l) => pct(s.methods[k].languages[l].after)), pct(s.methods[k].mean.after)]),
    ),
    '',
    '![Fig. 6](fig6.svg)',
    '',
    '## Per relation (accuracy gained on Q_error)',
    '',
  ];
  for (const k of keys) {
    md.push(`### ${editMethodLabel(k)}`, '');
    md.push(
      table(
        ['relation', ...langs],
        relations.map((r) => [
          r,
          ...langs.map((l) => {
            const c = s.methods[k].relations[r][l];
            return c.qError ? `${pct(c.after)} (${c.qError})` : '—';
          }),
        ]),
      ),
    );
    md.push('');
  }
  md.push('![Fig. 6 per relation](fig6-relations.svg)', '');
  md.push('## Known queries kept right after enhancing', '');
  md.push(
    table(
      ['method', ...langs],
      keys.map((k) => [editMethodLabel(k), ...langs.map((l) => pct(s.methods[k].languages[l].knownKept))]),
    ),
  );
  md.push(
    '',
    `Selection sizes (median): ${keys.map((k) => `${editMethodLabel(k)} ${s.methods[k].sizes.median ?? '—'} (${s.methods[k].sizes.empty} empty)`).join(', ')}. `,
  );
  md.push(
    `Wall time per fact: median ${s.timing.msPerFactMedian === null ? '—' : (s.timing.msPerFactMedian / 1000).toFixed(2) + ' s'} over ${s.timing.facts} facts.`,
  );
  if (s.problems.length) md.push('', '### Problems', '', ...s.problems.map((p) => `- ${p}`));
  files['report.md'] = md.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
  files['fig6.csv'] = csv(
    ['method', 'relation', 'language', 'q_error', 'before', 'after', 'known_kept'],
    keys.flatMap((k) => [
      ...langs.map((l) => {
        const c = s.methods[k].languages[l];
        return [k, 'all', l, c.qError, c.before, c.after, c.knownKept];
      }),
      ...relations.flatMap((r) =>
        langs.map((l) => {
          const c = s.methods[k].relations[r][l];
          return [k, r, l, c.qError, c.before, c.after, c.knownKept];
        }),
      ),
    ]),
  );
  files['fig6.svg'] = barChart({
    title: `Accuracy gained on Q_error by doubling the neurons, per language (${s.facts} facts)`,
    groups: langs,
    series: keys.map((k) => ({ name: editMethodLabel(k), values: langs.map((l) => s.methods[k].languages[l].after), color: colors[k] })),
    percent: true,
  });
  files['fig6-relations.svg'] = barChart({
    title: 'Accuracy gained on Q_error per relation (languages pooled)',
    groups: relations,
    series: keys.map((k) => ({
      name: editMethodLabel(k),
      color: colors[k],
      values: relations.map((r) => {
        const cs = langs.map((l) => s.methods[k].relations[r][l]);
        const n = cs.reduce((a, c) => a + c.qError, 0);
        return n ? cs.reduce((a, c) => a + (c.after ?? 0) * c.qError, 0) / n : null;
      }),
    })),
    percent: true,
  });
  return files;
}

/** The summary and report files of an edit or enhancement run (what `kn experiment report` writes). */
export function reportFor(
  meta: EditMeta,
  rows: (EditRow | EnhanceRow | InjectRow)[],
  timings: RowTiming[] = [],
  problems: string[] = [],
  command?: string,
): { summary: AnySummary; files: ReportFiles } {
  if (meta.experiment === 'edit') {
    const summary = summarizeEdit(meta, rows as EditRow[], timings, problems);
    return { summary, files: editReportFiles(summary, command) };
  }
  if (meta.experiment === 'inject') {
    const summary = summarizeInject(meta, rows as InjectRow[], timings, problems);
    return { summary, files: injectReportFiles(summary, command) };
  }
  const summary = summarizeEnhance(meta, rows as EnhanceRow[], timings, problems);
  return { summary, files: enhanceReportFiles(summary, command) };
}

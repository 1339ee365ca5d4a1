/**
 * The LAPE switch-off experiment (docs/ATLAS.md, Tang et al. 2024 §4): each language's LAPE-specific neurons
 * (engine/atlas lapeSets, over all tokens of the run's facts' queries) set to 0, and P(correct) measured over the
 * facts' queries in every language; beside each set, Random neurons of the same size (seeded, the same for every
 * fact). The expected picture: the switched-off language drops, the others barely move. On the runner core: one row
 * per fact, resumable and shardable; the report is a ΔP table (switched-off language × measured language) and a chart.
 */
import type { Lang, Relation } from '../../data/types';
import type { NeuronRef } from '../../shared/atlas';
import { SUPPRESS_FACTOR } from '../rules';
import { barChart } from '../report/svg';
import { perLanguage, randomNeurons } from '../selection/scoring';
import { FactSession } from '../session/session';
import type { LapeRates } from '../atlas/lape';
import { metaDifference, p6, rowHeadProblem, runPlugin, type ExperimentPlugin, type FactContext, type ModelRef, type RowSink, type RunProgress } from './core';

export const LAPE_ROW_VERSION = 1;

export interface LapeMeta {
  v: number;
  experiment: 'lape';
  model: ModelRef;
  langs: Lang[];
  seed: number;
  rates: LapeRates;
  /** each language's LAPE set (computed over the facts' queries) and its Random set of the same size */
  sets: Record<string, NeuronRef[]>;
  random: Record<string, NeuronRef[]>;
  facts: string[];
  shard: { k: number; n: number } | null;
}

export interface LapeRow {
  v: number;
  fact: string;
  index: number;
  relation: Relation;
  queries: { lang: Lang; template: string; before: number; known: boolean }[];
  /** per switched-off language: P(correct) after its LAPE set and after its Random set are set to 0, aligned with queries */
  off: Record<string, { lape: number[]; random: number[] }>;
}

/** Random sets of the LAPE sets' sizes, one per language, seeded `${seed}:lape-random:${lang}`. */
export function randomLike(sets: Record<string, NeuronRef[]>, numLayers: number, ffn: number, seed: number): Record<string, NeuronRef[]> {
  const out: Record<string, NeuronRef[]> = {};
  for (const [lang, ns] of Object.entries(sets))
    out[lang] = randomNeurons(ns.length, numLayers, ffn, `${seed}:lape-random:${lang}`).map((n) => [n[0], n[1]] as NeuronRef);
  return out;
}

export async function runLapeFact(o: FactContext<LapeMeta>, fact: string, index: number): Promise<LapeRow> {
  const s = await FactSession.open(o.model, o.bench, fact, o.meta.langs, { topK: 1 });
  const langs = Object.keys(o.meta.sets);
  const jobs = langs.flatMap((l) => [
    { neurons: o.meta.sets[l] as [number, number][], factor: SUPPRESS_FACTOR },
    { neurons: o.meta.random[l] as [number, number][], factor: SUPPRESS_FACTOR },
  ]);
  const res = await s.manipulateMany(jobs, 1);
  const off: LapeRow['off'] = {};
  langs.forEach((l, k) => {
    off[l] = { lape: res[2 * k].rows.map((r) => p6(r.after)), random: res[2 * k + 1].rows.map((r) => p6(r.after)) };
  });
  return {
    v: LAPE_ROW_VERSION,
    fact,
    index,
    relation: s.relation,
    queries: s.queries.map((q) => ({ lang: q.lang, template: q.templateId, before: p6(q.before), known: q.known })),
    off,
  };
}

export function lapeRowProblem(r: unknown, meta: LapeMeta): string | null {
  const head = rowHeadProblem(r, LAPE_ROW_VERSION, meta);
  if (head) return head;
  const o = r as Partial<LapeRow>;
  if (!Array.isArray(o.queries) || !o.off) return 'missing queries or off';
  for (const l of Object.keys(meta.sets)) {
    const x = o.off[l];
    if (!x || !Array.isArray(x.lape) || !Array.isArray(x.random) || x.lape.length !== o.queries.length || x.random.length !== o.queries.length)
      return `switch-off of ${l} missing or misaligned`;
  }
  return null;
}

export const LAPE_EXPERIMENT: ExperimentPlugin<LapeMeta, LapeRow> = {
  experiments: ['lape'],
  phase: true,
  start: (o) => (fact, index) => runLapeFact(o, fact, index),
  rowProblem: lapeRowProblem,
  mismatch: (a, b, ignoreShard) =>
    metaDifference(
      a,
      b,
      ['v', 'experiment', 'model', 'langs', 'seed', 'rates', 'sets', 'random', 'facts', ...(ignoreShard ? [] : (['shard'] as const))],
      ['model'],
    ),
};

export const runLapeExperiment = (o: FactContext<LapeMeta> & { sink: RowSink<LapeRow>; onProgress?: (p: RunProgress) => void }) =>
  runPlugin(LAPE_EXPERIMENT, o);

export interface LapeReport {
  /** switched-off language → measured language → mean ΔP over the known queries (NaN: none known), LAPE and Random */
  table: Record<string, { size: number; lape: Record<string, number>; random: Record<string, number> }>;
  facts: number;
  markdown: string;
  svg: string;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '—');

/** The ΔP table and chart of a run's rows. */
export function lapeReport(meta: LapeMeta, rows: readonly LapeRow[], command = ''): LapeReport {
  const offs = Object.keys(meta.sets);
  const table: LapeReport['table'] = {};
  for (const off of offs) {
    const summary = (key: 'lape' | 'random') =>
      perLanguage(
        rows.flatMap((r) =>
          r.queries.map((q, i) => {
            const after = r.off[off][key][i];
            return { lang: q.lang, before: q.before, after, deltaP: q.before > 0 ? (after - q.before) / q.before : NaN, correctBefore: q.known };
          }),
        ),
      );
    const a = summary('lape'),
      b = summary('random');
    table[off] = {
      size: meta.sets[off].length,
      lape: Object.fromEntries(meta.langs.map((l) => [l, a[l]?.deltaP ?? NaN])),
      random: Object.fromEntries(meta.langs.map((l) => [l, b[l]?.deltaP ?? NaN])),
    };
  }
  const others = (rec: Record<string, number>, off: string) => {
    const xs = meta.langs.filter((l) => l !== off && Number.isFinite(rec[l])).map((l) => rec[l]);
    return xs.length ? xs.reduce((p, q) => p + q, 0) / xs.length : NaN;
  };
  const md = [
    `# LAPE switch-off: ΔP per language (${rows.length} facts, ${meta.model.id})`,
    '',
    `Each row switches off one language's LAPE-specific neurons (top_rate ${meta.rates.topRate}, filter_rate ${meta.rates.filterRate}, activation_bar_ratio ${meta.rates.activationBarRate}) — or as many Random neurons — and gives the mean ΔP over the queries the model knew, in every language (cell: LAPE / Random).`,
    '',
    `| off | neurons | ${meta.langs.join(' | ')} | others (mean) |`,
    `|---|---|${meta.langs.map(() => '---').join('|')}|---|`,
    ...offs.map(
      (off) =>
        `| ${off} | ${table[off].size} | ${meta.langs.map((l) => `${l === off ? '**' : ''}${pct(table[off].lape[l])} / ${pct(table[off].random[l])}${l === off ? '**' : ''}`).join(' | ')} | ${pct(others(table[off].lape, off))} / ${pct(others(table[off].random, off))} |`,
    ),
    '',
    ...(command ? [`Reproduce: \`${command}\``, ''] : []),
  ].join('\n');
  const svg = barChart({
    title: 'LAPE switch-off: ΔP in the language switched off and in the others',
    groups: offs.map((o) => `${o} off (${table[o].size})`),
    series: [
      { name: 'its language, LAPE', values: offs.map((o) => finiteOrNull(table[o].lape[o])) },
      { name: 'other languages, LAPE', values: offs.map((o) => finiteOrNull(others(table[o].lape, o))) },
      { name: 'its language, Random', values: offs.map((o) => finiteOrNull(table[o].random[o])) },
      { name: 'other languages, Random', values: offs.map((o) => finiteOrNull(others(table[o].random, o))) },
    ],
    percent: true,
  });
  return { table, facts: rows.length, markdown: md, svg };
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

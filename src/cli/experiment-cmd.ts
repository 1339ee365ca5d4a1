/**
 * `kn experiment manipulate|readings|report|merge`: the benchmark-scale runner in Node, NDJSON on disk.
 *
 *   <out>/meta.json      what was run (model hash, settings, seed, languages, methods, the picked facts, shard)
 *   <out>/rows.ndjson    one line per finished fact (written whole, after the fact; a re-run skips them)
 *   <out>/timing.ndjson  wall time per fact (kept apart so rows are byte-identical across machines/shards)
 *   <out>/report/        report.md, CSVs and SVG charts (`kn experiment report <out>`)
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { openLocal } from '../data/node';
import { RELATIONS, type Relation } from '../data/types';
import { KnError } from '../engine/errors';
import type { LoadedModel } from '../engine/model';
import {
  DEFAULT_METHODS,
  makeMeta,
  metaMismatch,
  parseMethodSpec,
  parseShard,
  pickFacts,
  readingSpecs,
  rowProblem,
  runManipulation,
  type ExperimentMeta,
  type FactRow,
  type FactTiming,
  type MethodSpec,
  type RowSink,
} from '../engine/runner/manipulate';
import { reportFiles, summarize } from '../engine/runner/report';
import { BUNDLED_DIR, FolderStore } from '../engine/source-node';
import { ATTRIBUTION_CACHE, langsArg } from './matrice-cmd';

const RUN_OPTIONS = {
  model: { type: 'string' },
  facts: { type: 'string' },
  relations: { type: 'string' },
  langs: { type: 'string' },
  methods: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  baseline: { type: 'string' },
  tau: { type: 'string' },
  alpha1: { type: 'string' },
  alpha2: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  norm: { type: 'string' },
  'attr-norm': { type: 'string' },
  split: { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
  dtype: { type: 'string' },
  'no-cache': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

function intOpt(v: string | undefined, name: string, lo: number, hi: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new KnError('bad-input', `--${name} must be an integer in ${lo}..${hi}, got "${v}"`);
  return n;
}

function parse<T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new KnError('bad-input', e instanceof Error ? e.message : String(e));
  }
}

// ------------------------------------------------------------------------------------------- files

export interface ReadRows {
  rows: FactRow[];
  timings: FactTiming[];
  problems: string[];
}

/** Reads the NDJSON rows of a results folder; corrupt or foreign lines are skipped and reported, never fatal. */
export async function readRows(dir: string, meta: ExperimentMeta): Promise<ReadRows> {
  const problems: string[] = [];
  const rows: FactRow[] = [];
  const seen = new Set<string>();
  const text = existsSync(join(dir, 'rows.ndjson')) ? await readFile(join(dir, 'rows.ndjson'), 'utf8') : '';
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (e) {
      problems.push(`${join(dir, 'rows.ndjson')} line ${i + 1}: not valid JSON (${e instanceof Error ? e.message.slice(0, 60) : e}); skipped`);
      return;
    }
    const p = rowProblem(r, meta);
    if (p) return void problems.push(`${join(dir, 'rows.ndjson')} line ${i + 1}: ${p}; skipped`);
    const row = r as FactRow;
    if (seen.has(row.fact)) return void problems.push(`${join(dir, 'rows.ndjson')} line ${i + 1}: fact ${row.fact} repeated; the first is kept`);
    seen.add(row.fact);
    rows.push(row);
  });
  const timings: FactTiming[] = [];
  if (existsSync(join(dir, 'timing.ndjson'))) {
    for (const line of (await readFile(join(dir, 'timing.ndjson'), 'utf8')).split('\n')) {
      try {
        const t = JSON.parse(line) as FactTiming;
        if (typeof t.fact === 'string' && Number.isFinite(t.ms) && seen.has(t.fact)) timings.push(t);
      } catch {
        /* timings are informative only */
      }
    }
  }
  rows.sort((a, b) => a.index - b.index);
  return { rows, timings, problems };
}

export async function readMeta(dir: string): Promise<ExperimentMeta> {
  const p = join(dir, 'meta.json');
  if (!existsSync(p)) throw new KnError('missing-file', `${dir} is not an experiment results folder (no meta.json)`);
  try {
    const m = JSON.parse(await readFile(p, 'utf8')) as ExperimentMeta;
    if (m.experiment !== 'manipulate' || !Array.isArray(m.facts) || !m.model) throw new Error('not a manipulation experiment');
    return m;
  } catch (e) {
    throw new KnError('corrupt-file', `${p}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function writeAtomic(path: string, text: string) {
  await writeFile(path + '.tmp', text);
  await rename(path + '.tmp', path);
}

const rowLine = (r: FactRow) => JSON.stringify(r) + '\n';

/** NDJSON sink: appends a whole line per fact; a torn last line (a killed run) is fenced off, not glued to. */
export class NdjsonSink implements RowSink {
  constructor(
    readonly dir: string,
    readonly meta: ExperimentMeta,
  ) {}
  async finished() {
    return new Set((await readRows(this.dir, this.meta)).rows.map((r) => r.fact));
  }
  async write(row: FactRow, timing: FactTiming) {
    const p = join(this.dir, 'rows.ndjson');
    let prefix = '';
    if (existsSync(p)) {
      const t = await readFile(p, 'utf8');
      if (t.length && !t.endsWith('\n')) prefix = '\n';
    }
    await appendFile(p, prefix + rowLine(row));
    await appendFile(join(this.dir, 'timing.ndjson'), JSON.stringify(timing) + '\n');
  }
}

// ------------------------------------------------------------------------------------------- progress

const dur = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

function progressPrinter(quiet: boolean) {
  let last = 0;
  return (line: string, force = false) => {
    if (quiet) return;
    const now = Date.now();
    if (!force && now - last < 2000) return;
    last = now;
    process.stderr.write(line + '\n');
  };
}

// ------------------------------------------------------------------------------------------- commands

async function splitCandidates(modelArg: string, split: string | undefined): Promise<string[] | undefined> {
  if (!split) return undefined;
  if (split !== 'dev' && split !== 'test') throw new KnError('bad-input', `--split must be dev or test, got "${split}"`);
  const m = /^bundled:(.+)$/.exec(modelArg);
  const path = m ? join(BUNDLED_DIR, m[1], 'split.json') : join(modelArg, 'split.json');
  if (!existsSync(path)) throw new KnError('bad-input', `--split ${split} needs the model's split.json (a bundled demo model); not found at ${path}`);
  const j = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const ids = j[split === 'dev' ? 'devFacts' : 'testFacts'];
  if (!Array.isArray(ids) || !ids.length) throw new KnError('bad-input', `${path} has no ${split === 'dev' ? 'devFacts' : 'testFacts'} list`);
  return ids.map(String);
}

export async function runExperiment(kind: 'manipulate' | 'readings', argv: string[], load: (arg: string | undefined, dtype: string | undefined) => Promise<{ model: LoadedModel; arg: string }>) {
  const { values: v } = parse(argv, RUN_OPTIONS);
  const out = v.out;
  if (!out) throw new KnError('bad-input', '--out <dir> is required (the results folder; a re-run resumes it)');
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const relations = (v.relations ? v.relations.split(',').map((s) => s.trim()) : []) as Relation[];
  for (const r of relations) if (!(RELATIONS as readonly string[]).includes(r)) throw new KnError('bad-input', `unknown relation "${r}"; one of ${RELATIONS.join(', ')}`);
  const specs: MethodSpec[] = kind === 'readings' ? readingSpecs() : (v.methods ?? DEFAULT_METHODS.join(',')).split(',').map(parseMethodSpec);
  if (new Set(specs.map((s) => s.key)).size !== specs.length) throw new KnError('bad-input', '--methods lists a method twice');
  if (kind === 'manipulate' && !specs.some((s) => s.key === 'matrice')) specs.unshift(parseMethodSpec('matrice'));
  const shard = v.shard ? parseShard(v.shard) : null;
  const nFacts = intOpt(v.facts, 'facts', 1, 100000, kind === 'readings' ? 30 : 100);
  const seed = intOpt(v.seed, 'seed', 0, 2 ** 31 - 1, 1);
  const steps = intOpt(v.steps, 'steps', 1, 1000, 20);
  const baseline = (v.baseline ?? 'pad') as 'pad' | 'zero';
  if (baseline !== 'pad' && baseline !== 'zero') throw new KnError('bad-input', `--baseline must be pad or zero, got "${v.baseline}"`);
  const tau = v.tau === undefined ? undefined : Number(v.tau);
  if (tau !== undefined && !(Number.isFinite(tau) && tau >= 0 && tau <= 1)) throw new KnError('bad-input', `--tau must be a number in 0..1, got "${v.tau}"`);
  const weights: Record<string, number> = {};
  for (const k of ['alpha1', 'alpha2', 'beta1', 'beta2'] as const) {
    if (v[k] === undefined) continue;
    const n = Number(v[k]);
    if (!Number.isFinite(n) || Math.abs(n) > 1e6) throw new KnError('bad-input', `--${k} must be a finite number, got "${v[k]}"`);
    weights[k] = n;
  }
  const { model, arg } = await load(v.model, v.dtype);
  const print = progressPrinter(!!v.quiet);
  const ctl = new AbortController();
  const onSigint = () => {
    print('kn: cancelling after the current fact is abandoned; finished facts are kept', true);
    ctl.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const candidates = await splitCandidates(arg, v.split);
    const base = makeMeta({
      model: { id: arg, contentHash: model.info.contentHash, dtype: model.info.dtype, kind: model.info.kind, numLayers: model.cfg.numLayers, ffnSize: model.cfg.ffn },
      settings: { ...weights, ...(tau !== undefined ? { tau } : {}), ...(v.norm ? { norm: v.norm as never } : {}), ...(v['attr-norm'] ? { attrNorm: v['attr-norm'] as never } : {}) },
      steps,
      baseline,
      seed,
      langs,
      methods: specs.map((s) => s.key),
      facts: [],
      request: { facts: nFacts, relations, split: v.split ?? null, minKnownLangs: Math.min(4, langs.length) },
      shard,
    });
    await mkdir(out, { recursive: true });
    let meta: ExperimentMeta;
    if (existsSync(join(out, 'meta.json'))) {
      const old = await readMeta(out);
      const diff = metaMismatch({ ...old, facts: [] }, base);
      if (diff) throw new KnError('bad-input', `${out} holds results of another run: ${diff} differs; choose another --out or the same settings`);
      meta = old;
      print(`kn: resuming ${out} (${meta.facts.length} facts picked before)`, true);
    } else {
      const t0 = Date.now();
      const facts = await pickFacts(model, await openLocal(), {
        facts: nFacts,
        relations,
        langs,
        seed,
        candidates,
        signal: ctl.signal,
        onProgress: (p) => print(`kn: picking facts the model knows: ${p.picked}/${nFacts} kept of ${p.probed} probed · ${dur(Date.now() - t0)}`),
      });
      if (facts.length < nFacts) print(`kn: only ${facts.length} known facts found (asked for ${nFacts})`, true);
      meta = { ...base, facts };
      await writeAtomic(join(out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
    }
    const r = await runManipulation({
      model,
      bench: await openLocal(),
      meta,
      methods: specs,
      sink: new NdjsonSink(out, meta),
      store: v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE),
      signal: ctl.signal,
      onProgress: (p) =>
        print(`kn: fact ${p.done + 1 > p.total ? p.total : p.done + 1}/${p.total}${p.skipped ? ` (+${p.skipped} done before)` : ''}${p.fact ? ' ' + p.fact : ''} · ${dur(p.elapsedMs)} elapsed${p.etaMs !== null ? ` · about ${dur(p.etaMs)} left` : ''}`, p.etaMs === 0),
    });
    return { out, facts: meta.facts.length, shard: meta.shard, written: r.written, skipped: r.skipped };
  } finally {
    process.off('SIGINT', onSigint);
    model.dispose();
  }
}

export async function runReport(argv: string[]) {
  const { values: v, positionals } = parse(argv, { json: { type: 'boolean' }, out: { type: 'string' } } as const);
  const dir = positionals[0];
  if (!dir) throw new KnError('bad-input', 'usage: kn experiment report <results dir> [--out <dir>] [--json]');
  const meta = await readMeta(dir);
  const { rows, timings, problems } = await readRows(dir, meta);
  if (!rows.length) throw new KnError('bad-input', `${dir} has no finished fact yet${problems.length ? ` (${problems.length} unreadable lines: ${problems[0]})` : ''}`);
  const missing = meta.shard ? 0 : meta.facts.length - rows.length;
  if (missing > 0) problems.push(`${missing} of ${meta.facts.length} picked facts are not finished yet (the report covers ${rows.length})`);
  for (const p of problems) process.stderr.write(`kn: ${p}\n`);
  const summary = summarize(meta, rows, timings, problems);
  const outDir = v.out ?? join(dir, 'report');
  await mkdir(outDir, { recursive: true });
  const cmd = reproduceCommand(meta);
  const files = reportFiles(summary, cmd);
  for (const [name, text] of Object.entries(files)) await writeFile(join(outDir, name), text);
  await writeFile(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
  if (v.json) return summary;
  process.stdout.write(files['report.md']);
  return undefined;
}

/** The command line that reproduces a run (printed in its report). */
export function reproduceCommand(m: ExperimentMeta): string {
  const readings = m.methods.length > 0 && m.methods.every((k) => k.includes('@'));
  const parts = [`npm run -s kn -- experiment ${readings ? 'readings' : 'manipulate'} --model ${m.model.id}`, `--facts ${m.request.facts}`];
  if (m.request.split) parts.push(`--split ${m.request.split}`);
  if (m.request.relations.length) parts.push(`--relations ${m.request.relations.join(',')}`);
  parts.push(`--langs ${m.langs.join(',')}`);
  if (!readings) parts.push(`--methods ${m.methods.join(',')}`);
  const w = (['alpha1', 'alpha2', 'beta1', 'beta2'] as const).filter((k) => m.settings[k] !== 1).map((k) => `--${k} ${m.settings[k]}`);
  parts.push(`--seed ${m.seed} --steps ${m.steps}${m.baseline !== 'pad' ? ` --baseline ${m.baseline}` : ''} --tau ${m.settings.tau}${w.length ? ' ' + w.join(' ') : ''} --norm ${m.settings.norm} --attr-norm ${m.settings.attrNorm} --out <dir>`);
  return parts.join(' ');
}

export async function runMerge(argv: string[]) {
  const { values: v, positionals } = parse(argv, { out: { type: 'string' }, json: { type: 'boolean' } } as const);
  if (!v.out || positionals.length < 1) throw new KnError('bad-input', 'usage: kn experiment merge <shard dir> <shard dir> … --out <dir>');
  const metas = await Promise.all(positionals.map(readMeta));
  for (let i = 1; i < metas.length; i++) {
    const d = metaMismatch(metas[0], metas[i], true);
    if (d) throw new KnError('bad-input', `cannot merge ${positionals[i]} with ${positionals[0]}: ${d} differs`);
  }
  const shards = metas.map((m) => m.shard);
  const n = shards[0]?.n ?? 1;
  const ks = new Set<number>();
  for (const [i, s] of shards.entries()) {
    if (!s) throw new KnError('bad-input', `${positionals[i]} is not a shard (run with --shard k/n)`);
    if (s.n !== n) throw new KnError('bad-input', `${positionals[i]} is shard ${s.k}/${s.n}, the others are of ${n}`);
    if (ks.has(s.k)) throw new KnError('bad-input', `shard ${s.k}/${n} is given twice`);
    ks.add(s.k);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !ks.has(k));
  if (existsSync(join(v.out, 'rows.ndjson'))) throw new KnError('bad-input', `${v.out} already holds rows; merge into a new folder`);
  const all: FactRow[] = [], timings: FactTiming[] = [], problems: string[] = [];
  for (const [i, d] of positionals.entries()) {
    const r = await readRows(d, metas[i]);
    all.push(...r.rows);
    timings.push(...r.timings);
    problems.push(...r.problems);
  }
  all.sort((a, b) => a.index - b.index);
  await mkdir(v.out, { recursive: true });
  const meta: ExperimentMeta = { ...metas[0], shard: null };
  await writeAtomic(join(v.out, 'rows.ndjson'), all.map(rowLine).join(''));
  await writeFile(join(v.out, 'timing.ndjson'), timings.map((t) => JSON.stringify(t) + '\n').join(''));
  await writeAtomic(join(v.out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  for (const p of problems) process.stderr.write(`kn: ${p}\n`);
  if (missing.length) process.stderr.write(`kn: shards ${missing.map((k) => `${k}/${n}`).join(', ')} are missing; the merged folder lacks their facts\n`);
  return { out: v.out, facts: all.length, of: meta.facts.length, shards: [...ks].sort(), missing, problems: problems.length };
}

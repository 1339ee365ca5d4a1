/**
 * `kn atlas build | neuron | search` and `kn lape` (docs/ATLAS.md). The atlas folder is the engine's one store
 * interface over files (JsonFolderStore: a key is a path under the folder, a value one JSON file, written whole).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { openLocal } from '../data/node';
import type { RecordStore } from '../data/store';
import {
  buildAtlas,
  findEntry,
  INDEX_KEY,
  lapeSets,
  mergeAtlas,
  neuronFile,
  neuronLabel,
  noMatch,
  parseNeuron,
  prepareAtlas,
  readAtlas,
  readNeuronPage,
  searchAtlas,
  staticHostCheck,
  type AtlasBuildResult,
  type AtlasProgress,
  type AtlasQuery,
  type NeuronPage,
  type NeuronType,
} from '../engine/atlas';
import {
  LAPE_ROW_VERSION,
  lapeReport,
  lapeRowProblem,
  modelRef,
  parseShard,
  pickFacts,
  randomLike,
  runLapeExperiment,
  type LapeMeta,
  type LapeRow,
} from '../engine/experiments';
import { FolderStore } from '../engine/node';
import type { LoadedModel } from '../engine/index';
import { KnError } from '../shared/errors';
import * as rules from '../engine/rules';
import { intOpt, numOpt, parseCli } from './args';
import { ATTRIBUTION_CACHE, langsArg, quadratureArg } from './flow';
import type { CliContext } from './jobs';
import { dur, factProgressLine, NdjsonRowSink, progressPrinter, readResultRows, splitCandidates, withSigint, writeAtomic, type Printer } from './results';

export type AtlasLoader = (arg: string | undefined, dtype: string | undefined) => Promise<{ model: LoadedModel; arg: string }>;

export const ATLAS_HELP = `  kn atlas build [--model <m>] [--facts N | --split dev|test] [--langs zh,en,...] [--top-rate R] [--jobs N] [--seed S] --out <dir>
      every neuron any fact selected (MaTrice, AMIG, each language's own set) and LAPE's: one page each + atlas.json
      (resumable: run it again; default ${rules.ATLAS_DEFAULT_FACTS} known facts; progress on stderr; says its size on disk)
  kn atlas neuron <dir> <L·j> [--json]                   one neuron's page
  kn atlas search <dir> [--token T] [--fact P36:0] [--relation P36] [--lang ja] [--type fact|relation|language|hub|other] [--json]
  kn lape [--model <m>] [--facts N | --split dev|test] [--top-rate ${rules.LAPE_TOP_RATE}] [--filter-rate ${rules.LAPE_FILTER_RATE}] [--activation-bar-rate ${rules.LAPE_ACTIVATION_BAR_RATIO}] --json
      language-specific neurons (Tang et al. 2024; identify.py's top_rate is ${rules.LAPE_TOP_RATE_CODE}, the paper's ${rules.LAPE_TOP_RATE})
  kn experiment lape [--model <m>] [--facts N | --split dev|test] [--langs ...] [--top-rate R] [--seed S] --out <dir>
      switch off each language's LAPE neurons (and Random ones of the same size): ΔP in every language; report.md + lape.svg
      (default ${rules.LAPE_EXPERIMENT_FACTS} known facts; resumable)`;

/** A folder of JSON files as the engine's record store: key `a/b.json` is the file `<dir>/a/b.json`. */
export class JsonFolderStore implements RecordStore {
  readonly kind = 'memory' as const;
  constructor(readonly dir: string) {}
  private path(key: string) {
    const p = resolve(this.dir, key);
    if (!p.startsWith(resolve(this.dir) + sep)) throw new KnError('bad-input', `atlas key "${key}" is outside the folder`);
    return p;
  }
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const p = this.path(key);
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new KnError('bad-input', `${p} is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  async set(key: string, value: unknown) {
    const p = this.path(key);
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.tmp${process.pid}`;
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, p); // never a half-written file
  }
  async delete(key: string) {
    const { rm } = await import('node:fs/promises');
    await rm(this.path(key), { force: true });
  }
  async keys(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const out: string[] = [];
    const walk = async (d: string) => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.endsWith('.json')) out.push(relative(this.dir, p).split(sep).join('/'));
      }
    };
    await walk(this.dir);
    return out;
  }
}

/** Bytes of the files under a folder (what a static host would serve). */
export async function folderBytes(dir: string, filter: (rel: string) => boolean = () => true): Promise<number> {
  let n = 0;
  for (const k of await new JsonFolderStore(dir).keys()) if (filter(k)) n += (await stat(join(dir, k))).size;
  return n;
}

const mb = (b: number) => (b / 1024 ** 2).toFixed(2);

/** The options of every atlas/LAPE command that loads a model and picks facts. */
const PICK_OPTIONS = {
  model: { type: 'string' },
  dtype: { type: 'string' },
  facts: { type: 'string' },
  split: { type: 'string' },
  langs: { type: 'string' },
  seed: { type: 'string' },
  'top-rate': { type: 'string' },
  'filter-rate': { type: 'string' },
  'activation-bar-rate': { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const BUILD_OPTIONS = {
  ...PICK_OPTIONS,
  steps: { type: 'string' },
  quadrature: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

function lapeRates(v: { 'top-rate'?: string; 'filter-rate'?: string; 'activation-bar-rate'?: string }) {
  const r = (x: string | undefined, name: string) => (x === undefined ? undefined : rules.checkRate(numOpt(x, name), `--${name}`));
  return {
    ...(v['top-rate'] !== undefined ? { topRate: r(v['top-rate'], 'top-rate') } : {}),
    ...(v['filter-rate'] !== undefined ? { filterRate: r(v['filter-rate'], 'filter-rate') } : {}),
    ...(v['activation-bar-rate'] !== undefined ? { activationBarRate: r(v['activation-bar-rate'], 'activation-bar-rate') } : {}),
  };
}

function progressLine(p: AtlasProgress): string {
  const what = { pick: 'picking known facts', facts: 'facts', activations: 'activations of the queries', pages: 'neuron pages' }[p.phase];
  const n = p.phase === 'facts' ? Math.min(p.done + 1, p.total) : p.done;
  return `kn: atlas ${what} ${n}/${p.total}${p.skipped ? ` (+${p.skipped} done before)` : ''}${p.fact ? ' ' + p.fact : ''} · ${dur(p.elapsedMs)} elapsed${p.etaMs ? ` · about ${dur(p.etaMs)} left` : ''}`;
}

/** The build's summary: size on disk, and whether a static host can serve it. */
async function summary(out: string, r: Omit<AtlasBuildResult, 'index'> & { index: AtlasBuildResult['index'] }, wallMs: number, print: Printer) {
  const served = await folderBytes(out, (k) => k === INDEX_KEY || k.startsWith('neurons/'));
  const all = await folderBytes(out);
  const facts = r.index?.facts.length ?? 0;
  const host = staticHostCheck(served, facts);
  const tooBig = host.tooBig;
  const ms = r.timings.map((t) => t.ms).sort((a, b) => a - b);
  const median = ms.length ? ms[Math.floor(ms.length / 2)] : null;
  for (const p of r.problems) print(`kn: ${p}`, true);
  if (r.index)
    print(
      `kn: atlas of ${facts} facts: ${r.pages} neuron pages, ${mb(served)} MB served (atlas.json + neurons/), ${mb(all)} MB with the build's rows${host.message ? `; ${host.message}` : ''}`,
      true,
    );
  return {
    out,
    facts,
    written: r.written,
    skipped: r.skipped,
    pages: r.pages,
    bytes: { served, all },
    tooBigForStaticHost: tooBig,
    staticHostLimitBytes: rules.ATLAS_STATIC_MAX_BYTES,
    msPerFactMedian: median,
    wallMs: Math.round(wallMs),
    types: r.index ? countTypes(r.index.neurons.map((e) => e.type)) : null,
    lape: r.index ? Object.fromEntries(Object.entries(r.index.lape.sets).map(([l, ns]) => [l, ns.length])) : null,
    problems: r.problems,
  };
}

function countTypes(ts: NeuronType[]): Record<NeuronType, number> {
  const c = { fact: 0, relation: 0, language: 0, hub: 0, other: 0 } as Record<NeuronType, number>;
  for (const t of ts) c[t]++;
  return c;
}

/** The facts option: a number, or (with --split) the split's facts (all of them without --facts). */
async function factsRequest(v: { facts?: string; split?: string }, arg: string) {
  const n = intOpt(v.facts, 'facts', rules.FACTS_MIN, rules.FACTS_MAX, undefined);
  const candidates = await splitCandidates(arg, v.split);
  return { facts: n ?? (candidates ? candidates.length : rules.ATLAS_DEFAULT_FACTS), candidates };
}

async function runBuild(argv: string[], load: AtlasLoader, ctx?: CliContext) {
  const { values: v } = parseCli(argv, BUILD_OPTIONS);
  if (!v.out) throw new KnError('bad-input', 'kn atlas build needs --out <dir>');
  const jobs = intOpt(v.jobs, 'jobs', rules.JOBS_MIN, rules.JOBS_MAX, 1);
  const shard = v.shard ? parseShard(v.shard) : null;
  if (shard && jobs > 1) throw new KnError('bad-input', `--jobs ${jobs} runs shards of its own; with --shard k/n leave --jobs out`);
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const rates = lapeRates(v);
  const print = progressPrinter(!!v.quiet);
  const { model, arg } = await load(v.model, v.dtype);
  const t0 = performance.now();
  try {
    const bench = await openLocal();
    const store = new JsonFolderStore(v.out);
    const req = await factsRequest(v, arg);
    const command = `npm run -s kn -- atlas build --model ${arg}${v.facts ? ` --facts ${v.facts}` : ''}${v.split ? ` --split ${v.split}` : ''}${v.langs ? ` --langs ${v.langs}` : ''}${v.seed ? ` --seed ${v.seed}` : ''}${v['top-rate'] ? ` --top-rate ${v['top-rate']}` : ''} --out <dir>`;
    const opts = {
      bench,
      store,
      facts: req.facts,
      candidates: req.candidates,
      langs,
      steps: v.steps !== undefined ? intOpt(v.steps, 'steps', rules.STEPS_MIN, rules.STEPS_MAX, rules.DEFAULT_STEPS) : undefined,
      quadrature: v.quadrature !== undefined ? quadratureArg(v.quadrature) : undefined,
      seed: intOpt(v.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED),
      lape: rates,
      cache: v['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE),
      shard,
      command,
      modelName: arg,
    };
    const onProgress = (p: AtlasProgress) => print(progressLine(p), p.phase !== 'facts' && p.done === 0);
    if (jobs > 1) {
      const meta = await prepareAtlas(model, opts, undefined, onProgress);
      const n = Math.min(jobs, meta.facts.length);
      print(`kn: ${meta.facts.length} facts in ${n} shard processes`, true);
      const self = ctx?.self ?? [process.execPath, ...process.execArgv, process.argv[1]];
      const rest = argv.filter(
        (x, i) => !['--jobs', '--shard'].includes(x) && !['--jobs', '--shard'].includes(argv[i - 1] ?? '') && !/^--(jobs|shard)=/.test(x),
      );
      const codes = await Promise.all(
        Array.from({ length: n }, (_, k) => {
          const child = spawn(self[0], [...self.slice(1), 'atlas', 'build', ...rest, '--shard', `${k + 1}/${n}`, '--quiet'], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          return new Promise<number>((res) => child.on('exit', (c) => res(c ?? 1)));
        }),
      );
      if (codes.some((c) => c !== 0))
        throw new KnError(
          'job-failed',
          `${codes.filter((c) => c !== 0).length} of ${n} shard processes failed; the finished facts are kept: run the same command again`,
        );
      const merged = await withSigint(print, (signal) => mergeAtlas(model, bench, store, onProgress, signal));
      return await summary(v.out, { ...merged, written: meta.facts.length, skipped: 0 }, performance.now() - t0, print);
    }
    const r = await withSigint(print, (signal) => buildAtlas(model, opts, onProgress, signal));
    return await summary(v.out, r, performance.now() - t0, print);
  } finally {
    model.dispose();
  }
}

/** atlas.json of a folder, its bad entries reported on stderr. */
async function openAtlas(dir: string | undefined) {
  if (!dir) throw new KnError('bad-input', 'give the atlas folder (kn atlas build --out <dir> wrote it)');
  const path = join(dir, INDEX_KEY);
  if (!existsSync(path))
    throw new KnError('missing-file', `${dir} is not an atlas folder (no ${INDEX_KEY}; an unfinished build is resumed by running it again)`);
  const { index, problems } = readAtlas(await readFile(path, 'utf8'), path);
  for (const p of problems) process.stderr.write(`kn: ${p}\n`);
  return { index, problems };
}

function pageText(p: NeuronPage): string {
  const e = p.entry;
  const lines = [
    `${neuronLabel(e.neuron)}: ${e.type} neuron · ${e.facts} fact${e.facts === 1 ? '' : 's'}${e.relations.length ? ` of ${e.relations.join(', ')}` : ''} · coverage ${e.coverage} · LAPE entropy ${e.entropy}${e.lapeLangs.length ? ` (specific to ${e.lapeLangs.join(', ')})` : ''}`,
    `  promotes: ${p.lens.promoted.map((t) => JSON.stringify(t.token)).join(' ')}`,
    `  suppresses: ${p.lens.suppressed.map((t) => JSON.stringify(t.token)).join(' ')}`,
  ];
  if (p.lens.objects.length) lines.push(`  objects it promotes: ${p.lens.objects.map((o) => `${o.object} (${o.lang}, rank ${o.rank})`).join(', ')}`);
  for (const u of p.uses) lines.push(`  ${u.fact} (${u.relation}) by ${u.methods.join(', ')} · S ${u.score}`);
  for (const [lang, a] of Object.entries(p.activation))
    lines.push(
      `  ${lang}: mean ${a.mean} · > 0 on ${(a.fracPositive * 100).toFixed(0)} % of ${a.count} queries · top: ${a.top.map((t) => `${JSON.stringify(t.text)} ${t.activation}`).join('; ')}`,
    );
  return lines.join('\n');
}

async function runNeuron(argv: string[]) {
  const { values: v, positionals } = parseCli(argv, { json: { type: 'boolean' } } as const);
  const [dir, id] = positionals;
  const { index } = await openAtlas(dir);
  const n = id ? parseNeuron(id) : null;
  if (!n) throw new KnError('bad-input', `give a neuron as L<layer>·<index> (e.g. L0·46, L0-46 or 0.46), got "${id ?? ''}"`);
  findEntry(index, n);
  const path = join(dir, neuronFile(n));
  if (!existsSync(path)) throw new KnError('missing-file', `${path} is missing: the atlas's index lists ${neuronLabel(n)} but its page is not there`);
  const page = readNeuronPage(await readFile(path, 'utf8'), index, path);
  if (v.json) return page;
  process.stdout.write(pageText(page) + '\n');
  return undefined;
}

async function runSearch(argv: string[]) {
  const { values: v, positionals } = parseCli(argv, {
    json: { type: 'boolean' },
    token: { type: 'string' },
    fact: { type: 'string' },
    relation: { type: 'string' },
    lang: { type: 'string' },
    type: { type: 'string' },
  } as const);
  const { index } = await openAtlas(positionals[0]);
  if (v.lang) rules.checkLang(v.lang);
  if (v.relation) rules.checkRelation(v.relation);
  const q: AtlasQuery = { token: v.token, fact: v.fact, relation: v.relation, lang: v.lang, type: v.type as NeuronType | undefined };
  for (const k of Object.keys(q) as (keyof AtlasQuery)[]) if (q[k] === undefined) delete q[k];
  if (!Object.keys(q).length) throw new KnError('bad-input', 'kn atlas search needs one of --token, --fact, --relation, --lang, --type');
  const found = searchAtlas(index, q);
  if (!found.length) {
    if (v.json) return { query: q, neurons: [], message: noMatch(q) };
    process.stdout.write(noMatch(q) + '\n');
    return undefined;
  }
  if (v.json) return { query: q, neurons: found };
  for (const e of found)
    process.stdout.write(
      `${neuronLabel(e.neuron)}\t${e.type}\t${e.facts} facts\t${e.relations.join(',')}\t${e.lapeLangs.join(',') || '-'}\t${e.topTokens.map((t) => JSON.stringify(t)).join(' ')}\n`,
    );
  return undefined;
}

/** `kn atlas <build|neuron|search> …` */
export async function runAtlasCommand(argv: string[], load: AtlasLoader, ctx?: CliContext): Promise<unknown> {
  const [sub, ...rest] = argv;
  if (sub === 'build') return runBuild(rest, load, ctx);
  if (sub === 'neuron') return runNeuron(rest);
  if (sub === 'search') return runSearch(rest);
  throw new KnError('bad-input', `unknown atlas command "${sub ?? ''}"; one of build, neuron, search`);
}

/** `kn lape`: each language's specific neurons over the queries of the facts. */
export async function runLapeCommand(argv: string[], load: AtlasLoader): Promise<unknown> {
  const { values: v } = parseCli(argv, PICK_OPTIONS);
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const rates = lapeRates(v);
  const print = progressPrinter(!!v.quiet);
  const { model, arg } = await load(v.model, v.dtype);
  try {
    const bench = await openLocal();
    const req = await factsRequest(v, arg);
    const facts = await pickFacts(model, bench, {
      facts: req.facts,
      candidates: req.candidates,
      langs,
      seed: intOpt(v.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED),
    });
    const r = await lapeSets(model, bench, facts, langs, rates, (d, t) => print(`kn: lape activations ${d}/${t} queries`, d === t));
    const out = {
      model: arg,
      facts: facts.length,
      queries: r.queries,
      tokens: r.tokens,
      rates: r.rates,
      codeDefaults: { topRate: rules.LAPE_TOP_RATE_CODE, filterRate: rules.LAPE_FILTER_RATE, activationBarRate: rules.LAPE_ACTIVATION_BAR_RATIO },
      filterValue: r.filterValue,
      activationBar: r.activationBar,
      candidates: r.candidates,
      kept: r.kept.length,
      sets: r.sets,
      sizes: Object.fromEntries(Object.entries(r.sets).map(([l, ns]) => [l, ns.length])),
    };
    if (v.json) return out;
    for (const [l, ns] of Object.entries(r.sets)) process.stdout.write(`${l}\t${ns.length}\t${ns.map(neuronLabel).join(' ')}\n`);
    return undefined;
  } finally {
    model.dispose();
  }
}

/** `kn experiment lape`: each language's LAPE set switched off, ΔP in every language, against Random of the same size. */
export async function runLapeExperimentCommand(argv: string[], load: AtlasLoader): Promise<unknown> {
  const { values: v } = parseCli(argv, { ...PICK_OPTIONS, out: { type: 'string' } } as const);
  if (!v.out) throw new KnError('bad-input', 'kn experiment lape needs --out <dir>');
  const out = v.out;
  const langs = langsArg({ _: [], ...(v.langs ? { langs: v.langs } : {}) });
  const rates = lapeRates(v);
  const seed = intOpt(v.seed, 'seed', rules.SEED_MIN, rules.SEED_MAX, rules.DEFAULT_SEED);
  const print = progressPrinter(!!v.quiet);
  const { model, arg } = await load(v.model, v.dtype);
  const t0 = performance.now();
  try {
    const bench = await openLocal();
    const metaPath = join(out, 'meta.json');
    let meta: LapeMeta;
    if (existsSync(metaPath)) {
      meta = JSON.parse(await readFile(metaPath, 'utf8')) as LapeMeta;
      if (meta.experiment !== 'lape') throw new KnError('bad-input', `${out} holds a ${String(meta.experiment)} run, not a lape one: use another --out`);
      if (meta.model.contentHash !== model.info.contentHash)
        throw new KnError(
          'bad-input',
          `${out} holds a run of ${meta.model.id} (content hash ${meta.model.contentHash}), not of ${arg} (${model.info.contentHash}): use another --out`,
        );
      const want = { ...meta.rates, ...rates };
      if (JSON.stringify(meta.langs) !== JSON.stringify(langs) || JSON.stringify(want) !== JSON.stringify(meta.rates) || meta.seed !== seed)
        throw new KnError('bad-input', `${out} holds a lape run with other languages, rates or seed: resume it with the same options or use another --out`);
      print(`kn: resuming ${out} (${meta.facts.length} facts)`, true);
    } else {
      const req = await factsRequest({ facts: v.facts ?? (v.split ? undefined : String(rules.LAPE_EXPERIMENT_FACTS)), split: v.split }, arg);
      const facts = await pickFacts(model, bench, { facts: req.facts, candidates: req.candidates, langs, seed });
      const r = await lapeSets(model, bench, facts, langs, rates, (d, t) => print(`kn: lape activations ${d}/${t} queries`, d === t));
      meta = {
        v: LAPE_ROW_VERSION,
        experiment: 'lape',
        model: modelRef(model, arg),
        langs,
        seed,
        rates: r.rates,
        sets: r.sets,
        random: randomLike(r.sets, model.cfg.numLayers, model.cfg.ffn, seed),
        facts,
        shard: null,
      };
      await mkdir(out, { recursive: true });
      await writeAtomic(metaPath, JSON.stringify(meta, null, 1) + '\n');
    }
    const sink = new NdjsonRowSink<LapeRow, { fact: string; ms: number }>(out, (r) => lapeRowProblem(r, meta));
    await withSigint(print, (signal) =>
      runLapeExperiment({ model, bench, meta, sink, signal, onProgress: (p) => print(factProgressLine('lape', p), p.done === 0) }),
    );
    const { rows, problems } = await readResultRows<LapeRow, { fact: string; ms: number }>(out, (r) => lapeRowProblem(r, meta));
    for (const p of problems) print(`kn: ${p}`, true);
    const cmd = `npm run -s kn -- experiment lape --model ${arg}${v.facts ? ` --facts ${v.facts}` : ''}${v.split ? ` --split ${v.split}` : ''}${v.langs ? ` --langs ${v.langs}` : ''}${v['top-rate'] ? ` --top-rate ${v['top-rate']}` : ''} --seed ${seed} --out <dir>`;
    const rep = lapeReport(meta, rows, cmd);
    await writeAtomic(join(out, 'report.md'), rep.markdown);
    await writeAtomic(join(out, 'lape.svg'), rep.svg);
    if (!v.json) process.stdout.write(rep.markdown);
    const fin = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);
    const table = Object.fromEntries(
      Object.entries(rep.table).map(([off, t]) => [
        off,
        {
          size: t.size,
          lape: Object.fromEntries(Object.entries(t.lape).map(([l, x]) => [l, fin(x)])),
          random: Object.fromEntries(Object.entries(t.random).map(([l, x]) => [l, fin(x)])),
        },
      ]),
    );
    return v.json ? { out, facts: rep.facts, wallMs: Math.round(performance.now() - t0), table, problems } : undefined;
  } finally {
    model.dispose();
  }
}

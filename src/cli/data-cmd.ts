/**
 * `kn data stats|verify` and `kn eval` (the dispatcher src/cli/kn.ts prints what these return).
 *
 *   data stats [--data <dir>]            Table I statistics: {"languages": {...}, "factsInAllLanguages": N}
 *   data verify [--data <dir>]           checks every shard against the manifest's sha256
 *   eval [--model m] [--relations P19,P36] [--langs en,fr] [--limit N] [--top-k K] [--sets] [--data <dir>]
 *        [--split trained|heldout]       {"languages": {"<lang>": {"accuracy", "n"}}, ...}
 *                                        --split: only the facts and templates the model's split.json (shipped
 *                                        beside the bundled demo models) lists as trained or held out
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnError } from '../shared/errors';
import { BUNDLED_DIR } from '../engine/node';
import { openLocal, defaultDataDir } from '../data/node';
import { computeStats } from '../data/stats';
import { asProber, evaluate, experimentSets, type Prober, type ShardSource } from '../data/probing';
import { checkLang, checkRelation } from '../engine/rules';
import { LANGS, RELATIONS, type Lang, type Relation, type Shard } from '../data/types';
import { parseOptions, str, type Args, type OptionSpec } from './args';

const OPTIONS = {
  data: { type: 'string' },
  model: { type: 'string' },
  dtype: { type: 'string' },
  split: { type: 'string' },
  relations: { type: 'string', multiple: true },
  langs: { type: 'string', multiple: true },
  limit: { type: 'string' },
  'top-k': { type: 'string' },
  json: { type: 'boolean' },
  sets: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

type Parsed = Args;
const parse = (argv: string[]): Parsed => parseOptions(argv, OPTIONS, { lists: ['relations', 'langs'] });

/** A list option: repeated, comma-separated, or words after it (`--langs en,fr ja`). */
const list = (p: Parsed, name: string): string[] | undefined => {
  const v = p[name];
  return Array.isArray(v)
    ? v
        .flatMap((x) => x.split(','))
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
};
const single = (p: Parsed, name: string): string | undefined => str(p, name);

function parseRelations(p: Parsed): Relation[] {
  const v = list(p, 'relations');
  if (!v) return [...RELATIONS];
  for (const r of v) checkRelation(r);
  return v as Relation[];
}
function parseLangs(p: Parsed): Lang[] {
  const v = list(p, 'langs');
  if (!v) return [...LANGS];
  for (const l of v) checkLang(l);
  return v as Lang[];
}
function parseInt0(p: Parsed, name: string): number | undefined {
  const v = single(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new KnError('bad-input', `--${name} must be a positive integer, got "${v}"`);
  return n;
}

export async function runDataCommand(argv: string[]): Promise<unknown> {
  const args = argv[0] === 'data' ? argv.slice(1) : argv;
  const p = parse(args);
  const sub = p._[0];
  const dir = single(p, 'data') ?? defaultDataDir();
  if (sub === 'stats') {
    const bench = await openLocal(dir);
    const { shards, errors } = await bench.shards();
    if (errors.length) {
      throw new KnError(errors[0].error.code, `data stats: ${errors.length} shard(s) unusable; first: ${errors[0].error.message}`);
    }
    return computeStats(shards, bench.languages);
  }
  if (sub === 'verify') {
    const bench = await openLocal(dir);
    const { shards, errors } = await bench.shards();
    return {
      ok: errors.length === 0,
      version: bench.manifest.version,
      shards: shards.length,
      errors: errors.map((e) => ({ relation: e.relation, lang: e.lang, code: e.error.code, message: e.error.message })),
    };
  }
  throw new KnError('bad-input', `unknown data command "${sub ?? ''}" (expected: data stats | data verify)`);
}

/** `prober`: a Prober, or an engine model (its kind and mask token are read from model.info). */
export async function runEvalCommand(argv: string[], model: Prober | unknown): Promise<unknown> {
  const prober = asProber(model);
  const args = argv[0] === 'eval' ? argv.slice(1) : argv;
  const p = parse(args);
  const relations = parseRelations(p);
  const langs = parseLangs(p);
  const limit = parseInt0(p, 'limit');
  const topK = parseInt0(p, 'top-k');
  const bench = await openLocal(single(p, 'data') ?? defaultDataDir());
  const splitName = single(p, 'split');
  const source: ShardSource = splitName === undefined ? bench : splitSource(bench, readSplit(single(p, 'model') ?? 'bundled:demo-causal'), splitName);
  const showProgress = !p.quiet && process.stderr.isTTY;
  let last = 0;
  const result = await evaluate(source, prober, {
    relations,
    langs,
    limit,
    topK,
    onProgress: (pr) => {
      if (!showProgress) return;
      const now = Date.now();
      if (now - last < 500 && pr.done !== pr.total) return;
      last = now;
      process.stderr.write(`\reval ${pr.done}/${pr.total} (${pr.relation}.${pr.lang})${pr.done === pr.total ? '\n' : ''}`);
    },
  });
  const languages: Record<string, { accuracy: number; n: number; correct: number }> = {};
  for (const [l, a] of Object.entries(result.languages)) languages[l] = { accuracy: round4(a.accuracy), n: a.n, correct: a.correct };
  const rels: Record<string, Record<string, { accuracy: number; n: number }>> = {};
  for (const [r, per] of Object.entries(result.relations)) {
    rels[r] = {};
    for (const [l, a] of Object.entries(per)) rels[r][l] = { accuracy: round4(a.accuracy), n: a.n };
  }
  const sets = experimentSets(result);
  const out: Record<string, unknown> = {
    model: single(p, 'model') ?? null,
    kind: prober.kind,
    dataVersion: bench.manifest.version,
    limit: limit ?? null,
    ...(splitName !== undefined ? { split: splitName } : {}),
    languages,
    relations: rels,
    sets: {
      rule: sets.rule,
      known: Object.fromEntries(Object.entries(sets.known).map(([l, ids]) => [l, ids.length])),
      qOld: sets.qOld.length,
      qNew: sets.qNew.length,
      qError: sets.qError.length,
    },
    errors: result.errors,
  };
  if (p.sets) out.setIds = { known: sets.known, qOld: sets.qOld, qNew: sets.qNew, qError: sets.qError };
  return out;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** split.json of a demo model: which facts and templates were trained, which templates were held out. */
export interface ModelSplit {
  format: 'kn-demo-split';
  facts: Record<string, string[]>;
  templates: Record<string, Record<string, { trained: string[]; heldout: string[] }>>;
}

function readSplit(modelArg: string): ModelSplit {
  const dir = modelArg.startsWith('bundled:') ? join(BUNDLED_DIR, modelArg.slice(8)) : /^(hf:|https?:)/i.test(modelArg) ? null : modelArg;
  const file = dir && join(dir, 'split.json');
  if (!file || !existsSync(file)) {
    throw new KnError('bad-input', `--split needs the model's split.json (shipped with the bundled demo models); ${modelArg} has none`);
  }
  let s: ModelSplit;
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KnError('corrupt-file', `${file}: not valid JSON (${(e as Error).message})`);
  }
  if (s?.format !== 'kn-demo-split' || typeof s.facts !== 'object' || typeof s.templates !== 'object') {
    throw new KnError('corrupt-file', `${file}: not a demo-model split (format "kn-demo-split")`);
  }
  return s;
}

/** The benchmark restricted to a split: its facts, and its trained or held-out templates per relation x language. */
export function splitSource(bench: ShardSource, split: ModelSplit, which: string): ShardSource {
  if (which !== 'trained' && which !== 'heldout') throw new KnError('bad-input', `--split must be trained or heldout, got "${which}"`);
  return {
    async shard(relation, lang, opts): Promise<Shard> {
      const sh = await bench.shard(relation, lang, opts);
      const facts = new Set(split.facts[relation] ?? []);
      const templates = new Set(split.templates[relation]?.[lang]?.[which] ?? []);
      return { ...sh, facts: sh.facts.filter((f) => facts.has(f.id)), templates: sh.templates.filter((t) => templates.has(t.id)) };
    },
  };
}

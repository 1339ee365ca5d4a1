/**
 * The atlas build (docs/ATLAS.md): per fact, on the runner core (experiments/core.ts runFacts: resumable, shardable,
 * cancellable between facts, a fact written whole or not at all), the fact's cached attributions (the experiments'
 * cache: FactSession.localize) and its MaTrice, AMIG and per-language selections at the model's settings; then a merge
 * over every fact's row: activations of every query (answer position; all tokens for LAPE), LAPE, the logit lens, the
 * classification, and the files: one page per neuron, then atlas.json (written last: its presence means complete).
 * Everything goes through one key-value store of JSON values (data/store.ts: a folder in Node, IndexedDB in the page):
 *
 *   build.json              what is being built (model, content hash, settings, facts): a resume must match it
 *   rows/<fact>.json        one fact's row ({ row, timing })
 *   neurons/L<l>-<j>.json   NeuronPage
 *   atlas.json              AtlasIndex
 */
import type { RmlLama } from '../../data/loader';
import type { RecordStore } from '../../data/store';
import type { Lang, Relation } from '../../data/types';
import { KnError } from '../../shared/errors';
import { timeLeftMs } from '../../shared/estimate';
import {
  ATLAS_FORMAT,
  ATLAS_VERSION,
  neuronFile,
  neuronKey,
  type AtlasEntry,
  type AtlasFactUse,
  type AtlasIndex,
  type AtlasMethod,
  type NeuronPage,
  type NeuronRef,
  type NeuronType,
} from '../../shared/atlas';
import type { MatriceSettings } from '../../shared/types';
import type { BytesStore } from '../attribution/cache';
import type { LoadedModel } from '../families/model';
import {
  ATLAS_DEFAULT_FACTS,
  ATLAS_HUB_MIN_RELATIONS,
  ATLAS_INDEX_TOKENS,
  ATLAS_LENS_K,
  ATLAS_LENS_OBJECT_RANK,
  ATLAS_LENS_OBJECTS_MAX,
  ATLAS_RELATION_MIN_FACTS,
  ATLAS_TOP_QUERIES,
  ATLAS_TYPE_RULE,
  checkBaseline,
  checkLangs,
  checkQuadrature,
  checkSteps,
  DEFAULT_BASELINE,
  DEFAULT_QUADRATURE,
  DEFAULT_SEED,
  DEFAULT_STEPS,
  LANGS,
  resolveSettings,
  type Baseline,
  type Quadrature,
} from '../rules';
import { modelDefaults } from '../selection/calibration';
import { scoreMatrice } from '../selection/scoring';
import { pickFacts } from '../experiments/manipulate';
import { p6, runFacts, type FactTiming, type RowSink } from '../experiments/core';
import { buildFactQueries, FactSession } from '../session/session';
import { queryActivations } from './activations';
import { activationTable, lape, LAPE_DEFAULT_RATES, type LapeRates, type LapeResult } from './lape';
import { lensLogits, lensRank, lensTokens } from './lens';

export const BUILD_KEY = 'build.json';
export const INDEX_KEY = 'atlas.json';
export const ROW_PREFIX = 'rows/';
export const rowKey = (fact: string) => `${ROW_PREFIX}${fact.replace(':', '-')}.json`;

/** What an atlas folder is being built from; a resume (or a shard) must match it. */
export interface AtlasBuildMeta {
  format: 'kn-atlas-build';
  version: 1;
  model: string;
  contentHash: string;
  numLayers: number;
  ffnSize: number;
  settings: MatriceSettings;
  steps: number;
  baseline: Baseline;
  quadrature: Quadrature;
  langs: Lang[];
  seed: number;
  lape: LapeRates;
  /** the picked facts, in run order */
  facts: string[];
  /** what was asked for: a number of facts (or the length of the list given) and the candidates' count (null: any fact) */
  request?: { facts: number; candidates: number | null };
  command: string;
}

/** One fact's row. */
export interface AtlasRow {
  v: 1;
  fact: string;
  index: number;
  relation: Relation;
  /** languages the model knows the fact in (isKnownLanguage) */
  known: Lang[];
  matrice: NeuronRef[];
  amig: NeuronRef[];
  /** each language's own (per-language) set */
  own: Partial<Record<Lang, NeuronRef[]>>;
  /** per selected neuron (neuronKey): its S and each language's s_k (UaQ), 6 significant digits */
  scores: Record<string, { S: number; perLang: Record<string, number> }>;
}

export interface AtlasBuildOptions {
  bench: RmlLama;
  /** the atlas folder (JSON values) */
  store: RecordStore;
  /** the facts to build from, or how many known ones to pick (default ATLAS_DEFAULT_FACTS) */
  facts?: string[] | number;
  /** restrict the picked facts to these ids (e.g. the demo model's test split) */
  candidates?: readonly string[];
  langs?: readonly string[];
  /** default: the model's calibrated settings (calibration.json), else METHOD's */
  settings?: Partial<MatriceSettings>;
  steps?: number;
  baseline?: Baseline;
  quadrature?: Quadrature;
  seed?: number;
  lape?: Partial<LapeRates>;
  /** the attribution cache (the experiments' one) */
  cache?: BytesStore;
  /** only this shard's facts, and no merge (mergeAtlas once every shard is done) */
  shard?: { k: number; n: number } | null;
  /** the command line written into atlas.json */
  command?: string;
  /** the model's name in atlas.json (default: where it was loaded from, model.info.source) */
  modelName?: string;
}

export interface AtlasProgress {
  phase: 'pick' | 'facts' | 'activations' | 'pages';
  done: number;
  total: number;
  skipped?: number;
  fact?: string;
  elapsedMs: number;
  etaMs: number | null;
}

export interface AtlasBuildResult {
  /** null for a shard (rows only) */
  index: AtlasIndex | null;
  written: number;
  skipped: number;
  /** rows that could not be read (skipped and reported) */
  problems: string[];
  /** bytes of the pages and the index (JSON, UTF-8) */
  bytes: number;
  pages: number;
  /** per fact: the time its row took (this run's and earlier runs') */
  timings: FactTiming[];
}

const enc = new TextEncoder();
const byteLength = (v: unknown) => enc.encode(JSON.stringify(v)).length;
const sortNeurons = (ns: Iterable<NeuronRef>) => [...ns].sort((a, b) => a[0] - b[0] || a[1] - b[1]);

/** Refuses a folder that holds another model's atlas, or one built with other settings or facts. */
export async function checkAtlasFolder(store: RecordStore, model: LoadedModel, fresh?: AtlasBuildMeta): Promise<AtlasBuildMeta | null> {
  const here = { hash: model.info.contentHash, name: model.info.source };
  const old = (await store.get<AtlasBuildMeta>(BUILD_KEY)) ?? null;
  const idx = await store.get<AtlasIndex>(INDEX_KEY);
  for (const x of [old, idx]) {
    if (x && typeof x === 'object' && 'contentHash' in x && x.contentHash !== here.hash)
      throw new KnError(
        'bad-input',
        `this folder holds the atlas of ${String(x.model)} (content hash ${String(x.contentHash)}); the model loaded is ${here.name} (content hash ${here.hash}): build into another folder`,
      );
  }
  if (old && fresh) {
    for (const k of ['settings', 'steps', 'baseline', 'quadrature', 'langs', 'seed', 'lape', 'request'] as const) {
      if (old[k] !== undefined && JSON.stringify(old[k]) !== JSON.stringify(fresh[k]))
        throw new KnError(
          'bad-input',
          `this folder's atlas was built with ${k} = ${JSON.stringify(old[k])}, this build asks for ${JSON.stringify(fresh[k])}: resume it with the same options or use another folder`,
        );
    }
  }
  return old;
}

/** The build's meta from the options (facts picked when a number is asked for, or taken from a folder being resumed). */
export async function prepareAtlas(
  model: LoadedModel,
  o: AtlasBuildOptions,
  signal?: AbortSignal,
  onProgress?: (p: AtlasProgress) => void,
): Promise<AtlasBuildMeta> {
  const langs = checkLangs(o.langs ?? LANGS);
  const meta: AtlasBuildMeta = {
    format: 'kn-atlas-build',
    version: 1,
    model: o.modelName ?? model.info.source,
    contentHash: model.info.contentHash,
    numLayers: model.cfg.numLayers,
    ffnSize: model.cfg.ffn,
    settings: resolveSettings({ ...modelDefaults(model.info).settings, ...(o.settings ?? {}) }),
    steps: checkSteps(o.steps ?? DEFAULT_STEPS),
    baseline: checkBaseline(o.baseline ?? DEFAULT_BASELINE),
    quadrature: checkQuadrature(o.quadrature ?? DEFAULT_QUADRATURE),
    langs,
    seed: o.seed ?? DEFAULT_SEED,
    lape: { ...LAPE_DEFAULT_RATES, ...(o.lape ?? {}) },
    facts: [],
    request: { facts: Array.isArray(o.facts) ? o.facts.length : (o.facts ?? ATLAS_DEFAULT_FACTS), candidates: o.candidates ? o.candidates.length : null },
    command: o.command ?? '',
  };
  const old = await checkAtlasFolder(o.store, model, meta);
  if (old) return { ...meta, facts: old.facts, command: old.command || meta.command };
  if (Array.isArray(o.facts)) meta.facts = [...o.facts];
  else {
    const t0 = performance.now();
    meta.facts = await pickFacts(model, o.bench, {
      facts: o.facts ?? ATLAS_DEFAULT_FACTS,
      langs,
      seed: meta.seed,
      candidates: o.candidates,
      signal,
      onProgress: (p) => onProgress?.({ phase: 'pick', done: p.picked, total: o.facts as number, elapsedMs: performance.now() - t0, etaMs: null }),
    });
  }
  if (!meta.facts.length) throw new KnError('bad-input', 'the atlas needs at least one fact');
  await o.store.set(BUILD_KEY, meta);
  return meta;
}

/** The rows a store holds for the meta's facts, and a line per row it could not read. */
export async function readAtlasRows(store: RecordStore, meta: AtlasBuildMeta): Promise<{ rows: AtlasRow[]; timings: FactTiming[]; problems: string[] }> {
  const rows: AtlasRow[] = [],
    timings: FactTiming[] = [],
    problems: string[] = [];
  const keys = new Set(await store.keys());
  for (const fact of meta.facts) {
    const k = rowKey(fact);
    if (!keys.has(k)) continue;
    let rec: { row?: AtlasRow; timing?: FactTiming } | undefined;
    try {
      rec = await store.get(k);
    } catch (e) {
      problems.push(`${k}: unreadable (${e instanceof Error ? e.message : String(e)}); skipped`);
      continue;
    }
    const r = rec?.row;
    if (!r || r.v !== 1 || r.fact !== fact || !Array.isArray(r.matrice) || !Array.isArray(r.amig) || !r.own || !r.scores) {
      problems.push(`${k}: not a row of fact ${fact}; skipped`);
      continue;
    }
    rows.push(r);
    if (rec?.timing && Number.isFinite(rec.timing.ms)) timings.push(rec.timing);
  }
  return { rows, timings, problems };
}

/** The row sink over the atlas store: rows/<fact>.json, a whole fact per write. */
function storeSink(store: RecordStore, meta: AtlasBuildMeta): RowSink<AtlasRow> {
  return {
    finished: async () => new Set((await readAtlasRows(store, meta)).rows.map((r) => r.fact)),
    write: async (row, timing) => store.set(rowKey(row.fact), { row, timing }),
  };
}

/** One fact's row: localize through the cache, MaTrice, AMIG and each language's own set, with their scores. */
export async function atlasRow(
  model: LoadedModel,
  o: AtlasBuildOptions,
  meta: AtlasBuildMeta,
  fact: string,
  index: number,
  signal?: AbortSignal,
): Promise<AtlasRow> {
  const s = await FactSession.open(model, o.bench, fact, meta.langs, { topK: 1 });
  await s.localize({ steps: meta.steps, baseline: meta.baseline, quadrature: meta.quadrature, store: o.cache, signal });
  const m = scoreMatrice(s.fa!, meta.settings);
  const amig = s.select('amig', meta.settings).neurons;
  const own = s.selectPerLanguage(meta.settings);
  const all = new Map<string, NeuronRef>();
  for (const n of [...m.selected, ...amig, ...Object.values(own).flat()]) all.set(neuronKey(n), [n[0], n[1]]);
  const scores: AtlasRow['scores'] = {};
  for (const [k, [l, j]] of all) {
    const perLang: Record<string, number> = {};
    for (const lang of m.languages) perLang[lang] = p6(m.perLanguage[lang][l][j]);
    scores[k] = { S: p6(m.S[l][j]), perLang };
  }
  const ref = (ns: readonly (readonly number[])[]) => ns.map((n) => [n[0], n[1]] as NeuronRef);
  const ownOut: AtlasRow['own'] = {};
  for (const [lang, ns] of Object.entries(own)) ownOut[lang as Lang] = ref(ns!);
  return { v: 1, fact, index, relation: s.relation, known: s.knownLanguages(), matrice: ref(m.selected), amig: ref(amig), own: ownOut, scores };
}

/**
 * Builds (or resumes) an atlas into `opts.store`: the facts' rows, then — unless a shard is asked for — the merge.
 * Cancellable between facts (finished facts are kept) and between phases of the merge.
 */
export async function buildAtlas(
  model: LoadedModel,
  opts: AtlasBuildOptions,
  onProgress?: (p: AtlasProgress) => void,
  signal?: AbortSignal,
): Promise<AtlasBuildResult> {
  const meta = await prepareAtlas(model, opts, signal, onProgress);
  const r = await runFacts<AtlasBuildMeta & { shard: { k: number; n: number } | null }, AtlasRow, AtlasProgress>({
    meta: { ...meta, shard: opts.shard ?? null },
    sink: storeSink(opts.store, meta),
    signal,
    what: 'atlas build',
    runFact: (fact, index) => atlasRow(model, opts, meta, fact, index, signal),
    onProgress: (p) => onProgress?.({ ...(p as unknown as Omit<AtlasProgress, 'phase'>), phase: 'facts' }),
  });
  if (opts.shard) {
    const { timings, problems } = await readAtlasRows(opts.store, meta);
    return { index: null, written: r.written, skipped: r.skipped, problems, bytes: 0, pages: 0, timings };
  }
  const merged = await mergeAtlas(model, opts.bench, opts.store, onProgress, signal);
  return { ...merged, written: r.written, skipped: r.skipped };
}

/** Why a neuron is of its type (ATLAS_TYPE_RULE). */
export function classify(x: { lapeLangs: readonly string[]; factsByRelation: ReadonlyMap<string, number>; agnostic: boolean }): NeuronType {
  if (x.lapeLangs.length) return 'language';
  if (x.factsByRelation.size >= ATLAS_HUB_MIN_RELATIONS) return 'hub';
  if ([...x.factsByRelation.values()].some((c) => c >= ATLAS_RELATION_MIN_FACTS)) return 'relation';
  return x.agnostic ? 'fact' : 'other';
}

/**
 * The merge: every fact's row in the store (all shards), the activations of all the facts' queries, LAPE, the
 * logit lens, and the pages and the index. Refuses to run while rows are missing.
 */
export async function mergeAtlas(
  model: LoadedModel,
  bench: RmlLama,
  store: RecordStore,
  onProgress?: (p: AtlasProgress) => void,
  signal?: AbortSignal,
): Promise<Omit<AtlasBuildResult, 'written' | 'skipped'>> {
  const meta = await checkAtlasFolder(store, model);
  if (!meta) throw new KnError('bad-input', 'this folder has no atlas build (build.json) to merge');
  const { rows, timings, problems } = await readAtlasRows(store, meta);
  const have = new Set(rows.map((r) => r.fact));
  const missing = meta.facts.filter((f) => !have.has(f));
  if (missing.length)
    throw new KnError(
      'bad-input',
      `${missing.length} of the atlas's ${meta.facts.length} facts have no row yet (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}): run the build (every shard) first`,
    );
  const t0 = performance.now();
  const cancelled = () => new KnError('cancelled', 'atlas merge cancelled (the facts\u2019 rows are kept; run again to merge)');
  const L = meta.numLayers,
    F = meta.ffnSize;

  // every query of every fact: answer-position activations and LAPE's counts
  const queries: { fact: string; lang: Lang; prompt: string; target: string }[] = [];
  for (const fact of meta.facts) {
    const b = await buildFactQueries(model, bench, fact, meta.langs);
    for (const q of b.queries) queries.push({ fact, lang: q.lang, prompt: q.prompt, target: q.target });
  }
  const acts = await queryActivations(
    model,
    queries,
    (done, total) => onProgress?.({ phase: 'activations', done, total, elapsedMs: performance.now() - t0, etaMs: null }),
    signal,
  );
  if (signal?.aborted) throw cancelled();
  const langs = meta.langs.filter((l) => acts.overZero[l]?.tokens > 0);
  const lapeRes = lape(
    activationTable(
      langs,
      L,
      F,
      langs.map((l) => acts.overZero[l].counts),
      langs.map((l) => acts.overZero[l].tokens),
    ),
    meta.lape,
  );

  // the neurons with a page: every selection of every fact, and LAPE's
  const uses = new Map<string, { neuron: NeuronRef; list: AtlasFactUse[]; coverage: number[] }>();
  for (const r of rows) {
    const ownSets = Object.entries(r.own).map(([lang, ns]) => [lang, new Set(ns!.map(neuronKey))] as const);
    const methods = new Map<string, AtlasMethod[]>();
    const add = (n: NeuronRef, m: AtlasMethod) => {
      const k = neuronKey(n);
      const ms = methods.get(k);
      if (ms) ms.push(m);
      else methods.set(k, [m]);
    };
    for (const n of r.matrice) add(n, 'matrice');
    for (const n of r.amig) add(n, 'amig');
    for (const [lang, ns] of Object.entries(r.own)) for (const n of ns!) add(n, `own:${lang}`);
    for (const [k, ms] of methods) {
      const [l, j] = k.split('.').map(Number) as [number, number];
      const u = uses.get(k) ?? { neuron: [l, j] as NeuronRef, list: [], coverage: [] };
      const sc = r.scores[k] ?? { S: 0, perLang: {} };
      u.list.push({ fact: r.fact, relation: r.relation, methods: ms, score: sc.S, perLang: sc.perLang });
      u.coverage.push(ownSets.filter(([, set]) => set.has(k)).length);
      uses.set(k, u);
    }
  }
  const lapeLangsOf = new Map<string, string[]>();
  for (const [lang, ns] of Object.entries(lapeRes.sets)) for (const n of ns) lapeLangsOf.set(neuronKey(n), [...(lapeLangsOf.get(neuronKey(n)) ?? []), lang]);
  const neurons = sortNeurons(
    new Map([
      ...[...uses.values()].map((u) => [neuronKey(u.neuron), u.neuron] as const),
      ...lapeRes.kept.filter((n) => lapeLangsOf.has(neuronKey(n))).map((n) => [neuronKey(n), n] as const),
    ]).values(),
  );

  // each (fact, language)'s object and its first token (the first query's target)
  const objects: { fact: string; lang: string; object: string; id: number }[] = [];
  const seen = new Set<string>();
  for (const q of queries) {
    const k = `${q.fact}\u0000${q.lang}`;
    if (seen.has(k)) continue;
    seen.add(k);
    objects.push({ fact: q.fact, lang: q.lang, object: q.target, id: model.tok.targetId(q.prompt, q.target) });
  }

  const entries: AtlasEntry[] = [];
  let bytes = 0;
  const CHUNK = 64;
  for (let c0 = 0; c0 < neurons.length; c0 += CHUNK) {
    if (signal?.aborted) throw cancelled();
    const chunk = neurons.slice(c0, c0 + CHUNK);
    const logits = await lensLogits(model, chunk);
    for (const [ci, n] of chunk.entries()) {
      const k = neuronKey(n);
      const i = n[0] * F + n[1];
      const u = uses.get(k);
      const list = u?.list ?? [];
      const byRel = new Map<string, number>();
      for (const x of list) if (x.methods.includes('matrice') || x.methods.includes('amig')) byRel.set(x.relation, (byRel.get(x.relation) ?? 0) + 1);
      const allRel = new Map<string, number>();
      for (const x of list) allRel.set(x.relation, (allRel.get(x.relation) ?? 0) + 1);
      const lens = lensTokens(model, logits[ci], ATLAS_LENS_K);
      const lapeLangs = lapeLangsOf.get(k) ?? [];
      const entry: AtlasEntry = {
        neuron: n,
        type: classify({ lapeLangs, factsByRelation: byRel, agnostic: byRel.size > 0 }),
        facts: list.length,
        relations: [...allRel.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([r]) => r),
        coverage: u && u.coverage.length ? p6(u.coverage.reduce((a, b) => a + b, 0) / u.coverage.length) : 0,
        lapeLangs,
        entropy: p6(lapeRes.rawEntropy[i]),
        topTokens: lens.promoted.slice(0, ATLAS_INDEX_TOKENS).map((t) => t.token),
        factIds: list.map((x) => x.fact),
      };
      const activation: NeuronPage['activation'] = {};
      for (const lang of langs) {
        let sum = 0,
          pos = 0,
          count = 0;
        const top: { q: number; a: number }[] = [];
        queries.forEach((q, qi) => {
          if (q.lang !== lang) return;
          const a = acts.answer[qi][i];
          sum += a;
          count++;
          if (a > 0) pos++;
          top.push({ q: qi, a });
        });
        top.sort((x, y) => y.a - x.a || x.q - y.q);
        activation[lang] = {
          mean: p6(count ? sum / count : 0),
          fracPositive: p6(count ? pos / count : 0),
          count,
          top: top.slice(0, ATLAS_TOP_QUERIES).map((t) => ({ fact: queries[t.q].fact, text: queries[t.q].prompt, activation: p6(t.a) })),
        };
      }
      const lapeProfile: Record<string, number> = {};
      langs.forEach((lang, kk) => (lapeProfile[lang] = p6(lapeRes.normalized[kk][i])));
      const objs = objects
        .map((o) => ({ fact: o.fact, lang: o.lang, object: o.object, rank: lensRank(logits[ci], o.id), logit: p6(logits[ci][o.id]) }))
        .filter((o) => o.rank < ATLAS_LENS_OBJECT_RANK)
        .sort((a, b) => a.rank - b.rank || (a.fact < b.fact ? -1 : a.fact > b.fact ? 1 : a.lang < b.lang ? -1 : 1))
        .slice(0, ATLAS_LENS_OBJECTS_MAX);
      const page: NeuronPage = {
        format: ATLAS_FORMAT,
        version: ATLAS_VERSION,
        contentHash: meta.contentHash,
        entry,
        uses: list,
        activation,
        lapeProfile,
        lens: { promoted: lens.promoted, suppressed: lens.suppressed, objects: objs },
      };
      await store.set(neuronFile(n), page);
      bytes += byteLength(page);
      entries.push(entry);
    }
    onProgress?.({
      phase: 'pages',
      done: Math.min(neurons.length, c0 + CHUNK),
      total: neurons.length,
      elapsedMs: performance.now() - t0,
      etaMs: timeLeftMs({ elapsedMs: performance.now() - t0, finished: Math.min(neurons.length, c0 + CHUNK), total: neurons.length }),
    });
  }
  const index: AtlasIndex = {
    format: ATLAS_FORMAT,
    version: ATLAS_VERSION,
    model: meta.model,
    contentHash: meta.contentHash,
    command: meta.command,
    settings: { ...meta.settings, steps: meta.steps, baseline: meta.baseline, quadrature: meta.quadrature },
    langs,
    facts: meta.facts,
    layers: L,
    neuronsPerLayer: F,
    lape: { topRate: meta.lape.topRate, filterRate: meta.lape.filterRate, activationBarRate: meta.lape.activationBarRate, sets: lapeRes.sets },
    typeRule: ATLAS_TYPE_RULE,
    neurons: entries,
  };
  await store.set(INDEX_KEY, index);
  bytes += byteLength(index);
  return { index, problems, bytes, pages: entries.length, timings };
}

/** LAPE over the queries of some facts (all tokens), for `kn lape` and the lape experiment. */
export async function lapeSets(
  model: LoadedModel,
  bench: RmlLama,
  facts: readonly string[],
  langs: readonly string[] = LANGS,
  rates: Partial<LapeRates> = {},
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<LapeResult & { tokens: Record<string, number>; queries: number }> {
  const ls = checkLangs(langs);
  const queries: { lang: Lang; prompt: string }[] = [];
  for (const fact of facts) for (const q of (await buildFactQueries(model, bench, fact, ls)).queries) queries.push({ lang: q.lang, prompt: q.prompt });
  const acts = await queryActivations(model, queries, onProgress, signal);
  const have = ls.filter((l) => acts.overZero[l]?.tokens > 0);
  const res = lape(
    activationTable(
      have,
      model.cfg.numLayers,
      model.cfg.ffn,
      have.map((l) => acts.overZero[l].counts),
      have.map((l) => acts.overZero[l].tokens),
    ),
    rates,
  );
  return { ...res, tokens: Object.fromEntries(have.map((l) => [l, acts.overZero[l].tokens])), queries: queries.length };
}

/** A view of a record store under a key prefix (e.g. `atlas:<content hash>/`), so one IndexedDB store can hold several atlases. */
export function prefixedStore(store: RecordStore, prefix: string): RecordStore {
  return {
    kind: store.kind,
    get: (key) => store.get(prefix + key),
    set: (key, value) => store.set(prefix + key, value),
    delete: (key) => store.delete(prefix + key),
    keys: async () => (await store.keys()).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  };
}

/**
 * The Atlas view's logic (pure, no DOM; tests/ui/atlas.test.ts): reading a static atlas (src/shared/atlas.ts, the
 * files `kn atlas build` writes to models/<name>/atlas/) with fetch, so a static host serves it without a model;
 * checking it (its format, the loaded model's content hash, a neuron inside the model); searching its index by
 * token, fact, relation, language and type; and the numbers a neuron's page shows.
 */
import { KnError } from '../../shared/errors';
import { findEntry, readAtlas, readNeuronPage, searchAtlas } from '../../engine/atlas';
import { ATLAS_INDEX_TOKENS } from '../../engine/rules';
import type { AtlasEntry, AtlasIndex, AtlasMethod, NeuronPage, NeuronRef, NeuronType } from '../../shared/atlas';
import { neuronFile, neuronKey, neuronLabel, parseNeuron } from '../../shared/atlas';
import { LANG_NAMES, METHOD_LABELS, RELATION_NAMES } from '../explorer/logic';

export { neuronKey, neuronLabel, parseNeuron, type AtlasEntry, type AtlasIndex, type NeuronPage, type NeuronRef, type NeuronType };
export { LANG_NAMES, RELATION_NAMES };

export const NEURON_TYPES: readonly NeuronType[] = ['fact', 'relation', 'language', 'hub', 'other'];
export const TYPE_LABELS: Readonly<Record<NeuronType, string>> = {
  fact: 'fact neuron',
  relation: 'relation neuron',
  language: 'language-specific',
  hub: 'shared hub',
  other: 'other',
};

// ---------------------------------------------------------------------------------------------------
// where an atlas lives

/** `models/<name>/atlas/` under the page's base: the shipped atlas of a bundled model. */
export function atlasDir(name: string, base = '/'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name) || name.includes('..'))
    throw new KnError('bad-input', `atlas: "${name}" is not a bundled model's folder name`);
  return `${base.replace(/\/?$/, '/')}models/${name}/atlas/`;
}

/** The atlas a page opens: `?atlas=<name>` when given, else the loaded bundled model's, else the default model's. */
export function atlasName(search: string, loaded: string | null, fallback: string): string {
  const p = new URLSearchParams(search).get('atlas');
  return p?.trim() || loaded || fallback;
}

/**
 * The atlas for the page's model: `?atlas=<name>` when given; else the loaded bundled model's; none (null) for a model
 * loaded from elsewhere (it has no shipped atlas); the default model's while none is loaded.
 */
export function atlasNameFor(search: string, spec: { type: string; name?: string } | null, fallback: string): string | null {
  if (spec && spec.type !== 'bundled' && !new URLSearchParams(search).get('atlas')) return null;
  return atlasName(search, spec?.type === 'bundled' ? (spec.name ?? null) : null, fallback);
}

/** `?neuron=0.46` (or `L0·46`) of a page's address: the neuron it opens in the Atlas view; null when none. */
export function neuronParam(search: string): NeuronRef | null {
  const p = new URLSearchParams(search).get('neuron');
  if (p === null) return null;
  const n = parseNeuron(p);
  if (!n) throw new KnError('bad-input', `link: neuron "${p.slice(0, 40)}" is not a neuron; write it layer.index, such as 0.46`);
  return n;
}

/** The address with `?neuron=` set to n (or removed when null), the other parameters and the hash kept. */
export function withNeuronParam(search: string, n: NeuronRef | null): string {
  const p = new URLSearchParams(search);
  // unchanged: the address as it was (URLSearchParams would re-encode the other parameters)
  if (n ? p.get('neuron') === neuronKey(n) : !p.has('neuron')) return search;
  if (n) p.set('neuron', neuronKey(n));
  else p.delete('neuron');
  const s = p.toString();
  return s ? `?${s}` : '';
}

// ---------------------------------------------------------------------------------------------------
// reading and checking

export type Fetch = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; headers?: { get(name: string): string | null } }>;

/** An HTML answer to a JSON file: a host's page-not-found fallback (a single-page app's index.html), so the file is missing. */
const isHtml = (res: { headers?: { get(name: string): string | null } }) => (res.headers?.get('content-type') ?? '').includes('html');

const isRef = (x: unknown): x is NeuronRef => Array.isArray(x) && x.length === 2 && x.every((v) => Number.isInteger(v) && v >= 0);

/** An index checked; an entry that is not well formed is left out and named in `skipped`. */
export interface ReadAtlas {
  index: AtlasIndex;
  skipped: string[];
}

/**
 * Checks an atlas.json (`where` names it in messages) with the engine's reader (engine/atlas readAtlas: a malformed
 * entry is skipped and named); a LAPE set's neuron outside the model is dropped and named too.
 */
export function parseAtlasIndex(json: unknown, where = 'atlas.json'): ReadAtlas {
  const { index, problems } = readAtlas(json, where);
  const skipped = [...problems];
  const sets: Record<string, NeuronRef[]> = {};
  for (const [lang, ns] of Object.entries(index.lape.sets as Record<string, unknown>)) {
    if (!Array.isArray(ns) || !ns.every(isRef)) {
      skipped.push(`${where}: the LAPE set of "${lang}" is not a list of neurons; skipped`);
      continue;
    }
    const inside = ns.filter((n) => n[0] < index.layers && n[1] < index.neuronsPerLayer);
    if (inside.length < ns.length) skipped.push(`${where}: the LAPE set of "${lang}" names ${ns.length - inside.length} neuron(s) beyond the model; left out`);
    sets[lang] = inside;
  }
  return { index: { ...index, lape: { ...index.lape, sets } }, skipped };
}

/** Checks a neuron's page against its index (engine/atlas readNeuronPage: the same model) and that it is n's page. */
export function parseNeuronPage(json: unknown, index: AtlasIndex, n: NeuronRef): NeuronPage {
  const where = neuronFile(n);
  const page = readNeuronPage(json, index, where);
  if (page.entry.neuron[0] !== n[0] || page.entry.neuron[1] !== n[1]) throw new KnError('corrupt-file', `${where} is not the page of ${neuronLabel(n)}`);
  return page;
}

/** The entry of a neuron the atlas has a page for, or a KnError saying why it has none (beyond the model, or no page). */
export const entryOf = (index: AtlasIndex, n: NeuronRef): AtlasEntry => findEntry(index, n);

/** '' when the atlas fits the loaded model (or none is loaded), else what is wrong. */
export function modelMismatch(index: AtlasIndex, model: { contentHash: string; source?: string } | null): string {
  if (!model || model.contentHash === index.contentHash) return '';
  return `This atlas was built from ${index.model} (content hash ${index.contentHash.slice(0, 12)}…), not from the loaded model ${model.source ?? ''} (${model.contentHash.slice(0, 12)}…): its numbers describe other weights.`;
}

/** Fetches and checks `<dir>atlas.json`; a missing file is a KnError('missing-file') that says how to make one. */
export async function fetchAtlasIndex(dir: string, name: string, f: Fetch = fetch): Promise<ReadAtlas> {
  const url = `${dir}atlas.json`;
  let res: Awaited<ReturnType<Fetch>>;
  try {
    res = await f(url);
  } catch (e) {
    throw new KnError('unreachable', `atlas: ${url} could not be fetched (${e instanceof Error ? e.message : String(e)})`);
  }
  if (res.status === 404 || !res.ok || isHtml(res)) {
    throw new KnError(
      'missing-file',
      `${name} has no atlas: ${url} is missing${res.ok || res.status === 404 ? '' : ` (HTTP ${res.status})`}. Build one with \`npm run -s kn -- atlas build --model bundled:${name} --out public/models/${name}/atlas\`, or in the Experiments view.`,
    );
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new KnError('corrupt-file', `${url} is not JSON`);
  }
  return parseAtlasIndex(json, url);
}

export async function fetchNeuronPage(dir: string, index: AtlasIndex, n: NeuronRef, f: Fetch = fetch): Promise<NeuronPage> {
  entryOf(index, n);
  const url = `${dir}${neuronFile(n)}`;
  const res = await f(url).catch((e) => {
    throw new KnError('unreachable', `atlas: ${url} could not be fetched (${e instanceof Error ? e.message : String(e)})`);
  });
  if (!res.ok || isHtml(res)) throw new KnError('missing-file', `the atlas lists ${neuronLabel(n)} but its page ${url} is missing (HTTP ${res.status})`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new KnError('corrupt-file', `${url} is not JSON`);
  }
  return parseNeuronPage(json, index, n);
}

// ---------------------------------------------------------------------------------------------------
// search

export interface AtlasQuery {
  /** a token of the logit lens (case-insensitive; part of a token matches) */
  token?: string;
  /** a fact id such as P36:0 (matched against the neurons' pages: see factCandidates) */
  fact?: string;
  relation?: string;
  lang?: string;
  type?: NeuronType | '';
}

/** A lens token as people type it: GPT-2's Ġ and a leading space dropped, lower case. */
export const normToken = (t: string) => t.replace(/^[\sĠ▁]+/, '').toLowerCase();

/** Whether the query asks for anything (an empty search lists every neuron). */
export const queryIsEmpty = (q: AtlasQuery) => !q.token?.trim() && !q.fact?.trim() && !q.relation && !q.lang && !q.type;

/**
 * The index entries that match every given criterion, most facts first (then higher coverage, then layer and index).
 * A fact is matched on its relation here (the index keeps no fact ids); `factCandidates` + the pages finish it.
 */
export function searchIndex(index: AtlasIndex, q: AtlasQuery): AtlasEntry[] {
  const fact = q.fact?.trim() ? normFact(q.fact) : '';
  // the engine's search (engine/atlas searchAtlas); a fact through its ids where the index keeps them, else through its relation
  const byIds = !!fact && index.neurons.some((e) => e.factIds);
  const out = searchAtlas(index, {
    token: q.token?.trim() ? normToken(q.token) : undefined,
    fact: byIds ? fact : undefined,
    relation: q.relation || (fact && !byIds ? factRelation(fact) : undefined),
    lang: q.lang || undefined,
    type: q.type || undefined,
  }).filter((e) => !q.relation || !fact || byIds || e.relations.includes(factRelation(fact)));
  return out.sort((a, b) => b.facts - a.facts || b.coverage - a.coverage || a.neuron[0] - b.neuron[0] || a.neuron[1] - b.neuron[1]);
}

/** Whether a fact search must still read the pages (the index keeps no fact ids). */
export const factNeedsPages = (index: AtlasIndex, q: AtlasQuery) => !!q.fact?.trim() && !index.neurons.some((e) => e.factIds);

/** `P36:0` → `P36` (a fact id is relation:index); KnError when it is not a fact id. */
export function factRelation(fact: string): string {
  const m = /^(P\d+)[:/](\d+)$/.exec(fact.trim());
  if (!m) throw new KnError('bad-input', `fact "${fact.trim().slice(0, 40)}" is not a fact id; write it relation:index, such as P36:0`);
  return m[1];
}

/** The fact's id as the atlas writes it (`P36/0` → `P36:0`). */
export const normFact = (fact: string) => `${factRelation(fact)}:${fact.trim().split(/[:/]/)[1]}`;

/** Whether a neuron's page names the fact among the facts that selected it. */
export const pageHasFact = (page: NeuronPage, fact: string) => page.uses.some((u) => u.fact === normFact(fact));

/** What the page says when a search matches nothing: the criteria, in words. */
export function noMatchText(index: AtlasIndex, q: AtlasQuery): string {
  const parts: string[] = [];
  if (q.token?.trim()) parts.push(`promotes a token like "${q.token.trim()}"`);
  if (q.fact?.trim()) parts.push(`was selected for ${q.fact.trim()}`);
  if (q.relation) parts.push(`was selected for ${q.relation}${RELATION_NAMES[q.relation] ? ` (${RELATION_NAMES[q.relation]})` : ''}`);
  if (q.lang) parts.push(`is specific to ${LANG_NAMES[q.lang] ?? q.lang}`);
  if (q.type) parts.push(`is a ${TYPE_LABELS[q.type]}`);
  const inFacts =
    q.fact?.trim() && !index.facts.includes(normFactSafe(q.fact))
      ? ` (the atlas was built from ${index.facts.length} facts and ${q.fact.trim()} is not one of them)`
      : '';
  return `No neuron in this atlas ${parts.join(' and ')}${inFacts}.`;
}

function normFactSafe(f: string): string {
  try {
    return normFact(f);
  } catch {
    return f;
  }
}

/** The relations and languages the index's search offers (as they occur in it). */
export function searchChoices(index: AtlasIndex): { relations: string[]; langs: string[]; types: NeuronType[] } {
  const rel = new Set<string>();
  const langs = new Set<string>();
  const types = new Set<NeuronType>();
  for (const e of index.neurons) {
    for (const r of e.relations) rel.add(r);
    for (const l of e.lapeLangs) langs.add(l);
    types.add(e.type);
  }
  return {
    relations: [...rel].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
    langs: index.langs.filter((l) => langs.has(l) || (index.lape.sets[l]?.length ?? 0) > 0),
    types: NEURON_TYPES.filter((t) => types.has(t)),
  };
}

/** A row of the search results' table. */
export interface AtlasRow {
  key: string;
  neuron: NeuronRef;
  label: string;
  type: string;
  facts: number;
  coverage: string;
  lape: string;
  tokens: string;
  relations: string;
}

export function atlasRow(e: AtlasEntry, tokens = ATLAS_INDEX_TOKENS): AtlasRow {
  return {
    key: neuronKey(e.neuron),
    neuron: e.neuron,
    label: neuronLabel(e.neuron),
    type: TYPE_LABELS[e.type],
    facts: e.facts,
    coverage: `${e.coverage.toFixed(1)} / 7`,
    lape: e.lapeLangs.length ? e.lapeLangs.join(', ') : '—',
    tokens: e.topTokens
      .slice(0, tokens)
      .map((t) => visible(t))
      .join(' '),
    relations: e.relations.join(', '),
  };
}

/** A token shown: GPT-2's Ġ as a visible space mark, an empty one as ∅. */
export function visible(t: string): string {
  const s = t.replace(/^Ġ/, '␣').replace(/^ /, '␣');
  return s || '∅';
}

/** The atlas's neurons of each type (the index's counts), in NEURON_TYPES order. */
export function typeCounts(index: AtlasIndex): { type: NeuronType; label: string; count: number }[] {
  return NEURON_TYPES.map((t) => ({ type: t, label: TYPE_LABELS[t], count: index.neurons.filter((e) => e.type === t).length })).filter((r) => r.count > 0);
}

// ---------------------------------------------------------------------------------------------------
// a neuron's page

/** A method as the page names it: MaTrice, AMIG, "English's own set". */
export function methodText(m: AtlasMethod): string {
  if (m.startsWith('own:')) {
    const l = m.slice(4);
    return `${LANG_NAMES[l] ?? l}'s own set`;
  }
  return METHOD_LABELS[m] ?? m;
}

/** Languages whose own set holds it for one fact (the `own:<lang>` methods). */
export const useCoverage = (methods: readonly AtlasMethod[]) => methods.filter((m) => m.startsWith('own:')).map((m) => m.slice(4));

/** LAPE's entropy of a normalized profile, natural log (0 = one language, ln 7 = even over seven). */
export function entropy(profile: Record<string, number>): number {
  let h = 0;
  for (const p of Object.values(profile)) if (p > 0) h -= p * Math.log(p);
  return h;
}

/** One value per language, in the atlas's language order (a language the page lacks is 0). */
export interface LangValue {
  lang: string;
  name: string;
  value: number;
  /** the text a readout and the data table show */
  text: string;
}

export function activationBars(page: NeuronPage, langs: readonly string[]): { mean: LangValue[]; positive: LangValue[] } {
  const mean: LangValue[] = [];
  const positive: LangValue[] = [];
  for (const l of langs) {
    const a = page.activation[l];
    const name = LANG_NAMES[l] ?? l;
    mean.push({ lang: l, name, value: a?.mean ?? 0, text: a ? `${fmt(a.mean)} (over ${a.count} queries)` : 'no queries' });
    positive.push({ lang: l, name, value: a?.fracPositive ?? 0, text: a ? `${(a.fracPositive * 100).toFixed(1)} % of ${a.count} queries` : 'no queries' });
  }
  return { mean, positive };
}

export function lapeBars(page: NeuronPage, langs: readonly string[]): LangValue[] {
  return langs.map((l) => {
    const p = page.lapeProfile[l] ?? 0;
    return { lang: l, name: LANG_NAMES[l] ?? l, value: p, text: `${(p * 100).toFixed(1)} %` };
  });
}

/** The facts' objects the lens ranks, one row per fact with the rank in each language (null where it has none). */
export function objectRanks(page: NeuronPage, langs: readonly string[]): { fact: string; object: string; ranks: (number | null)[] }[] {
  const by = new Map<string, { fact: string; object: string; ranks: (number | null)[] }>();
  for (const o of page.lens.objects) {
    let r = by.get(o.fact);
    if (!r) {
      r = { fact: o.fact, object: o.object, ranks: langs.map(() => null) };
      by.set(o.fact, r);
    }
    const i = langs.indexOf(o.lang);
    if (i >= 0) r.ranks[i] = o.rank;
    if (o.lang === 'en') r.object = o.object;
  }
  return [...by.values()].sort((a, b) => best(a.ranks) - best(b.ranks) || a.fact.localeCompare(b.fact));
}

const best = (r: (number | null)[]) => Math.min(...r.map((x) => x ?? Number.POSITIVE_INFINITY));

/** A number as the page shows it: 3 significant digits, a true minus sign. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1e-3 && a < 1e4 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
  return s.replace('-', '\u2212');
}

/** The sentence under a neuron's title: what it is and why, from its entry. */
export function neuronSummary(e: AtlasEntry, index: AtlasIndex): string {
  const rel = e.relations.length
    ? ` of ${e.relations.length === 1 ? 'relation' : 'relations'} ${e.relations.slice(0, 4).join(', ')}${e.relations.length > 4 ? ' …' : ''}`
    : '';
  const lape = e.lapeLangs.length ? ` LAPE: specific to ${e.lapeLangs.map((l) => LANG_NAMES[l] ?? l).join(' and ')}.` : ' LAPE: not specific to one language.';
  return `${neuronLabel(e.neuron)} (layer ${e.neuron[0]} of ${index.layers}) is a ${TYPE_LABELS[e.type]}: selected for ${e.facts} fact${e.facts === 1 ? '' : 's'}${rel}, coverage ${e.coverage.toFixed(1)} of 7 languages on average.${lape}`;
}

/**
 * A fact search finished on the neurons' pages: the candidates (entries of the fact's relation, from searchIndex)
 * whose page names the fact, fetched `batch` at a time through `page` (the store's cache).
 */
export async function filterByFact(
  candidates: readonly AtlasEntry[],
  fact: string,
  page: (n: NeuronRef) => Promise<NeuronPage>,
  batch = 8,
): Promise<AtlasEntry[]> {
  const out: AtlasEntry[] = [];
  for (let i = 0; i < candidates.length; i += batch) {
    const part = candidates.slice(i, i + batch);
    const pages = await Promise.all(part.map((e) => page(e.neuron)));
    part.forEach((e, k) => {
      if (pageHasFact(pages[k], fact)) out.push(e);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// the in-page build

export { ATLAS_DEFAULT_FACTS, FACTS_MAX, FACTS_MIN } from '../../engine/rules';

const PHASES: Record<string, string> = {
  pick: 'picking facts the model knows',
  facts: 'localizing the facts',
  activations: 'reading activations over every query',
  pages: 'writing the pages',
};

/** The build's progress in words: "localizing the facts: 3 of 40 (P36:4)". */
export function buildProgressText(p: { phase: string; done: number; total: number; fact?: string } | null): string {
  if (!p) return 'starting…';
  return `${PHASES[p.phase] ?? p.phase}: ${p.done} of ${p.total}${p.fact ? ` (${p.fact})` : ''}`;
}

/** What the store holds of the loaded model's atlas, in words. */
export function buildStatusText(s: { built: boolean; facts: number; done: number; storage: string } | null): string {
  if (!s) return '';
  const where = s.storage === 'indexeddb' ? 'stored in this browser' : 'kept in memory only (this browser has no IndexedDB here): a reload loses it';
  if (s.built) return `An atlas of these weights was built in this page (${s.facts} facts), ${where}.`;
  if (s.facts) return `A build was begun: ${s.done} of ${s.facts} facts are done; building again resumes it.`;
  return 'No atlas of these weights was built in this page yet.';
}

/**
 * Reading an atlas (src/shared/atlas.ts): parse and check atlas.json and a neuron page, and search the index.
 * A bad index entry is skipped and reported (the rest of the atlas stays readable); a bad file is a KnError naming
 * what is wrong. Environment-free.
 */
import { KnError } from '../../shared/errors';
import {
  ATLAS_FORMAT,
  ATLAS_VERSION,
  neuronLabel,
  type AtlasEntry,
  type AtlasIndex,
  type NeuronPage,
  type NeuronRef,
  type NeuronType,
} from '../../shared/atlas';
import { ATLAS_STATIC_MAX_BYTES } from '../rules';

export const NEURON_TYPES: readonly NeuronType[] = ['fact', 'relation', 'language', 'hub', 'other'];

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const isNeuron = (x: unknown): x is NeuronRef => Array.isArray(x) && x.length === 2 && x.every((v) => Number.isInteger(v) && v >= 0);
const strs = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');

function parse(text: unknown, what: string): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new KnError('bad-input', `${what} is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Why an index entry cannot be read, or null. */
export function entryProblem(e: unknown, layers: number, perLayer: number): string | null {
  if (!isObj(e)) return 'not an object';
  if (!isNeuron(e.neuron)) return 'neuron is not [layer, index]';
  const [l, j] = e.neuron;
  if (l >= layers || j >= perLayer) return `neuron L${l}·${j} is beyond the model (${layers} layers × ${perLayer} neurons)`;
  if (!NEURON_TYPES.includes(e.type as NeuronType)) return `type "${String(e.type)}" is none of ${NEURON_TYPES.join(', ')}`;
  if (typeof e.facts !== 'number' || typeof e.coverage !== 'number' || typeof e.entropy !== 'number') return 'facts, coverage or entropy is not a number';
  if (!strs(e.relations) || !strs(e.lapeLangs) || !strs(e.topTokens)) return 'relations, lapeLangs or topTokens is not a list of strings';
  if (e.factIds !== undefined && !strs(e.factIds)) return 'factIds is not a list of strings';
  return null;
}

/**
 * atlas.json (text or parsed): the index with its readable entries, and one problem line per entry skipped.
 * A file that is no atlas index at all is refused.
 */
export function readAtlas(text: unknown, where = 'atlas.json'): { index: AtlasIndex; problems: string[] } {
  const o = parse(text, where);
  if (!isObj(o) || o.format !== ATLAS_FORMAT) throw new KnError('bad-input', `${where} is not a neuron atlas index (format is not "${ATLAS_FORMAT}")`);
  if (o.version !== ATLAS_VERSION) throw new KnError('bad-input', `${where} is atlas version ${String(o.version)}; this build reads version ${ATLAS_VERSION}`);
  for (const k of ['model', 'contentHash', 'typeRule', 'command'] as const)
    if (typeof o[k] !== 'string') throw new KnError('bad-input', `${where}: ${k} is missing or not a string`);
  if (!Number.isInteger(o.layers) || !Number.isInteger(o.neuronsPerLayer) || (o.layers as number) < 1 || (o.neuronsPerLayer as number) < 1)
    throw new KnError('bad-input', `${where}: layers and neuronsPerLayer must be positive integers`);
  if (!strs(o.langs) || !strs(o.facts)) throw new KnError('bad-input', `${where}: langs and facts must be lists of strings`);
  if (!isObj(o.lape) || !isObj(o.lape.sets)) throw new KnError('bad-input', `${where}: lape.sets is missing`);
  if (!isObj(o.settings)) throw new KnError('bad-input', `${where}: settings is missing`);
  if (!Array.isArray(o.neurons)) throw new KnError('bad-input', `${where}: neurons is not a list`);
  const layers = o.layers as number,
    per = o.neuronsPerLayer as number;
  const problems: string[] = [];
  const neurons: AtlasEntry[] = [];
  o.neurons.forEach((e, i) => {
    const p = entryProblem(e, layers, per);
    if (p) problems.push(`${where}: neuron entry ${i + 1}: ${p}; skipped`);
    else neurons.push(e as unknown as AtlasEntry);
  });
  return { index: { ...(o as unknown as AtlasIndex), neurons }, problems };
}

/** A neuron page (text or parsed), checked; `index` (when given) must be of the same model. */
export function readNeuronPage(text: unknown, index?: Pick<AtlasIndex, 'contentHash' | 'layers' | 'neuronsPerLayer'>, where = 'neuron page'): NeuronPage {
  const o = parse(text, where);
  if (!isObj(o) || o.format !== ATLAS_FORMAT) throw new KnError('bad-input', `${where} is not a neuron atlas page (format is not "${ATLAS_FORMAT}")`);
  if (o.version !== ATLAS_VERSION) throw new KnError('bad-input', `${where} is atlas version ${String(o.version)}; this build reads version ${ATLAS_VERSION}`);
  if (typeof o.contentHash !== 'string') throw new KnError('bad-input', `${where}: contentHash is missing`);
  if (index && o.contentHash !== index.contentHash)
    throw new KnError('bad-input', `${where} belongs to the model with content hash ${o.contentHash}, not to this atlas's (${index.contentHash})`);
  const p = entryProblem(o.entry, index?.layers ?? Infinity, index?.neuronsPerLayer ?? Infinity);
  if (p) throw new KnError('bad-input', `${where}: entry: ${p}`);
  if (!Array.isArray(o.uses) || !isObj(o.activation) || !isObj(o.lapeProfile) || !isObj(o.lens))
    throw new KnError('bad-input', `${where}: uses, activation, lapeProfile or lens is missing`);
  const lens = o.lens as Record<string, unknown>;
  if (!Array.isArray(lens.promoted) || !Array.isArray(lens.suppressed) || !Array.isArray(lens.objects))
    throw new KnError('bad-input', `${where}: lens must hold promoted, suppressed and objects lists`);
  return o as unknown as NeuronPage;
}

export interface AtlasQuery {
  /** a logit-lens token (case-insensitive, surrounding spaces ignored; a substring matches) */
  token?: string;
  /** a fact id (e.g. P36:0) the neuron was selected for */
  fact?: string;
  /** a relation (e.g. P36) of the facts it was selected for */
  relation?: string;
  /** a language it is LAPE-specific to */
  lang?: string;
  type?: NeuronType;
}

/** The index entries matching every given field of the query, in index order. */
export function searchAtlas(index: Pick<AtlasIndex, 'neurons'>, q: AtlasQuery): AtlasEntry[] {
  if (q.type !== undefined && !NEURON_TYPES.includes(q.type))
    throw new KnError('bad-input', `--type must be one of ${NEURON_TYPES.join(', ')}, got "${q.type}"`);
  const tok = q.token?.trim().toLowerCase();
  return index.neurons.filter(
    (e) =>
      (!tok || e.topTokens.some((t) => t.trim().toLowerCase().includes(tok))) &&
      (!q.fact || (e.factIds ?? []).includes(q.fact)) &&
      (!q.relation || e.relations.includes(q.relation)) &&
      (!q.lang || e.lapeLangs.includes(q.lang)) &&
      (!q.type || e.type === q.type),
  );
}

/** "no neuron matches …" naming the query, for a search that found nothing. */
export function noMatch(q: AtlasQuery): string {
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} "${v}"`);
  return `no neuron matches ${parts.length ? parts.join(' and ') : 'an empty query'}`;
}

/** The index entry of a neuron, or a KnError naming why there is none. */
export function findEntry(index: AtlasIndex, n: NeuronRef): AtlasEntry {
  const [l, j] = n;
  if (l >= index.layers || j >= index.neuronsPerLayer)
    throw new KnError('bad-input', `neuron ${neuronLabel(n)} does not exist in ${index.model} (${index.layers} layers × ${index.neuronsPerLayer} neurons)`);
  const e = index.neurons.find((x) => x.neuron[0] === l && x.neuron[1] === j);
  if (!e) throw new KnError('bad-input', `neuron ${neuronLabel(n)} has no page in this atlas: no fact selected it and it is no LAPE neuron`);
  return e;
}

/**
 * Whether an atlas of `servedBytes` (atlas.json + pages) fits a static host (ATLAS_STATIC_MAX_BYTES), and when it does
 * not, how many facts would (the size grows about linearly with the facts) and the sentence that says so.
 */
export function staticHostCheck(servedBytes: number, facts: number): { tooBig: boolean; fitFacts: number | null; message: string | null } {
  const limit = ATLAS_STATIC_MAX_BYTES;
  if (servedBytes <= limit) return { tooBig: false, fitFacts: null, message: null };
  const fitFacts = facts > 0 ? Math.max(1, Math.floor((facts * limit) / servedBytes)) : null;
  const mb = (b: number) => (b / 1024 ** 2).toFixed(2);
  return {
    tooBig: true,
    fitFacts,
    message: `the atlas is ${mb(servedBytes)} MB: too big for a static host (over ${mb(limit)} MB); rebuild it with --facts ${fitFacts ?? 'N'} or fewer into a new folder`,
  };
}

/** Structural checks of manifest.json and shards; every refusal is a KnError naming the file at fault. */
import { KnError } from '../shared/errors';
import { LANGS, RELATIONS, SUPPORTED_FORMAT_VERSIONS, type Lang, type Manifest, type Relation, type Shard, type ShardEntry } from './types';

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;

export function isLang(x: unknown): x is Lang {
  return (LANGS as readonly unknown[]).includes(x);
}
export function isRelation(x: unknown): x is Relation {
  return (RELATIONS as readonly unknown[]).includes(x);
}

/** Checks a list of languages (at least one, each of LANGS); returns them without repeats, in order. */
export function checkLangs(langs: readonly string[], what = 'language'): Lang[] {
  if (!Array.isArray(langs) || langs.length === 0) throw new KnError('bad-input', `choose at least one ${what}`);
  for (const l of langs) checkLang(l, what);
  return [...new Set(langs)] as Lang[];
}

/** Checks one language code against LANGS. */
export function checkLang(l: unknown, what = 'language'): Lang {
  if (!isLang(l)) throw new KnError('bad-input', `unknown ${what} "${String(l)}"; one of ${LANGS.join(', ')}`);
  return l;
}

/** Checks one relation id (e.g. P36) against RELATIONS. */
export function checkRelation(r: unknown): Relation {
  if (!isRelation(r)) throw new KnError('bad-input', `unknown relation "${String(r)}"; one of ${RELATIONS.join(', ')}`);
  return r;
}

/** Checks a list of relations (each of RELATIONS). */
export function checkRelations(rs: readonly string[]): Relation[] {
  return rs.map(checkRelation);
}

export function validateManifest(x: unknown, where = 'manifest.json'): Manifest {
  if (!isObj(x)) throw new KnError('corrupt-file', `${where}: not a JSON object`);
  const fv = x.formatVersion;
  if (typeof fv !== 'number') throw new KnError('corrupt-file', `${where}: formatVersion is missing`);
  if (!SUPPORTED_FORMAT_VERSIONS.includes(fv)) {
    throw new KnError(
      'bad-config',
      `${where}: formatVersion ${fv} is not supported by this app (it reads ${SUPPORTED_FORMAT_VERSIONS.join(', ')}); update the app or rebuild the data with npm run data:build`,
    );
  }
  if (!isStr(x.version)) throw new KnError('corrupt-file', `${where}: version is missing`);
  if (!Array.isArray(x.shards)) throw new KnError('corrupt-file', `${where}: shards is not a list`);
  const seen = new Set<string>();
  x.shards.forEach((s, i) => {
    const at = `${where}: shards[${i}]`;
    if (!isObj(s)) throw new KnError('corrupt-file', `${at} is not an object`);
    if (!isRelation(s.relation)) throw new KnError('corrupt-file', `${at}: unknown relation ${JSON.stringify(s.relation)}`);
    if (!isLang(s.lang)) throw new KnError('corrupt-file', `${at}: unknown language ${JSON.stringify(s.lang)}`);
    if (!isStr(s.path) || s.path.includes('..') || s.path.startsWith('/')) throw new KnError('corrupt-file', `${at}: bad path ${JSON.stringify(s.path)}`);
    if (!isStr(s.sha256) || !/^[0-9a-f]{64}$/.test(s.sha256)) throw new KnError('corrupt-file', `${at}: bad sha256`);
    if (!isInt(s.bytes) || !isInt(s.facts) || !isInt(s.templates)) throw new KnError('corrupt-file', `${at}: bytes/facts/templates must be counts`);
    const k = `${s.relation}.${s.lang}`;
    if (seen.has(k)) throw new KnError('corrupt-file', `${at}: ${k} is listed twice`);
    seen.add(k);
  });
  if (!Array.isArray(x.languages) || !Array.isArray(x.relations)) throw new KnError('corrupt-file', `${where}: languages/relations missing`);
  if (!Array.isArray(x.sources)) throw new KnError('corrupt-file', `${where}: sources missing`);
  return x as unknown as Manifest;
}

export function validateShard(x: unknown, entry: ShardEntry): Shard {
  const where = `RML-LAMA shard ${entry.path}`;
  if (!isObj(x)) throw new KnError('corrupt-file', `${where}: not a JSON object`);
  if (typeof x.formatVersion !== 'number' || !SUPPORTED_FORMAT_VERSIONS.includes(x.formatVersion)) {
    throw new KnError('bad-config', `${where}: formatVersion ${String(x.formatVersion)} is not supported by this app`);
  }
  if (x.relation !== entry.relation || x.lang !== entry.lang) {
    throw new KnError('corrupt-file', `${where}: holds ${String(x.relation)}.${String(x.lang)}, manifest says ${entry.relation}.${entry.lang}`);
  }
  if (!Array.isArray(x.templates) || !Array.isArray(x.facts)) throw new KnError('corrupt-file', `${where}: templates/facts missing`);
  for (const t of x.templates) {
    if (!isObj(t) || !isStr(t.id) || !isStr(t.masked) || !(t.causal === null || isStr(t.causal)) || !isObj(t.origin)) {
      throw new KnError('corrupt-file', `${where}: malformed template ${JSON.stringify(t).slice(0, 80)}`);
    }
    if (isStr(t.causal) && !t.causal.endsWith('[Y]')) throw new KnError('corrupt-file', `${where}: causal template ${t.id} does not end with [Y]`);
  }
  for (const f of x.facts) {
    if (!isObj(f) || !isStr(f.id) || !isStr(f.subject) || !isStr(f.object)) {
      throw new KnError('corrupt-file', `${where}: malformed fact ${JSON.stringify(f).slice(0, 80)}`);
    }
  }
  return x as unknown as Shard;
}

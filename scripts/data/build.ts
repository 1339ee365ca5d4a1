/**
 * Builds the RML-LAMA shards from the raw public sources. Deterministic: no timestamps, fixed orders,
 * fixed serialisation, so two builds give the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import OpenCC from 'opencc-js';
import {
  FORMAT_VERSION,
  LANGS,
  RELATIONS,
  type Fact,
  type Lang,
  type Manifest,
  type Relation,
  type Shard,
  type ShardEntry,
  type Template,
} from '../../src/data/types';
import { SOURCES, DATA_LICENSE, MANIFEST_NOTES } from '../../src/data/provenance';
import { serializeShard, serializeManifest } from '../../src/data/serialize';
import { readPatterns, readTuples, readZhTranslation, type RawTuple } from './sources';
import { cleanPattern, dedupeKey, deriveCausal, hasXfactrMarkup } from './patterns';
import { ALLOW_CAUSAL, CAUSAL_POLICY, DENY, WRITTEN } from './templates-written';

export const DATASET_VERSION = '1.0.0';
export const SHARD_DIR = 'v1';
export const MIN_CAUSAL = 4;
/** Traditional (Taiwan, with phrases) -> Simplified (mainland). Chosen because it reproduces the zh-hans
 * labels best on the facts that have both (1726/2115 vs 1708/2115 for tw/hk/t). */
const ZH_CONVERT = { from: 'twp', to: 'cn' } as const;

export interface BuildOptions {
  sourcesDir: string;
  outDir: string; // e.g. public/data/rml-lama
  log?: (msg: string) => void;
}

export interface BuildReport {
  manifest: Manifest;
  files: string[];
  dropped: { relation: Relation; lang: Lang; pattern: string; reason: string }[];
  factsPerRelation: Record<string, number>;
  zhConverted: number;
}

const stripEnd = (s: string) => s.replace(/[.。!！]+$/, '').trim();

export function buildTemplates(sourcesDir: string, rel: Relation, lang: Lang, dropped: BuildReport['dropped']): Template[] {
  const seenKey = new Set<string>();
  const seenCausal = new Map<string, number>();
  const causalList: Omit<Template, 'id'>[] = [];
  const maskedOnly: Omit<Template, 'id'>[] = [];
  const allow = new Set((ALLOW_CAUSAL[rel][lang] ?? []).map(stripEnd));
  const allowUsed = new Set<string>();

  const raw = readPatterns(sourcesDir, lang, rel);
  for (const p of raw) {
    if (p.source === 'xfactr' && hasXfactrMarkup(p.pattern)) {
      dropped.push({ relation: rel, lang, pattern: p.pattern, reason: 'X-FACTR inflection markup' });
      continue;
    }
    const c = cleanPattern(p.pattern, lang);
    if (!c.ok) {
      dropped.push({ relation: rel, lang, pattern: p.pattern, reason: c.reason ?? 'malformed' });
      continue;
    }
    const deny = DENY[lang].find(([re]) => re.test(c.text));
    if (deny) {
      dropped.push({ relation: rel, lang, pattern: p.pattern, reason: deny[1] });
      continue;
    }
    const key = dedupeKey(c.text);
    if (seenKey.has(key)) continue; // same sentence from an earlier source (or spacing variant)
    seenKey.add(key);
    const notes = [...c.notes];
    let { causal, note } = deriveCausal(c.text, lang);
    if (causal && CAUSAL_POLICY[lang] === 'allow') {
      if (allow.has(stripEnd(c.text))) allowUsed.add(stripEnd(c.text));
      else causal = null;
    }
    if (causal && seenCausal.has(causal)) causal = null;
    if (causal && note) notes.push(note);
    const origin: Template['origin'] = { source: p.source, pattern: p.pattern };
    if (notes.length) origin.note = notes.join('; ');
    if (p.source === 'mpararel') origin.checked = p.checked === true;
    const t = { causal, masked: c.text, origin };
    if (causal) {
      seenCausal.set(causal, 1);
      causalList.push(t);
    } else maskedOnly.push(t);
  }
  for (const a of allow) {
    if (!allowUsed.has(a)) throw new Error(`ALLOW_CAUSAL ${rel}.${lang}: "${a}" matches no (kept) source pattern`);
  }
  for (const w of WRITTEN[rel][lang] ?? []) {
    if (!w.causal.endsWith('[Y]')) throw new Error(`WRITTEN ${rel}.${lang}: causal "${w.causal}" must end with [Y]`);
    if (seenCausal.has(w.causal)) throw new Error(`WRITTEN ${rel}.${lang}: "${w.causal}" duplicates a source template`);
    seenCausal.set(w.causal, 1);
    const origin: Template['origin'] = { source: 'written', note: w.note };
    if (w.basedOn && !raw.some((p) => p.source === w.basedOn!.source && p.pattern === w.basedOn!.pattern)) {
      throw new Error(`WRITTEN ${rel}.${lang}: basedOn pattern "${w.basedOn.pattern}" is not in ${w.basedOn.source}`);
    }
    if (w.basedOn) {
      origin.pattern = w.basedOn.pattern;
      origin.note = `rewrite of the ${w.basedOn.source} pattern; ${w.note}`;
    }
    causalList.push({ causal: w.causal, masked: w.masked, origin });
  }
  if (causalList.length < MIN_CAUSAL) {
    throw new Error(`${rel}.${lang}: only ${causalList.length} causal templates (need ${MIN_CAUSAL})`);
  }
  return [...causalList, ...maskedOnly].map((t, i) => ({ id: `${rel}.${lang}.${i}`, ...t }));
}

interface FactRow {
  lineid: number;
  labels: Record<Lang, { subject: string; object: string }>;
}

export function buildFacts(
  sourcesDir: string,
  rel: Relation,
  convert: (s: string) => string,
  normalizeHans: (s: string) => string = (s) => s,
): { rows: FactRow[]; zhConverted: number } {
  const byLang = new Map<Lang, Map<number, RawTuple>>();
  for (const lang of LANGS) {
    if (lang === 'zh') continue;
    byLang.set(lang, new Map(readTuples(sourcesDir, lang, rel).map((t) => [t.lineid, t])));
  }
  const hans = new Map(readTuples(sourcesDir, 'zh', rel).map((t) => [t.lineid, t]));
  const zhT = readZhTranslation(sourcesDir, rel);
  const en = byLang.get('en')!;
  const ids = [...en.keys()].sort((a, b) => a - b);
  const rows: FactRow[] = [];
  let zhConverted = 0;
  for (const id of ids) {
    const ref = en.get(id)!;
    const labels = {} as FactRow['labels'];
    let ok = true;
    for (const lang of LANGS) {
      let t: RawTuple | undefined;
      let conv = false;
      if (lang === 'zh') {
        t = hans.get(id);
        if (!t) {
          t = zhT.get(id);
          conv = true;
        }
      } else t = byLang.get(lang)!.get(id);
      if (!t || t.sub_uri !== ref.sub_uri || t.obj_uri !== ref.obj_uri) {
        ok = false;
        break;
      }
      let subject = t.sub_label.normalize('NFC').trim();
      let object = t.obj_label.normalize('NFC').trim();
      if (conv) {
        subject = convert(subject);
        object = convert(object);
      } else if (lang === 'zh') {
        subject = normalizeHans(subject);
        object = normalizeHans(object);
      }
      if (!subject || !object) {
        ok = false;
        break;
      }
      labels[lang] = { subject, object };
    }
    if (!ok) continue;
    if (!hans.has(id)) zhConverted++;
    rows.push({ lineid: id, labels });
  }
  return { rows, zhConverted };
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function buildRmlLama(opts: BuildOptions): BuildReport {
  const log = opts.log ?? (() => {});
  const convert = OpenCC.Converter(ZH_CONVERT as any) as (s: string) => string;
  // a few mParaRel zh-hans labels still hold Traditional characters (e.g. 倫敦盧頓機場): character-level t -> cn
  const normalizeHans = OpenCC.Converter({ from: 't', to: 'cn' } as any) as (s: string) => string;
  const dropped: BuildReport['dropped'] = [];
  const shards: ShardEntry[] = [];
  const files: string[] = [];
  const factsPerRelation: Record<string, number> = {};
  let zhConverted = 0;
  for (const rel of RELATIONS) {
    const { rows, zhConverted: zc } = buildFacts(opts.sourcesDir, rel, convert, normalizeHans);
    zhConverted += zc;
    factsPerRelation[rel] = rows.length;
    for (const lang of LANGS) {
      const templates = buildTemplates(opts.sourcesDir, rel, lang, dropped);
      const facts: Fact[] = rows.map((r) => ({ id: `${rel}:${r.lineid}`, subject: r.labels[lang].subject, object: r.labels[lang].object }));
      const shard: Shard = { formatVersion: FORMAT_VERSION, version: DATASET_VERSION, relation: rel, lang, templates, facts };
      const text = serializeShard(shard);
      const bytes = Buffer.from(text, 'utf8');
      const path = `${SHARD_DIR}/${rel}.${lang}.json`;
      const full = join(opts.outDir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, bytes);
      files.push(full);
      shards.push({
        relation: rel,
        lang,
        path,
        bytes: bytes.length,
        sha256: sha256Hex(bytes),
        facts: facts.length,
        templates: templates.length,
        causalTemplates: templates.filter((t) => t.causal !== null).length,
      });
    }
    log(`${rel}: ${rows.length} facts in all 7 languages`);
  }
  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION,
    name: 'RML-LAMA (rebuild)',
    version: DATASET_VERSION,
    languages: [...LANGS],
    relations: [...RELATIONS],
    shards,
    sources: SOURCES,
    license: DATA_LICENSE,
    notes: MANIFEST_NOTES,
  };
  const mpath = join(opts.outDir, 'manifest.json');
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(mpath, serializeManifest(manifest));
  files.push(mpath);
  return { manifest, files, dropped, factsPerRelation, zhConverted };
}

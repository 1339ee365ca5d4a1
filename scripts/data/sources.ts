/** Readers for the raw public sources under shared/data/rml-sources (see its PROVENANCE.md). */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lang, Relation } from '../../src/data/types';

export interface RawTuple {
  lineid: number;
  sub_uri: string;
  obj_uri: string;
  sub_label: string;
  obj_label: string;
}

export interface RawPattern {
  source: 'mpararel' | 'mlama' | 'chen-aligned' | 'pararel' | 'xfactr';
  pattern: string;
  checked?: boolean;
}

/** mParaRel uses zh-hans for Chinese. */
export const MPARAREL_LANG: Record<Lang, string> = {
  zh: 'zh-hans',
  en: 'en',
  fr: 'fr',
  fi: 'fi',
  hu: 'hu',
  ja: 'ja',
  ko: 'ko',
};
const CHEN_DIR: Partial<Record<Lang, string>> = {
  en: 'en_fr/en',
  fr: 'en_fr/fr',
  fi: 'fi_hu/fi',
  hu: 'fi_hu/hu',
  ja: 'ja_ko/ja',
  ko: 'ja_ko/ko',
};

export function readJsonl(path: string): any[] {
  if (!existsSync(path)) throw new Error(`source file missing: ${path}`);
  const out: any[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      throw new Error(`${path}:${i + 1}: bad JSON (${(e as Error).message})`);
    }
  });
  return out;
}

export function readTuples(root: string, lang: Lang, rel: Relation): RawTuple[] {
  return readJsonl(join(root, 'mpararel/data/mpararel_reviewed/tuples', MPARAREL_LANG[lang], `${rel}.jsonl`));
}

/** mParaRel t_rex_translation/zh: line i = lineid i; only rows with from_english=false carry a real zh label. */
export function readZhTranslation(root: string, rel: Relation): Map<number, RawTuple> {
  const rows = readJsonl(join(root, 'mpararel/data/translations/t_rex_translation/zh', `${rel}.jsonl`));
  const out = new Map<number, RawTuple>();
  rows.forEach((r, i) => {
    if (r.from_english === false) out.set(i, { ...r, lineid: i });
  });
  return out;
}

export function readPatterns(root: string, lang: Lang, rel: Relation): RawPattern[] {
  const out: RawPattern[] = [];
  // mLAMA template (copy in heng840/Dataset my_mlama/*/templates.jsonl); no zh copy there.
  const chen = CHEN_DIR[lang];
  if (chen) {
    for (const r of readJsonl(join(root, 'Dataset/my_mlama', chen, 'templates.jsonl'))) {
      if (r.relation === rel) out.push({ source: 'mlama', pattern: r.template });
    }
  }
  if (lang === 'en') {
    for (const r of readJsonl(join(root, 'pararel/data/pattern_data/graphs_json', `${rel}.jsonl`))) {
      out.push({ source: 'pararel', pattern: r.pattern });
    }
  }
  for (const r of readJsonl(join(root, 'mpararel/data/mpararel_reviewed/patterns', MPARAREL_LANG[lang], `${rel}.jsonl`))) {
    out.push({ source: 'mpararel', pattern: r.pattern, checked: r['checked-by-human'] === true });
  }
  if (chen) {
    for (const r of readJsonl(join(root, 'Dataset/my_mlama', chen, 'final_template_aligned.jsonl'))) {
      if (r.relation === rel) out.push({ source: 'chen-aligned', pattern: r.pattern });
    }
  }
  for (const p of readXfactr(root).get(`${rel}:${lang}`) ?? []) out.push({ source: 'xfactr', pattern: p });
  return out;
}

let xfactrCache: { root: string; map: Map<string, string[]> } | null = null;
/** X-FACTR TREx_prompts.csv: one prompt per relation and language (no fi). Rows can repeat. */
export function readXfactr(root: string): Map<string, string[]> {
  if (xfactrCache && xfactrCache.root === root) return xfactrCache.map;
  const text = readFileSync(join(root, 'X-FACTR/data/TREx_prompts.csv'), 'utf8');
  const rows = parseCsv(text);
  const header = rows[0];
  const map = new Map<string, string[]>();
  for (const row of rows.slice(1)) {
    const pid = row[0];
    header.forEach((h, i) => {
      if (i < 2 || !row[i]) return;
      const key = `${pid}:${h}`;
      const list = map.get(key) ?? [];
      if (!list.includes(row[i])) list.push(row[i]);
      map.set(key, list);
    });
  }
  xfactrCache = { root, map };
  return map;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      cell = '';
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/**
 * Tokenizer parity with Hugging Face transformers on EVERY RML-LAMA query of the 7 languages, for the four
 * tokenizer kinds multilingual models use (byte-level BPE, WordPiece, SentencePiece Unigram, SentencePiece
 * BPE with byte fallback), real tokenizer.json files trained on the benchmark text
 * (scripts/reference/tokenizer_parity.py). Compared per query: the ids fed to the model (with the special
 * tokens the post-processor adds), the target position, the target id (null when the object's first token
 * is the unknown token, which the engine refuses).
 *
 * The committed expectation is one sha1 per language and template (tests/fixtures/reference/tokenizers/
 * <kind>/expected.json). When the full dump of transformers' ids is present
 * (.cache/reference/tokenizers/<kind>.jsonl.gz, written by `npm run reference`), every differing query is
 * named, and a report goes to .cache/reference/tokenizers/<kind>.diff.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { shardQueries } from '../../src/data/queries';
import type { Manifest, Shard } from '../../src/data/types';
import { KnTokenizer } from '../../src/engine/families/tokenizer';

const ROOT = join(__dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'reference', 'tokenizers');
const DUMP = join(ROOT, '.cache', 'reference', 'tokenizers');
const DATA = join(ROOT, 'public', 'data', 'rml-lama');
const KINDS = ['bytebpe', 'bpeqwen', 'wordpiece', 'unigram', 'spbpe', 'spgemma'];
const LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];

interface Expected {
  kind: string;
  modelKind: 'causal' | 'masked';
  queries: number;
  specialIds: number[];
  languages: Record<string, Record<string, [number, string]>>;
}

function shards(): Shard[] {
  const man = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8')) as Manifest;
  return man.shards.map((e) => JSON.parse(readFileSync(join(DATA, e.path), 'utf8')) as Shard);
}

function engineLine(tok: KnTokenizer, prompt: string, target: string): { ids: number[]; pos: number; tid: number | null; line: string } {
  const e = tok.encodeQuery(prompt);
  let tid: number | null;
  try {
    tid = tok.targetId(prompt, target);
  } catch (err) {
    if (!/not in the vocabulary/.test((err as Error).message)) throw err;
    tid = null;
  }
  return { ids: e.ids, pos: e.position, tid, line: `${e.ids.join(',')}|${e.position}|${tid === null ? 'null' : tid}` };
}

const sha = (lines: string[]) => createHash('sha1').update(lines.join('\n')).digest('hex').slice(0, 16);

/** per kind and language: [queries equal to transformers', queries] (filled by the tests, printed at the end) */
export const parity: Record<string, Record<string, [number, number]>> = {};

const ONLY = process.env.REF_TOKENIZERS?.split(',');
describe('tokenizer parity with transformers on every RML-LAMA query', () => {
  const all = shards();
  for (const kind of KINDS.filter((k) => !ONLY || ONLY.includes(k))) {
    it(kind, () => {
      const dir = join(FIX, kind);
      const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
      const tokJson = JSON.parse(gunzipSync(readFileSync(join(dir, 'tokenizer.json.gz'))).toString('utf8'));
      const tokCfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
      const tok = new KnTokenizer(tokJson, tokCfg, exp.modelKind, {});
      // the special tokens (never replaced by a baseline, flagged in the query) are transformers' all_special_ids
      expect([...tok.specialIds].sort((a, b) => a - b)).toEqual(exp.specialIds);
      // the full dump, when present: one line per query, in the same order
      const dumpPath = join(DUMP, `${kind}.jsonl.gz`);
      const dump = existsSync(dumpPath) ? gunzipSync(readFileSync(dumpPath)).toString('utf8').split('\n').filter(Boolean) : undefined;
      const groups = new Map<string, string[]>();
      const diffs: unknown[] = [];
      let n = 0;
      for (const s of all) {
        for (const q of shardQueries(s, exp.modelKind, tok.maskToken ?? '[MASK]')) {
          const mine = engineLine(tok, q.prompt, q.target);
          const key = `${q.lang}\t${q.templateId}`;
          if (!groups.has(key)) groups.set(key, []);
          groups.get(key)!.push(mine.line);
          if (dump) {
            const [, , , prompt, target, ids, pos, tid] = JSON.parse(dump[n]) as [string, string, string, string, string, number[], number, number | null];
            expect(prompt).toBe(q.prompt);
            const theirs = `${ids.join(',')}|${pos}|${tid === null ? 'null' : tid}`;
            if (theirs !== mine.line) {
              diffs.push({
                lang: q.lang,
                template: q.templateId,
                fact: q.factId,
                prompt,
                target,
                transformers: { ids, pos, tid },
                engine: { ids: mine.ids, pos: mine.pos, tid: mine.tid },
              });
            }
          }
          n++;
        }
      }
      expect(n).toBe(exp.queries);
      const counts: Record<string, [number, number]> = {};
      const bad: string[] = [];
      for (const lang of LANGS) {
        let ok = 0,
          tot = 0;
        for (const [tid, [count, hash]] of Object.entries(exp.languages[lang])) {
          const lines = groups.get(`${lang}\t${tid}`) ?? [];
          expect(lines.length).toBe(count);
          tot += count;
          if (sha(lines) === hash) ok += count;
          else bad.push(tid);
        }
        counts[lang] = [ok, tot];
      }
      if (dump) {
        // per-query counts are exact when the dump is there
        for (const lang of LANGS) counts[lang] = [counts[lang][1] - diffs.filter((d) => (d as { lang: string }).lang === lang).length, counts[lang][1]];
        writeFileSync(join(DUMP, `${kind}.diff.json`), JSON.stringify({ kind, counts, diffs }, null, 1));
      }
      parity[kind] = counts;
      console.log(`tokenizer parity ${kind}: ${LANGS.map((l) => `${l} ${counts[l][0]}/${counts[l][1]}`).join(', ')}`);
      if (diffs.length) console.log(JSON.stringify(diffs.slice(0, 20), null, 1));
      expect(bad, `templates whose tokenization differs from transformers' (${kind})`).toEqual([]);
    }, 600_000);
  }
});

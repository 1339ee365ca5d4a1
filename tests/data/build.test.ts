import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { buildRmlLama } from '../../scripts/data/build';
import { DATA_DIR, SOURCES_DIR } from './helpers';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

describe('data:build (from the committed data/rml-sources)', () => {
  it('is deterministic: two builds give the same bytes, equal to the committed shards', () => {
    const a = mkdtempSync(join(tmpdir(), 'rml-a-'));
    const b = mkdtempSync(join(tmpdir(), 'rml-b-'));
    const ra = buildRmlLama({ sourcesDir: SOURCES_DIR, outDir: a });
    buildRmlLama({ sourcesDir: SOURCES_DIR, outDir: b });
    const fa = listFiles(a);
    expect(fa).toEqual(listFiles(b));
    expect(fa.length).toBe(57); // 8 relations x 7 languages + manifest
    for (const f of fa) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    // the committed data is what the build produces (run `npm run data:build` after changing it)
    expect(listFiles(DATA_DIR)).toEqual(fa);
    for (const f of fa) expect(readFileSync(join(DATA_DIR, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    expect(Object.values(ra.factsPerRelation).reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(2400);
  });

  it('records each shard with its size and sha256 in the manifest', () => {
    const out = mkdtempSync(join(tmpdir(), 'rml-m-'));
    const r = buildRmlLama({ sourcesDir: SOURCES_DIR, outDir: out });
    for (const s of r.manifest.shards) {
      const bytes = readFileSync(join(out, s.path));
      expect(bytes.length).toBe(s.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(s.sha256);
    }
    const text = readFileSync(join(out, 'manifest.json'), 'utf8');
    expect(text).not.toMatch(/20\d\d-\d\d-\d\dT/); // no timestamps
  });

  it('has every raw source file PROVENANCE.md lists, with its recorded size, and nothing else', () => {
    const prov = readFileSync(join(SOURCES_DIR, 'PROVENANCE.md'), 'utf8');
    const rows = [...prov.matchAll(/^\| ([\w./-]+\.(?:jsonl|csv)) \| [\w/-]+ \| [\w./-]+ \| (\d+) \|/gm)];
    expect(rows.length).toBe(150);
    for (const [, path, bytes] of rows) expect(statSync(join(SOURCES_DIR, path)).size, path).toBe(Number(bytes));
    const listed = new Set(rows.map((r) => r[1]));
    const extra = listFiles(SOURCES_DIR).filter((f) => !listed.has(f));
    expect(extra.sort()).toEqual(['LICENSES.md', 'PROVENANCE.md', 'pararel/LICENSE']);
  });
});

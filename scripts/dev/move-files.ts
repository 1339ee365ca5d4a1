/**
 * Moves source files and rewrites every relative import that names them (src, tests, scripts, e2e; .ts, .svelte,
 * .mts), plus the moved files' own relative imports. `git mv` keeps history.
 *
 *   npx tsx scripts/dev/move-files.ts MAP.json [--dry]
 *
 * MAP.json: { "src/engine/errors.ts": "src/shared/errors.ts", ... } (paths from the repository root).
 * Specifiers keep their style: no extension stays none, a folder import (index.ts) stays a folder import.
 * Docs (*.md) that quote an old path get the new one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const [mapFile, ...flags] = process.argv.slice(2);
const dry = flags.includes('--dry');
const map: Record<string, string> = JSON.parse(readFileSync(mapFile, 'utf8'));
const abs = (p: string) => resolve(root, p);
const moves = new Map(Object.entries(map).map(([a, b]) => [abs(a), abs(b)]));

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|svelte)$/.test(name)) out.push(p);
  }
  return out;
}
const files = ['src', 'tests', 'scripts', 'e2e'].flatMap((d) => (existsSync(abs(d)) ? walk(abs(d)) : []));
for (const f of ['vite.config.ts', 'playwright.config.ts', 'vitest.config.ts']) if (existsSync(abs(f))) files.push(abs(f));

const exts = ['', '.ts', '.mts', '.svelte', '.js', '/index.ts'];
function resolveSpec(from: string, spec: string): { target: string; ext: string } | null {
  const base = resolve(dirname(from), spec);
  for (const e of exts) {
    const p = base + e;
    if (moves.has(p) || (existsSync(p) && statSync(p).isFile())) return { target: p, ext: e };
  }
  return null;
}
function specFor(fromNew: string, targetNew: string, ext: string): string {
  let t = targetNew;
  if (ext === '/index.ts') t = t.replace(/\/index\.ts$/, '');
  else if (ext !== '') t = t.slice(0, t.length - ext.length);
  let r = relative(dirname(fromNew), t);
  if (!r.startsWith('.')) r = './' + r;
  return r;
}

const re = /((?:from|import)\s*\(?\s*|new URL\(\s*|vi\.mock\(\s*)(['"])(\.{1,2}\/[^'"]*)\2/g;
let changed = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const fileNew = moves.get(file) ?? file;
  const out = text.replace(re, (m, pre: string, q: string, spec: string) => {
    const r = resolveSpec(file, spec);
    if (!r) return m;
    const targetNew = moves.get(r.target) ?? r.target;
    if (targetNew === r.target && fileNew === file) return m;
    const ext = r.ext === '' && /\.(ts|svelte|js|mts)$/.test(spec) ? '' : r.ext;
    const s = ext === '' && /\.(ts|svelte|js|mts)$/.test(spec) ? specFor(fileNew, targetNew, '') : specFor(fileNew, targetNew, ext);
    return `${pre}${q}${s}${q}`;
  });
  if (out !== text) {
    changed++;
    if (!dry) writeFileSync(file, out);
  }
}
for (const [from, to] of moves) {
  if (dry) continue;
  mkdirSync(dirname(to), { recursive: true });
  execFileSync('git', ['mv', from, to], { cwd: root });
}
// docs: quote the new paths
const docs = execFileSync('git', ['ls-files', '*.md'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
let docsChanged = 0;
for (const d of docs) {
  const p = abs(d);
  let text = readFileSync(p, 'utf8');
  const before = text;
  for (const [a, b] of Object.entries(map)) text = text.split(a).join(b);
  if (text !== before) {
    docsChanged++;
    if (!dry) writeFileSync(p, text);
  }
}
console.log(`${moves.size} files moved, ${changed} files' imports rewritten, ${docsChanged} docs updated${dry ? ' (dry run)' : ''}`);

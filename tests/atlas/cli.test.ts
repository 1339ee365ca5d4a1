/**
 * `kn atlas build | neuron | search`, `kn lape` and `kn experiment lape` as child processes on bundled:demo-causal (2
 * facts, en and fr, M = 2): JSON on stdout, progress and problems on stderr, refusals as `kn: error [code]: …` with
 * exit code 2 — a neuron beyond the model, another model's folder, a corrupt index entry (skipped and reported), a
 * search that matches nothing (said plainly).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AtlasIndex, NeuronPage } from '../../src/engine/atlas';
import { LAPE_FILTER_RATE, LAPE_TOP_RATE_CODE } from '../../src/engine/rules';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const TMP = mkdtempSync(join(tmpdir(), 'kn-atlas-cli-'));
const LONG = 600_000;

function kn(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['src/cli/kn.ts', ...args],
      { cwd: ROOT, timeout: LONG, maxBuffer: 64 * 1024 ** 2, env: { ...process.env, KN_BACKEND: '', KN_CACHE_DIR: join(TMP, 'cache') } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const DIR = join(TMP, 'atlas');
let build: { facts: number; pages: number; bytes: { served: number; all: number }; tooBigForStaticHost: boolean; types: Record<string, number> };
let index: AtlasIndex;

beforeAll(async () => {
  const r = await kn('atlas', 'build', '--facts', '2', '--langs', 'en,fr', '--steps', '2', '--out', DIR, '--json');
  expect(r.code, r.stderr).toBe(0);
  build = JSON.parse(r.stdout);
  index = JSON.parse(readFileSync(join(DIR, 'atlas.json'), 'utf8'));
}, LONG);

describe('kn atlas', () => {
  it(
    'build: the pages and the index on disk, their size, the types; a second run resumes (nothing to redo)',
    async () => {
      expect(build.facts).toBe(2);
      expect(build.pages).toBe(index.neurons.length);
      expect(build.tooBigForStaticHost).toBe(false);
      let served = readFileSync(join(DIR, 'atlas.json')).length;
      for (const e of index.neurons) served += readFileSync(join(DIR, 'neurons', `L${e.neuron[0]}-${e.neuron[1]}.json`)).length;
      expect(build.bytes.served).toBe(served);
      expect(Object.values(build.types).reduce((a, b) => a + b, 0)).toBe(index.neurons.length);
      expect(index.command).toBe('npm run -s kn -- atlas build --model bundled:demo-causal --facts 2 --langs en,fr --out <dir>');
      const again = await kn('atlas', 'build', '--facts', '2', '--langs', 'en,fr', '--steps', '2', '--out', DIR, '--json');
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ written: 0, skipped: 2, pages: index.neurons.length });
    },
    LONG,
  );

  it(
    'neuron: the page as JSON and as text; a neuron beyond the model is refused',
    async () => {
      const e = index.neurons.find((x) => x.facts > 0)!;
      const j = await kn('atlas', 'neuron', DIR, `L${e.neuron[0]}·${e.neuron[1]}`, '--json');
      expect(j.code, j.stderr).toBe(0);
      const page = JSON.parse(j.stdout) as NeuronPage;
      expect(page.entry).toEqual(e);
      const t = await kn('atlas', 'neuron', DIR, `${e.neuron[0]}.${e.neuron[1]}`);
      expect(t.stdout).toContain(`L${e.neuron[0]}·${e.neuron[1]}: ${e.type} neuron`);
      expect(t.stdout).toContain(`promotes: ${page.lens.promoted.map((x) => JSON.stringify(x.token)).join(' ')}`);
      const bad = await kn('atlas', 'neuron', DIR, 'L4·0');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('kn: error [bad-input]: neuron L4·0 does not exist in bundled:demo-causal (4 layers × 512 neurons)');
      const junk = await kn('atlas', 'neuron', DIR, 'forty-six');
      expect(junk.stderr).toContain('give a neuron as L<layer>·<index>');
    },
    LONG,
  );

  it(
    'search: by type, fact and relation; nothing found is said plainly; a corrupt index entry is skipped and reported',
    async () => {
      const s = await kn('atlas', 'search', DIR, '--fact', index.facts[0], '--json');
      const found = JSON.parse(s.stdout) as { neurons: AtlasIndex['neurons'] };
      expect(found.neurons.length).toBeGreaterThan(0);
      for (const e of found.neurons) expect(e.factIds).toContain(index.facts[0]);
      const none = await kn('atlas', 'search', DIR, '--token', 'zzz-no-such-token', '--type', 'hub');
      expect(none.code).toBe(0);
      expect(none.stdout.trim()).toBe('no neuron matches token "zzz-no-such-token" and type "hub"');
      expect((await kn('atlas', 'search', DIR, '--relation', 'P999')).stderr).toMatch(/kn: error \[bad-input\].*P999/);
      expect((await kn('atlas', 'search', DIR)).stderr).toContain('needs one of --token, --fact, --relation, --lang, --type');

      const corrupt = join(TMP, 'corrupt');
      const { mkdirSync, cpSync } = await import('node:fs');
      mkdirSync(corrupt);
      cpSync(join(DIR, 'neurons'), join(corrupt, 'neurons'), { recursive: true });
      writeFileSync(join(corrupt, 'atlas.json'), JSON.stringify({ ...index, neurons: [{ neuron: [0], type: 'fact' }, ...index.neurons] }));
      const c = await kn('atlas', 'search', corrupt, '--type', index.neurons[0].type, '--json');
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr).toContain(`kn: ${join(corrupt, 'atlas.json')}: neuron entry 1: neuron is not [layer, index]; skipped`);
      expect(JSON.parse(c.stdout).neurons.length).toBe(index.neurons.filter((e) => e.type === index.neurons[0].type).length);
    },
    LONG,
  );

  it(
    "another model's folder is refused before anything is written",
    async () => {
      const r = await kn('atlas', 'build', '--model', 'bundled:demo-masked', '--facts', '2', '--langs', 'en,fr', '--steps', '2', '--out', DIR, '--json');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/this folder holds the atlas of bundled:demo-causal \(content hash [0-9a-f]+\); the model loaded is bundled:demo-masked/);
    },
    LONG,
  );
});

describe('kn lape and kn experiment lape', () => {
  it(
    'kn lape --json: the sets, the rates, identify.py’s defaults named',
    async () => {
      const r = await kn('lape', '--facts', '2', '--langs', 'en,fr', '--top-rate', '0.05', '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.rates).toEqual({ topRate: 0.05, filterRate: LAPE_FILTER_RATE, activationBarRate: 0.95 });
      expect(j.codeDefaults.topRate).toBe(LAPE_TOP_RATE_CODE);
      expect(j.kept).toBe(Math.round(4 * 512 * 0.05));
      expect(Object.keys(j.sets)).toEqual(['en', 'fr']);
      expect((await kn('lape', '--top-rate', '2', '--json')).stderr).toContain('--top-rate must be a number in (0, 1], got 2');
    },
    LONG,
  );

  it(
    'kn experiment lape: the table (LAPE / Random per language) and the chart; a resume redoes nothing',
    async () => {
      const out = join(TMP, 'lape');
      const r = await kn('experiment', 'lape', '--facts', '2', '--langs', 'en,fr', '--top-rate', '0.05', '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.facts).toBe(2);
      expect(Object.keys(j.table)).toEqual(['en', 'fr']);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('| off | neurons | en | fr | others (mean) |');
      expect(existsSync(join(out, 'lape.svg'))).toBe(true);
      const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
      for (const l of ['en', 'fr']) expect(meta.random[l].length).toBe(meta.sets[l].length);
      const again = await kn('experiment', 'lape', '--facts', '2', '--langs', 'en,fr', '--top-rate', '0.05', '--out', out, '--json');
      expect(JSON.parse(again.stdout).table).toEqual(j.table);
      expect(again.stderr).toContain('resuming');
    },
    LONG,
  );
});

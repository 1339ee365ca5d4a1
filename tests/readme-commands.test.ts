/**
 * The README's CLI examples run: every `npm run -s kn -- …` line of a ```sh block that needs nothing but
 * this checkout (no <placeholder>, no [--optional] or a|b syntax, no Hugging Face repo or ./folder) and
 * writes nothing (no --out, no glob over earlier outputs) is run as `tsx src/cli/kn.ts …` and must exit 0 with one JSON object on stdout. The README's numbers come
 * from the commands next to them: the RML-LAMA table is compared with `data stats`, and the claim beside
 * the min-max Eq. 9 example with its output. Every model a command names exists in a fresh clone: a folder
 * in the checkout, or a bundled model of public/models/index.json (the list the README gives too).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledModelNames } from '../src/engine/source/source-node';

const REPO = join(__dirname, '..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const PREFIX = 'npm run -s kn -- ';

/** shell words: spaces split, "…" and '…' quote (enough for the README's commands) */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** the line without a trailing `# comment` (a # outside quotes) */
function stripComment(line: string): string {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

function readmeCommands(): { runnable: string[]; skipped: string[]; all: string[] } {
  const runnable: string[] = [];
  const skipped: string[] = [];
  const all: string[] = [];
  for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = stripComment(raw.trim());
      if (!line.startsWith(PREFIX)) continue;
      all.push(line);
      // "[--x …]" is optional syntax; a "[MASK]" in a prompt is not
      const needs = /<[^>]*>|\[--|\||\bhf:|\s\.\.?\/|--out\b|\*/.test(line);
      (needs ? skipped : runnable).push(line);
    }
  }
  return { runnable, skipped, all };
}

function kn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [join(REPO, 'src/cli/kn.ts'), ...args], { cwd: REPO, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const { runnable, skipped, all } = readmeCommands();
const outputs = new Map<string, unknown>();

describe("the README's CLI examples", () => {
  it('are found: the offline ones to run, the rest (placeholders, network, local folders) named', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(7);
    for (const cmd of ['probe', 'attribute', 'localize', 'fact', 'data stats', 'eval', 'backend']) {
      expect(
        runnable.some((l) => l.startsWith(PREFIX + cmd)),
        cmd,
      ).toBe(true);
    }
    expect(skipped.some((l) => l.includes('hf:gpt2'))).toBe(true);
    // the folder example runs (a folder of this clone), the masked prompt's [MASK] is no optional syntax
    expect(runnable.some((l) => l.startsWith(PREFIX + 'probe --model models/demo-masked ') && l.includes('[MASK]'))).toBe(true);
  });

  it('name only models a fresh clone has: folders of the checkout, bundled models of public/models/index.json', () => {
    const bundled = bundledModelNames();
    expect(bundled).toEqual(['demo-causal', 'demo-masked']);
    const models = all.flatMap((l) => [...l.matchAll(/--model[ =](\S+)/g)].map((m) => m[1]));
    expect(models.length).toBeGreaterThanOrEqual(2);
    for (const m of models) {
      if (/^(<|\[|hf:|https?:)/.test(m)) continue; // a placeholder, the network
      if (m.startsWith('bundled:')) expect(bundled, m).toContain(m.slice('bundled:'.length));
      else expect(existsSync(join(REPO, m, 'config.json')), `${m}: no such model folder in the checkout`).toBe(true);
    }
    for (const m of README.matchAll(/\bbundled:([\w.-]+)/g)) expect(bundled, m[0]).toContain(m[1]);
    // the list the CLI section gives is the index's
    const listed = README.match(/\(one of\s+`public\/models\/index\.json`: ([^)]*)\)/);
    expect(listed && [...listed[1].matchAll(/`([\w.-]+)`/g)].map((x) => x[1])).toEqual(bundled);
  });

  for (const line of runnable) {
    it(`runs: ${line.slice(PREFIX.length)}`, { timeout: 300_000 }, async () => {
      const r = await kn(words(line.slice(PREFIX.length)));
      expect(r.stderr.includes('kn: error') ? r.stderr : '', line).toBe('');
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(typeof out).toBe('object');
      outputs.set(line, out);
    });
  }

  it('its RML-LAMA table is what `data stats` prints', () => {
    const line = runnable.find((l) => l.startsWith(PREFIX + 'data stats'))!;
    const stats = outputs.get(line) as {
      languages: Record<string, { facts: number; queries: number; relations: number; avgLen: number }>;
      factsInAllLanguages: number;
    };
    expect(stats, 'data stats ran').toBeDefined();
    const names: Record<string, string> = { Chinese: 'zh', English: 'en', French: 'fr', Finnish: 'fi', Hungarian: 'hu', Japanese: 'ja', Korean: 'ko' };
    const rows = [
      ...README.matchAll(/^\|[^|\n]*\| (Chinese|English|French|Finnish|Hungarian|Japanese|Korean) \| ([\d,]+) \| ([\d,]+) \| (\d+) \| ([\d.]+) \|$/gm),
    ];
    expect(rows.length).toBe(7);
    const num = (s: string) => Number(s.replace(/,/g, ''));
    for (const [, name, facts, queries, rel, len] of rows) {
      const s = stats.languages[names[name]];
      expect([num(facts), num(queries), num(rel), Number(len)], name).toEqual([s.facts, s.queries, s.relations, s.avgLen]);
    }
    const all = README.match(/([\d,]+) facts are present in all 7 languages/);
    expect(all && num(all[1])).toBe(stats.factsInAllLanguages);
  });

  it('the facts it offers to try are known as it says (`kn fact`: "knownIn" beside each command)', () => {
    const claims = [...README.matchAll(/^(npm run -s kn -- fact [^#\n]*?)\s+#[^\n]*"knownIn":"(\d+ of \d+)"$/gm)];
    expect(claims.length).toBeGreaterThanOrEqual(3);
    for (const [, line, knownIn] of claims) {
      const out = outputs.get(line.trimEnd()) as { knownIn: string; known: string[] } | undefined;
      expect(out, `${line} ran`).toBeDefined();
      expect(out!.knownIn, line).toBe(knownIn);
    }
    // every fact offered to try is known in every language; the paper's example is not known in any
    expect(claims.filter(([, , k]) => k === '7 of 7').length).toBeGreaterThanOrEqual(3);
    expect(claims.find(([l]) => l.includes('P36:551'))?.[2]).toBe('0 of 7');
  });

  it('min-max Eq. 9 selects many more neurons than the default on the same fact, as the README says', () => {
    const minmax = runnable.find((l) => l.startsWith(PREFIX + 'localize') && l.includes('--norm language'));
    const dflt = runnable.find((l) => l.startsWith(PREFIX + 'localize') && !l.includes('--norm'));
    expect(minmax && dflt).toBeTruthy();
    const a = outputs.get(minmax!) as { neurons: unknown[]; norm: string };
    const b = outputs.get(dflt!) as { neurons: unknown[]; norm: string };
    expect(b.norm).toBe('scale');
    expect(a.neurons.length).toBeGreaterThan(2 * Math.max(1, b.neurons.length));
  });
});

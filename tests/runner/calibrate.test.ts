/**
 * Calibration (engine/experiments/calibrate.ts, `kn experiment calibrate`): the selection rule on a synthetic frontier
 * worked out by hand, grid parsing and its refusals, and a small real run on the bundled causal demo model
 * (2 languages, M = 2, 2 facts, a 2-point grid) whose frontier numbers are recomputed here from the rows.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelArg } from '../../src/engine/index';
import { choose, parseGrid, type FrontierPoint } from '../../src/engine/experiments/calibrate';
import { ready } from '../engine/setup';

const DIR = mkdtempSync(join(tmpdir(), 'kn-calibrate-'));
process.env.KN_CACHE_DIR = join(DIR, 'cache');
const LONG = 900_000;

const point = (o: Partial<FrontierPoint>): FrontierPoint => ({
  key: `a${o.alpha2}/b${o.beta2}/t${o.tau}`,
  alpha2: 1,
  beta2: 1,
  tau: 0.2,
  selectedMedian: 4,
  selectedShare: 4 / 2048,
  empty: 0,
  coverageMean: 6,
  suppress: -0.1,
  perLanguage: {},
  flipRate: 0,
  randomSuppress: -0.01,
  ownSuppress: -0.8,
  eligible: false,
  why: '',
  ...o,
});

describe('the rule', () => {
  it('largest suppression among small, covered settings whose Random stays quiet; ties to the larger β2', () => {
    const pts = [
      point({ alpha2: 1, beta2: 1, suppress: -0.08 }), // eligible, weak
      point({ alpha2: 0, beta2: 0, suppress: -0.81, selectedMedian: 42, selectedShare: 42 / 2048 }), // 2.05 % > 1 %
      point({ alpha2: 1, beta2: 0, suppress: -0.61, coverageMean: 3.1 }), // coverage 3.1 < 5
      point({ alpha2: 0.5, beta2: 0.25, suppress: -0.5, randomSuppress: -0.07 }), // Random moves P by 7 %
      point({ alpha2: 1, beta2: 0.5, suppress: -0.31 }), // eligible, tied with the next
      point({ alpha2: 1, beta2: 0.75, suppress: -0.31 }), // eligible, tied: the larger β2 wins
      point({ alpha2: 1, beta2: 0.25, suppress: null }),
      point({ alpha2: 1, beta2: 1, tau: 0.1, suppress: -0.9, selectedMedian: 0, selectedShare: 0 }), // empty on most facts
    ];
    const c = choose(pts, 7);
    expect(c?.beta2).toBe(0.75);
    expect(c?.suppress).toBe(-0.31);
    expect(pts[1].why).toMatch(/median selection 2\.05 % > 1 %/);
    expect(pts[2].why).toMatch(/coverage 3\.10 < 5\.00/);
    expect(pts[3].why).toMatch(/Random \|ΔP\| 7\.0 % > 5 %/);
    expect(pts[7].why).toMatch(/median selection 0 < 1 \(empty on most facts\)/);
    expect(pts.filter((p) => p.eligible).length).toBe(3);
    // with fewer languages the coverage bar scales: 5/7 of 2 languages = 1.43
    expect(choose([point({ coverageMean: 1.4 })], 2)).toBeNull();
    expect(choose([point({ coverageMean: 1.5 })], 2)).not.toBeNull();
    expect(choose([point({ coverageMean: 2 })], 7)).toBeNull();
  });

  it('grid values: defaults, sorted and unique; an empty or foreign value is refused naming the axis', () => {
    // the grid at least (α2 ∈ {0, 0.5, 1}, β2 ∈ {0, 0.25, …, 1}, τ ∈ {0.1, 0.2, 0.3}), and τ below 0.1 too
    expect(parseGrid({})).toEqual({ alpha2: [0, 0.5, 1], beta2: [0, 0.25, 0.5, 0.75, 1], tau: [0.03, 0.05, 0.075, 0.1, 0.2, 0.3] });
    expect(parseGrid({ beta2: '1, 0.5,0.5' }).beta2).toEqual([0.5, 1]);
    expect(() => parseGrid({ alpha2: '0,,1' })).toThrow(/--grid-alpha2: an empty value/);
    expect(() => parseGrid({ tau: '' })).toThrow(/--grid-tau: an empty value/);
    expect(() => parseGrid({ tau: '0.2,2' })).toThrow(/--grid-tau: "2" is not a number in 0..1/);
    expect(() => parseGrid({ beta2: 'x' })).toThrow(/--grid-beta2: "x"/);
  });
});

describe('kn experiment calibrate', () => {
  let c: typeof import('../../src/cli/calibrate-cmd');
  const load = async (m: string | undefined) => ({ model: await loadModelArg(m ?? 'bundled:demo-causal', { dtype: 'int8' }), arg: m ?? 'bundled:demo-causal' });
  const args = (out: string, extra: string[] = []) => [
    '--facts',
    '2',
    '--langs',
    'en,fr',
    '--steps',
    '2',
    '--grid-alpha2',
    '1',
    '--grid-beta2',
    '0,1',
    '--grid-tau',
    '0.2',
    '--quiet',
    '--out',
    out,
    ...extra,
  ];
  beforeAll(async () => {
    await ready;
    c = await import('../../src/cli/calibrate-cmd');
  }, LONG);

  it(
    'runs on dev facts, and its frontier is the rows recomputed; resume refuses another grid; the test split is refused',
    async () => {
      const out = join(DIR, 'run');
      const r = await c.runCalibrate(args(out), load);
      expect(r.facts).toBe(2);
      const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
      const split = JSON.parse(readFileSync(join(__dirname, '../../public/models/demo-causal/split.json'), 'utf8'));
      for (const f of meta.facts) expect(split.devFacts).toContain(f);
      const rows = readFileSync(join(out, 'rows.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const summary = JSON.parse(readFileSync(join(out, 'report', 'summary.json'), 'utf8'));
      for (const p of summary.frontier) {
        // ΔP: per fact and language the mean over known queries, mean over facts, then over languages
        const perLang = ['en', 'fr']
          .map((lang) => {
            const perFact = rows.flatMap((row: any) => {
              const ds = row.queries.flatMap((q: any, i: number) => (q.lang === lang && q.known ? [(row.cells[p.key].suppress[i] - q.before) / q.before] : []));
              return ds.length ? [ds.reduce((a: number, b: number) => a + b, 0) / ds.length] : [];
            });
            return perFact.length ? perFact.reduce((a: number, b: number) => a + b, 0) / perFact.length : null;
          })
          .filter((x) => x !== null) as number[];
        expect(p.suppress).toBeCloseTo(perLang.reduce((a, b) => a + b, 0) / perLang.length, 10);
        // coverage against the own sets of the same α2, τ, recomputed from the stored neurons
        const counts = rows.flatMap((row: any) => row.cells[p.key].coverage);
        const neurons = rows.flatMap((row: any) => row.cells[p.key].neurons);
        expect(counts.length).toBe(neurons.length);
        if (counts.length) expect(p.coverageMean).toBeCloseTo(counts.reduce((a: number, b: number) => a + b, 0) / counts.length, 10);
        // Random: as many neurons as MaTrice, per fact (its P differs from MaTrice's unless both are empty)
        for (const row of rows) expect(row.cells[p.key].random.length).toBe(row.queries.length);
      }
      // β2 = 0 drops the std penalty: never a smaller selection than β2 = 1 on the same fact
      for (const row of rows) expect(row.cells['a1/b0/t0.2'].neurons.length).toBeGreaterThanOrEqual(row.cells['a1/b1/t0.2'].neurons.length);
      const md = readFileSync(join(out, 'report', 'report.md'), 'utf8');
      expect(md).toMatch(/Reproduce: `npm run -s kn -- experiment calibrate --model bundled:demo-causal --facts 2 --split dev/);
      expect(md).toMatch(/\*\*Rule\*\*: the largest mean suppression/);
      expect(existsSync(join(out, 'report', 'calibration.json'))).toBe(summary.chosen !== null);
      expect(readFileSync(join(out, 'report', 'frontier.svg'), 'utf8')).toMatch(/^<svg /);
      // a re-run resumes (nothing to do); another grid in the same folder is refused, naming the field
      expect((await c.runCalibrate(args(out), load)).written).toBe(0);
      await expect(c.runCalibrate(args(out, ['--grid-tau', '0.3']), load)).rejects.toThrow(/holds another calibration: grid/);
      await expect(c.runCalibrate(args(join(DIR, 't'), ['--split', 'test']), load)).rejects.toThrow(/never sees the test split/);
      // a torn grid in the rows (another run's rows copied in) is reported, not read
      writeFileSync(join(out, 'rows.ndjson'), readFileSync(join(out, 'rows.ndjson'), 'utf8') + JSON.stringify({ ...rows[0], cells: {} }) + '\n');
      const again = (await c.runCalibrationReport([out, '--json'])) as { problems: string[] };
      expect(again.problems.some((p) => /missing or misaligned/.test(p))).toBe(true);
    },
    LONG,
  );
});

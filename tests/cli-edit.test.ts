/**
 * `kn experiment edit|enhance` on the bundled causal demo model with tiny settings (M = 4, 2 facts, 4
 * languages): shards, resume, merge, report (--json summary shape, Markdown/CSV/SVG files), bad input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEditResults, runEditCommand, runEditMerge, runEditReport } from '../src/cli/edit-cmd';
import { loadModelArg } from '../src/engine/index';
import { DEFAULT_QUADRATURE } from '../src/engine/rules';
import { BUNDLED_DIR } from '../src/engine/source/source-node';
import type { EditSummary, EnhanceSummary, InjectSummary } from '../src/engine/report/edit-report';
import { ready, TMP } from './engine/setup';

const load = async (m: string | undefined, dtype: string | undefined) => {
  await ready;
  const arg = m ?? 'bundled:demo-causal';
  return { model: await loadModelArg(arg, { dtype: (dtype ?? 'int8') as 'int8' }), arg };
};
const small = ['--facts', '2', '--steps', '4', '--langs', 'en,fr,fi,ja', '--no-cache', '--quiet'];

describe('kn experiment edit', () => {
  it('runs in shards, resumes, merges and reports Tables III-IV per method and language', async () => {
    const d1 = join(TMP, 'edit-s1'),
      d2 = join(TMP, 'edit-s2'),
      merged = join(TMP, 'edit-merged');
    const args = [...small, '--methods', 'matrice,random,layer', '--unrelated', '2'];
    const r1 = await runEditCommand('edit', [...args, '--shard', '1/2', '--out', d1], load);
    expect(r1).toMatchObject({ experiment: 'edit', facts: 2, written: 1, skipped: 0 });
    const again = await runEditCommand('edit', [...args, '--shard', '1/2', '--out', d1], load);
    expect(again).toMatchObject({ written: 0, skipped: 1 });
    // the run records its quadrature and starts from the model's calibrated settings (demo-causal's calibration.json),
    // as kn experiment manipulate does; another quadrature is another run
    const meta = JSON.parse(readFileSync(join(d1, 'meta.json'), 'utf8'));
    expect(meta.quadrature).toBe(DEFAULT_QUADRATURE);
    expect(meta.settings.tau).toBe(JSON.parse(readFileSync(join(BUNDLED_DIR, 'demo-causal', 'calibration.json'), 'utf8')).settings.tau);
    await expect(runEditCommand('edit', [...args, '--quadrature', 'riemann-right', '--shard', '1/2', '--out', d1], load)).rejects.toThrow(
      /holds results of another run: quadrature/,
    );
    await expect(runEditCommand('edit', [...args, '--lambda2', '4', '--shard', '1/2', '--out', d1], load)).rejects.toThrow(
      /holds results of another run: edit/,
    );
    await runEditCommand('edit', [...args, '--shard', '2/2', '--out', d2], load);
    const m = await runEditMerge([d1, d2, '--out', merged]);
    expect(m).toMatchObject({ facts: 2, of: 2, missing: [] });
    expect(await isEditResults([merged])).toBe(true);
    const s = (await runEditReport([merged, '--json'])) as EditSummary;
    expect(s.experiment).toBe('edit');
    expect(s.facts).toBe(2);
    for (const op of ['erase', 'update'] as const) {
      expect(Object.keys(s[op])).toEqual(['matrice', 'random', 'layer']);
      for (const l of ['en', 'fr', 'fi', 'ja']) {
        const c = s[op].matrice.languages[l];
        expect(Object.keys(c)).toEqual(['reliability', 'generality', 'locality', 'n']);
        expect(c.n.unrelated).toBeGreaterThan(0);
        for (const k of ['reliability', 'generality', 'locality'] as const) {
          if (c[k] === null) continue; // no known query of that kind in this language
          expect(c[k]!).toBeGreaterThanOrEqual(0);
          expect(c[k]!).toBeLessThanOrEqual(1);
        }
      }
      // the facts are picked with their English edited query known: both count in English
      expect(s[op].matrice.languages.en.n.edited).toBe(2);
      expect(s[op].matrice.languages.en.reliability).not.toBeNull();
    }
    // editing a whole layer changes predictions of unrelated facts far more than a handful of neurons does
    expect(s.erase.layer.mean.locality!).toBeLessThanOrEqual(s.erase.matrice.mean.locality!);
    expect(s.timing.liveMsMedian).toBeGreaterThan(0);
    expect(s.requantization).not.toBeNull();
    const dir = join(merged, 'report');
    for (const f of ['report.md', 'table3.csv', 'table4.csv', 'table3-reliability.svg', 'table4-locality.svg', 'summary.json'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/## Table III: erasure/);
    expect(md).toMatch(/## Table IV: update/);
    expect(md).toMatch(
      /Reproduce: `npm run -s kn -- experiment edit --model bundled:demo-causal --facts 2 --langs en,fr,fi,ja --methods matrice,random,layer --lambda1 1 --lambda2 8 --unrelated 2/,
    );
    expect(readFileSync(join(dir, 'table3.csv'), 'utf8').split('\n')[0]).toBe(
      'method,language,reliability,generality,locality,edited_known,paraphrases_known,unrelated',
    );
  }, 300_000);

  it('refuses bad input before loading the model', async () => {
    const never = async () => {
      throw new Error('the model must not load');
    };
    const out = ['--out', join(TMP, 'edit-bad')];
    await expect(runEditCommand('edit', [...small, '--lambda2', '500', ...out], never)).rejects.toThrow(/λ2 must be a number in 0\.\.50/);
    await expect(runEditCommand('edit', [...small, '--lambda1', 'x', ...out], never)).rejects.toThrow(/--lambda1 must be a number/);
    await expect(runEditCommand('edit', ['--langs', 'fr,fi', ...out], never)).rejects.toThrow(/must include en/);
    await expect(runEditCommand('edit', ['--methods', 'matrice,bogus', ...out], never)).rejects.toThrow(
      /unknown method "bogus" for edit; one of matrice, amig, random, layer/,
    );
    await expect(runEditCommand('enhance', ['--langs', 'en,fr', ...out], never)).rejects.toThrow(/Q_error in fi, hu, ja, ko/);
    await expect(runEditCommand('enhance', ['--lambda1', '2', ...out], never)).rejects.toThrow(/belong to `experiment edit`/);
    await expect(runEditCommand('edit', ['--shard', '3/2', ...out], never)).rejects.toThrow(/--shard must be k\/n/);
  });
});

describe('kn experiment enhance', () => {
  it('reports accuracy before/after on Q_error per method and language', async () => {
    const dir = join(TMP, 'enhance');
    const r = await runEditCommand('enhance', [...small, '--methods', 'matrice,random', '--out', dir], load);
    expect(r).toMatchObject({ experiment: 'enhance', written: 2 });
    const s = (await runEditReport([dir, '--json'])) as EnhanceSummary;
    expect(s.experiment).toBe('enhance');
    expect(s.settings.enhanceLangs).toEqual(['fi', 'ja']);
    const cells = ['fi', 'ja'].map((l) => s.methods.matrice.languages[l]);
    for (const c of cells) expect(Object.keys(c)).toEqual(['before', 'after', 'qError', 'knownKept']);
    expect(cells.reduce((a, c) => a + c.qError, 0)).toBeGreaterThan(0); // every picked fact has a wrong fi/ja query
    for (const c of cells) expect(c.before).toBe(0);
    expect(existsSync(join(dir, 'report', 'fig6.svg'))).toBe(true);
    expect(readFileSync(join(dir, 'report', 'fig6.csv'), 'utf8').split('\n')[0]).toBe('method,relation,language,q_error,before,after,known_kept');
  }, 300_000);
});

describe('kn experiment inject', () => {
  it('trains on an unknown fact and reports {new, old} accuracy per method and language', async () => {
    const dir = join(TMP, 'inject');
    const r = await runEditCommand(
      'inject',
      [
        '--facts',
        '1',
        '--steps',
        '4',
        '--langs',
        'en,fr,fi,ja',
        '--methods',
        'direct,matrice',
        '--train-steps',
        '3',
        '--old',
        '2',
        '--no-cache',
        '--quiet',
        '--out',
        dir,
      ],
      load,
    );
    expect(r).toMatchObject({ experiment: 'inject', written: 1 });
    const s = (await runEditReport([dir, '--json'])) as InjectSummary;
    expect(s.experiment).toBe('inject');
    expect(s.settings.oldFacts).toBe(2);
    for (const k of ['direct', 'matrice'])
      for (const l of ['en', 'fr', 'fi', 'ja']) expect(Object.keys(s.methods[k].languages[l])).toEqual(['new', 'old', 'n']);
    for (const l of ['en', 'fr', 'fi', 'ja']) expect(s.before.languages[l].new).toBe(0); // unknown facts
    expect(s.before.languages.en.n.old).toBeGreaterThan(0);
    expect(s.methods.direct.stepsMedian).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'report', 'table5.csv'))).toBe(true);
    await expect(runEditCommand('inject', ['--lr', '0', '--out', dir], load)).rejects.toThrow(/--lr must be a number in \(0, 10\]/);
  }, 300_000);
});

/** `kn attribute` and `kn localize` print the documented JSON (real process, tiny checkpoint). */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from './helpers/tiny-checkpoints';
import { DEFAULT_QUADRATURE, QUADRATURES } from '../src/engine/attribution/attribute';

const run = promisify(execFile);
const KN = ['node_modules/.bin/tsx', 'src/cli/kn.ts'];

describe('CLI: attribute and localize', () => {
  it('attribute: raw [layers][neurons] sums to the completeness totals; scores are Eq. 5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kn-cli-'));
    await writeTinyCheckpoint(join(dir, 'm'), 'gpt2', { seed: 31 });
    const { stdout } = await run(KN[0], [
      KN[1],
      'attribute',
      '--model',
      join(dir, 'm'),
      '--prompt',
      'The capital of France is',
      '--target',
      'Paris',
      '--steps',
      '4',
      '--dtype',
      'f32',
      '--json',
    ]);
    const r = JSON.parse(stdout);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['ids', 'position', 'targetId', 'steps', 'baseline', 'raw', 'scores']));
    expect(r.steps).toBe(4);
    expect(r.baseline).toBe('pad');
    expect(r.raw).toHaveLength(2);
    expect(r.raw[0]).toHaveLength(128);
    for (let l = 0; l < 2; l++) {
      const sum = r.raw[l].reduce((a: number, b: number) => a + b, 0);
      // Eq. 5: each layer's scores sum to 1
      expect(r.scores[l].reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
      expect(r.scores[l][5]).toBeCloseTo(r.raw[l][5] / sum, 5);
    }
    await expect(
      run(KN[0], [KN[1], 'attribute', '--model', join(dir, 'm'), '--prompt', 'The capital of France is', '--target', 'Paris', '--steps', '0', '--json']),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/kn: error \[bad-input\].*1\.\.1000/) });
    // --quadrature: recorded; an unknown value refused naming the option and the allowed values
    const gl = JSON.parse(
      (
        await run(KN[0], [
          KN[1],
          'attribute',
          '--model',
          join(dir, 'm'),
          '--prompt',
          'The capital of France is',
          '--target',
          'Paris',
          '--steps',
          '4',
          '--quadrature',
          'gauss-legendre',
          '--dtype',
          'f32',
          '--json',
        ])
      ).stdout,
    );
    expect(gl.quadrature).toBe('gauss-legendre');
    expect(r.quadrature).toBe(DEFAULT_QUADRATURE);
    const rr = JSON.parse(
      (
        await run(KN[0], [
          KN[1],
          'attribute',
          '--model',
          join(dir, 'm'),
          '--prompt',
          'The capital of France is',
          '--target',
          'Paris',
          '--steps',
          '4',
          '--quadrature',
          'riemann-right',
          '--dtype',
          'f32',
          '--json',
        ])
      ).stdout,
    );
    expect(rr.quadrature).toBe('riemann-right');
    expect(gl.completeness.maxAbs).toBeLessThan(rr.completeness.maxAbs);
    await expect(
      run(KN[0], [
        KN[1],
        'attribute',
        '--model',
        join(dir, 'm'),
        '--prompt',
        'The capital of France is',
        '--target',
        'Paris',
        '--quadrature',
        'simpson',
        '--json',
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining(`kn: error [bad-input]: --quadrature must be one of ${QUADRATURES.join(', ')}, got "simpson"`),
    });
  });

  it('localize: selected neurons, scores, and P(correct) before / suppressed / enhanced per language', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kn-cli-'));
    await writeTinyCheckpoint(join(dir, 'm'), 'gpt2', { seed: 32 });
    const args = [
      KN[1],
      'localize',
      '--model',
      join(dir, 'm'),
      '--relation',
      'P36',
      '--fact',
      '0',
      '--langs',
      'en,fr',
      '--steps',
      '2',
      '--tau',
      '0.9',
      '--json',
    ];
    const env = { ...process.env, KN_CACHE_DIR: join(dir, 'cache') };
    const r = JSON.parse((await run(KN[0], args, { env })).stdout);
    expect(r.fact).toBe('P36:0');
    expect(r.method).toBe('matrice');
    expect(r.neurons.length).toBeGreaterThan(0);
    expect(r.scores).toHaveLength(r.neurons.length);
    for (const s of r.scores) expect(s).toBeGreaterThan(r.threshold);
    expect(Object.keys(r.languages).sort()).toEqual(['en', 'fr']);
    for (const l of ['en', 'fr']) {
      const x = r.languages[l];
      expect(x.queries).toBeGreaterThanOrEqual(4);
      for (const k of ['before', 'suppressed', 'enhanced']) expect(x[k]).toBeGreaterThan(0);
      expect(x.known).toBeGreaterThanOrEqual(0);
      expect(x.known).toBeLessThanOrEqual(x.queries);
      // ΔP is averaged over the queries the model knew (docs/METHOD.md); a random model knows none → null, never 0
      if (x.known === 0) {
        expect(x.deltaP_suppress).toBeNull();
        expect(x.deltaP_enhance).toBeNull();
      } else {
        expect(x.deltaP_suppress).toBeGreaterThanOrEqual(-1);
        expect(Number.isFinite(x.deltaP_enhance)).toBe(true);
      }
    }
    expect(r.cachedQueries).toBe(0);
    const again = JSON.parse((await run(KN[0], args, { env })).stdout);
    expect(again.cachedQueries).toBe(again.queries);
    expect(again.neurons).toEqual(r.neurons);
    await expect(run(KN[0], [...args.slice(0, 6), '--fact', '999999', '--json'], { env })).rejects.toMatchObject({
      stderr: expect.stringMatching(/unknown fact id "P36:999999"/),
    });
  });
});

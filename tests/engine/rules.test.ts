/**
 * Every rule the product states lives once, in src/engine/rules (issue 20): this test enumerates them and checks
 * that the CLI's help and refusals, the page's experiment form and the docs quote the same values. A rule changed in
 * one place and not the others fails here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as R from '../../src/engine/rules';
import { reproduceCommand, reproduceEditCommand, type EditMeta, type ExperimentMeta } from '../../src/engine/experiments';
import { defaultForm, formToRequest } from '../../src/ui/experiments/logic';

const root = new URL('../../', import.meta.url).pathname;
const doc = (p: string) => readFileSync(root + p, 'utf8');
const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const kn = (...args: string[]): { out: string; err: string; code: number } => {
  try {
    const out = execFileSync(process.execPath, [tsx, 'src/cli/kn.ts', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { out, err: '', code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; status?: number };
    return { out: x.stdout ?? '', err: x.stderr ?? '', code: x.status ?? -1 };
  }
};

describe('rules: one home, quoted alike by the CLI, the page and the docs', () => {
  it('the rules hold the values the product documents', () => {
    expect(R.DEFAULT_STEPS).toBe(20);
    expect(R.DEFAULT_BASELINE).toBe('pad');
    expect(R.DEFAULT_QUADRATURE).toBe('gauss-legendre');
    expect(R.DEFAULT_SETTINGS).toEqual({ alpha1: 1, alpha2: 1, beta1: 1, beta2: 1, tau: 0.2, norm: 'scale', attrNorm: 'none' });
    expect([R.DEFAULT_LAMBDA1, R.DEFAULT_LAMBDA2, R.LAMBDA_MAX]).toEqual([1, 8, 50]);
    expect(R.TEACH_DEFAULTS).toEqual({ k: 10, trainSteps: 40, lr: 0.01, steps: R.DEFAULT_STEPS });
    expect(R.SEED_MAX).toBe(2 ** 31 - 1);
    expect(R.KNOWN_LANGUAGE_SHARE).toBe(0.5);
    // the known-language rule: at least half of the queries, and at least one query
    expect([R.isKnownLanguage(1, 2), R.isKnownLanguage(0, 2), R.isKnownLanguage(2, 3), R.isKnownLanguage(0, 0)]).toEqual([true, false, true, false]);
  });

  it('the checks refuse what the rules exclude, naming the value', () => {
    expect(() => R.checkSteps(R.STEPS_MAX + 1)).toThrow(`${R.STEPS_MIN}..${R.STEPS_MAX}`);
    expect(R.checkSteps(R.STEPS_MAX)).toBe(R.STEPS_MAX);
    expect(() => R.checkLangs(['en', 'xx'])).toThrow(/unknown language "xx"; one of zh, en, fr, fi, hu, ja, ko/);
    expect(() => R.checkLangs([])).toThrow(/at least one language/);
    expect(R.checkLangs(['en', 'en', 'fr'])).toEqual(['en', 'fr']);
    expect(() => R.checkRelation('P999')).toThrow(/unknown relation "P999"/);
    expect(() => R.checkMethod('bogus')).toThrow(/unknown method "bogus"; one of matrice, amig, random, no-uaq, no-ual/);
    expect(() => R.checkLambda('λ1', R.LAMBDA_MAX + 1)).toThrow(`0..${R.LAMBDA_MAX}`);
    expect(() => R.checkTrainSteps(R.TRAIN_STEPS_MAX + 1)).toThrow(`1..${R.TRAIN_STEPS_MAX}`);
    expect(() => R.checkTeachLr(R.TEACH_LR_MAX * 2)).toThrow(`(0, ${R.TEACH_LR_MAX}]`);
    expect(() => R.resolveSettings({ tau: Number.NaN })).toThrow(/tau must be a finite number/);
  });

  it("the page's experiment form takes the rules' limits", () => {
    const at = (patch: Record<string, number>) => () => formToRequest({ ...defaultForm(), ...patch } as ReturnType<typeof defaultForm>, 'bundled:demo-causal');
    expect(at({ facts: R.FACTS_MAX })).not.toThrow();
    expect(at({ facts: R.FACTS_MAX + 1 })).toThrow(String(R.FACTS_MAX));
    expect(at({ seed: R.SEED_MAX })).not.toThrow();
    expect(at({ seed: R.SEED_MAX + 1 })).toThrow(String(R.SEED_MAX));
    expect(at({ steps: R.STEPS_MAX + 1 })).toThrow(String(R.STEPS_MAX));
    expect(defaultForm().steps).toBe(R.DEFAULT_STEPS);
    expect(defaultForm().facts).toBe(R.DEFAULT_FACTS.page);
  });

  it("the CLI's help and refusals quote the rules", () => {
    const help = kn('--help').out;
    expect(help).toContain(`${R.JOBS_MIN}..${R.JOBS_MAX}, default ${R.DEFAULT_JOBS_NOTE}`);
    expect(help).toContain(`above ${R.COMPLETENESS_FLAG * 100} % of P are re-attributed with ${R.RECHECK.quadrature} M = ${R.RECHECK.steps}`);
    expect(help).toContain(`[--baseline ${R.BASELINES.join('|')}]`);
    expect(help).toContain(`[--quadrature ${R.QUADRATURES.join('|')}]`);
    expect(help).toContain(`[--method ${R.METHODS.join('|')}]`);
    expect(help).toContain(`[--lambda1 ${R.DEFAULT_LAMBDA1}] [--lambda2 ${R.DEFAULT_LAMBDA2}]`);
    expect(help).toContain(`[--train-steps ${R.TEACH_DEFAULTS.trainSteps}] [--lr ${R.TEACH_DEFAULTS.lr}]`);
    expect(help).toContain(`[--k ${R.TEACH_DEFAULTS.k}]`);
    const bad = kn('attribute', '--prompt', 'x', '--target', 'y', '--steps', String(R.STEPS_MAX + 1), '--json');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain(`${R.STEPS_MIN}..${R.STEPS_MAX}`);
  }, 120_000);

  it('the docs state the same defaults', () => {
    const method = doc('docs/METHOD.md');
    const s = R.DEFAULT_SETTINGS;
    expect(method).toContain(`Defaults α1 = ${s.alpha1}, α2 = ${s.alpha2}.`);
    expect(method).toContain(`Defaults β1 = ${s.beta1}, β2 = ${s.beta2}.`);
    expect(method).toContain(`**Default: \`${s.attrNorm}\`**`);
    expect(method).toContain(`**Default: \`${s.norm}\`**`);
    expect(method).toContain(`Dai et al. used ${s.tau} of the maximum, which is our default`);
    expect(method).toContain(`\`${R.DEFAULT_QUADRATURE}\` with M = ${R.DEFAULT_STEPS}`);
    const editing = doc('docs/EDITING.md');
    expect(editing).toContain(`Defaults λ1 = ${R.DEFAULT_LAMBDA1}, λ2 = ${R.DEFAULT_LAMBDA2}`);
    expect(editing).toContain(`λ outside 0..${R.LAMBDA_MAX}`);
    expect(editing).toContain(`${R.TEACH_DEFAULTS.trainSteps} steps at lr ${R.TEACH_DEFAULTS.lr}`);
  });

  it('the reproduce commands name every setting that differs from the rules (baseline, std weights), for every kind', () => {
    const meta = (kind: string) => JSON.parse(readFileSync(`${root}tests/fixtures/golden/in/${kind}/meta.json`, 'utf8'));
    for (const kind of ['edit', 'enhance', 'inject']) {
      const m = meta(kind) as EditMeta;
      expect(reproduceEditCommand(m)).not.toContain('--baseline');
      const other = { ...m, baseline: 'zero' as const, settings: { ...m.settings, beta2: 0.5 } };
      expect(reproduceEditCommand(other)).toContain(' --baseline zero ');
      expect(reproduceEditCommand(other)).toContain(' --beta2 0.5 ');
    }
    const m = meta('manipulate') as ExperimentMeta;
    expect(reproduceCommand({ ...m, baseline: 'zero', settings: { ...m.settings, alpha2: 0 } })).toMatch(/ --baseline zero .* --alpha2 0 /);
  });
});

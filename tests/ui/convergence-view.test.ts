/**
 * The Localize view's completeness line after the convergence check (logic.ts convergenceView): no flagged
 * query (no advice), flagged but the same selection (neutral: the conclusion stands), the selection changes
 * (the warning, with the sizes and the Jaccard index), running (the engine's RECHECK named) and unchecked.
 */
import { describe, expect, it } from 'vitest';
import { COMPLETENESS_FLAG, RECHECK, type ConvergenceCheck } from '../../src/engine/session/session';
import { completenessView, convergenceView } from '../../src/ui/explorer/logic';

const finer = `${RECHECK.quadrature} M = ${RECHECK.steps}`;
// 2 of 3 queries above the flag (10 % and 30 % of P), one below (1 %)
const queries = [
  { completeness: { maxAbs: 0.05 }, pFull: 0.5 },
  { completeness: { maxAbs: 0.06 }, pFull: 0.2 },
  { completeness: { maxAbs: 0.001 }, pFull: 0.1 },
];
const cv = completenessView(queries, 20);

function check(over: Partial<ConvergenceCheck>): ConvergenceCheck {
  return {
    flag: COMPLETENESS_FLAG,
    flagged: 2,
    queries: 3,
    worstBefore: 0.3,
    worstAfter: 0.004,
    finer: { ...RECHECK },
    method: 'matrice',
    before: [
      [1, 2],
      [3, 4],
      [0, 7],
    ],
    after: [
      [1, 2],
      [3, 4],
      [0, 7],
    ],
    same: true,
    jaccard: 1,
    ...over,
  };
}

describe('convergenceView', () => {
  it('counts the flagged queries as the engine does', () => {
    expect(cv).toMatchObject({ large: true, flagged: 2, queries: 3, steps: 20 });
  });

  it('no flagged query: the completeness line alone, no advice', () => {
    const ok = completenessView([{ completeness: { maxAbs: 1e-4 }, pFull: 0.5 }], 20);
    for (const v of [
      convergenceView(ok, null, false),
      convergenceView(ok, null, true),
      convergenceView(ok, check({ flagged: 0, finer: null, worstAfter: null }), false),
    ]) {
      expect(v).toEqual({ state: 'none', text: ok.text, warn: false });
    }
    // flagged by the page, none by the engine (the same rule: should not happen): no advice either
    expect(convergenceView(cv, check({ flagged: 0, finer: null }), false)).toEqual({ state: 'none', text: cv.text, warn: false });
  });

  it('flagged, the same selection: neutral, the conclusion stands', () => {
    const v = convergenceView(cv, check({}), false);
    expect(v.state).toBe('same');
    expect(v.warn).toBe(false);
    expect(v.text).toBe(
      `2 of 3 queries have a completeness error above 5 % of P(correct) (worst 30 %); re-attributed with ${finer} they select the same 3 neurons: the conclusion stands`,
    );
    expect(v.text).not.toMatch(/more steps/);
    expect(convergenceView(cv, check({ before: [[0, 1]], after: [[0, 1]], worstBefore: 0.062 }), false).text).toContain(
      '(worst 6.2 %); re-attributed with gauss-legendre M = 64 they select the same 1 neuron: the conclusion stands',
    );
  });

  it('flagged, the selection changes: the warning with N → N′ and the Jaccard index', () => {
    const v = convergenceView(
      cv,
      check({
        after: [
          [1, 2],
          [3, 4],
        ],
        same: false,
        jaccard: 2 / 3,
      }),
      false,
    );
    expect(v.state).toBe('changed');
    expect(v.warn).toBe(true);
    expect(v.text).toBe(
      `2 of 3 queries have a completeness error above 5 % of P(correct) (worst 30 %); re-attributed with ${finer} the selection changes (3 → 2 neurons, Jaccard 0.67): localize with more steps (e.g. M = 80)`,
    );
  });

  it('running: the engine RECHECK named, with the progress when there is one', () => {
    expect(convergenceView(cv, null, true)).toEqual({ state: 'running', text: `${cv.text}; checking 2 queries with ${finer} …`, warn: false });
    expect(convergenceView(cv, check({}), { queriesDone: 1, queriesTotal: 2 }).text).toBe(`${cv.text}; checking 2 queries with ${finer} … (1 / 2)`);
  });

  it('flagged and no check (a stored exploration, a failed check): the plain advice, a warning', () => {
    expect(convergenceView(cv, null, false)).toEqual({ state: 'unchecked', text: `${cv.text}: ${cv.advice}`, warn: true });
  });
});

describe('the analysis store runs the check after a re-score when a query is flagged', () => {
  it('debounced, latest wins; stopped, re-scores leave it stopped until checkNow', async () => {
    const { AnalysisStore, CHECK_DEBOUNCE_MS } = await import('../../src/ui/explorer/analysis.svelte');
    const calls: string[] = [];
    let cancels = 0;
    const score = {
      method: 'matrice',
      selected: [[1, 2]],
      S: [],
      bin: 1,
      numLayers: 1,
      ffnSize: 1,
      threshold: 0,
      maxS: 0,
      layerDistribution: [],
      warnings: 0,
      ms: 0,
    };
    const client = {
      score: async () => score,
      neuronStats: async () => null,
      manipulate: async () => ({ rows: [], languages: {}, factor: 0, neurons: [], ms: 0 }),
      checkConvergence: async (factId: string, o: { method: string }) => (calls.push(o.method), { ...check({ method: o.method as never }), factId, ms: 1 }),
      cancelCheck: async () => void cancels++,
    };
    const h = { client, info: {}, factId: 'P36:0', staticView: null, restoring: false, notice: '', error: null, showError() {}, updateHash() {} };
    const a = new AnalysisStore(h as never);
    a.loc = { factId: 'P36:0', steps: 20, queries } as never;
    const wait = () => new Promise((r) => setTimeout(r, CHECK_DEBOUNCE_MS + 50));
    await a.rescore();
    expect(a.checking).toBe(true);
    a.method = 'amig';
    await a.rescore();
    await wait();
    expect(calls).toEqual(['amig']);
    expect(a.checking).toBe(false);
    expect(convergenceView(cv, a.check, a.checking).state).toBe('same');
    await a.rescore();
    await a.stopCheck();
    expect(cancels).toBe(1);
    expect(convergenceView(cv, a.check, a.checking).state).toBe('unchecked');
    await a.rescore();
    await wait();
    expect(calls).toEqual(['amig']);
    a.checkNow();
    await wait();
    expect(calls).toEqual(['amig', 'amig']);
    // nothing flagged: no check
    a.loc = { factId: 'P36:0', steps: 20, queries: [queries[2]] } as never;
    await a.rescore();
    expect(a.checking).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { selectionAdvice } from '../../src/ui/explorer/logic';

const base = { method: 'matrice', numLayers: 4, ffnSize: 512, maxS: 0.8, tau: 0.2, norm: 'scale' as const };

describe('selectionAdvice: the most-neurons and no-neuron warnings', () => {
  it('says nothing about an ordinary selection', () => {
    expect(selectionAdvice({ ...base, selected: 7 })).toBeNull();
    expect(selectionAdvice({ ...base, selected: 1024 })).toBeNull(); // exactly half is not "more than half"
  });

  it('flags more than half of all neurons, naming min-max as the cause under the min-max normalizations', () => {
    const a = selectionAdvice({ ...base, selected: 2044, norm: 'language' })!;
    expect(a.kind).toBe('most');
    expect(a.what).toContain('2044 of 2048');
    expect(a.why).toContain('min-max');
    expect(a.tries[0]).toContain('÷ its max |score|');
    const s = selectionAdvice({ ...base, selected: 1500, norm: 'scale' })!;
    expect(s.kind).toBe('most');
    expect(s.why).not.toContain('min-max');
    expect(s.tries).toContain('a higher τ');
  });

  it('explains an empty selection when every S ≤ 0, with what to try', () => {
    const a = selectionAdvice({ ...base, selected: 0, maxS: -0.013 })!;
    expect(a.kind).toBe('none');
    expect(a.why).toContain('≤ 0');
    expect(a.why).toContain('max S = -0.013');
    expect(a.tries.join(' ')).toMatch(/answers correctly/);
    expect(a.tries.join(' ')).toMatch(/α2 \/ β2/);
    // no finite score at all
    expect(selectionAdvice({ ...base, selected: 0, maxS: -Infinity })!.why).not.toContain('max S =');
  });

  it('explains an empty selection under τ ≥ 1, an empty intersection (AMIG, w/o UaL) and Random', () => {
    const t = selectionAdvice({ ...base, selected: 0, tau: 1 })!;
    expect(t.kind).toBe('none');
    expect(t.tries).toEqual(['a τ below 1']);
    const amig = selectionAdvice({ ...base, method: 'amig', selected: 0 })!;
    expect(amig.what).toContain('AMIG');
    expect(amig.why).toContain('intersection');
    expect(selectionAdvice({ ...base, method: 'no-ual', selected: 0 })!.what).toContain('w/o UaL');
    expect(selectionAdvice({ ...base, method: 'random', selected: 0, maxS: -1 })!.what).toContain('MaTrice selects none');
  });
});

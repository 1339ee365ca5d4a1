import { describe, expect, it } from 'vitest';
import { completenessView, deltaCell } from '../../src/ui/explorer/logic';

describe('numbers that do not contradict each other', () => {
  it('ΔP cells: "no known query" instead of a number; no arrow on a change that rounds to 0', () => {
    expect(deltaCell(NaN)).toEqual({ text: 'no known query', arrow: '', dir: 'none' });
    expect(deltaCell(-0.0004)).toMatchObject({ arrow: '', dir: 'none' });
    expect(deltaCell(0.0003)).toMatchObject({ arrow: '', dir: 'none' });
    expect(deltaCell(-0.779)).toMatchObject({ arrow: '▼', dir: 'down', text: '-78 %' });
    expect(deltaCell(0.012)).toMatchObject({ arrow: '▲', dir: 'up', text: '+1.2 %' });
  });
  it('completeness: relative to the query P(correct), flagged when large, with what to do', () => {
    // the old "relative" divided by P(w̄) − P(w'), ~0 for a baseline that barely moves P: 1140 % here
    const ok = completenessView(
      [
        { completeness: { maxAbs: 2e-4 }, pFull: 0.5 },
        { completeness: { maxAbs: 1e-5 }, pFull: 0.01 },
      ],
      20,
    );
    expect(ok.relToP).toBeCloseTo(1e-3, 12);
    expect(ok.large).toBe(false);
    expect(ok.text).toContain('0.10 % of the query');
    const bad = completenessView([{ completeness: { maxAbs: 0.2 }, pFull: 0.5 }], 20);
    expect(bad.large).toBe(true);
    expect(bad.advice).toMatch(/more steps \(e\.g\. M = 80\)/);
  });
});

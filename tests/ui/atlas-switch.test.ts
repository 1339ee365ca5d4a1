/** Toggle's "switch off a language" logic (src/ui/atlas/switch.ts), on hand-worked numbers. */
import { describe, expect, it } from 'vitest';
import { lapeChoices, switchReading, switchText } from '../../src/ui/atlas/switch';

describe('switch off a language', () => {
  it('offers the languages with a LAPE set, in the atlas order', () => {
    const sets = { fi: [[1, 2] as [number, number]], en: [], fr: [[0, 1] as [number, number], [3, 4] as [number, number]] };
    expect(lapeChoices(sets, ['en', 'fr', 'fi', 'ja'])).toEqual([
      {
        lang: 'fr',
        name: 'French',
        neurons: [
          [0, 1],
          [3, 4],
        ],
      },
      { lang: 'fi', name: 'Finnish', neurons: [[1, 2]] },
    ]);
  });

  it('reads ΔP in the language and the mean over the others (languages without a known query left out)', () => {
    // others: en −0.10, fr +0.02, ja NaN (no known query) → (−0.10 + 0.02) / 2 = −0.04
    const r = { fi: { deltaP: -0.6 }, en: { deltaP: -0.1 }, fr: { deltaP: 0.02 }, ja: { deltaP: Number.NaN } };
    const s = switchReading('fi', r);
    expect(s.target).toBe(-0.6);
    expect(s.others).toBeCloseTo(-0.04, 12);
    expect(s.otherCount).toBe(2);
    expect(switchReading('ko', r).target).toBeNaN();
  });

  it('says it in one sentence', () => {
    const lape = { fi: { deltaP: -0.6 }, en: { deltaP: -0.1 }, fr: { deltaP: 0.02 } };
    const matrice = { fi: { deltaP: -0.25 }, en: { deltaP: -0.35 }, fr: { deltaP: Number.NaN } };
    expect(switchText('fi', 12, lape, 1, matrice)).toBe(
      "Switching off Finnish's 12 language-specific (LAPE) neurons: ΔP \u221260.0 % in Finnish, \u22124.0 % on average over the other 2 languages. " +
        "The fact's 1 MaTrice neuron: \u221225.0 % in Finnish, \u221235.0 % over the others.",
    );
  });
});

/**
 * The Localize view's language coverage and the Toggle view's answers lost, as formatted (explorer/logic.ts),
 * and the settings' defaults note and "the paper's α = β = 1" (explorer/settings.ts). Numbers by hand.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/engine/selection/scoring';
import { coverageSummary, coverageText, flipCell, flipOverall, settingsNote } from '../../src/ui/explorer/logic';
import { PAPER_LABEL, paperSettings } from '../../src/ui/explorer/settings';

describe('language coverage in the Localize view', () => {
  it('shows each neuron as count/languages and the mean over the selection', () => {
    expect(coverageText(5, 7)).toBe('5/7');
    expect(coverageText(0, 3)).toBe('0/3');
    expect(coverageText(undefined, 7)).toBe('');
    // 7 + 5 + 0 + 2 = 14 over 4 neurons = 3.5
    expect(coverageSummary({ perNeuron: [7, 5, 0, 2], mean: 3.5, languages: 7 })).toEqual({
      text: 'mean language coverage 3.50 of 7 (over 4 neurons)',
      mean: 3.5,
    });
    // 1 + 2 + 2 = 5 over 3 = 1.666… → 1.67
    expect(coverageSummary({ perNeuron: [1, 2, 2], mean: 5 / 3, languages: 3 })!.text).toBe('mean language coverage 1.67 of 3 (over 3 neurons)');
    expect(coverageSummary({ perNeuron: [3], mean: 3, languages: 3 })!.text).toBe('mean language coverage 3.00 of 3 (over 1 neuron)');
    expect(coverageSummary({ perNeuron: [], mean: null, languages: 7 })).toEqual({ text: 'mean language coverage — (no neuron selected)', mean: null });
    // a stored exploration has no coverage: nothing is shown
    expect(coverageSummary(undefined)).toBeNull();
  });
});

describe('answers lost in the Toggle view', () => {
  it('per language: lost of known from the flip rate; no known query and an unknown rate say so', () => {
    expect(flipCell({ flipRate: 1 / 3, correctBefore: 9 })).toEqual({ text: '3/9 lost (33 %)', lost: 3, known: 9 });
    expect(flipCell({ flipRate: 0, correctBefore: 4 })).toEqual({ text: '0/4 lost (0 %)', lost: 0, known: 4 });
    expect(flipCell({ flipRate: 1, correctBefore: 2 })).toEqual({ text: '2/2 lost (100 %)', lost: 2, known: 2 });
    expect(flipCell({ flipRate: NaN, correctBefore: 0 })).toEqual({ text: 'no known query', lost: null, known: 0 });
    expect(flipCell({ flipRate: NaN, correctBefore: 3 })).toEqual({ text: '—', lost: null, known: 3 });
    expect(flipCell(undefined).text).toBe('—');
  });

  it('overall: lost and known summed over the languages that have a rate', () => {
    // en 3/9, fr 1/2, fi no known query, hu rate unknown: 4 of 11 known = 36 %
    const o = flipOverall({
      en: { flipRate: 1 / 3, correctBefore: 9 },
      fr: { flipRate: 0.5, correctBefore: 2 },
      fi: { flipRate: NaN, correctBefore: 0 },
      hu: { flipRate: NaN, correctBefore: 5 },
    })!;
    expect(o).toMatchObject({ lost: 4, known: 11, text: 'answers lost: 4/11 known queries (36 %)' });
    expect(o.rate).toBeCloseTo(4 / 11, 12);
    expect(flipOverall({ fi: { flipRate: NaN, correctBefore: 0 } })).toBeNull();
    expect(flipOverall({})).toBeNull();
  });
});

describe('the settings defaults note and the paper button', () => {
  it('names where the defaults come from; a refused calibration is a problem; a read-only view shows none', () => {
    expect(settingsNote({ calibration: {} }, 'calibrated on 20 dev facts')).toEqual({ kind: 'calibrated', text: 'calibrated on 20 dev facts' });
    expect(settingsNote({}, "METHOD's defaults")).toEqual({ kind: 'method', text: "METHOD's defaults" });
    expect(settingsNote({ calibrationProblem: 'calibration.json: version must be 1' }, 'refused: version must be 1').kind).toBe('problem');
    expect(settingsNote(null, 'x')).toEqual({ kind: 'none', text: '' });
  });

  it("the paper's α = β = 1 and METHOD's τ replace the calibrated weights; the normalizations stay", () => {
    const calibrated = { alpha1: 1.5, alpha2: 0.5, beta1: 2, beta2: 0.25, tau: 0.1, norm: 'language' as const, attrNorm: 'layer' as const };
    expect(paperSettings(calibrated)).toEqual({ alpha1: 1, alpha2: 1, beta1: 1, beta2: 1, tau: 0.2, norm: 'language', attrNorm: 'layer' });
    expect(paperSettings(calibrated).tau).toBe(DEFAULT_SETTINGS.tau);
    expect(calibrated.alpha2).toBe(0.5); // not mutated
    expect(PAPER_LABEL).toBe("Use the paper's α = β = 1");
  });
});

/**
 * A hand-made neuron list (src/ui/explorer/logic.ts readNeuronList, the Toggle view's manual set through
 * analysis.ts) keeps the ids the model has and names the others (issue 23: `3:511` was dropped beside
 * an out-of-range `9:1`).
 */
import { describe, expect, it } from 'vitest';
import { manualError, toggleNeurons } from '../../src/ui/explorer/analysis';
import { AnalysisStore } from '../../src/ui/explorer/analysis.svelte';
import { invalidNeuronsText, parseNeuronList, readNeuronList } from '../../src/ui/explorer/logic';

// the demo models' shape: 4 layers × 512 neurons
const L = 4,
  F = 512;

describe('a hand-made neuron list', () => {
  it('keeps a valid id beside an out-of-range one and names the invalid ones', () => {
    expect(readNeuronList('3:511, 9:1', L, F)).toEqual({ neurons: [[3, 511]], invalid: ['9:1 (layer 9 does not exist: 0..3)'] });
    expect(readNeuronList('[0,512] 2:7 -1:3 2:7', L, F)).toEqual({
      neurons: [[2, 7]],
      invalid: ['0:512 (index 512 does not exist: 0..511)', '-1:3 (layer -1 does not exist: 0..3)'],
    });
    expect(parseNeuronList('3:511, 9:1', L, F)).toEqual([[3, 511]]);
    expect(invalidNeuronsText(readNeuronList('3:511, 9:1', L, F))).toBe('neurons: left out 9:1 (layer 9 does not exist: 0..3); using the other one');
    expect(invalidNeuronsText(readNeuronList('9:1, 4:0', L, F))).toBe(
      'neurons: left out 9:1 (layer 9 does not exist: 0..3), 4:0 (layer 4 does not exist: 0..3); no neuron left to use',
    );
    expect(invalidNeuronsText(readNeuronList('1:1, 2:2', L, F))).toBe('');
    // without the model's shape nothing is out of range; text that is not pairs is still refused
    expect(readNeuronList('9:1', undefined, undefined)).toEqual({ neurons: [[9, 1]], invalid: [] });
    expect(() => readNeuronList('3:511, x', L, F)).toThrow(/neurons: cannot read "x"/);
  });

  it('the Toggle view acts on the valid ids and says which were left out', () => {
    const t = { set: 'manual' as const, selected: [], neuron: null, manualText: '3:511, 9:1', numLayers: L, ffnSize: F };
    expect(toggleNeurons(t)).toEqual([[3, 511]]);
    expect(manualError(t)).toBe('neurons: left out 9:1 (layer 9 does not exist: 0..3); using the other one');
    expect(manualError({ ...t, manualText: '3:511' })).toBe('');
    expect(toggleNeurons({ ...t, manualText: '3:511 ?' })).toEqual([]);
  });

  it('the toggles are applied with the valid ids (before, nothing was applied)', async () => {
    const calls: unknown[] = [];
    const h = {
      client: { manipulate: async (neurons: unknown) => (calls.push(neurons), { rows: [] }) },
      info: { numLayers: L, ffnSize: F },
      factId: 'P36:0',
      staticView: null,
      restoring: false,
      notice: '',
      error: null,
      showError() {},
      updateHash() {},
    };
    const a = new AnalysisStore(h as never);
    a.loc = { numLayers: L, ffnSize: F } as never;
    a.toggleSet = 'manual';
    a.manualText = '3:511, 9:1';
    await a.applyToggles();
    a.manualText = '9:1';
    await a.applyToggles();
    expect(calls).toEqual([[[3, 511]]]);
  });
});

/**
 * The neuron open in the Atlas view travels in links and exploration files (src/ui/share/state.ts `neuron`): it
 * survives the round trip exactly, a malformed one is refused naming the field, and states without it (every link
 * and file written before the atlas) still open.
 */
import { describe, expect, it } from 'vitest';
import { exportExploration, importExploration, type ExplorationMeta } from '../../src/ui/share/exploration-file';
import { decodeState, defaultState, encodeState, validateState, type ExplorationState } from '../../src/ui/share/state';

const meta: ExplorationMeta = { model: { label: 'bundled:demo-causal', contentHash: 'abc', architecture: 'GPT2LMHeadModel', numLayers: 4, ffnSize: 512 } };

describe('the atlas neuron in links and files', () => {
  it('round-trips in a link and a file', () => {
    const st: ExplorationState = { ...defaultState(), model: { type: 'bundled', name: 'demo-causal' }, neuron: [0, 46] };
    expect(decodeState(encodeState(st))).toEqual(st);
    expect(importExploration(exportExploration(st, meta)).state.neuron).toEqual([0, 46]);
  });

  it('refuses a malformed neuron, naming the field', () => {
    const st = { ...defaultState(), neuron: [0, -3] };
    expect(() => validateState(st, 'link')).toThrow(/link: neuron.*must be a non-negative integer, got -3/);
    expect(() => validateState({ ...defaultState(), neuron: 'L0·46' }, 'link')).toThrow(/link: neuron must be a pair \[layer, index\], got "L0·46"/);
  });

  it('a state without it (older links and files) still opens, without one', () => {
    const old = { ...defaultState(), model: { type: 'bundled' as const, name: 'demo-causal' }, fact: 'P36:4' };
    expect(decodeState(encodeState(old)).neuron).toBeUndefined();
    expect(importExploration(exportExploration(old, meta)).state).toEqual(old);
  });
});

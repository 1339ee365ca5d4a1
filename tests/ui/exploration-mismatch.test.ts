/**
 * An exploration file made with another model than the loaded one says so, naming both (issue 23: a file
 * made on demo-masked opened beside the loaded GPT-2 without a word). src/ui/share/exploration-file.ts
 * modelMismatchNote and Explorer.importFile.
 */
import { describe, expect, it } from 'vitest';
import { exportExploration, modelMismatchNote } from '../../src/ui/share/exploration-file';
import { Explorer } from '../../src/ui/explorer/store.svelte';
import { defaultState } from '../../src/ui/share/state';

const MASKED = { label: 'bundled:demo-masked', contentHash: 'm1', architecture: 'BertForMaskedLM', numLayers: 4, ffnSize: 512 };
const GPT2 = { label: 'hf:gpt2', contentHash: 'g2', architecture: 'GPT2LMHeadModel', numLayers: 12, ffnSize: 3072 };

describe('an exploration file beside another loaded model', () => {
  it('names both models when they differ, and says nothing for the same model or none loaded', () => {
    expect(modelMismatchNote(MASKED, GPT2)).toBe(
      "This exploration was made with bundled:demo-masked (4 layers × 512 neurons), not with the loaded model hf:gpt2 (12 × 3072): what it shows are bundled:demo-masked's results, and reopening it live loads bundled:demo-masked.",
    );
    expect(modelMismatchNote(MASKED, { ...MASKED, label: 'http://host/demo-masked/' })).toBeNull(); // same weights, another address
    expect(modelMismatchNote(MASKED, null)).toBeNull();
    // a version-1 file stores no hash: label and shape decide
    expect(modelMismatchNote({ ...MASKED, contentHash: '' }, MASKED)).toBeNull();
    expect(modelMismatchNote({ ...MASKED, contentHash: '' }, { ...MASKED, numLayers: 6 })).toMatch(
      /^This exploration was made with bundled:demo-masked .* not with the loaded model bundled:demo-masked \(6 × 512\)/,
    );
  });

  it('importing the file shows the note on the page', () => {
    const ex = new Explorer();
    ex.model.spec = { type: 'hub', repo: 'gpt2' };
    ex.model.info = { source: 'hf:gpt2', contentHash: 'g2', architecture: 'GPT2LMHeadModel', numLayers: 12, ffnSize: 3072 } as never;
    const text = exportExploration({ ...defaultState(), model: { type: 'bundled', name: 'demo-masked' }, fact: 'P36:0' }, { model: MASKED });
    expect(ex.importFile(text, 'masked.json')).toBe(true);
    expect(ex.readOnly).toBe(true);
    expect(ex.notice).toBe(modelMismatchNote(MASKED, { ...GPT2, label: 'hf:gpt2' }));
    expect(ex.notice).toContain('bundled:demo-masked');
    expect(ex.notice).toContain('hf:gpt2');
  });
});

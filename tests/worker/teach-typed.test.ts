/**
 * Teaching a typed fact in the page (worker side, src/engine/session/edits.ts) on the bundled causal demo model
 * (issue 23): an object whose first token is only whitespace or a byte piece is refused with the object and
 * its first token named (nothing is trained, nothing kept), and a missing subject is named in the language
 * it was typed in.
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { loadModelArg } from '../../src/engine/index';
import { EditState } from '../../src/engine/session';
import { ExplorerState } from '../../src/engine/session';
import { ready } from '../engine/setup';

describe('teaching a typed fact (worker side)', () => {
  it('refuses an object that starts with a bare space, and names the chosen language of an empty subject', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const bench = openLocal();
      const explorer = new ExplorerState(
        () => model,
        () => bench,
        undefined,
      );
      const edits = new EditState(
        () => model,
        () => bench,
        explorer,
        undefined,
      );
      const hash = model.info.contentHash;
      await expect(
        edits.teach({
          fact: { relation: 'P36', lang: 'en', subject: 'Zorbania', object: ' 🍕ville' },
          langs: ['zh', 'en', 'fr', 'ja'],
          neurons: [[0, 1]],
          trainSteps: 2,
        }),
      ).rejects.toThrow(
        /^the fact has no usable en query for this model \(the object "🍕ville" cannot be taught or written into this model: its first token here is only whitespace \(" ", id 33\)/,
      );
      await expect(
        edits.teach({ fact: { relation: 'P36', lang: 'en', subject: 'Zorbania', object: 'القاهرة' }, langs: ['en', 'fr'], neurons: [[0, 1]], trainSteps: 2 }),
      ).rejects.toThrow(/the object "القاهرة" cannot be taught .* id 33/);
      expect(edits.list()).toEqual([]);
      expect(model.info.contentHash).toBe(hash);
      // English chosen, Chinese first in the languages: the message names English's subject
      await expect(edits.teach({ fact: { relation: 'P36', lang: 'en', subject: '  ', object: 'Paris' }, langs: ['zh', 'en'] })).rejects.toThrow(
        "the new fact's en subject is empty",
      );
      await expect(edits.teach({ fact: { relation: 'P36', lang: 'fi', subject: 'Zorbania', object: '' }, langs: ['zh', 'en', 'fi'] })).rejects.toThrow(
        "the new fact's fi object is empty",
      );
    } finally {
      model.dispose();
    }
  });
});

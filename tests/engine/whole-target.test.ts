/**
 * What is trained or written into a model must be a real token of the object (issue 23, "typed facts in
 * other scripts"): a first token that is only whitespace (the demo tokenizer's bare space, id 33) or a byte
 * piece of a character is refused by KnTokenizer.wholeTargetId, the one rule teach (worker), an update's new
 * object (ModelEditor.update, the page and `kn experiment edit`) and injection (injectFact: the page's teach
 * and `kn experiment inject`) use; a taught fact's session skips such queries instead of counting them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { ModelEditor } from '../../src/engine/interventions/edit';
import { loadModelArg } from '../../src/engine/index';
import { injectFact } from '../../src/engine/interventions/inject';
import { FactSession } from '../../src/engine/session/session';
import { KnTokenizer } from '../../src/engine/families/tokenizer';
import { ready } from './setup';

const json = (m: string, f: string) => JSON.parse(readFileSync(new URL(`../../public/models/${m}/${f}`, import.meta.url), 'utf8'));
function demoTokenizer(m: 'demo-causal' | 'demo-masked') {
  return new KnTokenizer(json(m, 'tokenizer.json'), json(m, 'tokenizer_config.json'), m === 'demo-causal' ? 'causal' : 'masked', json(m, 'config.json'));
}
/** the id of a token string, read from tokenizer.json itself (not through the tokenizer under test) */
const vocabId = (m: string, token: string) => (json(m, 'tokenizer.json').model.vocab as Record<string, number>)[token];

describe('the first token of what is taught or written', () => {
  it('refuses a bare space or a byte piece, naming the object and the token; keeps whole tokens', () => {
    const t = demoTokenizer('demo-causal');
    const space = vocabId('demo-causal', 'Ġ');
    expect(space).toBe(33);
    // the plain rule (probing, the benchmark) is unchanged: the first token is the bare space
    expect(t.targetId('The capital of Zorbania is', '🍕ville')).toBe(space);
    expect(t.targetId('The capital of Egypt is', 'القاهرة')).toBe(space);
    expect(() => t.wholeTargetId('The capital of Zorbania is', ' 🍕ville')).toThrow(
      'the object "🍕ville" cannot be taught or written into this model: its first token here is only whitespace (" ", id 33), so every object that starts the same way would count as right; use an object whose first token is part of a word',
    );
    expect(() => t.wholeTargetId('The capital of Egypt is', 'القاهرة')).toThrow(/the object "القاهرة" .* only whitespace \(" ", id 33\)/);
    // after a CJK query there is no space: the first token is then the emoji's first UTF-8 byte
    const f0 = vocabId('demo-causal', 'ð');
    expect(() => t.wholeTargetId('首都是', '🍕ville')).toThrow(
      `its first token here is an incomplete piece of a character's UTF-8 bytes ("ð", id ${f0}), not a whole character`,
    );
    expect(t.wholeTargetId('The capital of France is', 'Paris')).toBe(vocabId('demo-causal', 'ĠParis'));
    expect(t.tokenProblem(vocabId('demo-causal', 'ĠParis'))).toBeNull();

    const m = demoTokenizer('demo-masked');
    expect(() => m.wholeTargetId('The capital of Zorbania is [MASK].', '🍕ville')).toThrow(`("ð", id ${vocabId('demo-masked', 'ð')}), not a whole character`);
    expect(m.wholeTargetId('The capital of France is [MASK].', 'Paris')).toBe(vocabId('demo-masked', 'Paris'));
  });

  it('injection and an update refuse such an object; a taught fact skips the queries whose first token is a bare space', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      const hash = model.info.contentHash;
      const ed = new ModelEditor(model);
      await expect(injectFact(ed, { neurons: [[0, 1]], queries: [{ prompt: 'The capital of Zorbania is', target: '🍕ville' }], steps: 2 })).rejects.toThrow(
        /the object "🍕ville" cannot be taught .* only whitespace \(" ", id 33\)/,
      );
      expect(() => ed.update([[0, 1]], { prompt: 'The capital of France is', oldObject: 'Paris', newObject: '🍕ville' })).toThrow(
        /the object "🍕ville" cannot be taught or written .* id 33/,
      );
      expect(ed.edits).toEqual([]);
      expect(model.info.contentHash).toBe(hash);

      // a fact typed in Japanese: 東京 is one whole token after a Japanese query, but after an English or
      // French one (" 東京", with a space) its first token is the bare space, which any such object shares
      const bench = await openLocal();
      const fact = { relation: 'P36' as const, labels: Object.fromEntries(['zh', 'en', 'fr', 'ja'].map((l) => [l, { subject: 'Zorbania', object: '東京' }])) };
      const plain = await FactSession.open(model, bench, fact, ['zh', 'en', 'fr', 'ja'], { topK: 1 });
      const spaced = plain.queries.filter((q) => q.targetToken.trim() === '');
      expect(spaced.length).toBeGreaterThan(0); // before the rule: counted, and "right" whenever the model says a space
      const taught = await FactSession.open(model, bench, fact, ['zh', 'en', 'fr', 'ja'], { topK: 1, wholeTargets: true });
      expect(taught.queries.filter((q) => q.targetToken.trim() === '')).toEqual([]);
      expect(taught.queries.length).toBe(plain.queries.length - spaced.length);
      expect(taught.queries.some((q) => q.lang === 'ja')).toBe(true);
      const reasons = taught.skipped.filter((s) => spaced.some((q) => q.lang === s.lang && q.templateId === s.templateId));
      expect(reasons.length).toBe(spaced.length);
      for (const r of reasons)
        expect(r.reason).toMatch(/^the object "東京" cannot be taught or written into this model: its first token here is only whitespace \(" ", id 33\)/);
    } finally {
      model.dispose();
    }
  });
});

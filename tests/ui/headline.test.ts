import { describe, expect, it } from 'vitest';
import { headlineSentences, parseHeadline } from '../../src/ui/headline';

const good = {
  format: 'kn-experiment-headline',
  version: 1,
  model: 'demo-causal',
  contentHash: 'abc',
  command: 'npm run -s kn -- experiment manipulate …',
  facts: 100,
  split: 'test',
  neurons: 2048,
  settings: {},
  selectedMedian: 3,
  suppress: { matrice: -0.25, random: -0.004, amig: -0.1, perLanguage: { zh: -0.12, en: -0.3 }, ownSets: { zh: -0.8, en: -0.9 } },
  enhance: { matrice: 0.1, random: 0 },
  knockout: { k: [1], top: [-0.1], random: [0] },
  featuredFact: { id: 'P36:4', languages: 7, suppress: -0.6, neurons: 3 },
};

describe('experiment headline of a bundled model', () => {
  it('accepts the written shape and says the numbers in words', () => {
    const h = parseHeadline(good)!;
    expect(h).not.toBeNull();
    const text = headlineSentences(h).join(' ');
    expect(text).toContain('a median of 3 of its 2048 FFN neurons (0.15 %)');
    expect(text).toContain('by −25 % on average');
    expect(text).toContain('random neurons: −0.4 %');
    expect(text).toContain('weakest language is zh (−12 %)');
    expect(text).toContain('remove −85 % on average');
  });
  it('refuses anything else without throwing', () => {
    for (const bad of [
      null,
      1,
      'x',
      {},
      { ...good, version: 2 },
      { ...good, facts: 'many' },
      { ...good, featuredFact: { id: '<img>', suppress: 0 } },
      { ...good, suppress: { ...good.suppress, perLanguage: { zh: 'x' } } },
    ]) {
      expect(parseHeadline(bad)).toBeNull();
    }
  });
});

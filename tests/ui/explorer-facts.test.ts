import { describe, expect, it } from 'vitest';
import { exportExploration, importExploration, type ImportedExploration } from '../../src/ui/share/exploration-file';
import { defaultState } from '../../src/ui/share/state';
import { factSummary, groupSummary, liveFactView, storedFactView } from '../../src/ui/explorer/facts';
import type { FactQueries } from '../../src/worker/api';

const live: FactQueries = {
  factId: 'P36:0',
  relation: 'P36',
  labels: { en: { subject: 'France', object: 'Paris' }, fr: { subject: 'France', object: 'Paris' } },
  langs: ['fr', 'en'],
  queries: [
    {
      lang: 'en',
      templateId: 't1',
      prompt: 'The capital of France is',
      target: 'Paris',
      targetToken: 'ĠParis',
      pCorrect: 0.9,
      rank: 0,
      correct: true,
      top: [{ id: 1, token: 'ĠParis', prob: 0.9 }],
    },
    {
      lang: 'fr',
      templateId: 't1',
      prompt: 'La capitale de la France est',
      target: 'Paris',
      targetToken: 'ĠParis',
      pCorrect: 0.1,
      rank: 2,
      correct: false,
      top: [{ id: 2, token: 'Ġla', prob: 0.5 }],
    },
  ],
  skipped: [],
};

function file(correct?: boolean[]): ImportedExploration {
  const state = { ...defaultState(), fact: 'P36:0' };
  const queries = Array.from({ length: 32 }, (_, i) => ({
    lang: ['zh', 'en', 'fr', 'fi'][i % 4],
    prompt: `query ${i}`,
    target: 'Paris',
    before: 0.999,
    ...(correct ? { correct: correct[i] } : {}),
  }));
  const text = exportExploration(
    state,
    {
      model: { label: 'bundled:demo', contentHash: 'h', architecture: 'GPT2LMHeadModel', numLayers: 2, ffnSize: 4 },
      fact: { id: 'P36:0', relation: 'P36', labels: { en: { subject: 'France', object: 'Paris' } } },
    },
    { queries, selections: {}, layerDistribution: [0, 0] },
  );
  return importExploration(text);
}

describe('the Data view of a fact', () => {
  it('live: every field, in the app language order, with counts', () => {
    const v = liveFactView(live);
    expect(v.source).toBe('live');
    expect(v.groups.map((g) => g.lang)).toEqual(['en', 'fr']);
    expect(v.totalCorrect).toBe(1);
    expect(v.hasTop).toBe(true);
    expect(v.groups[1].rows[0]).toMatchObject({ correct: false, rank: 2, answer: 'ĠParis', p: 0.1 });
    expect(factSummary(v)).toBe('1 of 2 queries answered correctly');
    expect(groupSummary(v.groups[0])).toBe('1/1 correct');
  });

  it('an imported file without correctness: no ✓/✗, no rank, no top predictions, no "0 of 32 answered correctly"', () => {
    const v = storedFactView(file())!;
    expect(v.source).toBe('stored');
    expect(v.total).toBe(32);
    expect(v.totalCorrect).toBeNull();
    expect(v.hasTop).toBe(false);
    for (const r of v.groups.flatMap((g) => g.rows)) {
      expect(r).toMatchObject({ correct: null, rank: null, top: null, p: 0.999, answer: 'Paris' });
    }
    expect(factSummary(v)).toContain('32 queries stored in the file');
    expect(factSummary(v)).not.toMatch(/0 of 32/);
    expect(groupSummary(v.groups[0])).toBe('8 queries');
    expect(v.groups.map((g) => g.lang)).toEqual(['zh', 'en', 'fr', 'fi']);
    expect(v.labels.en.subject).toBe('France');
  });

  it('an imported file that stores correctness shows it (and still no ranks or top predictions)', () => {
    const correct = Array.from({ length: 32 }, (_, i) => i % 2 === 0);
    const v = storedFactView(file(correct))!;
    expect(v.totalCorrect).toBe(16);
    expect(factSummary(v)).toBe('16 of 32 queries answered correctly (stored in the file)');
    expect(v.groups.flatMap((g) => g.rows).every((r) => r.rank === null && r.top === null)).toBe(true);
  });

  it('a file with no queries and no fact shows nothing; one with only a fact says it stores no queries', () => {
    const im = file();
    expect(storedFactView({ ...im, state: { ...im.state, fact: undefined }, meta: { model: im.meta.model }, results: undefined })).toBeNull();
    const v = storedFactView({ ...im, results: undefined })!;
    expect(v.total).toBe(0);
    expect(factSummary(v)).toBe('this file stores no queries');
    expect(v.groups.map((g) => g.lang)).toEqual(['en']);
  });

  it("the file round-trips a query's correctness and refuses a non-boolean one, naming the field", () => {
    const im = file(Array.from({ length: 32 }, () => true));
    expect(im.results!.queries[3].correct).toBe(true);
    const o = JSON.parse(exportExploration(im.state, im.meta, im.results));
    o.results.queries[3].correct = 'yes';
    expect(() => importExploration(JSON.stringify(o))).toThrow(/results\.queries\[3\]\.correct/);
  });
});

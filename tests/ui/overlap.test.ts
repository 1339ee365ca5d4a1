import { describe, expect, it } from 'vitest';
import { commonToAll, upsetRows } from '../../src/ui/explorer/overlap';

describe('per-language sets against the shared set (UpSet)', () => {
  const sets = {
    zh: [
      [0, 1],
      [0, 2],
      [1, 5],
    ] as [number, number][],
    en: [
      [0, 1],
      [0, 3],
    ] as [number, number][],
    shared: [
      [0, 1],
      [2, 9],
    ] as [number, number][],
  };
  it('groups every neuron by exactly the sets that hold it, largest groups first', () => {
    const u = upsetRows(sets);
    expect(u.total).toBe(5);
    expect(u.rows).toEqual([
      { members: ['zh'], count: 2 },
      { members: ['zh', 'en', 'shared'], count: 1 },
      { members: ['en'], count: 1 },
      { members: ['shared'], count: 1 },
    ]);
    expect(u.rows.reduce((a, r) => a + r.count, 0) + u.hidden).toBe(u.total);
    expect(upsetRows(sets, 2)).toMatchObject({ hidden: 2 });
  });
  it('commonToAll: the neurons in every language set, duplicates once', () => {
    expect(commonToAll({ zh: sets.zh, en: [...sets.en, [0, 1]] })).toEqual([[0, 1]]);
    expect(commonToAll({})).toEqual([]);
  });
});

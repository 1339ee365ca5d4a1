/**
 * Edits stack, and the page says what each cost (issue 23: after 3 teaches the featured fact fell from 53
 * to 38 of 54 queries right, with nothing on the page to say so): src/ui/explorer/edits.ts (factRight,
 * editCost, keepCosts, editsBanner, stackWarning) and the edits store, which counts the open fact's
 * queries right before and after every edit it applies (edit, teach, a link's replay).
 */
import { describe, expect, it } from 'vitest';
import { editCost, editLine, editsBanner, factRight, keepCosts, stackWarning, type EditCost } from '../../src/ui/explorer/edits';
import { EditsStore } from '../../src/ui/explorer/edits.svelte';

const FEATURED = 'P138:53';
/** a probe of the featured fact: `right` of 54 queries answered top-1 */
const probe = (right: number, factId = FEATURED) => ({ factId, queries: Array.from({ length: 54 }, (_, i) => ({ correct: i < right })) });
const edit = (id: string, label: string) => ({
  id,
  kind: 'inject' as 'inject' | 'erase',
  label,
  neurons: 10,
  notes: [],
  precision: 'f32' as const,
  spec: { kind: 'inject', fact: 'P36:4', neurons: [], lang: 'en', trainSteps: 40, lr: 0.01 } as never,
});

describe('what each edit cost', () => {
  it('counts the open fact before → after, and keeps the costs of the edits still applied', () => {
    expect(factRight(probe(53))).toEqual({ factId: FEATURED, right: 53, total: 54 });
    expect(factRight(null)).toBeNull();
    const c = editCost(factRight(probe(53)), factRight(probe(45)))!;
    expect(c).toEqual({ factId: FEATURED, before: 53, after: 45, total: 54 });
    // another fact after, or none open: not measured
    expect(editCost(factRight(probe(53)), factRight(probe(45, 'P36:4')))).toBeNull();
    expect(editCost(null, factRight(probe(45)))).toBeNull();
    const a = edit('inject-1', 'teach P36:4'),
      b = edit('inject-2', 'teach P36:7');
    const one = keepCosts({}, [], [a], c);
    expect(one).toEqual({ 'inject-1': c });
    const d: EditCost = { factId: FEATURED, before: 45, after: 40, total: 54 };
    const two = keepCosts(one, [a], [a, b], d);
    expect(two).toEqual({ 'inject-1': c, 'inject-2': d });
    expect(keepCosts(two, [a, b], [a], null)).toEqual({ 'inject-1': c }); // undo
    expect(editLine(a, two)).toBe('teach P36:4 — P138:53 53 → 45 of 54 queries right');
    expect(editLine(a, {})).toBe('teach P36:4');
  });

  it('the banner lists every applied edit with its cost; a new edit on top of others warns that they stack', () => {
    const a = edit('inject-1', 'teach P36:4'),
      b = edit('inject-2', 'teach P36:7');
    const costs = { 'inject-1': { factId: FEATURED, before: 53, after: 45, total: 54 }, 'inject-2': { factId: FEATURED, before: 45, after: 38, total: 54 } };
    expect(editsBanner([a, b], [], costs)).toBe(
      "The model is edited (2 edits, stacked in this order: teach P36:4 — P138:53 53 → 45 of 54 queries right; teach P36:7 — P138:53 45 → 38 of 54 queries right). Every prediction on this page is the edited model's.",
    );
    expect(stackWarning([])).toBeNull();
    expect(stackWarning([a])).toBe(
      '1 edit is applied already (teach P36:4): a new edit stacks on it. It is made and measured on the edited model, and the effects add up; undo first to start from the loaded model.',
    );
    expect(stackWarning([a, b])).toMatch(/^2 edits are applied already \(teach P36:4; teach P36:7\): a new edit stacks on them\./);
  });

  it('the store measures three teaches and an erase, and forgets the cost of an undone edit', async () => {
    let list: ReturnType<typeof edit>[] = [];
    const after = [45, 41, 38, 30]; // the featured fact after each edit
    let n = 0;
    const host = {
      client: {
        teach: async () => {
          const a = edit(`inject-${++n}`, `teach P36:${n}`);
          list = [...list, a];
          return { active: a, stopped: null };
        },
        editApply: async () => {
          const a = { ...edit(`erase-${++n}`, 'erase 3 neurons of P138:53 (from English)'), kind: 'erase' as const };
          list = [...list, a];
          return { active: a };
        },
        editList: async () => list,
        editUndo: async () => (list = list.slice(0, -1)),
      },
      info: {},
      factId: 'P36:4',
      staticView: null,
      restoring: false,
      notice: '',
      error: null,
      showError(e: unknown) {
        throw e;
      },
      updateHash() {},
      toggleNeurons: [[1, 2]],
      langs: ['en', 'fr'],
      steps: 4,
      facts: probe(53),
      async modelChanged() {
        host.facts = probe(after[list.length - 1] ?? 53);
      },
    };
    const s = new EditsStore(host as never);
    for (let i = 0; i < 3; i++) await s.teach();
    await s.apply();
    expect(s.active.map((a) => a.id)).toEqual(['inject-1', 'inject-2', 'inject-3', 'erase-4']);
    expect(s.active.map((a) => s.costs[a.id])).toEqual([
      { factId: FEATURED, before: 53, after: 45, total: 54 },
      { factId: FEATURED, before: 45, after: 41, total: 54 },
      { factId: FEATURED, before: 41, after: 38, total: 54 },
      { factId: FEATURED, before: 38, after: 30, total: 54 },
    ]);
    expect(editsBanner(s.active, s.pending, s.costs)).toContain(
      '4 edits, stacked in this order: teach P36:1 — P138:53 53 → 45 of 54 queries right; teach P36:2 — P138:53 45 → 41',
    );
    await s.undo();
    expect(Object.keys(s.costs)).toEqual(['inject-1', 'inject-2', 'inject-3']);
    s.reset();
    expect(s.costs).toEqual({});

    // a link's erase/update are replayed one at a time, each with its cost
    list = [];
    host.facts = probe(53);
    (host.client as Record<string, unknown>).editReplay = async () => {
      const a = { ...edit(`erase-${++n}`, `erase 1 neuron of P138:53`), kind: 'erase' as const };
      list = [...list, a];
      return a;
    };
    const spec = { kind: 'erase', fact: FEATURED, neurons: [[0, 1]] } as never;
    await s.restore([spec, spec]);
    expect(s.active.map((a) => s.costs[a.id])).toEqual([
      { factId: FEATURED, before: 53, after: 45, total: 54 },
      { factId: FEATURED, before: 45, after: 41, total: 54 },
    ]);
  });
});

/**
 * The Experiments form is kept across reloads (issue 23: after a reload it reset to the defaults, so "Run
 * again with the same settings" started another run): src/ui/experiments/logic.ts formText / storedForm and
 * the store, which reads it back on start and writes it when it changes and when a run starts.
 */
import { describe, expect, it } from 'vitest';
import { defaultForm, FORM_STORAGE_KEY, formText, formToRequest, storedForm, type ExperimentForm } from '../../src/ui/experiments/logic';
import { Experiments } from '../../src/ui/experiments/store.svelte';

function memoryStorage() {
  const m = new Map<string, string>();
  return { m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

const MINE: ExperimentForm = {
  ...defaultForm(),
  experiment: 'manipulate',
  facts: 4,
  langs: ['en', 'fr'],
  methods: ['matrice', 'random'],
  seed: 7,
  steps: 2,
  gridTau: '0.1,0.3',
};

describe('the experiment form across reloads', () => {
  it('reads back what was stored, field by field; anything unreadable takes the default', () => {
    expect(storedForm(formText(MINE))).toEqual(MINE);
    // the same settings give the same request, so Run resumes the same stored run
    expect(formToRequest(storedForm(formText(MINE)), 'bundled:demo-causal')).toEqual(formToRequest(MINE, 'bundled:demo-causal'));
    expect(storedForm(null)).toEqual(defaultForm());
    expect(storedForm('{not json')).toEqual(defaultForm());
    expect(storedForm('[1,2]')).toEqual(defaultForm());
    const d = defaultForm();
    expect(storedForm(JSON.stringify({ ...MINE, facts: -3, langs: ['en', 'xx'], experiment: 'nope' }))).toEqual({
      ...MINE,
      facts: d.facts,
      langs: d.langs,
      experiment: d.experiment,
    });
    // languages and methods come back in the app's order
    expect(storedForm(JSON.stringify({ ...MINE, langs: ['fr', 'en'], methods: ['random', 'matrice'] }))).toMatchObject({
      langs: ['en', 'fr'],
      methods: ['matrice', 'random'],
    });
  });

  it('a reloaded page starts with the form of the last run', async () => {
    const storage = memoryStorage();
    const requests: unknown[] = [];
    const ex = {
      model: { info: { contentHash: 'c1' }, spec: { type: 'bundled', name: 'demo-causal' } },
      client: {
        experimentRun: async (req: unknown) => (
          requests.push(req),
          { id: 'manipulate-1', status: 'cancelled', written: 1, skipped: 0, total: 4, message: 'cancelled', resumed: false, differsFrom: null }
        ),
        experimentList: async () => ({ runs: [], storage: 'idb' }),
        experimentReport: async () => ({ meta: { model: { id: 'x' } }, summary: {}, done: 1, total: 4 }),
      },
    };
    const first = new Experiments(ex as never, storage);
    expect(first.form).toEqual(defaultForm());
    first.form = { ...MINE };
    await first.run();
    expect(JSON.parse(storage.m.get(FORM_STORAGE_KEY)!)).toEqual(MINE);
    // the reload
    const second = new Experiments(ex as never, storage);
    expect(second.form).toEqual(MINE);
    await second.run();
    expect(requests[1]).toEqual(requests[0]);
    // a storage that refuses: the defaults, and no error
    const refusing = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    const third = new Experiments(ex as never, refusing);
    expect(third.form).toEqual(defaultForm());
    expect(() => third.saveForm()).not.toThrow();
  });
});

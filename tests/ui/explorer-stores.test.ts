import { describe, expect, it } from 'vitest';
import { KnError } from '../../src/shared/errors';
import { layerDistribution } from '../../src/engine/selection/scoring';
import { manualError, storedLocalize, storedScore, toggleNeurons, togglesFromState, togglesState } from '../../src/ui/explorer/analysis';
import { AnalysisStore } from '../../src/ui/explorer/analysis.svelte';
import { FactsStore } from '../../src/ui/explorer/facts.svelte';
import type { StoreHost } from '../../src/ui/explorer/host';
import { failedLoad, isLoaded, modelMeta } from '../../src/ui/explorer/model';
import { ModelStore } from '../../src/ui/explorer/model.svelte';
import { exportExploration, importExploration } from '../../src/ui/share/exploration-file';
import { defaultState } from '../../src/ui/share/state';

function imported(
  selected: [number, number][] = [
    [0, 1],
    [1, 2],
    [1, 3],
  ],
) {
  const S = [
    [0.1, 0.9, NaN, 0],
    [0.2, 0.3, 0.4, 0.5],
  ];
  const text = exportExploration(
    { ...defaultState(), fact: 'P36:0', method: 'matrice' },
    { model: { label: 'bundled:demo', contentHash: 'h', architecture: 'GPT2LMHeadModel', numLayers: 2, ffnSize: 4 } },
    {
      queries: [
        { lang: 'en', prompt: 'a', target: 'x', before: 0.5, completeness: -0.02 },
        { lang: 'fr', prompt: 'b', target: 'y', before: 0.25 },
      ],
      selections: { matrice: { neurons: selected, scores: selected.map(() => null), threshold: 0.1 } },
      S,
      layerDistribution: layerDistribution(selected, 2),
      manipulations: { matrice: [{ lang: 'en', before: 0.5, after: 0.1, deltaP: -0.8, correctBefore: true }] },
    },
  );
  return importExploration(text);
}

describe('analysis logic (analysis.ts)', () => {
  const base = {
    set: 'selected' as const,
    selected: [[1, 2]] as [number, number][],
    neuron: [0, 3] as [number, number],
    manualText: '0:1, 1:2',
    numLayers: 2,
    ffnSize: 4,
  };
  it('which neurons the Toggle view acts on', () => {
    expect(toggleNeurons(base)).toEqual([[1, 2]]);
    expect(toggleNeurons({ ...base, set: 'one' })).toEqual([[0, 3]]);
    expect(toggleNeurons({ ...base, set: 'one', neuron: null })).toEqual([]);
    expect(toggleNeurons({ ...base, set: 'manual' })).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(toggleNeurons({ ...base, set: 'manual', manualText: '5:1' })).toEqual([]);
    expect(manualError({ ...base, set: 'manual', manualText: '5:1' })).toMatch(/layer 5 does not exist/);
    expect(manualError({ ...base, set: 'selected', manualText: '5:1' })).toBe('');
  });
  it('toggles round-trip through a link', () => {
    expect(togglesState(base, 0)).toEqual({ set: 'selected', neurons: [], factor: 0 });
    const t = togglesState({ ...base, set: 'one' }, 2);
    expect(t).toEqual({ set: 'manual', neurons: [[0, 3]], factor: 2 });
    expect(togglesFromState(t)).toEqual({ set: 'manual', manualText: '0:3', factor: 2 });
  });
  it('a read-only exploration as localize and score results', () => {
    const im = imported();
    const loc = storedLocalize(im)!;
    expect(loc).toMatchObject({ complete: true, factId: 'P36:0', langs: ['en', 'fr'], numLayers: 2, ffnSize: 4, cachedCount: 2 });
    expect(loc.maxCompleteness.maxAbs).toBeCloseTo(0.02);
    expect(storedLocalize({ ...im, results: undefined })).toBeNull();
    const { score, missing } = storedScore(im, 'matrice');
    expect(missing).toBe(false);
    expect(score!.selected).toEqual([
      [0, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(score!.maxS).toBeCloseTo(0.9);
    expect(score!.S[0][2]).toBe(0); // NaN cells drawn as 0
    expect(score!.layerDistribution).toEqual(layerDistribution(score!.selected, 2));
    expect(storedScore(im, 'amig')).toEqual({ score: null, missing: true });
  });
});

describe('model logic (model.ts)', () => {
  it("a model's identity for a file, and whether a link's model is loaded", () => {
    const info = { source: 'x', contentHash: 'abc', architecture: 'GPT2LMHeadModel', numLayers: 4, ffnSize: 512 } as never;
    expect(modelMeta({ type: 'bundled', name: 'demo' }, info)).toEqual({
      label: 'bundled:demo',
      contentHash: 'abc',
      architecture: 'GPT2LMHeadModel',
      numLayers: 4,
      ffnSize: 512,
    });
    expect(modelMeta({ type: 'files', files: [] }, info, { numLayers: 2, ffnSize: 8 })).toMatchObject({ label: 'x', numLayers: 2, ffnSize: 8 });
    expect(modelMeta(null, null).label).toBe('local files');
    expect(isLoaded({ type: 'hub', repo: 'gpt2' }, info, { type: 'hub', repo: 'gpt2' })).toBe(true);
    expect(isLoaded({ type: 'hub', repo: 'gpt2' }, null, { type: 'hub', repo: 'gpt2' })).toBe(false);
    expect(isLoaded({ type: 'hub', repo: 'gpt2' }, info, { type: 'hub', repo: 'gpt2', revision: 'v2' })).toBe(false);
  });
});

// the stores themselves, on a fake worker client
function host(client: Record<string, unknown>, extra: Partial<StoreHost> = {}) {
  const h = {
    client: client as never,
    info: { numLayers: 2, ffnSize: 4 } as never,
    factId: 'P36:0',
    staticView: null,
    backend: null,
    restoring: false,
    notice: '',
    error: null as unknown,
    errors: [] as [unknown, string | undefined][],
    hashes: 0,
    showError(e: unknown, title?: string) {
      h.errors.push([e, title]);
    },
    updateHash() {
      h.hashes++;
    },
    ...extra,
  };
  return h;
}
const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('the explorer stores', () => {
  it('facts: the latest search wins, a stale answer is dropped', async () => {
    const answers = [deferred<unknown>(), deferred<unknown>()];
    let n = 0;
    const h = host({ listFacts: () => answers[n++].promise });
    const f = new FactsStore(h);
    const first = f.listFacts();
    f.search = 'Fra';
    const second = f.listFacts();
    answers[1].resolve({ relation: 'P36', facts: [], total: 2 });
    await second;
    answers[0].resolve({ relation: 'P36', facts: [], total: 99 });
    await first;
    expect(f.list!.total).toBe(2);
    expect(f.listBusy).toBe(false);
  });

  it('model: a failed load shows the error naming the source and keeps the model that was loaded', async () => {
    const demo = { source: 'bundled:demo-causal', contentHash: 'c1', numLayers: 4, ffnSize: 512 };
    const answers: (() => Promise<unknown>)[] = [
      async () => demo,
      async () => Promise.reject(new KnError('truncated', 'model-00002-of-00002.safetensors: truncated')),
    ];
    const h = host({ load: () => answers.shift()!(), memory: async () => ({ numBytes: 7, numTensors: 3 }) });
    const m = new ModelStore(h);
    // with nothing loaded, a failure leaves nothing loaded and says nothing is kept
    const none = new ModelStore(host({ load: async () => Promise.reject(new KnError('missing-file', 'config.json: not found in bundled:nope')) }));
    expect(await none.load({ type: 'bundled', name: 'nope' }, 'int8')).toBe(false);
    expect(none.info).toBeNull();
    expect(none.loading).toBe(false);

    expect(await m.load({ type: 'bundled', name: 'demo-causal' }, 'int8')).toBe(true);
    m.probeResult = { top: [] } as never;
    const truncated = { type: 'url', url: 'http://127.0.0.1:9/gpt2-truncated/' } as const;
    expect(await m.load(truncated, 'f32')).toBe(false);
    expect(m.info).toBe(demo);
    expect(m.spec).toEqual({ type: 'bundled', name: 'demo-causal' });
    expect(m.dtype).toBe('int8');
    expect(m.memory).toEqual({ numBytes: 7, numTensors: 3 });
    expect(m.probeResult).toEqual({ top: [] });
    expect(m.loading).toBe(false);
    expect(h.errors.map(([e, t]) => [(e as KnError).code, t])).toEqual([['truncated', 'Could not load http://127.0.0.1:9/gpt2-truncated/']]);
    expect(h.notice).toBe('bundled:demo-causal is still loaded: its facts, results and edits are as they were.');
  });

  it('model: what a failed load says (failedLoad)', () => {
    const demo = { type: 'bundled', name: 'demo-causal' } as const;
    const picked = { type: 'files', files: [{ webkitRelativePath: 'my-gpt2/config.json' }, { webkitRelativePath: 'my-gpt2/model.safetensors' }] } as never;
    expect(failedLoad(picked, new KnError('truncated', 'x'), demo)).toEqual({
      title: 'Could not load my-gpt2',
      kept: 'bundled:demo-causal is still loaded: its facts, results and edits are as they were.',
    });
    expect(failedLoad({ type: 'hub', repo: 'org/m', revision: 'v2' }, new KnError('cancelled', 'loading was cancelled'), demo)).toEqual({
      title: 'Could not load hf:org/m@v2',
      kept: 'bundled:demo-causal is still loaded.',
    });
    expect(failedLoad({ type: 'files', files: [] }, new Error('x'), null)).toEqual({ title: 'Could not load local files', kept: null });
  });

  it('analysis: a read-only exploration re-scores from the file, with no worker call', async () => {
    const im = imported();
    const h = host({}, { staticView: { title: 'x.json', imported: im } });
    const a = new AnalysisStore(h);
    a.loc = storedLocalize(im);
    await a.rescore();
    expect(a.score!.selected.length).toBe(3);
    expect(a.staticRows).toEqual(im.results!.manipulations!.matrice);
    a.method = 'amig';
    await a.rescore();
    expect(a.score).toBeNull();
    expect(h.notice).toBe('This exploration stores no amig selection.');
  });

  it('analysis: the toggles act on the selection, and a newer request wins', async () => {
    const answers = [deferred<unknown>(), deferred<unknown>()];
    let n = 0;
    const calls: unknown[][] = [];
    const h = host({
      manipulate: (neurons: unknown, factor: unknown) => {
        calls.push([neurons, factor]);
        return answers[n++].promise;
      },
    });
    const a = new AnalysisStore(h);
    a.loc = { numLayers: 2, ffnSize: 4 } as never;
    a.score = { selected: [[1, 2]] } as never;
    const first = a.applyToggles();
    a.factor = 2;
    const second = a.applyToggles();
    expect(calls).toEqual([
      [[[1, 2]], 0],
      [[[1, 2]], 2],
    ]);
    answers[1].resolve({ rows: ['new'] });
    await second;
    answers[0].resolve({ rows: ['old'] });
    await first;
    expect(a.manip).toEqual({ rows: ['new'] });
    expect(a.manipBusy).toBe(false);
    expect(h.hashes).toBe(1);
  });
});

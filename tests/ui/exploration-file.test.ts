import { describe, expect, it } from 'vitest';
import { KnError } from '../../src/shared/errors';
import { createRng } from '../../src/engine/selection/rng';
import { layerDistribution } from '../../src/engine/selection/scoring';
import {
  CREATED_WITH,
  FILE_LIMITS,
  exportExploration,
  importExploration,
  roundSignificant,
  type ExplorationMeta,
  type ExplorationResults,
} from '../../src/ui/share/exploration-file';
import { defaultState, type ExplorationState } from '../../src/ui/share/state';

const L = 4;
const N = 32;

function sample(): { state: ExplorationState; meta: ExplorationMeta; results: ExplorationResults } {
  const r = createRng('exploration-file');
  const S = Array.from({ length: L }, () => Array.from({ length: N }, () => (r.nextFloat() - 0.2) * 0.9));
  S[2][7] = 0.987654321;
  const neurons: [number, number][] = [
    [2, 7],
    [3, 1],
    [3, 30],
  ];
  const state: ExplorationState = {
    ...defaultState(),
    fact: 'P36/0',
    langs: ['en', 'fr', 'zh'],
    toggles: { set: 'selected', neurons, factor: 0 },
    compare: true,
  };
  const meta: ExplorationMeta = {
    model: { label: 'bundled:demo', contentHash: 'sha256:abc', architecture: 'GPT2LMHeadModel', numLayers: L, ffnSize: N },
    fact: {
      id: 'P36/0',
      relation: 'P36',
      labels: { en: { subject: 'China', object: 'Beijing' }, zh: { subject: '中国', object: '北京' }, fr: { subject: 'Chine', object: 'Pékin' } },
    },
  };
  const results: ExplorationResults = {
    queries: [
      { lang: 'en', prompt: 'The capital of China is', target: ' Beijing', before: 0.42, completeness: 0.0012 },
      { lang: 'fr', prompt: 'La capitale de la Chine est', target: ' Pékin', before: 0.031, completeness: NaN },
      { lang: 'zh', prompt: '中国的首都是', target: '北京', before: 0.5 },
    ],
    selections: {
      matrice: { neurons, scores: neurons.map(([l, j]) => S[l][j]), threshold: 0.2 * 0.987654321 },
      amig: { neurons: [[3, 1]], scores: [null], threshold: null },
      random: {
        neurons: [
          [0, 5],
          [1, 9],
          [3, 3],
        ],
        scores: [null, null, null],
        threshold: null,
      },
    },
    S,
    layerDistribution: layerDistribution(neurons, L),
    manipulations: {
      matrice: [
        { lang: 'en', before: 0.42, after: 0.01, deltaP: (0.01 - 0.42) / 0.42, correctBefore: true },
        { lang: 'fr', before: 0, after: 0.2, deltaP: NaN, correctBefore: false },
      ],
      random: [{ lang: 'en', before: 0.42, after: 0.41, deltaP: (0.41 - 0.42) / 0.42, correctBefore: true }],
    },
  };
  return { state, meta, results };
}

function expectBad(fn: () => unknown, ...parts: (string | RegExp)[]) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a KnError').toBeInstanceOf(KnError);
  expect((err as KnError).code).toBe('bad-input');
  expect((err as KnError).message.startsWith('exploration file: ')).toBe(true);
  for (const p of parts) expect((err as KnError).message).toMatch(p);
}

function mutate(text: string, fn: (o: any) => void): string {
  const o = JSON.parse(text);
  fn(o);
  return JSON.stringify(o);
}

describe('exploration file v2', () => {
  it('round-trips state, meta and results (S rounded to 4 significant digits, NaN kept)', () => {
    const { state, meta, results } = sample();
    const text = exportExploration(state, meta, results);
    const back = importExploration(text);
    expect(back.fromVersion).toBe(2);
    expect(back.state).toStrictEqual(state);
    expect(back.meta).toStrictEqual({ ...meta, createdWith: CREATED_WITH });
    const r = back.results!;
    expect(r.queries).toStrictEqual(results.queries);
    expect(r.selections).toStrictEqual(results.selections);
    expect(r.layerDistribution).toStrictEqual(results.layerDistribution);
    expect(r.manipulations).toStrictEqual(results.manipulations);
    expect(Number.isNaN(r.manipulations!.matrice![1].deltaP)).toBe(true);
    expect(r.S!.length).toBe(L);
    for (let l = 0; l < L; l++) {
      for (let j = 0; j < N; j++) {
        expect(r.S![l][j]).toBe(roundSignificant(results.S![l][j], 4));
        expect(Math.abs(r.S![l][j] - results.S![l][j])).toBeLessThanOrEqual(Math.abs(results.S![l][j]) * 5e-4);
      }
    }
    expect(r.S![2][7]).toBe(0.9877);
    // idempotent: exporting what was imported writes the same file
    expect(exportExploration(back.state, back.meta, back.results)).toBe(text);
  });

  it('exports without results and with full precision on request', () => {
    const { state, meta, results } = sample();
    expect(importExploration(exportExploration(state, meta)).results).toBeUndefined();
    const full = importExploration(exportExploration(state, meta, results, { sDigits: 17 }));
    expect(full.results!.S).toStrictEqual(results.S);
  });

  it('sparsifies S to the top k (the rest reads back as the minimum)', () => {
    const { state, meta, results } = sample();
    const dense = exportExploration(state, meta, results);
    const sparse = exportExploration(state, meta, results, { sTopK: 10 });
    const sLen = (t: string) => JSON.stringify(JSON.parse(t).results.S).length;
    expect(sLen(sparse)).toBeLessThan(sLen(dense) / 3);
    const S = importExploration(sparse).results!.S!;
    const flat = results.S!.flat();
    const min = roundSignificant(Math.min(...flat), 4);
    const top = [...flat]
      .sort((a, b) => b - a)
      .slice(0, 10)
      .map((x) => roundSignificant(x, 4));
    const back = S.flat();
    expect([...back].sort((a, b) => b - a).slice(0, 10)).toStrictEqual(top);
    expect(back.filter((x) => x === min).length).toBe(L * N - 10 + (top.includes(min) ? 1 : 0));
  });

  it('is small for a 12 × 3072 model (dense 4 digits)', () => {
    const r = createRng(3);
    const S = Array.from({ length: 12 }, () => Array.from({ length: 3072 }, () => r.nextFloat() - 0.3));
    const text = exportExploration(
      defaultState(),
      { model: { label: 'x', contentHash: 'h', architecture: 'GPT2LMHeadModel', numLayers: 12, ffnSize: 3072 } },
      { queries: [], selections: {}, S, layerDistribution: new Array(12).fill(0) },
    );
    expect(text.length).toBeLessThan(12 * 3072 * 8);
  });

  it('refuses to export invalid data', () => {
    const { state, meta, results } = sample();
    expectBad(() => exportExploration({ ...state, steps: 0 }, meta, results), /state\.steps/);
    results.selections.matrice!.neurons.push([L, 0]);
    results.selections.matrice!.scores.push(1);
    expectBad(() => exportExploration(state, meta, results), /results\.selections\.matrice\.neurons\[3\] layer 4 is out of range/);
  });
});

describe('exploration file v1', () => {
  const v1 = {
    format: 'kn-exploration',
    version: 1,
    state: {
      model: { type: 'hub', repo: 'ai-forever/mGPT' },
      fact: 'P19/3',
      langs: ['en', 'fi'],
      method: 'amig',
      settings: { alpha1: 1, alpha2: 0.5, beta1: 1, beta2: 1, tau: 0.3 },
      steps: 10,
    },
    numLayers: 24,
    ffnSize: 8192,
    selected: [
      [20, 5],
      [21, 8191],
      [21, 100],
    ],
  };

  it('migrates to the current shape', () => {
    const m = importExploration(JSON.stringify(v1));
    expect(m.fromVersion).toBe(1);
    expect(m.state).toStrictEqual({
      v: 1,
      model: { type: 'hub', repo: 'ai-forever/mGPT' },
      fact: 'P19/3',
      langs: ['en', 'fi'],
      method: 'amig',
      settings: { alpha1: 1, alpha2: 0.5, beta1: 1, beta2: 1, tau: 0.3, norm: 'language', attrNorm: 'layer' },
      steps: 10,
      baseline: 'pad',
    });
    expect(m.meta.model).toStrictEqual({ label: 'hf:ai-forever/mGPT', contentHash: '', architecture: '', numLayers: 24, ffnSize: 8192 });
    expect(m.results!.selections).toStrictEqual({ amig: { neurons: v1.selected, scores: [null, null, null], threshold: null } });
    expect(m.results!.layerDistribution[20]).toBeCloseTo(1 / 3);
    expect(m.results!.layerDistribution[21]).toBeCloseTo(2 / 3);
    expect(m.results!.layerDistribution).toStrictEqual(layerDistribution(v1.selected as [number, number][], 24));
    // and it can be written back as v2
    const again = importExploration(exportExploration(m.state, m.meta, m.results));
    expect(again.fromVersion).toBe(2);
    expect(again.state).toStrictEqual(m.state);
  });

  it('keeps explicit v1 norm settings and a model label', () => {
    const o = JSON.parse(JSON.stringify(v1));
    o.state.settings.norm = 'neuron';
    o.modelLabel = 'mGPT 1.3B';
    const m = importExploration(JSON.stringify(o));
    expect(m.state.settings.norm).toBe('neuron');
    expect(m.meta.model.label).toBe('mGPT 1.3B');
  });

  it('rejects invalid v1 files', () => {
    const bad = (fn: (o: any) => void) => mutate(JSON.stringify(v1), fn);
    expectBad(() => importExploration(bad((o) => (o.selected = [[24, 0]]))), /selected\[0\] layer 24 is out of range/);
    expectBad(() => importExploration(bad((o) => (o.state.settings.tau = 2))), /state\.settings\.tau must be in \[0, 1\]/);
    expectBad(() => importExploration(bad((o) => delete o.numLayers)), /numLayers is missing/);
    expectBad(() => importExploration(bad((o) => (o.baseline = 'pad'))), /file has an unknown field "baseline"/);
  });
});

describe('exploration file: invalid files', () => {
  const good = () => {
    const { state, meta, results } = sample();
    return exportExploration(state, meta, results);
  };
  it('not JSON / not an object', () => {
    expectBad(() => importExploration('{"format": "kn-exploration",'), /not valid JSON/);
    expectBad(() => importExploration('<html></html>'), /not valid JSON/);
    expectBad(() => importExploration('[]'), /must be a JSON object/);
    expectBad(() => importExploration('null'), /must be a JSON object/);
  });
  it('wrong format tag', () => {
    expectBad(() => importExploration(mutate(good(), (o) => (o.format = 'kn-bundle'))), /format must be "kn-exploration", got "kn-bundle"/);
    expectBad(() => importExploration('{"version":2}'), /format must be "kn-exploration", got nothing/);
  });
  it('unknown future or invalid version', () => {
    expectBad(() => importExploration(mutate(good(), (o) => (o.version = 3))), /version 3 is newer than this explorer reads \(up to 2\)/);
    expectBad(() => importExploration(mutate(good(), (o) => (o.version = '2'))), /version must be a positive integer/);
    expectBad(() => importExploration(mutate(good(), (o) => (o.version = 0))), /version must be a positive integer/);
  });
  it('missing or invalid fields name the field', () => {
    const cases: [(o: any) => void, RegExp][] = [
      [(o) => delete o.state, /state is missing/],
      [(o) => delete o.model, /model is missing/],
      [(o) => (o.model.numLayers = 0), /model\.numLayers must be an integer in \[1, 1024\]/],
      [(o) => (o.model.ffnSize = 2.5), /model\.ffnSize must be an integer/],
      [(o) => (o.state.method = 'best'), /state\.method must be one of/],
      [(o) => (o.results.queries[1].before = 1.5), /results\.queries\[1\]\.before must be in \[0, 1\]/],
      [(o) => (o.results.queries[0].lang = 'English'), /results\.queries\[0\]\.lang must be a language code/],
      [(o) => (o.results.queries[0].prompt = 'x'.repeat(5000)), /results\.queries\[0\]\.prompt is 5000 characters long/],
      [(o) => (o.results.selections.best = o.results.selections.amig), /results\.selections has an unknown field "best"/],
      [(o) => o.results.selections.matrice.scores.pop(), /results\.selections\.matrice\.scores has 2 entries for 3 neurons/],
      [(o) => (o.results.selections.amig.neurons[0] = [1, 32]), /results\.selections\.amig\.neurons\[0\] neuron index 32 is out of range/],
      [(o) => (o.results.selections.amig.neurons[0] = [-1, 3]), /neurons\[0\] layer must be a non-negative integer/],
      [(o) => o.results.S.values.pop(), /results\.S\.values has 3 layers, the model has 4/],
      [(o) => o.results.S.values[2].push(1), /results\.S\.values\[2\] has 33 neurons/],
      [(o) => (o.results.S.values[1][4] = 'x'), /results\.S\.values\[1\]\[4\] must be a finite number or null/],
      [(o) => (o.results.S.encoding = 'png'), /results\.S\.encoding must be one of "dense", "sparse"/],
      [(o) => (o.results.layerDistribution = [0.5, 0.5, 0.5, 0]), /results\.layerDistribution must sum to 1/],
      [(o) => (o.results.layerDistribution = [1]), /results\.layerDistribution has 1 entries for 4 layers/],
      [(o) => (o.results.manipulations.matrice[0].after = -1), /results\.manipulations\.matrice\[0\]\.after must be in \[0, 1\]/],
      [(o) => delete o.results.manipulations.matrice[0].deltaP, /results\.manipulations\.matrice\[0\]\.deltaP is missing/],
      [(o) => (o.results.manipulations.matrice[0].correctBefore = 1), /correctBefore must be true or false/],
      [(o) => (o.fact.labels.__proto__ = { subject: 'x', object: 'y' }), /fact\.labels key must be a language code/],
      [(o) => (o.fact.labels.en.object = 'a\u0007b'), /fact\.labels\.en\.object contains control characters/],
      [(o) => (o.createdWith = 7), /createdWith must be a string/],
      [(o) => (o.extra = true), /file has an unknown field "extra"/],
    ];
    for (const [fn, msg] of cases) {
      // JSON.stringify drops a "__proto__" set by assignment (it becomes the prototype); write it literally
      let text = mutate(good(), fn);
      if (String(fn).includes('__proto__')) text = text.replace('"labels":{', '"labels":{"__proto__":{"subject":"x","object":"y"},');
      expectBad(() => importExploration(text), msg);
    }
  });
  it('oversized', () => {
    const huge = ' '.repeat(FILE_LIMITS.maxChars + 1);
    expectBad(() => importExploration(huge), /too large \(\d+ characters, at most \d+ allowed\)/);
  });
  it("a v1 file's layer distribution is the engine's layerDistribution", () => {
    const v1 = {
      format: 'kn-exploration',
      version: 1,
      state: { model: { type: 'bundled', name: 'demo' }, method: 'matrice', settings: { alpha1: 1, alpha2: 1, beta1: 1, beta2: 1, tau: 0.2 }, steps: 20 },
      numLayers: 3,
      ffnSize: 8,
      selected: [
        [0, 1],
        [0, 1],
        [2, 3],
        [2, 4],
      ],
    };
    const im = importExploration(JSON.stringify(v1));
    expect(im.results!.layerDistribution).toStrictEqual(
      layerDistribution(
        [
          [0, 1],
          [2, 3],
          [2, 4],
        ],
        3,
      ),
    );
  });
});

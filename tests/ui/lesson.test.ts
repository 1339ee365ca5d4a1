/**
 * The lesson's logic (src/ui/lesson): the address (?lesson, ?lesson=N, a bad chapter), the keys, the file's checks
 * (format, the model's content hash), and the numbers the chapters state, worked out by hand on a small made-up fact.
 */
import { describe, expect, it } from 'vitest';
import { median, neuronIg, topNeuron } from '../../src/ui/lesson/compute';
import { checkLessonManifest, checkLessonModel, parseLesson, type LessonFact, type LessonFile } from '../../src/ui/lesson/data';
import {
  chapters,
  comparisonRows,
  defaultFact,
  isLesson,
  neurons,
  keyToChapter,
  lessonSearch,
  meanDeltaP,
  parseLessonParams,
  todoText,
  type Num,
} from '../../src/ui/lesson/lesson';

const eff = (before: number, after: number, deltaP: number | null, known = 1) => ({ before, after, deltaP, n: 2, known, flipRate: 0 });

const FACT: LessonFact = {
  id: 'P36:0',
  relation: 'P36',
  labels: { en: { subject: 'Azerbaijan', object: 'Baku' }, fr: { subject: 'Azerbaïdjan', object: 'Bakou' } },
  known: ['en', 'fr'],
  probes: [
    { lang: 'en', templateId: 't1', prompt: 'The capital of Azerbaijan is', target: 'Baku', pCorrect: 0.8, correct: true, top: { token: ' Baku', prob: 0.8 } },
    { lang: 'en', templateId: 't2', prompt: 'Azerbaijan has its capital in', target: 'Baku', pCorrect: 0.4, correct: true, top: { token: ' Baku', prob: 0.4 } },
    { lang: 'fr', templateId: 't1', prompt: 'La capitale de Azerbaïdjan est', target: 'Bakou', pCorrect: 0.5, correct: true, top: { token: ' B', prob: 0.5 } },
  ],
  localize: { queries: 3, maxCompletenessRel: 0.5, medianCompletenessRel: 0.012, ms: 1000 },
  selected: [
    [0, 1],
    [1, 2],
    [1, 3],
  ],
  threshold: 0.01,
  maxS: 0.1,
  layerDistribution: [1 / 3, 2 / 3],
  coverageMean: 1.5,
  neuron: { id: [1, 2], perLanguage: [{ lang: 'en', value: 0.3 }], mean: 0.25, std: 0.05, S: 0.1, threshold: 0.01, selected: true },
  ig: [{ lang: 'en', prompt: 'The capital of Azerbaijan is', pFull: 0.8, completenessRel: 0.01, neuron: 0.0123, layerSum: 0.5, rank: 1, ofLayer: 4 }],
  suppress: { en: eff(0.6, 0.3, -0.5), fr: eff(0.5, 0.4, -0.2) },
  enhance: { en: eff(0.6, 0.66, 0.1), fr: eff(0.5, 0.6, 0.2) },
  random: { neurons: [[0, 0]], suppress: { en: eff(0.6, 0.6, 0), fr: eff(0.5, 0.45, -0.1) } },
  ownSets: [
    { lang: 'en', own: 4, overlap: 1, ownDeltaP: -0.9, sharedDeltaP: -0.5 },
    { lang: 'fr', own: 6, overlap: 2, ownDeltaP: -0.7, sharedDeltaP: -0.2 },
  ],
  edit: {
    lang: 'en',
    newObject: 'Paris',
    queries: [
      { lang: 'en', prompt: 'The capital of Azerbaijan is', before: ' Baku', after: ' Paris', pOldBefore: 0.8, pOldAfter: 0.01, newTop: true, oldTop: false },
      { lang: 'fr', prompt: 'La capitale de Azerbaïdjan est', before: ' B', after: ' B', pOldBefore: 0.5, pOldAfter: 0.4, newTop: false, oldTop: true },
    ],
    unrelatedSame: 5,
    unrelated: 6,
  },
};

const FILE: LessonFile = {
  format: 'kn-lesson',
  version: 1,
  model: 'demo-causal',
  contentHash: 'abc123def4567890',
  manifestHash: 'cf1c3c73e96b951f',
  command: 'npm run -s lesson:build -- demo-causal',
  builtAt: '2026-12-07T00:00:00Z',
  settings: { alpha1: 1, alpha2: 1, beta1: 1, beta2: 1, tau: 0.1, norm: 'scale', attrNorm: 'none' },
  steps: 20,
  baseline: 'pad',
  quadrature: 'gauss-legendre',
  numLayers: 2,
  ffnSize: 4,
  langs: ['en', 'fr'],
  facts: [FACT],
};

/** every number a chapter states, by key */
function nums(n: number): Record<string, number> {
  const ch = chapters({ file: FILE, fact: FACT, headline: [] })[n - 1];
  const out: Record<string, number> = {};
  for (const p of ch.text.flat()) if (typeof p !== 'string') out[(p as Num).num] = (p as Num).value;
  return out;
}

describe('the lesson address', () => {
  it('reads ?lesson, ?lesson=N and refuses a chapter it does not have', () => {
    expect(isLesson('?lesson')).toBe(true);
    expect(isLesson('?autoload=0')).toBe(false);
    expect(parseLessonParams('?lesson')).toMatchObject({ chapter: 1, chapterError: '', fact: null, model: 'demo-causal', presenter: false });
    expect(parseLessonParams('?lesson=4&fact=P36:8&model=demo-masked&presenter=1')).toMatchObject({
      chapter: 4,
      fact: 'P36:8',
      model: 'demo-masked',
      presenter: true,
    });
    for (const bad of ['99', '0', '-1', 'abc', '2.5', '9']) {
      const p = parseLessonParams(`?lesson=${bad}`);
      expect(p.chapter).toBe(1);
      expect(p.chapterError).toContain(`There is no chapter ${bad}`);
      expect(p.chapterError).toContain('chapters 1 to 8');
    }
    // a malformed fact or model name is not carried
    expect(parseLessonParams('?lesson&fact=P36/0&model=../x')).toMatchObject({ fact: null, model: 'demo-causal' });
    expect(lessonSearch({ fact: 'P36:8', model: 'demo-causal', presenter: true }, 3)).toBe('?lesson=3&fact=P36%3A8&presenter=1');
    // the edit language: any of the 7, English when absent or unknown; the address keeps a non-English one
    expect(parseLessonParams('?lesson=7&edit=ja').editLang).toBe('ja');
    expect(parseLessonParams('?lesson=7').editLang).toBe('en');
    expect(parseLessonParams('?lesson=7&edit=xx').editLang).toBe('en');
    expect(lessonSearch({ fact: null, model: 'demo-causal', presenter: false, editLang: 'fi' }, 7)).toBe('?lesson=7&edit=fi');
    expect(lessonSearch({ fact: null, model: 'demo-causal', presenter: false, editLang: 'en' }, 7)).toBe('?lesson=7');
  });
  it('says "when the model has loaded" only until it has', () => {
    expect(todoText('When the model has loaded, press “Switch off”.', false)).toBe('When the model has loaded, press “Switch off”.');
    expect(todoText('When the model has loaded, press “Switch off”.', true)).toBe('Press “Switch off”.');
    expect(todoText('Read each sentence.', true)).toBe('Read each sentence.');
  });
  it('moves with the arrow keys, not while typing', () => {
    expect(keyToChapter('ArrowRight', 3, false)).toBe(4);
    expect(keyToChapter('ArrowLeft', 3, false)).toBe(2);
    expect(keyToChapter('ArrowLeft', 1, false)).toBe(1);
    expect(keyToChapter('ArrowRight', 8, false)).toBe(8);
    expect(keyToChapter('End', 2, false)).toBe(8);
    expect(keyToChapter('ArrowRight', 3, true)).toBeNull();
    expect(keyToChapter('a', 3, false)).toBeNull();
  });
});

describe('the precomputed file', () => {
  it('refuses another format and another model', () => {
    expect(parseLesson(JSON.parse(JSON.stringify(FILE))).facts[0].id).toBe('P36:0');
    expect(() => parseLesson({ ...FILE, format: 'kn-experiment-headline' })).toThrow(/not a kn-lesson file/);
    expect(() => parseLesson({ ...FILE, langs: ['xx'] })).toThrow(/unknown language "xx"/);
    expect(() => parseLesson({ ...FILE, facts: [{ ...FACT, suppress: undefined }] })).toThrow(/P36:0 has no suppress/);
    expect(() => parseLesson({ ...FILE, manifestHash: undefined })).toThrow(/manifestHash/);
    expect(() => checkLessonManifest(FILE, 'cf1c3c73e96b951f')).not.toThrow();
    expect(() => checkLessonManifest(FILE, '0000000000000000')).toThrow(/kn-manifest.json cf1c3c73e96b951f, the bundle's is 0000000000000000/);
    expect(() => checkLessonModel(FILE, 'abc123def4567890')).not.toThrow();
    expect(() => checkLessonModel(FILE, 'ffff00001111aaaa')).toThrow(/built for other weights.*npm run -s lesson:build -- demo-causal/);
  });
});

describe('the numbers the chapters state (worked by hand)', () => {
  it('means over languages, the median, one neuron, the top of S', () => {
    expect(meanDeltaP(FACT.suppress)).toBeCloseTo((-0.5 - 0.2) / 2, 12);
    expect(meanDeltaP({ en: eff(0, 0, null, 0), fr: eff(0.5, 0.4, -0.2) })).toBeCloseTo(-0.2, 12);
    expect(meanDeltaP({ en: eff(0, 0, null, 0) })).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(neurons(1, 'random ')).toBe('1 random neuron');
    // the default fact: the first whose mean switch-off ΔP is at most −10 % (FACT: −35 %)
    const flat = { ...FACT, id: 'P36:1', suppress: { en: eff(0.6, 0.6, 0), fr: eff(0.5, 0.48, -0.04) } };
    expect(defaultFact([flat, FACT])?.id).toBe('P36:0');
    expect(defaultFact([flat])?.id).toBe('P36:1');
    expect(defaultFact([])).toBeNull();
    expect(neurons(4)).toBe('4 neurons');
    expect(median([4, 1, 2, 3])).toBe(2.5);
    // 2 layers × 3 neurons, neuron [1, 1]: raw row of layer 1 = [0.2, 0.5, 0.7] → its value 0.5, sum 1.4, rank 2
    const g = neuronIg([9, 9, 9, 0.2, 0.5, 0.7], 3, [1, 1]);
    expect(g.neuron).toBe(0.5);
    expect(g.layerSum).toBeCloseTo(1.4, 12);
    expect(g.rank).toBe(2);
    expect(
      topNeuron({
        S: [
          [0.1, 0.3],
          [0.25, 0.2],
        ],
        bin: 1,
      }),
    ).toEqual([0, 1]);
    expect(() => topNeuron({ S: [[1]], bin: 4 })).toThrow(/binned/);
  });
  it('chapter by chapter', () => {
    expect(chapters({ file: FILE, fact: FACT, headline: [] }).map((c) => c.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(nums(1)).toEqual({ langs: 2, known: 2 });
    expect(nums(2)).toEqual({ layers: 2, ffn: 4, 'ig-p': 0.8, 'ig-neuron': 0.0123, 'ig-rank': 1, completeness: 0.012 });
    expect(nums(3)).toEqual({ mean: 0.25, std: 0.05, S: 0.1, threshold: 0.01 });
    expect(nums(4)).toEqual({ selected: 3, 'selected-share': 3 / 8 });
    const c5 = nums(5);
    expect(c5['suppress-mean']).toBeCloseTo(-0.35, 12);
    expect(c5['enhance-mean']).toBeCloseTo(0.15, 12);
    const c6 = nums(6);
    expect(c6['random-mean']).toBeCloseTo(-0.05, 12);
    expect(c6['own-size']).toBe(5);
    expect(c6['own-overlap']).toBe(1.5);
    expect(c6['own-mean']).toBeCloseTo(-0.8, 12);
    expect(nums(7)).toEqual({ 'edit-new': 1, 'edit-gone': 1, 'edit-locality': 5 });
    // the texts a class reads
    const ch = chapters({ file: FILE, fact: FACT, headline: ['On 10 facts …'] });
    const text = (n: number) =>
      ch[n - 1].text
        .flat()
        .map((p) => (typeof p === 'string' ? p : p.text))
        .join('');
    expect(text(1)).toContain('knows it in 2 of 2 languages');
    expect(text(4)).toContain('keeps 3 of 8 neurons (37.50 %)');
    expect(text(5)).toContain('−35.0 %');
    expect(text(7)).toContain('answers “Paris” instead of “Baku”');
    expect(text(8)).toContain('On 10 facts');
    // the last chapter's table: this fact beside the model's experiment
    const h = { facts: 100, neurons: 2048, selectedMedian: 4, suppress: { matrice: -0.2, random: -0.003, ownSets: { en: -0.9, fr: -1, ko: null } } };
    expect(comparisonRows(FACT, h)).toEqual([
      { what: 'neurons selected', fact: '3', model: 'median 4 of 2048' },
      { what: 'ΔP, MaTrice’s neurons off', fact: '−35.0 %', model: '−20.0 %' },
      { what: 'ΔP, as many random neurons off', fact: '−5.0 %', model: '−0.3 %' },
      { what: 'ΔP, each language’s own set off', fact: '−80.0 %', model: '−95.0 %' },
    ]);
    expect(comparisonRows(FACT, null)[1]).toEqual({ what: 'ΔP, MaTrice’s neurons off', fact: '−35.0 %', model: 'n/a' });
  });
});

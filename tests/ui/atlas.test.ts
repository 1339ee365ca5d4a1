/**
 * The Atlas view's logic (src/ui/atlas/atlas.ts) on the hand-written atlas in tests/fixtures/atlas-view (its README
 * says what is in it); every expected number below is worked by hand from those files.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  activationBars,
  atlasDir,
  atlasName,
  atlasRow,
  entropy,
  entryOf,
  factNeedsPages,
  fetchAtlasIndex,
  fetchNeuronPage,
  filterByFact,
  lapeBars,
  methodText,
  modelMismatch,
  neuronParam,
  noMatchText,
  objectRanks,
  parseAtlasIndex,
  searchChoices,
  searchIndex,
  typeCounts,
  useCoverage,
  withNeuronParam,
  type NeuronRef,
} from '../../src/ui/atlas/atlas';

const DIR = join(process.cwd(), 'tests', 'fixtures', 'atlas-view');
/** fetch over the fixture folder: what a static host would serve (404 for a file that is not there) */
const fileFetch = async (url: string) => {
  try {
    const text = await readFile(join(DIR, url.replace(/^\/fx\//, '')), 'utf8');
    return { ok: true, status: 200, json: async () => JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 404, json: async () => ({}) };
  }
};
const open = () => fetchAtlasIndex('/fx/', 'fixture-model', fileFetch);
const keys = (es: { neuron: NeuronRef }[]) => es.map((e) => `${e.neuron[0]}.${e.neuron[1]}`);

describe('reading an atlas', () => {
  it('keeps the well-formed entries and names the two malformed ones', async () => {
    const { index, skipped } = await open();
    expect(keys(index.neurons)).toEqual(['0.3', '1.5', '1.2', '0.7']);
    expect(skipped).toEqual([
      '/fx/atlas.json: neuron entry 5: neuron L5·0 is beyond the model (2 layers × 8 neurons); skipped',
      '/fx/atlas.json: neuron entry 6: type "mystery" is none of fact, relation, language, hub, other; skipped',
      '/fx/atlas.json: the LAPE set of "fr" names 1 neuron(s) beyond the model; left out',
    ]);
    // the LAPE set for French names 9.9, outside the model: dropped
    expect(index.lape.sets.fr).toEqual([[0, 1]]);
    expect(index.lape.sets.fi).toEqual([[1, 2]]);
  });

  it('refuses what is not an atlas, and says how to make a missing one', async () => {
    expect(() => parseAtlasIndex({ format: 'kn-experiment-headline' })).toThrow('atlas.json is not a neuron atlas index (format is not "kn-atlas")');
    expect(() => parseAtlasIndex({ format: 'kn-atlas', version: 2 })).toThrow('atlas.json is atlas version 2; this build reads version 1');
    await expect(fetchAtlasIndex('/fx/nothing/', 'demo-x', fileFetch)).rejects.toMatchObject({
      code: 'missing-file',
      message: expect.stringMatching(
        /^demo-x has no atlas: \/fx\/nothing\/atlas\.json is missing\. Build one with `npm run -s kn -- atlas build --model bundled:demo-x/,
      ),
    });
  });

  it("a host's HTML fallback page for a missing file is a missing file", async () => {
    const html = async () => ({
      ok: true,
      status: 200,
      headers: new Headers({ 'content-type': 'text/html' }),
      json: async () => JSON.parse('<!doctype html>'),
    });
    await expect(fetchAtlasIndex('/x/', 'demo-y', html)).rejects.toMatchObject({
      code: 'missing-file',
      message: expect.stringMatching(/^demo-y has no atlas: \/x\/atlas\.json is missing\. /),
    });
  });

  it('a neuron beyond the model, one without a page, a page of another model', async () => {
    const { index } = await open();
    expect(() => entryOf(index, [2, 0])).toThrow('neuron L2·0 does not exist in fixture-model (2 layers × 8 neurons)');
    expect(() => entryOf(index, [1, 8])).toThrow('neuron L1·8 does not exist in fixture-model (2 layers × 8 neurons)');
    expect(() => entryOf(index, [1, 1])).toThrow('neuron L1·1 has no page in this atlas: no fact selected it and it is no LAPE neuron');
    await expect(fetchNeuronPage('/fx/', index, [0, 7], fileFetch)).rejects.toThrow(
      'the atlas lists L0·7 but its page /fx/neurons/L0-7.json is missing (HTTP 404)',
    );
    await expect(fetchNeuronPage('/fx/', index, [1, 2], fileFetch)).rejects.toThrow(
      "neurons/L1-2.json belongs to the model with content hash another-model-hash, not to this atlas's (fixturehash0123456789)",
    );
    const p = await fetchNeuronPage('/fx/', index, [0, 3], fileFetch);
    expect(p.uses[0].fact).toBe('P36:0');
  });

  it('an atlas of another model than the loaded one is named', async () => {
    const { index } = await open();
    expect(modelMismatch(index, null)).toBe('');
    expect(modelMismatch(index, { contentHash: 'fixturehash0123456789' })).toBe('');
    expect(modelMismatch(index, { contentHash: 'abcdef0123456789', source: 'bundled:demo-masked' })).toBe(
      'This atlas was built from fixture-model (content hash fixturehash0…), not from the loaded model bundled:demo-masked (abcdef012345…): its numbers describe other weights.',
    );
  });
});

describe('search', () => {
  it('by token, relation, language and type; most facts first', async () => {
    const { index } = await open();
    expect(keys(searchIndex(index, {}))).toEqual(['0.7', '1.5', '1.2', '0.3']);
    // "paris" matches ĠParis (GPT-2's space mark dropped, case ignored) in L0·3 and L1·5
    expect(keys(searchIndex(index, { token: 'paris' }))).toEqual(['1.5', '0.3']);
    expect(keys(searchIndex(index, { token: ' Par' }))).toEqual(['1.5', '0.3']);
    expect(keys(searchIndex(index, { relation: 'P19' }))).toEqual(['0.7', '1.2']);
    expect(keys(searchIndex(index, { lang: 'fi' }))).toEqual(['1.2']);
    expect(keys(searchIndex(index, { type: 'relation' }))).toEqual(['1.5']);
    expect(keys(searchIndex(index, { token: 'paris', type: 'hub' }))).toEqual([]);
  });

  it('by fact: the relation narrows, the pages decide', async () => {
    const { index } = await open();
    const page = (n: NeuronRef) => fetchNeuronPage('/fx/', index, n, fileFetch);
    // P36:2 is in L1·5's page only (L0·3's names P36:0); L1·2's and L0·7's pages cannot be read: refused
    const cands = searchIndex(index, { fact: 'P36:2', type: 'relation' });
    expect(keys(cands)).toEqual(['1.5']);
    expect(keys(await filterByFact(cands, 'P36/2', page))).toEqual(['1.5']);
    expect(keys(await filterByFact(searchIndex(index, { fact: 'P36:0', type: 'fact' }), 'P36:0', page))).toEqual(['0.3']);
    expect(() => searchIndex(index, { fact: 'Paris' })).toThrow('fact "Paris" is not a fact id; write it relation:index, such as P36:0');
  });

  it('by fact through the ids the index keeps, when it keeps them', async () => {
    const { index } = await open();
    const ids = (k: string) => (k === '1.5' ? ['P36:1', 'P36:2', 'P36:3'] : ['P36:0']);
    const withIds = { ...index, neurons: index.neurons.map((e) => ({ ...e, factIds: ids(`${e.neuron[0]}.${e.neuron[1]}`) })) };
    expect(factNeedsPages(index, { fact: 'P36:2' })).toBe(true);
    expect(factNeedsPages(withIds, { fact: 'P36:2' })).toBe(false);
    expect(keys(searchIndex(withIds, { fact: 'P36/2' }))).toEqual(['1.5']);
    expect(keys(searchIndex(withIds, { fact: 'P36:0' }))).toEqual(['0.7', '1.2', '0.3']);
  });

  it('says plainly when nothing matches', async () => {
    const { index } = await open();
    expect(noMatchText(index, { token: 'zebra', lang: 'fi' })).toBe('No neuron in this atlas promotes a token like "zebra" and is specific to Finnish.');
    expect(noMatchText(index, { fact: 'P36:9' })).toBe(
      'No neuron in this atlas was selected for P36:9 (the atlas was built from 6 facts and P36:9 is not one of them).',
    );
    expect(noMatchText(index, { relation: 'P36', type: 'hub' })).toBe('No neuron in this atlas was selected for P36 (capital) and is a shared hub.');
  });

  it('the choices, the counts, a row', async () => {
    const { index } = await open();
    expect(searchChoices(index)).toEqual({ relations: ['P19', 'P36', 'P37'], langs: ['fr', 'fi'], types: ['fact', 'relation', 'language', 'hub'] });
    expect(typeCounts(index).map((r) => [r.type, r.count])).toEqual([
      ['fact', 1],
      ['relation', 1],
      ['language', 1],
      ['hub', 1],
    ]);
    expect(atlasRow(index.neurons[0])).toEqual({
      key: '0.3',
      neuron: [0, 3],
      label: 'L0·3',
      type: 'fact neuron',
      facts: 1,
      coverage: '2.0 / 7',
      lape: '—',
      tokens: '␣Paris ␣capital ␣France',
      relations: 'P36',
    });
  });
});

describe("a neuron's page", () => {
  it('activation bars, the LAPE profile and its entropy', async () => {
    const { index } = await open();
    const p = await fetchNeuronPage('/fx/', index, [0, 3], fileFetch);
    const bars = activationBars(p, index.langs);
    expect(bars.mean.map((b) => [b.lang, b.value, b.text])).toEqual([
      ['en', 1.25, '1.25 (over 10 queries)'],
      ['fr', 0.75, '0.75 (over 10 queries)'],
      ['fi', -0.125, '\u22120.125 (over 8 queries)'],
    ]);
    expect(bars.positive.map((b) => b.text)).toEqual(['60.0 % of 10 queries', '40.0 % of 10 queries', '20.0 % of 8 queries']);
    // fraction > 0 normalized: 0.6, 0.4, 0.2 over 1.2 → 1/2, 1/3, 1/6
    expect(lapeBars(p, index.langs).map((b) => b.text)).toEqual(['50.0 %', '33.3 %', '16.7 %']);
    // H = ½ ln 2 + ⅓ ln 3 + ⅙ ln 6 = 0.346574 + 0.366204 + 0.298627
    expect(entropy(p.lapeProfile)).toBeCloseTo(1.011404, 5);
    expect(entropy({ en: 0.05, fr: 0.05, fi: 0.9 })).toBeCloseTo(0.394398, 5);
    expect(entropy({ en: 1 })).toBe(0);
  });

  it('methods, coverage per fact, object ranks per language', async () => {
    const { index } = await open();
    const p = await fetchNeuronPage('/fx/', index, [0, 3], fileFetch);
    expect(p.uses[0].methods.map(methodText)).toEqual(['MaTrice', "English's own set", "French's own set"]);
    expect(useCoverage(p.uses[0].methods)).toEqual(['en', 'fr']);
    expect(objectRanks(p, index.langs)).toEqual([
      { fact: 'P36:0', object: 'Paris', ranks: [1, 1, null] },
      { fact: 'P36:1', object: 'Berlin', ranks: [5000, null, 40] },
    ]);
  });
});

describe('links', () => {
  it('?neuron= read and written; ?atlas= picks the atlas', () => {
    expect(neuronParam('?neuron=0.46')).toEqual([0, 46]);
    expect(neuronParam('?autoload=0&neuron=L3%C2%B7511')).toEqual([3, 511]);
    expect(neuronParam('?autoload=0')).toBeNull();
    expect(() => neuronParam('?neuron=x7')).toThrow('link: neuron "x7" is not a neuron; write it layer.index, such as 0.46');
    expect(withNeuronParam('?autoload=0', [1, 5])).toBe('?autoload=0&neuron=1.5');
    expect(withNeuronParam('?neuron=1.5', null)).toBe('');
    expect(atlasName('?atlas=demo-masked', 'demo-causal', 'demo-causal')).toBe('demo-masked');
    expect(atlasName('', null, 'demo-causal')).toBe('demo-causal');
    expect(atlasDir('demo-causal', '/app')).toBe('/app/models/demo-causal/atlas/');
    expect(() => atlasDir('../x')).toThrow('atlas: "../x" is not a bundled model\'s folder name');
  });
});

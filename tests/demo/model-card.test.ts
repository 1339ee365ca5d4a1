/**
 * The model card (scripts/train/model-card.ts) names the layers with self-attention as the trained model has
 * them: tests/demo/demo-models.test.ts reads that phrase to check the shipped checkpoint's zero attention weights.
 */
import { describe, expect, it } from 'vitest';
import { LANGS, RELATIONS } from '../../src/data/types';
import { attnLayersText, modelCard, type CardEval, type CardInput } from '../../scripts/train/model-card';
import { RECIPES } from '../../scripts/train/train-demo';

const evalOf = (acc: number): CardEval => ({
  languages: Object.fromEntries(LANGS.map((l) => [l, { accuracy: acc, n: 10, correct: acc * 10 }])),
  relations: { P36: Object.fromEntries(LANGS.map((l) => [l, { accuracy: acc, n: 5 }])) },
});

function input(attnLayers: number | undefined): CardInput {
  const facts = Object.fromEntries(RELATIONS.map((r) => [r, r === 'P36' ? ['P36:0', 'P36:1'] : []]));
  const templates = Object.fromEntries(RELATIONS.map((r) => [r, Object.fromEntries(LANGS.map((l) => [l, { trained: ['a', 'b', 'c'], heldout: ['d'] }]))]));
  return {
    name: 'demo-causal',
    label: 'Demo GPT-2',
    kind: 'causal',
    config: { arch: 'gpt2', vocab: 100, d: 16, layers: 4, heads: 2, ffn: 32, ctx: 64, act: 'relu', attnLayers },
    params: 12345,
    recipe: { ...RECIPES.v2cjk, attnLayers },
    recipeName: 'v2cjk',
    recipeOverrides: attnLayers === 3 ? 'attention in layers 0-2 (`--attn-layers 3`)' : undefined,
    split: { facts, templates, devFacts: ['P36:0'], testFacts: ['P36:1'] },
    facts: 2,
    baseQueries: 42,
    trainCommand: '`npm run train:torch -- --model causal`',
    training: 'TRAINING-SECTION',
    exportCheck: 'EXPORT-CHECK',
    trained: evalOf(1),
    heldout: evalOf(0.5),
    weightBytes: 1e6,
    hfBytes: 4e6,
    neurons: '## Knowledge neurons\n\nNEURONS',
  };
}

describe('modelCard', () => {
  it('names the attention layers: layer 0, layers 0-2, every layer', () => {
    expect(attnLayersText({ attnLayers: 1, layers: 4 })).toBe('layer 0');
    expect(attnLayersText({ attnLayers: 3, layers: 4 })).toBe('layers 0-2');
    expect(attnLayersText({ attnLayers: 4, layers: 4 })).toBe('every layer');
    expect(attnLayersText({ attnLayers: undefined, layers: 4 })).toBe('every layer');
    const three = modelCard(input(3));
    expect(three).toMatch(/self-attention only in layers 0-2 \(the other layers' attention weights and biases are zero/);
    expect(three).toMatch(/attention only in the first 3 layers, label smoothing/);
    expect(three).toMatch(/`RECIPES\.v2cjk` in `scripts\/train\/train-demo\.ts`, with attention in layers 0-2 \(`--attn-layers 3`\)/);
    const all = modelCard(input(undefined));
    expect(all).not.toMatch(/self-attention only/);
    expect(all).toMatch(/attention in every layer/);
  });

  it("carries the trainer's sections and the accuracy tables", () => {
    const c = modelCard(input(3));
    for (const s of ['TRAINING-SECTION', 'EXPORT-CHECK', 'NEURONS', 'npm run train:torch -- --model causal', 'Parameters: 12,345']) expect(c).toContain(s);
    expect(c).toContain('| en | 100.0 (10) | 50.0 (10) |');
    expect(c).toMatch(/trained to be interpretable/);
    expect(c).toMatch(/Real\s+LLMs are messier/);
    expect(c).not.toContain('dev-measure:start');
    expect(modelCard({ ...input(1), neurons: undefined })).toContain('dev-measure:start');
  });
});

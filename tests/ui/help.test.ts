/**
 * The page's texts that name a setting say what is in force (src/ui/explorer/help.ts), for the defaults
 * and for other settings, and the help's example fact is one the demo model knows (examples.ts).
 */
import { render } from 'svelte/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, normalizeAcrossLanguages } from '../../src/engine/selection/scoring';
import { openLocal } from '../../src/data/node';
import { LANGS } from '../../src/data/types';
import { loadModelArg } from '../../src/engine/index';
import { probeFactKnown } from '../../src/engine/session/session';
import TeachPanel from '../../src/ui/explorer/TeachPanel.svelte';
import { EXAMPLE_FACT, exampleTriple } from '../../src/ui/explorer/examples';
import {
  BASELINE_OPTIONS,
  EQ5_OPTIONS,
  EQ9_OPTIONS,
  eq5Phrase,
  eq9Phrase,
  localizeHelp,
  neuronValuesNote,
  optionLabel,
  selectionHelp,
  ualHelp,
  type InForce,
} from '../../src/ui/explorer/help';
import { DEFAULT_BASELINE, DEFAULT_STEPS, defaultSettings } from '../../src/ui/explorer/settings';
import { ready } from '../engine/setup';

const dflt: InForce = { settings: defaultSettings(), steps: DEFAULT_STEPS, baseline: DEFAULT_BASELINE };
const other: InForce = { settings: { ...defaultSettings(), norm: 'language', attrNorm: 'layer', tau: 0.35 }, steps: 64, baseline: 'zero' };
const text = (html: string) =>
  html
    .replace(/<!--[^]*?-->/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ');

describe('texts that name a setting', () => {
  it('the defaults: Eq. 9 ÷ max |score|, no Eq. 5 division, τ, M and the SAIG baseline as the engine has them', () => {
    // the engine's defaults these texts must describe (so the test fails if they drift apart)
    expect([DEFAULT_SETTINGS.norm, DEFAULT_SETTINGS.attrNorm]).toEqual(['scale', 'none']);
    const loc = localizeHelp(dflt);
    expect(loc).toContain('no Eq. 5 division');
    expect(loc).not.toMatch(/divided by (their|the) sum/);
    expect(loc).toContain(`M = ${DEFAULT_STEPS} steps (the default)`);
    expect(loc).toContain('SAIG ⟨PAD⟩ baselines (the default)');
    const ual = ualHelp(dflt);
    expect(ual).toContain('divided by its largest |score|');
    expect(ual).not.toContain('min-max');
    expect(ual).toContain('the default');
    expect(selectionHelp(dflt)).toContain(`τ = ${DEFAULT_SETTINGS.tau} now, the default`);
    const note = neuronValuesNote(dflt.settings);
    expect(note).toContain('÷ its max |score|');
    expect(note).not.toContain('min-max');
  });

  it('other settings: each text names what is set, marked as not the default', () => {
    const loc = localizeHelp(other);
    expect(loc).toContain("divided by the sum of their layer's scores (Eq. 5 per layer) (not the default)");
    expect(loc).toContain('M = 64 steps (not the default)');
    expect(loc).toContain('a single zero baseline (not the default)');
    expect(localizeHelp({ ...other, settings: { ...other.settings, attrNorm: 'global' } })).toContain('over all layers');
    expect(ualHelp(other)).toContain('min-max normalized to 0…1 over all its neurons (Eq. 9 as set now, not the default');
    expect(ualHelp({ ...other, settings: { ...other.settings, norm: 'neuron' } })).toContain('per neuron across the languages');
    expect(selectionHelp(other)).toContain('τ = 0.35 now, not the default');
    expect(neuronValuesNote(other.settings)).toContain("min-max of each language over all neurons (the paper's formula)");
  });

  it('the Eq. 9 phrases say what normalizeAcrossLanguages computes', () => {
    const v = [[Float64Array.from([-2, 0, 1])]];
    const scale = normalizeAcrossLanguages(v, 'scale')[0][0];
    expect(Array.from(scale)).toEqual([-1, 0, 0.5]); // ÷ max |score|: −1…1, zero stays zero
    expect(eq9Phrase('scale')).toContain('−1…1 and a zero score stays zero');
    const mm = normalizeAcrossLanguages(v, 'language')[0][0];
    expect(Array.from(mm)).toEqual([0, 2 / 3, 1]); // min-max: 0…1
    expect(eq9Phrase('language')).toContain('0…1');
    expect(eq5Phrase('none')).toContain('raw');
  });

  it('"(default)" is on the engine default option of each select, and only there', () => {
    const marked = (opts: readonly { value: string; label: string }[], d: string) =>
      opts.filter((o) => optionLabel(o, d).endsWith('(default)')).map((o) => o.value);
    expect(marked(EQ9_OPTIONS, DEFAULT_SETTINGS.norm)).toEqual([DEFAULT_SETTINGS.norm]);
    expect(marked(EQ5_OPTIONS, DEFAULT_SETTINGS.attrNorm)).toEqual([DEFAULT_SETTINGS.attrNorm]);
    expect(marked(BASELINE_OPTIONS, DEFAULT_BASELINE)).toEqual([DEFAULT_BASELINE]);
    for (const o of [...EQ9_OPTIONS, ...EQ5_OPTIONS, ...BASELINE_OPTIONS]) expect(o.label).not.toContain('default');
  });

  it('the help panel renders the settings in force', () => {
    const a = text(render(TeachPanel, { props: { topic: 'localize', onclose: () => {} } }).body);
    expect(a).toContain('no Eq. 5 division');
    expect(a).not.toContain('divided by their sum (Eq. 5)');
    expect(a).toContain('divided by its largest |score|');
    expect(a).not.toContain('min-max normalized to 0…1 (Eq. 9; by default');
    const b = text(render(TeachPanel, { props: { topic: 'localize', onclose: () => {}, inForce: other } }).body);
    expect(b).toContain('Eq. 5 per layer');
    expect(b).toContain('M = 64 steps');
    expect(b).toContain('τ = 0.35 now');
    expect(b).toContain('over all its neurons (Eq. 9 as set now, not the default');
  });
});

describe("the help's example fact", () => {
  let bench: Awaited<ReturnType<typeof openLocal>>;
  beforeAll(async () => {
    bench = await openLocal();
  });
  it('is the benchmark fact it names, and the help shows it (not the paper’s unknown ⟨China, capital, Beijing⟩)', async () => {
    for (const l of ['en', 'zh'] as const) {
      const f = await bench.fact(EXAMPLE_FACT.id, l);
      expect({ subject: f.subject, object: f.object }).toEqual(EXAMPLE_FACT.labels[l]);
    }
    const body = text(render(TeachPanel, { props: { topic: 'facts', onclose: () => {} } }).body);
    expect(body).toContain(`e.g. ${exampleTriple()} (${EXAMPLE_FACT.id})`);
    expect(body).toContain('⟨Azerbaijan, capital, Baku⟩');
    expect(body).not.toContain('Beijing');
  });
  it('is known by the bundled demo model in every language (the one rule)', async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    try {
      expect((await probeFactKnown(model, bench, EXAMPLE_FACT.id, [...LANGS])).known).toEqual([...LANGS]);
      // the paper's example, which the help used to offer, is known in none
      const china = (await bench.shard('P36', 'en')).facts.find((f) => f.subject === "People's Republic of China")!;
      expect((await probeFactKnown(model, bench, china.id, [...LANGS])).known).toEqual([]);
    } finally {
      model.dispose();
    }
  }, 300_000);
});

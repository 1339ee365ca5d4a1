/**
 * A model with a calibration.json (ModelInfo.calibration, engine/selection/calibration.ts) starts the page on its
 * calibrated settings; a share link keeps the settings it names; a model without one gets METHOD's defaults.
 * On a fake worker client (src/ui/explorer/store.svelte.ts).
 */
import { DEFAULT_QUADRATURE, LEGACY_QUADRATURE } from '../../src/engine/rules';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/engine/selection/scoring';
import { Explorer } from '../../src/ui/explorer/store.svelte';
import { encodeState } from '../../src/ui/share/state';

const CALIBRATED = { alpha1: 1, alpha2: 0.5, beta1: 1, beta2: 0.25, tau: 0.1, norm: 'scale' as const, attrNorm: 'none' as const };
const calibration = {
  settings: CALIBRATED,
  steps: 20,
  facts: 20,
  split: 'dev',
  command: 'kn experiment calibrate',
  measured: { suppress: null, coverageMean: null, selectedMedian: null, randomSuppress: null, flipRate: null },
};
const WITH = { source: 'bundled:demo-causal', contentHash: 'c1', architecture: 'GPT2LMHeadModel', numLayers: 4, ffnSize: 512, calibration };
const WITHOUT = { source: 'bundled:other', contentHash: 'c2', architecture: 'GPT2LMHeadModel', numLayers: 4, ffnSize: 512 };

function fakeClient(info: () => unknown) {
  return {
    subscribe: async () => undefined,
    init: async () => ({ name: 'wasm', fallbacks: [] }),
    load: async () => info(),
    memory: async () => ({ numBytes: 1, numTensors: 1 }),
    listFacts: async () => ({ relation: 'P36', facts: [], total: 0 }),
    terminate: () => undefined,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 20));
afterEach(() => vi.unstubAllGlobals());

describe('calibrated defaults on the page', () => {
  it('a calibrated model loads with its settings; the paper button is one click; a model without one gets METHOD defaults', async () => {
    vi.stubGlobal('fetch', async () => new Response('not found', { status: 404 }));
    let info: unknown = WITH;
    const ex = new Explorer();
    ex.start('?autoload=0', '', undefined, fakeClient(() => info) as never);
    await settle();
    expect(ex.analysis.settings).toEqual({ ...DEFAULT_SETTINGS });
    expect(await ex.load({ type: 'bundled', name: 'demo-causal' }, 'int8')).toBe(true);
    expect(ex.analysis.settings).toEqual(CALIBRATED);
    expect(ex.defaults.source).toBe('calibrated');
    expect(ex.defaults.note).toMatch(/calibrated on 20 dev facts/);
    // the page's settings are a copy: moving a slider does not change the model's defaults
    ex.analysis.settings.tau = 0.7;
    expect(ex.defaults.settings.tau).toBe(0.1);

    info = WITHOUT;
    expect(await ex.load({ type: 'bundled', name: 'other' }, 'int8')).toBe(true);
    expect(ex.analysis.settings).toEqual({ ...DEFAULT_SETTINGS });
    expect(ex.defaults.source).toBe('method');
  });

  it('a share link keeps its own settings on a calibrated model', async () => {
    vi.stubGlobal('fetch', async () => new Response('not found', { status: 404 }));
    const linked = { alpha1: 2, alpha2: 1.5, beta1: 0.5, beta2: 3, tau: 0.35, norm: 'language' as const, attrNorm: 'layer' as const };
    const hash = encodeState({ v: 1, model: { type: 'bundled', name: 'demo-causal' }, method: 'matrice', settings: linked, steps: 8, baseline: 'pad' });
    const ex = new Explorer();
    ex.start('?autoload=0', hash, undefined, fakeClient(() => WITH) as never);
    await settle();
    await settle();
    expect(ex.model.info?.contentHash).toBe('c1');
    expect(ex.analysis.settings).toEqual(linked);
    expect(ex.analysis.steps).toBe(8);
    // a link written before the quadrature option names none: it localizes with the rule it was made with
    expect(ex.analysis.quadrature).toBe(LEGACY_QUADRATURE);
    // loading the model again by hand (not a restore) gives its calibrated defaults
    expect(await ex.load({ type: 'bundled', name: 'demo-causal' }, 'int8')).toBe(true);
    expect(ex.analysis.settings).toEqual(CALIBRATED);
  });

  it("the quadrature: the engine default on a fresh page, a link's own when it names one", async () => {
    vi.stubGlobal('fetch', async () => new Response('not found', { status: 404 }));
    const fresh = new Explorer();
    expect(fresh.analysis.quadrature).toBe(DEFAULT_QUADRATURE);
    const hash = encodeState({
      v: 1,
      model: { type: 'bundled', name: 'demo-causal' },
      method: 'matrice',
      settings: { ...DEFAULT_SETTINGS },
      steps: 8,
      baseline: 'pad',
      quadrature: 'gauss-legendre',
    });
    const ex = new Explorer();
    ex.start('?autoload=0', hash, undefined, fakeClient(() => WITH) as never);
    await settle();
    await settle();
    expect(ex.analysis.quadrature).toBe('gauss-legendre');
  });
});

/**
 * The explorer's model loads (src/ui/explorer/store.svelte.ts) on a fake worker client: a failed load
 * keeps the model, its fact, results and edits; a backend the page refused (?backend=nonsense) loads
 * and computes nothing, not even the default model.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkBackendNames } from '../../src/engine/backend/backend';
import { KnError } from '../../src/shared/errors';
import { Explorer } from '../../src/ui/explorer/store.svelte';

const DEMO = { source: 'bundled:demo-causal', contentHash: 'c1', architecture: 'GPT2LMHeadModel', numLayers: 4, ffnSize: 512 };
const FACTS = { factId: 'P36:0', relation: 'P36', queries: [{ lang: 'en', prompt: 'p', target: 't', pCorrect: 0.5, correct: true }], labels: {} };

function fakeClient(over: Record<string, unknown> = {}) {
  const calls: string[] = [];
  const c = {
    calls,
    subscribe: async () => undefined,
    init: async () => ({ name: 'wasm', fallbacks: [] }),
    load: async () => DEMO,
    memory: async () => ({ numBytes: 1, numTensors: 1 }),
    listFacts: async () => ({ relation: 'P36', facts: [], total: 0 }),
    factQueries: async () => FACTS,
    terminate: () => undefined,
    ...over,
  };
  return new Proxy(c, {
    get(t, k: string) {
      const v = (t as Record<string, unknown>)[k];
      return typeof v === 'function' ? (...a: unknown[]) => (calls.push(k), (v as (...x: unknown[]) => unknown)(...a)) : v;
    },
  });
}

/** /models/index.json lists the demo model, so the page would load it on start */
function serveBundledIndex() {
  vi.stubGlobal('fetch', async (url: string) =>
    String(url).endsWith('models/index.json')
      ? new Response(JSON.stringify({ models: [{ name: 'demo-causal', label: 'Demo' }] }), { headers: { 'content-type': 'application/json' } })
      : new Response('not found', { status: 404 }),
  );
}

const settle = () => new Promise((r) => setTimeout(r, 20));
afterEach(() => vi.unstubAllGlobals());

describe('the explorer loading a model', () => {
  it('a failed load keeps the loaded model, its fact, results and edits; the error names the failed source', async () => {
    let fail = false;
    const client = fakeClient({
      load: async () => {
        if (fail) throw new KnError('truncated', 'model-00002-of-00002.safetensors: truncated (expected 12288 bytes, got 12188)');
        return DEMO;
      },
    });
    const ex = new Explorer();
    ex.start('?autoload=0', '', undefined, client as never);
    await settle();
    expect(await ex.load({ type: 'bundled', name: 'demo-causal' }, 'int8')).toBe(true);
    await ex.selectFact('P36:0');
    expect(ex.factStore.facts).toEqual(FACTS);
    ex.analysis.loc = { factId: 'P36:0', numLayers: 4, ffnSize: 512 } as never;
    ex.edits.active = [{ id: 1 }] as never;

    fail = true;
    const picked = { type: 'files', files: [{ webkitRelativePath: 'gpt2-truncated/config.json' }] } as never;
    expect(await ex.load(picked, 'int8')).toBe(false);
    expect(ex.model.info).toEqual(DEMO);
    expect(ex.hasModel).toBe(true);
    expect(ex.model.spec).toEqual({ type: 'bundled', name: 'demo-causal' });
    expect(ex.factStore.factId).toBe('P36:0');
    expect(ex.factStore.facts).toEqual(FACTS);
    expect(ex.analysis.loc).toMatchObject({ factId: 'P36:0' });
    expect(ex.edits.active).toHaveLength(1);
    expect(ex.error?.code).toBe('truncated');
    expect(ex.errorTitle).toBe('Could not load gpt2-truncated');
    expect(ex.notice).toBe('bundled:demo-causal is still loaded: its facts, results and edits are as they were.');

    // a load that succeeds starts the new model on no fact, unedited
    fail = false;
    expect(await ex.load({ type: 'bundled', name: 'demo-masked' }, 'int8')).toBe(true);
    expect(ex.model.spec).toEqual({ type: 'bundled', name: 'demo-masked' });
    expect(ex.factStore.factId).toBeNull();
    expect(ex.analysis.loc).toBeNull();
    expect(ex.edits.active).toHaveLength(0);
    expect(ex.error).toBeNull();
  });

  it('a ?backend= name the worker refused: the page neither loads the default model nor loads on request', async () => {
    serveBundledIndex();
    const refusal = (() => {
      try {
        checkBackendNames(['nonsense']);
      } catch (e) {
        return { code: (e as KnError).code, message: (e as KnError).message };
      }
    })()!;
    const client = fakeClient({ init: async () => Promise.reject(refusal) });
    const ex = new Explorer();
    ex.start('?backend=nonsense', '', ['nonsense'], client as never);
    await vi.waitFor(() => expect(ex.model.bundledLoaded).toBe(true));
    await settle();
    expect(ex.backendError?.message).toBe(refusal.message);
    expect(ex.backendError?.message).toContain('"nonsense"');
    expect(ex.backendError?.message).toContain('webgpu, wasm, webgl, cpu');
    expect(client.calls).not.toContain('load');

    expect(await ex.load({ type: 'bundled', name: 'demo-causal' }, 'int8')).toBe(false);
    expect(client.calls).not.toContain('load');
    expect(ex.model.info).toBeNull();
    expect(ex.error?.code).toBe('backend');
    expect(ex.error?.message).toBe(`no model loads while the compute backend is not started: ${refusal.message}`);
  });

  it('with the backend started, the same page loads the default model on start (the refusal above is the backend)', async () => {
    serveBundledIndex();
    const client = fakeClient();
    const ex = new Explorer();
    ex.start('', '', ['wasm'], client as never);
    await vi.waitFor(() => expect(client.calls).toContain('load'));
    await vi.waitFor(() => expect(ex.model.info).toEqual(DEMO));
  });
});

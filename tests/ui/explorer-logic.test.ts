import { describe, expect, it } from 'vitest';
import { selectionAdvice } from '../../src/ui/explorer/logic';

const base = { method: 'matrice', numLayers: 4, ffnSize: 512, maxS: 0.8, tau: 0.2, norm: 'scale' as const };

describe('selectionAdvice: the most-neurons and no-neuron warnings', () => {
  it('says nothing about an ordinary selection', () => {
    expect(selectionAdvice({ ...base, selected: 7 })).toBeNull();
    expect(selectionAdvice({ ...base, selected: 1024 })).toBeNull(); // exactly half is not "more than half"
  });

  it('flags more than half of all neurons, naming min-max as the cause under the min-max normalizations', () => {
    const a = selectionAdvice({ ...base, selected: 2044, norm: 'language' })!;
    expect(a.kind).toBe('most');
    expect(a.what).toContain('2044 of 2048');
    expect(a.why).toContain('min-max');
    expect(a.tries[0]).toContain('÷ its max |score|');
    const s = selectionAdvice({ ...base, selected: 1500, norm: 'scale' })!;
    expect(s.kind).toBe('most');
    expect(s.why).not.toContain('min-max');
    expect(s.tries).toContain('a higher τ');
  });

  it('explains an empty selection when every S ≤ 0, with what to try', () => {
    const a = selectionAdvice({ ...base, selected: 0, maxS: -0.013 })!;
    expect(a.kind).toBe('none');
    expect(a.why).toContain('≤ 0');
    expect(a.why).toContain('max S = -0.013');
    expect(a.tries.join(' ')).toMatch(/answers correctly/);
    expect(a.tries.join(' ')).toMatch(/α2 \/ β2/);
    // no finite score at all
    expect(selectionAdvice({ ...base, selected: 0, maxS: -Infinity })!.why).not.toContain('max S =');
  });

  it('explains an empty selection under τ ≥ 1, an empty intersection (AMIG, w/o UaL) and Random', () => {
    const t = selectionAdvice({ ...base, selected: 0, tau: 1 })!;
    expect(t.kind).toBe('none');
    expect(t.tries).toEqual(['a τ below 1']);
    const amig = selectionAdvice({ ...base, method: 'amig', selected: 0 })!;
    expect(amig.what).toContain('AMIG');
    expect(amig.why).toContain('intersection');
    expect(selectionAdvice({ ...base, method: 'no-ual', selected: 0 })!.what).toContain('w/o UaL');
    expect(selectionAdvice({ ...base, method: 'random', selected: 0, maxS: -1 })!.what).toContain('MaTrice selects none');
  });
});

describe('one source each (issue 14 item 10)', async () => {
  const { LANGS } = await import('../../src/data/types');
  const { METHODS, METHOD_LABELS: ENGINE_LABELS } = await import('../../src/engine/selection/methods');
  const { METHODS: EXPERIMENT_METHODS } = await import('../../src/engine/interventions/manipulate');
  const { ALL_LANGS, METHOD_LABELS, describeModel } = await import('../../src/ui/explorer/logic');
  const { EXPLORATION_METHODS, defaultState, validateModel } = await import('../../src/ui/share/state');
  const { DEFAULT_SETTINGS } = await import('../../src/engine/selection/scoring');
  const { defaultSettings } = await import('../../src/ui/explorer/settings');
  const { isHubRepoId, modelLabel } = await import('../../src/engine/source/model-id');
  const { parseModelArg } = await import('../../src/engine/source/source');
  const { specFromForm } = await import('../../src/ui/sources');

  it("languages, methods and labels are the engine's and the data's", () => {
    expect(ALL_LANGS).toBe(LANGS);
    expect(EXPLORATION_METHODS).toBe(METHODS);
    expect(EXPERIMENT_METHODS).toBe(METHODS);
    expect(METHOD_LABELS).toBe(ENGINE_LABELS);
    expect(Object.keys(METHOD_LABELS)).toEqual([...METHODS]);
  });

  it("default settings are the engine's DEFAULT_SETTINGS (store and links)", () => {
    expect(defaultSettings()).toStrictEqual({ ...DEFAULT_SETTINGS });
    expect(defaultState().settings).toStrictEqual({ ...DEFAULT_SETTINGS });
  });

  it('one model label and one hub repo-id rule for the CLI, the model form and links', () => {
    expect(describeModel({ type: 'hub', repo: 'org/name', revision: 'v1' })).toBe(modelLabel({ type: 'hub', repo: 'org/name', revision: 'v1' }));
    expect(describeModel({ type: 'hub', repo: 'gpt2' })).toBe('hf:gpt2');
    expect(describeModel({ type: 'bundled', name: 'demo' })).toBe('bundled:demo');
    expect(describeModel(null)).toBe('a local model');
    const form = (hubRepo: string) => specFromForm({ kind: 'hub', bundled: '', hubRepo, hubRevision: '', url: '', files: [] });
    const link = (repo: string) => {
      try {
        validateModel({ type: 'hub', repo }, 'link');
        return true;
      } catch {
        return false;
      }
    };
    const cli = (repo: string) => {
      try {
        parseModelArg(`hf:${repo}`);
        return true;
      } catch {
        return false;
      }
    };
    for (const repo of ['gpt2', 'openai-community/gpt2', 'org/name.v2', '_x/y', '-x', 'a/b/c', 'a/../b', 'a b', '', 'org/.hidden']) {
      const ok = isHubRepoId(repo);
      expect(typeof form(repo) !== 'string', `form ${repo}`).toBe(ok);
      expect(link(repo), `link ${repo}`).toBe(ok);
      expect(cli(repo), `cli ${repo}`).toBe(ok);
    }
    expect(isHubRepoId('openai-community/gpt2')).toBe(true);
    expect(isHubRepoId('a/../b')).toBe(false);
  });
});

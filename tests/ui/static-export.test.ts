import { describe, expect, it } from 'vitest';
import { KnError } from '../../src/shared/errors';
import { exportExploration, importExploration } from '../../src/ui/share/exploration-file';
import { STATIC_FILE, buildStaticExploration, staticParam } from '../../src/ui/share/static-export';
import { defaultState } from '../../src/ui/share/state';

const meta = { model: { label: 'bundled:demo\u0007', contentHash: 'h', architecture: 'GPT2LMHeadModel', numLayers: 2, ffnSize: 8 } };

describe('static export', () => {
  it('lists the exploration JSON, an opener page and a README', () => {
    const file = exportExploration(
      { ...defaultState(), fact: 'P36/0' },
      { model: { ...meta.model, label: 'bundled:demo' } },
      {
        queries: [],
        selections: { matrice: { neurons: [[1, 2]], scores: [0.5], threshold: 0.1 } },
        layerDistribution: [0, 1],
      },
    );
    const { files, url } = buildStaticExploration(file);
    expect(files.map((f) => f.path)).toStrictEqual(['exploration.json', 'exploration.html', 'README.txt']);
    expect(files[0].content).toBe(file);
    expect(importExploration(files[0].content).state.fact).toBe('P36/0');
    expect(url).toBe('./?static=exploration.json');
    expect(files[1].content).toContain('url=./?static=exploration.json');
    const readme = files[2].content;
    expect(readme).toContain('dist/');
    expect(readme).toContain('?static=exploration.json');
    expect(readme).toContain('bundled:demo (2 layers x 8 neurons)');
    expect(staticParam(url.slice(2))).toBe(STATIC_FILE);
  });

  it('refuses an invalid exploration', () => {
    expect(() => buildStaticExploration('{}')).toThrow(/exploration file: format must be/);
  });

  it('accepts only relative same-origin .json paths in ?static=', () => {
    expect(staticParam('')).toBeNull();
    expect(staticParam('?a=1')).toBeNull();
    expect(staticParam('?static=exploration.json')).toBe('exploration.json');
    expect(staticParam('static=shared/p36.json&x=1')).toBe('shared/p36.json');
    for (const bad of [
      '?static=',
      '?static=https://evil.example/x.json',
      '?static=//evil.example/x.json',
      '?static=/etc/x.json',
      '?static=../x.json',
      '?static=a/../../x.json',
      '?static=javascript:alert(1)//.json',
      '?static=x.txt',
      '?static=a%5Cb.json',
      '?static=a%0Ab.json',
    ]) {
      let err: unknown;
      try {
        staticParam(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(KnError);
      expect((err as KnError).message).toMatch(/^static exploration: the "static" parameter /);
    }
  });
});

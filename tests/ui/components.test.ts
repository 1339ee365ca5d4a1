import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from 'svelte/compiler';
import { describe, expect, it } from 'vitest';

// Smoke test: every plot component compiles (client and server) without errors or warnings
// (Svelte's a11y checks are warnings, so this also keeps them clean).
const dir = join(__dirname, '../../src/ui/plots');
const files = readdirSync(dir).filter((f) => f.endsWith('.svelte'));

describe('plot components compile', () => {
  it('finds the four plots', () => {
    expect(files.sort()).toStrictEqual(['Heatmap.svelte', 'LayerBars.svelte', 'NeuronLanguages.svelte', 'ProbBars.svelte']);
  });
  for (const f of files) {
    it(f, () => {
      const source = readFileSync(join(dir, f), 'utf8');
      for (const generate of ['client', 'server'] as const) {
        const out = compile(source, { filename: f, generate, runes: true });
        expect(out.warnings.map((w) => `${w.code}: ${w.message}`)).toStrictEqual([]);
        expect(out.js.code.length).toBeGreaterThan(0);
      }
      expect(source).not.toContain('{@html');
    });
  }
});

// The frame the bar and dot charts share (src/ui/plots/frame/): the same compile checks.
describe('the chart frame compiles', () => {
  it('ChartFrame.svelte', () => {
    const f = 'ChartFrame.svelte';
    const source = readFileSync(join(dir, 'frame', f), 'utf8');
    for (const generate of ['client', 'server'] as const) {
      const out = compile(source, { filename: f, generate, runes: true });
      expect(out.warnings.map((w) => `${w.code}: ${w.message}`)).toStrictEqual([]);
      expect(out.js.code.length).toBeGreaterThan(0);
    }
    expect(source).not.toContain('{@html');
  });
});

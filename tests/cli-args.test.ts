import { describe, expect, it } from 'vitest';
import { KN_OPTIONS, int, parseArgs, parseOptions, str } from '../src/cli/args';

describe('kn options (node:util parseArgs)', () => {
  it('reads --flag value, --flag=value, booleans and positionals', () => {
    const a = parseArgs(['probe', '--prompt', 'The capital of France is', '--target=Paris', '--top', '5', '--json']);
    expect(a._).toEqual(['probe']);
    expect(str(a, 'prompt')).toBe('The capital of France is');
    expect(str(a, 'target')).toBe('Paris');
    expect(int(a, 'top', 1, 1000)).toBe(5);
    expect(a.json).toBe(true);
    expect(a.help).toBeUndefined();
  });

  it('refuses an unknown option and a missing value, naming the option', () => {
    expect(() => parseArgs(['probe', '--promt', 'x'])).toThrow(/--promt/);
    expect(() => parseArgs(['probe', '--prompt'])).toThrow(/--prompt/);
    expect(() => parseArgs(['localize', '--tau', '2'])).not.toThrow();
    expect(() => int(parseArgs(['probe', '--top', '0']), 'top', 1, 1000)).toThrow(/--top must be an integer in 1..1000, got "0"/);
  });

  it('leaves the options of data, eval and experiment to them (strict: false)', () => {
    const a = parseArgs(['eval', '--model', 'bundled:demo-causal', '--relations', 'P36', '--limit', '2'], { strict: false });
    expect(str(a, 'model')).toBe('bundled:demo-causal');
    expect(a._[0]).toBe('eval');
  });

  it('list options take repeated, comma-separated, or following words', () => {
    const opts = { langs: { type: 'string', multiple: true }, limit: { type: 'string' } } as const;
    const a = parseOptions(['--langs', 'en', 'ja', '--limit', '2', '--langs=fr,fi', 'stats'], opts, { lists: ['langs'] });
    expect(a.langs).toEqual(['en', 'ja', 'fr,fi']);
    expect(a.limit).toBe('2');
    // a positional after a non-list option stays a positional
    expect(parseOptions(['--limit', '2', 'stats'], opts, { lists: ['langs'] })._).toEqual(['stats']);
    expect(Object.keys(KN_OPTIONS)).toContain('attr-norm');
  });
});

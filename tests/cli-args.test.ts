import { describe, expect, it } from 'vitest';
import { KN_OPTIONS, int, intOpt, joinNegativeValues, numOpt, parseArgs, parseCli, parseOptions, str, takeOption } from '../src/cli/args';
import { EXPERIMENT_OPTIONS } from '../src/cli/results';

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

  it('a negative number after an option that takes a value is its value, so our range check answers', () => {
    const opts = { facts: { type: 'string' }, n: { type: 'string', short: 'n' }, json: { type: 'boolean' } } as const;
    expect(joinNegativeValues(['--facts', '-2', '-n', '-0.5', '--json', '--', '--facts', '-3'], opts)).toEqual([
      '--facts=-2',
      '--n=-0.5',
      '--json',
      '--',
      '--facts',
      '-3',
    ]);
    // a boolean before a negative-looking word, and a word that is no number, are left to node:util
    expect(joinNegativeValues(['--json', '-2', '--facts', '-x'], opts)).toEqual(['--json', '-2', '--facts', '-x']);
    // every numeric option of every parser: kn's own (parseArgs), the experiments' (parseCli)
    expect(() => int(parseArgs(['probe', '--top', '-3']), 'top', 1, 1000)).toThrow(/^--top must be an integer in 1\.\.1000, got "-3"$/);
    expect(str(parseArgs(['localize', '--tau', '-.5']), 'tau')).toBe('-.5');
    const { values: v } = parseCli(['--facts', '-2', '--seed', '-1', '--tau', '-0.25', '--steps', '-4'], EXPERIMENT_OPTIONS);
    expect(() => intOpt(v.facts, 'facts', 1, 100000, 100)).toThrow(/^--facts must be an integer in 1\.\.100000, got "-2"$/);
    expect(() => intOpt(v.seed, 'seed', 0, 2 ** 31 - 1, 1)).toThrow(/^--seed must be an integer in 0\.\.2147483647, got "-1"$/);
    expect(() => intOpt(v.steps, 'steps', 1, 1000, 20)).toThrow(/^--steps must be an integer in 1\.\.1000, got "-4"$/);
    expect(numOpt(v.tau, 'tau')).toBe(-0.25);
    expect(parseOptions(['--limit', '-1'], { limit: { type: 'string' } }).limit).toBe('-1');
  });

  it('the dispatcher takes --backend out for every command, the last one winning; a missing value is refused', () => {
    expect(takeOption(['experiment', 'manipulate', '--backend', 'cpu', '--facts', '2', '--backend=wasm'], 'backend')).toEqual({
      value: 'wasm',
      rest: ['experiment', 'manipulate', '--facts', '2'],
    });
    expect(takeOption(['probe', '--prompt', 'x'], 'backend')).toEqual({ value: undefined, rest: ['probe', '--prompt', 'x'] });
    expect(takeOption(['probe', '--', '--backend', 'cpu'], 'backend')).toEqual({ value: undefined, rest: ['probe', '--', '--backend', 'cpu'] });
    expect(() => takeOption(['backend', '--backend'], 'backend')).toThrow(/^--backend needs a value \(--backend <value>\)$/);
    expect(() => takeOption(['backend', '--backend', '--json'], 'backend')).toThrow(/--backend needs a value/);
  });
});

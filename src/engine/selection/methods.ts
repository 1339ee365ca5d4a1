/**
 * The selection methods and their display names, in one place (no dependencies: the page's main thread
 * imports it without pulling in the engine). MaTrice, its two ablations, and the AMIG and Random baselines
 * (docs/METHOD.md).
 */
export type Method = 'matrice' | 'amig' | 'random' | 'no-uaq' | 'no-ual';
export const METHODS: readonly Method[] = Object.freeze(['matrice', 'amig', 'random', 'no-uaq', 'no-ual']);

export const METHOD_LABELS: Readonly<Record<Method, string>> = Object.freeze({
  matrice: 'MaTrice',
  amig: 'AMIG',
  random: 'Random',
  'no-uaq': 'w/o UaQ',
  'no-ual': 'w/o UaL',
});

/** The display name of a method (the key itself for an unknown one). */
export const methodLabel = (m: string): string => (METHOD_LABELS as Record<string, string>)[m] ?? m;

/**
 * Each method's one colour, in every figure (the report's Fig. 4, Fig. 5, knock-out and edit tables, the
 * page's layer bars and comparisons): Okabe-Ito, colour-blind safe (the page's app.css has the same hues).
 */
export const METHOD_COLORS: Readonly<Record<Method, string>> = Object.freeze({
  matrice: '#0072b2',
  amig: '#e69f00',
  random: '#cc79a7',
  'no-uaq': '#009e73',
  'no-ual': '#56b4e9',
});

/** The neutral colour of "before" (no manipulation) bars, distinct from every method's in lightness and hue. */
export const BEFORE_COLOR = '#999999';

/** Colours for series that are not one of the methods (readings variants, edit baselines), in order of first use. */
export const OTHER_COLORS: readonly string[] = Object.freeze(['#d55e00', '#000000', '#8c564b', '#f0e442', '#17becf', '#7f7f7f', '#bcbd22', '#e377c2']);

/**
 * Colour per series key for one report: a method key gets its METHOD_COLORS entry wherever it appears;
 * the other keys get OTHER_COLORS in the order given (pass every key of the report once, so a key keeps
 * its colour in each of the report's figures).
 */
export function methodColors(keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  for (const k of keys) {
    if (k in out) continue;
    out[k] = (METHOD_COLORS as Record<string, string>)[k] ?? OTHER_COLORS[i++ % OTHER_COLORS.length];
  }
  return out;
}

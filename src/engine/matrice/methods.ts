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

/** One fact, opened: its queries in every language, probes, localize, manipulate; the explorer's current fact. */
export * from './session';
export * from './facts';
export * from './views';
export * from './explorer';

/** One fact, opened: its queries in every language, probes, localize, manipulate. */
export * from './session';

/** One fact, opened: its queries in every language, probes, localize, manipulate; the page's current fact and edits. */
export * from './session';
export * from './facts';
export * from './views';
export * from './explorer';
export * from './edit-views';
export * from './edits';

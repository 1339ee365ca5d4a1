/** Integrated gradients over FFN neurons (SAIG): the fast and the streamed path, the attribution cache. */
export * from './attribute';
export * from './cache';
export * from './fact';
export * from './stream';

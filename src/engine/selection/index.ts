/** From attributions to neurons: normalization, uncertainty, threshold, the methods, calibration settings. */
export * from './calibration';
export * from './heatmap';
export * from './layerScores';
export * from './methods';
export * from './normalization';
export * from './rng';
export * from './scoring';
export * from './select';
export * from './summaries';
export * from './threshold';
export * from './uncertainty';

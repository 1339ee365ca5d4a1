/** From attributions to neurons: normalization, uncertainty, threshold, the methods, calibration settings. */
export * from './calibration';
export * from './layerScores';
export * from './methods';
export * from './rng';
export * from './scoring';
export * from './heatmap';

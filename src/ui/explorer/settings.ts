/** The explorer's defaults, from the engine (one source: engine/matrice/scoring.ts DEFAULT_SETTINGS). */
import { DEFAULT_SETTINGS, type MatriceSettings } from '../../engine/matrice/scoring';

export type Settings = MatriceSettings;

/** A fresh, mutable copy of the engine's default MaTrice settings. */
export const defaultSettings = (): Settings => ({ ...DEFAULT_SETTINGS });

/** The bundled model the page opens when nothing else is asked for. */
export const DEFAULT_MODEL = 'demo-causal';

/** Riemann steps M and the IG baseline the page starts with (the engine's attribution defaults). */
export const DEFAULT_STEPS = 20;
export const DEFAULT_BASELINE: 'pad' | 'zero' = 'pad';

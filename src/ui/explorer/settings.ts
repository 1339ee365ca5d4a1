/** The explorer's defaults, from the engine (one source: engine/selection/scoring.ts DEFAULT_SETTINGS). */
import { DEFAULT_SETTINGS, type MatriceSettings } from '../../engine/selection';

export type Settings = MatriceSettings;

/** A fresh, mutable copy of the engine's default MaTrice settings. */
export const defaultSettings = (): Settings => ({ ...DEFAULT_SETTINGS });

/** The bundled model the page opens when nothing else is asked for. */
export const DEFAULT_MODEL = 'demo-causal';

/** IG steps M (quadrature points) and the IG baseline the page starts with: the engine's (engine/rules/index.ts). */
export { DEFAULT_BASELINE, DEFAULT_STEPS, STEPS_MAX, STEPS_MIN } from '../../engine/rules';

/** The paper's suppress (×0) and enhance (×2), and the factors the page accepts (engine/rules). */
export { ENHANCE_FACTOR, FACTOR_MAX, FACTOR_MIN, MIN_KNOWN_LANGS, SUPPRESS_FACTOR, TAU_MAX, TAU_MIN, TOP_K } from '../../engine/rules';

/** The engine's MaTrice defaults, methods and their colours, for the views (which import no engine module). */
export { DEFAULT_SETTINGS, METHOD_COLORS, METHODS, type MatriceSettings } from '../../engine/selection';

/** `s` with the paper's α1 = α2 = β1 = β2 and METHOD's τ (engine DEFAULT_SETTINGS); the normalizations stay. */
export const paperSettings = (s: Settings): Settings => ({
  ...s,
  alpha1: DEFAULT_SETTINGS.alpha1,
  alpha2: DEFAULT_SETTINGS.alpha2,
  beta1: DEFAULT_SETTINGS.beta1,
  beta2: DEFAULT_SETTINGS.beta2,
  tau: DEFAULT_SETTINGS.tau,
});

/** The button that goes back to the paper's weights (the numbers from the engine, no literal here). */
export const PAPER_LABEL = `Use the paper's α = β = ${DEFAULT_SETTINGS.alpha1}`;

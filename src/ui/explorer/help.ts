/**
 * The texts of the page that name a setting (Eq. 5, Eq. 9, τ, M, the IG baseline): each is a function of
 * the settings in force, so the help and the labels never say something else than what is computed
 * (tests/ui/help.test.ts renders them for the defaults and for other settings). The defaults themselves
 * come from the engine (DEFAULT_SETTINGS, settings.ts); "(default)" is added where an option is it.
 */
import { DEFAULT_SETTINGS, type AttrNorm, type LangNorm, type MatriceSettings } from '../../engine/selection';
import { DEFAULT_BASELINE, DEFAULT_STEPS } from './settings';
import { COMPLETENESS_FLAG, DEFAULT_QUADRATURE, RECHECK, type Baseline, type Quadrature } from '../../engine/rules';

export type { Baseline };

/** What a known query is (data/probing.ts), for the Teach panel's text (views import no data or engine module). */
export { KNOWN_RULE } from '../../engine/rules';

/** What is in force on the page: the MaTrice settings, the IG steps M and the IG baseline. */
export interface InForce {
  settings: Pick<MatriceSettings, 'norm' | 'attrNorm' | 'tau'>;
  steps: number;
  baseline: Baseline;
  /** the IG quadrature (absent: the engine's default) */
  quadrature?: Quadrature;
}

/** The Eq. 9 choices, as the Score panel offers them. */
export const EQ9_OPTIONS: readonly { value: LangNorm; label: string }[] = [
  { value: 'scale', label: 'each language ÷ its max |score| (zero stays zero)' },
  { value: 'language', label: "min-max of each language over all neurons (the paper's formula)" },
  { value: 'neuron', label: 'min-max of each neuron across languages (literal reading)' },
];

/** The Eq. 5 choices, as the Score panel offers them. */
export const EQ5_OPTIONS: readonly { value: AttrNorm; label: string }[] = [
  { value: 'none', label: 'none: raw scores, in units of probability' },
  { value: 'layer', label: "per layer (the paper's)" },
  { value: 'global', label: 'over all layers' },
];

/** The caveat under the Eq. 5 select (kept out of the option labels, so the select stays narrow). */
export const EQ5_NOTE = 'Per layer divides by a sum that can nearly cancel (signed scores): ill-conditioned; none keeps the raw scores (docs/METHOD.md).';

/** The IG baselines, as the Localize panel offers them. */
export const BASELINE_OPTIONS: readonly { value: Baseline; label: string }[] = [
  { value: 'pad', label: '⟨PAD⟩ per token (SAIG)' },
  { value: 'zero', label: 'zero vector' },
];

/** An option's label, with "(default)" when it is the engine's default. */
export const optionLabel = <T extends string>(o: { value: T; label: string }, dflt: T) => (o.value === dflt ? `${o.label} (default)` : o.label);

const defaultNote = (isDefault: boolean) => (isDefault ? 'the default' : 'not the default');

/** What Eq. 9 does to each language's UaQ scores under `norm`, as a phrase ("divided by …"). */
export function eq9Phrase(norm: LangNorm): string {
  if (norm === 'scale') return 'divided by its largest |score|, so they lie in −1…1 and a zero score stays zero';
  if (norm === 'language') return 'min-max normalized to 0…1 over all its neurons';
  return 'min-max normalized to 0…1 per neuron across the languages';
}

/** What Eq. 5 does to a query's raw scores under `attrNorm`, as a phrase. */
export function eq5Phrase(attrNorm: AttrNorm): string {
  if (attrNorm === 'none') return 'used as they are (no Eq. 5 division: raw scores, in units of probability)';
  if (attrNorm === 'layer') return "divided by the sum of their layer's scores (Eq. 5 per layer)";
  return 'divided by the sum of the scores over all layers (Eq. 5 over all layers)';
}

const baselineWords = (b: Baseline) => (b === 'pad' ? 'SAIG ⟨PAD⟩ baselines' : 'a single zero baseline');

/** The help's "Integrated gradients" paragraph on baselines, Eq. 5 and M. */
export function localizeHelp(f: InForce): string {
  return (
    `Baselines (SAIG): for each token of the query, the same sentence with that token replaced by ⟨PAD⟩ gives one w′; the scores of all ` +
    `baselines are summed. The alternative is a single zero vector. In force: ${baselineWords(f.baseline)} (${defaultNote(f.baseline === DEFAULT_BASELINE)}) ` +
    `and M = ${f.steps} steps (${defaultNote(f.steps === DEFAULT_STEPS)}). Each query's scores are then ${eq5Phrase(f.settings.attrNorm)}` +
    ` (${defaultNote(f.settings.attrNorm === DEFAULT_SETTINGS.attrNorm)}). The path integral is taken at M ${(f.quadrature ?? DEFAULT_QUADRATURE) === 'gauss-legendre' ? 'Gauss-Legendre nodes' : "right end points (the paper's Riemann sum)"} ` +
    `(${defaultNote((f.quadrature ?? DEFAULT_QUADRATURE) === DEFAULT_QUADRATURE)}). More steps M give a more accurate sum and take longer; when a query's sum misses ` +
    `P(w̄) − P(w′) by more than ${COMPLETENESS_FLAG * 100} % of its P, the page re-attributes it with ${RECHECK.quadrature} M = ${RECHECK.steps} and says whether the selection changes. ` +
    'Results are cached on this device, so a fact localized once reopens instantly.'
  );
}

/** The help's "Across languages (UaL, Eq. 9-11)" sentence. */
export function ualHelp(f: InForce): string {
  return (
    `Each language's scores are ${eq9Phrase(f.settings.norm)} (Eq. 9 as set now, ${defaultNote(f.settings.norm === DEFAULT_SETTINGS.norm)}; ` +
    'the Score panel offers the other readings), then S = β1·mean − β2·std over languages. The per-neuron plot shows exactly these ' +
    'normalized values, their mean and the mean ± std band: a wide band means the languages disagree.'
  );
}

/** The help's "Selection (Eq. 12-13)" sentence. */
export function selectionHelp(f: InForce): string {
  return (
    `Neurons with S > τ·max S are selected (τ = ${f.settings.tau} now, ${defaultNote(f.settings.tau === DEFAULT_SETTINGS.tau)}). Moving a slider re-scores instantly: no gradient is recomputed. ` +
    "Coverage (n/L beside a neuron, L the languages localized) counts the languages whose own selection, from that language's queries alone, holds the neuron: a language-agnostic neuron covers most languages. " +
    'The paper gives no values for α and β; a model calibrated on its dev facts (Experiments → Calibrate on this model) starts from the chosen ones.'
  );
}

/** The note under the neuron card's per-language plot. */
export function neuronValuesNote(settings: Pick<MatriceSettings, 'norm'>): string {
  return `Values are s̄ₖ, each language's UaQ score after the Eq. 9 normalization in force (${EQ9_OPTIONS.find((o) => o.value === settings.norm)?.label ?? settings.norm}); the band is mean ± std across languages.`;
}

/** Why the default Eq. 9 reading is not the paper's (shown only while the default differs from it). */
export function eq9Why(): string {
  return DEFAULT_SETTINGS.norm === 'language'
    ? ''
    : 'Why the default differs from the paper: IG scores are signed, and min-max lifts the thousands of near-zero neurons to one common level above τ·max S, selecting nearly every neuron (docs/METHOD.md).';
}

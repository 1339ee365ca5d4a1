/**
 * Toggle's "switch off a language" (LanguageSwitch.svelte; tests/ui/atlas-switch.test.ts): a language's LAPE set (its
 * language-specific neurons, Tang et al. 2024, from the model's atlas) switched off beside the fact's MaTrice set, on
 * the fact's queries in every language. Pure: the choices and the sentence that reads the two results.
 */
import type { NeuronRef } from '../../shared/atlas';
import { LANG_NAMES } from '../explorer/logic';

export interface LapeChoice {
  lang: string;
  name: string;
  neurons: [number, number][];
}

/** The languages with a non-empty LAPE set, in the atlas's language order. */
export function lapeChoices(sets: Record<string, readonly NeuronRef[]>, langs: readonly string[]): LapeChoice[] {
  return langs.filter((l) => sets[l]?.length).map((l) => ({ lang: l, name: LANG_NAMES[l] ?? l, neurons: sets[l].map((n): [number, number] => [n[0], n[1]]) }));
}

/** A manipulation's per-language ΔP over the known queries (the engine's LanguageSummary; NaN where none was known). */
type Summaries = Record<string, { deltaP: number }>;

export interface SwitchReading {
  /** ΔP in the switched-off language */
  target: number;
  /** mean ΔP over the other languages that had a known query (NaN when none had) */
  others: number;
  /** how many other languages enter that mean */
  otherCount: number;
}

/** ΔP in the chosen language and the mean over the others with a finite ΔP. */
export function switchReading(lang: string, r: Summaries): SwitchReading {
  const target = r[lang]?.deltaP ?? Number.NaN;
  const rest = Object.entries(r)
    .filter(([l, s]) => l !== lang && Number.isFinite(s.deltaP))
    .map(([, s]) => s.deltaP);
  return { target, others: rest.length ? rest.reduce((a, b) => a + b, 0) / rest.length : Number.NaN, otherCount: rest.length };
}

const pct = (x: number) => (Number.isFinite(x) ? `${x < 0 ? '\u2212' : x > 0 ? '+' : ''}${Math.abs(x * 100).toFixed(1)} %` : 'n/a (no known query)');

/** The sentence under the bars: what switching off the language's set did, against the fact's MaTrice set. */
export function switchText(lang: string, lapeCount: number, lape: Summaries, matriceCount: number, matrice: Summaries): string {
  const name = LANG_NAMES[lang] ?? lang;
  const a = switchReading(lang, lape);
  const b = switchReading(lang, matrice);
  return (
    `Switching off ${name}'s ${lapeCount} language-specific (LAPE) neuron${lapeCount === 1 ? '' : 's'}: ΔP ${pct(a.target)} in ${name}, ` +
    `${pct(a.others)} on average over the other ${a.otherCount} language${a.otherCount === 1 ? '' : 's'}. ` +
    `The fact's ${matriceCount} MaTrice neuron${matriceCount === 1 ? '' : 's'}: ${pct(b.target)} in ${name}, ${pct(b.others)} over the others.`
  );
}

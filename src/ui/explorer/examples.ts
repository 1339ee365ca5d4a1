/**
 * The fact the page's help and hints offer as an example to try: one the bundled demo models know
 * (tests/ui/examples.test.ts probes it on bundled:demo-causal by the one known-language rule and checks
 * the labels against the benchmark; `npm run -s kn -- fact --fact P36:0 --json` shows it: known in 7 of 7).
 * The paper's ⟨China, capital, Beijing⟩ (P36:551) is unknown to the demo model in every language.
 */
import { RELATION_NAMES } from './logic';

export const EXAMPLE_FACT = {
  id: 'P36:0',
  labels: {
    en: { subject: 'Azerbaijan', object: 'Baku' },
    zh: { subject: '阿塞拜疆', object: '巴库' },
  },
} as const;

/** ⟨subject, relation, object⟩ in English, as the help writes a fact. */
export const exampleTriple = (f: typeof EXAMPLE_FACT = EXAMPLE_FACT) =>
  `⟨${f.labels.en.subject}, ${RELATION_NAMES[f.id.split(':')[0]]}, ${f.labels.en.object}⟩`;

/**
 * The neuron atlas's file format (docs/ATLAS.md): what `kn atlas build` writes, what a static host serves and what
 * the page's Atlas view reads. One directory per model:
 *
 *   <dir>/atlas.json               AtlasIndex: the model, its content hash, the build's command and settings, the LAPE
 *                                  sets and one AtlasEntry per neuron that has a page
 *   <dir>/neurons/L<l>-<j>.json    NeuronPage: one neuron's whole dashboard
 *
 * A neuron is `[layer, index]` everywhere (the page writes it `L0·46`, a link `?neuron=0.46`).
 */
import type { MatriceSettings } from './types';

export const ATLAS_FORMAT = 'kn-atlas';
export const ATLAS_VERSION = 1;

export type NeuronRef = readonly [layer: number, index: number];

/** What a neuron is, by the rule stated in docs/ATLAS.md (the rule's numbers live in engine/rules). */
export type NeuronType = 'fact' | 'relation' | 'language' | 'hub' | 'other';

/** How a neuron came to be selected for a fact. */
export type AtlasMethod = 'matrice' | 'amig' | `own:${string}`;

export interface AtlasEntry {
  neuron: NeuronRef;
  type: NeuronType;
  /** Facts that selected it by any method. */
  facts: number;
  /** Relations of those facts, most frequent first. */
  relations: string[];
  /** Mean coverage (0-7): languages whose own set holds it, over the facts that selected it. */
  coverage: number;
  /** Languages it is specific to by LAPE (empty when none). */
  lapeLangs: string[];
  /** LAPE entropy of its normalized activation probabilities (0 = one language, ln 7 = even). */
  entropy: number;
  /** The first tokens of its logit lens (promoted), for search and the index table. */
  topTokens: string[];
  /** The facts (benchmark ids) that selected it, for search by fact (added by the engine's build; optional). */
  factIds?: string[];
}

export interface AtlasIndex {
  format: typeof ATLAS_FORMAT;
  version: typeof ATLAS_VERSION;
  model: string;
  contentHash: string;
  command: string;
  settings: MatriceSettings & { steps: number; baseline: string; quadrature: string };
  langs: string[];
  /** The facts the atlas was built from (benchmark ids such as `P36:0`). */
  facts: string[];
  /** Neurons of the model in all: layers × neurons per layer. */
  layers: number;
  neuronsPerLayer: number;
  /** LAPE (Tang et al. 2024): each language's specific neurons, and the rates used. */
  lape: { topRate: number; filterRate: number; activationBarRate: number; sets: Record<string, NeuronRef[]> };
  /** The rule behind `type`, in words (from engine/rules), so a reader of the file needs nothing else. */
  typeRule: string;
  neurons: AtlasEntry[];
}

export interface AtlasFactUse {
  fact: string;
  relation: string;
  methods: AtlasMethod[];
  /** Its language-agnostic score S for this fact, and its score in each language's own reading. */
  score: number;
  perLang: Record<string, number>;
}

export interface AtlasTopQuery {
  fact: string;
  text: string;
  activation: number;
}

export interface AtlasLensToken {
  token: string;
  id: number;
  logit: number;
}

export interface NeuronPage {
  format: typeof ATLAS_FORMAT;
  version: typeof ATLAS_VERSION;
  contentHash: string;
  entry: AtlasEntry;
  uses: AtlasFactUse[];
  /** Per language over all benchmark queries of the atlas's facts, at the answer position. */
  activation: Record<string, { mean: number; fracPositive: number; count: number; top: AtlasTopQuery[] }>;
  /** LAPE: activation probability per language (fraction > 0), normalized to a distribution. */
  lapeProfile: Record<string, number>;
  /** Logit lens: the output-weight row through the final norm and the unembedding. */
  lens: {
    promoted: AtlasLensToken[];
    suppressed: AtlasLensToken[];
    /** Facts whose object's first token it promotes, per language (rank of the object among all tokens). */
    objects: { fact: string; lang: string; object: string; rank: number; logit: number }[];
  };
}

export const neuronKey = (n: NeuronRef) => `${n[0]}.${n[1]}`;
export const neuronFile = (n: NeuronRef) => `neurons/L${n[0]}-${n[1]}.json`;
export const neuronLabel = (n: NeuronRef) => `L${n[0]}·${n[1]}`;

/** `0.46`, `L0·46`, `L0-46` or `L0.46` → [0, 46]; null when it is none of these. */
export function parseNeuron(s: string): NeuronRef | null {
  const m = /^L?(\d+)[.·-](\d+)$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

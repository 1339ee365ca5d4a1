/**
 * What the share link and the exploration file keep of an edit (enough to make it again), and its label.
 * A leaf (no engine imports): the page's bundle uses it without tfjs, the engine's edits (engine/session/edits.ts) label
 * their edits with it, and the worker's contract (worker/api.ts) re-exports its types.
 */
/** A fact the user typed: one language's subject and object for a relation. */
export interface TypedFact {
  relation: string;
  lang: string;
  subject: string;
  object: string;
}

type Neuron = [number, number];

export type EditSpec =
  | { kind: 'erase'; fact: string; neurons: Neuron[] }
  | { kind: 'update'; fact: string; neurons: Neuron[]; newObject: string; lambda1: number; lambda2: number; lang?: string }
  | { kind: 'inject'; fact: string | TypedFact; neurons: Neuron[]; lang: string; trainSteps: number; lr: number };

const neuronsLabel = (n: number) => `${n} neuron${n === 1 ? '' : 's'}`;

export function describeSpec(s: EditSpec): string {
  const fact = typeof s.fact === 'string' ? s.fact : `${s.fact.subject} → ${s.fact.object} (${s.fact.relation}, ${s.fact.lang})`;
  if (s.kind === 'erase') return `erase ${neuronsLabel(s.neurons.length)} of ${fact} (from English)`;
  if (s.kind === 'update')
    return `update ${neuronsLabel(s.neurons.length)} of ${fact} to "${s.newObject}" (from ${s.lang && s.lang !== 'en' ? s.lang : 'English'}, λ1 = ${s.lambda1}, λ2 = ${s.lambda2})`;
  return `teach ${fact}: ${neuronsLabel(s.neurons.length)} trained on ${s.lang}`;
}

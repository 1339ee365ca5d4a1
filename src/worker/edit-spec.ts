/**
 * What the share link and the exploration file keep of an edit (enough to make it again), and its label.
 * No engine imports: the page's bundle uses it without tfjs. The types are the worker's contract (api.ts).
 */
import type { EditSpec } from './api';

export type { EditSpec, TypedFact } from './api';

const neuronsLabel = (n: number) => `${n} neuron${n === 1 ? '' : 's'}`;

export function describeSpec(s: EditSpec): string {
  const fact = typeof s.fact === 'string' ? s.fact : `${s.fact.subject} → ${s.fact.object} (${s.fact.relation}, ${s.fact.lang})`;
  if (s.kind === 'erase') return `erase ${neuronsLabel(s.neurons.length)} of ${fact} (from English)`;
  if (s.kind === 'update') return `update ${neuronsLabel(s.neurons.length)} of ${fact} to "${s.newObject}" (from English, λ1 = ${s.lambda1}, λ2 = ${s.lambda2})`;
  return `teach ${fact}: ${neuronsLabel(s.neurons.length)} trained on ${s.lang}`;
}

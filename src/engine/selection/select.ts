/** One method's neurons for a fact: MaTrice, its ablations, AMIG or Random, by re-scoring stored attributions. */
import { checkMethod } from '../rules';
import type { MatriceSettings } from '../../shared/types';
import type { Method } from './methods';
import { resolveSettings, scoreAmig, scoreMatrice, scoreNoUaL, scoreNoUaQ, scoreRandom, type FactAttributions, type NeuronId, type Seed } from './scoring';

export interface MethodSelection {
  method: Method;
  neurons: NeuronId[];
  /** the language-agnostic score S of each selected neuron (MaTrice, w/o UaQ), else null */
  scores: (number | null)[];
  threshold: number | null;
}

/** Selects neurons by one of the methods; re-scoring only, never a gradient. */
export function selectNeurons(fa: FactAttributions, method: Method, settings: Partial<MatriceSettings> = {}, seed: Seed = 1): MethodSelection {
  const s = resolveSettings(settings);
  if (method === 'matrice' || method === 'no-uaq') {
    const r = method === 'matrice' ? scoreMatrice(fa, s) : scoreNoUaQ(fa, s);
    return { method, neurons: r.selected, scores: r.selected.map(([l, j]) => r.S[l][j]), threshold: r.threshold };
  }
  if (method === 'amig' || method === 'no-ual') {
    const r = method === 'amig' ? scoreAmig(fa, s) : scoreNoUaL(fa, s);
    return { method, neurons: r.selected, scores: r.selected.map(() => null), threshold: null };
  }
  if (method === 'random') {
    const r = scoreRandom(fa, s, seed);
    return { method, neurons: r.selected, scores: r.selected.map(() => null), threshold: null };
  }
  return checkMethod(method) as never;
}

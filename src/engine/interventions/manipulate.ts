/**
 * A fact across languages: manipulate the selected neurons (suppress ×0, enhance ×2, any factor) to measure ΔP
 * per language. Attributing the fact (../attribution/fact.ts) and selecting its neurons (../selection/select.ts)
 * are re-exported here for the session and the runners.
 */
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import type { ProbeResult } from '../../shared/types';
import { deltaP, type NeuronId } from '../selection/scoring';
import { TOP_K } from '../rules';

export * from '../attribution/fact';
import type { QuerySpec } from '../attribution/fact';
export { selectNeurons, type MethodSelection as Selection } from '../selection/select';
export { METHODS, METHOD_LABELS, methodLabel, type Method } from '../selection/methods';

export interface TopToken {
  id: number;
  token: string;
  prob: number;
}

/** A query's probe without intervention: P(correct), its rank (0 = top-1) and the top predictions. */
export interface BeforeProbe {
  before: number;
  rank: number;
  top: TopToken[];
}

export interface ManipulationRow {
  lang: string;
  templateId?: string;
  prompt: string;
  target: string;
  before: number;
  after: number;
  /** Eq. 14 for this query (NaN when P before is 0) */
  deltaP: number;
  correctBefore: boolean;
  correctAfter: boolean;
  topBefore: TopToken[];
  topAfter: TopToken[];
}

const tops = (r: { top: TopToken[] }, k: number) => r.top.slice(0, k).map((t) => ({ id: t.id, token: t.token, prob: t.prob }));

/**
 * P(correct) of every query before and after scaling the neurons by `factor` (0 suppress, 2 enhance), in
 * batched forwards. `befores` (aligned with `queries`) skips the probes without intervention.
 */
export async function manipulate(
  model: LoadedModel,
  queries: QuerySpec[],
  neurons: NeuronId[],
  factor: number,
  topK = TOP_K,
  befores?: BeforeProbe[],
): Promise<ManipulationRow[]> {
  return (await manipulateMany(model, queries, [{ neurons, factor }], topK, befores))[0];
}

/**
 * Several manipulations of the same queries (out[k] for list[k]), all in one batched forward per query
 * length (LoadedModel.probeInterventions): a fact's suppress / enhance / knock-out runs cost a few forwards.
 */
export async function manipulateMany(
  model: LoadedModel,
  queries: QuerySpec[],
  list: { neurons: NeuronId[]; factor: number }[],
  topK = TOP_K,
  befores?: BeforeProbe[],
): Promise<ManipulationRow[][]> {
  const { numLayers, ffn } = model.cfg;
  for (const { neurons, factor } of list) {
    if (!Number.isFinite(factor)) throw new KnError('bad-input', `the scale factor must be a finite number, got ${factor}`);
    for (const [l, j] of neurons) {
      if (!Number.isInteger(l) || !Number.isInteger(j) || l < 0 || l >= numLayers || j < 0 || j >= ffn) {
        throw new KnError('bad-input', `neuron ${l}:${j} does not exist in this model (${numLayers} layers × ${ffn} neurons)`);
      }
    }
  }
  const b: BeforeProbe[] =
    befores ?? (await model.probeMany(queries, { topK })).map((r) => ({ before: r.target!.prob, rank: r.target!.rank, top: tops(r, topK) }));
  // only the non-empty manipulations need a forward; an empty set changes nothing
  const live = list.map((m, k) => ({ m, k })).filter((x) => x.m.neurons.length > 0);
  const probed =
    live.length && queries.length
      ? await model.probeInterventions(
          queries,
          live.map((x) => ({ neurons: x.m.neurons, factor: x.m.factor })),
          { topK },
        )
      : [];
  const afters: (ProbeResult[] | null)[] = list.map(() => null);
  live.forEach((x, n) => (afters[x.k] = probed[n]));
  return list.map((_, k) =>
    queries.map((q, i) => {
      const a = afters[k]?.[i];
      const after = a ? a.target!.prob : b[i].before;
      return {
        lang: q.lang,
        ...(q.templateId !== undefined ? { templateId: q.templateId } : {}),
        prompt: q.prompt,
        target: q.target,
        before: b[i].before,
        after,
        deltaP: deltaP(b[i].before, after),
        correctBefore: b[i].rank === 0,
        correctAfter: a ? a.target!.rank === 0 : b[i].rank === 0,
        topBefore: b[i].top.slice(0, topK),
        topAfter: a ? tops(a, topK) : b[i].top.slice(0, topK),
      };
    }),
  );
}

export { perLanguage, type LanguageSummary } from '../selection/scoring';

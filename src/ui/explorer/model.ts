/** The model store's logic (pure; tests/ui/explorer-stores.test.ts): a model's identity for links and files, what a failed load says. */
import { toKnError } from '../../shared/errors';
import { modelLabel } from '../../engine/source';
import type { ModelInfo, ModelSourceSpec } from '../../shared/types';
import type { ExplorationModelMeta } from '../share/exploration-file';
import type { ExplorationModel } from '../share/state';
import { describeModel, modelToState } from './logic';

/** The model's identity as an exploration file stores it; the shape from the localize result when there is one. */
export function modelMeta(spec: ModelSourceSpec | null, info: ModelInfo | null, shape?: { numLayers: number; ffnSize: number } | null): ExplorationModelMeta {
  const st = modelToState(spec);
  return {
    label: st ? describeModel(st) : (info?.source ?? 'local files'),
    contentHash: info?.contentHash ?? '',
    architecture: info?.architecture ?? '',
    numLayers: shape?.numLayers ?? info?.numLayers ?? 1,
    ffnSize: shape?.ffnSize ?? info?.ffnSize ?? 1,
  };
}

/** Whether the loaded model (spec, info) is the one a link names (so it need not be loaded again). */
export function isLoaded(spec: ModelSourceSpec | null, info: ModelInfo | null, wanted: ExplorationModel): boolean {
  return !!info && JSON.stringify(modelToState(spec)) === JSON.stringify(wanted);
}

/**
 * What the page says when loading `spec` failed: the alert's title names the source that failed, and
 * `kept` (a notice) names the model that is still loaded (`loaded`: its source; null when none was).
 */
export function failedLoad(spec: ModelSourceSpec, e: unknown, loaded: ModelSourceSpec | null): { title: string; kept: string | null } {
  const title = `Could not load ${modelLabel(spec)}`;
  if (!loaded) return { title, kept: null };
  const what = toKnError(e).code === 'cancelled' ? '' : 'its facts, results and edits are as they were';
  return { title, kept: `${modelLabel(loaded)} is still loaded${what ? `: ${what}` : ''}.` };
}

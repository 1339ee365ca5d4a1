/** The model store's logic (pure; tests/ui/explorer-model.test.ts): a model's identity for links and files. */
import type { ModelInfo, ModelSourceSpec } from '../../engine/types';
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

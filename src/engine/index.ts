/** The engine's public API (used by the worker, the CLI and the tests). */
import { loadFromSource } from './source/checkpoint';
import type { LoadedModel } from './families/model';
import { makeSource, parseModelArg, type ModelSource } from './source/source';
import type { LoadOptions, ModelSourceSpec } from '../shared/types';

export { KnError, toKnError } from '../shared/errors';
export { LoadedModel } from './families/model';
export { parseModelArg } from './source/source';
export { HUB_REPO_PATTERN, isHubRepoId, modelLabel } from './source/model-id';
export type * from '../shared/types';

export async function loadModel(spec: ModelSourceSpec | ModelSource, opts: LoadOptions = {}): Promise<LoadedModel> {
  const src = 'open' in spec ? spec : makeSource(spec);
  return loadFromSource(src, opts);
}

export async function loadModelArg(arg: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  return loadModel(parseModelArg(arg), opts);
}

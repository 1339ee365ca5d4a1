/** The engine's public API (used by the worker, the CLI and the tests). */
import { loadFromSource } from './checkpoint';
import type { LoadedModel } from './model';
import { makeSource, parseModelArg, type ModelSource } from './source';
import type { LoadOptions, ModelSourceSpec } from './types';

export { KnError, toKnError } from './errors';
export { LoadedModel } from './model';
export { parseModelArg } from './source';
export { HUB_REPO_PATTERN, isHubRepoId, modelLabel } from './model-id';
export type * from './types';

export async function loadModel(spec: ModelSourceSpec | ModelSource, opts: LoadOptions = {}): Promise<LoadedModel> {
  const src = 'open' in spec ? spec : makeSource(spec);
  return loadFromSource(src, opts);
}

export async function loadModelArg(arg: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  return loadModel(parseModelArg(arg), opts);
}

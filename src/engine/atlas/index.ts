/**
 * The neuron atlas (docs/ATLAS.md): every knowledge neuron's page, LAPE's language-specific neurons and the logit lens.
 * The front door of the CLI (kn atlas, kn lape) and the worker (the page's Atlas view, in-page builds, Toggle's
 * "switch off a language").
 */
export * from '../../shared/atlas';
export { lape, activationTable, pyRound, LAPE_DEFAULT_RATES, type ActivationTable, type LapeRates, type LapeResult } from './lape';
export { queryActivations, type ActivationQuery, type QueryActivations } from './activations';
export { logitLens, lensLogits, lensTokens, lensRank, outputVector, checkNeuron, type LensReading } from './lens';
export {
  buildAtlas,
  prefixedStore,
  prepareAtlas,
  mergeAtlas,
  lapeSets,
  atlasRow,
  classify,
  checkAtlasFolder,
  readAtlasRows,
  BUILD_KEY,
  INDEX_KEY,
  ROW_PREFIX,
  rowKey,
  type AtlasBuildMeta,
  type AtlasBuildOptions,
  type AtlasBuildResult,
  type AtlasProgress,
  type AtlasRow,
} from './build';
export { readAtlas, readNeuronPage, searchAtlas, staticHostCheck, findEntry, noMatch, entryProblem, NEURON_TYPES, type AtlasQuery } from './format';

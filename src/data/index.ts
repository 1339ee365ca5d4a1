/** RML-LAMA: shard format, verified lazy loading, IndexedDB/in-memory cache, probing. */
export * from './types';
export { RmlLama, type FetchLike, type FetchResponseLike, type RmlLamaOptions, type LoadStats, type ShardLoadResult } from './loader';
export { createShardStore, FallbackShardStore, IdbShardStore, MemoryShardStore, shardKey, type ShardStore } from './store';
export { validateManifest, validateShard, isLang, isRelation, checkLang, checkLangs, checkRelation, checkRelations } from './validate';
export { sha256Hex } from '../shared/hash';
export { causalQuery, maskedQuery, shardQueries, factTemplateQueries, queryLength, type Query } from './queries';
export { computeStats, type BenchmarkStats, type LangStats } from './stats';
export {
  asProber,
  evaluate,
  experimentSets,
  isKnownLanguage,
  summarize,
  KNOWN_LANGUAGE_SHARE,
  KNOWN_RULE,
  type Prober,
  type ProbeOutput,
  type EvalOptions,
  type EvalResult,
  type EvalProgress,
  type QueryOutcome,
  type ExperimentSets,
  type ShardSource,
} from './probing';

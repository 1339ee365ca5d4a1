/** RML-LAMA: shard format, verified lazy loading, IndexedDB/in-memory cache, probing. */
export * from './types';
export { RmlLama, type FetchLike, type FetchResponseLike, type RmlLamaOptions, type LoadStats, type ShardLoadResult } from './loader';
export { createShardStore, FallbackShardStore, IdbShardStore, MemoryShardStore, shardKey, type ShardStore } from './store';
export { validateManifest, validateShard, isLang, isRelation } from './validate';
export { sha256Hex } from './hash';
export { causalQuery, maskedQuery, shardQueries, factTemplateQueries, queryLength, type Query } from './queries';
export { computeStats, type BenchmarkStats, type LangStats } from './stats';
export {
  asProber, evaluate, experimentSets, summarize,
  type Prober, type ProbeOutput, type EvalOptions, type EvalResult, type EvalProgress, type QueryOutcome,
  type ExperimentSets, type KnownRule, type ShardSource,
} from './probing';

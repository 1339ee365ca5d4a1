/**
 * Browser entry: the manifest is bundled into the app (no request for it), shards are fetched lazily
 * from <BASE_URL>data/rml-lama/ and kept in IndexedDB keyed by their sha256, so a second visit makes no
 * network request for data already seen. Falls back to memory when IndexedDB is unavailable or full.
 */
import bundledManifest from '../../public/data/rml-lama/manifest.json';
import { RmlLama } from './loader';
import { createShardStore, type ShardStore } from './store';

export { bundledManifest };

export function defaultBaseUrl(): string {
  const base = (import.meta as unknown as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/';
  return `${base.endsWith('/') ? base : base + '/'}data/rml-lama/`;
}

export function openRmlLama(opts: { baseUrl?: string; store?: ShardStore; onStoreFallback?: (reason: string) => void } = {}): Promise<RmlLama> {
  return RmlLama.open({
    baseUrl: opts.baseUrl ?? defaultBaseUrl(),
    manifest: bundledManifest,
    store: opts.store ?? createShardStore({ onFallback: opts.onStoreFallback }),
  });
}

/** Stable, compact serialisation of shards and the manifest: fixed key order, one array item per line. */
import type { Manifest, Shard } from './types';

function lines(items: unknown[]): string {
  return items.length ? '[\n' + items.map((x) => JSON.stringify(x)).join(',\n') + '\n]' : '[]';
}

export function serializeShard(s: Shard): string {
  const templates = s.templates.map((t) => ({ id: t.id, causal: t.causal, masked: t.masked, origin: t.origin }));
  const facts = s.facts.map((f) => ({ id: f.id, subject: f.subject, object: f.object }));
  return (
    `{"formatVersion":${JSON.stringify(s.formatVersion)},"version":${JSON.stringify(s.version)},` +
    `"relation":${JSON.stringify(s.relation)},"lang":${JSON.stringify(s.lang)},\n` +
    `"templates":${lines(templates)},\n"facts":${lines(facts)}}\n`
  );
}

export function serializeManifest(m: Manifest): string {
  return JSON.stringify(m, null, 1) + '\n';
}

/**
 * npm run data:build [-- --sources <dir>] [--out <dir>]
 * Turns the raw public sources (data/rml-sources, see its PROVENANCE.md and LICENSES.md) into the RML-LAMA shards under
 * public/data/rml-lama (manifest.json + v1/<relation>.<lang>.json). Deterministic.
 */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { buildRmlLama } from './data/build';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? resolve(args[i + 1]) : dflt;
};
const sourcesDir = opt('--sources', resolve(repo, 'data/rml-sources'));
const outDir = opt('--out', resolve(repo, 'public/data/rml-lama'));

try {
  const r = buildRmlLama({ sourcesDir, outDir, log: (m) => console.error(m) });
  const total = Object.values(r.factsPerRelation).reduce((a, b) => a + b, 0);
  const bytes = r.manifest.shards.reduce((a, s) => a + s.bytes, 0);
  console.error(`facts in all 7 languages: ${total} (${r.zhConverted} with zh labels converted by opencc-js)`);
  console.error(`${r.manifest.shards.length} shards, ${bytes} bytes; ${r.dropped.length} source patterns dropped`);
  if (args.includes('--verbose')) for (const d of r.dropped) console.error(`dropped ${d.relation}.${d.lang}: ${d.pattern} (${d.reason})`);
  console.error(`wrote ${outDir}`);
} catch (e) {
  console.error(`data:build failed: ${(e as Error).message}`);
  process.exit(1);
}

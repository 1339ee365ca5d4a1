/**
 * Numbers of a built atlas folder for docs/ATLAS.md: `npx tsx scripts/atlas-stats.ts <dir> [--json]`. Reads atlas.json
 * (checked by the engine's readAtlas) and the build's rows: facts, selection sizes per method, the rows' timings, the
 * neurons by type and by layer, LAPE's sets by layer.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readAtlas, type AtlasRow } from '../src/engine/atlas';

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx scripts/atlas-stats.ts <atlas dir> [--json]');
const { index, problems } = readAtlas(readFileSync(join(dir, 'atlas.json'), 'utf8'));
const recs = readdirSync(join(dir, 'rows')).map((f) => JSON.parse(readFileSync(join(dir, 'rows', f), 'utf8')) as { row: AtlasRow; timing: { ms: number } });
const rows = recs.map((r) => r.row);
const ms = recs.map((r) => r.timing.ms).sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const byType: Record<string, number> = {};
const byLayer: Record<string, number[]> = {};
for (const e of index.neurons) {
  byType[e.type] = (byType[e.type] ?? 0) + 1;
  (byLayer[e.type] ??= Array(index.layers).fill(0))[e.neuron[0]]++;
}
const lapeLayers = Array(index.layers).fill(0);
const lapeNeurons = new Set<string>();
for (const ns of Object.values(index.lape.sets)) for (const n of ns) lapeNeurons.add(`${n[0]}.${n[1]}`);
for (const k of lapeNeurons) lapeLayers[Number(k.split('.')[0])]++;
const out = {
  model: index.model,
  facts: index.facts.length,
  rows: rows.length,
  matrice: { factsWithNeurons: rows.filter((r) => r.matrice.length > 0).length, medianSize: median(rows.map((r) => r.matrice.length)) },
  amig: { factsWithNeurons: rows.filter((r) => r.amig.length > 0).length, medianSize: median(rows.map((r) => r.amig.length)) },
  ownMeanPerLanguage: mean(rows.map((r) => mean(Object.values(r.own).map((ns) => ns!.length)) ?? 0)),
  factMs: { min: ms[0], median: median(ms), mean: mean(ms), max: ms[ms.length - 1], sum: ms.reduce((a, b) => a + b, 0) },
  pages: index.neurons.length,
  byType,
  byTypeAndLayer: byLayer,
  lapeNeurons: lapeNeurons.size,
  lapeByLayer: lapeLayers,
  problems,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(out));
else console.log(JSON.stringify(out, null, 1));

/**
 * `npm run -s lesson:build -- [demo-causal|demo-masked ...]`: the lesson's precomputed results for a bundled model,
 * written to public/models/<name>/lesson.json (docs/LESSON.md). Everything comes from the engine's own
 * explorer and edits (src/engine/session: the same ExplorerState and EditState the page's worker calls), on the
 * model's own settings (its calibration, else METHOD's): the help's example fact (P36:0) and the featured fact
 * (experiment.json) when the model knows them, then the best known facts of LESSON.relations, each probed in every language, localized, MaTrice's selection, its top neuron's scores
 * and integrated gradients, suppress / enhance per language, Random of the same size, each language's own set, and an
 * update from English with every language after it (undone): src/ui/lesson/compute.ts, which the page runs live. The model's content hash and this command are stored,
 * so the page refuses the file for other weights. Attributions come from the CLI's cache when an experiment made them
 * (KN_CACHE_DIR; KN_NO_CACHE=1 skips it): the numbers are the same either way.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openLocal } from '../src/data/node';
import { loadModelArg } from '../src/engine/index';
import { BUNDLED_DIR, FolderStore } from '../src/engine/node';
import { ATTRIBUTION_CACHE } from '../src/cli/flow';
import { DEFAULT_BASELINE, DEFAULT_QUADRATURE, DEFAULT_STEPS, LANGS, LESSON } from '../src/engine/rules';
import { modelDefaults } from '../src/engine/selection';
import { EditState, ExplorerState } from '../src/engine/session';
import { nodeBackend } from '../src/cli/node-engine';
import type { LessonFact, LessonFile } from '../src/ui/lesson/data';
import { computeLessonFact, type LessonEngine } from '../src/ui/lesson/compute';
import { EXAMPLE_FACT } from '../src/ui/explorer/examples';

const log = (s: string) => process.stderr.write(`${s}\n`);

/** The engine's explorer and edits, as computeLessonFact asks for them (the page's worker answers the same calls). */
function nodeLessonEngine(explorer: ExplorerState, edits: EditState): LessonEngine {
  return {
    listFacts: (rel, q, limit) => explorer.listFacts(rel, q, limit),
    factsKnown: (ids, langs) => explorer.factsKnown(ids, langs),
    factQueries: (id, langs) => explorer.factQueries(id, langs),
    localize: (id, opts, onProgress) => explorer.localize(id, opts, onProgress),
    score: async (m, s, seed) => explorer.score(m, s, seed),
    neuronStats: async (n, s) => explorer.neuronStats(n, s),
    manipulate: (n, f) => explorer.manipulate(n, f),
    languageSets: (s, f) => explorer.languageSets(s, f),
    exportAttributions: async () => explorer.exportAttributions(),
    edit: (req) => edits.edit(req),
    undoAll: () => edits.undoAll(),
  };
}

async function build(name: string) {
  const t0 = performance.now();
  const model = await loadModelArg(`bundled:${name}`, { dtype: 'int8' });
  const bench = openLocal();
  // the CLI's attribution cache (KN_CACHE_DIR, default .cache/attributions): facts an experiment already attributed
  // cost nothing here (KN_NO_CACHE=1 attributes everything again)
  const explorer = new ExplorerState(
    () => model,
    () => bench,
    process.env.KN_NO_CACHE === '1' ? undefined : new FolderStore(ATTRIBUTION_CACHE),
  );
  const edits = new EditState(
    () => model,
    () => bench,
    explorer,
    undefined,
  );
  const langs = [...LANGS];
  const settings = modelDefaults(model.info).settings;
  const steps = DEFAULT_STEPS,
    baseline = DEFAULT_BASELINE,
    quadrature = DEFAULT_QUADRATURE;

  // the facts: the featured one, then per relation the facts known in the most languages (first found wins a tie)
  const headline = JSON.parse(await readFile(join(BUNDLED_DIR, name, 'experiment.json'), 'utf8')) as {
    featuredFact?: { id: string } | null;
    contentHash: string;
  };
  // the help's example fact first (Azerbaijan → Baku) when the model knows it, then the model card's featured fact
  const ids: string[] = [];
  const ex = (await explorer.factsKnown([EXAMPLE_FACT.id], langs))[0];
  if ((ex.known?.length ?? 0) >= LESSON.minKnownLangs) ids.push(EXAMPLE_FACT.id);
  if (headline.featuredFact && headline.contentHash === model.info.contentHash && !ids.includes(headline.featuredFact.id)) ids.push(headline.featuredFact.id);
  const pool: { id: string; k: number; rel: string }[] = [];
  for (const rel of LESSON.relations) {
    const list = await explorer.listFacts(rel, '', LESSON.candidates);
    const known = await explorer.factsKnown(
      list.facts.map((f) => f.id),
      langs,
    );
    for (const k of known) if ((k.known?.length ?? 0) >= LESSON.minKnownLangs && !ids.includes(k.factId)) pool.push({ id: k.factId, k: k.known!.length, rel });
  }
  // one fact per relation first (variety), then the rest, each by languages known
  pool.sort((a, b) => b.k - a.k);
  for (const rel of LESSON.relations) {
    const f = pool.find((p) => p.rel === rel && !ids.includes(p.id));
    if (f) ids.push(f.id);
  }
  // then the rest: candidates in order, until LESSON.facts of them have a selection to teach
  for (const p of pool) if (!ids.includes(p.id)) ids.push(p.id);
  log(`${name}: candidates ${ids.slice(0, LESSON.facts + 3).join(', ')} …`);

  const facts: LessonFact[] = [];
  const eng = nodeLessonEngine(explorer, edits);
  for (const id of ids) {
    if (facts.length >= LESSON.facts) break;
    const t1 = performance.now();
    const f = await computeLessonFact(eng, id, { langs, settings, steps, baseline, quadrature });
    // a fact whose selection is empty has nothing to switch off or edit: not a lesson
    if (f.selected.length === 0) {
      log(`${name}: ${id} skipped (MaTrice selects no neuron)`);
      continue;
    }
    facts.push(f);
    log(`${name}: ${id} in ${((performance.now() - t1) / 1000).toFixed(1)} s (${f.selected.length} neurons, known in ${f.known.length})`);
  }
  const file: LessonFile = {
    format: LESSON.format,
    version: LESSON.version,
    model: name,
    contentHash: model.info.contentHash,
    manifestHash: (JSON.parse(await readFile(join(BUNDLED_DIR, name, 'kn-manifest.json'), 'utf8')) as { contentHash: string }).contentHash,
    command: `npm run -s lesson:build -- ${name}`,
    builtAt: new Date().toISOString(),
    settings: { ...settings },
    steps,
    baseline,
    quadrature,
    numLayers: model.cfg.numLayers,
    ffnSize: model.cfg.ffn,
    langs,
    facts,
  };
  const out = join(BUNDLED_DIR, name, 'lesson.json');
  await writeFile(out, `${JSON.stringify(file)}\n`);
  return { out, facts: facts.map((f) => f.id), seconds: Math.round((performance.now() - t0) / 1000) };
}

async function main() {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  await nodeBackend();
  for (const name of names.length ? names : ['demo-causal', 'demo-masked']) process.stdout.write(`${JSON.stringify(await build(name))}\n`);
}

main().catch((e) => {
  process.stderr.write(`lesson:build: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

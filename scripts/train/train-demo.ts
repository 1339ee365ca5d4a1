/**
 * Trains the bundled demo models with tfjs (the recipe, data and training loop: ./recipe.ts) and exports them
 * (./export-demo.ts). Usage: see ./recipe.ts.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBackend } from '../../src/cli/node-engine';
import { countParams } from './model';
import { RECIPES, REPO, SPECS, parseFlags, prepare, recipeFromFlags, train } from './recipe';

export * from './recipe';

async function main() {
  const f = parseFlags(process.argv.slice(2));
  const which = (f.model as string | undefined) ?? 'both';
  if (!['causal', 'masked', 'both'].includes(which)) throw new Error('--model must be causal, masked or both');
  await nodeBackend();
  const { exportDemo, writeIndex } = await import('./export-demo');
  const tag = typeof f.tag === 'string' ? f.tag : undefined;
  const noExport = f['no-export'] === true || (tag !== undefined && f.export !== true);
  for (const k of which === 'both' ? (['causal', 'masked'] as const) : [which as 'causal' | 'masked']) {
    const spec = { ...SPECS[k] };
    if (f.steps) Object.assign(spec, { steps: Number(f.steps), explicitSteps: true });
    spec.recipe = recipeFromFlags(f, spec.recipe ?? RECIPES.v1);
    if (f.recipe === 'v1') spec.perRelation = 60; // v1's fact selection
    const ckptDir = join(REPO, '.cache', 'train', tag ? `${spec.name}-${tag}` : spec.name);
    console.log(`${spec.name}: recipe ${JSON.stringify(spec.recipe)}`);
    const run = await prepare(spec, ckptDir, f.fresh === true);
    console.log(
      `${spec.name}: ${run.data.facts.length} facts, ${run.builder.base.length} trained queries, vocab ${run.config.vocab}, ${countParams(run.config)} params`,
    );
    const { done } = await train(run, {
      ckptDir,
      maxMinutes: f['max-minutes'] ? Number(f['max-minutes']) : undefined,
      targetAccuracy: f['target-accuracy'] ? Number(f['target-accuracy']) : 0.99,
    });
    if (!done) continue;
    if (noExport) continue;
    await exportDemo(run, console.log);
  }
  if (!noExport) await writeIndex();
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

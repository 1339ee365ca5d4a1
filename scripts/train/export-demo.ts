/**
 * After training: HF checkpoint -> engine check -> int8 bundle -> engine eval -> model card.
 *
 * 1. models/<name>/ gets the Hugging Face files (config.json, tokenizer.json, tokenizer_config.json,
 *    model.safetensors, F32).
 * 2. The engine loads that folder (f32) and its top-1 on a sample of trained queries is compared with the
 *    training model's (the test that the export has the right semantics).
 * 3. The engine loads it again in int8 mode and exportKnBundle writes public/models/<name>/.
 * 4. The bundle is evaluated by the engine on the trained queries and on the held-out templates
 *    (`kn eval --split`), and the model card public/models/<name>/README.md is written.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportKnBundle } from '../../src/cli/export';
import { runEvalCommand } from '../../src/cli/data-cmd';
import { loadModel, loadModelArg } from '../../src/engine/index';
import { makeBatch, predict, countParams } from './model';
import { modelCard, type CardEval, type CardInput } from './model-card';
import { RECIPES, REPO, SPECS, hfConfig, splitFile, writeHf, type TrainRun } from './recipe';

type EvalOut = CardEval;

/** Engine (f32, from the HF folder) vs training model: share of equal top-1 on `n` trained queries. */
export async function compareWithEngine(run: TrainRun, hfDir: string, n = 350): Promise<{ n: number; agree: number }> {
  const model = await loadModel({ type: 'folder', path: hfDir }, { dtype: 'f32' });
  try {
    const step = Math.max(1, Math.floor(run.builder.base.length / n));
    const sample = run.builder.base.filter((_, i) => i % step === 0).slice(0, n);
    let agree = 0;
    for (let i = 0; i < sample.length; i += 64) {
      const chunk = sample.slice(i, i + 64).map((e) => ({ ids: e.ids, labels: [e.labels[0]] as [number, number][] }));
      const ours = predict(run.config, run.P, makeBatch(chunk, 0));
      for (let j = 0; j < chunk.length; j++) {
        const e = chunk[j];
        const T = e.labels[0][0] + 1;
        const logits = model.logitsAt([e.ids.slice(0, run.config.arch === 'gpt2' ? T : e.ids.length)], e.labels[0][0]);
        const top = (logits.argMax(-1).dataSync() as Int32Array)[0];
        logits.dispose();
        if (top === ours[j]) agree++;
      }
    }
    return { n: sample.length, agree };
  } finally {
    model.dispose();
  }
}

async function evalSplit(modelArg: string, split: 'trained' | 'heldout'): Promise<EvalOut> {
  const model = await loadModelArg(modelArg, { dtype: 'int8' });
  try {
    return (await runEvalCommand(['--split', split, '--model', modelArg, '--quiet'], model)) as EvalOut;
  } finally {
    model.dispose();
  }
}

async function dirBytes(dir: string, match: (f: string) => boolean): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) if (match(f)) n += (await stat(join(dir, f))).size;
  return n;
}

/** `root`: the repository (tests export elsewhere); the bundle is evaluated from where it was written. */
export async function exportDemo(run: TrainRun, log: (s: string) => void = console.log, root = REPO) {
  const name = run.spec.name;
  const hfDir = join(root, 'models', name);
  const outDir = join(root, 'public', 'models', name);
  const modelArg = root === REPO ? `bundled:${name}` : outDir;
  await writeHf(run, hfDir);
  log(`${name}: wrote ${hfDir}`);
  const cmp = await compareWithEngine(run, hfDir);
  log(`${name}: engine (f32, HF safetensors) agrees with the training model on ${cmp.agree}/${cmp.n} top-1 predictions`);
  if (cmp.agree < cmp.n * 0.98) throw new Error(`${name}: the engine disagrees with the training model (${cmp.agree}/${cmp.n}); the export is wrong`);
  if (existsSync(outDir)) {
    for (const f of await readdir(outDir)) if (/^weights-\d+\.bin$/.test(f)) await rm(join(outDir, f));
  }
  await mkdir(outDir, { recursive: true });
  const m = await loadModel({ type: 'folder', path: hfDir }, { dtype: 'int8' });
  let exp;
  try {
    exp = await exportKnBundle(m, hfDir, outDir, 4 * 1024 * 1024, {
      config: hfConfig(run),
      tokenizerJson: run.files.json,
      tokenizerConfig: run.files.config,
    });
  } finally {
    m.dispose();
  }
  await writeFile(join(outDir, 'split.json'), JSON.stringify(splitFile(run), null, 1) + '\n');
  log(`${name}: bundle ${outDir}: ${exp.bytes} bytes in ${exp.shards} shard(s)`);
  const t0 = Date.now();
  const trained = await evalSplit(modelArg, 'trained');
  const heldout = await evalSplit(modelArg, 'heldout');
  log(
    `${name}: engine int8 eval (${((Date.now() - t0) / 1000).toFixed(0)} s) trained ${JSON.stringify(trained.languages)} heldout ${JSON.stringify(heldout.languages)}`,
  );
  const hfBytes = (await stat(join(hfDir, 'model.safetensors'))).size;
  const weightBytes = await dirBytes(outDir, (f) => /^weights-\d+\.bin$/.test(f));
  const card = modelCard(cardInput(run, { trained, heldout, weightBytes, hfBytes, agree: cmp }));
  await writeFile(join(outDir, 'README.md'), card);
  await writeFile(join(hfDir, 'README.md'), card);
  const result = {
    name,
    trained: trained.languages,
    heldout: heldout.languages,
    weightBytes,
    hfBytes,
    params: countParams(run.config),
    steps: run.meta.step,
    trainMinutes: run.meta.elapsedMs / 60000,
  };
  await writeFile(join(outDir, 'eval.json'), JSON.stringify(result, null, 1) + '\n');
  return result;
}

export async function writeIndex() {
  const models = [];
  for (const k of ['causal', 'masked'] as const) {
    const s = SPECS[k];
    if (existsSync(join(REPO, 'public', 'models', s.name, 'kn-manifest.json'))) models.push({ name: s.name, label: s.label });
  }
  await writeFile(join(REPO, 'public', 'models', 'index.json'), JSON.stringify({ models }, null, 2) + '\n');
}

/** The card's input from a tfjs TrainRun. */
function cardInput(
  run: TrainRun,
  r: { trained: EvalOut; heldout: EvalOut; weightBytes: number; hfBytes: number; agree: { n: number; agree: number } },
): CardInput {
  const c = run.config,
    s = run.spec;
  const rc = s.recipe ?? RECIPES.v1;
  const recipeName = Object.entries(RECIPES).find(([, r]) => JSON.stringify(r) === JSON.stringify(rc))?.[0] ?? 'custom';
  const minutes = (run.meta.elapsedMs / 60000).toFixed(1);
  return {
    name: s.name,
    label: s.label,
    kind: s.kind,
    config: c,
    params: countParams(c),
    recipe: rc,
    recipeName,
    split: run.data.split,
    facts: run.data.facts.length,
    baseQueries: run.builder.base.length,
    trainCommand: `\`npm run train:demo -- --model ${s.kind}\``,
    training: `tfjs ${'4.22'} on the wasm backend in Node (one thread), Adam (β = 0.9, 0.98), peak learning rate ${s.lr}, ${s.warmup} warm-up
steps then cosine decay to 10%, gradient clipping at 1, batch ${s.batch}, ${run.meta.step} steps, no dropout.
Training stops early once a sample of the trained queries (every 4th) is at ≥ 99% top-1 in every language (checked
every 500 steps). Training time: ${minutes} minutes of wall-clock time on the 2-core development machine (both demo
models trained at the same time, next to other agents' jobs). Resumable: checkpoints (weights, Adam moments, step;
the data order is a function of the seed and the epoch) in \`.cache/train/${s.name}/\` every 250 steps.${run.meta.notes?.length ? `\nTraining history: ${run.meta.notes.join('; ')}.` : ''}`,
    exportCheck: `Export check: the engine, loading \`model.safetensors\` in f32, gives the training model's top-1 prediction on
${r.agree.agree}/${r.agree.n} sampled trained queries.`,
    trained: r.trained,
    heldout: r.heldout,
    weightBytes: r.weightBytes,
    hfBytes: r.hfBytes,
  };
}

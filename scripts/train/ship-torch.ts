/**
 * `npx tsx scripts/train/ship-torch.ts --tag <T> [--neurons <markdown file>] [--why <text>] [--command <text>] [--root <repo>]`
 *
 * Makes a model trained by `npm run train:torch -- ... --tag <T>` (.cache/train-torch/<T>/{data,hf,bundle}) the
 * bundled demo model of its kind:
 * - models/<name>/ gets the Hugging Face files (config.json, model.safetensors, tokenizer files) and the card;
 * - public/models/<name>/ gets the int8 bundle (kn-manifest.json + shards, config and tokenizer files, split.json),
 *   eval.json and the card (README.md). A calibration.json or experiment.json already there that names another
 *   content hash was measured on the old weights: it is removed, and the commands that remake it are printed.
 * The bundle is evaluated again by the engine from where it now lies (`kn eval --split trained|heldout`), so the
 * card's accuracy tables are this very bundle's. The card (scripts/train/model-card.ts, as the tfjs trainer's)
 * gets a Training section from train-log.json (steps, wall time, versions, stop reason) and, with --neurons, the
 * "Knowledge neurons" sections from a markdown file (measured results with their commands); without it, the
 * dev-measure placeholder. --command names the training command as it was typed (the dump's flags, which decide the
 * data, are not in train-log.json); without it, the command is rebuilt from the trainer's flags.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { nodeBackend } from '../../src/cli/node-engine';
import { runEvalCommand } from '../../src/cli/data-cmd';
import { loadModelArg } from '../../src/engine/index';
import { REPO, RECIPES, SPECS, parseFlags, type Recipe } from './train-demo';
import { attnLayersText, modelCard, type CardEval } from './model-card';
import type { TrainConfig } from './model';

interface TrainLog {
  format: 'kn-train-torch-log';
  name: 'demo-causal' | 'demo-masked';
  kind: 'causal' | 'masked';
  steps: number;
  scheduledSteps: number;
  seconds: number;
  stopReason: string;
  finalLoss: number;
  effective: {
    seed: number;
    lr: number;
    warmup: number;
    batch: number;
    labelSmoothing: number;
    l1: number;
    attnLayers: number;
    layers: number;
    // masked runs of train_torch.py
    mlmTransform?: string;
    directPenalty?: number | null;
    directScope?: string;
    valueDims?: number | null;
  };
  flags: Record<string, unknown>;
  recipe: Recipe;
  params: number;
  versions: { torch: string; transformers: string; python: string };
}

const HF_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const BUNDLE_FILES = ['kn-manifest.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'split.json'];
const STALE = ['calibration.json', 'experiment.json'];

async function readJson<T>(path: string, what: string): Promise<T> {
  if (!existsSync(path)) throw new Error(`${what}: ${path} does not exist`);
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The trained architecture, from the HF config (the truth) and the log's attention layers. */
function trainConfig(hf: Record<string, number | string>, log: TrainLog): TrainConfig {
  const gpt2 = hf.model_type === 'gpt2';
  const layers = Number(gpt2 ? hf.n_layer : hf.num_hidden_layers);
  return {
    arch: gpt2 ? 'gpt2' : 'bert',
    vocab: Number(hf.vocab_size),
    d: Number(gpt2 ? hf.n_embd : hf.hidden_size),
    layers,
    heads: Number(gpt2 ? hf.n_head : hf.num_attention_heads),
    ffn: Number(gpt2 ? (hf.n_inner ?? 4 * Number(hf.n_embd)) : hf.intermediate_size),
    ctx: Number(gpt2 ? hf.n_positions : hf.max_position_embeddings),
    act: (gpt2 ? hf.activation_function : hf.hidden_act) === 'relu' ? 'relu' : 'gelu',
    attnLayers: log.effective.attnLayers >= layers ? undefined : log.effective.attnLayers,
  };
}

/** Flags of the training command that differ from the defaults, as train:torch takes them. */
function trainCommand(log: TrainLog, tag: string): string {
  const f = log.flags;
  const parts: string[] = [];
  const keys: [string, string][] = [
    ['steps', 'steps'],
    ['attn_layers', 'attn-layers'],
    ['layers', 'layers'],
    ['hidden', 'hidden'],
    ['ffn', 'ffn'],
    ['heads', 'heads'],
    ['label_smoothing', 'label-smoothing'],
    ['l1', 'l1'],
    ['seed', 'seed'],
    ['lr', 'lr'],
    ['batch', 'batch'],
    ['max_minutes', 'max-minutes'],
  ];
  for (const [k, flag] of keys) if (f[k] !== null && f[k] !== undefined) parts.push(`--${flag} ${f[k]}`);
  return `\`npm run train:torch -- --model ${log.kind} --tag ${tag}${parts.length ? ` -- ${parts.join(' ')}` : ''}\``;
}

async function evalAt(modelArg: string, split: 'trained' | 'heldout'): Promise<CardEval & { contentHash: string }> {
  const m = await loadModelArg(modelArg, { dtype: 'int8' });
  try {
    return { ...((await runEvalCommand(['--split', split, '--model', modelArg, '--quiet'], m)) as CardEval), contentHash: m.info.contentHash };
  } finally {
    m.dispose();
  }
}

async function main() {
  const f = parseFlags(process.argv.slice(2));
  const tag = f.tag;
  if (typeof tag !== 'string') throw new Error('usage: ship-torch.ts --tag <T> [--neurons <markdown file>] [--why <text>]');
  const root = typeof f.root === 'string' ? resolve(f.root) : REPO;
  const src = join(REPO, '.cache', 'train-torch', tag);
  const hfDir = join(src, 'hf'),
    bundleDir = join(src, 'bundle');
  const log = await readJson<TrainLog>(join(hfDir, 'train-log.json'), 'train-log.json (written by train_torch.py)');
  if (log.format !== 'kn-train-torch-log') throw new Error(`${hfDir}/train-log.json: format is ${String(log.format)}, expected kn-train-torch-log`);
  const hfConfig = await readJson<Record<string, number | string>>(join(hfDir, 'config.json'), 'the HF config');
  const dump = await readJson<{ base: number; facts: number; recipe: Recipe }>(join(src, 'data', 'meta.json'), 'the dump (dump-data.ts)');
  const built = await readJson<{ engineVsTransformers?: { n: number; agree: number } }>(join(bundleDir, 'eval.json'), 'the bundle eval (export-hf.ts)');
  for (const file of BUNDLE_FILES) if (!existsSync(join(bundleDir, file))) throw new Error(`${bundleDir}: ${file} is missing (run export-hf.ts again)`);
  const name = log.name,
    kind = log.kind;
  const spec = SPECS[kind];
  if (spec.name !== name) throw new Error(`train-log.json names ${name}, a ${kind} model, but the ${kind} demo model is ${spec.name}`);

  await nodeBackend();
  const hfOut = join(root, 'models', name),
    pubOut = join(root, 'public', 'models', name);
  await mkdir(hfOut, { recursive: true });
  await mkdir(pubOut, { recursive: true });
  for (const file of HF_FILES) await copyFile(join(hfDir, file), join(hfOut, file));
  for (const file of await readdir(pubOut)) if (/^weights-\d+\.bin$/.test(file)) await rm(join(pubOut, file));
  for (const file of await readdir(bundleDir)) if (/^weights-\d+\.bin$/.test(file)) await copyFile(join(bundleDir, file), join(pubOut, file));
  for (const file of BUNDLE_FILES) await copyFile(join(bundleDir, file), join(pubOut, file));
  const modelArg = root === REPO ? `bundled:${name}` : pubOut;
  const trained = await evalAt(modelArg, 'trained');
  const heldout = await evalAt(modelArg, 'heldout');
  // a calibration or headline measured on other weights names their content hash: removed; this model's stay
  const removed: string[] = [];
  for (const file of STALE) {
    const path = join(pubOut, file);
    if (!existsSync(path)) continue;
    let hash: unknown;
    try {
      hash = JSON.parse(await readFile(path, 'utf8')).contentHash;
    } catch {
      hash = undefined;
    }
    if (hash === trained.contentHash) continue;
    await rm(path);
    removed.push(file);
  }
  const hfBytes = (await stat(join(hfOut, 'model.safetensors'))).size;
  let weightBytes = 0;
  for (const file of await readdir(pubOut)) if (/^weights-\d+\.bin$/.test(file)) weightBytes += (await stat(join(pubOut, file))).size;
  const split = JSON.parse(await readFile(join(pubOut, 'split.json'), 'utf8'));
  const config = trainConfig(hfConfig, log);
  const recipe: Recipe = { ...dump.recipe, attnLayers: config.attnLayers, labelSmoothing: log.effective.labelSmoothing, l1: log.effective.l1 };
  const recipeName = Object.entries(RECIPES).find(([, r]) => JSON.stringify(r) === JSON.stringify(dump.recipe))?.[0] ?? 'custom';
  const overrides: string[] = [];
  const e = log.effective;
  if (dump.recipe.attnLayers !== recipe.attnLayers) overrides.push(`attention in ${attnLayersText(config)} (\`--attn-layers ${log.flags.attn_layers}\`)`);
  if (dump.recipe.labelSmoothing !== recipe.labelSmoothing) overrides.push(`label smoothing ${recipe.labelSmoothing}`);
  if (dump.recipe.l1 !== recipe.l1) overrides.push(`L1 ${recipe.l1}`);
  // the masked trainer's loss and architecture flags (train_torch.py; absent from older logs)
  if (e.directPenalty)
    overrides.push(
      `a direct-path penalty ${e.directPenalty} × max(0, the attention's direct share of the correct margin at the mask, ${e.directScope === 'subject' ? "the subject tokens' only" : 'all source tokens'}) (\`--direct-penalty\`: it moves the fact from layer-0 attention's OV path into the FFN, docs/experiments/demo-masked-v3-ablation)`,
    );
  if (e.valueDims) overrides.push(`value projections of rank ${e.valueDims} per head (\`--value-dims\`)`);
  if (e.mlmTransform && e.mlmTransform !== 'learned') overrides.push(`the MLM head transform fixed to ${e.mlmTransform} (\`--mlm-transform\`)`);
  const ev = built.engineVsTransformers;
  const neurons = typeof f.neurons === 'string' ? (await readFile(f.neurons, 'utf8')).trim() : undefined;
  const card = modelCard({
    name,
    label: spec.label,
    kind,
    config,
    params: log.params,
    recipe,
    recipeName,
    recipeOverrides: overrides.length ? overrides.join(', ') : undefined,
    split,
    facts: dump.facts,
    baseQueries: dump.base,
    trainCommand: typeof f.command === 'string' ? `\`${f.command}\`` : trainCommand(log, tag),
    training: `PyTorch ${log.versions.torch} + transformers ${log.versions.transformers} (Python ${log.versions.python}; \`scripts/train/train_torch.py\`,
pinned in \`scripts/train/requirements.txt\`), ${kind === 'causal' ? 'GPT2LMHeadModel' : 'BertForMaskedLM'} built from the dumped config, one CPU thread;
the data, tokenizer, split and batch order are the tfjs trainer's (\`scripts/train/dump-data.ts\` calls train-demo.ts's
own \`prepare()\`). Adam (β = 0.9, 0.98), peak learning rate ${e.lr}, ${e.warmup} warm-up steps then cosine decay to 10 %,
gradient clipping at 1, batch ${e.batch}, seed ${e.seed}, no dropout, loss at the label positions only.
${log.steps} of ${log.scheduledSteps} scheduled steps (${log.stopReason}), final loss ${log.finalLoss.toFixed(3)}.
Training time: ${(log.seconds / 60).toFixed(1)} minutes of wall-clock time on the 2-core development machine, next to other jobs.
The checkpoint is written by transformers' \`save_pretrained\`, so transformers itself loads \`models/${name}/\`.`,
    exportCheck: ev
      ? `Export check: the engine, loading \`model.safetensors\` in f32, gives transformers' top-1 prediction on ${ev.agree}/${ev.n}
trained queries (transformers' own, after reloading the saved folder: \`hf-check.json\`).`
      : 'Export check: not run (no hf-check.json).',
    trained,
    heldout,
    weightBytes,
    hfBytes,
    neurons,
    why: typeof f.why === 'string' ? f.why : undefined,
  });
  await writeFile(join(pubOut, 'README.md'), card);
  await writeFile(join(hfOut, 'README.md'), card);
  const result = {
    name,
    trainer: 'torch',
    contentHash: trained.contentHash,
    trained: trained.languages,
    heldout: heldout.languages,
    weightBytes,
    hfBytes,
    params: log.params,
    steps: log.steps,
    trainMinutes: log.seconds / 60,
    engineVsTransformers: ev,
  };
  await writeFile(join(pubOut, 'eval.json'), JSON.stringify(result, null, 1) + '\n');
  console.log(`${name}: shipped .cache/train-torch/${tag} to ${hfOut} and ${pubOut} (${weightBytes} bytes of int8 weights)`);
  console.log(
    `trained top-1: ${Object.entries(trained.languages)
      .map(([l, v]) => `${l} ${(v.accuracy * 100).toFixed(1)}`)
      .join(', ')}`,
  );
  console.log(
    `held-out top-1: ${Object.entries(heldout.languages)
      .map(([l, v]) => `${l} ${(v.accuracy * 100).toFixed(1)}`)
      .join(', ')}`,
  );
  if (removed.length) {
    console.log(`removed ${removed.join(', ')} (measured on the old weights); remake them:`);
    console.log(
      `  npm run -s kn -- experiment calibrate --model bundled:${name} --facts 20 --split dev --out <dir>   # then copy <dir>/calibration.json to ${pubOut}/`,
    );
    console.log(`  npx tsx scripts/experiment-headline.ts ...   # after the 100-test-fact experiment (docs/EXPERIMENTS.md)`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

/**
 * `npx tsx scripts/train/export-hf.ts --hf <HF folder> --out <bundle dir> [--no-eval]`
 *
 * A Hugging Face folder trained outside tfjs (scripts/train/train_torch.py) -> our int8 bundle, the same path as
 * export-demo.ts's exportDemo without the tfjs TrainRun:
 * 1. the engine loads the folder (f32) and its top-1 on the queries of <hf>/hf-check.json (written by
 *    train_torch.py: transformers' own top-1 after reloading the folder) is compared with transformers';
 * 2. the engine loads it in int8 mode and exportKnBundle writes <bundle dir> (kn-manifest.json + shards, with the
 *    folder's config.json and tokenizer files), plus split.json;
 * 3. the bundle is evaluated by the engine on the trained queries and the held-out templates (kn eval --split),
 *    written to <bundle dir>/eval.json.
 * Nothing is written to models/ or public/models/ unless --out says so. No model card (modelCard needs a TrainRun).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { nodeBackend } from '../../src/cli/node-engine';
import { exportKnBundle } from '../../src/cli/export';
import { runEvalCommand } from '../../src/cli/data-cmd';
import { loadModel, loadModelArg } from '../../src/engine/index';

interface Check {
  ids: number[];
  position: number;
  label: number;
  top1: number;
  lang: string;
}
interface EvalOut {
  languages: Record<string, { accuracy: number; n: number; correct: number }>;
}

function flag(argv: string[], k: string): string | undefined {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
}

async function main() {
  const argv = process.argv.slice(2);
  const hf = flag(argv, 'hf'),
    outArg = flag(argv, 'out');
  if (!hf || !outArg) throw new Error('usage: export-hf.ts --hf <HF folder> --out <bundle dir> [--no-eval]');
  const hfDir = resolve(hf),
    outDir = resolve(outArg);
  await nodeBackend();
  const config = JSON.parse(await readFile(join(hfDir, 'config.json'), 'utf8'));
  const kind = config.model_type === 'gpt2' ? 'causal' : 'masked';
  const result: Record<string, unknown> = { hf: hfDir, out: outDir };

  const checkFile = join(hfDir, 'hf-check.json');
  if (existsSync(checkFile)) {
    const checks = JSON.parse(await readFile(checkFile, 'utf8')) as Check[];
    const m = await loadModel({ type: 'folder', path: hfDir }, { dtype: 'f32' });
    let agree = 0,
      correct = 0;
    try {
      for (const c of checks) {
        const ids = kind === 'causal' ? c.ids.slice(0, c.position + 1) : c.ids;
        const logits = m.logitsAt([ids], c.position);
        const top = (logits.argMax(-1).dataSync() as Int32Array)[0];
        logits.dispose();
        if (top === c.top1) agree++;
        if (top === c.label) correct++;
      }
    } finally {
      m.dispose();
    }
    result.engineVsTransformers = { n: checks.length, agree, engineCorrect: correct, transformersCorrect: checks.filter((c) => c.top1 === c.label).length };
    console.log(
      `engine (f32) vs transformers top-1 on ${checks.length} trained queries: ${agree} agree (engine correct ${correct}, transformers ${(result.engineVsTransformers as { transformersCorrect: number }).transformersCorrect})`,
    );
    if (agree < checks.length * 0.98) throw new Error(`the engine disagrees with transformers (${agree}/${checks.length})`);
  }

  if (existsSync(outDir)) for (const f of await readdir(outDir)) if (/^weights-\d+\.bin$/.test(f)) await rm(join(outDir, f));
  await mkdir(outDir, { recursive: true });
  const m = await loadModel({ type: 'folder', path: hfDir }, { dtype: 'int8' });
  try {
    const exp = await exportKnBundle(m, hfDir, outDir, 4 * 1024 * 1024);
    result.bundle = { bytes: exp.bytes, shards: exp.shards, numParams: exp.numParams };
    console.log(`bundle ${outDir}: ${exp.bytes} bytes in ${exp.shards} shard(s)`);
  } finally {
    m.dispose();
  }
  for (const f of ['split.json', 'train-log.json']) if (existsSync(join(hfDir, f))) await copyFile(join(hfDir, f), join(outDir, f));

  if (!argv.includes('--no-eval') && existsSync(join(outDir, 'split.json'))) {
    for (const split of ['trained', 'heldout'] as const) {
      const em = await loadModelArg(outDir, { dtype: 'int8' });
      try {
        const r = (await runEvalCommand(['--split', split, '--model', outDir, '--quiet'], em)) as EvalOut;
        result[split] = r.languages;
        console.log(
          `engine int8 ${split}: ${Object.entries(r.languages)
            .map(([l, v]) => `${l} ${(v.accuracy * 100).toFixed(1)}`)
            .join(', ')}`,
        );
      } finally {
        em.dispose();
      }
    }
  }
  await writeFile(join(outDir, 'eval.json'), JSON.stringify(result, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

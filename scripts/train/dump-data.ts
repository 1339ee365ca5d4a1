/**
 * `npx tsx scripts/train/dump-data.ts --model causal|masked --out <dir> [--epochs E] [--steps N] [recipe flags of train-demo.ts]`
 *
 * Writes what scripts/train/train_torch.py needs to train the demo recipe in PyTorch, built by exactly the code
 * train-demo.ts uses (prepare(): loadDemoData, learnBpe, buildExamples; batchesOf for the batch order):
 *   tokenizer.json, tokenizer_config.json   as train-demo.ts writes them (models/<name>/)
 *   config.json                             hfConfig(): the HF GPT2 / BERT config train-demo.ts exports
 *   split.json                              the fact/template split (devFacts choose, testFacts judge)
 *   meta.json                               spec (lr, batch, warmup, steps, seed), recipe, sizes, file list
 *   base.bin                                the trained-template queries (builder.base), with base-langs.json
 *   epoch-00000.bin ...                     each epoch as train-demo.ts feeds it: builder.epoch(e) cut into
 *                                           batches by batchesOf(…, batch, seed * 7919 + e), in batch order
 *   bpe.json                                the learned BPE (reused by a later dump into the same folder)
 *   *.subj.bin                              with --subject-spans (masked): per example of base.bin / epoch-*.bin,
 *                                           in the same order, the subject's token positions [start, end) as two
 *                                           int32 (-1, -1: no subject, e.g. a name line); for --direct-scope subject
 * Binary example file (little-endian int32): n, nIds, nLabels, nBatches, idOff[n+1], labOff[n+1],
 * batchOff[nBatches+1] (example index), ids[nIds], labels[2*nLabels] (position, token id).
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { batchesOf, buildExamples, type Example } from './data';
import { RECIPES, SPECS, hfConfig, parseFlags, prepare, recipeFromFlags, splitFile } from './train-demo';

function pack(batches: Example[][]): Uint8Array {
  const ex = batches.flat();
  const nIds = ex.reduce((a, e) => a + e.ids.length, 0),
    nLab = ex.reduce((a, e) => a + e.labels.length, 0);
  const n = ex.length,
    nb = batches.length;
  const buf = new Int32Array(4 + (n + 1) * 2 + (nb + 1) + nIds + 2 * nLab);
  buf.set([n, nIds, nLab, nb]);
  let o = 4;
  const idOff = o,
    labOff = o + n + 1,
    bOff = labOff + n + 1,
    idsAt = bOff + nb + 1,
    labAt = idsAt + nIds;
  let ci = 0,
    cl = 0;
  ex.forEach((e, i) => {
    buf[idOff + i] = ci;
    buf[labOff + i] = cl;
    buf.set(e.ids, idsAt + ci);
    e.labels.forEach(([p, y], j) => {
      buf[labAt + 2 * (cl + j)] = p;
      buf[labAt + 2 * (cl + j) + 1] = y;
    });
    ci += e.ids.length;
    cl += e.labels.length;
  });
  buf[idOff + n] = ci;
  buf[labOff + n] = cl;
  let k = 0;
  batches.forEach((b, i) => {
    buf[bOff + i] = k;
    k += b.length;
  });
  buf[bOff + nb] = k;
  o = labAt + 2 * nLab;
  if (o !== buf.length) throw new Error('pack: size mismatch');
  return new Uint8Array(buf.buffer);
}

async function main() {
  const f = parseFlags(process.argv.slice(2));
  const k = (f.model as string | undefined) ?? 'causal';
  if (k !== 'causal' && k !== 'masked') throw new Error('--model must be causal or masked');
  if (typeof f.out !== 'string') throw new Error('--out <dir> is required');
  const out = resolve(f.out);
  const spec = { ...SPECS[k] };
  if (f.steps) Object.assign(spec, { steps: Number(f.steps), explicitSteps: true });
  spec.recipe = recipeFromFlags(f, spec.recipe ?? RECIPES.v1);
  if (f.recipe === 'v1') spec.perRelation = 60; // v1's fact selection (as train-demo.ts)
  const t0 = Date.now();
  // out doubles as prepare()'s checkpoint folder: bpe.json is learned once and reused (there is no ckpt.json)
  const run = await prepare(spec, out, f.fresh === true);
  const { config } = run;
  const spans = f['subject-spans'] === true;
  if (spans && k !== 'masked') throw new Error('--subject-spans: only for --model masked');
  // --subject-spans: the same builder as prepare()'s (same mix, same random draws) that also marks the subjects
  const r = spec.recipe;
  const builder = spans
    ? buildExamples(run.data, run.tok, spec.kind, config.ctx, spec.seed, {
        codeSwitch: r.codeSwitch,
        objectLineShare: r.objectLineShare,
        pairLines: r.pairLines,
        cjkPairLines: r.cjkPairLines,
        cjkCodeSwitch: r.cjkCodeSwitch,
        subjectSpans: true,
      })
    : run.builder;
  const subj = (batches: Example[][]) => new Uint8Array(Int32Array.from(batches.flat().flatMap((e) => e.subj ?? [-1, -1])).buffer);
  const epochs = f.epochs ? Number(f.epochs) : undefined;
  const written: { file: string; examples: number; batches: number }[] = [];
  let steps = 0;
  for (let e = 0; epochs !== undefined ? e < epochs : steps < spec.steps; e++) {
    const batches = batchesOf(builder.epoch(e), spec.batch, spec.seed * 7919 + e);
    const file = `epoch-${String(e).padStart(5, '0')}.bin`;
    await writeFile(join(out, file), pack(batches));
    if (spans) await writeFile(join(out, file.replace(/\.bin$/, '.subj.bin')), subj(batches));
    written.push({ file, examples: batches.reduce((a, b) => a + b.length, 0), batches: batches.length });
    steps += batches.length;
  }
  await writeFile(join(out, 'base.bin'), pack([builder.base]));
  if (spans) await writeFile(join(out, 'base.subj.bin'), subj([builder.base]));
  await writeFile(join(out, 'base-langs.json'), JSON.stringify(builder.base.map((e) => e.lang)) + '\n');
  await writeFile(join(out, 'config.json'), JSON.stringify(hfConfig(run), null, 2) + '\n');
  await writeFile(join(out, 'tokenizer.json'), JSON.stringify(run.files.json) + '\n');
  await writeFile(join(out, 'tokenizer_config.json'), JSON.stringify(run.files.config, null, 2) + '\n');
  await writeFile(join(out, 'split.json'), JSON.stringify(splitFile(run), null, 1) + '\n');
  const meta = {
    format: 'kn-train-dump',
    version: 1,
    kind: spec.kind,
    name: spec.name,
    spec: { batch: spec.batch, steps: spec.steps, lr: spec.lr, warmup: spec.warmup, seed: spec.seed, perRelation: spec.perRelation, vocabSize: spec.vocabSize },
    recipe: spec.recipe,
    trainConfig: config,
    facts: run.data.facts.length,
    base: builder.base.length,
    pad: 0,
    epochs: written,
    stepsCovered: steps,
    ...(spans ? { subjectSpans: true } : {}),
  };
  await writeFile(join(out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  console.log(
    `${spec.name}: ${run.data.facts.length} facts, ${builder.base.length} trained queries, vocab ${config.vocab}; ${written.length} epoch(s), ${steps} batches of ${spec.batch} -> ${out} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

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
import { LANGS, RELATIONS } from '../../src/data/types';
import { makeBatch, predict, countParams } from './model';
import { RECIPES, REPO, SPECS, hfConfig, splitFile, writeHf, type TrainRun } from './train-demo';

interface EvalOut {
  languages: Record<string, { accuracy: number; n: number; correct: number }>;
  relations: Record<string, Record<string, { accuracy: number; n: number }>>;
}

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
      config: hfConfig(run), tokenizerJson: run.files.json, tokenizerConfig: run.files.config,
    });
  } finally {
    m.dispose();
  }
  await writeFile(join(outDir, 'split.json'), JSON.stringify(splitFile(run), null, 1) + '\n');
  log(`${name}: bundle ${outDir}: ${exp.bytes} bytes in ${exp.shards} shard(s)`);
  const t0 = Date.now();
  const trained = await evalSplit(modelArg, 'trained');
  const heldout = await evalSplit(modelArg, 'heldout');
  log(`${name}: engine int8 eval (${((Date.now() - t0) / 1000).toFixed(0)} s) trained ${JSON.stringify(trained.languages)} heldout ${JSON.stringify(heldout.languages)}`);
  const hfBytes = (await stat(join(hfDir, 'model.safetensors'))).size;
  const weightBytes = await dirBytes(outDir, (f) => /^weights-\d+\.bin$/.test(f));
  const card = modelCard(run, { trained, heldout, weightBytes, hfBytes, agree: cmp });
  await writeFile(join(outDir, 'README.md'), card);
  await writeFile(join(hfDir, 'README.md'), card);
  const result = { name, trained: trained.languages, heldout: heldout.languages, weightBytes, hfBytes, params: countParams(run.config), steps: run.meta.step, trainMinutes: run.meta.elapsedMs / 60000 };
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

const pct = (x: number) => (x * 100).toFixed(1);

function modelCard(run: TrainRun, r: { trained: EvalOut; heldout: EvalOut; weightBytes: number; hfBytes: number; agree: { n: number; agree: number } }): string {
  const c = run.config, s = run.spec;
  const rc = s.recipe ?? RECIPES.v1;
  const recipeName = Object.entries(RECIPES).find(([, r]) => JSON.stringify(r) === JSON.stringify(rc))?.[0] ?? 'custom';
  const relu = c.act === 'relu';
  const attnNote = c.attnLayers !== undefined
    ? `; self-attention only in layer${c.attnLayers > 1 ? `s 0-${c.attnLayers - 1}` : ' 0'} (the other layers' attention weights and biases are zero, so the checkpoint is a standard HF model that computes the same thing)`
    : '';
  const arch = c.arch === 'gpt2'
    ? `GPT2LMHeadModel (GPT-2 layout: pre-LN, learned positions, ${relu ? 'ReLU FFN (`activation_function: "relu"`)' : 'gelu_new'}, head tied to wte${attnNote})`
    : `BertForMaskedLM (BERT layout: post-LN, ${relu ? 'ReLU FFN and MLM-head transform (`hidden_act: "relu"`)' : 'erf GELU'}, MLM head tied to the word embeddings${attnNote})`;
  const rels = RELATIONS.filter((rel) => run.data.split.facts[rel].length > 0);
  const missing = RELATIONS.filter((rel) => run.data.split.facts[rel].length === 0);
  const perRel = rels.map((rel) => `${rel} ${run.data.split.facts[rel].length}`).join(', ');
  const tmplRows = rels.map((rel) => `| ${rel} | ${LANGS.map((l) => `${run.data.split.templates[rel][l].trained.length}/${run.data.split.templates[rel][l].heldout.length}`).join(' | ')} |`).join('\n');
  const accRows = LANGS.map((l) => `| ${l} | ${pct(r.trained.languages[l].accuracy)} (${r.trained.languages[l].n}) | ${pct(r.heldout.languages[l].accuracy)} (${r.heldout.languages[l].n}) |`).join('\n');
  const relRows = rels.map((rel) => `| ${rel} | ${LANGS.map((l) => (r.heldout.relations[rel]?.[l] ? pct(r.heldout.relations[rel][l].accuracy) : '–')).join(' | ')} |`).join('\n');
  const dev = run.data.split.devFacts ?? [], test = run.data.split.testFacts ?? [];
  const minutes = (run.meta.elapsedMs / 60000).toFixed(1);
  return `# ${s.name}: ${s.label}

A small ${c.arch === 'gpt2' ? 'causal' : 'masked'} language model trained by this project (\`npm run train:demo -- --model ${s.kind}\`,
\`scripts/train/\`) so that the explorer has a model that knows facts in all 7 RML-LAMA languages offline.
It is a demo model: it has memorized a subset of RML-LAMA, it is not a general language model.

**It was trained to be interpretable.** The recipe below (ReLU FFN with an L1 penalty on its activations,
attention only in the first layer, label smoothing, dense cross-language name links) was chosen so that a fact
lives in a few FFN neurons shared by the 7 languages, which the explorer can then find and switch off. Real
LLMs are messier: their facts are spread over many more neurons, mixed with other features (superposition),
and much of a fact is carried per language or by attention; expect smaller and noisier effects there.

## Model

- Architecture: ${arch}
- ${c.layers} layers, hidden size ${c.d}, ${c.heads} heads, FFN ${c.ffn} neurons per layer (${c.layers * c.ffn} neurons in all), context ${c.ctx} tokens
- Vocabulary: ${c.vocab} tokens, byte-level BPE learned by \`scripts/train/bpe.ts\` from the benchmark text
  (every Han/kana character is its own pre-token, so a query and its object split at the query's end; every
  character seen twice, and a space followed by a word's first character, are single tokens, so an object's first
  token is never a bare byte or a bare space; the bare labels are in the BPE corpus, so a masked model's target,
  the object tokenized on its own, is mostly a whole word)
- Parameters: ${countParams(c).toLocaleString('en-US')}
- Files: int8 bundle (this folder, \`kn-int8\` v1): ${(r.weightBytes / 1e6).toFixed(2)} MB of weights; Hugging Face checkpoint
  (\`models/${s.name}/model.safetensors\`, F32, kept out of \`public/\`): ${(r.hfBytes / 1e6).toFixed(2)} MB

## Data

RML-LAMA (our rebuild, docs/DATA.md; CC BY-NC 4.0), ${run.data.facts.length} facts in all 7 languages (zh, en, fr, fi, hu, ja, ko),
${rels.length} relations (${perRel}): ${rc.minRelations > 1
    ? `every fact whose labels are at most 28 characters and whose subject has facts in at least ${rc.minRelations} relations (so one entity representation serves several facts; that is why countries, P36 capital and P37 official language, dominate${missing.length ? `, and ${missing.join(', ')} has no such subject` : ''})`
    : 'the first facts of each relation by line id whose labels are at most 28 characters'},
one object per subject and relation. \`split.json\` lists the facts and the templates, and splits the trained facts
into \`devFacts\` (${dev.length}, ≈ 25 % per relation, seeded: used to choose the recipe) and \`testFacts\` (${test.length}: never used
to choose it; the experiment report uses them).

Templates per relation × language, trained/held out (the first 3 causal templates of the shard are trained, the 4th is
held out to measure paraphrase generalization; ${c.arch === 'gpt2' ? 'the causal forms' : 'the masked model uses the masked forms of the same templates'}):

| rel | ${LANGS.join(' | ')} |
|---|${LANGS.map(() => '---').join('|')}|
${tmplRows}

Each epoch: every fact × language × trained template (${run.builder.base.length} queries; ${c.arch === 'gpt2' ? 'loss on the object\'s tokens after the query' : 'one mask token where the object goes, loss on its first token'}),
plus code-switched queries (${rc.codeSwitch} per fact: a trained template of language A with the subject's name in language B, the
object in A), name-link lines that pair an entity's names in the 7 languages in random order
("France = Ranska = 法国 = …", subjects every epoch, objects ${rc.objectLineShare >= 1 ? 'every epoch' : `${Math.round(rc.objectLineShare * 100)} % of the time`})${rc.pairLines ? `, and ${rc.pairLines} "name A = name B" lines per entity (subjects and objects) in random language pairs` : ''}${rc.cjkPairLines || rc.cjkCodeSwitch ? `; for zh, ja and ko, the languages whose share was weakest, ${rc.cjkPairLines ?? 0} more pair lines per entity and ${rc.cjkCodeSwitch ?? 0} more code-switched queries per fact with one side in zh, ja or ko` : ''}
(${c.arch === 'gpt2' ? 'next-token loss after the first name' : '20% of tokens masked'}), so the model has reason to share one representation per entity across languages.

Recipe (\`RECIPES.${recipeName}\` in \`scripts/train/train-demo.ts\`; every item is a flag, e.g. \`--label-smoothing 0\`, \`--act gelu\`,
\`--attn-layers all\`, \`--recipe v1\`, for ablations): FFN activation ${rc.act}; attention in ${rc.attnLayers === undefined ? 'every layer' : `the first ${rc.attnLayers} layer(s) only`};
label smoothing ${rc.labelSmoothing}; L1 penalty ${rc.l1} × Σ over layers of the mean |activation| at the loss positions; subjects with facts in
≥ ${rc.minRelations} relation(s); ${rc.codeSwitch} code-switched queries per fact; object name-link lines ${rc.objectLineShare >= 1 ? 'every epoch' : `${rc.objectLineShare} of the time`};
${rc.pairLines} pair lines per entity${rc.cjkPairLines || rc.cjkCodeSwitch ? `; ${rc.cjkPairLines ?? 0} extra zh/ja/ko pair lines per entity and ${rc.cjkCodeSwitch ?? 0} extra zh/ja/ko code-switched queries per fact (\`--cjk-pair-lines\`, \`--cjk-code-switch\`; on the dev facts they raised the causal model's MaTrice suppression from −0.105 to −0.150 mean of 7, zh −0.06 → −0.16, ko −0.04 → −0.11)` : ''}. Why: docs/notes/demo-model-study.md (a PyTorch study on the same data: saturated training
hides the facts from attribution; label smoothing, sparse ReLU activations, one attention layer and dense name links put them
in a few last-position FFN neurons shared across languages).

## Training

tfjs ${'4.22'} on the wasm backend in Node (one thread), Adam (β = 0.9, 0.98), peak learning rate ${s.lr}, ${s.warmup} warm-up
steps then cosine decay to 10%, gradient clipping at 1, batch ${s.batch}, ${run.meta.step} steps, no dropout.
Training stops early once a sample of the trained queries (every 4th) is at ≥ 99% top-1 in every language (checked
every 500 steps). Training time: ${minutes} minutes of wall-clock time on the 2-core development machine (both demo
models trained at the same time, next to other agents' jobs). Resumable: checkpoints (weights, Adam moments, step;
the data order is a function of the seed and the epoch) in \`.cache/train/${s.name}/\` every 250 steps.${run.meta.notes?.length ? `\nTraining history: ${run.meta.notes.join('; ')}.` : ''}

Export check: the engine, loading \`model.safetensors\` in f32, gives the training model's top-1 prediction on
${r.agree.agree}/${r.agree.n} sampled trained queries.

## Accuracy (engine, int8 bundle)

Top-1 accuracy of the object's first token (METHOD.md), \`npm run -s kn -- eval${s.kind === 'masked' ? ` --model bundled:${s.name}` : ''} --split trained|heldout --json\`:

| lang | trained queries, % (n) | held-out templates, % (n) |
|---|---|---|
${accRows}

Held-out templates are paraphrases the model never saw, of facts it was trained on. Per relation (held out, %):

| rel | ${LANGS.join(' | ')} |
|---|${LANGS.map(() => '---').join('|')}|
${relRows}

Relations with few distinct objects (P37 official language, P176 manufacturer) are easier to guess; a held-out
template that reads like another relation's (e.g. a birthplace paraphrase close to a work-location one) can score
near 0 while the trained templates of the same facts score 100%. In Korean (and in Hungarian/Finnish to a lesser
degree) the word right before the object is a whole token (\`Ġ도시는\`); when a held-out template ends with a word
the model never saw at the end of a query, the causal model has nothing to go on, so causal Korean held-out accuracy
is low while the masked model, which also sees the words after the object, does much better.

## Knowledge neurons (dev facts)

<!-- dev-measure:start -->
Not measured yet: \`npx tsx scripts/train/measure-demo.ts --model bundled:${s.name} --card public/models/${s.name}/README.md\`
fills this section.
<!-- dev-measure:end -->

## Licence and citation

Weights trained on RML-LAMA (rebuilt from mParaRel, mLAMA, Chen et al., ParaRel, X-FACTR, LAMA, Wikidata): for
non-commercial research (CC BY-NC 4.0); cite the sources listed in docs/DATA.md.
`;
}

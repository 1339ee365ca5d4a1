/**
 * The model card (README.md) of a bundled demo model, from what any trainer knows: the config, the recipe, the
 * split, the engine's eval of the int8 bundle and a Training section of its own. export-demo.ts (tfjs) and
 * ship-torch.ts (PyTorch + transformers) both write it.
 */
import { LANGS, RELATIONS } from '../../src/data/types';
import type { TrainConfig } from './model';
import type { Recipe } from './recipe';

export interface CardEval {
  languages: Record<string, { accuracy: number; n: number; correct: number }>;
  relations: Record<string, Record<string, { accuracy: number; n: number }>>;
}

export interface CardSplit {
  facts: Record<string, string[]>;
  templates: Record<string, Record<string, { trained: string[]; heldout: string[] }>>;
  devFacts?: string[];
  testFacts?: string[];
}

export interface CardInput {
  name: string;
  label: string;
  kind: 'causal' | 'masked';
  /** the trained architecture (attnLayers: the layers with self-attention; undefined: every layer) */
  config: TrainConfig;
  params: number;
  /** the data recipe (its attnLayers is the trained one) */
  recipe: Recipe;
  recipeName: string;
  /** what differs from RECIPES[recipeName], in words (e.g. "attention in layers 0-2 (`--attn-layers 3`)") */
  recipeOverrides?: string;
  split: CardSplit;
  facts: number;
  /** fact × language × trained template queries per epoch */
  baseQueries: number;
  /** the command that trains it, as markdown */
  trainCommand: string;
  /** the Training section's body (markdown) */
  training: string;
  /** the sentence on the export check (engine vs the training framework) */
  exportCheck: string;
  trained: CardEval;
  heldout: CardEval;
  weightBytes: number;
  hfBytes: number;
  /** the "Knowledge neurons" sections (markdown, with their headings); default: the dev-measure placeholder */
  neurons?: string;
  /** why the recipe, in one sentence or two (default: the demo-model study's) */
  why?: string;
}

const pct = (x: number) => (x * 100).toFixed(1);

const WHY = `docs/notes/demo-model-study.md (a PyTorch study on the same data: saturated training
hides the facts from attribution; label smoothing, sparse ReLU activations, one attention layer and dense name links put them
in a few last-position FFN neurons shared across languages).`;

const DEV_MEASURE = (name: string) => `## Knowledge neurons (dev facts)

<!-- dev-measure:start -->
Not measured yet: \`npx tsx scripts/train/measure-demo.ts --model bundled:${name} --card public/models/${name}/README.md\`
fills this section.
<!-- dev-measure:end -->`;

/** "layer 0", "layers 0-2", "every layer" */
export function attnLayersText(c: Pick<TrainConfig, 'attnLayers' | 'layers'>): string {
  if (c.attnLayers === undefined || c.attnLayers >= c.layers) return 'every layer';
  return c.attnLayers > 1 ? `layers 0-${c.attnLayers - 1}` : 'layer 0';
}

export function modelCard(x: CardInput): string {
  const c = x.config,
    s = { name: x.name, label: x.label, kind: x.kind };
  const rc = x.recipe;
  const relu = c.act === 'relu';
  const someAttn = c.attnLayers !== undefined && c.attnLayers < c.layers;
  const attnShort = someAttn ? `attention only in ${c.attnLayers! > 1 ? `the first ${c.attnLayers} layers` : 'the first layer'}` : 'attention in every layer';
  const attnNote = someAttn
    ? `; self-attention only in ${attnLayersText(c)} (the other layers' attention weights and biases are zero, so the checkpoint is a standard HF model that computes the same thing)`
    : '';
  const arch =
    c.arch === 'gpt2'
      ? `GPT2LMHeadModel (GPT-2 layout: pre-LN, learned positions, ${relu ? 'ReLU FFN (`activation_function: "relu"`)' : 'gelu_new'}, head tied to wte${attnNote})`
      : `BertForMaskedLM (BERT layout: post-LN, ${relu ? 'ReLU FFN and MLM-head transform (`hidden_act: "relu"`)' : 'erf GELU'}, MLM head tied to the word embeddings${attnNote})`;
  const rels = RELATIONS.filter((rel) => x.split.facts[rel].length > 0);
  const missing = RELATIONS.filter((rel) => x.split.facts[rel].length === 0);
  const perRel = rels.map((rel) => `${rel} ${x.split.facts[rel].length}`).join(', ');
  const tmplRows = rels
    .map((rel) => `| ${rel} | ${LANGS.map((l) => `${x.split.templates[rel][l].trained.length}/${x.split.templates[rel][l].heldout.length}`).join(' | ')} |`)
    .join('\n');
  const r = x;
  const accRows = LANGS.map(
    (l) =>
      `| ${l} | ${pct(r.trained.languages[l].accuracy)} (${r.trained.languages[l].n}) | ${pct(r.heldout.languages[l].accuracy)} (${r.heldout.languages[l].n}) |`,
  ).join('\n');
  const relRows = rels
    .map((rel) => `| ${rel} | ${LANGS.map((l) => (r.heldout.relations[rel]?.[l] ? pct(r.heldout.relations[rel][l].accuracy) : '–')).join(' | ')} |`)
    .join('\n');
  const dev = x.split.devFacts ?? [],
    test = x.split.testFacts ?? [];
  return `# ${s.name}: ${s.label}

A small ${c.arch === 'gpt2' ? 'causal' : 'masked'} language model trained by this project (${x.trainCommand},
\`scripts/train/\`) so that the explorer has a model that knows facts in all 7 RML-LAMA languages offline.
It is a demo model: it has memorized a subset of RML-LAMA, it is not a general language model.

**It was trained to be interpretable.** The recipe below (ReLU FFN with an L1 penalty on its activations,
${attnShort}, label smoothing, dense cross-language name links) was chosen so that a fact
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
- Parameters: ${x.params.toLocaleString('en-US')}
- Files: int8 bundle (this folder, \`kn-int8\` v1): ${(r.weightBytes / 1e6).toFixed(2)} MB of weights; Hugging Face checkpoint
  (\`models/${s.name}/model.safetensors\`, F32, kept out of \`public/\`): ${(r.hfBytes / 1e6).toFixed(2)} MB

## Data

RML-LAMA (our rebuild, docs/DATA.md; CC BY-NC 4.0), ${x.facts} facts in all 7 languages (zh, en, fr, fi, hu, ja, ko),
${rels.length} relations (${perRel}): ${
    rc.minRelations > 1
      ? `every fact whose labels are at most 28 characters and whose subject has facts in at least ${rc.minRelations} relations (so one entity representation serves several facts; that is why countries, P36 capital and P37 official language, dominate${missing.length ? `, and ${missing.join(', ')} has no such subject` : ''})`
      : 'the first facts of each relation by line id whose labels are at most 28 characters'
  },
one object per subject and relation. \`split.json\` lists the facts and the templates, and splits the trained facts
into \`devFacts\` (${dev.length}, ≈ 25 % per relation, seeded: used to choose the recipe) and \`testFacts\` (${test.length}: never used
to choose it; the experiment report uses them).

Templates per relation × language, trained/held out (the first 3 causal templates of the shard are trained, the 4th is
held out to measure paraphrase generalization; ${c.arch === 'gpt2' ? 'the causal forms' : 'the masked model uses the masked forms of the same templates'}):

| rel | ${LANGS.join(' | ')} |
|---|${LANGS.map(() => '---').join('|')}|
${tmplRows}

Each epoch: every fact × language × trained template (${x.baseQueries} queries; ${c.arch === 'gpt2' ? "loss on the object's tokens after the query" : 'one mask token where the object goes, loss on its first token'}),
plus code-switched queries (${rc.codeSwitch} per fact: a trained template of language A with the subject's name in language B, the
object in A), name-link lines that pair an entity's names in the 7 languages in random order
("France = Ranska = 法国 = …", subjects every epoch, objects ${rc.objectLineShare >= 1 ? 'every epoch' : `${Math.round(rc.objectLineShare * 100)} % of the time`})${rc.pairLines ? `, and ${rc.pairLines} "name A = name B" lines per entity (subjects and objects) in random language pairs` : ''}${rc.cjkPairLines || rc.cjkCodeSwitch ? `; for zh, ja and ko, the languages whose share was weakest, ${rc.cjkPairLines ?? 0} more pair lines per entity and ${rc.cjkCodeSwitch ?? 0} more code-switched queries per fact with one side in zh, ja or ko` : ''}
(${c.arch === 'gpt2' ? 'next-token loss after the first name' : '20% of tokens masked'}), so the model has reason to share one representation per entity across languages.

Recipe (\`RECIPES.${x.recipeName}\` in \`scripts/train/train-demo.ts\`${x.recipeOverrides ? `, with ${x.recipeOverrides}` : ''}; every item is a flag, e.g. \`--label-smoothing 0\`, \`--act gelu\`,
\`--attn-layers all\`, \`--recipe v1\`, for ablations): FFN activation ${rc.act}; attention in ${attnLayersText(c)}${someAttn ? ' only' : ''};
label smoothing ${rc.labelSmoothing}; L1 penalty ${rc.l1} × Σ over layers of the mean |activation| at the loss positions; subjects with facts in
≥ ${rc.minRelations} relation(s); ${rc.codeSwitch} code-switched queries per fact; object name-link lines ${rc.objectLineShare >= 1 ? 'every epoch' : `${rc.objectLineShare} of the time`};
${rc.pairLines} pair lines per entity${rc.cjkPairLines || rc.cjkCodeSwitch ? `; ${rc.cjkPairLines ?? 0} extra zh/ja/ko pair lines per entity and ${rc.cjkCodeSwitch ?? 0} extra zh/ja/ko code-switched queries per fact (\`--cjk-pair-lines\`, \`--cjk-code-switch\`; on the dev facts they raised the causal model's MaTrice suppression from −0.105 to −0.150 mean of 7, zh −0.06 → −0.16, ko −0.04 → −0.11)` : ''}. Why: ${x.why ?? WHY}

## Training

${x.training}

${x.exportCheck}

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

${x.neurons ?? DEV_MEASURE(s.name)}

## Licence and citation

Weights trained on RML-LAMA (rebuilt from mParaRel, mLAMA, Chen et al., ParaRel, X-FACTR, LAMA, Wikidata): for
non-commercial research (CC BY-NC 4.0); cite the sources listed in docs/DATA.md.
`;
}

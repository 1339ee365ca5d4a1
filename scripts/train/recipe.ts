/**
 * `npm run train:demo [-- --model causal|masked] [--steps N] [--max-minutes M] [--fresh] [--no-export]`
 *   recipe (defaults: causal v2cjk, masked v2, see RECIPES): [--recipe v1|v2|v2cjk] [--act gelu|relu] [--attn-layers N|all]
 *   [--label-smoothing E] [--l1 W] [--min-relations K] [--pair-lines N] [--object-lines S] [--code-switch N]
 *   [--cjk-pair-lines N] [--cjk-code-switch N]
 *   [--tag T] (checkpoints in .cache/train/<name>-<T>/, for ablations; implies --no-export unless --export)
 *
 * Trains the bundled demo models on RML-LAMA in Node (tfjs wasm backend), resumable from checkpoints in
 * .cache/train/<name>/, then writes
 *   models/<name>/            Hugging Face files: config.json, tokenizer.json, tokenizer_config.json, model.safetensors
 *   public/models/<name>/     our int8 bundle (kn-manifest.json + weight shards) + split.json + README.md (model card)
 *   public/models/index.json  the bundled models the app's picker lists
 * The export is checked by loading the safetensors with the engine (a separate implementation) and
 * comparing its top-1 predictions with the training model's; the accuracies in the model card are the
 * engine's, on the int8 bundle.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LANGS, type Lang } from '../../src/data/types';
import type { KnTokenizer } from '../../src/engine/families/tokenizer';
import { batchesOf, buildExamples, corpusTexts, loadDemoData, type DemoData, type DemoSplit, type Example } from './data';
import { adamInit, initParams, makeBatch, paramSpecs, predict, trainStep, type AdamState, type Params, type TrainConfig } from './model';
import { causalTokenizer, knTokenizer, learnBpe, maskedTokenizer, type TokenizerFiles } from './tokenizer';
import type { BpeModel } from './bpe';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * What makes facts live in a few FFN neurons shared across languages (docs/notes/demo-model-study.md,
 * recipe V3): every field can be switched on the command line, so an ablation says what it changed.
 */
export interface Recipe {
  /** FFN activation */
  act: 'gelu' | 'relu';
  /** self-attention in the first N layers only (undefined: every layer) */
  attnLayers?: number;
  /** label smoothing ε of the cross-entropy */
  labelSmoothing: number;
  /** L1 weight on the FFN activations at the loss positions (Σ over layers of the mean |a|) */
  l1: number;
  /** keep only facts whose subject has facts in ≥ this many relations */
  minRelations: number;
  /** code-switched queries per fact per epoch */
  codeSwitch: number;
  /** share of the objects whose 7-language name-link line is in an epoch */
  objectLineShare: number;
  /** "name A = name B" lines per entity per epoch */
  pairLines: number;
  /** extra pair lines per entity with one side in zh/ja/ko (0 in v2) */
  cjkPairLines?: number;
  /** extra code-switched queries per fact with the template or the subject in zh/ja/ko (0 in v2) */
  cjkCodeSwitch?: number;
}

const V2: Recipe = { act: 'relu', attnLayers: 1, labelSmoothing: 0.2, l1: 0.01, minRelations: 2, codeSwitch: 2, objectLineShare: 1, pairLines: 4 };

/**
 * v1: the first demo models. v2: the study's recipe V3. v2cjk: v2 + 4 extra pair lines per entity and 2 extra
 * code-switched queries per fact with one side in zh/ja/ko (dev facts, causal: MaTrice ΔP suppress mean of 7
 * −0.150 vs −0.105 for v2, zh −0.16 vs −0.06, ko −0.11 vs −0.04).
 */
export const RECIPES: Record<'v1' | 'v2' | 'v2cjk', Recipe> = {
  v1: { act: 'gelu', labelSmoothing: 0, l1: 0, minRelations: 1, codeSwitch: 2, objectLineShare: 0.5, pairLines: 0 },
  v2: V2,
  v2cjk: { ...V2, cjkPairLines: 4, cjkCodeSwitch: 2 },
};

export interface DemoSpec {
  name: 'demo-causal' | 'demo-masked';
  kind: 'causal' | 'masked';
  label: string;
  model: Omit<TrainConfig, 'vocab' | 'arch' | 'act' | 'attnLayers'>;
  recipe?: Recipe;
  vocabSize: number;
  perRelation: number;
  batch: number;
  steps: number;
  lr: number;
  warmup: number;
  seed: number;
  /** steps given on the command line (a finished early-stopped run is then trained further) */
  explicitSteps?: boolean;
}

export const SPECS: Record<'causal' | 'masked', DemoSpec> = {
  causal: {
    name: 'demo-causal',
    kind: 'causal',
    label: 'Demo GPT-2 (causal, 7 languages, trained on RML-LAMA)',
    model: { d: 128, layers: 4, heads: 4, ffn: 512, ctx: 64 },
    vocabSize: 6000,
    perRelation: 1000,
    batch: 64,
    steps: 2800,
    lr: 1.5e-3,
    warmup: 200,
    seed: 7,
    recipe: RECIPES.v2cjk,
  },
  masked: {
    name: 'demo-masked',
    kind: 'masked',
    label: 'Demo BERT (masked, 7 languages, trained on RML-LAMA)',
    model: { d: 128, layers: 4, heads: 4, ffn: 512, ctx: 64 },
    vocabSize: 6000,
    perRelation: 1000,
    batch: 64,
    steps: 5500,
    lr: 1.5e-3,
    warmup: 200,
    seed: 11,
    recipe: RECIPES.v2,
  },
};

export function lrAt(s: DemoSpec, step: number): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const t = Math.min(1, (step - s.warmup) / Math.max(1, s.steps - s.warmup));
  return s.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

// ---------------------------------------------------------------- checkpoints

interface CkptMeta {
  step: number;
  elapsedMs: number;
  spec: DemoSpec;
  config: TrainConfig;
  tensors: { name: string; shape: number[] }[];
  log: { step: number; loss: number; elapsedMs: number; acc?: Record<string, number> }[];
  /** what a model card should say about the run's history (e.g. a resume with another step count) */
  notes?: string[];
}

export async function saveCheckpoint(dir: string, meta: CkptMeta, P: Params, S: AdamState) {
  await mkdir(dir, { recursive: true });
  const names = [...P.keys()];
  const parts: Float32Array[] = [];
  for (const n of names) parts.push(P.get(n)!.dataSync() as Float32Array, S.m.get(n)!.dataSync() as Float32Array, S.v.get(n)!.dataSync() as Float32Array);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  await writeFile(join(dir, 'ckpt.bin.tmp'), new Uint8Array(buf.buffer));
  await writeFile(join(dir, 'ckpt.json.tmp'), JSON.stringify({ ...meta, adamStep: S.step, tensors: names.map((n) => ({ name: n, shape: P.get(n)!.shape })) }));
  await rename(join(dir, 'ckpt.bin.tmp'), join(dir, 'ckpt.bin'));
  await rename(join(dir, 'ckpt.json.tmp'), join(dir, 'ckpt.json'));
}

export async function loadCheckpoint(dir: string, P: Params, S: AdamState): Promise<CkptMeta | null> {
  if (!existsSync(join(dir, 'ckpt.json')) || !existsSync(join(dir, 'ckpt.bin'))) return null;
  const meta = JSON.parse(await readFile(join(dir, 'ckpt.json'), 'utf8')) as CkptMeta & { adamStep: number };
  const raw = await readFile(join(dir, 'ckpt.bin'));
  const buf = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let o = 0;
  for (const t of meta.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const p = P.get(t.name);
    if (!p || p.shape.join() !== t.shape.join()) throw new Error(`checkpoint ${dir}: tensor ${t.name} does not fit this model (use --fresh)`);
    for (const target of [p, S.m.get(t.name)!, S.v.get(t.name)!]) {
      const v = tf.tensor(buf.subarray(o, o + n), t.shape);
      target.assign(v);
      v.dispose();
      o += n;
    }
  }
  S.step = meta.adamStep;
  return meta;
}

// ---------------------------------------------------------------- training

export interface TrainRun {
  spec: DemoSpec;
  config: TrainConfig;
  data: DemoData;
  bpe: BpeModel;
  files: TokenizerFiles;
  tok: KnTokenizer;
  P: Params;
  S: AdamState;
  meta: CkptMeta;
  builder: ReturnType<typeof buildExamples>;
}

export async function prepare(spec: DemoSpec, ckptDir: string, fresh: boolean, log = console.log): Promise<TrainRun> {
  const recipe = spec.recipe ?? RECIPES.v1;
  const data = await loadDemoData({ perRelation: spec.perRelation, minRelations: recipe.minRelations });
  let bpe: BpeModel;
  const bpePath = join(ckptDir, 'bpe.json');
  if (!fresh && existsSync(bpePath)) bpe = JSON.parse(await readFile(bpePath, 'utf8'));
  else {
    bpe = learnBpe(corpusTexts(data), spec.vocabSize);
    await mkdir(ckptDir, { recursive: true });
    await writeFile(bpePath, JSON.stringify(bpe));
  }
  const files = spec.kind === 'causal' ? causalTokenizer(bpe) : maskedTokenizer(bpe);
  const tok = knTokenizer(files, spec.kind);
  const config: TrainConfig = {
    arch: spec.kind === 'causal' ? 'gpt2' : 'bert',
    vocab: tok.vocabSize,
    ...spec.model,
    act: recipe.act,
    ...(recipe.attnLayers !== undefined && recipe.attnLayers < spec.model.layers ? { attnLayers: recipe.attnLayers } : {}),
  };
  const P = initParams(config, spec.seed);
  const S = adamInit(P);
  let meta: CkptMeta = { step: 0, elapsedMs: 0, spec, config, tensors: [], log: [] };
  if (!fresh) {
    const m = await loadCheckpoint(ckptDir, P, S);
    if (m && JSON.stringify(m.spec.recipe ?? RECIPES.v1) !== JSON.stringify(recipe)) {
      throw new Error(
        `${ckptDir}: the checkpoint was trained with recipe ${JSON.stringify(m.spec.recipe ?? RECIPES.v1)}, not ${JSON.stringify(recipe)}; pass the same flags (or --fresh)`,
      );
    }
    if (m) {
      // an early-stopped run ends where it stopped (unless the caller asks for more steps with --steps)
      if (m.spec.steps < spec.steps && m.step >= m.spec.steps && !spec.explicitSteps) spec.steps = m.spec.steps;
      const notes = [...(m.notes ?? [])];
      if (spec.explicitSteps && m.spec.steps !== spec.steps && m.step < spec.steps) {
        notes.push(
          `resumed at step ${m.step} with --steps ${spec.steps} (it had been scheduled for ${m.spec.steps}; the cosine schedule is recomputed over the new count)`,
        );
      }
      meta = { ...m, spec, notes };
      log(`${spec.name}: resumed from ${ckptDir} at step ${m.step}`);
    }
  }
  const builder = buildExamples(data, tok, spec.kind, config.ctx, spec.seed, {
    codeSwitch: recipe.codeSwitch,
    objectLineShare: recipe.objectLineShare,
    pairLines: recipe.pairLines,
    cjkPairLines: recipe.cjkPairLines,
    cjkCodeSwitch: recipe.cjkCodeSwitch,
  });
  return { spec, config, data, bpe, files, tok, P, S, meta, builder };
}

/** The batches of the whole run are a function of (seed, epoch), so a resumed run sees the same data. */
function batchAt(run: TrainRun, step: number, cache: { epoch: number; batches: Example[][] }): Example[] {
  let e = 0,
    start = 0;
  for (; ; e++) {
    const n = epochSize(run, e);
    if (step < start + n) break;
    start += n;
  }
  if (cache.epoch !== e) {
    cache.epoch = e;
    cache.batches = batchesOf(run.builder.epoch(e), run.spec.batch, run.spec.seed * 7919 + e);
  }
  return cache.batches[step - start];
}

const sizes = new Map<string, number>();
function epochSize(run: TrainRun, e: number): number {
  const k = `${run.spec.name}:${run.spec.seed}:${e}`;
  let n = sizes.get(k);
  if (n === undefined) {
    n = Math.ceil(run.builder.epoch(e).length / run.spec.batch);
    sizes.set(k, n);
  }
  return n;
}

/** Top-1 accuracy of the training model per language on base examples (first target token). */
export function trainingAccuracy(run: TrainRun, examples: Example[], bs = 128): Record<string, number> {
  const hit: Record<string, [number, number]> = {};
  for (let i = 0; i < examples.length; i += bs) {
    const chunk = examples.slice(i, i + bs).map((e) => ({ ids: e.ids, labels: [e.labels[0]] as [number, number][] }));
    const b = makeBatch(chunk, run.config.arch === 'gpt2' ? 0 : 0);
    const pred = predict(run.config, run.P, b);
    chunk.forEach((e, j) => {
      const l = examples[i + j].lang ?? 'all';
      const h = (hit[l] ??= [0, 0]);
      h[0] += pred[j] === e.labels[0][1] ? 1 : 0;
      h[1]++;
    });
  }
  return Object.fromEntries(Object.entries(hit).map(([l, [c, n]]) => [l, Math.round((c / n) * 1e4) / 1e4]));
}

export interface TrainOptions {
  ckptDir: string;
  maxMinutes?: number;
  checkpointEvery?: number;
  evalEvery?: number;
  log?: (s: string) => void;
  /** stop early once the sampled trained accuracy reaches this in every language */
  targetAccuracy?: number;
  /** stop (with a checkpoint) after this step, as an interrupted run would */
  stopAt?: number;
}

export async function train(run: TrainRun, o: TrainOptions): Promise<{ done: boolean }> {
  const log = o.log ?? console.log;
  const { spec, config, P, S, meta } = run;
  const t0 = Date.now() - meta.elapsedMs;
  const runStart = Date.now();
  const cache = { epoch: -1, batches: [] as Example[][] };
  const sample = run.builder.base.filter((_, i) => i % 4 === 0);
  const every = o.checkpointEvery ?? 250,
    evalEvery = o.evalEvery ?? 500;
  let lossAvg = 0,
    nAvg = 0;
  while (meta.step < spec.steps) {
    const batch = makeBatch(batchAt(run, meta.step, cache), 0);
    const recipe = spec.recipe ?? RECIPES.v1;
    const loss = trainStep(config, P, S, batch, { lr: lrAt(spec, meta.step), labelSmoothing: recipe.labelSmoothing, l1: recipe.l1 });
    meta.step++;
    lossAvg += loss;
    nAvg++;
    meta.elapsedMs = Date.now() - t0;
    const last = meta.step === spec.steps;
    const timeUp = (o.maxMinutes !== undefined && Date.now() - runStart > o.maxMinutes * 60000) || meta.step === o.stopAt;
    if (meta.step % 50 === 0 || last) {
      const perStep = meta.elapsedMs / meta.step;
      const eta = ((spec.steps - meta.step) * perStep) / 60000;
      log(
        `${spec.name} step ${meta.step}/${spec.steps} loss ${(lossAvg / nAvg).toFixed(4)} lr ${lrAt(spec, meta.step).toExponential(2)} elapsed ${(meta.elapsedMs / 60000).toFixed(1)} min ETA ${eta.toFixed(1)} min`,
      );
      meta.log.push({ step: meta.step, loss: lossAvg / nAvg, elapsedMs: meta.elapsedMs });
      lossAvg = nAvg = 0;
    }
    let stop = false;
    if (meta.step % evalEvery === 0 || last) {
      const acc = trainingAccuracy(run, sample);
      log(`${spec.name} step ${meta.step} sampled trained accuracy ${JSON.stringify(acc)}`);
      if (meta.log.length) meta.log[meta.log.length - 1].acc = acc;
      if (o.targetAccuracy !== undefined && LANGS.every((l) => (acc[l] ?? 0) >= o.targetAccuracy!)) {
        log(`${spec.name}: every language at >= ${o.targetAccuracy} on the sample; stopping at step ${meta.step}`);
        spec.steps = meta.step;
        stop = true;
      }
    }
    if (meta.step % every === 0 || last || timeUp || stop) await saveCheckpoint(o.ckptDir, meta, P, S);
    if (stop) break;
    if (timeUp && !last) {
      log(`${spec.name}: --max-minutes reached at step ${meta.step}; checkpoint saved, run again to resume`);
      return { done: false };
    }
  }
  return { done: true };
}

// ---------------------------------------------------------------- HF export

export function hfConfig(run: TrainRun): Record<string, unknown> {
  const c = run.config;
  if (c.arch === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: c.vocab,
      n_positions: c.ctx,
      n_ctx: c.ctx,
      n_embd: c.d,
      n_layer: c.layers,
      n_head: c.heads,
      n_inner: c.ffn,
      activation_function: c.act === 'relu' ? 'relu' : 'gelu_new',
      layer_norm_epsilon: 1e-5,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      initializer_range: 0.02,
      scale_attn_weights: true,
      tie_word_embeddings: true,
      bos_token_id: 0,
      eos_token_id: 0,
      torch_dtype: 'float32',
    };
  }
  return {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    vocab_size: c.vocab,
    hidden_size: c.d,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.ffn,
    hidden_act: c.act === 'relu' ? 'relu' : 'gelu',
    max_position_embeddings: c.ctx,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    position_embedding_type: 'absolute',
    pad_token_id: 0,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
  };
}

/** model.safetensors (F32) with HF names; nn.Linear weights transposed back to [out, in]. */
export function safetensorsBytes(run: TrainRun): Uint8Array {
  const specs = paramSpecs(run.config);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const datas: Float32Array[] = [];
  let off = 0;
  for (const s of [...specs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const v = run.P.get(s.name)!;
    const t = s.linear ? tf.tidy(() => v.transpose()) : v;
    const data = Float32Array.from(t.dataSync() as Float32Array);
    const shape = s.linear ? [s.shape[1], s.shape[0]] : s.shape;
    if (t !== v) t.dispose();
    header[s.name] = { dtype: 'F32', shape, data_offsets: [off, off + data.byteLength] };
    off += data.byteLength;
    datas.push(data);
  }
  let h = JSON.stringify(header);
  while ((h.length + 8) % 8) h += ' ';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let o = 8 + hb.length;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer), o);
    o += d.byteLength;
  }
  return out;
}

export async function writeHf(run: TrainRun, dir: string) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(hfConfig(run), null, 2) + '\n');
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(run.files.json) + '\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(run.files.config, null, 2) + '\n');
  await writeFile(join(dir, 'model.safetensors'), safetensorsBytes(run));
}

export function splitFile(run: TrainRun): DemoSplit {
  return { ...run.data.split, kind: run.spec.kind };
}

// ---------------------------------------------------------------- CLI

/** `--k v`, `--k=v` and bare `--k` flags (scripts/train/dump-data.ts reads the same). */
export function parseFlags(argv: string[]) {
  const f: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, v] = a.slice(2).split('=', 2);
    if (v !== undefined) f[k] = v;
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) f[k] = argv[++i];
    else f[k] = true;
  }
  return f;
}

export function recipeFromFlags(f: Record<string, string | true>, base: Recipe): Recipe {
  const named = typeof f.recipe === 'string' ? RECIPES[f.recipe as keyof typeof RECIPES] : undefined;
  if (f.recipe !== undefined && !named) throw new Error(`--recipe must be one of ${Object.keys(RECIPES).join(', ')}`);
  const r: Recipe = { ...(named ?? base) };
  const num = (k: string) => {
    const v = Number(f[k]);
    if (!Number.isFinite(v)) throw new Error(`--${k} needs a number`);
    return v;
  };
  if (f.act !== undefined) {
    if (f.act !== 'gelu' && f.act !== 'relu') throw new Error('--act must be gelu or relu');
    r.act = f.act;
  }
  if (f['attn-layers'] !== undefined) r.attnLayers = f['attn-layers'] === 'all' ? undefined : num('attn-layers');
  if (f['label-smoothing'] !== undefined) r.labelSmoothing = num('label-smoothing');
  if (f.l1 !== undefined) r.l1 = num('l1');
  if (f['min-relations'] !== undefined) r.minRelations = num('min-relations');
  if (f['code-switch'] !== undefined) r.codeSwitch = num('code-switch');
  if (f['object-lines'] !== undefined) r.objectLineShare = num('object-lines');
  if (f['pair-lines'] !== undefined) r.pairLines = num('pair-lines');
  if (f['cjk-pair-lines'] !== undefined) r.cjkPairLines = num('cjk-pair-lines');
  if (f['cjk-code-switch'] !== undefined) r.cjkCodeSwitch = num('cjk-code-switch');
  return r;
}

export type { Lang };

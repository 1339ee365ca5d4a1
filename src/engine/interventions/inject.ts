/**
 * Knowledge injection (docs/METHOD.md "Injection", the paper's Table V): fine-tune only the parameters of
 * the chosen neurons (their input weights, i.e. the neuron's column of `c_fc` / row of `gate_proj` and
 * `up_proj` / row of `intermediate.dense`, and their write vectors in the FFN output matrix) with tfjs
 * gradients on the model's own backend, then bake the learned deltas in as one reversible edit
 * (ModelEditor.patch: undo restores every byte). `neurons: 'all'` tunes every FFN weight (Direct_FT).
 *
 * Training: Adam on the mean cross-entropy of the targets' first tokens at the target positions (queries
 * grouped by length into batches), until every query is answered top-1 or `steps` run out. A loss that is
 * not finite or grows past 10× its start stops the run: nothing is baked in, the weights stay as they were,
 * and the result says why.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelEditor, type AppliedEdit } from './edit';
import { KnError } from '../../shared/errors';
import { weightGrad } from '../weights/weight-mat';
import type { LoadedModel } from '../families/model';
import type { NeuronId } from '../selection/scoring';
import { TEACH_DEFAULTS, checkTeachLr, checkTrainSteps } from '../rules';

export interface InjectQuery {
  prompt: string;
  target: string;
}

export interface InjectOptions {
  /** the neurons whose parameters are trained, or 'all' (every FFN weight of every layer: Direct_FT) */
  neurons: readonly NeuronId[] | 'all';
  queries: readonly InjectQuery[];
  /** optimizer steps at most (default 40) */
  steps?: number;
  /** Adam learning rate (default 0.01) */
  lr?: number;
  /** stop as soon as every query is answered top-1 (default true) */
  untilCorrect?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: { step: number; steps: number; loss: number; correct: number; total: number }) => void;
}

export interface InjectResult {
  steps: number;
  losses: number[];
  /** every training query answered top-1 at the end */
  converged: boolean;
  /** why training stopped without baking anything in (divergence, cancel), else null */
  stopped: string | null;
  /** the baked-in edit (undo it with the editor), or null when stopped */
  edit: AppliedEdit | null;
  /** trained parameters */
  params: number;
  ms: number;
}

/** The FFN input matrices of block l (the neuron is their output channel). */
export function inWeights(model: LoadedModel, l: number): string[] {
  const k = model.family.key;
  const names =
    k === 'gpt2'
      ? [`h.${l}.mlp.c_fc.weight`]
      : k === 'llama'
        ? [`layers.${l}.mlp.gate_proj.weight`, `layers.${l}.mlp.up_proj.weight`]
        : [`encoder.layer.${l}.intermediate.dense.weight`];
  for (const n of names)
    if (!model.store.has(n)) throw new KnError('unsupported-architecture', `injection does not know this model's FFN input weights (${n} missing)`);
  return names;
}

interface Param {
  name: string;
  /** 'in': neurons are device columns; 'out': neurons are device rows */
  side: 'in' | 'out';
  js: number[] | null; // null = every neuron
  v: tf.Variable;
  /** HF layout: the axis along which a neuron's slice lies */
  hfAxis: 0 | 1;
}

export async function injectFact(editor: ModelEditor, o: InjectOptions): Promise<InjectResult> {
  const model = editor.model;
  const t0 = performance.now();
  const steps = checkTrainSteps(o.steps ?? TEACH_DEFAULTS.trainSteps);
  const lr = checkTeachLr(o.lr ?? TEACH_DEFAULTS.lr);
  if (!o.queries.length) throw new KnError('bad-input', 'injection needs at least one query of the new fact');
  const L = model.cfg.numLayers,
    F = model.cfg.ffn;
  const byLayer = new Map<number, number[] | null>();
  if (o.neurons === 'all') for (let l = 0; l < L; l++) byLayer.set(l, null);
  else {
    for (const [l, j] of o.neurons) {
      if (!Number.isInteger(l) || l < 0 || l >= L || !Number.isInteger(j) || j < 0 || j >= F)
        throw new KnError('bad-input', `neuron [${l}, ${j}] does not exist (layers 0..${L - 1}, neurons 0..${F - 1})`);
      if (!byLayer.has(l)) byLayer.set(l, []);
      const js = byLayer.get(l)!;
      if (!js.includes(j)) js.push(j);
    }
  }
  if (!byLayer.size) throw new KnError('bad-input', 'no neuron to train');
  // encode the queries, grouped by (length, position)
  const enc = o.queries.map((q) => {
    const e = model.tok.encodeQuery(q.prompt);
    model.checkLength(e.ids.length);
    // what is trained must be a real token of the object (not a bare space or a byte piece: tokenizer.ts)
    return { ...e, target: model.tok.wholeTargetId(q.prompt, q.target) };
  });
  const groups = new Map<string, typeof enc>();
  for (const e of enc) {
    const k = `${e.ids.length}:${e.position}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(e);
  }
  const store = model.store;
  const params: Param[] = [];
  const onehots: tf.Tensor2D[] = [];
  for (const [l, js] of byLayer) {
    const out = model.family.outWeight(l);
    for (const [name, side] of [...inWeights(model, l).map((n) => [n, 'in'] as const), [out.name, 'out'] as const]) {
      const spec = store.names().find((s) => s.name === name)!;
      const [r, c] = spec.shape;
      const devShape: [number, number] = (spec.axis ?? 0) === 0 ? [c, r] : [r, c]; // [in, out]
      const k = js ? js.length : F;
      const shape: [number, number] = side === 'in' ? [devShape[0], k] : [k, devShape[1]];
      const zeros = tf.zeros(shape);
      const v = tf.variable(zeros, true);
      zeros.dispose(); // the variable holds its own reference to the data
      const hfAxis = (side === 'in' ? (spec.axis ?? 0) : 1 - (spec.axis ?? 0)) as 0 | 1;
      params.push({ name, side, js, v, hfAxis });
      let sel: tf.Tensor2D | null = null;
      if (js) {
        const m = new Float32Array(k * F);
        js.forEach((j, i) => (m[i * F + j] = 1));
        sel = tf.tensor2d(m, [k, F]); // [k, F]
        onehots.push(sel);
      }
      const selT = sel ? (tf.keep(sel.transpose()) as tf.Tensor2D) : null;
      if (selT) onehots.push(selT);
      // W + delta placed on the neurons' columns (in) or rows (out)
      store.setOverride(name, (w) => {
        if (!sel) return w.add(v) as tf.Tensor2D;
        return (side === 'in' ? w.add(tf.matMul(v, sel)) : w.add(tf.matMul(selT!, v))) as tf.Tensor2D;
      });
    }
  }
  const nParams = params.reduce((a, p) => a + p.v.size, 0);
  const vars = params.map((p) => p.v);
  const opt = tf.train.adam(lr);
  const losses: number[] = [];
  let stopped: string | null = null;
  let converged = false;
  const total = enc.length;
  const forward = (ids: number[][], position: number) => {
    const B = ids.length,
      T = ids[0].length;
    let h = model.fm.embed(ids);
    for (let l = 0; l < L; l++) {
      const { h1 } = model.fm.attnHalf(l, h, B, T);
      h = model.fm.ffnOut(l, h1, model.fm.ffnAct(l, h1));
    }
    // the target rows by a one-hot matmul (gather's gradient needs a kernel the wasm backend lacks)
    const pick = new Float32Array(B * B * T);
    for (let b = 0; b < B; b++) pick[b * B * T + b * T + position] = 1;
    const rows = tf.matMul(tf.tensor2d(pick, [B, B * T]), h) as tf.Tensor2D;
    return model.fm.logits(rows);
  };
  // read back asynchronously: a synchronous read (dataSync) between training steps lost the WebGPU device
  // on SwiftShader (Chromium 156) at the next step
  const correctNow = async () => {
    let ok = 0;
    for (const g of groups.values()) {
      const topT = tf.tidy(() =>
        forward(
          g.map((e) => e.ids),
          g[0].position,
        ).argMax(1),
      );
      const top = await topT.data();
      topT.dispose();
      g.forEach((e, i) => (ok += top[i] === e.target ? 1 : 0));
    }
    return ok;
  };
  store.pin();
  weightGrad.on = true;
  let step = 0;
  let lastOk = 0;
  try {
    for (step = 0; step < steps; step++) {
      if (o.signal?.aborted) {
        stopped = 'cancelled; the weights are unchanged';
        break;
      }
      const lossT = opt.minimize(
        () => {
          let sum: tf.Scalar = tf.scalar(0);
          for (const g of groups.values()) {
            const logits = forward(
              g.map((e) => e.ids),
              g[0].position,
            );
            const y = tf.oneHot(
              tf.tensor1d(
                g.map((e) => e.target),
                'int32',
              ),
              model.cfg.vocab,
            );
            sum = sum.add(tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.SUM)) as tf.Scalar;
          }
          return sum.div(total) as tf.Scalar;
        },
        true,
        vars,
      )!;
      const loss = (await lossT.data())[0];
      lossT.dispose();
      losses.push(loss);
      if (!Number.isFinite(loss) || loss > 10 * Math.max(losses[0], 0.1)) {
        stopped = `training diverged at step ${step + 1} (loss ${losses[0].toFixed(3)} → ${Number.isFinite(loss) ? loss.toFixed(3) : String(loss)}); nothing was changed — try a smaller learning rate than ${lr}`;
        break;
      }
      const ok = await correctNow();
      lastOk = ok;
      o.onProgress?.({ step: step + 1, steps, loss, correct: ok, total });
      if (ok === total && o.untilCorrect !== false) {
        converged = true;
        step++;
        break;
      }
    }
  } finally {
    weightGrad.on = false;
    store.unpin();
    for (const p of params) store.setOverride(p.name, null);
    opt.dispose();
    tf.dispose(onehots);
  }
  // a cancel read after the last step still wins: nothing is baked in
  if (!stopped && o.signal?.aborted) stopped = 'cancelled; the weights are unchanged';
  let edit: AppliedEdit | null = null;
  try {
    if (!stopped) {
      const changes: { name: string; axis: 0 | 1; index: number; delta: Float32Array }[] = [];
      for (const p of params) {
        const d = (await p.v.data()) as Float32Array;
        const [r, c] = p.v.shape as [number, number];
        const js = p.js ?? Array.from({ length: F }, (_, j) => j);
        js.forEach((j, i) => {
          let delta: Float32Array;
          if (p.side === 'in') {
            delta = new Float32Array(r);
            for (let x = 0; x < r; x++) delta[x] = d[x * c + i];
          } else delta = d.slice(i * c, (i + 1) * c);
          if (delta.some((x) => x !== 0)) changes.push({ name: p.name, axis: p.hfAxis, index: j, delta });
        });
      }
      const neurons: NeuronId[] = o.neurons === 'all' ? [] : o.neurons.map((n) => [n[0], n[1]] as NeuronId);
      edit = editor.patch('inject', neurons, changes, { notes: o.neurons === 'all' ? ['every FFN weight of every layer was trained (Direct_FT)'] : [] });
    }
  } finally {
    tf.dispose(vars);
  }
  if (!stopped) converged = lastOk === total;
  return { steps: step, losses, converged, stopped, edit, params: nParams, ms: performance.now() - t0 };
}

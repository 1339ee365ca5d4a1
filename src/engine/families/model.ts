/** A loaded model: tokenizer + weights + family forward pieces, and the probe. */
import * as tf from '@tensorflow/tfjs';
import { KnError } from '../../shared/errors';
import { HEAD_CHUNK_BYTES } from '../rules';
import type { ArchConfig, FamilyDef, FamilyModel } from './family';
import type { KnTokenizer } from './tokenizer';
import type { ModelInfo, ProbeResult } from '../../shared/types';
import type { WeightStore } from '../weights/weights';

export interface ProbeOptions {
  target?: string;
  topK?: number;
  intervention?: Intervention;
}

export class LoadedModel {
  readonly fm: FamilyModel;
  /** the device memory the backend allows (from load), checked before an attribution pins its weights */
  maxDeviceBytes?: number;
  constructor(
    readonly info: ModelInfo,
    readonly family: FamilyDef,
    readonly cfg: ArchConfig,
    readonly tok: KnTokenizer,
    readonly store: WeightStore,
    /** the source's config/tokenizer files, kept so the model can be exported as a bundle */
    readonly sourceTexts?: { config: Record<string, unknown>; tokenizerJson: unknown; tokenizerConfig: unknown },
  ) {
    this.fm = family.create(cfg, store);
  }

  /**
   * Hidden states after block `upTo - 1` for a batch of equal-length sequences ([B*T, d]).
   * `scale` multiplies neuron activations (after the activation function) per layer: a [T, ffn] factor
   * tensor (1 where untouched) — how suppress (×0) and enhance (×2) are applied.
   */
  /** `scale` per layer: [T, ffn] for every sequence, or [B, T, ffn] one per sequence */
  hidden(ids: number[][], upTo = this.cfg.numLayers, scale?: Map<number, tf.Tensor>): tf.Tensor2D {
    const B = ids.length,
      T = ids[0].length;
    let h = this.fm.embed(ids);
    for (let l = 0; l < upTo; l++) {
      const next = tf.tidy(() => {
        const { h1 } = this.fm.attnHalf(l, h, B, T);
        let a = this.fm.ffnAct(l, h1);
        const s = scale?.get(l);
        if (s)
          a = a
            .reshape([B, T, this.cfg.ffn])
            .mul(s)
            .reshape([B * T, this.cfg.ffn]) as tf.Tensor2D;
        return this.fm.ffnOut(l, h1, a);
      });
      h.dispose();
      h = next;
    }
    return h;
  }

  /** Logits [B, vocab] at `position` of each sequence. */
  logitsAt(ids: number[][], position: number, scale?: Map<number, tf.Tensor>): tf.Tensor2D {
    const B = ids.length,
      T = ids[0].length;
    const h = this.hidden(ids, this.cfg.numLayers, scale);
    const out = tf.tidy(() => {
      const rows = tf.gather(
        h,
        tf.tensor1d(
          Array.from({ length: B }, (_, b) => b * T + position),
          'int32',
        ),
      ) as tf.Tensor2D;
      return this.headLogits(rows);
    });
    h.dispose();
    return out;
  }

  /**
   * The LM head on rows [N, d] → [N, vocab]. An int8 head on the LRU path larger than HEAD_CHUNK_BYTES as
   * float32 runs in vocabulary chunks (never the whole matrix as float32 on the device); otherwise fm.logits.
   */
  headLogits(rows: tf.Tensor2D): tf.Tensor2D {
    const s = this.store,
      V = this.cfg.vocab,
      head = this.fm.head;
    const rowsPer = Math.max(1, Math.floor(HEAD_CHUNK_BYTES / (4 * this.cfg.hidden)));
    if (s.dtype !== 'int8' || s.devicePacked || rowsPer >= V) return this.fm.logits(rows);
    return tf.tidy(() => {
      const z = head.pre(rows);
      const parts: tf.Tensor2D[] = [];
      for (let v0 = 0; v0 < V; v0 += rowsPer) {
        const v1 = Math.min(V, v0 + rowsPer);
        const M = s.headColumns(head.matrix, v0, v1);
        let y: tf.Tensor = tf.matMul(z, M);
        M.dispose();
        if (head.bias) y = y.add(s.vec(head.bias).slice([v0], [v1 - v0]));
        if (head.softcap !== undefined) y = tf.tanh(y.div(head.softcap)).mul(head.softcap);
        parts.push(y as tf.Tensor2D);
      }
      return tf.concat(parts, 1) as tf.Tensor2D;
    });
  }

  checkLength(n: number) {
    if (n > this.cfg.maxPositions) {
      throw new KnError('bad-input', `the prompt has ${n} tokens; the model's context is ${this.cfg.maxPositions} tokens`);
    }
  }

  async probe(prompt: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
    const q = this.tok.encodeQuery(prompt);
    this.checkLength(q.ids.length);
    const targetId = opts.target !== undefined ? this.tok.targetId(prompt, opts.target) : undefined;
    const k = Math.max(1, Math.min(opts.topK ?? 10, this.cfg.vocab));
    const scale = opts.intervention ? this.interventionScale(opts.intervention, q.ids.length, q.position) : undefined;
    const probs = tf.tidy(() => tf.softmax(this.logitsAt([q.ids], q.position, scale)).reshape([-1]));
    const p = (await probs.data()) as Float32Array;
    probs.dispose();
    if (scale) tf.dispose([...scale.values()]);
    const order = topK(p, k);
    const top = order.map((id) => ({ id, token: this.tok.display(id), prob: p[id] }));
    const res: ProbeResult = { ids: q.ids, tokens: q.ids.map((i) => this.tok.token(i)), position: q.position, top };
    if (targetId !== undefined) {
      let rank = 0;
      for (let i = 0; i < p.length; i++) if (p[i] > p[targetId]) rank++;
      res.target = { text: opts.target!, id: targetId, token: this.tok.display(targetId), prob: p[targetId], rank };
    }
    return res;
  }

  /**
   * Probes many queries at once: queries of the same length and target position run as one batch
   * (one forward and one read-back per group instead of per query — what makes a live toggle fast on
   * a GPU). Results come back in input order.
   */
  async probeMany(queries: { prompt: string; target?: string }[], opts: Omit<ProbeOptions, 'target'> = {}): Promise<ProbeResult[]> {
    // one intervention (or none: no neuron scaled) through the batched path
    return (await this.probeInterventions(queries, [opts.intervention ?? { neurons: [], factor: 1 }], { topK: opts.topK }))[0];
  }

  /**
   * Several interventions over the same queries in one batched forward per query length (each sequence
   * repeated once per intervention, with its own [T, ffn] factors): out[k][i] is query i under
   * intervention k. Equal to probeMany per intervention; far fewer forwards for a fact's many manipulations.
   */
  async probeInterventions(
    queries: { prompt: string; target?: string }[],
    interventions: Intervention[],
    opts: { topK?: number } = {},
  ): Promise<ProbeResult[][]> {
    const enc = queries.map((q) => {
      const e = this.tok.encodeQuery(q.prompt);
      this.checkLength(e.ids.length);
      return { ...e, targetId: q.target !== undefined ? this.tok.targetId(q.prompt, q.target) : undefined };
    });
    const groups = new Map<string, number[]>();
    enc.forEach((e, i) => {
      const key = `${e.ids.length}:${e.position}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(i);
    });
    const k = Math.max(1, Math.min(opts.topK ?? 10, this.cfg.vocab));
    const K = interventions.length,
      V = this.cfg.vocab,
      F = this.cfg.ffn;
    const out: ProbeResult[][] = interventions.map(() => new Array(queries.length));
    for (const idx of groups.values()) {
      const { ids, position } = enc[idx[0]];
      const T = ids.length,
        G = idx.length;
      // interventions per forward: the [K·G, T, ffn] factors of every scaled layer stay within ~64 MiB
      const perIv = G * T * F * 4 * Math.max(1, this.cfg.numLayers);
      const Kc = Math.max(1, Math.floor((64 * 1024 * 1024) / perIv));
      for (let q0 = 0; q0 < K; q0 += Kc) {
        const q1 = Math.min(K, q0 + Kc),
          n = q1 - q0;
        const per = interventions.slice(q0, q1).map((iv) => this.interventionScale(iv, T, position));
        const layers = new Set<number>();
        for (const m of per) for (const l of m.keys()) layers.add(l);
        const scale = new Map<number, tf.Tensor>();
        try {
          for (const l of layers) {
            const m = new Float32Array(n * G * T * F).fill(1);
            for (let q = 0; q < n; q++) {
              const s = per[q].get(l);
              if (!s) continue;
              const d = s.dataSync();
              for (let g = 0; g < G; g++) m.set(d, (q * G + g) * T * F);
            }
            scale.set(l, tf.tensor3d(m, [n * G, T, F]));
          }
        } finally {
          for (const m of per) tf.dispose([...m.values()]);
        }
        const batch: number[][] = [];
        for (let q = 0; q < n; q++) for (const i of idx) batch.push(enc[i].ids);
        const probs = tf.tidy(() => tf.softmax(this.logitsAt(batch, position, scale)));
        const all = (await probs.data()) as Float32Array;
        probs.dispose();
        tf.dispose([...scale.values()]);
        for (let q = 0; q < n; q++) {
          idx.forEach((i, g) => {
            const p = all.subarray((q * G + g) * V, (q * G + g + 1) * V);
            const e = enc[i];
            const res: ProbeResult = {
              ids: e.ids,
              tokens: e.ids.map((t) => this.tok.token(t)),
              position: e.position,
              top: topK(p, k).map((id) => ({ id, token: this.tok.display(id), prob: p[id] })),
            };
            if (e.targetId !== undefined) {
              let rank = 0;
              for (let j = 0; j < p.length; j++) if (p[j] > p[e.targetId]) rank++;
              res.target = { text: queries[i].target!, id: e.targetId, token: this.tok.display(e.targetId), prob: p[e.targetId], rank };
            }
            out[q0 + q][i] = res;
          });
        }
      }
    }
    return out;
  }

  /** Per-layer [T, ffn] factors: `factor` for the chosen neurons at the target position (or every position). */
  interventionScale(iv: Intervention, T: number, position: number): Map<number, tf.Tensor2D> {
    const F = this.cfg.ffn;
    const byLayer = new Map<number, number[]>();
    for (const [l, j] of iv.neurons) {
      if (!Number.isInteger(l) || l < 0 || l >= this.cfg.numLayers || !Number.isInteger(j) || j < 0 || j >= F) {
        throw new KnError('bad-input', `neuron [${l}, ${j}] does not exist (layers 0..${this.cfg.numLayers - 1}, neurons 0..${F - 1})`);
      }
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l)!.push(j);
    }
    if (!Number.isFinite(iv.factor)) throw new KnError('bad-input', `the scale factor must be a finite number, got ${iv.factor}`);
    const out = new Map<number, tf.Tensor2D>();
    for (const [l, js] of byLayer) {
      const m = new Float32Array(T * F).fill(1);
      for (let t = 0; t < T; t++) {
        if (iv.positions !== 'all' && t !== position) continue;
        for (const j of js) m[t * F + j] = iv.factor;
      }
      out.set(l, tf.tensor2d(m, [T, F]));
    }
    return out;
  }

  dispose() {
    this.store.dispose();
  }
}

/** Scale chosen neurons' activations: factor 0 suppresses, 2 enhances (docs/METHOD.md, Manipulation). */
export interface Intervention {
  neurons: [number, number][];
  factor: number;
  /** where: the target position (default, as attribution does) or every position */
  positions?: 'target' | 'all';
}

export function topK(p: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) {
    if (idx.length < k) {
      idx.push(i);
      if (idx.length === k) idx.sort((a, b) => p[b] - p[a] || a - b);
    } else if (p[i] > p[idx[k - 1]]) {
      let j = k - 1;
      while (j > 0 && p[idx[j - 1]] < p[i]) j--;
      idx.splice(j, 0, i);
      idx.pop();
    }
  }
  if (idx.length < k) idx.sort((a, b) => p[b] - p[a] || a - b);
  return idx;
}

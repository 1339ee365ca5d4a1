/**
 * Knowledge editing on a loaded model (docs/METHOD.md "Editing", the paper's Tables III-IV): reversible
 * edits of the selected neurons' write vectors, i.e. each neuron's slice of its block's FFN output
 * matrix (GPT-2: row j of `mlp.c_proj`; LLaMA/Qwen2: column j of `down_proj`; BERT: column j of
 * `output.dense`; `FamilyDef.outWeight` says which, per family).
 *
 * - erase: the write vector becomes 0;
 * - update: w − λ1·E(o) + λ2·E(o′), E = the input embedding of the object's first token (as the model's
 *   tokenizer splits it after the query: the same token the model is asked for), defaults λ1 = 1, λ2 = 8.
 *
 * Precision: in float32 mode the new values are written into the weight itself and undo writes the old
 * float32 values back (bit-exact). In int8 mode the int8 bytes and scales are never changed: the edited
 * slices are kept in float32 beside them (WeightStore overlays; d floats per neuron) and the model
 * computes with exactly the intended values; undo drops the overlay, so the int8 bytes are the original
 * ones by construction. `requantization` in the result measures what re-quantizing the edited slices with
 * the existing per-channel scales would have cost instead (an update easily leaves a channel's range and
 * would be clipped). The device tensor of an edited matrix is dropped from the LRU so the next forward
 * sees the edit. While edits are applied the model's content hash carries a suffix, so attribution
 * caches never mix edited and unedited weights.
 */
import { KnError } from '../../shared/errors';
import { Hash64 } from '../../shared/hash';
import type { LoadedModel } from '../families/model';
import type { NeuronId } from '../selection/scoring';
import { continuation } from '../families/tokenizer';
import { DEFAULT_LAMBDA1, DEFAULT_LAMBDA2, checkLambda } from '../rules';

export type EditKind = 'erase' | 'update' | 'inject';

/** An object's token as an edit uses it: the first token of the object after the query. */
export interface ObjectToken {
  text: string;
  id: number;
  token: string;
  /** every token of the object as a continuation of the query (display forms) */
  parts: string[];
}

export interface UpdateOptions {
  /** the old object o and the new object o′ (English names in the paper's setting) */
  oldObject: string;
  newObject: string;
  /** the query the objects continue (causal models: the target is tokenized as its continuation) */
  prompt: string;
  lambda1?: number;
  lambda2?: number;
  /** refuse (instead of noting) objects that are more than one token */
  requireSingleToken?: boolean;
}

export interface RequantizationError {
  /** max |requantized − intended| over the edited values */
  maxAbs: number;
  /** maxAbs relative to the largest |intended| value */
  maxRel: number;
  /** edited values that would fall outside their channel's int8 range (clipped) */
  clipped: number;
  values: number;
}

export interface AppliedEdit {
  id: string;
  kind: EditKind;
  neurons: NeuronId[];
  lambda1?: number;
  lambda2?: number;
  oldObject?: ObjectToken;
  newObject?: ObjectToken;
  /** things the user should know (e.g. which part of a multi-token object was used) */
  notes: string[];
  /** how the edited values are held */
  precision: 'f32' | 'int8 + float32 overlay';
  /** int8 models: what re-quantizing the edited slices in place would have cost (not what is done) */
  requantization?: RequantizationError;
  /** wall time of applying the edit */
  ms: number;
}

interface SliceBackup {
  name: string;
  axis: 0 | 1;
  index: number;
  /** the slice's float32 values before the edit (f32 mode), or the previous overlay (int8; null = none) */
  prev: Float32Array | null;
}

interface StackEntry {
  edit: AppliedEdit;
  /** content digest of a patch's deltas (erase/update are described by their neurons, λ and tokens) */
  digest?: string;
  backups: SliceBackup[];
  hashBefore: string;
}

/** The input embedding matrix (token rows) of a model, by the names the families use. */
export function inputEmbeddingName(model: LoadedModel): string {
  const names = model.store.names();
  for (const n of ['wte.weight', 'embed_tokens.weight', 'embeddings.word_embeddings.weight']) if (names.some((s) => s.name === n)) return n;
  const m = names.find((s) => s.shape.length === 2 && s.shape[0] === model.cfg.vocab && s.shape[1] === model.cfg.hidden && /embed|wte|tok/.test(s.name));
  if (!m) throw new KnError('bad-config', 'this model has no input token embedding matrix the editor recognizes');
  return m.name;
}

/**
 * The object's token as the model is asked for it after `prompt`, with all its parts. `whole`: the object
 * is written into the model (an update's new object), so a first token that is only whitespace or a byte
 * piece is refused (KnTokenizer.wholeTargetId).
 */
export function objectToken(model: LoadedModel, prompt: string, object: string, whole = false): ObjectToken {
  const id = whole ? model.tok.wholeTargetId(prompt, object) : model.tok.targetId(prompt, object);
  let parts: number[];
  if (model.info.kind === 'causal') {
    const { prompt: p, cont } = continuation(prompt, object);
    const pre = model.tok.encode(p);
    const full = model.tok.encode(p + cont);
    parts = full.slice(0, pre.length).every((v, i) => v === pre[i]) && full[pre.length] === id ? full.slice(pre.length) : [id];
  } else {
    parts = model.tok.encode(object.trim(), false);
  }
  if (model.tok.eosId !== undefined) while (parts.length > 1 && parts[parts.length - 1] === model.tok.eosId) parts.pop();
  return { text: object, id, token: model.tok.display(id), parts: parts.map((p) => model.tok.display(p)) };
}

function checkNeurons(model: LoadedModel, neurons: readonly NeuronId[]): NeuronId[] {
  if (!Array.isArray(neurons)) throw new KnError('bad-input', 'neurons must be a list of [layer, index] pairs');
  const L = model.cfg.numLayers,
    F = model.cfg.ffn;
  const seen = new Set<string>();
  const out: NeuronId[] = [];
  for (const n of neurons) {
    const [l, j] = Array.isArray(n) ? n : [NaN, NaN];
    if (!Number.isInteger(l) || l < 0 || l >= L || !Number.isInteger(j) || j < 0 || j >= F) {
      throw new KnError('bad-input', `neuron ${JSON.stringify(n)} does not exist in this model (layers 0..${L - 1}, neurons 0..${F - 1})`);
    }
    const k = `${l}:${j}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push([l, j]);
    }
  }
  return out;
}

/** Requantizing `v` into channel scales (per output channel; `channel(i)` = the scale index of value i). */
function requantError(values: Float32Array, scaleOf: (i: number) => number): RequantizationError {
  let maxAbs = 0,
    maxV = 0,
    clipped = 0;
  for (let i = 0; i < values.length; i++) {
    const s = scaleOf(i),
      v = values[i];
    let q = Math.round(v / s);
    if (q > 127 || q < -127) {
      clipped++;
      q = q > 127 ? 127 : -127;
    }
    maxAbs = Math.max(maxAbs, Math.abs(q * s - v));
    maxV = Math.max(maxV, Math.abs(v));
  }
  return { maxAbs, maxRel: maxV > 0 ? maxAbs / maxV : 0, clipped, values: values.length };
}

/**
 * Applies and undoes edits on one loaded model. Edits stack; undo is last-in first-out (an edit's backup
 * is the state it found), `undoAll` restores the loaded weights exactly.
 */
export class ModelEditor {
  private stack: StackEntry[] = [];
  private counter = 0;

  constructor(readonly model: LoadedModel) {}

  get edits(): AppliedEdit[] {
    return this.stack.map((s) => s.edit);
  }

  /** Zero the neurons' write vectors. */
  erase(neurons: readonly NeuronId[]): AppliedEdit {
    const ns = checkNeurons(this.model, neurons);
    return this.apply('erase', ns, () => null, [], {});
  }

  /** w − λ1·E(o) + λ2·E(o′) for every neuron. */
  update(neurons: readonly NeuronId[], o: UpdateOptions): AppliedEdit {
    const ns = checkNeurons(this.model, neurons);
    const lambda1 = checkLambda('λ1', o.lambda1 ?? DEFAULT_LAMBDA1);
    const lambda2 = checkLambda('λ2', o.lambda2 ?? DEFAULT_LAMBDA2);
    if (lambda1 === 0 && lambda2 === 0) throw new KnError('bad-input', 'λ1 = λ2 = 0 changes nothing; the paper uses λ1 = 1, λ2 = 8');
    if (typeof o.prompt !== 'string' || !o.prompt.trim()) throw new KnError('bad-input', 'an update needs the query its objects continue');
    const old = objectToken(this.model, o.prompt, o.oldObject);
    const neu = objectToken(this.model, o.prompt, o.newObject, true);
    const notes: string[] = [];
    for (const [role, t] of [
      ['old object', old],
      ['new object', neu],
    ] as const) {
      if (t.parts.length > 1) {
        const msg = `the ${role} "${t.text}" is ${t.parts.length} tokens (${t.parts.map((p) => JSON.stringify(p)).join(' + ')}); the update uses its first token ${JSON.stringify(t.token)} only`;
        if (o.requireSingleToken) throw new KnError('bad-input', msg);
        notes.push(msg);
      }
    }
    if (old.id === neu.id)
      throw new KnError(
        'bad-input',
        `the old and the new object start with the same token ${JSON.stringify(old.token)}; the update would not change the answer's first token`,
      );
    const emb = inputEmbeddingName(this.model);
    const E = this.model.store.rows(emb, [old.id, neu.id]);
    const e = E.dataSync() as Float32Array;
    E.dispose();
    const d = this.model.cfg.hidden;
    const eo = e.subarray(0, d),
      en = e.subarray(d, 2 * d);
    return this.apply(
      'update',
      ns,
      (w) => {
        const out = new Float32Array(w.length);
        for (let i = 0; i < w.length; i++) out[i] = w[i] - lambda1 * eo[i] + lambda2 * en[i];
        return out;
      },
      notes,
      { lambda1, lambda2, oldObject: old, newObject: neu },
    );
  }

  /**
   * Adds deltas to slices of any matrices (HF layout; what injection bakes in after training), as one
   * reversible edit.
   */
  patch(
    kind: EditKind,
    neurons: readonly NeuronId[],
    changes: { name: string; axis: 0 | 1; index: number; delta: Float32Array }[],
    extra: Partial<AppliedEdit> = {},
  ): AppliedEdit {
    const t0 = performance.now();
    const store = this.model.store;
    const int8 = store.dtype === 'int8';
    const backups: SliceBackup[] = [];
    const byName = new Map<string, { axis: 0 | 1; entries: { index: number; values: Float32Array }[] }>();
    const current = new Map<string, Map<number, Float32Array>>();
    for (const name of new Set(changes.map((c) => c.name))) {
      const cs = changes.filter((c) => c.name === name);
      const ws = store.readSlices(
        name,
        cs[0].axis,
        cs.map((c) => c.index),
      );
      current.set(name, new Map(cs.map((c, i) => [c.index, ws[i]])));
    }
    for (const c of changes) {
      const w = current.get(c.name)!.get(c.index)!;
      backups.push({ name: c.name, axis: c.axis, index: c.index, prev: int8 ? (store.overlay(c.name)?.slices.get(c.index)?.slice() ?? null) : w.slice() });
      const v = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        v[i] = w[i] + c.delta[i];
        if (!Number.isFinite(v[i])) throw new KnError('bad-input', `the change makes ${c.name} non-finite`);
      }
      if (!byName.has(c.name)) byName.set(c.name, { axis: c.axis, entries: [] });
      byName.get(c.name)!.entries.push({ index: c.index, values: v });
    }
    for (const [name, w] of byName) store.writeSlices(name, w.axis, w.entries);
    const hashBefore = this.model.info.contentHash;
    const edit: AppliedEdit = {
      id: `${kind}-${++this.counter}`,
      kind,
      neurons: [...neurons],
      notes: [],
      ...extra,
      precision: int8 ? 'int8 + float32 overlay' : 'f32',
      ms: 0,
    };
    const h = new Hash64();
    for (const c of changes) h.text(`${c.name}:${c.axis}:${c.index}`).bytes(new Uint8Array(c.delta.buffer, c.delta.byteOffset, c.delta.byteLength));
    this.stack.push({ edit, backups, hashBefore, digest: h.hex() });
    this.rehash();
    edit.ms = performance.now() - t0;
    return edit;
  }

  private apply(kind: EditKind, ns: NeuronId[], fn: (w: Float32Array) => Float32Array | null, notes: string[], extra: Partial<AppliedEdit>): AppliedEdit {
    const t0 = performance.now();
    const store = this.model.store;
    const byLayer = new Map<number, number[]>();
    for (const [l, j] of ns) {
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l)!.push(j);
    }
    const backups: SliceBackup[] = [];
    const int8 = store.dtype === 'int8';
    let req: RequantizationError | undefined;
    const writes: { name: string; axis: 0 | 1; entries: { index: number; values: Float32Array }[] }[] = [];
    for (const [l, js] of byLayer) {
      const { name, neuronAxis } = this.model.family.outWeight(l);
      const host = int8 ? store.hostMatrix(name) : null;
      const entries: { index: number; values: Float32Array }[] = [];
      const ws = store.readSlices(name, neuronAxis, js);
      for (const [k, j] of js.entries()) {
        const w = ws[k];
        const prev = int8 ? (store.overlay(name)?.slices.get(j)?.slice() ?? null) : w.slice();
        backups.push({ name, axis: neuronAxis, index: j, prev });
        const v = fn(w) ?? new Float32Array(w.length);
        for (let i = 0; i < v.length; i++) {
          if (!Number.isFinite(v[i])) throw new KnError('bad-input', `the edit makes neuron [${l}, ${j}]'s weights non-finite`);
        }
        entries.push({ index: j, values: v });
        // what re-quantizing in place would cost: the slice's values fall on the matrix's output channels
        const q = host?.q;
        if (q) {
          const e = requantError(v, (i) => (q.axis === neuronAxis ? q.scales[j] : q.scales[i]));
          req = req
            ? {
                maxAbs: Math.max(req.maxAbs, e.maxAbs),
                maxRel: Math.max(req.maxRel, e.maxRel),
                clipped: req.clipped + e.clipped,
                values: req.values + e.values,
              }
            : e;
        }
      }
      writes.push({ name, axis: neuronAxis, entries });
    }
    for (const w of writes) store.writeSlices(w.name, w.axis, w.entries);
    const hashBefore = this.model.info.contentHash;
    const id = `${kind}-${++this.counter}`;
    const edit: AppliedEdit = {
      id,
      kind,
      neurons: ns,
      ...extra,
      notes,
      precision: int8 ? 'int8 + float32 overlay' : 'f32',
      ...(int8 && req ? { requantization: req } : {}),
      ms: 0,
    };
    this.stack.push({ edit, backups, hashBefore });
    this.rehash();
    edit.ms = performance.now() - t0;
    return edit;
  }

  /** Undoes the last edit (or checks that `id` is the last one) and restores the weights it found. */
  undo(id?: string): AppliedEdit | null {
    const top = this.stack[this.stack.length - 1];
    if (!top) return null;
    if (id !== undefined && top.edit.id !== id) {
      if (!this.stack.some((s) => s.edit.id === id)) throw new KnError('bad-input', `no applied edit "${id}"`);
      throw new KnError(
        'bad-input',
        `edit "${id}" is not the last one; undo ${this.stack
          .slice(this.stack.findIndex((s) => s.edit.id === id) + 1)
          .map((s) => s.edit.id)
          .join(', ')} first`,
      );
    }
    const store = this.model.store;
    const byName = new Map<string, { axis: 0 | 1; entries: { index: number; values: Float32Array | null }[] }>();
    for (const b of top.backups) {
      if (!byName.has(b.name)) byName.set(b.name, { axis: b.axis, entries: [] });
      byName.get(b.name)!.entries.push({ index: b.index, values: b.prev });
    }
    for (const [name, w] of byName) store.writeSlices(name, w.axis, w.entries);
    this.stack.pop();
    (this.model.info as { contentHash: string }).contentHash = top.hashBefore;
    return top.edit;
  }

  /** Undoes every edit: the weights are the loaded ones again, byte for byte. */
  undoAll() {
    while (this.stack.length) this.undo();
  }

  /** Applies an edit, runs `fn`, and always undoes it. */
  async withEdit<T>(make: (ed: ModelEditor) => AppliedEdit, fn: (edit: AppliedEdit) => Promise<T>): Promise<T> {
    const depth = this.stack.length;
    const edit = make(this);
    try {
      return await fn(edit);
    } finally {
      while (this.stack.length > depth) this.undo();
    }
  }

  private rehash() {
    const base = this.stack[0]?.hashBefore ?? this.model.info.contentHash;
    const desc = JSON.stringify(
      this.stack.map((s) => [s.edit.kind, s.edit.neurons, s.edit.lambda1, s.edit.lambda2, s.edit.oldObject?.id, s.edit.newObject?.id, s.digest ?? null]),
    );
    (this.model.info as { contentHash: string }).contentHash = `${base}+edit:${new Hash64().text(desc).hex()}`;
  }
}

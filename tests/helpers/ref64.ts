/**
 * Test helper: an INDEPENDENT float64 reference forward pass for GPT-2, Llama, Qwen2 and BERT
 * (BertForMaskedLM), written from the Hugging Face modelling code semantics directly on Float64Arrays.
 * No tfjs, no src/engine imports: the engine is checked against this.
 *
 * Inputs are the HF `config.json` object and the tensors as stored (name -> {shape, data}, row-major),
 * with or without the `transformer.` / `model.` / `bert.` prefixes.
 *
 *   GPT-2: h = wte[ids] + wpe[pos]; block: h1 = h + c_proj(attn(ln_1(h))), a = gelu_new(ln_2(h1)·W_fc + b_fc),
 *          h' = h1 + a·W_proj + b_proj (Conv1D weights [in, out]); ln_f; logits = h·wte^T.
 *   Llama/Qwen2: RMSNorm x/sqrt(mean(x²)+eps)·w; RoPE "rotate_half" (pairs (i, i+hd/2)),
 *          inv_freq = 1/theta^(2i/hd) (+ llama3 rope_scaling rule), GQA (kv head = q head // (H/KV)),
 *          a = silu(x·W_gate^T) ⊙ (x·W_up^T), h' = h1 + a·W_down^T; q/k/v biases when present; head tied or not.
 *   BERT: LN(word + position + token_type[0]); post-LN blocks h1 = LN(h + attn(h)),
 *          a = gelu_erf(h1·W_i^T + b_i), h' = LN(h1 + a·W_o^T + b_o); MLM head dense → gelu → LN → wte^T + bias.
 *
 * The FFN neuron (docs/METHOD.md "Objects") is `a` above, after the activation, per layer and position.
 */

export type RefArch = 'gpt2' | 'llama' | 'qwen2' | 'bert';
export interface RefTensorLike {
  shape: number[];
  data: ArrayLike<number>;
}
export type RefTensors = Map<string, RefTensorLike>;
export type HfConfig = Record<string, any>;

// ---------------------------------------------------------------------------------------------------
// scalar functions

/** erf to ~1e-15: series erf(x) = 2/√π·e^{-x²}·Σ (2x²)^n·x/(2n+1)!! (all terms positive, no cancellation). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x); // erfc(6) ≈ 2e-17
  const x2 = 2 * a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 500; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
  return x < 0 ? -r : r;
}

/** exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)) (HF "gelu") */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}
/** tanh approximation (HF "gelu_new", GPT-2) */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

function activation(name: string): (x: number) => number {
  switch (name) {
    case 'gelu':
      return geluErf;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh;
    case 'silu':
    case 'swish':
      return silu;
    case 'relu':
      return (x) => Math.max(0, x);
    default:
      throw new Error(`ref64: unsupported activation ${name}`);
  }
}

export function softmax(x: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  const out = new Float64Array(x.length);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += out[i] = Math.exp(x[i] - m);
  for (let i = 0; i < x.length; i++) out[i] /= s;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// model description parsed from the HF config

interface Dims {
  arch: RefArch;
  L: number;
  d: number;
  H: number;
  KV: number;
  hd: number;
  F: number;
  V: number;
  eps: number;
  act: (x: number) => number;
  tied: boolean;
  invFreq?: Float64Array;
}

function req(config: HfConfig, key: string): number {
  const v = config[key];
  if (typeof v !== 'number') throw new Error(`ref64: config.${key} missing`);
  return v;
}

/** RoPE inverse frequencies, with HF `_compute_llama3_parameters` when rope_scaling.rope_type is llama3. */
export function ropeInvFreq(config: HfConfig, headDim: number): Float64Array {
  const theta = config.rope_theta ?? 10000;
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  const rs = config.rope_scaling;
  const type = rs ? (rs.rope_type ?? rs.type) : undefined;
  if (!rs || type === 'default') return inv;
  if (type !== 'llama3') throw new Error(`ref64: unsupported rope_scaling ${type}`);
  const factor: number = rs.factor;
  const lowF: number = rs.low_freq_factor;
  const highF: number = rs.high_freq_factor;
  const oldCtx: number = rs.original_max_position_embeddings;
  const lowWl = oldCtx / lowF;
  const highWl = oldCtx / highF;
  for (let i = 0; i < half; i++) {
    const f = inv[i];
    const wl = (2 * Math.PI) / f;
    let out = wl > lowWl ? f / factor : f;
    const isMedium = !(wl < highWl) && !(wl > lowWl);
    if (isMedium) {
      const smooth = (oldCtx / wl - lowF) / (highF - lowF);
      out = ((1 - smooth) * out) / factor + smooth * out;
    }
    inv[i] = out;
  }
  return inv;
}

function dims(arch: RefArch, c: HfConfig): Dims {
  if (arch === 'gpt2') {
    const d = req(c, 'n_embd');
    const H = req(c, 'n_head');
    return {
      arch,
      d,
      H,
      KV: H,
      hd: d / H,
      L: req(c, 'n_layer'),
      F: c.n_inner ?? 4 * d,
      V: req(c, 'vocab_size'),
      eps: c.layer_norm_epsilon ?? 1e-5,
      act: activation(c.activation_function ?? 'gelu_new'),
      tied: true,
    };
  }
  if (arch === 'llama' || arch === 'qwen2') {
    const d = req(c, 'hidden_size');
    const H = req(c, 'num_attention_heads');
    const hd = c.head_dim ?? d / H;
    return {
      arch,
      d,
      H,
      KV: c.num_key_value_heads ?? H,
      hd,
      L: req(c, 'num_hidden_layers'),
      F: req(c, 'intermediate_size'),
      V: req(c, 'vocab_size'),
      eps: c.rms_norm_eps ?? 1e-6,
      act: activation(c.hidden_act ?? 'silu'),
      tied: c.tie_word_embeddings ?? false,
      invFreq: ropeInvFreq(c, hd),
    };
  }
  const d = req(c, 'hidden_size');
  const H = req(c, 'num_attention_heads');
  return {
    arch,
    d,
    H,
    KV: H,
    hd: d / H,
    L: req(c, 'num_hidden_layers'),
    F: req(c, 'intermediate_size'),
    V: req(c, 'vocab_size'),
    eps: c.layer_norm_eps ?? 1e-12,
    act: activation(c.hidden_act ?? 'gelu'),
    tied: true,
  };
}

const PREFIX: Record<RefArch, string> = { gpt2: 'transformer.', llama: 'model.', qwen2: 'model.', bert: 'bert.' };

function getter(arch: RefArch, tensors: RefTensors) {
  const find = (name: string): RefTensorLike | undefined => {
    const cands = [PREFIX[arch] + name, name];
    if (name.endsWith('LayerNorm.weight')) cands.push(PREFIX[arch] + name.replace(/weight$/, 'gamma'), name.replace(/weight$/, 'gamma'));
    if (name.endsWith('LayerNorm.bias')) cands.push(PREFIX[arch] + name.replace(/bias$/, 'beta'), name.replace(/bias$/, 'beta'));
    for (const c of cands) {
      const t = tensors.get(c);
      if (t) return t;
    }
    return undefined;
  };
  return {
    opt: (name: string) => find(name)?.data,
    get: (name: string, shape?: number[]): ArrayLike<number> => {
      const t = find(name);
      if (!t) throw new Error(`ref64: tensor ${name} not found`);
      if (shape && (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i]))) {
        throw new Error(`ref64: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
      }
      return t.data;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// linear algebra on row-major [T, n] activations

/** x [T, nIn] · W [nIn, nOut] + b  (Conv1D layout) */
function mmIn(x: Float64Array, T: number, nIn: number, W: ArrayLike<number>, nOut: number, b?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(T * nOut);
  for (let t = 0; t < T; t++) {
    const o = t * nOut;
    if (b) for (let j = 0; j < nOut; j++) out[o + j] = b[j];
    for (let i = 0; i < nIn; i++) {
      const xv = x[t * nIn + i];
      if (xv === 0) continue;
      const w = i * nOut;
      for (let j = 0; j < nOut; j++) out[o + j] += xv * W[w + j];
    }
  }
  return out;
}

/** x [T, nIn] · W^T + b with W [nOut, nIn]  (nn.Linear layout) */
function mmOut(x: Float64Array, T: number, nIn: number, W: ArrayLike<number>, nOut: number, b?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(T * nOut);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < nOut; j++) {
      let s = b ? b[j] : 0;
      const w = j * nIn;
      const xo = t * nIn;
      for (let i = 0; i < nIn; i++) s += x[xo + i] * W[w + i];
      out[t * nOut + j] = s;
    }
  }
  return out;
}

function layerNorm(x: Float64Array, T: number, d: number, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Float64Array {
  const out = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[t * d + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[t * d + i] - mean) ** 2;
    v /= d;
    const r = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < d; i++) out[t * d + i] = (x[t * d + i] - mean) * r * w[i] + b[i];
  }
  return out;
}

function rmsNorm(x: Float64Array, T: number, d: number, w: ArrayLike<number>, eps: number): Float64Array {
  const out = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x[t * d + i] ** 2;
    ms /= d;
    const r = 1 / Math.sqrt(ms + eps);
    for (let i = 0; i < d; i++) out[t * d + i] = x[t * d + i] * r * w[i];
  }
  return out;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** rotate_half RoPE in place on [T, nHeads, hd] (positions 0..T-1) */
function applyRope(x: Float64Array, T: number, nHeads: number, hd: number, invFreq: Float64Array): void {
  const half = hd / 2;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const ang = t * invFreq[i];
      const c = Math.cos(ang);
      const s = Math.sin(ang);
      for (let h = 0; h < nHeads; h++) {
        const o = (t * nHeads + h) * hd;
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        x[o + i] = x1 * c - x2 * s;
        x[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

/**
 * Scaled dot-product attention. q [T, H, hd] (row stride qStride), k/v [T, KV, hd] (strides kStride/vStride,
 * offsets qOff/kOff/vOff into their rows) -> [T, H*hd]. Query head h reads kv head floor(h / (H/KV)).
 */
function attention(
  T: number,
  H: number,
  KV: number,
  hd: number,
  causal: boolean,
  q: Float64Array,
  qStride: number,
  qOff: number,
  k: Float64Array,
  kStride: number,
  kOff: number,
  v: Float64Array,
  vStride: number,
  vOff: number,
): Float64Array {
  const out = new Float64Array(T * H * hd);
  const scale = 1 / Math.sqrt(hd);
  const group = H / KV;
  const scores = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const n = causal ? t + 1 : T;
      const qo = t * qStride + qOff + h * hd;
      let m = -Infinity;
      for (let s = 0; s < n; s++) {
        const ko = s * kStride + kOff + kvh * hd;
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[qo + i] * k[ko + i];
        scores[s] = dot * scale;
        if (scores[s] > m) m = scores[s];
      }
      let z = 0;
      for (let s = 0; s < n; s++) z += scores[s] = Math.exp(scores[s] - m);
      const oo = t * H * hd + h * hd;
      for (let s = 0; s < n; s++) {
        const p = scores[s] / z;
        const vo = s * vStride + vOff + kvh * hd;
        for (let i = 0; i < hd; i++) out[oo + i] += p * v[vo + i];
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// model pieces (the same decomposition as docs/ARCHITECTURE.md: attnHalf, ffnAct, ffnOut)

interface Pieces {
  D: Dims;
  embed(ids: number[]): Float64Array;
  attnHalf(l: number, h: Float64Array, T: number): Float64Array;
  ffnAct(l: number, h1: Float64Array, T: number): Float64Array;
  ffnOut(l: number, h1: Float64Array, a: Float64Array, T: number): Float64Array;
  /** logits for the given rows of the final hidden state */
  head(h: Float64Array, rows: number[]): Float64Array[];
}

function pieces(arch: RefArch, config: HfConfig, tensors: RefTensors): Pieces {
  const D = dims(arch, config);
  const { d, H, KV, hd, F, V, eps, act } = D;
  const { get, opt } = getter(arch, tensors);
  const checkIds = (ids: number[]) => {
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`ref64: token id ${id} out of range`);
  };
  const logitsRows = (x: Float64Array, rows: number[], E: ArrayLike<number>, bias?: ArrayLike<number>) =>
    rows.map((t) => {
      const out = new Float64Array(V);
      for (let v = 0; v < V; v++) {
        let s = bias ? bias[v] : 0;
        for (let i = 0; i < d; i++) s += x[t * d + i] * E[v * d + i];
        out[v] = s;
      }
      return out;
    });

  if (arch === 'gpt2') {
    const P = req(config, 'n_positions');
    const L = (l: number, n: string, shape?: number[]) => get(`h.${l}.${n}`, shape);
    return {
      D,
      embed(ids) {
        checkIds(ids);
        if (ids.length > P) throw new Error('ref64: sequence longer than n_positions');
        const wte = get('wte.weight', [V, d]);
        const wpe = get('wpe.weight', [P, d]);
        const h = new Float64Array(ids.length * d);
        ids.forEach((id, t) => {
          for (let i = 0; i < d; i++) h[t * d + i] = wte[id * d + i] + wpe[t * d + i];
        });
        return h;
      },
      attnHalf(l, h, T) {
        const x = layerNorm(h, T, d, L(l, 'ln_1.weight'), L(l, 'ln_1.bias'), eps);
        const qkv = mmIn(x, T, d, L(l, 'attn.c_attn.weight', [d, 3 * d]), 3 * d, L(l, 'attn.c_attn.bias'));
        const o = attention(T, H, H, hd, true, qkv, 3 * d, 0, qkv, 3 * d, d, qkv, 3 * d, 2 * d);
        return add(h, mmIn(o, T, d, L(l, 'attn.c_proj.weight', [d, d]), d, L(l, 'attn.c_proj.bias')));
      },
      ffnAct(l, h1, T) {
        const x = layerNorm(h1, T, d, L(l, 'ln_2.weight'), L(l, 'ln_2.bias'), eps);
        const a = mmIn(x, T, d, L(l, 'mlp.c_fc.weight', [d, F]), F, L(l, 'mlp.c_fc.bias'));
        for (let i = 0; i < a.length; i++) a[i] = act(a[i]);
        return a;
      },
      ffnOut(l, h1, a, T) {
        return add(h1, mmIn(a, T, F, L(l, 'mlp.c_proj.weight', [F, d]), d, L(l, 'mlp.c_proj.bias')));
      },
      head(h, rows) {
        const T = h.length / d;
        const x = layerNorm(h, T, d, get('ln_f.weight'), get('ln_f.bias'), eps);
        return logitsRows(x, rows, get('wte.weight', [V, d]));
      },
    };
  }

  if (arch === 'llama' || arch === 'qwen2') {
    const L = (l: number, n: string, shape?: number[]) => get(`layers.${l}.${n}`, shape);
    const Lo = (l: number, n: string) => opt(`layers.${l}.${n}`);
    return {
      D,
      embed(ids) {
        checkIds(ids);
        const E = get('embed_tokens.weight', [V, d]);
        const h = new Float64Array(ids.length * d);
        ids.forEach((id, t) => {
          for (let i = 0; i < d; i++) h[t * d + i] = E[id * d + i];
        });
        return h;
      },
      attnHalf(l, h, T) {
        const x = rmsNorm(h, T, d, L(l, 'input_layernorm.weight'), eps);
        const q = mmOut(x, T, d, L(l, 'self_attn.q_proj.weight', [H * hd, d]), H * hd, Lo(l, 'self_attn.q_proj.bias'));
        const k = mmOut(x, T, d, L(l, 'self_attn.k_proj.weight', [KV * hd, d]), KV * hd, Lo(l, 'self_attn.k_proj.bias'));
        const v = mmOut(x, T, d, L(l, 'self_attn.v_proj.weight', [KV * hd, d]), KV * hd, Lo(l, 'self_attn.v_proj.bias'));
        applyRope(q, T, H, hd, D.invFreq!);
        applyRope(k, T, KV, hd, D.invFreq!);
        const o = attention(T, H, KV, hd, true, q, H * hd, 0, k, KV * hd, 0, v, KV * hd, 0);
        return add(h, mmOut(o, T, H * hd, L(l, 'self_attn.o_proj.weight', [d, H * hd]), d, Lo(l, 'self_attn.o_proj.bias')));
      },
      ffnAct(l, h1, T) {
        const x = rmsNorm(h1, T, d, L(l, 'post_attention_layernorm.weight'), eps);
        const g = mmOut(x, T, d, L(l, 'mlp.gate_proj.weight', [F, d]), F, Lo(l, 'mlp.gate_proj.bias'));
        const u = mmOut(x, T, d, L(l, 'mlp.up_proj.weight', [F, d]), F, Lo(l, 'mlp.up_proj.bias'));
        for (let i = 0; i < g.length; i++) g[i] = act(g[i]) * u[i];
        return g;
      },
      ffnOut(l, h1, a, T) {
        return add(h1, mmOut(a, T, F, L(l, 'mlp.down_proj.weight', [d, F]), d, Lo(l, 'mlp.down_proj.bias')));
      },
      head(h, rows) {
        const T = h.length / d;
        const x = rmsNorm(h, T, d, get('norm.weight'), eps);
        const W = D.tied ? get('embed_tokens.weight', [V, d]) : get('lm_head.weight', [V, d]);
        return logitsRows(x, rows, W);
      },
    };
  }

  // BERT
  const P = req(config, 'max_position_embeddings');
  const L = (l: number, n: string, shape?: number[]) => get(`encoder.layer.${l}.${n}`, shape);
  return {
    D,
    embed(ids) {
      checkIds(ids);
      if (ids.length > P) throw new Error('ref64: sequence longer than max_position_embeddings');
      const W = get('embeddings.word_embeddings.weight', [V, d]);
      const Pe = get('embeddings.position_embeddings.weight');
      const Te = get('embeddings.token_type_embeddings.weight');
      const h = new Float64Array(ids.length * d);
      ids.forEach((id, t) => {
        for (let i = 0; i < d; i++) h[t * d + i] = W[id * d + i] + Pe[t * d + i] + Te[i];
      });
      return layerNorm(h, ids.length, d, get('embeddings.LayerNorm.weight'), get('embeddings.LayerNorm.bias'), eps);
    },
    attnHalf(l, h, T) {
      const q = mmOut(h, T, d, L(l, 'attention.self.query.weight', [d, d]), d, L(l, 'attention.self.query.bias'));
      const k = mmOut(h, T, d, L(l, 'attention.self.key.weight', [d, d]), d, L(l, 'attention.self.key.bias'));
      const v = mmOut(h, T, d, L(l, 'attention.self.value.weight', [d, d]), d, L(l, 'attention.self.value.bias'));
      const o = attention(T, H, H, hd, false, q, d, 0, k, d, 0, v, d, 0);
      const proj = mmOut(o, T, d, L(l, 'attention.output.dense.weight', [d, d]), d, L(l, 'attention.output.dense.bias'));
      return layerNorm(add(h, proj), T, d, L(l, 'attention.output.LayerNorm.weight'), L(l, 'attention.output.LayerNorm.bias'), eps);
    },
    ffnAct(l, h1, T) {
      const a = mmOut(h1, T, d, L(l, 'intermediate.dense.weight', [F, d]), F, L(l, 'intermediate.dense.bias'));
      for (let i = 0; i < a.length; i++) a[i] = act(a[i]);
      return a;
    },
    ffnOut(l, h1, a, T) {
      const o = mmOut(a, T, F, L(l, 'output.dense.weight', [d, F]), d, L(l, 'output.dense.bias'));
      return layerNorm(add(h1, o), T, d, L(l, 'output.LayerNorm.weight'), L(l, 'output.LayerNorm.bias'), eps);
    },
    head(h, rows) {
      const T = h.length / d;
      const x = mmOut(h, T, d, get('cls.predictions.transform.dense.weight', [d, d]), d, get('cls.predictions.transform.dense.bias'));
      for (let i = 0; i < x.length; i++) x[i] = act(x[i]);
      const y = layerNorm(x, T, d, get('cls.predictions.transform.LayerNorm.weight'), get('cls.predictions.transform.LayerNorm.bias'), eps);
      return logitsRows(y, rows, get('embeddings.word_embeddings.weight', [V, d]), get('cls.predictions.bias', [V]));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// public API

export interface FfnOverride {
  layer: number;
  position: number;
  vector: ArrayLike<number>;
}

export interface RefForwardResult {
  /** logits per requested row (all positions by default) */
  logits: Float64Array[];
  /** FFN activations [layer][position] (length F each) */
  ffn: Float64Array[][];
}

/** Full forward with optional FFN activation overrides (applied after the activation, before the down projection). */
export function refForward(
  arch: RefArch,
  config: HfConfig,
  tensors: RefTensors,
  ids: number[],
  opts: { overrides?: FfnOverride[]; rows?: number[] } = {},
): RefForwardResult {
  const M = pieces(arch, config, tensors);
  const T = ids.length;
  if (T === 0) throw new Error('ref64: empty input');
  const F = M.D.F;
  let h = M.embed(ids);
  const ffn: Float64Array[][] = [];
  for (let l = 0; l < M.D.L; l++) {
    const h1 = M.attnHalf(l, h, T);
    const a = M.ffnAct(l, h1, T);
    ffn.push(Array.from({ length: T }, (_, t) => a.slice(t * F, (t + 1) * F)));
    for (const o of opts.overrides ?? []) {
      if (o.layer !== l) continue;
      if (o.position < 0 || o.position >= T) throw new Error(`ref64: override position ${o.position} out of range`);
      if (o.vector.length !== F) throw new Error(`ref64: override vector has ${o.vector.length} values, expected ${F}`);
      for (let j = 0; j < F; j++) a[o.position * F + j] = o.vector[j];
    }
    h = M.ffnOut(l, h1, a, T);
  }
  const rows = opts.rows ?? Array.from({ length: T }, (_, t) => t);
  return { logits: M.head(h, rows), ffn };
}

/** Logits at every position. */
export function refLogits(arch: RefArch, config: HfConfig, tensors: RefTensors, ids: number[]): Float64Array[] {
  return refForward(arch, config, tensors, ids).logits;
}

/** Softmax over the vocabulary at `position`. */
export function refProbs(arch: RefArch, config: HfConfig, tensors: RefTensors, ids: number[], position: number): Float64Array {
  return softmax(refForward(arch, config, tensors, ids, { rows: [position] }).logits[0]);
}

/** FFN neuron activations (after the activation) as [layer][position] -> Float64Array(F). */
export function refFfnActivations(arch: RefArch, config: HfConfig, tensors: RefTensors, ids: number[]): Float64Array[][] {
  return refForward(arch, config, tensors, ids, { rows: [] }).ffn;
}

/** Softmax at `position` when layer `layer`'s FFN activation at `position` is replaced by `overrideVector`. */
export function refProbsWithFfnOverride(
  arch: RefArch,
  config: HfConfig,
  tensors: RefTensors,
  ids: number[],
  position: number,
  layer: number,
  overrideVector: ArrayLike<number>,
): Float64Array {
  const r = refForward(arch, config, tensors, ids, { rows: [position], overrides: [{ layer, position, vector: overrideVector }] });
  return softmax(r.logits[0]);
}

/**
 * P(target | position) as a function of layer `layer`'s FFN activation w at `position`; the part of the
 * forward below the override (embeddings, layers < layer, attention half of `layer`) is computed once.
 */
export function refProbFunction(
  arch: RefArch,
  config: HfConfig,
  tensors: RefTensors,
  ids: number[],
  position: number,
  layer: number,
  target: number,
): { P: (w: ArrayLike<number>) => number; actual: Float64Array; F: number } {
  const M = pieces(arch, config, tensors);
  const T = ids.length;
  const F = M.D.F;
  if (layer < 0 || layer >= M.D.L) throw new Error(`ref64: layer ${layer} out of range`);
  if (position < 0 || position >= T) throw new Error(`ref64: position ${position} out of range`);
  if (!Number.isInteger(target) || target < 0 || target >= M.D.V) throw new Error(`ref64: target ${target} out of range`);
  let h = M.embed(ids);
  for (let l = 0; l < layer; l++) {
    const h1 = M.attnHalf(l, h, T);
    h = M.ffnOut(l, h1, M.ffnAct(l, h1, T), T);
  }
  const h1 = M.attnHalf(layer, h, T);
  const a0 = M.ffnAct(layer, h1, T);
  const actual = a0.slice(position * F, (position + 1) * F);
  const P = (w: ArrayLike<number>): number => {
    if (w.length !== F) throw new Error(`ref64: vector has ${w.length} values, expected ${F}`);
    const a = a0.slice();
    for (let j = 0; j < F; j++) a[position * F + j] = w[j];
    let x = M.ffnOut(layer, h1, a, T);
    for (let l = layer + 1; l < M.D.L; l++) {
      const g1 = M.attnHalf(l, x, T);
      x = M.ffnOut(l, g1, M.ffnAct(l, g1, T), T);
    }
    return softmax(M.head(x, [position])[0])[target];
  };
  return { P, actual, F };
}

/** ∂P(target)/∂w_j at w by central finite differences (step h, float64). */
export function refGradFd(P: (w: ArrayLike<number>) => number, w: ArrayLike<number>, h = 1e-5): Float64Array {
  const F = w.length;
  const g = new Float64Array(F);
  const x = Float64Array.from(w);
  for (let j = 0; j < F; j++) {
    const x0 = x[j];
    x[j] = x0 + h;
    const up = P(x);
    x[j] = x0 - h;
    const dn = P(x);
    x[j] = x0;
    g[j] = (up - dn) / (2 * h);
  }
  return g;
}

function lnBack(x: ArrayLike<number>, gamma: ArrayLike<number>, gz: ArrayLike<number>, eps: number): Float64Array {
  const d = x.length;
  let mean = 0;
  for (let i = 0; i < d; i++) mean += x[i];
  mean /= d;
  let v = 0;
  for (let i = 0; i < d; i++) v += (x[i] - mean) ** 2;
  const sigma = Math.sqrt(v / d + eps);
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i < d; i++) {
    const g = gz[i] * gamma[i];
    m1 += g;
    m2 += (g * (x[i] - mean)) / sigma;
  }
  m1 /= d;
  m2 /= d;
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) out[i] = (gz[i] * gamma[i] - m1 - ((x[i] - mean) / sigma) * m2) / sigma;
  return out;
}

function rmsBack(x: ArrayLike<number>, gamma: ArrayLike<number>, gz: ArrayLike<number>, eps: number): Float64Array {
  const d = x.length;
  let ms = 0;
  for (let i = 0; i < d; i++) ms += x[i] ** 2;
  const r = 1 / Math.sqrt(ms / d + eps);
  let m = 0;
  for (let i = 0; i < d; i++) m += gz[i] * gamma[i] * x[i];
  m /= d;
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) out[i] = r * gz[i] * gamma[i] - x[i] * r * r * r * m;
  return out;
}

/**
 * Exact (analytic backprop) ∂P(target | position)/∂w for the LAST layer's FFN activation w at `position`:
 * w → down projection → residual (BERT: output LayerNorm) → final norm / MLM transform → head → softmax.
 * Used to validate the finite differences and as an exact gradient reference for the engine.
 */
export function refGradLastLayer(
  arch: RefArch,
  config: HfConfig,
  tensors: RefTensors,
  ids: number[],
  position: number,
  target: number,
  w: ArrayLike<number>,
): Float64Array {
  const M = pieces(arch, config, tensors);
  const { d, F, V, eps, L } = M.D;
  const { get } = getter(arch, tensors);
  const T = ids.length;
  if (w.length !== F) throw new Error(`ref64: vector has ${w.length} values, expected ${F}`);
  let h = M.embed(ids);
  for (let l = 0; l < L - 1; l++) {
    const g1 = M.attnHalf(l, h, T);
    h = M.ffnOut(l, g1, M.ffnAct(l, g1, T), T);
  }
  const h1 = M.attnHalf(L - 1, h, T).slice(position * d, (position + 1) * d);
  const wv = Float64Array.from(w);
  // forward of one row from w
  const y = M.ffnOut(L - 1, h1, wv, 1); // [1, d] (BERT: after the output LayerNorm)
  const logits = M.head(y, [0])[0];
  const p = softmax(logits);
  const gl = new Float64Array(V);
  for (let v = 0; v < V; v++) gl[v] = p[target] * ((v === target ? 1 : 0) - p[v]);
  const backHead = (E: ArrayLike<number>): Float64Array => {
    const gz = new Float64Array(d);
    for (let v = 0; v < V; v++) for (let i = 0; i < d; i++) gz[i] += gl[v] * E[v * d + i];
    return gz;
  };
  let gy: Float64Array;
  let Wdown: ArrayLike<number>;
  let convLayout = false;
  if (arch === 'gpt2') {
    gy = lnBack(y, get('ln_f.weight'), backHead(get('wte.weight')), eps);
    Wdown = get(`h.${L - 1}.mlp.c_proj.weight`);
    convLayout = true;
  } else if (arch === 'llama' || arch === 'qwen2') {
    const E = M.D.tied ? get('embed_tokens.weight') : get('lm_head.weight');
    gy = rmsBack(y, get('norm.weight'), backHead(E), eps);
    Wdown = get(`layers.${L - 1}.mlp.down_proj.weight`);
  } else {
    const hact = config.hidden_act ?? 'gelu';
    if (hact !== 'gelu' && hact !== 'relu') throw new Error('ref64: refGradLastLayer supports BERT hidden_act gelu and relu only');
    const Wt = get('cls.predictions.transform.dense.weight');
    const x = mmOut(y, 1, d, Wt, d, get('cls.predictions.transform.dense.bias'));
    const gx = x.map((v) => (hact === 'relu' ? Math.max(0, v) : geluErf(v)));
    const gg = lnBack(gx, get('cls.predictions.transform.LayerNorm.weight'), backHead(get('embeddings.word_embeddings.weight')), eps);
    const gpre = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const dact = hact === 'relu' ? (x[j] > 0 ? 1 : 0) : 0.5 * (1 + erf(x[j] / Math.SQRT2)) + (x[j] * Math.exp(-0.5 * x[j] * x[j])) / Math.sqrt(2 * Math.PI);
      gpre[j] = gg[j] * dact;
    }
    const gyOut = new Float64Array(d);
    for (let j = 0; j < d; j++) for (let i = 0; i < d; i++) gyOut[i] += Wt[j * d + i] * gpre[j];
    // y = LN(u), u = h1 + W_o·w + b_o
    const Wo = get(`encoder.layer.${L - 1}.output.dense.weight`);
    const u = mmOut(wv, 1, F, Wo, d, get(`encoder.layer.${L - 1}.output.dense.bias`));
    for (let i = 0; i < d; i++) u[i] += h1[i];
    gy = lnBack(u, get(`encoder.layer.${L - 1}.output.LayerNorm.weight`), gyOut, eps);
    Wdown = Wo;
  }
  const gw = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (convLayout ? Wdown[f * d + j] : Wdown[j * F + f]) * gy[j];
    gw[f] = s;
  }
  return gw;
}

export interface RefIgResult {
  /** per-neuron attribution (w̄_j − w'_j)/M · Σ_{k=1..M} ∂P(w' + k/M (w̄ − w'))/∂w_j */
  attr: Float64Array;
  /** w̄, the actual activation vector */
  actual: Float64Array;
  pActual: number;
  pBaseline: number;
}

/**
 * Integrated-gradients reference (docs/METHOD.md, SAIG Eq. for one baseline): Riemann sum with `steps`
 * right end points, gradients of the target probability at `position` w.r.t. layer `layer`'s FFN
 * activation: exact backprop (refGradLastLayer) for the last layer unless `gradient` is 'fd', otherwise
 * central differences in float64 (step `fdStep`, default 1e-5; relative error ~1e-9).
 */
export function refIntegratedGradients(
  arch: RefArch,
  config: HfConfig,
  tensors: RefTensors,
  ids: number[],
  position: number,
  layer: number,
  target: number,
  baselineVector: ArrayLike<number>,
  steps = 20,
  fdStep = 1e-5,
  gradient: 'auto' | 'fd' = 'auto',
): RefIgResult {
  const { P, actual, F } = refProbFunction(arch, config, tensors, ids, position, layer, target);
  if (baselineVector.length !== F) throw new Error(`ref64: baseline has ${baselineVector.length} values, expected ${F}`);
  const last = layer === dims(arch, config).L - 1 && gradient !== 'fd';
  const sum = new Float64Array(F);
  const w = new Float64Array(F);
  for (let k = 1; k <= steps; k++) {
    for (let j = 0; j < F; j++) w[j] = baselineVector[j] + (k / steps) * (actual[j] - baselineVector[j]);
    const g = last ? refGradLastLayer(arch, config, tensors, ids, position, target, w) : refGradFd(P, w, fdStep);
    for (let j = 0; j < F; j++) sum[j] += g[j];
  }
  const attr = new Float64Array(F);
  for (let j = 0; j < F; j++) attr[j] = ((actual[j] - baselineVector[j]) / steps) * sum[j];
  return { attr, actual, pActual: P(actual), pBaseline: P(baselineVector) };
}

/**
 * M-node Gauss-Legendre rule on [0, 1], by a route independent of the engine's Newton iteration: the nodes
 * are the eigenvalues of the Legendre Jacobi matrix (Golub-Welsch; zero diagonal, off-diagonal
 * k/√(4k² − 1)) found by Sturm-sequence bisection, the weights the Christoffel function 1 / Σ_{k<M} p_k(x)²
 * of the orthonormal Legendre polynomials p_k = √(k + ½)·P_k.
 */
export function refGaussLegendre(M: number): { nodes: Float64Array; weights: Float64Array } {
  if (!Number.isInteger(M) || M < 1) throw new Error(`ref64: ${M} nodes`);
  const b = Array.from({ length: M }, (_, k) => (k === 0 ? 0 : k / Math.sqrt(4 * k * k - 1)));
  // number of eigenvalues below x
  const below = (x: number) => {
    let n = 0,
      q = -x;
    if (q < 0) n++;
    for (let k = 1; k < M; k++) {
      q = -x - (b[k] * b[k]) / (q === 0 ? 1e-300 : q);
      if (q < 0) n++;
    }
    return n;
  };
  const nodes = new Float64Array(M),
    weights = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    // the (i+1)-th smallest eigenvalue: below(x) ≤ i at lo, > i at hi
    let lo = -1,
      hi = 1;
    for (let it = 0; it < 200 && hi - lo > 1e-17; it++) {
      const mid = (lo + hi) / 2;
      if (mid === lo || mid === hi) break;
      if (below(mid) > i) hi = mid;
      else lo = mid;
    }
    const x = (lo + hi) / 2;
    // orthonormal Legendre polynomials p_k = √(k + ½)·P_k
    let s = 0,
      P0 = 1,
      P1 = x;
    s += 0.5 * P0 * P0;
    if (M > 1) s += 1.5 * P1 * P1;
    for (let k = 2; k < M; k++) {
      [P0, P1] = [P1, ((2 * k - 1) * x * P1 - (k - 1) * P0) / k];
      s += (k + 0.5) * P1 * P1;
    }
    nodes[i] = (1 + x) / 2;
    weights[i] = 1 / (2 * s); // 1 / Σ p_k² on [−1, 1], halved on [0, 1]
  }
  return { nodes, weights };
}

/**
 * Integrated gradients with any quadrature on [0, 1]: attr_j = (w̄_j − w'_j) · Σ_k ω_k ∂P(w' + t_k (w̄ − w'))/∂w_j
 * (gradients as in refIntegratedGradients).
 */
export function refIntegratedGradientsQuadrature(
  arch: RefArch,
  config: HfConfig,
  tensors: RefTensors,
  ids: number[],
  position: number,
  layer: number,
  target: number,
  baselineVector: ArrayLike<number>,
  rule: { nodes: ArrayLike<number>; weights: ArrayLike<number> },
  fdStep = 1e-5,
  gradient: 'auto' | 'fd' = 'auto',
): RefIgResult {
  const { P, actual, F } = refProbFunction(arch, config, tensors, ids, position, layer, target);
  if (baselineVector.length !== F) throw new Error(`ref64: baseline has ${baselineVector.length} values, expected ${F}`);
  const last = layer === dims(arch, config).L - 1 && gradient !== 'fd';
  const sum = new Float64Array(F);
  const w = new Float64Array(F);
  for (let k = 0; k < rule.nodes.length; k++) {
    const t = rule.nodes[k];
    for (let j = 0; j < F; j++) w[j] = baselineVector[j] + t * (actual[j] - baselineVector[j]);
    const g = last ? refGradLastLayer(arch, config, tensors, ids, position, target, w) : refGradFd(P, w, fdStep);
    for (let j = 0; j < F; j++) sum[j] += rule.weights[k] * g[j];
  }
  const attr = new Float64Array(F);
  for (let j = 0; j < F; j++) attr[j] = (actual[j] - baselineVector[j]) * sum[j];
  return { attr, actual, pActual: P(actual), pBaseline: P(baselineVector) };
}

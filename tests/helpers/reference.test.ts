/**
 * Tests of the independent test fixtures themselves (tests/helpers): the safetensors writer, the tiny HF
 * checkpoints and their tokenizers, and the float64 reference forward (ref64.ts). These must be right
 * before the engine is checked against them. Optional cross-checks against python (numpy; torch when
 * importable) run only when python3 has those modules.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bf16Bits,
  bf16FromBits,
  encodeSafetensors,
  f16Bits,
  f16FromBits,
  roundBF16,
  roundF16,
  roundTo,
  shardFileName,
  writeSafetensors,
  writeShardedSafetensors,
  type TensorEntry,
} from './safetensors-write';
import { DEFAULT_SIZES, writeTinyCheckpoint, type TinyArch, type TinyCheckpoint } from './tiny-checkpoints';
import {
  erf,
  geluErf,
  refFfnActivations,
  refForward,
  refIntegratedGradients,
  refLogits,
  refProbFunction,
  refProbs,
  refGradFd,
  refGradLastLayer,
  refProbsWithFfnOverride,
  ropeInvFreq,
  softmax,
} from './ref64';

const pyHas = (mod: string): boolean => {
  try {
    return spawnSync('python3', ['-c', `import ${mod}`], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  } catch {
    return false;
  }
};
const HAS_NUMPY = pyHas('numpy');
const HAS_TORCH = pyHas('torch');

/** Independent header reader (a few lines, not the writer's code). */
async function readSt(file: string): Promise<{ headerLen: number; header: Record<string, any>; data: Buffer; size: number }> {
  const buf = await readFile(file);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  return { headerLen, header, data: buf.subarray(8 + headerLen), size: buf.length };
}
function decode(dtype: string, bytes: Buffer): number[] {
  const out: number[] = [];
  if (dtype === 'F32') for (let i = 0; i < bytes.length; i += 4) out.push(bytes.readFloatLE(i));
  else if (dtype === 'F16') for (let i = 0; i < bytes.length; i += 2) out.push(f16FromBits(bytes.readUInt16LE(i)));
  else for (let i = 0; i < bytes.length; i += 2) out.push(bf16FromBits(bytes.readUInt16LE(i)));
  return out;
}

const NUMPY_REF = String.raw`
"""Independent numpy float64 forward (GPT-2 / Llama / Qwen2 / BERT) used to cross-check tests/helpers/ref64.ts.

Reads a checkpoint folder written by tests/helpers/tiny-checkpoints.ts (single model.safetensors).
stdin: {"dir": ..., "arch": ..., "ids": [...]}; stdout: JSON list of logits rows.
Written directly from the HF modelling code (GPT2Attention/GPT2MLP, LlamaAttention with rotate_half and
repeat_kv, _compute_llama3_parameters, BertSelfAttention/BertLMPredictionHead), with math.erf for BERT gelu.
"""
import json
import math
import struct
import sys

import numpy as np

inp = json.load(sys.stdin)
d, arch, ids = inp["dir"], inp["arch"], np.array(inp["ids"])
cfg = json.load(open(d + "/config.json"))


def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8 : 8 + n])
    base, out = 8 + n, {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        raw = b[base + s : base + e]
        if v["dtype"] == "F32":
            a = np.frombuffer(raw, "<f4").astype(np.float64)
        elif v["dtype"] == "F16":
            a = np.frombuffer(raw, "<f2").astype(np.float64)
        else:
            a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        out[k] = a.reshape(v["shape"])
    return out


W = load(d + "/model.safetensors")


def g(n):
    for p in ("transformer.", "model.", "bert.", ""):
        if p + n in W:
            return W[p + n]
    raise KeyError(n)


T = len(ids)


def ln(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def sm(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def attn(q, k, v, causal):  # [H, T, hd]
    s = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    if causal:
        s = s + np.triu(np.full((T, T), -np.inf), 1)
    return sm(s) @ v


def heads(x, H):
    return x.reshape(T, H, -1).transpose(1, 0, 2)


def merge(x):
    return x.transpose(1, 0, 2).reshape(T, -1)


if arch == "gpt2":
    H, eps = cfg["n_head"], cfg["layer_norm_epsilon"]
    gelu = lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    h = g("wte.weight")[ids] + g("wpe.weight")[:T]
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        x = ln(h, g(p + "ln_1.weight"), g(p + "ln_1.bias"), eps)
        q, k, v = np.split(x @ g(p + "attn.c_attn.weight") + g(p + "attn.c_attn.bias"), 3, axis=-1)
        o = merge(attn(heads(q, H), heads(k, H), heads(v, H), True))
        h = h + o @ g(p + "attn.c_proj.weight") + g(p + "attn.c_proj.bias")
        x = ln(h, g(p + "ln_2.weight"), g(p + "ln_2.bias"), eps)
        a = gelu(x @ g(p + "mlp.c_fc.weight") + g(p + "mlp.c_fc.bias"))
        h = h + a @ g(p + "mlp.c_proj.weight") + g(p + "mlp.c_proj.bias")
    logits = ln(h, g("ln_f.weight"), g("ln_f.bias"), eps) @ g("wte.weight").T
elif arch in ("llama", "qwen2"):
    D, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps = cfg.get("head_dim") or D // H, cfg["rms_norm_eps"]
    inv = 1.0 / (cfg["rope_theta"] ** (np.arange(0, hd, 2) / hd))
    rs = cfg.get("rope_scaling")
    if rs:
        factor, lf, hf, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        lw, hw, wl = old / lf, old / hf, 2 * math.pi / inv
        il = np.where(wl > lw, inv / factor, inv)
        sf = (old / wl - lf) / (hf - lf)
        smoothed = (1 - sf) * il / factor + sf * il
        med = ~(wl < hw) & ~(wl > lw)
        inv = np.where(med, smoothed, il)
    freqs = np.outer(np.arange(T), inv)
    emb = np.concatenate([freqs, freqs], -1)
    cos, sin = np.cos(emb), np.sin(emb)
    rot = lambda x: np.concatenate([-x[..., hd // 2 :], x[..., : hd // 2]], -1)
    rms = lambda x, w: x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * w
    silu = lambda x: x / (1 + np.exp(-x))

    def lin(x, n):
        y = x @ g(n + ".weight").T
        try:
            y = y + g(n + ".bias")
        except KeyError:
            pass
        return y

    h = g("embed_tokens.weight")[ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"layers.{l}."
        x = rms(h, g(p + "input_layernorm.weight"))
        q = heads(lin(x, p + "self_attn.q_proj"), H)
        k = heads(lin(x, p + "self_attn.k_proj"), KV)
        v = heads(lin(x, p + "self_attn.v_proj"), KV)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = np.repeat(k, H // KV, axis=0), np.repeat(v, H // KV, axis=0)
        h = h + lin(merge(attn(q, k, v, True)), p + "self_attn.o_proj")
        x = rms(h, g(p + "post_attention_layernorm.weight"))
        h = h + lin(silu(lin(x, p + "mlp.gate_proj")) * lin(x, p + "mlp.up_proj"), p + "mlp.down_proj")
    head = g("embed_tokens.weight") if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    logits = rms(h, g("norm.weight")) @ head.T
else:
    H, eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]
    erf = np.vectorize(math.erf)
    gelu = lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))
    lin = lambda x, n: x @ g(n + ".weight").T + g(n + ".bias")
    lnn = lambda x, n: ln(x, g(n + ".weight"), g(n + ".bias"), eps)
    h = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:T]
    h = lnn(h + g("embeddings.token_type_embeddings.weight")[0], "embeddings.LayerNorm")
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        q = heads(lin(h, p + "attention.self.query"), H)
        k = heads(lin(h, p + "attention.self.key"), H)
        v = heads(lin(h, p + "attention.self.value"), H)
        h = lnn(h + lin(merge(attn(q, k, v, False)), p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = lnn(h + lin(gelu(lin(h, p + "intermediate.dense")), p + "output.dense"), p + "output.LayerNorm")
    x = lnn(gelu(lin(h, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    logits = x @ g("embeddings.word_embeddings.weight").T + W["cls.predictions.bias"]

print(json.dumps(logits.tolist()))
`;

function numpyLogits(dir: string, arch: string, ids: number[]): number[][] {
  const r = spawnSync('python3', ['-c', NUMPY_REF], { input: JSON.stringify({ dir, arch, ids }), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`numpy reference failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const QUERY = 'The capital of France is';
const BERT_QUERY = 'the capital of france is [MASK] .';
const ARCHS: TinyArch[] = ['gpt2', 'llama', 'qwen2', 'bert'];

let root: string;
const ck = {} as Record<TinyArch, TinyCheckpoint>;
const tok = {} as Record<TinyArch, Tokenizer>;
const ids = {} as Record<TinyArch, number[]>;
const pos = {} as Record<TinyArch, number>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kn-ref-'));
  for (const arch of ARCHS) {
    ck[arch] = await writeTinyCheckpoint(join(root, arch), arch, { seed: 7 });
    tok[arch] = new Tokenizer(ck[arch].tokenizerJson, ck[arch].tokenizerConfig);
    ids[arch] = tok[arch].encode(arch === 'bert' ? BERT_QUERY : QUERY).ids;
    pos[arch] = arch === 'bert' ? ids[arch].indexOf(ck.bert.special.mask.id) : ids[arch].length - 1;
  }
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('float conversions', () => {
  it('F16 rounds to nearest even, directly from float64', () => {
    expect(f16Bits(1)).toBe(0x3c00);
    expect(f16Bits(-2)).toBe(0xc000);
    expect(f16Bits(1 / 3)).toBe(0x3555);
    expect(roundF16(1 / 3)).toBe(0.333251953125);
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f16Bits(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01); // would be a tie (wrong) after a float32 detour
    expect(f16Bits(65519)).toBe(0x7bff);
    expect(f16Bits(65520)).toBe(0x7c00); // overflow to +inf
    expect(f16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f16Bits(2 ** -25)).toBe(0x0000); // tie with 0 -> even
    expect(f16Bits(3 * 2 ** -26)).toBe(0x0001);
    expect(f16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normal range
    expect(f16Bits(-0)).toBe(0x8000);
    expect(f16Bits(NaN) & 0x7c00).toBe(0x7c00);
    for (const x of [0.1, -3.75, 1e-5, 1234.5678, 2 ** -20]) expect(f16FromBits(f16Bits(x))).toBe(roundF16(x));
  });
  it('BF16 rounds to nearest even, directly from float64', () => {
    expect(bf16Bits(1)).toBe(0x3f80);
    expect(bf16Bits(1 / 3)).toBe(0x3eab);
    expect(roundBF16(1 / 3)).toBe(0.333984375);
    expect(bf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(bf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bf16Bits(1 + 2 ** -8 + 2 ** -30)).toBe(0x3f81); // a float32 detour would make this a tie
    expect(bf16Bits(-0.1)).toBe(0xbdcd);
    expect(bf16Bits(3.4e38)).toBe(0x7f80); // overflow
    for (const x of [0.1, -3.75, 1e-5, 1234.5678, 1e-40]) expect(bf16FromBits(bf16Bits(x))).toBe(roundBF16(x));
  });
});

describe('safetensors writer', () => {
  it('writes a file that parses back with correct offsets, padding and values', async () => {
    const entries: TensorEntry[] = [
      { name: 'a.weight', shape: [2, 3], data: [1, -2, 0.5, 1 / 3, 1e-3, 7], dtype: 'F32' },
      { name: 'b.bias', shape: [3], data: [1 / 3, -1.5, 65504], dtype: 'F16' },
      { name: 'c', shape: [1, 1, 2], data: [1 / 3, -0.1], dtype: 'BF16' },
      { name: 'scalar', shape: [], data: [42], dtype: 'F32' },
    ];
    const file = join(root, 'one.safetensors');
    await writeSafetensors(file, entries, { format: 'pt' });
    const { headerLen, header, data, size } = await readSt(file);
    expect(headerLen % 8).toBe(0);
    expect(header.__metadata__).toEqual({ format: 'pt' });
    let expectedStart = 0;
    for (const e of entries) {
      const h = header[e.name];
      expect(h.dtype).toBe(e.dtype);
      expect(h.shape).toEqual(e.shape);
      const [s, t] = h.data_offsets;
      expect(s).toBe(expectedStart);
      expect(t - s).toBe(e.data.length * (e.dtype === 'F32' ? 4 : 2));
      expectedStart = t;
      expect(decode(h.dtype, data.subarray(s, t))).toEqual(Array.from(roundTo(e.dtype!, e.data)));
    }
    expect(size).toBe(8 + headerLen + expectedStart);
    expect(data.readUInt16LE(header['b.bias'].data_offsets[0])).toBe(0x3555);
    expect(data.readUInt16LE(header.c.data_offsets[0])).toBe(0x3eab);
  });
  it('rejects a shape/data mismatch', () => {
    expect(() => encodeSafetensors([{ name: 'x', shape: [2, 2], data: [1, 2, 3] }])).toThrow(/x/);
  });
  it('writes a sharded checkpoint with a consistent index', async () => {
    const entries: TensorEntry[] = Array.from({ length: 7 }, (_, i) => ({
      name: `t${i}`,
      shape: [i + 1, 4],
      data: Array.from({ length: (i + 1) * 4 }, (_, k) => k - i),
      dtype: i % 2 ? 'F16' : 'F32',
    }));
    const dir = join(root, 'sharded');
    const res = await writeShardedSafetensors(dir, entries, 3);
    expect(res.files).toEqual([1, 2, 3].map((k) => `model-0000${k}-of-00003.safetensors`));
    expect(shardFileName(9, 12)).toBe('model-00010-of-00012.safetensors');
    const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map).sort()).toEqual(entries.map((e) => e.name).sort());
    let total = 0;
    for (const f of res.files) {
      const { header, data } = await readSt(join(dir, f));
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) {
        expect(index.weight_map[n]).toBe(f);
        const [s, t] = header[n].data_offsets;
        total += t - s;
        const e = entries.find((x) => x.name === n)!;
        expect(decode(header[n].dtype, data.subarray(s, t))).toEqual(Array.from(e.data));
      }
    }
    expect(index.metadata.total_size).toBe(total);
  });
});

describe('tiny checkpoints', () => {
  it.each(ARCHS)('%s: folder, config and tensors are HF-shaped', async (arch) => {
    const c = ck[arch];
    const files = (await readdir(c.dir)).sort();
    expect(files).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const cfg = JSON.parse(await readFile(join(c.dir, 'config.json'), 'utf8'));
    expect(cfg).toEqual(c.config);
    const vocab = c.tokenizerJson.model.vocab as Record<string, number>;
    const allIds = new Set([...Object.values(vocab), ...c.tokenizerJson.added_tokens.map((t: any) => t.id)]);
    expect(cfg.vocab_size).toBe(allIds.size);
    expect(Math.max(...allIds)).toBe(cfg.vocab_size - 1);
    const { header } = await readSt(join(c.dir, 'model.safetensors'));
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names.sort()).toEqual([...c.tensors.keys()].sort());
    const V = cfg.vocab_size;
    const shape = (n: string) => c.tensors.get(n)!.shape;
    if (arch === 'gpt2') {
      expect(cfg.architectures).toEqual(['GPT2LMHeadModel']);
      expect(cfg.n_inner).toBeNull();
      expect(shape('transformer.wte.weight')).toEqual([V, 32]);
      expect(shape('transformer.h.1.attn.c_attn.weight')).toEqual([32, 96]);
      expect(shape('transformer.h.0.mlp.c_fc.weight')).toEqual([32, 128]);
      expect(shape('transformer.h.0.mlp.c_proj.weight')).toEqual([128, 32]);
      expect(names.some((n) => n.startsWith('lm_head'))).toBe(false);
    } else if (arch === 'llama' || arch === 'qwen2') {
      expect(shape('model.layers.0.self_attn.q_proj.weight')).toEqual([32, 32]);
      expect(shape('model.layers.0.self_attn.k_proj.weight')).toEqual([16, 32]);
      expect(shape('model.layers.1.mlp.gate_proj.weight')).toEqual([96, 32]);
      expect(shape('model.layers.1.mlp.down_proj.weight')).toEqual([32, 96]);
      expect(cfg.num_key_value_heads).toBe(2);
      if (arch === 'llama') {
        expect(cfg.tie_word_embeddings).toBe(false);
        expect(shape('lm_head.weight')).toEqual([V, 32]);
        expect(cfg.rope_scaling.rope_type).toBe('llama3');
        expect(c.tensors.has('model.layers.0.self_attn.q_proj.bias')).toBe(false);
      } else {
        expect(cfg.tie_word_embeddings).toBe(true);
        expect(c.tensors.has('lm_head.weight')).toBe(false);
        expect(shape('model.layers.0.self_attn.k_proj.bias')).toEqual([16]);
        expect(cfg.rope_theta).toBe(1e6);
      }
    } else {
      expect(cfg.architectures).toEqual(['BertForMaskedLM']);
      expect(shape('bert.encoder.layer.1.intermediate.dense.weight')).toEqual([128, 32]);
      expect(shape('bert.encoder.layer.1.output.dense.weight')).toEqual([32, 128]);
      expect(shape('cls.predictions.bias')).toEqual([V]);
      expect(names.some((n) => n.includes('decoder'))).toBe(false);
    }
    // the returned values are the stored values
    const some = names[names.length - 1];
    const [s, t] = header[some].data_offsets;
    const { data } = await readSt(join(c.dir, 'model.safetensors'));
    expect(decode(header[some].dtype, data.subarray(s, t))).toEqual(Array.from(c.tensors.get(some)!.data));
  });

  it('options: unprefixed names, F16/BF16 storage, shards, custom sizes, determinism', async () => {
    const g = await writeTinyCheckpoint(join(root, 'g-unpref'), 'gpt2', { prefixed: false, dtype: 'F16', seed: 7 });
    expect(g.tensors.has('h.0.ln_1.weight')).toBe(true);
    expect([...g.tensors.keys()].some((n) => n.startsWith('transformer.'))).toBe(false);
    for (const [n, t] of g.tensors) {
      // same seed: the F16 values are the F32 ones' float64 originals rounded to half precision
      const f32 = ck.gpt2.tensors.get('transformer.' + n)!.data;
      expect(t.shape).toEqual(ck.gpt2.tensors.get('transformer.' + n)!.shape);
      t.data.forEach((v, i) => {
        expect(roundF16(v)).toBe(v);
        expect(Math.abs(v - f32[i])).toBeLessThanOrEqual(2 ** -11 * Math.abs(f32[i]) + 2 ** -25);
      });
    }
    const { header } = await readSt(join(g.dir, 'model.safetensors'));
    expect(header['wte.weight'].dtype).toBe('F16');
    const l = await writeTinyCheckpoint(join(root, 'l-sh'), 'llama', { prefixed: false, dtype: 'BF16', shards: 3, seed: 7 });
    expect((await readdir(l.dir)).filter((f) => f.endsWith('.safetensors')).length).toBe(3);
    expect(l.tensors.has('layers.0.mlp.up_proj.weight') && l.tensors.has('lm_head.weight')).toBe(true);
    for (const t of l.tensors.values()) for (const v of t.data) expect(roundBF16(v)).toBe(v);
    const b = await writeTinyCheckpoint(join(root, 'b-size'), 'bert', { sizes: { layers: 3, hidden: 48, heads: 6, ffn: 80, positions: 40 } });
    expect(b.config.num_hidden_layers).toBe(3);
    expect(b.tensors.get('bert.encoder.layer.2.intermediate.dense.weight')!.shape).toEqual([80, 48]);
    const again = await writeTinyCheckpoint(join(root, 'gpt2-again'), 'gpt2', { seed: 7 });
    expect(Array.from(again.tensors.get('transformer.h.1.mlp.c_fc.weight')!.data)).toEqual(
      Array.from(ck.gpt2.tensors.get('transformer.h.1.mlp.c_fc.weight')!.data),
    );
    await expect(writeTinyCheckpoint(join(root, 'bad'), 'gpt2', { sizes: { vocab: 10 } })).rejects.toThrow(/vocab/);
  });
});

describe('tokenizers load in @huggingface/tokenizers', () => {
  it('gpt2: no BOS, probe words are single tokens', () => {
    const e = tok.gpt2.encode(QUERY);
    expect(e.tokens).toEqual(['The', 'Ġcapital', 'Ġof', 'ĠFrance', 'Ġis']);
    expect(tok.gpt2.encode(' Paris').tokens).toEqual(['ĠParis']);
    expect(tok.gpt2.encode(' the').tokens).toEqual(['Ġthe']);
    expect(tok.gpt2.token_to_id('<|endoftext|>')).toBe(ck.gpt2.special.eos.id);
    expect(ck.gpt2.config.bos_token_id).toBe(ck.gpt2.special.eos.id);
    expect(tok.gpt2.decode(e.ids)).toBe(QUERY);
  });
  it('llama: <s> prepended by the template post-processor', () => {
    const e = tok.llama.encode(QUERY);
    expect(e.ids[0]).toBe(ck.llama.special.bos.id);
    expect(e.tokens).toEqual(['<s>', 'The', 'Ġcapital', 'Ġof', 'ĠFrance', 'Ġis']);
    expect(tok.llama.encode(' Paris', { add_special_tokens: false }).tokens).toEqual(['ĠParis']);
    expect(ck.llama.config.bos_token_id).toBe(1);
    expect(ck.llama.config.eos_token_id).toBe(2);
  });
  it('qwen2: no BOS, <|endoftext|> is a special token', () => {
    const e = tok.qwen2.encode(QUERY + '<|endoftext|>');
    expect(e.tokens).toEqual(['The', 'Ġcapital', 'Ġof', 'ĠFrance', 'Ġis', '<|endoftext|>']);
    expect(e.ids.at(-1)).toBe(ck.qwen2.special.eos.id);
  });
  it('bert: [CLS] ... [SEP], lowercase, [MASK] kept', () => {
    const e = tok.bert.encode('The Capital of France is [MASK] .');
    expect(e.tokens).toEqual(['[CLS]', 'the', 'capital', 'of', 'france', 'is', '[MASK]', '.', '[SEP]']);
    expect(e.ids[0]).toBe(ck.bert.special.cls.id);
    expect(e.ids.at(-1)).toBe(ck.bert.special.sep.id);
    expect(e.ids[6]).toBe(ck.bert.special.mask.id);
    expect(ck.bert.config.pad_token_id).toBe(ck.bert.special.pad.id);
    expect(ck.bert.config.vocab_size).toBeGreaterThanOrEqual(300);
  });
});

describe('float64 reference', () => {
  it('erf and GELU to float64 precision', () => {
    const known: Array<[number, number]> = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(2e-16 * 4);
    expect(geluErf(1)).toBeCloseTo(0.8413447460685429, 15);
  });

  it.each(ARCHS)('%s: softmax sums to 1 and is spread (not one-hot)', (arch) => {
    const c = ck[arch];
    const p = refProbs(arch, c.config, c.tensors, ids[arch], pos[arch]);
    expect(p.length).toBe(c.config.vocab_size);
    expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    const max = Math.max(...p);
    expect(max).toBeLessThan(0.5);
    expect(max).toBeGreaterThan(5 / p.length);
    const logits = refLogits(arch, c.config, c.tensors, ids[arch]);
    expect(logits.length).toBe(ids[arch].length);
    expect(maxAbsDiff(softmax(logits[pos[arch]]), p)).toBeLessThan(1e-15);
  });

  it.each(ARCHS)('%s: causal models ignore later tokens, BERT does not', (arch) => {
    const c = ck[arch];
    const a = ids[arch];
    const b = a.slice();
    b[b.length - 2] = (b[b.length - 2] + 11) % c.config.vocab_size;
    const la = refLogits(arch, c.config, c.tensors, a);
    const lb = refLogits(arch, c.config, c.tensors, b);
    const t = a.length - 3;
    if (arch === 'bert') expect(maxAbsDiff(la[t], lb[t])).toBeGreaterThan(1e-3);
    else {
      for (let k = 0; k <= t; k++) expect(maxAbsDiff(la[k], lb[k])).toBe(0);
      expect(maxAbsDiff(la[t + 1], lb[t + 1])).toBeGreaterThan(1e-3);
    }
  });

  it('GQA equals multi-head attention with repeated k/v heads', () => {
    for (const arch of ['llama', 'qwen2'] as const) {
      const c = ck[arch];
      const H = c.config.num_attention_heads;
      const KV = c.config.num_key_value_heads;
      const hd = c.config.hidden_size / H;
      expect(KV).toBeLessThan(H);
      const mha = new Map(c.tensors);
      for (const [n, t] of c.tensors) {
        if (!/self_attn\.[kv]_proj\./.test(n)) continue;
        const rowLen = n.endsWith('.weight') ? t.shape[1] : 1;
        const out: number[] = [];
        for (let h = 0; h < H; h++) {
          const kvh = Math.floor(h / (H / KV));
          for (let r = 0; r < hd; r++) for (let i = 0; i < rowLen; i++) out.push(t.data[(kvh * hd + r) * rowLen + i]);
        }
        mha.set(n, { shape: n.endsWith('.weight') ? [H * hd, rowLen] : [H * hd], data: Float64Array.from(out) });
      }
      const cfg = { ...c.config, num_key_value_heads: H };
      const a = refLogits(arch, c.config, c.tensors, ids[arch]);
      const b = refLogits(arch, cfg, mha, ids[arch]);
      for (let t = 0; t < a.length; t++) expect(maxAbsDiff(a[t], b[t])).toBeLessThan(1e-12);
    }
  });

  it('llama3 rope_scaling: keep / smooth / divide branches of inv_freq', () => {
    const inv = ropeInvFreq(ck.llama.config, 8);
    const base = [1, 0.1, 0.01, 0.001];
    const s = (128 / ((2 * Math.PI) / 0.1) - 1) / (4 - 1);
    const expected = [1, ((1 - s) * 0.1) / 8 + s * 0.1, 0.01 / 8, 0.001 / 8];
    for (let i = 0; i < 4; i++) expect(inv[i]).toBeCloseTo(expected[i], 15);
    expect(Array.from(ropeInvFreq({ rope_theta: 10000 }, 8))).toEqual(base.map((_, i) => 1 / 10000 ** ((2 * i) / 8)));
    // and it matters for the logits
    const plain = { ...ck.llama.config, rope_scaling: null };
    const a = refLogits('llama', ck.llama.config, ck.llama.tensors, ids.llama);
    const b = refLogits('llama', plain, ck.llama.tensors, ids.llama);
    expect(maxAbsDiff(a[0], b[0])).toBe(0); // position 0: no rotation
    expect(maxAbsDiff(a[pos.llama], b[pos.llama])).toBeGreaterThan(1e-6);
  });

  it.each(ARCHS)('%s: FFN activations and the override hook', (arch) => {
    const c = ck[arch];
    const F = arch === 'llama' || arch === 'qwen2' ? c.config.intermediate_size : arch === 'gpt2' ? 4 * c.config.n_embd : c.config.intermediate_size;
    const acts = refFfnActivations(arch, c.config, c.tensors, ids[arch]);
    const L = DEFAULT_SIZES[arch].layers;
    expect(acts.length).toBe(L);
    expect(acts[0].length).toBe(ids[arch].length);
    expect(acts[0][0].length).toBe(F);
    const p = refProbs(arch, c.config, c.tensors, ids[arch], pos[arch]);
    for (let l = 0; l < L; l++) {
      const same = refProbsWithFfnOverride(arch, c.config, c.tensors, ids[arch], pos[arch], l, acts[l][pos[arch]]);
      expect(maxAbsDiff(same, p)).toBeLessThan(1e-15);
      const zero = refProbsWithFfnOverride(arch, c.config, c.tensors, ids[arch], pos[arch], l, new Float64Array(F));
      expect(maxAbsDiff(zero, p)).toBeGreaterThan(1e-4);
      expect(Math.abs(zero.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    }
    // causal: an override at the last position does not change earlier positions
    if (arch !== 'bert') {
      const T = ids[arch].length;
      const r = refForward(arch, c.config, c.tensors, ids[arch], { overrides: [{ layer: 0, position: T - 1, vector: new Float64Array(F) }] });
      const base = refLogits(arch, c.config, c.tensors, ids[arch]);
      expect(maxAbsDiff(r.logits[T - 2], base[T - 2])).toBe(0);
      expect(maxAbsDiff(r.logits[T - 1], base[T - 1])).toBeGreaterThan(1e-4);
    } else {
      const r = refForward('bert', c.config, c.tensors, ids.bert, { overrides: [{ layer: 0, position: 1, vector: new Float64Array(F) }] });
      expect(maxAbsDiff(r.logits[pos.bert], refLogits('bert', c.config, c.tensors, ids.bert)[pos.bert])).toBeGreaterThan(1e-4);
    }
  });

  it('finite-difference gradients are consistent across step sizes', () => {
    const c = ck.llama;
    const p = refProbs('llama', c.config, c.tensors, ids.llama, pos.llama);
    const target = p.indexOf(Math.max(...p));
    const { P, actual } = refProbFunction('llama', c.config, c.tensors, ids.llama, pos.llama, 1, target);
    expect(P(actual)).toBeCloseTo(p[target], 14);
    const j = 5;
    const grad = (h: number) => {
      const up = actual.slice();
      up[j] += h;
      const dn = actual.slice();
      dn[j] -= h;
      return (P(up) - P(dn)) / (2 * h);
    };
    expect(Math.abs(grad(1e-5) - grad(1e-4))).toBeLessThan(1e-7 * Math.max(1e-3, Math.abs(grad(1e-5))) + 1e-10);
  });

  it.each(ARCHS)('%s: analytic last-layer gradient equals central finite differences', (arch) => {
    const c = ck[arch];
    const L = DEFAULT_SIZES[arch].layers;
    const p = refProbs(arch, c.config, c.tensors, ids[arch], pos[arch]);
    for (const target of [p.indexOf(Math.max(...p)), 17]) {
      const { P, actual } = refProbFunction(arch, c.config, c.tensors, ids[arch], pos[arch], L - 1, target);
      const w = actual.map((v, j) => 0.7 * v + 0.01 * Math.sin(j)); // a point off the actual activation
      const exact = refGradLastLayer(arch, c.config, c.tensors, ids[arch], pos[arch], target, w);
      const fd = refGradFd(P, w, 1e-5);
      const scale = Math.max(...exact.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(maxAbsDiff(exact, fd)).toBeLessThan(1e-7 * scale);
    }
  });

  it('IG on the last layer: analytic and finite-difference paths agree', () => {
    const c = ck.qwen2;
    const p = refProbs('qwen2', c.config, c.tensors, ids.qwen2, pos.qwen2);
    const target = p.indexOf(Math.max(...p));
    const F = c.config.intermediate_size;
    const a = refIntegratedGradients('qwen2', c.config, c.tensors, ids.qwen2, pos.qwen2, 1, target, new Float64Array(F), 5);
    const b = refIntegratedGradients('qwen2', c.config, c.tensors, ids.qwen2, pos.qwen2, 1, target, new Float64Array(F), 5, 1e-5, 'fd');
    expect(maxAbsDiff(a.attr, b.attr)).toBeLessThan(1e-7 * Math.max(...a.attr.map(Math.abs)));
  });

  it.each(['gpt2', 'bert'] as const)('%s: IG completeness error shrinks with more Riemann steps', (arch) => {
    const c = ck[arch];
    const small = { ...c.config };
    const p = refProbs(arch, c.config, c.tensors, ids[arch], pos[arch]);
    const target = p.indexOf(Math.max(...p));
    const F = arch === 'gpt2' ? 4 * c.config.n_embd : c.config.intermediate_size;
    const err = (steps: number) => {
      const r = refIntegratedGradients(arch, small, c.tensors, ids[arch], pos[arch], 0, target, new Float64Array(F), steps);
      expect(r.pActual).toBeCloseTo(p[target], 14);
      const sum = r.attr.reduce((a, b) => a + b, 0);
      return { e: Math.abs(sum - (r.pActual - r.pBaseline)), scale: Math.abs(r.pActual - r.pBaseline) };
    };
    const e10 = err(10);
    const e40 = err(40);
    expect(e40.scale).toBeGreaterThan(1e-3);
    expect(e40.e).toBeLessThan(e10.e);
    expect(e40.e).toBeLessThan(0.25 * e40.scale + 1e-6);
  });
});

describe('cross-check against python', () => {
  it.skipIf(!HAS_NUMPY).each(ARCHS)('%s: ref64 matches an independent numpy float64 forward', (arch) => {
    const c = ck[arch];
    const np = numpyLogits(c.dir, arch, ids[arch]);
    const ref = refLogits(arch, c.config, c.tensors, ids[arch]);
    expect(np.length).toBe(ref.length);
    for (let t = 0; t < ref.length; t++) expect(maxAbsDiff(np[t], ref[t])).toBeLessThan(1e-10);
  });
  it.skipIf(!HAS_NUMPY)('bf16 llama with a tied head and llama3 rope matches numpy', async () => {
    const c = await writeTinyCheckpoint(join(root, 'l-bf16'), 'llama', { dtype: 'BF16', seed: 3, tieWordEmbeddings: true });
    const i = tok.llama.encode('La capitale de la France est').ids;
    const np = numpyLogits(c.dir, 'llama', i);
    const ref = refLogits('llama', c.config, c.tensors, i);
    for (let t = 0; t < ref.length; t++) expect(maxAbsDiff(np[t], ref[t])).toBeLessThan(1e-10);
  });
  it.skipIf(!HAS_TORCH)('gpt2: ref64 matches torch float64', () => {
    const c = ck.gpt2;
    const script = String.raw`
import json, sys, torch
from safetensors.torch import load_file
inp = json.load(sys.stdin)
W = {k: v.double() for k, v in load_file(inp['dir'] + '/model.safetensors').items()}
cfg = json.load(open(inp['dir'] + '/config.json'))
ids = torch.tensor(inp['ids']); T = len(ids); d = cfg['n_embd']; H = cfg['n_head']; eps = cfg['layer_norm_epsilon']
g = lambda n: W['transformer.' + n]
F = torch.nn.functional
h = g('wte.weight')[ids] + g('wpe.weight')[:T]
for l in range(cfg['n_layer']):
    p = f'h.{l}.'
    x = F.layer_norm(h, (d,), g(p + 'ln_1.weight'), g(p + 'ln_1.bias'), eps)
    q, k, v = (x @ g(p + 'attn.c_attn.weight') + g(p + 'attn.c_attn.bias')).split(d, -1)
    sh = lambda z: z.view(T, H, -1).transpose(0, 1)
    o = F.scaled_dot_product_attention(sh(q), sh(k), sh(v), is_causal=True).transpose(0, 1).reshape(T, d)
    h = h + o @ g(p + 'attn.c_proj.weight') + g(p + 'attn.c_proj.bias')
    x = F.layer_norm(h, (d,), g(p + 'ln_2.weight'), g(p + 'ln_2.bias'), eps)
    h = h + F.gelu(x @ g(p + 'mlp.c_fc.weight') + g(p + 'mlp.c_fc.bias'), approximate='tanh') @ g(p + 'mlp.c_proj.weight') + g(p + 'mlp.c_proj.bias')
print(json.dumps((F.layer_norm(h, (d,), g('ln_f.weight'), g('ln_f.bias'), eps) @ g('wte.weight').T).tolist()))
`;
    const r = spawnSync('python3', ['-c', script], { input: JSON.stringify({ dir: c.dir, ids: ids.gpt2 }), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const tl: number[][] = JSON.parse(r.stdout);
    const ref = refLogits('gpt2', c.config, c.tensors, ids.gpt2);
    for (let t = 0; t < ref.length; t++) expect(maxAbsDiff(tl[t], ref[t])).toBeLessThan(1e-10);
  });
});

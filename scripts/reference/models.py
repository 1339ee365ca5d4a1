"""Reference fixtures from Hugging Face transformers (float64), one tiny random checkpoint per family.

For each family: a tiny model from a config with the real field names, random weights (seeded, scaled so
that the predictions are not flat), stored as F16 with save_pretrained(safe_serialization=True), a real
tokenizer (toks.py, trained on the benchmark's en/fr text), and expected.json with, per query:
ids, target position and target id (transformers' tokenizer), top-k probabilities at the target position,
the FFN neuron activations of every layer at the target position (after the activation: the input of
the FFN's output projection), dP(target)/d(neuron) for a few neurons at the actual activations, and SAIG
raw scores for one layer (METHOD.md Eq. 1-4 with the engine's conventions: ⟨PAD⟩ baselines = each
ordinary query token replaced by EOS (causal) / the mask token (masked), right end points k = 1..M).
Everything is computed in float64 from the stored (F16-rounded) weights.
"""
import gzip
import json
import math
import os
import shutil
import sys

import torch
import transformers as T

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import toks  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

STEPS = 16
TOPK = 10
GRAD_NEURONS = [0, 1, 2, 5, 7]

# the fixture queries: (prompt, target) in en/fr, causal form and masked form; targets chosen to be
# whole tokens or first tokens the small tokenizers have
CAUSAL_Q = [('The capital of France is', ' Paris'), ('La capitale de la Finlande est', ' Helsinki')]


def masked_q(mask):
    return [(f'The capital of France is {mask} .', 'Paris'), (f'La capitale de la Finlande est {mask}.', 'Helsinki')]


def fam_specs(V, tk):
    """family → (architecture, tokenizer kind, config); V = vocabulary size of the tokenizer."""
    bos, eos = tk.bos_token_id, tk.eos_token_id
    common_causal = dict(vocab_size=V, bos_token_id=bos, eos_token_id=eos)
    return {
        'gpt2': ('GPT2LMHeadModel', lambda: T.GPT2Config(n_embd=16, n_layer=3, n_head=2, n_positions=64, **common_causal)),
        'llama': ('LlamaForCausalLM', lambda: T.LlamaConfig(
            hidden_size=16, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=64, rope_theta=500000.0, tie_word_embeddings=False,
            rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=16),
            **common_causal)),
        'qwen2': ('Qwen2ForCausalLM', lambda: T.Qwen2Config(
            hidden_size=16, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=64, tie_word_embeddings=True, rope_theta=1000000.0, **common_causal)),
        'qwen3': ('Qwen3ForCausalLM', lambda: T.Qwen3Config(
            hidden_size=16, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
            max_position_embeddings=64, tie_word_embeddings=True, rope_theta=1000000.0, **common_causal)),
        'bloom': ('BloomForCausalLM', lambda: T.BloomConfig(hidden_size=18, n_layer=3, n_head=6, **common_causal)),
        'gemma2': ('Gemma2ForCausalLM', lambda: T.Gemma2Config(
            hidden_size=16, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
            max_position_embeddings=64, query_pre_attn_scalar=6, sliding_window=4, final_logit_softcapping=5.0,
            attn_logit_softcapping=3.0, layer_types=['sliding_attention', 'full_attention', 'sliding_attention'],
            pad_token_id=tk.pad_token_id if tk.pad_token_id is not None else 0, **common_causal)),
        'gemma3': ('Gemma3ForCausalLM', lambda: T.Gemma3TextConfig(
            hidden_size=16, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
            max_position_embeddings=64, query_pre_attn_scalar=6, sliding_window=4,
            layer_types=['sliding_attention', 'full_attention', 'sliding_attention'],
            rope_parameters={'sliding_attention': {'rope_type': 'default', 'rope_theta': 10000.0},
                             'full_attention': {'rope_type': 'linear', 'factor': 4.0, 'rope_theta': 1000000.0}},
            pad_token_id=0, **common_causal)),
        'bert': ('BertForMaskedLM', lambda: T.BertConfig(
            vocab_size=V, hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=48,
            max_position_embeddings=64, pad_token_id=tk.pad_token_id)),
        'xlmr': ('XLMRobertaForMaskedLM', lambda: T.XLMRobertaConfig(
            vocab_size=V, hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=48,
            max_position_embeddings=66, type_vocab_size=1, layer_norm_eps=1e-5,
            pad_token_id=tk.pad_token_id, bos_token_id=tk.bos_token_id, eos_token_id=tk.eos_token_id)),
    }


TOK_KIND = {'gpt2': 'bytebpe', 'llama': 'spbpe', 'qwen2': 'bpeqwen', 'qwen3': 'bpeqwen', 'bloom': 'bytebpe',
            'gemma2': 'spgemma', 'gemma3': 'spgemma', 'bert': 'wordpiece', 'xlmr': 'unigram'}
FAMILIES = list(TOK_KIND)


def neuron_module(model, fam, l):
    """The module whose input is block l's neuron vector (after the activation)."""
    if fam == 'gpt2':
        return model.transformer.h[l].mlp.c_proj
    if fam == 'bloom':
        return model.transformer.h[l].mlp.dense_4h_to_h
    if fam == 'bert':
        return model.bert.encoder.layer[l].output.dense
    if fam == 'xlmr':
        return model.roberta.encoder.layer[l].output.dense
    return model.model.layers[l].mlp.down_proj


def small_tokenizer(kind, out):
    texts = [s for r, lang, *_ in [(0, 0)] for s in []]
    texts = []
    for e, s in common.shards():
        if e['lang'] in ('en', 'fr'):
            for f in s['facts']:
                for t in s['templates']:
                    texts.append(t['masked'].replace('[X]', f['subject']).replace('[Y]', f['object']))
    sizes = {'bytebpe': 400, 'bpeqwen': 400, 'spgemma': 420, 'spbpe': 420, 'wordpiece': 400, 'unigram': 400}
    tok, special = toks.train(kind, texts, sizes[kind], small=True)
    return toks.save(tok, special, out)


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            n = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if p.dim() == 1:
                if 'norm' in name.lower() and name.endswith('weight'):
                    # Gemma's RMSNorm multiplies by (1 + w): keep its weights near 0, the others near 1
                    base = 0.0 if 'gemma' in type(model).__name__.lower() else 1.0
                    v = base + 0.1 * n
                else:
                    v = 0.1 * n
            else:
                fan_in = p.shape[-1] if not ('c_' in name and 'gpt2' in type(model).__name__.lower()) else p.shape[0]
                v = n * (1.0 / math.sqrt(fan_in)) * (3.0 if ('embed' in name or 'wte' in name) and 'position' not in name else 1.0)
            p.copy_(v.to(p.dtype))


def tok_query(tk, kind, prompt, target):
    """ids, target position and target id with the engine's conventions (src/engine/families/tokenizer.ts)."""
    if kind == 'causal':
        p = common.rstrip_ws(prompt)
        ids = tk(p)['input_ids']
        while len(ids) > 1 and ids[-1] == tk.eos_token_id and tk.eos_token_id != tk.bos_token_id:
            ids.pop()
        cont = target if target[:1].isspace() else target
        pre = tk(p)['input_ids']
        full = tk(p + cont)['input_ids']
        if len(pre) < len(full) and full[:len(pre)] == pre:
            tid = full[len(pre)]
        else:
            tid = tk(cont, add_special_tokens=False)['input_ids'][0]
        return ids, len(ids) - 1, tid
    ids = tk(prompt)['input_ids']
    pos = [i for i, v in enumerate(ids) if v == tk.mask_token_id]
    assert len(pos) == 1, (prompt, ids)
    tid = tk(target.strip(), add_special_tokens=False)['input_ids'][0]
    return ids, pos[0], tid


class Runner:
    def __init__(self, model, fam):
        self.model, self.fam = model, fam
        self.L = model.config.num_hidden_layers

    def forward(self, ids, pos, replace=None):
        """probs at pos (float64) and the neuron vectors at pos; replace = (layer, vector) substitutes one."""
        acts = {}
        hs = []
        for l in range(self.L):
            def pre(mod, args, l=l):
                x = args[0]
                if replace is not None and replace[0] == l:
                    onehot = torch.zeros(x.shape[1], 1, dtype=x.dtype)
                    onehot[pos] = 1
                    x = x * (1 - onehot) + replace[1].reshape(1, 1, -1) * onehot
                acts[l] = x[0, pos]
                return (x,) + tuple(args[1:])
            hs.append(neuron_module(self.model, self.fam, l).register_forward_pre_hook(pre))
        try:
            out = self.model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        finally:
            for h in hs:
                h.remove()
        return torch.softmax(out.logits[0, pos], -1), acts


def r(x, n=10):
    return float(f'{float(x):.{n}g}')


def family_fixture(fam, out, seed=1234):
    arch, _ = None, None
    kind_tok = TOK_KIND[fam]
    shutil.rmtree(out, ignore_errors=True)
    tk = small_tokenizer(kind_tok, out)
    arch, mkcfg = fam_specs(len(tk), tk)[fam]
    cfg = mkcfg()
    cfg.architectures = [arch]
    torch.manual_seed(seed)
    model = getattr(T, arch)._from_config(cfg, attn_implementation='eager')
    randomize(model, seed)
    model = model.half()
    model.save_pretrained(out, safe_serialization=True)
    for extra in ('generation_config.json',):
        p = os.path.join(out, extra)
        if os.path.exists(p):
            os.remove(p)
    # a SentencePiece charsmap makes tokenizer.json large: keep it gzip'd (the test unpacks it)
    tj = os.path.join(out, 'tokenizer.json')
    if os.path.getsize(tj) > 64 * 1024:
        with open(tj, 'rb') as f, open(tj + '.gz', 'wb') as g:
            g.write(gzip.compress(f.read(), compresslevel=9, mtime=0))
    # the reference: the stored weights, float64
    model = getattr(T, arch).from_pretrained(out, attn_implementation='eager', dtype=torch.float64)
    model.eval()
    run = Runner(model, fam)
    mkind = 'masked' if fam in ('bert', 'xlmr') else 'causal'
    qs = CAUSAL_Q if mkind == 'causal' else masked_q(tk.mask_token)
    special = set(tk.all_special_ids)
    pad = tk.eos_token_id if mkind == 'causal' else tk.mask_token_id
    ig_layer = 1
    res = []
    for prompt, target in qs:
        ids, pos, tid = tok_query(tk, mkind, prompt, target)
        with torch.no_grad():
            probs, acts = run.forward(ids, pos)
        top = torch.argsort(probs, descending=True)[:TOPK]
        # gradient of P(target) w.r.t. a few neurons of every layer, at the actual activations
        grads = []
        for l in range(run.L):
            w = acts[l].detach().clone().requires_grad_(True)
            p, _ = run.forward(ids, pos, (l, w))
            (g,) = torch.autograd.grad(p[tid], w)
            grads.append([r(g[j]) for j in GRAD_NEURONS])
        # SAIG, ⟨PAD⟩ baselines, layer ig_layer
        wbar = acts[ig_layer].detach()
        bpos = [i for i, v in enumerate(ids) if v not in special and not (mkind == 'masked' and i == pos)]
        raw = torch.zeros_like(wbar)
        complete = []
        for i in bpos:
            b_ids = [pad if k == i else v for k, v in enumerate(ids)]
            with torch.no_grad():
                _, bacts = run.forward(b_ids, pos)
            w0 = bacts[ig_layer]
            gsum = torch.zeros_like(wbar)
            for k in range(1, STEPS + 1):
                w = (w0 + (k / STEPS) * (wbar - w0)).clone().requires_grad_(True)
                p, _ = run.forward(ids, pos, (ig_layer, w))
                (g,) = torch.autograd.grad(p[tid], w)
                gsum += g
            attr = (wbar - w0) / STEPS * gsum
            raw += attr
            with torch.no_grad():
                p0, _ = run.forward(ids, pos, (ig_layer, w0))
            complete.append([r(attr.sum()), r(probs[tid] - p0[tid])])
        res.append(dict(
            prompt=prompt, target=target, ids=ids, position=pos, targetId=tid,
            tokens=tk.convert_ids_to_tokens(ids),
            top=[[int(i), r(probs[i])] for i in top], targetProb=r(probs[tid]),
            acts=[[r(v, 9) for v in acts[l].tolist()] for l in range(run.L)],
            grad=dict(neurons=GRAD_NEURONS, values=grads),
            ig=dict(layer=ig_layer, steps=STEPS, baseline='pad', padId=pad, baselinePositions=bpos,
                    raw=[r(v, 9) for v in raw.tolist()], completeness=complete),
        ))
    exp = dict(family=fam, architecture=arch, kind=mkind, tokenizer=kind_tok, versions=dict(
        torch=torch.__version__.split('+')[0], transformers=T.__version__), queries=res)
    if os.path.exists(tj + '.gz'):
        os.remove(tj)
    with open(os.path.join(out, 'expected.json'), 'w', encoding='utf-8') as f:
        json.dump(exp, f, ensure_ascii=False, indent=1)
        f.write('\n')
    return exp


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(common.ROOT, 'tests', 'fixtures', 'reference', 'models'))
    ap.add_argument('families', nargs='*', default=FAMILIES)
    a = ap.parse_args()
    for fam in a.families:
        e = family_fixture(fam, os.path.join(a.out, fam))
        q = e['queries'][0]
        print(fam, e['architecture'], 'ids', q['ids'], 'P(target)', q['targetProb'], 'top1', q['top'][0])

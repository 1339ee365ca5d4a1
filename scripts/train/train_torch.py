"""PyTorch + transformers trainer for the bundled demo models (an alternative to scripts/train/train-demo.ts).

  .cache/venv-ref/bin/python scripts/train/train_torch.py --data <dump dir> --out <hf dir> [flags]

<dump dir> is written by scripts/train/dump-data.ts (the same data, tokenizer, split and batch order as
train-demo.ts). The model is transformers' GPT2LMHeadModel / BertForMaskedLM built from the dumped config.json;
the objective is model.ts's lossOf: cross-entropy with label smoothing at the label positions only (the LM head
is applied to the gathered hidden states of those positions) + l1 * sum over layers of mean |FFN activation| at
the label positions (forward hooks on the MLP activation). Layers >= --attn-layers have zero, frozen attention
weights and biases (GPT-2: attn.c_attn, attn.c_proj, and ln_1, which only feeds them; BERT: attention.self.*,
attention.output.dense), as model.ts freezeAttention, so the saved checkpoint is a standard HF model that computes
the same thing. Adam (0.9, 0.98, eps 1e-8), linear warm-up then cosine decay to 10 % (train-demo.ts lrAt), global
gradient-norm clipping at 1, no weight decay, no dropout. Initialisation as model.ts initParams: N(0, 0.02),
output projections N(0, 0.02 / sqrt(2 * layers)), LayerNorm 1/0, biases 0.

Stops at --steps, at --max-minutes, or once the sampled trained accuracy (every 4th trained query, first target
token, checked every --eval-every steps) is >= --target-accuracy in every language (train-demo.ts's criterion).
Writes <hf dir>: save_pretrained (safetensors, F32), tokenizer.json, tokenizer_config.json, split.json,
train-log.json, hf-check.json (transformers' top-1 on 50 trained queries after reloading the folder).
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
import transformers
from transformers import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel

LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko']


def load_examples(path):
    a = np.fromfile(path, dtype='<i4')
    n, n_ids, n_lab, nb = (int(x) for x in a[:4])
    o = 4
    id_off = a[o:o + n + 1]; o += n + 1
    lab_off = a[o:o + n + 1]; o += n + 1
    b_off = a[o:o + nb + 1]; o += nb + 1
    ids = a[o:o + n_ids]; o += n_ids
    labels = a[o:o + 2 * n_lab].reshape(-1, 2); o += 2 * n_lab
    assert o == len(a), path
    ex = [(ids[id_off[i]:id_off[i + 1]], labels[lab_off[i]:lab_off[i + 1]]) for i in range(n)]
    sp = path[:-4] + '.subj.bin'  # dump-data.ts --subject-spans: per example the subject's [start, end), or -1 -1
    if os.path.exists(sp):
        s = np.fromfile(sp, dtype='<i4').reshape(-1, 2)
        assert len(s) == n, sp
        ex = [(x, lab, (int(s[i, 0]), int(s[i, 1])) if s[i, 0] >= 0 else None) for i, (x, lab) in enumerate(ex)]
    return ex, [ex[b_off[i]:b_off[i + 1]] for i in range(nb)]


def make_batch(examples, pad=0, first_label_only=False):
    """ids [B, T] (right-padded), attention mask [B, T], flat label rows (b * T + p) and label ids."""
    B, T = len(examples), max(len(e[0]) for e in examples)
    ids = np.full((B, T), pad, dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    rows, ys = [], []
    for b, (x, lab, *_) in enumerate(examples):
        ids[b, :len(x)] = x
        mask[b, :len(x)] = 1
        for p, y in (lab[:1] if first_label_only else lab):
            rows.append(b * T + int(p))
            ys.append(int(y))
    return torch.from_numpy(ids), torch.from_numpy(mask), torch.tensor(rows), torch.tensor(ys)


def subject_mask(examples):
    """[label rows, T]: 1 at the subject's positions of each label row's example (0 where it has no span)"""
    T = max(len(e[0]) for e in examples)
    rows = []
    for e in examples:
        m = np.zeros(T, dtype=np.float32)
        if len(e) > 2 and e[2] is not None:
            m[e[2][0]:e[2][1]] = 1
        rows += [m] * len(e[1])
    return torch.from_numpy(np.stack(rows))


def attn_param_names(model, kind, attn_layers, n_layers):
    """parameters that stay zero (and frozen) in the layers without attention"""
    out = []
    for name, _ in model.named_parameters():
        parts = name.split('.')
        if kind == 'causal' and name.startswith('transformer.h.'):
            l, rest = int(parts[2]), '.'.join(parts[3:])
            if l >= attn_layers and (rest.startswith('attn.') or rest.startswith('ln_1.')):
                out.append(name)
        if kind == 'masked' and name.startswith('bert.encoder.layer.'):
            l, rest = int(parts[3]), '.'.join(parts[4:])
            if l >= attn_layers and (rest.startswith('attention.self.') or rest.startswith('attention.output.dense.')):
                out.append(name)
    return out


def init_like_model_ts(model, kind, n_layers, frozen, seed):
    g = torch.Generator().manual_seed(seed)
    proj = 0.02 / math.sqrt(2 * n_layers)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in frozen and not ('ln_1.weight' in name):
                p.zero_()
            elif 'LayerNorm.weight' in name or name.endswith(('ln_1.weight', 'ln_2.weight', 'ln_f.weight')):
                p.fill_(1.0)
            elif name.endswith('bias'):
                p.zero_()
            else:
                is_proj = name.endswith(('attn.c_proj.weight', 'mlp.c_proj.weight')) if kind == 'causal' else \
                    name.endswith(('attention.output.dense.weight', '.output.dense.weight'))
                p.copy_(torch.randn(p.shape, generator=g) * (proj if is_proj else 0.02))


class Trainer:
    """The training forward: the HF modules themselves, run at every position only up to the last attention
    layer; above it positions no longer interact (zero attention), so the rest of each layer (GPT-2: the MLP
    sub-block, the attention adding exactly 0; BERT: attention.output on a zero context, intermediate, output)
    runs on the label rows only, as model.ts does. Mathematically the same as the full HF forward."""

    def __init__(self, model, kind, l1, attn_layers, direct_penalty=0.0, direct_scope='all'):
        self.model, self.kind, self.l1, self.attn_layers = model, kind, l1, attn_layers
        self.direct_penalty, self.direct_scope = direct_penalty, direct_scope
        self.qkv, self.subj = [], None
        self.acts = []
        if kind == 'causal':
            self.layers = list(model.transformer.h)
            mods = [blk.mlp.act for blk in self.layers]
            base = model.transformer
        else:
            self.layers = list(model.bert.encoder.layer)
            mods = [lay.intermediate.intermediate_act_fn for lay in self.layers]
            base = model.bert
        self.n = len(self.layers)
        # a shallow view of the base model with only the attention layers (and no final norm): shares the parameters
        self.prefix = copy.copy(base)
        self.prefix._modules = dict(base._modules)
        if kind == 'causal':
            self.prefix.h = nn.ModuleList(self.layers[:attn_layers])
            self.prefix.ln_f = nn.Identity()
        else:
            enc = copy.copy(base.encoder)
            enc._modules = dict(base.encoder._modules)
            enc.layer = nn.ModuleList(self.layers[:attn_layers])
            self.prefix.encoder = enc
        self.hooking = False
        for m in mods:
            m.register_forward_hook(self._hook)
        # --direct-penalty (masked): the attention outputs (before their LayerNorm) and every encoder LayerNorm's
        # input, in call order, to compute the attention's direct contribution to the correct logit
        self.attn_outs, self.ln_ins = [], []
        if direct_penalty > 0:
            if kind != 'masked':
                sys.exit('--direct-penalty: only for --model masked')
            def keep_out(_m, _i, out):
                if self.hooking:
                    self.attn_outs.append(out)

            def keep_in(m, inp):
                if self.hooking:
                    self.ln_ins.append((m, inp[0]))
            def keep_qkv(_m, _i, out):
                if self.hooking:
                    self.qkv.append(out)
            for l, lay in enumerate(self.layers):
                if l < attn_layers:
                    lay.attention.output.dense.register_forward_hook(keep_out)
                    if direct_scope == 'subject':  # query, key, value outputs, in this order, per attention layer
                        for lin in (lay.attention.self.query, lay.attention.self.key, lay.attention.self.value):
                            lin.register_forward_hook(keep_qkv)
                for ln in (lay.attention.output.LayerNorm, lay.output.LayerNorm):
                    ln.register_forward_pre_hook(keep_in)

    def _hook(self, _m, _inp, out):
        if self.hooking:
            self.acts.append(out.reshape(-1, out.shape[-1]))

    def logits_at_rows(self, ids, mask, rows, want_acts=False):
        """logits at the flat label rows; with want_acts, self.acts = the FFN activations at those rows per layer"""
        self.acts, self.attn_outs, self.ln_ins, self.qkv = [], [], [], []
        self.hooking = want_acts
        self.batch_mask, self.batch_rows = mask, rows
        try:
            h = self.prefix(input_ids=ids, attention_mask=mask).last_hidden_state
            h = h.reshape(-1, h.shape[-1])[rows]
            if want_acts:
                self.acts = [a[rows] for a in self.acts]
                self.attn_outs = [a.reshape(-1, a.shape[-1])[rows] for a in self.attn_outs]
                self.ln_ins = [(m, x.reshape(-1, x.shape[-1])[rows]) for m, x in self.ln_ins]
            for lay in self.layers[self.attn_layers:]:
                if self.kind == 'causal':
                    h = h + lay.mlp(lay.ln_2(h))
                else:
                    h = lay.attention.output(torch.zeros_like(h), h)
                    h = lay.output(lay.intermediate(h), h)
            if self.kind == 'causal':
                logits = self.model.transformer.ln_f(h) @ self.model.transformer.wte.weight.T
            else:
                logits = self.model.cls(h)
                self.h_final = h
        finally:
            self.hooking = False
        return logits

    def subject_parts(self):
        """per attention layer, at the label rows: the attention output's part that comes from the subject tokens' values
        (softmax(QK^T) restricted to the subject's positions, times V, times the output dense; no bias)"""
        B, T = self.batch_mask.shape
        b = self.batch_rows // T
        keymask = (1.0 - self.batch_mask[b].float()) * -1e9  # [R, T]
        out = []
        for j in range(self.attn_layers):
            q, k, v = self.qkv[3 * j:3 * j + 3]
            sa = self.layers[j].attention.self
            H, dh = sa.num_attention_heads, sa.attention_head_size
            qr = q.reshape(B * T, H, dh)[self.batch_rows]
            kr, vr = k.reshape(B, T, H, dh)[b], v.reshape(B, T, H, dh)[b]
            a = torch.softmax(torch.einsum('rhd,rthd->rht', qr, kr) / math.sqrt(dh) + keymask[:, None, :], -1)
            dense = self.layers[j].attention.output.dense
            if not getattr(self, 'checked', False):  # once: the recomputed attention is the model's
                full = torch.einsum('rht,rthd->rhd', a, vr).reshape(len(b), -1) @ dense.weight.T + dense.bias
                err = (full - self.attn_outs[j]).abs().max().item()
                assert err < 1e-4, f'--direct-scope subject: recomputed attention differs by {err}'
                self.checked = True
            ctx = torch.einsum('rht,rthd->rhd', a * self.subj[:, None, :], vr).reshape(len(b), -1)
            out.append(ctx @ dense.weight.T)
        return out

    def direct_score(self, ys):
        """per label row: the direct contribution of the attention outputs to (logit of the label - mean logit), with
        every LayerNorm's 1/std and the MLM head's ReLU gate frozen at their actual values (so the path is linear),
        and the LayerNorm scales, head transform and unembedding detached (only the attention side is pushed)"""
        tr = self.model.cls.predictions.transform
        dec = self.model.cls.predictions.decoder.weight.detach()
        dirn = dec[ys] - dec.mean(0)
        pre = tr.dense(self.h_final)
        gate = (pre > 0).float().detach()
        xt = tr.transform_act_fn(pre)
        st = torch.sqrt(xt.var(-1, unbiased=False, keepdim=True) + tr.LayerNorm.eps).detach()
        total = 0
        parts = self.subject_parts() if self.direct_scope == 'subject' else self.attn_outs
        for j, c in enumerate(parts):
            for m, xin in self.ln_ins[2 * j:]:
                s = torch.sqrt(xin.var(-1, unbiased=False, keepdim=True) + m.eps).detach()
                c = m.weight.detach() * (c - c.mean(-1, keepdim=True)) / s
            c = (c @ tr.dense.weight.detach().T) * gate
            c = tr.LayerNorm.weight.detach() * (c - c.mean(-1, keepdim=True)) / st
            total = total + (c * dirn).sum(-1)
        return total

    def loss(self, ids, mask, rows, ys, eps):
        logits = self.logits_at_rows(ids, mask, rows, want_acts=self.l1 > 0 or self.direct_penalty > 0)
        loss = F.cross_entropy(logits, ys, label_smoothing=eps)
        if self.direct_penalty > 0:
            assert len(self.ln_ins) == 2 * self.n and len(self.attn_outs) == self.attn_layers, (len(self.ln_ins), len(self.attn_outs))
            self.last_direct = self.direct_score(ys)
            if self.direct_scope == 'subject':  # the queries' rows only (name lines have no subject)
                has = (self.subj.sum(-1) > 0).float()
                loss = loss + self.direct_penalty * (F.relu(self.last_direct) * has).sum() / has.sum().clamp(min=1)
            else:
                loss = loss + self.direct_penalty * F.relu(self.last_direct).mean()
        if self.l1 > 0:
            assert len(self.acts) == self.n
            pen = sum(a.abs().mean() for a in self.acts)
            loss = loss + self.l1 * pen
        self.acts = []
        return loss


def lr_at(lr, warmup, steps, step):
    if step < warmup:
        return lr * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


@torch.no_grad()
def sampled_accuracy(tr, sample, langs, bs=128):
    tr.model.eval()
    hit = {}
    for i in range(0, len(sample), bs):
        chunk = sample[i:i + bs]
        ids, mask, rows, ys = make_batch(chunk, first_label_only=True)
        pred = tr.logits_at_rows(ids, mask, rows).argmax(-1)
        for j, ok in enumerate((pred == ys).tolist()):
            h = hit.setdefault(langs[i + j], [0, 0])
            h[0] += int(ok)
            h[1] += 1
    tr.model.train()
    return {l: round(c / n, 4) for l, (c, n) in hit.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='folder written by dump-data.ts')
    ap.add_argument('--out', required=True, help='HF folder to write')
    ap.add_argument('--layers', type=int)
    ap.add_argument('--hidden', type=int)
    ap.add_argument('--ffn', type=int)
    ap.add_argument('--heads', type=int)
    ap.add_argument('--attn-layers', help='N or all (default: the dumped recipe)')
    ap.add_argument('--label-smoothing', type=float)
    ap.add_argument('--l1', type=float)
    ap.add_argument('--steps', type=int, help='schedule length and step limit (default: the dumped spec)')
    ap.add_argument('--max-minutes', type=float)
    ap.add_argument('--target-accuracy', type=float, default=0.99)
    ap.add_argument('--eval-every', type=int, default=500)
    ap.add_argument('--log-every', type=int, default=50)
    ap.add_argument('--seed', type=int)
    ap.add_argument('--lr', type=float)
    ap.add_argument('--warmup', type=int)
    ap.add_argument('--batch', type=int, help='default: the dumped batch (then the dumped batch order is used)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--mlm-transform', choices=['learned', 'identity'], default='learned',
                    help='masked only: identity fixes the MLM head transform dense to I, bias 0 (untrained), so the fact cannot live there')
    ap.add_argument('--direct-penalty', type=float, default=0.0,
                    help='masked only: + this x mean over label rows of max(0, the attention outputs\' direct contribution '
                         'to the label\'s logit minus the mean logit), LayerNorm scales and the head gate frozen: the '
                         'subject -> object lookup may not bypass the FFN (default 0: off)')
    ap.add_argument('--direct-scope', choices=['all', 'subject'], default='all',
                    help='with --direct-penalty: all = the whole attention output (default); subject = only the part that '
                         'comes from the query\'s subject tokens (needs a dump with --subject-spans): the template may still '
                         'pick the language and relation directly, the subject -> object lookup must go through the FFN')
    ap.add_argument('--value-dims', type=int,
                    help='masked/causal: keep only the first K value dimensions of every head in the attention layers '
                         '(the other rows of the value projection and its bias stay zero, frozen), so the OV circuit has '
                         'rank <= K x heads: too low for a direct subject -> object lookup, so the FFN must decode it '
                         '(default: all, head size)')
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    meta = json.load(open(os.path.join(a.data, 'meta.json')))
    spec, recipe, kind = meta['spec'], meta['recipe'], meta['kind']
    cfg = json.load(open(os.path.join(a.data, 'config.json')))
    seed = spec['seed'] if a.seed is None else a.seed
    lr = spec['lr'] if a.lr is None else a.lr
    warmup = spec['warmup'] if a.warmup is None else a.warmup
    steps = spec['steps'] if a.steps is None else a.steps
    batch = spec['batch'] if a.batch is None else a.batch
    eps = recipe['labelSmoothing'] if a.label_smoothing is None else a.label_smoothing
    l1 = recipe['l1'] if a.l1 is None else a.l1
    torch.manual_seed(seed)

    if kind == 'causal':
        for k, v in (('n_layer', a.layers), ('n_embd', a.hidden), ('n_inner', a.ffn), ('n_head', a.heads)):
            if v is not None:
                cfg[k] = v
        n_layers = cfg['n_layer']
        config = GPT2Config(**{k: v for k, v in cfg.items() if k not in ('architectures', 'torch_dtype')})
        config.architectures = ['GPT2LMHeadModel']
        model = GPT2LMHeadModel(config)
    else:
        for k, v in (('num_hidden_layers', a.layers), ('hidden_size', a.hidden), ('intermediate_size', a.ffn), ('num_attention_heads', a.heads)):
            if v is not None:
                cfg[k] = v
        n_layers = cfg['num_hidden_layers']
        config = BertConfig(**{k: v for k, v in cfg.items() if k not in ('architectures', 'torch_dtype')})
        config.architectures = ['BertForMaskedLM']
        model = BertForMaskedLM(config)
    if a.attn_layers is None:
        attn_layers = recipe.get('attnLayers', n_layers)
    else:
        attn_layers = n_layers if a.attn_layers == 'all' else int(a.attn_layers)
    attn_layers = min(attn_layers, n_layers)
    frozen = set(attn_param_names(model, kind, attn_layers, n_layers))
    init_like_model_ts(model, kind, n_layers, frozen, seed)
    fixed = set()
    if a.mlm_transform == 'identity':
        if kind != 'masked':
            sys.exit('--mlm-transform identity: only for --model masked (BERT has the MLM head transform)')
        dense = model.cls.predictions.transform.dense
        with torch.no_grad():
            dense.weight.copy_(torch.eye(dense.weight.shape[0]))
            dense.bias.zero_()
        fixed = {'cls.predictions.transform.dense.weight', 'cls.predictions.transform.dense.bias'}
    # --value-dims: row masks on the value projections of the attention layers (zero, and kept zero by a gradient mask)
    row_masks = {}
    if a.value_dims is not None:
        for l in range(attn_layers):
            if kind == 'masked':
                sa = model.bert.encoder.layer[l].attention.self
                H, dh = sa.num_attention_heads, sa.attention_head_size
                pairs = [(f'bert.encoder.layer.{l}.attention.self.value.weight', sa.value.weight),
                         (f'bert.encoder.layer.{l}.attention.self.value.bias', sa.value.bias)]
                keep = torch.zeros(H, dh)
                keep[:, :a.value_dims] = 1
                keep = keep.reshape(-1)  # output rows of the value projection, head-major
            else:
                at = model.transformer.h[l].attn
                d = config.n_embd
                H, dh = config.n_head, d // config.n_head
                keep = torch.ones(3, H, dh)  # c_attn output columns: q | k | v
                keep[2, :, a.value_dims:] = 0
                keep = keep.reshape(-1)
                pairs = [(f'transformer.h.{l}.attn.c_attn.weight', at.c_attn.weight), (f'transformer.h.{l}.attn.c_attn.bias', at.c_attn.bias)]
            for name, p in pairs:
                m = keep[:, None].expand_as(p).clone() if (kind == 'masked' and p.dim() == 2) else \
                    (keep[None, :].expand_as(p).clone() if p.dim() == 2 else keep.clone())
                with torch.no_grad():
                    p.mul_(m)
                row_masks[name] = (p, m)
                p.register_hook(lambda g, m=m: g * m)
    for name, p in model.named_parameters():
        p.requires_grad_(name not in frozen and name not in fixed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.0)
    model.train()
    if a.direct_scope == 'subject' and (a.direct_penalty <= 0 or not meta.get('subjectSpans')):
        sys.exit('--direct-scope subject: needs --direct-penalty > 0 and a dump made with --subject-spans')
    tr = Trainer(model, kind, l1, attn_layers, a.direct_penalty, a.direct_scope)

    base, _ = load_examples(os.path.join(a.data, 'base.bin'))
    langs = json.load(open(os.path.join(a.data, 'base-langs.json')))
    sample = [e for i, e in enumerate(base) if i % 4 == 0]
    sample_langs = [l for i, l in enumerate(langs) if i % 4 == 0]

    epoch_files = [e['file'] for e in meta['epochs']]

    def batches():
        for f in epoch_files:
            ex, bs = load_examples(os.path.join(a.data, f))
            if batch == spec['batch']:
                yield from bs
            else:  # another batch size: consecutive chunks of the dumped (window-sorted, shuffled) order
                for i in range(0, len(ex), batch):
                    yield ex[i:i + batch]

    n_params = sum(p.numel() for p in model.parameters())
    print(f"{meta['name']}: torch {torch.__version__}, transformers {transformers.__version__}, {n_params} params, "
          f"attention in layers 0..{attn_layers - 1}, {len(frozen)} frozen tensors, steps {steps}, batch {batch}, lr {lr}, "
          f"label smoothing {eps}, l1 {l1}", flush=True)
    t0 = time.time()
    log, step, loss_sum, n_sum, stop_reason = [], 0, 0.0, 0, None
    acc = None
    it = batches()
    while step < steps:
        b = next(it, None)
        if b is None:
            stop_reason = 'data exhausted (dump more epochs)'
            break
        ids, mask, rows, ys = make_batch(b)
        if a.direct_scope == 'subject':
            tr.subj = subject_mask(b)
        for g in opt.param_groups:
            g['lr'] = lr_at(lr, warmup, steps, step)
        loss = tr.loss(ids, mask, rows, ys, eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if row_masks:
            with torch.no_grad():
                for p, m in row_masks.values():
                    p.mul_(m)
        step += 1
        loss_sum += loss.item()
        n_sum += 1
        el = time.time() - t0
        if step % a.log_every == 0 or step == steps:
            entry = {'step': step, 'loss': loss_sum / n_sum, 'seconds': round(el, 1)}
            if a.direct_penalty > 0:
                entry['direct'] = round(float(tr.last_direct.mean()), 3)
            log.append(entry)
            print(f"{meta['name']} step {step}/{steps} loss {loss_sum / n_sum:.4f}{' direct %.3f' % entry['direct'] if 'direct' in entry else ''} lr {lr_at(lr, warmup, steps, step):.2e} "
                  f"elapsed {el:.0f} s ({el / step * 1000:.0f} ms/step)", flush=True)
            loss_sum, n_sum = 0.0, 0
        if step % a.eval_every == 0 or step == steps:
            acc = sampled_accuracy(tr, sample, sample_langs)
            print(f"{meta['name']} step {step} sampled trained accuracy {json.dumps(acc)}", flush=True)
            if log:
                log[-1]['acc'] = acc
            if all(acc.get(l, 0) >= a.target_accuracy for l in LANGS):
                stop_reason = f'every language >= {a.target_accuracy} on the sample'
                break
        if a.max_minutes is not None and time.time() - t0 > a.max_minutes * 60:
            stop_reason = f'--max-minutes {a.max_minutes}'
            break
    seconds = time.time() - t0
    if acc is None or (log and 'acc' not in log[-1]):
        acc = sampled_accuracy(tr, sample, sample_langs)
    print(f"{meta['name']}: stopped at step {step} ({stop_reason or 'steps done'}), {seconds:.0f} s, sampled accuracy {json.dumps(acc)}", flush=True)

    with torch.no_grad():  # the frozen tensors are still exactly zero (they had no optimizer)
        for name, p in model.named_parameters():
            if name in frozen and 'ln_1.weight' not in name:
                assert p.abs().max().item() == 0.0, name
        for name, (p, m) in row_masks.items():
            assert (p * (1 - m)).abs().max().item() == 0.0, name
    os.makedirs(a.out, exist_ok=True)
    model.save_pretrained(a.out, safe_serialization=True)
    for f in ('tokenizer.json', 'tokenizer_config.json', 'split.json'):
        shutil.copy(os.path.join(a.data, f), os.path.join(a.out, f))
    flags = {k: v for k, v in vars(a).items()}
    json.dump({
        'format': 'kn-train-torch-log', 'name': meta['name'], 'kind': kind, 'steps': step, 'scheduledSteps': steps,
        'seconds': round(seconds, 1), 'stopReason': stop_reason or 'steps done',
        'finalLoss': log[-1]['loss'] if log else None, 'sampledAccuracy': acc,
        'effective': {'seed': seed, 'lr': lr, 'warmup': warmup, 'batch': batch, 'labelSmoothing': eps, 'l1': l1,
                      'attnLayers': attn_layers, 'layers': n_layers, 'mlmTransform': a.mlm_transform,
                      'valueDims': a.value_dims, 'directPenalty': a.direct_penalty, 'directScope': a.direct_scope},
        'flags': flags, 'recipe': recipe, 'dump': os.path.abspath(a.data), 'params': n_params,
        'versions': {'torch': torch.__version__, 'transformers': transformers.__version__, 'python': sys.version.split()[0]},
        'log': log,
    }, open(os.path.join(a.out, 'train-log.json'), 'w'), indent=1)

    # transformers itself loads the folder: its full-model top-1 on 50 trained queries (for export-hf.ts to compare)
    cls = GPT2LMHeadModel if kind == 'causal' else BertForMaskedLM
    m2 = cls.from_pretrained(a.out).eval()
    step_ = max(1, len(base) // 50)
    check = []
    with torch.no_grad():
        for i in range(0, len(base), step_)[:50]:
            x, lab = base[i][:2]
            pos = int(lab[0][0])
            inp = torch.from_numpy(np.asarray(x[:pos + 1] if kind == 'causal' else x, dtype=np.int64))[None]
            top = int(m2(input_ids=inp).logits[0, pos].argmax())
            check.append({'ids': [int(v) for v in x], 'position': pos, 'label': int(lab[0][1]), 'top1': top, 'lang': langs[i]})
    json.dump(check, open(os.path.join(a.out, 'hf-check.json'), 'w'))
    print(f"{meta['name']}: wrote {a.out} (transformers reload: {sum(c['top1'] == c['label'] for c in check)}/{len(check)} checked queries correct)", flush=True)


if __name__ == '__main__':
    main()

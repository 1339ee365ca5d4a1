"""The GPU check's PyTorch side: the same query's SAIG attributions with transformers, on CUDA (or the CPU for --dry).

A line-protocol server (one JSON object per line on stdin, one answer per line on stdout, logs on stderr), so that
torch and transformers are imported once, while the Node side measures its own backend:
  {"cmd": "hello"}  -> versions, the device
  {"cmd": "ig", "dir", "family", "ids", "position", "target", "baseline_positions", "pad", "steps", "quadrature",
   "layers", "out", "repeat"} -> load_s, first_s, query_s (the best of `repeat` timed runs after the first), and the raw
   attributions [layers x F] as float32 in `out`
  {"cmd": "quit"}

The method is the reference's (scripts/reference/models.py: the neuron vector = the input of the FFN's output
projection at the target position, replaced through a forward pre-hook on `models.neuron_module`; ⟨PAD⟩ baselines =
the query with one ordinary token replaced by `pad`; raw = Σ over baselines of (w̄ − w') · Σ_k ω_k ∂P(target)/∂w at
w' + t_k (w̄ − w')), here in float32 (TF32 off) with every interpolation point of a layer in one batch, as an
efficient PyTorch user would write it (Captum's internal batching, Dai et al.'s batch of M points).
"""
import argparse
import json
import math
import os
import sys
import time


def log(*a):
    print('[torch]', *a, file=sys.stderr, flush=True)


def answer(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reference', required=True, help='the folder of scripts/reference (models.py)')
    ap.add_argument('--device', default='cuda', help='cuda, or cpu (only for --dry)')
    ap.add_argument('--max-rows', type=int, default=640, help='most sequences in one batched forward + backward')
    a = ap.parse_args()
    try:
        import numpy as np
        import torch
        import transformers as T
    except Exception as e:  # noqa: BLE001
        answer({'ok': False, 'error': f'torch/transformers cannot be imported: {e}'})
        return
    T.utils.logging.disable_progress_bar()
    sys.path.insert(0, a.reference)
    import models  # noqa: E402  (the reference: neuron_module)
    # models.py sets these for its float64 CPU fixtures; the check measures speed on the GPU
    torch.use_deterministic_algorithms(False)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if a.device == 'cuda' and not torch.cuda.is_available():
        answer({'ok': False, 'error': 'torch sees no CUDA device', 'torch': torch.__version__})
        return
    dev = torch.device(a.device)
    hello = {'ok': True, 'torch': torch.__version__, 'transformers': T.__version__, 'device': a.device,
             'device_name': torch.cuda.get_device_name(0) if a.device == 'cuda' else 'cpu'}

    def sync():
        if a.device == 'cuda':
            torch.cuda.synchronize()

    def load(d, fam):
        cfg = json.load(open(os.path.join(d, 'config.json')))
        arch = getattr(T, cfg['architectures'][0])
        m, info = arch.from_pretrained(d, dtype=torch.float32, output_loading_info=True)
        tied = {'lm_head.weight', 'lm_head.decoder.weight', 'lm_head.decoder.bias'}
        missing = [k for k in info.get('missing_keys', []) if k not in tied]
        if missing:
            raise RuntimeError(f'{d}: tensors transformers did not find: {missing[:5]}')
        return m.to(dev).eval()

    def attribute(model, fam, j):
        ids, pos, tid = j['ids'], j['position'], j['target']
        steps, layers = j['steps'], j['layers']
        if j['quadrature'] == 'gauss-legendre':
            x, w = np.polynomial.legendre.leggauss(steps)
            ts, ws = (x + 1) / 2, w / 2
        else:
            ts, ws = [k / steps for k in range(1, steps + 1)], [1 / steps] * steps
        ts = torch.tensor(ts, dtype=torch.float32, device=dev)
        ws = torch.tensor(ws, dtype=torch.float32, device=dev)
        L = model.config.num_hidden_layers
        state = {'layer': None, 'w': None, 'acts': None}

        def hook_for(l):
            def pre(mod, args):
                x = args[0]
                if state['acts'] is not None:
                    state['acts'][l] = x[:, pos].detach()
                if state['layer'] == l:
                    x = x.clone()
                    x[:, pos] = state['w']
                    return (x,) + tuple(args[1:])
                return None
            return pre

        hs = [models.neuron_module(model, fam, l).register_forward_pre_hook(hook_for(l)) for l in range(L)]
        try:
            bpos = j['baseline_positions']
            seqs = [ids] + [[j['pad'] if k == i else v for k, v in enumerate(ids)] for i in bpos]
            state['acts'] = {}
            with torch.no_grad():
                model(input_ids=torch.tensor(seqs, device=dev))
            acts = state['acts']
            state['acts'] = None
            B, M = len(bpos), steps
            raw = torch.zeros(len(layers), acts[0].shape[-1], dtype=torch.float32, device=dev)
            for li, l in enumerate(layers):
                wbar, w0 = acts[l][0], acts[l][1:]  # [F], [B, F]
                pts = (w0[:, None, :] + ts[None, :, None] * (wbar - w0)[:, None, :]).reshape(B * M, -1)
                gsum = torch.zeros(B * M, pts.shape[-1], dtype=torch.float32, device=dev)
                for r0 in range(0, B * M, a.max_rows):
                    w = pts[r0:r0 + a.max_rows].clone().requires_grad_(True)
                    state['layer'], state['w'] = l, w
                    out = model(input_ids=torch.tensor([ids], device=dev).expand(w.shape[0], -1))
                    p = torch.softmax(out.logits[:, pos].float(), -1)[:, tid]
                    (g,) = torch.autograd.grad(p.sum(), w)
                    gsum[r0:r0 + w.shape[0]] = g
                    state['layer'], state['w'] = None, None
                g = (gsum.reshape(B, M, -1) * ws[None, :, None]).sum(1)  # [B, F]
                raw[li] = ((wbar[None] - w0) * g).sum(0)
            return raw
        finally:
            for h in hs:
                h.remove()

    answer(hello)
    model, loaded = None, None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        j = json.loads(line)
        if j.get('cmd') == 'quit':
            break
        if j.get('cmd') == 'hello':
            answer(hello)
            continue
        try:
            t0 = time.perf_counter()
            if loaded != j['dir']:
                model = None
                if a.device == 'cuda':
                    torch.cuda.empty_cache()
                model = load(j['dir'], j['family'])
                loaded = j['dir']
            sync()
            load_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            raw = attribute(model, j['family'], j)
            sync()
            first_s = time.perf_counter() - t1
            best = math.inf
            for _ in range(max(0, j.get('repeat', 1))):
                t2 = time.perf_counter()
                raw = attribute(model, j['family'], j)
                sync()
                best = min(best, time.perf_counter() - t2)
            raw.cpu().numpy().astype('<f4').tofile(j['out'])
            answer({'ok': True, 'load_s': load_s, 'first_s': first_s, 'query_s': best if best < math.inf else first_s,
                    'peak_bytes': torch.cuda.max_memory_allocated() if a.device == 'cuda' else None})
        except Exception as e:  # noqa: BLE001
            log('error:', repr(e))
            answer({'ok': False, 'error': f'{type(e).__name__}: {e}'})
        if j.get('free'):
            model, loaded = None, None
            if a.device == 'cuda':
                torch.cuda.empty_cache()


if __name__ == '__main__':
    main()

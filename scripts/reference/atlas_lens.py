"""Reference for the atlas's logit lens (docs/ATLAS.md, src/engine/atlas/lens.ts): transformers in float64 on the
tiny reference checkpoints (tests/fixtures/reference/models/<family>, written by models.py), the output-weight vector
of a few FFN neurons read through each family's own final norm and head:

  gpt2   lm_head(transformer.ln_f(h[l].mlp.c_proj.weight[j]))            (Conv1D: row j)
  llama  lm_head(model.norm(layers[l].mlp.down_proj.weight[:, j]))
  bert   cls(encoder.layer[l].output.dense.weight[:, j])                (MLM transform: dense, gelu, LayerNorm; decoder + bias)
  xlmr   lm_head(encoder.layer[l].output.dense.weight[:, j])            (the same, RoBERTa's head)

Writes tests/fixtures/atlas/lens.json: per family and neuron every vocabulary logit (10 significant digits).
Run: . scripts/reference/env.sh && "$PY" scripts/reference/atlas_lens.py
"""
import json
import os

import torch
import transformers as T

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
MODELS = os.path.join(ROOT, 'tests', 'fixtures', 'reference', 'models')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'atlas', 'lens.json')


def lens(fam, m, l, j):
    with torch.no_grad():
        if fam == 'gpt2':
            w = m.transformer.h[l].mlp.c_proj.weight[j]
            return m.lm_head(m.transformer.ln_f(w))
        if fam == 'llama':
            w = m.model.layers[l].mlp.down_proj.weight[:, j]
            return m.lm_head(m.model.norm(w))
        if fam == 'bert':
            w = m.bert.encoder.layer[l].output.dense.weight[:, j]
            return m.cls(w.unsqueeze(0))[0]
        if fam == 'xlmr':
            w = m.roberta.encoder.layer[l].output.dense.weight[:, j]
            return m.lm_head(w.unsqueeze(0))[0]
    raise ValueError(fam)


def main():
    out = {'note': 'scripts/reference/atlas_lens.py: transformers float64 logit lens of FFN output vectors', 'transformers': T.__version__, 'families': {}}
    for fam, cls in [('gpt2', T.GPT2LMHeadModel), ('llama', T.LlamaForCausalLM), ('bert', T.BertForMaskedLM), ('xlmr', T.XLMRobertaForMaskedLM)]:
        m = cls.from_pretrained(os.path.join(MODELS, fam), torch_dtype=torch.float64).eval()
        cfg = m.config
        L = cfg.num_hidden_layers
        F = getattr(cfg, 'intermediate_size', None) or getattr(cfg, 'n_inner', None) or 4 * cfg.hidden_size
        neurons = [[0, 0], [1, 5], [L - 1, F - 1]]
        out['families'][fam] = {
            'neurons': [{'neuron': n, 'logits': [float(f'{x:.10g}') for x in lens(fam, m, n[0], n[1]).tolist()]} for n in neurons],
        }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f)
        f.write('\n')


if __name__ == '__main__':
    main()

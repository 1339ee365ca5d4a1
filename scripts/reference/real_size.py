"""Item 4 of issue 12: random-weight checkpoints with the exact configs of xlm-roberta-base,
bigscience/bloom-560m and Qwen/Qwen2.5-0.5B, in the dtype and file layout the hub has them (one
model.safetensors each), with a real tokenizer of the same kind (tests/fixtures/reference/tokenizers).
Written to .cache/reference/real/<org>/<name>/ (not committed, ~3.2 GB); scripts/reference/real-size.ts
serves them with the hub's URL layout and measures loading, probing and attribution.
"""
import gzip
import json
import os
import shutil
import sys

import torch
import transformers as T
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

OUT = os.path.join(common.ROOT, '.cache', 'reference', 'real')
TOK = os.path.join(common.ROOT, 'tests', 'fixtures', 'reference', 'tokenizers')

CONFIGS = {
    'FacebookAI/xlm-roberta-base': ('unigram', torch.float32, {
        'architectures': ['XLMRobertaForMaskedLM'], 'attention_probs_dropout_prob': 0.1, 'bos_token_id': 0, 'eos_token_id': 2,
        'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'hidden_size': 768, 'initializer_range': 0.02,
        'intermediate_size': 3072, 'layer_norm_eps': 1e-05, 'max_position_embeddings': 514, 'model_type': 'xlm-roberta',
        'num_attention_heads': 12, 'num_hidden_layers': 12, 'output_past': True, 'pad_token_id': 1,
        'position_embedding_type': 'absolute', 'type_vocab_size': 1, 'use_cache': True, 'vocab_size': 250002}),
    'bigscience/bloom-560m': ('bytebpe', torch.float16, {
        'apply_residual_connection_post_layernorm': False, 'architectures': ['BloomForCausalLM'], 'attention_dropout': 0.0,
        'attention_softmax_in_fp32': True, 'bias_dropout_fusion': True, 'bos_token_id': 1, 'eos_token_id': 2,
        'hidden_dropout': 0.0, 'hidden_size': 1024, 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-05,
        'masked_softmax_fusion': True, 'model_type': 'bloom', 'n_head': 16, 'n_inner': None, 'n_layer': 24,
        'offset_alibi': 100, 'pad_token_id': 3, 'pretraining_tp': 1, 'skip_bias_add': True, 'skip_bias_add_qkv': False,
        'slow_but_exact': False, 'unk_token_id': 0, 'use_cache': True, 'vocab_size': 250880}),
    'Qwen/Qwen2.5-0.5B': ('bpeqwen', torch.bfloat16, {
        'architectures': ['Qwen2ForCausalLM'], 'attention_dropout': 0.0, 'bos_token_id': 151643, 'eos_token_id': 151643,
        'hidden_act': 'silu', 'hidden_size': 896, 'initializer_range': 0.02, 'intermediate_size': 4864,
        'max_position_embeddings': 32768, 'max_window_layers': 24, 'model_type': 'qwen2', 'num_attention_heads': 14,
        'num_hidden_layers': 24, 'num_key_value_heads': 2, 'rms_norm_eps': 1e-06, 'rope_theta': 1000000.0,
        'sliding_window': 32768, 'tie_word_embeddings': True, 'torch_dtype': 'bfloat16', 'use_cache': True,
        'use_sliding_window': False, 'vocab_size': 151936}),
}
TIED = ('lm_head.weight', 'lm_head.decoder.weight', 'lm_head.decoder.bias')


def write(repo, kind, dtype, cfg):
    out = os.path.join(OUT, repo)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    conf = T.AutoConfig.for_model(cfg['model_type'], **{k: v for k, v in cfg.items() if k != 'model_type'})
    with torch.device('meta'):
        arch = getattr(T, cfg['architectures'][0])
        model = arch(conf)
    g = torch.Generator().manual_seed(0)
    tensors = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        if name in TIED:
            continue
        if p.dim() == 1:
            t = (1.0 if name.endswith('weight') and 'norm' in name.lower() else 0.0) + 0.02 * torch.randn(p.shape, generator=g)
        else:
            t = torch.randn(p.shape, generator=g) * 0.02
        tensors[name] = t.to(dtype).contiguous()
    save_file(tensors, os.path.join(out, 'model.safetensors'), metadata={'format': 'pt'})
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    src = os.path.join(TOK, kind)
    with gzip.open(os.path.join(src, 'tokenizer.json.gz'), 'rb') as f, open(os.path.join(out, 'tokenizer.json'), 'wb') as g2:
        g2.write(f.read())
    shutil.copy(os.path.join(src, 'tokenizer_config.json'), out)
    n = sum(t.numel() for t in tensors.values())
    print(repo, f'{n / 1e6:.1f}M parameters', str(dtype), f'{os.path.getsize(os.path.join(out, "model.safetensors")) / 2**20:.0f} MiB', flush=True)


if __name__ == '__main__':
    for repo in sys.argv[1:] or CONFIGS:
        write(repo, *CONFIGS[repo])

"""Real tokenizer.json files of the four kinds multilingual models use, trained with HF `tokenizers`.

- bytebpe:   byte-level BPE (GPT-2 / mGPT, BLOOM, Qwen2/3, LLaMA-3)
- wordpiece: BERT WordPiece, cased, with the BERT normalizer's Chinese-character splitting (mBERT)
- unigram:   SentencePiece Unigram with Metaspace, <s> … </s>, <mask> with lstrip (XLM-R)
- spbpe:     SentencePiece BPE with byte fallback, ▁ normalizer, <s> BOS (LLaMA-2; Gemma has the same model)
"""
import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

KINDS = ['bytebpe', 'wordpiece', 'unigram', 'spbpe']
KIND_OF = {'bytebpe': 'causal', 'spbpe': 'causal', 'wordpiece': 'masked', 'unigram': 'masked'}
MASK = {'wordpiece': '[MASK]', 'unigram': '<mask>'}


def train(kind, texts, vocab_size):
    texts = list(texts)
    if kind == 'bytebpe':
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        tr = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=['<|endoftext|>'],
                                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(texts, tr)
        special = dict(bos_token='<|endoftext|>', eos_token='<|endoftext|>', unk_token='<|endoftext|>')
    elif kind == 'wordpiece':
        tok = Tokenizer(models.WordPiece(unk_token='[UNK]'))
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        sp = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
        tr = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=sp, show_progress=False)
        tok.train_from_iterator(texts, tr)
        tok.post_processor = processors.TemplateProcessing(
            single='[CLS] $A [SEP]', pair='[CLS] $A [SEP] $B:1 [SEP]:1',
            special_tokens=[('[CLS]', tok.token_to_id('[CLS]')), ('[SEP]', tok.token_to_id('[SEP]'))])
        special = dict(unk_token='[UNK]', sep_token='[SEP]', pad_token='[PAD]', cls_token='[CLS]', mask_token='[MASK]')
    elif kind == 'unigram':
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(' {2,}'), ' ')])
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement='▁', prepend_scheme='always')
        tok.decoder = decoders.Metaspace(replacement='▁', prepend_scheme='always')
        sp = ['<s>', '<pad>', '</s>', '<unk>']
        tr = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=sp, unk_token='<unk>', show_progress=False)
        tok.train_from_iterator(texts, tr)
        tok.add_special_tokens([AddedToken('<mask>', lstrip=True, rstrip=False, normalized=False, special=True)])
        tok.post_processor = processors.TemplateProcessing(
            single='<s> $A </s>', pair='<s> $A </s> </s> $B </s>',
            special_tokens=[('<s>', tok.token_to_id('<s>')), ('</s>', tok.token_to_id('</s>'))])
        special = dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>', sep_token='</s>', pad_token='<pad>', cls_token='<s>', mask_token='<mask>')
    elif kind == 'spbpe':
        norm = normalizers.Sequence([normalizers.Prepend('▁'), normalizers.Replace(' ', '▁')])
        base = Tokenizer(models.BPE(unk_token='<unk>', byte_fallback=True, fuse_unk=True))
        base.normalizer = norm
        nbytes = 256
        tr = trainers.BpeTrainer(vocab_size=max(vocab_size - nbytes, 64), special_tokens=['<unk>', '<s>', '</s>'],
                                 limit_alphabet=min(1000, vocab_size // 4), show_progress=False)
        base.train_from_iterator(texts, tr)
        # SentencePiece layout: <unk> <s> </s>, then the 256 byte pieces <0x00>…<0xFF>, then the pieces
        j = json.loads(base.to_str())
        old = j['model']['vocab']
        vocab = {'<unk>': 0, '<s>': 1, '</s>': 2}
        for b in range(256):
            vocab[f'<0x{b:02X}>'] = 3 + b
        for t, i in sorted(old.items(), key=lambda kv: kv[1]):
            if t not in vocab:
                vocab[t] = len(vocab)
        j['model']['vocab'] = vocab
        for a in j['added_tokens']:
            a['id'] = vocab[a['content']]
        tok = Tokenizer.from_str(json.dumps(j))
        tok.decoder = decoders.Sequence([decoders.Replace('▁', ' '), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(' ', 1, 0)])
        tok.post_processor = processors.TemplateProcessing(single='<s> $A', pair='<s> $A <s> $B', special_tokens=[('<s>', 1)])
        special = dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>')
    else:
        raise ValueError(kind)
    return tok, special


def save(tok, special, out):
    """tokenizer.json + tokenizer_config.json as transformers writes them."""
    os.makedirs(out, exist_ok=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **special)
    fast.save_pretrained(out)
    for extra in ('special_tokens_map.json', 'chat_template.jinja'):
        p = os.path.join(out, extra)
        if os.path.exists(p):
            os.remove(p)
    return load(out)


def load(folder):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(folder)

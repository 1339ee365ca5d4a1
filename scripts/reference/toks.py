"""Real tokenizer.json files of the four kinds multilingual models use, trained with HF `tokenizers`.

- bytebpe:   byte-level BPE (GPT-2 / mGPT, BLOOM, Qwen2/3, LLaMA-3)
- bpeqwen:   byte-level BPE with the NFC normalizer and the Split regex pre-tokenizer of Qwen2/3 and LLaMA-3
- wordpiece: BERT WordPiece, cased, with the BERT normalizer's Chinese-character splitting (mBERT)
- unigram:   SentencePiece Unigram (trained by sentencepiece, nmt_nfkc), converted by transformers as XLM-R
- spbpe:     SentencePiece BPE with byte fallback (trained by sentencepiece), converted by transformers as LLaMA-2
- spgemma:   the same, Gemma's layout (<pad> <eos> <bos> <unk> <mask>, no dummy prefix), converted as Gemma
"""
import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

KINDS = ['bytebpe', 'bpeqwen', 'wordpiece', 'unigram', 'spbpe', 'spgemma']
KIND_OF = {'bytebpe': 'causal', 'bpeqwen': 'causal', 'spbpe': 'causal', 'wordpiece': 'masked', 'unigram': 'masked', 'spgemma': 'causal'}
# Qwen2's pre-tokenizer regex (tokenizer.json of Qwen/Qwen2.5-0.5B)
QWEN_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
MASK = {'wordpiece': '[MASK]', 'unigram': '<mask>'}


def train(kind, texts, vocab_size, small=False):
    """small: a fixture-sized tokenizer (Unigram without the 240 KB nmt_nfkc charsmap)"""
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
    elif kind == 'bpeqwen':
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior='isolated', invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        tr = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
                                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(texts, tr)
        special = dict(eos_token='<|endoftext|>', pad_token='<|endoftext|>')
    elif kind == 'wordpiece':
        tok = Tokenizer(models.WordPiece(unk_token='[UNK]'))
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        sp = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
        tr = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=sp, show_progress=False)
        tok.train_from_iterator(texts, tr)
        # the trainer numbers the ## alphabet in hash-map order: renumber (WordPiece does not depend on ids)
        # so that a regenerated tokenizer is byte-identical
        j = json.loads(tok.to_str())
        rest = sorted((t for t in j['model']['vocab'] if t not in sp), key=lambda t: (t.startswith('##'), len(t), t))
        j['model']['vocab'] = {t: i for i, t in enumerate(sp + rest)}
        tok = Tokenizer.from_str(json.dumps(j))
        tok.post_processor = processors.TemplateProcessing(
            single='[CLS] $A [SEP]', pair='[CLS] $A [SEP] $B:1 [SEP]:1',
            special_tokens=[('[CLS]', tok.token_to_id('[CLS]')), ('[SEP]', tok.token_to_id('[SEP]'))])
        special = dict(unk_token='[UNK]', sep_token='[SEP]', pad_token='[PAD]', cls_token='[CLS]', mask_token='[MASK]')
    elif kind in ('unigram', 'spbpe', 'spgemma'):
        # trained with SentencePiece itself and converted by transformers, as XLM-R's and LLaMA-2's
        # tokenizer.json were (Precompiled nmt_nfkc charsmap for Unigram; ▁ normalizer + byte fallback for BPE)
        return train_spm(kind, texts, vocab_size, small), None
    else:
        raise ValueError(kind)
    return tok, special


def train_spm(kind, texts, vocab_size, small=False):
    import tempfile

    import sentencepiece as spm
    from transformers import GemmaTokenizer, LlamaTokenizer, XLMRobertaTokenizer

    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, 'spm')
        if kind == 'unigram':
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts), model_prefix=prefix, vocab_size=vocab_size, model_type='unigram',
                character_coverage=0.9995, normalization_rule_name='identity' if small else 'nmt_nfkc', num_threads=1, minloglevel=2,
                hard_vocab_limit=False)
            kw = XLMRobertaTokenizer._convert_from_sentencepiece(prefix + '.model', {})
            kw['mask_token'] = AddedToken('<mask>', lstrip=True, rstrip=False, normalized=False, special=True)
            return XLMRobertaTokenizer(**kw)
        if kind == 'spgemma':
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts), model_prefix=prefix, vocab_size=vocab_size, model_type='bpe',
                byte_fallback=True, split_digits=True, normalization_rule_name='identity', remove_extra_whitespaces=False,
                add_dummy_prefix=False, allow_whitespace_only_pieces=True, character_coverage=0.9995, num_threads=1,
                minloglevel=2, hard_vocab_limit=False, pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                pad_piece='<pad>', eos_piece='<eos>', bos_piece='<bos>', unk_piece='<unk>', user_defined_symbols=['<mask>'])
            kw = GemmaTokenizer._convert_from_sentencepiece(prefix + '.model', {})
            kw['add_bos_token'] = True
            return GemmaTokenizer(**kw)
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_prefix=prefix, vocab_size=vocab_size, model_type='bpe',
            byte_fallback=True, split_digits=True, normalization_rule_name='identity', remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True, character_coverage=0.9995, num_threads=1, minloglevel=2,
            hard_vocab_limit=False)
        kw = LlamaTokenizer._convert_from_sentencepiece(prefix + '.model', {})
        kw['add_bos_token'] = True
        return LlamaTokenizer(**kw)


def save(tok, special, out):
    """tokenizer.json + tokenizer_config.json as transformers writes them."""
    os.makedirs(out, exist_ok=True)
    fast = tok if special is None else PreTrainedTokenizerFast(tokenizer_object=tok, **special)
    fast.save_pretrained(out)
    for extra in ('special_tokens_map.json', 'chat_template.jinja'):
        p = os.path.join(out, extra)
        if os.path.exists(p):
            os.remove(p)
    return load(out)


def load(folder):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(folder)

"""Tokenizer parity fixtures: four real tokenizer.json files trained on the benchmark text of all 7 languages
(toks.py), and transformers' tokenization of EVERY RML-LAMA query with them, with the engine's conventions
(models.tok_query): ids with the post-processor's special tokens, the target position (last token /
the mask), the target id (first token of the object as a continuation / at the mask).

Committed (tests/fixtures/reference/tokenizers/<kind>/): tokenizer.json.gz, tokenizer_config.json, and
expected.json = per language and template, the number of queries and a sha1 of their tokenization
(tests/reference/tokenizer-parity.test.ts recomputes it with the engine). The full per-query dump goes to
.cache/reference/tokenizers/<kind>.jsonl.gz (not committed): with it the test names each differing query.
"""
import gzip
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import toks  # noqa: E402
from models import tok_query  # noqa: E402

VOCAB = 4000
OUT = os.path.join(common.ROOT, 'tests', 'fixtures', 'reference', 'tokenizers')
DUMP = os.path.join(common.ROOT, '.cache', 'reference', 'tokenizers')


def line(ids, pos, tid):
    return f"{','.join(map(str, ids))}|{pos}|{'null' if tid is None else tid}"


def main(kinds):
    texts = list(common.corpus())
    os.makedirs(DUMP, exist_ok=True)
    for kind in kinds:
        out = os.path.join(OUT, kind)
        tmp = out + '.tmp'
        shutil.rmtree(tmp, ignore_errors=True)
        tok, special = toks.train(kind, texts, VOCAB)
        tk = toks.save(tok, special, tmp)
        mk = toks.KIND_OF[kind]
        groups = {}
        n = 0
        with gzip.open(os.path.join(DUMP, kind + '.jsonl.gz'), 'wt', encoding='utf-8') as dump:
            for rel, lang, tid_, fact, prompt, target in common.queries(mk, toks.MASK.get(kind, '[MASK]')):
                ids, pos, tid = tok_query(tk, mk, prompt, target)
                if tid == tk.unk_token_id:
                    tid = None  # the engine refuses a target that is not in the vocabulary
                s = line(ids, pos, tid)
                g = groups.setdefault(lang, {}).setdefault(tid_, [])
                g.append(s)
                dump.write(json.dumps([lang, tid_, fact, prompt, target, ids, pos, tid], ensure_ascii=False) + '\n')
                n += 1
        exp = {'kind': kind, 'modelKind': mk, 'vocab': len(tk), 'queries': n, 'languages': {}}
        # special: transformers' named special tokens and every added token flagged special
        exp['specialIds'] = sorted(set(tk.all_special_ids) | {i for i, t in tk.added_tokens_decoder.items() if t.special})
        for lang in common.LANGS:
            exp['languages'][lang] = {t: [len(v), hashlib.sha1('\n'.join(v).encode()).hexdigest()[:16]]
                                      for t, v in sorted(groups.get(lang, {}).items())}
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(tmp, 'tokenizer.json'), 'rb') as f, gzip.GzipFile(os.path.join(out, 'tokenizer.json.gz'), 'wb', mtime=0) as g:
            g.write(f.read())
        shutil.copy(os.path.join(tmp, 'tokenizer_config.json'), os.path.join(out, 'tokenizer_config.json'))
        shutil.rmtree(tmp)
        with open(os.path.join(out, 'expected.json'), 'w', encoding='utf-8') as f:
            json.dump(exp, f, indent=1)
            f.write('\n')
        print(kind, 'vocab', len(tk), 'queries', n, flush=True)


if __name__ == '__main__':
    main(sys.argv[1:] or toks.KINDS)

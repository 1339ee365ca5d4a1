"""Shared helpers of the reference scripts: the RML-LAMA queries, exactly as src/data/queries.ts builds them."""
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DATA = os.path.join(ROOT, 'public', 'data', 'rml-lama')
LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko']


def shards():
    man = json.load(open(os.path.join(DATA, 'manifest.json'), encoding='utf-8'))
    for e in man['shards']:
        yield e, json.load(open(os.path.join(DATA, e['path']), encoding='utf-8'))


def causal_query(t, f):
    if not t['causal']:
        return None
    prefix = t['causal'][:-3].replace('[X]', f['subject'])
    prompt = prefix.rstrip()
    sep = ' ' if len(prefix) > len(prompt) else ''
    return prompt, sep + f['object']


def masked_query(t, f, mask):
    return t['masked'].replace('[X]', f['subject']).replace('[Y]', mask), f['object']


def queries(kind, mask='[MASK]'):
    """(relation, lang, template id, fact id, prompt, target) of every query, shards in manifest order."""
    for e, s in shards():
        for f in s['facts']:
            for t in s['templates']:
                q = causal_query(t, f) if kind == 'causal' else masked_query(t, f, mask)
                if q:
                    yield e['relation'], e['lang'], t['id'], f['id'], q[0], q[1]


def corpus():
    """Every filled sentence of the benchmark (both template forms, object filled in)."""
    for _, s in shards():
        for f in s['facts']:
            for t in s['templates']:
                for form in {t['causal'], t['masked']}:
                    if form:
                        yield form.replace('[X]', f['subject']).replace('[Y]', f['object'])


def rstrip_ws(s):
    # JavaScript's /\s+$/ (the engine trims prompts this way)
    return s.rstrip()

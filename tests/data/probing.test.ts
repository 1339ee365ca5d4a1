import { describe, expect, it } from 'vitest';
import { KnError } from '../../src/shared/errors';
import { openLocal } from '../../src/data/node';
import { evaluate, experimentSets, isKnownLanguage, KNOWN_LANGUAGE_SHARE, KNOWN_RULE, type Prober, type ShardSource } from '../../src/data/probing';
import { shardQueries } from '../../src/data/queries';
import { runDataCommand, runEvalCommand } from '../../src/cli/data-cmd';
import type { Lang, Relation, Shard } from '../../src/data/types';

/** Knows a fact iff the object (trimmed) has an even number of characters; records every call. */
function fakeProber(kind: 'causal' | 'masked' = 'causal'): Prober & { calls: { prompt: string; target: string }[] } {
  const calls: { prompt: string; target: string }[] = [];
  return {
    kind,
    maskToken: kind === 'masked' ? '<mask>' : undefined,
    calls,
    async probe(prompt, { target }) {
      calls.push({ prompt, target });
      const ok = [...target.trim()].length % 2 === 0;
      return { target: { id: 1, prob: ok ? 0.9 : 0.01, rank: ok ? 0 : 3 }, top: [{ id: 1, token: 'x', prob: 0.9 }] };
    },
  };
}
const even = (s: string) => [...s.trim()].length % 2 === 0;

describe('probing', () => {
  it('computes accuracy per relation and language over all queries, with progress', async () => {
    const bench = await openLocal();
    const prober = fakeProber();
    const progress: number[] = [];
    const r = await evaluate(bench, prober, { relations: ['P36', 'P463'], langs: ['en', 'zh', 'fi'], onProgress: (p) => progress.push(p.done) });
    let n = 0,
      c = 0;
    for (const rel of ['P36', 'P463'] as Relation[]) {
      for (const l of ['en', 'zh', 'fi'] as Lang[]) {
        const qs = shardQueries(await bench.shard(rel, l), 'causal');
        const cc = qs.filter((q) => even(q.object)).length;
        expect(r.relations[rel][l]).toEqual({ accuracy: cc / qs.length, n: qs.length, correct: cc });
        if (l === 'en') {
          n += qs.length;
          c += cc;
        }
      }
    }
    expect(r.languages.en).toEqual({ accuracy: c / n, n, correct: c });
    expect(progress.length).toBe(prober.calls.length);
    expect(progress.at(-1)).toBe(prober.calls.length);
    // causal prompts are the text before the object; targets carry the separator
    expect(prober.calls.some((x) => /^The capital of .+ is$/.test(x.prompt) && x.target.startsWith(' '))).toBe(true);
    expect(prober.calls.some((x) => x.prompt.endsWith('的首都是') && !x.target.startsWith(' '))).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it('uses the mask token for masked models and all templates', async () => {
    const bench = await openLocal();
    const prober = fakeProber('masked');
    const r = await evaluate(bench, prober, { relations: ['P37'], langs: ['ko'], limit: 2 });
    const shard = await bench.shard('P37', 'ko');
    expect(r.languages.ko.n).toBe(2 * shard.templates.length);
    for (const x of prober.calls) expect(x.prompt.split('<mask>').length).toBe(2);
  });

  it('derives the experiment sets: known per language, Q_error (fi/hu/ja/ko), Q_new, Q_old', async () => {
    const facts = (rel: string) => [0, 1, 2].map((i) => ({ id: `${rel}:${i}`, subject: `s${i}`, object: 'o' }));
    const mk = (lang: Lang): Shard => ({
      formatVersion: 1,
      version: 't',
      relation: 'P36',
      lang,
      facts: facts('P36'),
      templates: [
        { id: 'a', causal: '[X] a [Y]', masked: '[X] a [Y].', origin: { source: 'written', note: 't' } },
        { id: 'b', causal: '[X] b [Y]', masked: '[X] b [Y].', origin: { source: 'written', note: 't' } },
      ],
    });
    const src: ShardSource = { shard: async (_r, l) => mk(l) };
    // fact 0 known everywhere; fact 1 known only in en via template a; fact 2 never
    const prober: Prober = {
      kind: 'causal',
      async probe(prompt) {
        const ok = prompt.startsWith('s0') || (prompt === 's1 a' && current === 'en');
        return { target: { id: 0, prob: 0.5, rank: ok ? 0 : 1 }, top: [] };
      },
    };
    let current = '';
    const langs: Lang[] = ['en', 'fi', 'ja'];
    const outcomes = [];
    for (const l of langs) {
      current = l;
      outcomes.push(...(await evaluate(src, prober, { relations: ['P36'], langs: [l] })).outcomes);
    }
    const { summarize } = await import('../../src/data/probing');
    const res = summarize('causal', outcomes, [], langs, ['P36']);
    const sets = experimentSets(res);
    expect(sets.known).toEqual({ en: ['P36:0', 'P36:1'], fi: ['P36:0'], ja: ['P36:0'] });
    expect(sets.qOld).toEqual(['P36:0']);
    expect(sets.qNew).toEqual(['P36:2']);
    expect(sets.qError.map((o) => `${o.factId}.${o.lang}.${o.templateId}`).sort()).toEqual([
      'P36:1.fi.a',
      'P36:1.fi.b',
      'P36:1.ja.a',
      'P36:1.ja.b',
      'P36:2.fi.a',
      'P36:2.fi.b',
      'P36:2.ja.a',
      'P36:2.ja.b',
    ]);
    expect(sets.rule).toBe(KNOWN_RULE);
  });

  it("counts a language as known by the session's rule: at least half of its queries top-1 (not 'any', not 'more than half')", async () => {
    const facts = [0, 1, 2, 3].map((i) => ({ id: `P36:${i}`, subject: `s${i}`, object: 'o' }));
    const tpl = (id: string) => ({ id, causal: `[X] ${id} [Y]`, masked: `[X] ${id} [Y].`, origin: { source: 'written' as const, note: 't' } });
    const shard: Shard = { formatVersion: 1, version: 't', relation: 'P36', lang: 'en', facts, templates: ['a', 'b', 'c', 'd'].map(tpl) };
    // fact i is answered top-1 on its first i of the 4 templates: 0/4, 1/4, 2/4, 3/4
    const right: Record<string, string[]> = { s0: [], s1: ['a'], s2: ['a', 'b'], s3: ['a', 'b', 'c'] };
    const prober: Prober = {
      kind: 'causal',
      async probe(prompt) {
        const [subj, t] = prompt.split(' ');
        return { target: { id: 0, prob: 0.5, rank: right[subj].includes(t) ? 0 : 1 }, top: [] };
      },
    };
    const res = await evaluate({ shard: async () => shard }, prober, { relations: ['P36'], langs: ['en'] });
    expect(res.outcomes.length).toBe(16);
    // 1 of 4 is not known (the old default 'any' said it was); 2 of 4 is (the old 'majority' said it was not)
    expect(experimentSets(res).known.en).toEqual(['P36:2', 'P36:3']);
    expect(experimentSets(res).qNew).toEqual(['P36:0', 'P36:1']);
    expect(
      [
        [0, 4],
        [1, 4],
        [2, 4],
        [3, 4],
        [1, 3],
        [1, 2],
        [1, 1],
        [0, 0],
      ].map(([c, n]) => isKnownLanguage(c, n)),
    ).toEqual([false, false, true, true, false, true, true, false]);
    expect(KNOWN_LANGUAGE_SHARE).toBe(0.5);
  });

  it('keeps going when one shard or one query fails, and stops on abort', async () => {
    const bench = await openLocal();
    const src: ShardSource = {
      shard: async (r, l) => {
        if (l === 'hu') throw new KnError('missing-file', 'RML-LAMA shard v1/P36.hu.json: HTTP 404');
        return bench.shard(r, l);
      },
    };
    const base = fakeProber();
    let k = 0;
    const flaky: Prober = { kind: 'causal', probe: (p, o) => (++k === 3 ? Promise.reject(new Error('boom')) : base.probe(p, o)) };
    const r = await evaluate(src, flaky, { relations: ['P36'], langs: ['hu', 'en'], limit: 3 });
    expect(r.errors.map((e) => e.message)).toEqual(['RML-LAMA shard v1/P36.hu.json: HTTP 404', 'boom']);
    expect(r.languages.en.n).toBe(shardQueries(await bench.shard('P36', 'en'), 'causal', undefined, 3).length - 1);
    expect(r.languages.hu.n).toBe(0);

    const ac = new AbortController();
    const stopper: Prober = {
      kind: 'causal',
      probe: async (p, o) => {
        ac.abort();
        return base.probe(p, o);
      },
    };
    await expect(evaluate(bench, stopper, { relations: ['P36'], langs: ['en'], signal: ac.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('CLI commands', () => {
  it('data stats prints the Table I shape', async () => {
    const s = (await runDataCommand(['stats', '--json'])) as any;
    expect(Object.keys(s.languages)).toEqual(['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko']);
    for (const v of Object.values<any>(s.languages)) {
      expect(v).toMatchObject({ facts: expect.any(Number), queries: expect.any(Number), relations: 8, avgLen: expect.any(Number) });
      expect(v.facts).toBe(s.factsInAllLanguages);
    }
    expect(s.factsInAllLanguages).toBeGreaterThanOrEqual(2400);
    await expect(runDataCommand(['frobnicate'])).rejects.toMatchObject({ code: 'bad-input' });
    expect(((await runDataCommand(['verify'])) as any).ok).toBe(true);
  });

  it('eval prints {"languages": {"<lang>": {"accuracy", "n"}}} and checks its arguments', async () => {
    const out = (await runEvalCommand(['--model', 'fake', '--relations', 'P36,P37', '--langs', 'en', 'ja', '--limit', '2', '--json'], fakeProber())) as any;
    expect(Object.keys(out.languages)).toEqual(['en', 'ja']);
    expect(out.languages.en).toMatchObject({ accuracy: expect.any(Number), n: expect.any(Number) });
    expect(out.languages.en.n).toBeGreaterThan(0);
    expect(out.model).toBe('fake');
    // an engine model keeps kind and mask token in info
    const f = fakeProber('masked');
    const model = { info: { kind: 'masked', maskToken: '<mask>' }, probe: f.probe.bind(f) };
    const m = (await runEvalCommand(['--relations', 'P36', '--langs', 'fi', '--limit', '1'], model)) as any;
    expect(m.kind).toBe('masked');
    expect(f.calls.every((c) => c.prompt.includes('<mask>'))).toBe(true);
    await expect(runEvalCommand([], { info: {}, probe: f.probe })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(runEvalCommand(['--langs', 'de'], fakeProber())).rejects.toMatchObject({ code: 'bad-input' });
    await expect(runEvalCommand(['--relations', 'P999'], fakeProber())).rejects.toMatchObject({ code: 'bad-input' });
    await expect(runEvalCommand(['--limit', '0'], fakeProber())).rejects.toMatchObject({ code: 'bad-input' });
  });
});

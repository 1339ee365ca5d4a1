/**
 * The page's edit and teach flows, worker side (src/engine/session/edits.ts), on the bundled causal demo model:
 * an English erase/update evaluated in every language with the runner's rules, undo back to the loaded
 * probabilities exactly, a link's replay equal to the edit, refusals (no neurons, bad λ, a neuron the
 * model lacks, editing while an attribution runs, localizing an edited model, an experiment on an edited
 * model), and teaching a fact the model does not know (converges in the training language, cancel and
 * divergence leave the weights as they were).
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { loadModelArg } from '../../src/engine/index';
import type { LoadedModel } from '../../src/engine/families/model';
import { EditState } from '../../src/engine/session';
import type { EditView } from '../../src/worker/api';
import { ExplorerState } from '../../src/engine/session';
import { ready } from '../engine/setup';

const FACT = 'P138:53';
const LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'];

let shared: Promise<{ model: LoadedModel; explorer: ExplorerState; edits: EditState }> | null = null;
function setup() {
  shared ??= (async () => {
    await ready;
    const model = await loadModelArg('bundled:demo-causal', { dtype: 'int8' });
    const bench = openLocal();
    const explorer = new ExplorerState(
      () => model,
      () => bench,
      undefined,
    );
    const edits = new EditState(
      () => model,
      () => bench,
      explorer,
      undefined,
    );
    return { model, explorer, edits };
  })();
  return shared;
}

const probs = (q: { queries: { pCorrect: number }[] }) => q.queries.map((x) => x.pCorrect);

/** Reliability/generality/locality recounted from the view's own query rows (the runner's definitions). */
function recount(v: EditView, lang: string, update: boolean) {
  const ok = (q: EditView['queries'][number]) => (update ? q.newTop === true : !q.oldTop);
  const qs = v.queries.filter((q) => q.lang === lang && q.known);
  const ed = qs.filter((q) => q.role === 'edited'),
    pa = qs.filter((q) => q.role === 'paraphrase');
  const un = v.unrelated.filter((u) => u.lang === lang);
  const share = (a: number, n: number) => (n ? a / n : null);
  return {
    reliability: share(ed.filter(ok).length, ed.length),
    generality: share(pa.filter(ok).length, pa.length),
    locality: share(un.filter((u) => u.same).length, un.length),
  };
}

describe('edits in the page (worker side)', () => {
  it('erases from English, shows every language, undoes to the exact probabilities, and replays a link', async () => {
    const { explorer, edits, model } = await setup();
    const before = await explorer.factQueries(FACT, LANGS);
    await expect(edits.edit({ kind: 'erase', neurons: [] })).rejects.toThrow(/choose the neurons/);
    await explorer.localize(FACT, { langs: LANGS, steps: 4 });
    const neurons = explorer.score('matrice', {}).selected;
    expect(neurons.length).toBeGreaterThan(0);

    await edits.prepare();
    const v = await edits.edit({ kind: 'erase', neurons });
    expect(v.active.spec).toEqual({ kind: 'erase', fact: FACT, neurons });
    expect(v.active.precision).toBe('int8 + float32 overlay');
    expect(v.queries.length).toBe(before.queries.length);
    expect(new Set(v.unrelated.map((u) => u.factId)).size).toBe(3);
    for (const l of LANGS) expect(v.languages[l]).toMatchObject(recount(v, l, false));
    // the "after" column is the edited model: the fact's probes now differ, and equal a fresh probe
    const during = await explorer.factQueries(FACT, LANGS);
    expect(probs(during)).toEqual(v.queries.map((q) => q.after.pOld));
    expect(probs(during)).not.toEqual(probs(before));
    // the erase lowers P(old) on average over the languages (the neurons carry the fact)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(v.queries.map((q) => q.after.pOld))).toBeLessThan(mean(v.queries.map((q) => q.before.pOld)));
    console.log(
      `edit in the page (Node): erase ${neurons.length} neurons of ${FACT}: ${v.ms.total.toFixed(0)} ms (edit ${v.ms.edit.toFixed(1)} ms, evaluation ${v.ms.evaluate.toFixed(0)} ms); reliability ` +
        LANGS.map((l) => `${l} ${v.languages[l].reliability ?? '–'}`).join(', ') +
        '; P(old) of the edited query ' +
        v.queries
          .filter((q) => q.role === 'edited')
          .map((q) => `${q.lang} ${(q.before.pOld * 100).toFixed(0)} % → ${(q.after.pOld * 100).toFixed(0)} %`)
          .join(', '),
    );
    // manipulations now start from the edited model; attributions are kept (made on the loaded weights)
    expect(explorer.score('matrice', {}).selected).toEqual(neurons);
    await expect(explorer.localize(FACT, { langs: LANGS, steps: 4 })).rejects.toThrow(/edits applied/);

    expect(await edits.undo()).toEqual([]);
    expect(probs(await explorer.factQueries(FACT, LANGS))).toEqual(probs(before));

    // no edit while an attribution runs (nothing cached: it really computes)
    const running = explorer.localize(FACT, { langs: LANGS, steps: 5 });
    await expect(edits.edit({ kind: 'erase', neurons })).rejects.toThrow(/while an attribution runs/);
    explorer.cancel();
    await expect(running).rejects.toThrow(/cancelled/);

    // a link's replay makes the same model
    const r = await edits.replay(v.active.spec);
    expect(r.label).toMatch(/^erase \d+ neurons? of P138:53/);
    expect(probs(await explorer.factQueries(FACT, LANGS))).toEqual(probs(during));
    await edits.undoAll();
    await expect(edits.replay({ kind: 'erase', fact: FACT, neurons: [[model.cfg.numLayers, 0]] })).rejects.toThrow(/does not have .*another model/);
    expect(edits.list()).toEqual([]);
  });

  it('updates to a new object and refuses bad λ and an empty object', async () => {
    const { explorer, edits } = await setup();
    const before = await explorer.factQueries(FACT, LANGS);
    await explorer.localize(FACT, { langs: LANGS, steps: 4 });
    const neurons = explorer.score('matrice', {}).selected;
    await expect(edits.edit({ kind: 'update', neurons, newObject: '  ' })).rejects.toThrow(/new object/);
    await expect(edits.edit({ kind: 'update', neurons, newObject: 'Paris', lambda2: 500 })).rejects.toThrow(/λ2 must be a number in 0\.\.50/);
    expect(edits.list()).toEqual([]);
    const v = await edits.edit({ kind: 'update', neurons, newObject: 'Paris' });
    expect(v.newObject).toBe('Paris');
    expect(v.active.spec).toMatchObject({ kind: 'update', newObject: 'Paris', lambda1: 1, lambda2: 8 });
    for (const l of LANGS) expect(v.languages[l]).toMatchObject(recount(v, l, true));
    expect(v.queries.every((q) => typeof q.newTop === 'boolean')).toBe(true);
    // the update writes English " Paris": a zh or ja query answering it counts, though "Paris" follows those prompts without a space
    const paris = v.queries.filter((q) => q.after.top.token.trim() === 'Paris');
    expect(paris.some((q) => q.lang === 'zh' || q.lang === 'ja')).toBe(true);
    for (const q of paris) expect(q.newTop, `${q.lang} ${q.prompt}`).toBe(true);
    for (const q of v.queries.filter((x) => x.after.top.token.trim() !== 'Paris')) expect(q.newTop).toBe(false);
    await edits.undo(v.active.id);
    expect(probs(await explorer.factQueries(FACT, LANGS))).toEqual(probs(before));
  });

  it("updates from another language (the lesson's edit language): its first query, its object, replayed the same", async () => {
    const { explorer, edits } = await setup();
    const before = await explorer.factQueries(FACT, LANGS);
    const frFirst = before.queries.find((q) => q.lang === 'fr')!;
    // the benchmark's French object of the fact, read from the shard (not from the edit code)
    const frObject = (await (await openLocal()).fact(FACT, 'fr')).object;
    await explorer.localize(FACT, { langs: LANGS, steps: 4 });
    const neurons = explorer.score('matrice', {}).selected;
    await expect(edits.edit({ kind: 'update', neurons, newObject: 'Paris', lang: 'xx' })).rejects.toThrow(/unknown language "xx"/);
    const v = await edits.edit({ kind: 'update', neurons, newObject: 'Paris', lang: 'fr' });
    expect(v.editPrompt).toBe(frFirst.prompt);
    expect(v.fromLang).toBe('fr');
    expect(v.oldObject).toBe(frObject);
    expect(v.active.spec).toMatchObject({ kind: 'update', newObject: 'Paris', lang: 'fr' });
    expect(v.active.label).toMatch(/to "Paris" \(from fr,/);
    for (const l of LANGS) expect(v.languages[l]).toMatchObject(recount(v, l, true));
    // the French query the update was made from answers the new object
    const fr = v.queries.find((q) => q.lang === 'fr' && q.role === 'edited')!;
    expect(fr.after.top.token.trim()).toBe('Paris');
    expect(fr.newTop).toBe(true);
    const during = probs(await explorer.factQueries(FACT, LANGS));
    await edits.undo(v.active.id);
    expect(probs(await explorer.factQueries(FACT, LANGS))).toEqual(probs(before));
    // a link's replay of the French update makes the same model; an English one (no lang) is another edit
    const r = await edits.replay(v.active.spec);
    expect(probs(await explorer.factQueries(FACT, LANGS))).toEqual(during);
    await edits.undo(r.id);
    await edits.undoAll();
    // from Japanese the old object is レスター, not English's "Leicester": another edit than the English one
    const ja = await edits.edit({ kind: 'update', neurons, newObject: 'Paris', lang: 'ja' });
    expect(ja.oldObject).toBe((await (await openLocal()).fact(FACT, 'ja')).object);
    const fromJa = probs(await explorer.factQueries(FACT, LANGS));
    await edits.undoAll();
    const { lang: _ja, ...english } = ja.active.spec as { lang?: string };
    await edits.replay(english as typeof ja.active.spec);
    expect(probs(await explorer.factQueries(FACT, LANGS))).not.toEqual(fromJa);
    await edits.undoAll();
    expect(probs(await explorer.factQueries(FACT, LANGS))).toEqual(probs(before));
  });

  it('teaches an unknown fact on its English queries; cancel and divergence change nothing', async () => {
    const { explorer, edits, model } = await setup();
    // a benchmark fact the demo model was not trained on (no query right in any language) whose object's
    // first token the model does produce for other facts (P36:2's " Ch" it never does: no training moves it)
    const unknown = 'P36:4';
    expect((await explorer.factQueries(unknown, LANGS)).queries.filter((q) => q.correct)).toEqual([]);
    const before = probs(await explorer.factQueries(unknown, LANGS));
    const phases = new Set<string>();
    const t = await edits.teach({ fact: unknown, steps: 4 }, (p) => phases.add(p.phase));
    expect([...phases]).toEqual(['localize', 'train', 'evaluate']);
    expect(t.stopped).toBeNull();
    expect(t.neurons.length).toBe(10);
    expect(t.languages.en.before[0]).toBe(0);
    expect(t.languages.en.after).toEqual([t.languages.en.before[1], t.languages.en.before[1]]);
    expect(t.active?.spec).toMatchObject({ kind: 'inject', fact: unknown, lang: 'en', trainSteps: 40, lr: 0.01 });
    expect(t.converged).toBe(true);
    console.log(
      `teach ${unknown} (Node): localize ${t.ms.localize.toFixed(0)} ms, train ${t.ms.train.toFixed(0)} ms (${t.losses.length} steps), total ${t.ms.total.toFixed(0)} ms; right after/before: ` +
        LANGS.map((l) => `${l} ${t.languages[l]?.after[0]}/${t.languages[l]?.after[1]} (${t.languages[l]?.before[0]})`).join(', ') +
        `; unrelated top-1 kept ${t.old[0]}/${t.old[1]}`,
    );
    expect(edits.list().map((e) => e.kind)).toEqual(['inject']);
    await edits.undo();
    expect(probs(await explorer.factQueries(unknown, LANGS))).toEqual(before);

    // a divergent learning rate: nothing is kept, the weights are as loaded
    const d = await edits.teach({ fact: unknown, neurons: t.neurons, trainSteps: 5, lr: 10 });
    if (d.stopped) {
      expect(d.stopped).toMatch(/diverged/);
      expect(d.active).toBeNull();
    } else await edits.undo();
    expect(edits.list()).toEqual([]);
    expect(probs(await explorer.factQueries(unknown, LANGS))).toEqual(before);

    // cancel during training: cancelled, nothing kept
    const ctl = edits.teach({ fact: unknown, neurons: t.neurons, trainSteps: 200, lr: 0.001 }, (p) => p.phase === 'train' && p.done >= 2 && edits.cancel());
    await expect(ctl).rejects.toThrow(/teaching was cancelled; the weights are unchanged/);
    expect(edits.list()).toEqual([]);
    expect(probs(await explorer.factQueries(unknown, LANGS))).toEqual(before);

    // a typed fact: the subject and object go into every language's templates, and the page is told
    const typed = await edits.teach({
      fact: { relation: 'P36', lang: 'en', subject: 'Zorbania', object: 'Paris' },
      langs: ['en', 'fr'],
      neurons: t.neurons,
      trainSteps: 3,
    });
    expect(typed.notes.join(' ')).toMatch(/not translated/);
    expect(typed.factId).toMatch(/^new:P36:/);
    expect(Object.keys(typed.languages).sort()).toEqual(['en', 'fr']);
    if (typed.active) await edits.undo();
    await expect(edits.teach({ fact: { relation: 'P999', lang: 'en', subject: 'x', object: 'y' } })).rejects.toThrow(/unknown relation "P999"/);
    await expect(edits.teach({ fact: { relation: 'P36', lang: 'en', subject: '', object: 'y' }, langs: ['en'] })).rejects.toThrow(/subject is empty/);
    expect(model.info.contentHash).not.toMatch(/\+edit:/);
  });

  it('a cancel at the last step of a teach: before the last check it wins and nothing is kept, after it the fact is taught', async () => {
    const { explorer, edits } = await setup();
    const unknown = 'P36:4';
    const before = probs(await explorer.factQueries(unknown, LANGS));
    // the neurons teach picks for it (localized on English at M = 2), trained again below
    const first = await edits.teach({ fact: unknown, langs: ['en'], steps: 2, trainSteps: 1 });
    const neurons = first.neurons;
    if (first.active) await edits.undo();
    let evaluated!: () => void;

    // order 1: the teach is parked after training and evaluation, before its last cancel check; a cancel
    // there wins: the training (which converged and was applied) is undone
    edits.setHold('teach-commit');
    const reached = new Promise<void>((r) => (evaluated = r));
    const t1 = edits.teach({ fact: unknown, langs: ['en', 'fr'], neurons, trainSteps: 3 }, (p) => p.phase === 'evaluate' && evaluated());
    await reached;
    // the evaluation runs after the 'evaluate' progress; the teach is still ours to cancel
    expect(edits.busy).toBe(true);
    expect(edits.cancel()).toBe('cancelled');
    await expect(t1).rejects.toThrow(/teaching was cancelled; the weights are unchanged/);
    expect(edits.list()).toEqual([]);
    expect(probs(await explorer.factQueries(unknown, LANGS))).toEqual(before);

    // order 2: parked after the last check; the fact is taught, and a cancel now says it came too late
    edits.setHold('teach-done');
    const t2 = edits.teach({ fact: unknown, langs: ['en', 'fr'], neurons, trainSteps: 3 });
    await expect.poll(() => edits.list().length, { timeout: 120_000, interval: 50 }).toBe(1);
    expect(edits.busy).toBe(false);
    expect(edits.cancel()).toBe('finished');
    const r2 = await t2;
    expect(r2.active?.spec).toMatchObject({ kind: 'inject', fact: unknown });
    expect(edits.list().map((e) => e.kind)).toEqual(['inject']);
    expect(probs(await explorer.factQueries(unknown, LANGS))).not.toEqual(before);
    expect(edits.cancel()).toBe('idle');
    edits.setHold(null);
    await edits.undo();
    expect(probs(await explorer.factQueries(unknown, LANGS))).toEqual(before);
    expect(() => edits.setHold('nowhere' as never)).toThrow(/unknown hold point "nowhere"/);
  });
});

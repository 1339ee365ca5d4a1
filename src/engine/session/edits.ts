/**
 * The page's edits (the worker's EditState: src/worker/engine.worker.ts only unpacks the page's messages and
 * calls this; no DOM, runs in Node for tests): "Edit the fact" (from English or another language) and "Teach a new fact" on the loaded model, over
 * ModelEditor, injectFact, FactSession and the runner's evaluation `probeEditOp` / `editCell`, so the page and
 * `kn experiment edit|inject` count reliability, generality and locality the same way. What it hands the page is
 * in edit-views.ts.
 *
 * - edit: erase or update the chosen neurons of the current fact from its English query, then probe the
 *   fact's queries in every language (the edited query = each language's first template, paraphrases =
 *   the others) and a few unrelated facts (first template per language): before/after per query and
 *   reliability / generality / locality per language.
 * - teach: a benchmark fact the model does not know, or one the user types (subject and object in one
 *   language, put into that relation's templates in every language the user gives labels for): localize
 *   it in all its languages, train only the top-k neurons by S on the training language's queries (Adam,
 *   progress, cancel; a diverging run restores the weights), and probe every language after.
 *
 * Every applied edit carries its `spec`, which the share link and the exploration file store and
 * `replay` re-applies; edits stack and undo last-in first-out, byte-exact (src/engine/interventions/edit.ts).
 */
import type { RmlLama } from '../../data/loader';
import { describeSpec, type EditSpec, type TypedFact } from '../../shared/edit-spec';
import { KnError } from '../../shared/errors';
import type { BytesStore } from '../attribution';
import { injectionNeurons, probeEditOp, type EditQueryRec } from '../experiments/edit';
import type { LoadedModel } from '../families';
import { ModelEditor, injectFact, type AppliedEdit } from '../interventions';
import { editCell, type EditCell } from '../report';
import {
  checkLambda,
  checkLangs,
  checkRelation,
  DEFAULT_BASELINE,
  DEFAULT_LAMBDA1,
  DEFAULT_LAMBDA2,
  EDIT_FROM,
  LANGS,
  RELATIONS,
  TEACH_DEFAULTS,
  type Lang,
} from '../rules';
import { resolveSettings, scoreMatrice, type NeuronId } from '../selection';
import {
  TEACH_HOLD_POINTS,
  type ActiveEdit,
  type EditQueryView,
  type EditRequest,
  type EditView,
  type TeachCancelOutcome,
  type TeachHoldPoint,
  type TeachProgress,
  type TeachQueryView,
  type TeachRequest,
  type TeachView,
  type UnrelatedView,
} from './edit-views';
import type { ExplorerState } from './explorer';
import { buildFactQueries, FactSession, parseFactId, type CustomFact } from './session';

/** Unrelated facts whose queries measure locality (their first template in every language). */
export const UNRELATED_FACTS = 3;

type Unrelated = { lang: Lang; prompt: string; top: number; token: string; factId: string }[];

function typedToCustom(t: TypedFact, langs: readonly Lang[]): CustomFact {
  if (!t || typeof t !== 'object') throw new KnError('bad-input', 'a typed fact needs a relation, a language, a subject and an object');
  checkRelation(t.relation);
  checkLangs([t.lang]);
  // the typed names go into every language's templates (names are mostly written alike; the page says so);
  // the typed language first, so that a missing subject or object is named in the language it was typed in
  const label = { subject: String(t.subject ?? ''), object: String(t.object ?? '') };
  const labels: CustomFact['labels'] = { [t.lang as Lang]: label };
  for (const l of langs) labels[l] ??= { ...label };
  return { relation: t.relation as CustomFact['relation'], labels };
}

export class EditState {
  private editor: ModelEditor | null = null;
  private specs = new Map<string, EditSpec>();
  private unrelatedCache = new Map<string, Unrelated>();
  private teaching: AbortController | null = null;
  private prep: Promise<void> | null = null;
  /** test seam (`teachHold`): where a teach waits, and what releases a teach parked after its last check */
  private hold: TeachHoldPoint | null = null;
  private releaseDone: (() => void) | null = null;

  constructor(
    private getModel: () => LoadedModel | null,
    private bench: () => Promise<RmlLama>,
    private explorer: ExplorerState,
    private store: BytesStore | undefined,
    /** another long job holds the model (the Experiments view) */
    private otherBusy: () => string | null = () => null,
  ) {}

  private model(): LoadedModel {
    const m = this.getModel();
    if (!m) throw new KnError('bad-input', 'no model is loaded');
    return m;
  }

  private ed(): ModelEditor {
    const m = this.model();
    if (!this.editor || this.editor.model !== m) {
      this.editor = new ModelEditor(m);
      this.specs.clear();
      this.unrelatedCache.clear();
    }
    return this.editor;
  }

  /** Drop the editor (a new model was loaded or the device was lost: its edits went with the weights). */
  reset(): void {
    this.teaching?.abort();
    this.editor = null;
    this.specs.clear();
    this.unrelatedCache.clear();
  }

  get busy(): boolean {
    return this.teaching !== null;
  }

  /**
   * Cancel a teach. Cancel wins until the teach's last step: a cancel that the worker reads before the
   * taught weights are handed back undoes the training and the teach rejects with 'cancelled' ('cancelled').
   * One that arrives after that finds the fact taught: 'finished' (the page says so and offers Undo), or
   * 'idle' when no teach ran.
   */
  cancel(): TeachCancelOutcome {
    if (this.teaching && !this.teaching.signal.aborted) {
      this.teaching.abort();
      return 'cancelled';
    }
    if (this.releaseDone) {
      this.releaseDone();
      return 'finished';
    }
    return 'idle';
  }

  /**
   * Test seam: park the next teaches at a point of their last step, so that tests can put a cancel on
   * either side of it deterministically. 'teach-commit': after training and the evaluation, before the
   * last cancel check (a cancel releases it and wins). 'teach-done': after that check, before the
   * result is returned (a cancel releases it and comes too late). null: no hold (the default).
   */
  setHold(point: TeachHoldPoint | null): void {
    if (point !== null && !TEACH_HOLD_POINTS.includes(point))
      throw new KnError('bad-input', `unknown hold point "${String(point)}"; one of ${TEACH_HOLD_POINTS.join(', ')}`);
    this.hold = point;
  }

  private async parkAt(point: TeachHoldPoint, ctl: AbortController): Promise<void> {
    if (this.hold !== point) return;
    if (point === 'teach-commit') {
      if (ctl.signal.aborted) return;
      await new Promise<void>((r) => ctl.signal.addEventListener('abort', () => r(), { once: true }));
    } else await new Promise<void>((r) => (this.releaseDone = r)).finally(() => (this.releaseDone = null));
  }

  /**
   * Before the weights change: the convergence check in progress stops (its re-attributions run on the loaded
   * weights), the edit is refused while an attribution, a teach or another long job runs, and a running
   * `prepare` finishes (its probes must see the model before the edit).
   */
  private async ready(what: string): Promise<void> {
    await this.explorer.stopCheck();
    this.checkIdle(what);
    await this.settled();
  }

  /** Before an experiment runs on the loaded weights: no edit applied, no teach running, no convergence check. */
  async readyForExperiment(): Promise<void> {
    const n = this.list().length;
    if (n)
      throw new KnError(
        'bad-input',
        `the model has ${n} edit${n === 1 ? '' : 's'} applied: undo ${n === 1 ? 'it' : 'them'} (Edit view) before running an experiment on the loaded weights`,
      );
    if (this.busy) throw new KnError('bad-input', 'a fact is being taught; wait for it or cancel it');
    await this.explorer.stopCheck();
  }

  private checkIdle(what: string) {
    if (this.explorer.busy) throw new KnError('bad-input', `cannot ${what} while an attribution runs; wait for it or cancel it`);
    if (this.teaching) throw new KnError('bad-input', `cannot ${what} while a fact is being taught; wait for it or cancel it`);
    const other = this.otherBusy();
    if (other) throw new KnError('bad-input', `cannot ${what} while ${other}`);
  }

  list(): ActiveEdit[] {
    if (!this.editor || this.editor.model !== this.getModel()) return [];
    return this.editor.edits.map((e) => this.active(e));
  }

  private active(e: AppliedEdit): ActiveEdit {
    const spec = this.specs.get(e.id)!;
    return { id: e.id, kind: e.kind, label: describeSpec(spec), neurons: e.neurons.length, notes: e.notes, precision: e.precision, spec };
  }

  async undo(id?: string): Promise<ActiveEdit[]> {
    await this.ready('undo an edit');
    const ed = this.ed();
    const e = ed.undo(id);
    if (e) this.specs.delete(e.id);
    return this.list();
  }

  async undoAll(): Promise<ActiveEdit[]> {
    await this.ready('undo the edits');
    this.ed().undoAll();
    this.specs.clear();
    return this.list();
  }

  /** A few other facts' queries (first template per language) with their top-1 on the model as it is. */
  private async unrelated(factId: string, langs: readonly Lang[]): Promise<Unrelated> {
    const model = this.model();
    const key = `${model.info.contentHash}|${factId}|${langs.join()}`;
    const hit = this.unrelatedCache.get(key);
    if (hit) return hit;
    const b = await this.bench();
    const own = factId.startsWith('new:') ? factId.split(':')[1] : parseFactId(factId);
    const others = RELATIONS.filter((r) => r !== own);
    let h = 0;
    for (const ch of factId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const out: Unrelated = [];
    for (let i = 0; i < UNRELATED_FACTS && others.length; i++) {
      const rel = others[(h + i * 3) % others.length];
      const shard = await b.shard(rel, EDIT_FROM);
      const id = shard.facts[(h >>> 3) % shard.facts.length].id;
      const built = await buildFactQueries(model, b, id, langs);
      const first = new Map<string, (typeof built.queries)[number]>();
      for (const q of built.queries) if (!first.has(q.lang)) first.set(q.lang, q);
      const qs = [...first.values()];
      const pr = qs.length
        ? await model.probeMany(
            qs.map((q) => ({ prompt: q.prompt })),
            { topK: 1 },
          )
        : [];
      qs.forEach((q, k) => out.push({ lang: q.lang, prompt: q.prompt, top: pr[k].top[0].id, token: pr[k].top[0].token, factId: id }));
    }
    this.unrelatedCache.set(key, out);
    return out;
  }

  /** Builds the unrelated queries of the current fact ahead of the first edit (the Edit view calls it on open). */
  async prepare(): Promise<void> {
    if (this.explorer.busy || this.teaching || this.prep) return;
    this.prep = (async () => {
      const s = await this.explorer.current().catch(() => null);
      if (s) await this.unrelated(s.factId, s.langs);
    })().finally(() => (this.prep = null));
    await this.prep;
  }

  /** An edit waits for a running `prepare`: its probes must see the model before the edit. */
  private async settled() {
    if (this.prep) await this.prep.catch(() => undefined);
  }

  /** Erase or update the neurons from the current fact's English query and show what changed in every language. */
  async edit(req: EditRequest): Promise<EditView> {
    const t0 = performance.now();
    await this.ready('edit');
    const ed = this.ed();
    const model = this.model();
    if (!req || (req.kind !== 'erase' && req.kind !== 'update'))
      throw new KnError('bad-input', `an edit is "erase" or "update", got ${JSON.stringify(req?.kind)}`);
    if (!Array.isArray(req.neurons) || req.neurons.length === 0)
      throw new KnError('bad-input', 'choose the neurons to edit first (localize, then pick a method)');
    const s = await this.explorer.current();
    // the update is made from one language's first query (English unless the request names another); erase needs none
    const from = req.kind === 'update' && req.lang !== undefined ? checkLangs([req.lang])[0] : EDIT_FROM;
    const fromQuery = s.queries.find((q) => q.lang === from);
    if (!fromQuery)
      throw new KnError(
        'bad-input',
        `fact ${s.factId} has no ${from} query in this exploration, so it cannot be edited from ${from}: add ${from} to its languages`,
      );
    const oldObject = s.labels[from]!.object;
    const first = new Map<string, string>();
    for (const q of s.queries) if (!first.has(q.lang)) first.set(q.lang, q.prompt);
    const oldIds = s.queries.map((q) => model.tok.targetId(q.prompt, q.target));
    let newIds: (number[] | null)[] | null = null;
    let spec: EditSpec;
    let make: () => AppliedEdit;
    if (req.kind === 'update') {
      const newObject = typeof req.newObject === 'string' ? req.newObject.trim() : '';
      if (!newObject) throw new KnError('bad-input', 'an update needs the new object (type it or pick a token)');
      const lambda1 = checkLambda('λ1', req.lambda1 ?? DEFAULT_LAMBDA1);
      const lambda2 = checkLambda('λ2', req.lambda2 ?? DEFAULT_LAMBDA2);
      // the update writes the edit language's first query's first token of the new object; in another language the object
      // may be tokenized otherwise after its query (no leading space in zh/ja): either answer counts
      const id = (prompt: string) => {
        try {
          return model.tok.targetId(prompt, newObject);
        } catch {
          return null;
        }
      };
      const fromId = id(fromQuery.prompt);
      newIds = s.queries.map((q) => {
        const ids = [id(q.prompt), fromId].filter((x): x is number => x !== null);
        return ids.length ? [...new Set(ids)] : null;
      });
      spec = {
        kind: 'update',
        fact: s.factId,
        neurons: req.neurons.map((n) => [n[0], n[1]]),
        newObject,
        lambda1,
        lambda2,
        ...(from === EDIT_FROM ? {} : { lang: from }),
      };
      make = () => ed.update(req.neurons, { prompt: fromQuery.prompt, oldObject, newObject, lambda1, lambda2 });
    } else {
      spec = { kind: 'erase', fact: s.factId, neurons: req.neurons.map((n) => [n[0], n[1]]) };
      make = () => ed.erase(req.neurons);
    }
    const un = await this.unrelated(s.factId, s.langs);
    const before = s.queries;
    const edit = make();
    this.specs.set(edit.id, spec);
    const t1 = performance.now();
    try {
      const p = await probeEditOp(model, s.queries, oldIds, newIds, un);
      const recs: EditQueryRec[] = s.queries.map((q, i) => ({
        lang: q.lang,
        template: q.templateId,
        role: first.get(q.lang) === q.prompt ? 'edited' : 'paraphrase',
        known: q.known,
        newId: newIds?.[i]?.[0] ?? null,
      }));
      const languages: Record<string, EditCell> = {};
      for (const l of s.langs) languages[l] = editCell([{ queries: recs }], () => p.op, l, req.kind === 'update');
      const queries: EditQueryView[] = s.queries.map((q, i) => ({
        lang: q.lang,
        templateId: q.templateId,
        prompt: q.prompt,
        role: recs[i].role,
        known: q.known,
        before: { pOld: before[i].before, top: { token: before[i].top[0]?.token ?? '', prob: before[i].top[0]?.prob ?? 0 } },
        after: { pOld: p.fact[i].target!.prob, top: { token: p.fact[i].top[0].token, prob: p.fact[i].top[0].prob } },
        oldTop: p.op.oldTop[i] === 1,
        ...(p.op.newTop ? { newTop: p.op.newTop[i] === 1 } : {}),
      }));
      const unrelated: UnrelatedView[] = un.map((q, i) => ({
        lang: q.lang,
        factId: q.factId,
        prompt: q.prompt,
        before: q.token,
        after: p.unrelated[i].top[0].token,
        same: p.unrelated[i].top[0].id === q.top,
      }));
      const t2 = performance.now();
      return {
        active: this.active(edit),
        factId: s.factId,
        editPrompt: fromQuery.prompt,
        fromLang: from,
        oldObject,
        ...(req.kind === 'update' ? { newObject: (spec as { newObject: string }).newObject } : {}),
        queries,
        unrelated,
        languages,
        ...(edit.requantization ? { requantization: edit.requantization } : {}),
        ms: { edit: edit.ms, evaluate: t2 - t1, total: t2 - t0 },
      };
    } catch (e) {
      ed.undo(edit.id);
      this.specs.delete(edit.id);
      throw e;
    }
  }

  /**
   * Re-applies an erase or update a link or a file names (on a benchmark fact, from its English query).
   * Injections are replayed with `teach({ neurons })` instead (they train again).
   */
  async replay(spec: EditSpec): Promise<ActiveEdit> {
    await this.ready('apply an edit');
    const ed = this.ed();
    const model = this.model();
    if (spec.kind === 'inject') throw new KnError('bad-input', 'a taught fact is replayed by teaching it again');
    const L = model.cfg.numLayers,
      F = model.cfg.ffn;
    for (const [l, j] of spec.neurons) {
      if (l >= L || j >= F)
        throw new KnError(
          'bad-input',
          `the edit names neuron [${l}, ${j}], which this model does not have (${L} layers × ${F} neurons): the exploration was made with another model`,
        );
    }
    let edit: AppliedEdit;
    if (spec.kind === 'erase') edit = ed.erase(spec.neurons);
    else {
      const from = spec.lang === undefined ? EDIT_FROM : checkLangs([spec.lang])[0];
      const built = await buildFactQueries(model, await this.bench(), spec.fact, [from]);
      const en = built.queries[0];
      if (!en) throw new KnError('bad-input', `fact ${spec.fact} has no ${from} query for this model`);
      edit = ed.update(spec.neurons, {
        prompt: en.prompt,
        oldObject: built.labels[from]!.object,
        newObject: spec.newObject,
        lambda1: spec.lambda1,
        lambda2: spec.lambda2,
      });
    }
    this.specs.set(edit.id, { ...spec, neurons: spec.neurons.map((n) => [n[0], n[1]]) });
    return this.active(edit);
  }

  /** Localize a fact the model does not know, train only its top-k neurons, and show every language after. */
  async teach(req: TeachRequest, onProgress?: (p: TeachProgress) => void): Promise<TeachView> {
    await this.ready('teach a fact');
    const ed = this.ed();
    const model = this.model();
    const t0 = performance.now();
    const langs = checkLangs(req.langs ?? [...LANGS]);
    const typed = typeof req.fact === 'string' ? null : req.fact;
    const trainLang = checkLangs([req.trainLang ?? typed?.lang ?? EDIT_FROM])[0];
    const k = req.k ?? TEACH_DEFAULTS.k;
    if (!Number.isInteger(k) || k < 1 || k > model.cfg.numLayers * model.cfg.ffn)
      throw new KnError('bad-input', `k (neurons to train) must be an integer in 1..${model.cfg.numLayers * model.cfg.ffn}, got ${k}`);
    const trainSteps = req.trainSteps ?? TEACH_DEFAULTS.trainSteps;
    const lr = req.lr ?? TEACH_DEFAULTS.lr;
    const fact: string | CustomFact = typed ? typedToCustom(typed, langs) : (req.fact as string);
    const ctl = new AbortController();
    this.teaching = ctl;
    let pendingEdit: AppliedEdit | null = null;
    const notes: string[] = [];
    if (typed) notes.push(`"${typed.subject}" and "${typed.object}" are put into every language's templates as typed (they are not translated)`);
    const progress = (p: Omit<TeachProgress, 'elapsedMs'>) => void onProgress?.({ ...p, elapsedMs: performance.now() - t0 });
    try {
      const s = await FactSession.open(model, await this.bench(), fact, langs, { topK: 1, wholeTargets: true });
      const train = s.queries.filter((q) => q.lang === trainLang);
      if (!train.length)
        throw new KnError(
          'bad-input',
          `the fact has no usable ${trainLang} query for this model${s.skipped.length ? ` (${s.skipped.find((x) => x.lang === trainLang)?.reason ?? 'skipped'})` : ''}`,
        );
      if (train.every((q) => q.known)) notes.push(`the model already answers every ${trainLang} query of this fact; teaching it changes little`);
      let neurons: NeuronId[];
      const tl = performance.now();
      if (req.neurons?.length) {
        const L = model.cfg.numLayers,
          F = model.cfg.ffn;
        for (const [l, j] of req.neurons)
          if (!(l < L && j < F)) throw new KnError('bad-input', `neuron [${l}, ${j}] does not exist in this model (${L} layers × ${F} neurons)`);
        neurons = req.neurons.map((n) => [n[0], n[1]]);
      } else {
        await s.localize({
          steps: req.steps ?? TEACH_DEFAULTS.steps,
          baseline: DEFAULT_BASELINE,
          store: this.store,
          signal: ctl.signal,
          onProgress: (p) => progress({ phase: 'localize', done: p.queriesDone + (p.pointsTotal ? p.pointsDone / p.pointsTotal : 0), total: p.queriesTotal }),
        });
        // a fact the model does not know has S ≤ 0 and an empty thresholded selection: the top-k by S among
        // the neurons that fire on the training queries (as `kn experiment inject`)
        neurons = await injectionNeurons(model, scoreMatrice(s.fa!, resolveSettings(req.settings ?? {})).S, train, k);
        if (!neurons.length) throw new KnError('bad-input', 'no neuron has a non-zero score for this fact, so there is nothing to train');
      }
      const localizeMs = performance.now() - tl;
      const un = await this.unrelated(s.factId, langs);
      const tt = performance.now();
      const r = await injectFact(ed, {
        neurons,
        queries: train.map((q) => ({ prompt: q.prompt, target: q.target })),
        steps: trainSteps,
        lr,
        signal: ctl.signal,
        onProgress: (p) => progress({ phase: 'train', done: p.step, total: p.steps, loss: p.loss, correct: p.correct }),
      });
      pendingEdit = r.edit;
      const trainMs = performance.now() - tt;
      const te = performance.now();
      progress({ phase: 'evaluate', done: 0, total: 1 });
      const after = await model.probeMany(s.queries, { topK: 1 });
      const ua = un.length
        ? await model.probeMany(
            un.map((q) => ({ prompt: q.prompt })),
            { topK: 1 },
          )
        : [];
      const evaluateMs = performance.now() - te;
      // reported before the last check; everything from here to the check runs without reading a message
      progress({ phase: 'evaluate', done: 1, total: 1 });
      // the last step: a cancel read up to here wins (the training is undone); after it, the fact is taught
      await this.parkAt('teach-commit', ctl);
      if (ctl.signal.aborted) throw new KnError('cancelled', 'teaching was cancelled; the weights are unchanged');
      pendingEdit = null;
      this.teaching = null;
      const spec: EditSpec = { kind: 'inject', fact: typed ? { ...typed } : s.factId, neurons, lang: trainLang, trainSteps, lr };
      if (r.edit) this.specs.set(r.edit.id, spec);
      await this.parkAt('teach-done', ctl);
      const languages: TeachView['languages'] = {};
      const queries: TeachQueryView[] = s.queries.map((q, i) => {
        const c = (languages[q.lang] ??= { before: [0, 0], after: [0, 0] });
        const ok = after[i].target!.rank === 0;
        c.before[1]++;
        c.after[1]++;
        if (q.known) c.before[0]++;
        if (ok) c.after[0]++;
        return {
          lang: q.lang,
          templateId: q.templateId,
          prompt: q.prompt,
          target: q.target,
          before: { p: q.before, correct: q.known, top: q.top[0]?.token ?? '' },
          after: { p: after[i].target!.prob, correct: ok, top: after[i].top[0].token },
          trained: q.lang === trainLang,
        };
      });
      return {
        active: r.edit ? this.active(r.edit) : null,
        stopped: r.stopped,
        converged: r.converged,
        factId: s.factId,
        labels: s.labels,
        trainLang,
        neurons,
        queries,
        languages,
        old: [ua.filter((x, i) => x.top[0].id === un[i].top).length, un.length],
        notes,
        skipped: s.skipped,
        losses: r.losses,
        ms: { localize: localizeMs, train: trainMs, evaluate: evaluateMs, total: performance.now() - t0 },
      };
    } catch (e) {
      // trained but not handed back (a cancel at the last step, or a failure in the evaluation): undone
      if (pendingEdit) ed.undo(pendingEdit.id);
      if (ctl.signal.aborted) throw new KnError('cancelled', 'teaching was cancelled; the weights are unchanged');
      throw e;
    } finally {
      if (this.teaching === ctl) this.teaching = null;
    }
  }
}

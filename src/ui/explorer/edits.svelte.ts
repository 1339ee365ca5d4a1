/**
 * The edits store: "Edit the fact" (from English or another language) and "Teach a new fact" (engine/session/edits.ts), the list of applied edits
 * with undo, and the edits a link or file names (re-applied or waiting, never silently kept or dropped).
 * After any change the fact's queries are probed again, and the Toggle view's results (made on the model
 * as it was) are dropped. Logic in edits.ts.
 */
import { toKnError } from '../../shared/errors';
import { DEFAULT_LAMBDA1, DEFAULT_LAMBDA2, EDIT_FROM, TEACH_DEFAULTS } from '../../engine/rules';
import type { NeuronId } from '../../engine/selection';
import type { ActiveEdit, EditView, TeachProgress, TeachView } from '../../worker/api';
import type { TypedFact } from '../../worker/api';
import type { ExplorationEdit } from '../share/state';
import { Estimator } from '../../engine/experiments';
import { editCost, factRight, keepCosts, lateCancelNotice, restorePlan, teachEstimate, type EditCost } from './edits';
import type { StoreHost } from './host';

export interface EditsHost extends StoreHost {
  /** the neurons the Toggle view acts on (the method's selection, a manual list, one neuron) */
  readonly toggleNeurons: NeuronId[];
  /** the Localize view's languages and IG steps M (teaching localizes with them) */
  readonly langs: string[];
  readonly steps: number;
  /** the model's predictions changed: probe the fact again, drop stale toggle results */
  modelChanged(): Promise<void>;
  /** the open fact's queries as last probed (what each edit cost is counted on) */
  readonly facts: { factId: string; queries: readonly { correct: boolean }[] } | null;
}

export class EditsStore {
  active: ActiveEdit[] = $state.raw([]);
  /** edits a link or file named that are not applied yet (from the first taught fact on) */
  pending: ExplorationEdit[] = $state.raw([]);
  kind: 'erase' | 'update' = $state('erase');
  newObject = $state('');
  lambda1 = $state(DEFAULT_LAMBDA1);
  lambda2 = $state(DEFAULT_LAMBDA2);
  busy = $state(false);
  result: EditView | null = $state.raw(null);
  /** per applied edit (by id): the open fact's queries right before → after it (edits.ts EditCost) */
  costs: Record<string, EditCost> = $state.raw({});

  // teach
  teachMode: 'fact' | 'typed' = $state('fact');
  typed: TypedFact = $state({ relation: 'P36', lang: EDIT_FROM, subject: '', object: '' });
  k = $state(TEACH_DEFAULTS.k);
  trainSteps = $state(TEACH_DEFAULTS.trainSteps);
  lr = $state(TEACH_DEFAULTS.lr);
  teaching = $state(false);
  private progressNow: TeachProgress | null = $state(null);
  private etaNow: number | null = $state(null);
  private readonly estimator = new Estimator();
  /** the teach's last progress; setting it feeds the estimate (null starts a new one) */
  get teachProgress(): TeachProgress | null {
    return this.progressNow;
  }
  set teachProgress(p: TeachProgress | null) {
    this.progressNow = p;
    this.etaNow = teachEstimate(this.estimator, p);
  }
  /** the phase's time left while a teach runs (null: not measured yet, or no teach: nothing stale stays) */
  get teachEtaMs(): number | null {
    return this.teaching ? this.etaNow : null;
  }
  teachResult: TeachView | null = $state.raw(null);
  /** the taught run localizes (false: replaying a link's neurons) */
  teachLocalizes = $state(true);
  /** the worker answered Cancel with 'finished' or 'idle' while this page was still waiting for the teach */
  private cancelTooLate = false;

  constructor(private readonly host: EditsHost) {}

  /** A new model (or a lost device): its edits went with the weights. */
  reset() {
    this.active = [];
    this.costs = {};
    this.pending = [];
    this.result = null;
    this.teachResult = null;
    this.teachProgress = null;
    this.busy = false;
    this.teaching = false;
  }

  /** the specs the link and the file keep: applied ones, then the waiting ones */
  get specs(): ExplorationEdit[] {
    return [...this.active.map((a) => a.spec as ExplorationEdit), ...this.pending];
  }

  /**
   * The worker's edits changed (one applied, or undone): the fact is probed again, and an edit that was
   * added gets its cost, counted on the fact as the page probed it before (the worker has applied the
   * edit, the page has not probed since) and after.
   */
  private async changed(list: ActiveEdit[]) {
    const previous = this.active;
    const before = factRight(this.host.facts);
    this.active = list;
    this.host.updateHash();
    await this.host.modelChanged();
    this.costs = keepCosts(this.costs, previous, list, editCost(before, factRight(this.host.facts)));
  }

  /** an update's language (the edit is made from that language's first query; English by default) */
  fromLang: string = $state(EDIT_FROM);

  async apply(fromLang = this.fromLang) {
    const c = this.host.client;
    if (!c || this.busy) return;
    this.busy = true;
    this.host.error = null;
    try {
      const r = await c.editApply({
        kind: this.kind,
        neurons: this.host.toggleNeurons,
        ...(this.kind === 'update'
          ? { newObject: this.newObject, lambda1: Number(this.lambda1), lambda2: Number(this.lambda2), ...(fromLang === EDIT_FROM ? {} : { lang: fromLang }) }
          : {}),
      });
      this.result = r;
      await this.changed(await c.editList());
    } catch (e) {
      this.host.showError(e, 'The edit was not made');
    } finally {
      this.busy = false;
    }
  }

  async undo(all = false) {
    const c = this.host.client;
    if (!c || this.busy) return;
    this.busy = true;
    try {
      const left = await c.editUndo(undefined, all);
      this.result = null;
      this.teachResult = null;
      await this.changed(left);
    } catch (e) {
      this.host.showError(e, 'Could not undo');
    } finally {
      this.busy = false;
    }
  }

  async teach(neurons?: NeuronId[]) {
    const c = this.host.client;
    if (!c || this.teaching || this.busy) return;
    const fact = this.teachMode === 'typed' ? { ...this.typed } : this.host.factId;
    if (!fact) {
      this.host.showError(new Error('choose a fact the model does not know, or type one'), 'Nothing to teach');
      return;
    }
    const langs = [...this.host.langs];
    const trainLang = this.teachMode === 'typed' ? this.typed.lang : langs.includes(EDIT_FROM) ? EDIT_FROM : langs[0];
    if (!langs.includes(trainLang)) langs.push(trainLang);
    await this.runTeach({
      fact,
      langs,
      trainLang,
      steps: this.host.steps,
      k: Number(this.k),
      trainSteps: Number(this.trainSteps),
      lr: Number(this.lr),
      ...(neurons ? { neurons } : {}),
    });
  }

  private async runTeach(req: Parameters<NonNullable<EditsHost['client']>['teach']>[0]): Promise<boolean> {
    const c = this.host.client!;
    this.teaching = true;
    this.teachLocalizes = !req.neurons;
    this.teachProgress = null;
    this.teachResult = null;
    this.cancelTooLate = false;
    this.host.error = null;
    this.host.notice = '';
    try {
      const r = await c.teach(req, (p) => (this.teachProgress = p));
      this.teachResult = r;
      this.noteLateCancel();
      if (r.active) await this.changed(await c.editList());
      return r.active !== null;
    } catch (e) {
      const err = toKnError(e);
      if (err.code === 'cancelled') this.host.notice = err.message;
      else this.host.showError(err, 'The fact was not taught');
      return false;
    } finally {
      this.teaching = false;
    }
  }

  async cancelTeach() {
    const c = this.host.client;
    if (!c || !this.teaching) return;
    const outcome = await c.teachCancel();
    // the reply and the teach's result may reach the page in either order
    if (outcome !== 'cancelled') this.cancelTooLate = true;
    this.noteLateCancel();
  }

  private noteLateCancel() {
    const n = lateCancelNotice(this.cancelTooLate, this.teachResult);
    if (n) this.host.notice = n;
  }

  /** A link's or file's edits: erase/update now (in order), taught facts wait for `applyPending`. */
  async restore(edits: readonly ExplorationEdit[] | undefined) {
    const c = this.host.client;
    this.pending = [];
    if (!c || !edits?.length) return;
    const plan = restorePlan(edits);
    try {
      // one at a time, each probed after, so that every edit shows what it cost
      for (const e of plan.replay) {
        await c.editReplay(e);
        await this.changed(await c.editList());
      }
      this.pending = plan.pending;
    } catch (e) {
      // what was not applied stays visible as pending, and the error says why
      this.pending = edits.slice((await c.editList()).length) as ExplorationEdit[];
      this.host.showError(e, "The link's edits could not all be applied");
    }
    // one that was applied but not yet counted (a failure between its replay and its probe)
    const list = await c.editList();
    if (list.map((a) => a.id).join() !== this.active.map((a) => a.id).join()) await this.changed(list);
  }

  /** Apply the waiting edits in order (taught facts train again on their stored neurons). */
  async applyPending() {
    const c = this.host.client;
    if (!c) return;
    while (this.pending.length) {
      const e = this.pending[0];
      try {
        if (e.kind === 'inject') {
          const ok = await this.runTeach({ fact: e.fact, neurons: e.neurons, trainLang: e.lang, trainSteps: e.trainSteps, lr: e.lr });
          if (!ok) return;
        } else await c.editReplay(e);
      } catch (err) {
        this.host.showError(err, 'The edit could not be applied');
        return;
      }
      this.pending = this.pending.slice(1);
      await this.changed(await c.editList());
    }
  }

  dropPending() {
    this.pending = [];
    this.host.updateHash();
  }
}

/**
 * The facts store: the benchmark's fact list (relation, search) and the chosen fact's queries probed on
 * the loaded model. "Latest wins": a stale answer is dropped. What the Data view shows of a fact: facts.ts.
 * Each listed fact gets its "known in k of 7" hint lazily: the worker probes the listed facts in small
 * batches (facts.ts KNOWN_BATCH) after the list arrives, and the hints fill in as the batches answer.
 */
import type { FactList, FactQueries } from '../../worker/api';
import { KNOWN_FIRST, KNOWN_RETRY_MS, knownAuto, knownBatches, knownPending, knownUpTo } from './facts';
import type { StoreHost } from './host';
import { ALL_LANGS } from './logic';
import { TOP_K } from './settings';

export class FactsStore {
  relation = $state('P36');
  search = $state('');
  list: FactList | null = $state(null);
  listBusy = $state(false);
  factId: string | null = $state(null);
  facts: FactQueries | null = $state(null);
  factBusy = $state(false);
  /** listed fact id → the languages the model knows it in (null: the worker was busy; absent: not asked yet) */
  known: Record<string, string[] | null> = $state({});
  /** why the hints stopped (a failed worker call), '' when they did not */
  knownError = $state('');
  /** hints are asked for the first this many listed facts (grows as the list is scrolled; facts.ts) */
  knownLimit = $state(KNOWN_FIRST);

  private seq = { list: 0, fact: 0, known: 0 };
  /** the model content hash the hints in `known` belong to */
  private knownModel = '';

  constructor(private readonly host: StoreHost) {}

  async listFacts() {
    const client = this.host.client;
    if (!client) return;
    const s = ++this.seq.list;
    this.listBusy = true;
    try {
      const r = await client.listFacts(this.relation, this.search, 50);
      if (s === this.seq.list) {
        this.list = r;
        this.knownLimit = knownAuto(this.host.backend) ? KNOWN_FIRST : 0;
        void this.fillKnown();
      }
    } catch (e) {
      if (s === this.seq.list) this.host.showError(e, 'Could not read the benchmark');
    } finally {
      if (s === this.seq.list) this.listBusy = false;
    }
  }

  /**
   * Asks the worker, batch by batch, in which languages the model knows each listed fact that has no hint
   * yet; a newer list, model or edit drops the rest. Never blocks the page: every batch is one short call.
   */
  async fillKnown(opts: { again?: boolean } = {}) {
    const client = this.host.client;
    const info = this.host.info;
    const list = this.list;
    const s = ++this.seq.known;
    if (!client || !info || !list) return;
    if (opts.again || this.knownModel !== info.contentHash) {
      this.known = {};
      this.knownModel = info.contentHash;
    }
    this.knownError = '';
    for (const batch of knownBatches(
      knownPending(
        list.facts.slice(0, this.knownLimit).map((f) => f.id),
        this.known,
      ),
    )) {
      try {
        const r = await client.factsKnown(batch, [...ALL_LANGS]);
        if (s !== this.seq.known) return;
        const next = { ...this.known };
        for (const h of r) next[h.factId] = h.known;
        this.known = next;
        // the worker is busy (an attribution, an edit, an experiment): ask again in a while, unless a newer
        // list, model or edit has asked since
        if (r.some((h) => h.known === null)) {
          setTimeout(() => {
            if (s === this.seq.known) void this.fillKnown();
          }, KNOWN_RETRY_MS);
          return;
        }
      } catch (e) {
        if (s === this.seq.known) this.knownError = e instanceof Error ? e.message : String((e as { message?: unknown })?.message ?? e);
        return;
      }
    }
  }

  /** The list was scrolled (or the user asked for hints): ask for the facts now in view. */
  moreKnown(scrolledToEnd: boolean) {
    if (!this.list) return;
    const next = knownUpTo(this.knownLimit, scrolledToEnd, this.list.facts.length);
    if (next === this.knownLimit) return;
    this.knownLimit = next;
    void this.fillKnown();
  }

  clear() {
    this.factId = null;
    this.facts = null;
  }

  /** Probes the chosen fact again (the model was edited), keeping the old answers on screen meanwhile. */
  async refresh() {
    const client = this.host.client;
    const id = this.factId;
    if (!client || !id) return;
    const s = ++this.seq.fact;
    try {
      const r = await client.factQueries(id, [...ALL_LANGS], TOP_K);
      if (s === this.seq.fact) this.facts = r;
    } catch (e) {
      if (s === this.seq.fact) this.host.showError(e, `Could not read fact ${id}`);
    }
  }

  /** The model's predictions changed (an edit, its undo): the listed facts' hints are probed again. */
  async modelChanged() {
    await this.refresh();
    void this.fillKnown({ again: true });
  }

  /** Probes every query of the fact in every language; false when it failed or a newer choice won. */
  async select(id: string): Promise<boolean> {
    const client = this.host.client;
    if (!client || !this.host.info) return false;
    const s = ++this.seq.fact;
    this.factId = id;
    this.facts = null;
    this.factBusy = true;
    this.host.error = null;
    try {
      const r = await client.factQueries(id, [...ALL_LANGS], TOP_K);
      if (s !== this.seq.fact) return false;
      this.facts = r;
      return true;
    } catch (e) {
      if (s === this.seq.fact) this.host.showError(e, `Could not read fact ${id}`);
      return false;
    } finally {
      if (s === this.seq.fact) this.factBusy = false;
    }
  }
}

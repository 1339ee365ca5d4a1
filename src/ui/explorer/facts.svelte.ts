/**
 * The facts store: the benchmark's fact list (relation, search) and the chosen fact's queries probed on
 * the loaded model. "Latest wins": a stale answer is dropped. What the Data view shows of a fact: facts.ts.
 */
import type { FactList, FactQueries } from '../../worker/api';
import type { StoreHost } from './host';
import { ALL_LANGS } from './logic';

export class FactsStore {
  relation = $state('P36');
  search = $state('');
  list: FactList | null = $state(null);
  listBusy = $state(false);
  factId: string | null = $state(null);
  facts: FactQueries | null = $state(null);
  factBusy = $state(false);

  private seq = { list: 0, fact: 0 };

  constructor(private readonly host: StoreHost) {}

  async listFacts() {
    const client = this.host.client;
    if (!client) return;
    const s = ++this.seq.list;
    this.listBusy = true;
    try {
      const r = await client.listFacts(this.relation, this.search, 50);
      if (s === this.seq.list) this.list = r;
    } catch (e) {
      if (s === this.seq.list) this.host.showError(e, 'Could not read the benchmark');
    } finally {
      if (s === this.seq.list) this.listBusy = false;
    }
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
      const r = await client.factQueries(id, [...ALL_LANGS], 5);
      if (s === this.seq.fact) this.facts = r;
    } catch (e) {
      if (s === this.seq.fact) this.host.showError(e, `Could not read fact ${id}`);
    }
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
      const r = await client.factQueries(id, [...ALL_LANGS], 5);
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

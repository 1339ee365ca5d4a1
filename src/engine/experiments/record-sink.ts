/**
 * The RowSink of a run kept in a record store (data/store.ts: IndexedDB in the page, memory in tests and where
 * IndexedDB fails), beside the NDJSON folder sink of the CLI (cli/results.ts):
 *   run:<id>             { meta, createdAt, updatedAt }     (meta.facts = the picked facts, in run order)
 *   row:<id>:<fact id>   { row, timing }                     (one whole fact, written after the fact)
 * Environment-free.
 */
import type { RecordStore } from '../../data/store';
import type { FactRowBase, FactTiming, RowSink } from './core';

export const runKey = (id: string) => `run:${id}`;
export const rowPrefix = (id: string) => `row:${id}:`;

/** A run's record. */
export interface StoredRun<M> {
  meta: M;
  createdAt: number;
  updatedAt: number;
}

interface RowRecord<R> {
  row: R;
  timing: FactTiming;
}

/** The sink of one run: a whole fact per store write (nothing half-written), resumable. */
export class RecordRowSink<R extends FactRowBase, M> implements RowSink<R> {
  /** rows written by this sink (since it was made) */
  written = 0;
  constructor(
    readonly store: RecordStore,
    readonly id: string,
    readonly meta: M,
    private readonly rowProblem: (r: unknown, meta: M) => string | null,
  ) {}

  /** The run's rows that read back whole and belong to it; the others are skipped and reported. */
  async read(): Promise<{ rows: R[]; timings: FactTiming[]; problems: string[] }> {
    const rows: R[] = [],
      timings: FactTiming[] = [],
      problems: string[] = [];
    const byFact = new Map<string, FactTiming>();
    const prefix = rowPrefix(this.id);
    for (const k of (await this.store.keys()).filter((k) => k.startsWith(prefix)).sort()) {
      let rec: RowRecord<R> | undefined;
      try {
        rec = await this.store.get<RowRecord<R>>(k);
      } catch (e) {
        problems.push(`${k}: unreadable (${e instanceof Error ? e.message : String(e)}); skipped`);
        continue;
      }
      const p = rec && typeof rec === 'object' ? this.rowProblem(rec.row, this.meta) : 'not a row record';
      if (p) {
        problems.push(`${k}: ${p}; skipped`);
        continue;
      }
      if (rec!.row.fact !== k.slice(prefix.length)) {
        problems.push(`${k}: holds fact ${rec!.row.fact}; skipped`);
        continue;
      }
      rows.push(rec!.row);
      const t = rec!.timing;
      if (t && t.fact === rec!.row.fact && Number.isFinite(t.ms)) byFact.set(t.fact, t);
    }
    rows.sort((a, b) => a.index - b.index);
    for (const r of rows) if (byFact.has(r.fact)) timings.push(byFact.get(r.fact)!);
    return { rows, timings, problems };
  }

  async finished() {
    return new Set((await this.read()).rows.map((r) => r.fact));
  }

  async write(row: R, timing: FactTiming) {
    await this.store.set(rowPrefix(this.id) + row.fact, { row, timing } satisfies RowRecord<R>);
    const rec = await this.store.get<StoredRun<M>>(runKey(this.id));
    if (rec) await this.store.set(runKey(this.id), { ...rec, updatedAt: Date.now() });
    this.written++;
  }
}

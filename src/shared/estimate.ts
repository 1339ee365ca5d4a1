/**
 * Time left of a long job, the one estimator the page's localize (worker/explorer.ts), teach (the Edit
 * view) and experiments (engine/experiments) use: time left = measured time per finished unit (a query, a
 * training step, a fact) × the units left, and nothing before the first unit has finished (the page then
 * says "estimating…"). Units that finished without work (read from the attribution cache) are not a
 * measurement. No dependencies: the page and the worker both import it.
 */

/** Above this much time left, a job is long: the page says so and offers the faster backend (wasm). */
export const LONG_JOB_MS = 3 * 60_000;

export interface EstimateInput {
  /** time spent on the job (or the phase) so far */
  elapsedMs: number;
  /** units finished */
  finished: number;
  total: number;
  /** of the finished units, those that took no work (cache reads) */
  instant?: number;
}

/** Measured ms per finished unit × units left; null until one unit was measured. */
export function timeLeftMs(o: EstimateInput): number | null {
  const measured = o.finished - (o.instant ?? 0);
  if (!(measured > 0) || !(o.elapsedMs >= 0)) return null;
  return (o.elapsedMs / measured) * Math.max(0, o.total - o.finished);
}

/**
 * The estimate of a job that reports progress often (per interpolation point, per training step), in
 * phases (teach: localize, train, evaluate): per phase, the time per unit is measured up to the last unit
 * that finished, and the estimate counts down between finishes. `clear` forgets it (a job that ended, was
 * cancelled or failed leaves no estimate behind).
 */
export class Estimator {
  private phase: string | undefined = undefined;
  private started = false;
  /** job time at which the current phase began (the previous report's time) */
  private phaseStart = 0;
  private last = 0;
  private finished = 0;
  private finishedAt = 0;
  /** the last estimate (null: none yet, or cleared) */
  etaMs: number | null = null;
  /** measured ms per unit of the current phase (null until one unit was measured) */
  perUnitMs: number | null = null;

  update(p: EstimateInput & { phase?: string }): number | null {
    if (!this.started || p.phase !== this.phase) {
      this.phaseStart = this.started ? this.last : 0;
      this.phase = p.phase;
      this.finished = 0;
      this.finishedAt = 0;
      this.started = true;
    }
    this.last = p.elapsedMs;
    const t = p.elapsedMs - this.phaseStart;
    if (p.finished > this.finished) {
      this.finished = p.finished;
      this.finishedAt = t;
    }
    const measured = this.finished - (p.instant ?? 0);
    if (!(measured > 0)) {
      this.perUnitMs = null;
      this.etaMs = null;
      return null;
    }
    this.perUnitMs = this.finishedAt / measured;
    this.etaMs = Math.max(0, this.perUnitMs * Math.max(0, p.total - this.finished) - (t - this.finishedAt));
    return this.etaMs;
  }

  clear(): void {
    this.phase = undefined;
    this.started = false;
    this.phaseStart = this.last = this.finished = this.finishedAt = 0;
    this.etaMs = null;
    this.perUnitMs = null;
  }
}

/**
 * What the page says about the time a long job takes (pure; the estimate itself is engine/experiments/estimate.ts):
 * the "time left" text of localize, teach and experiments (only after a unit was measured), and the note
 * before or during a long localize or experiment when the backend is a software WebGPU adapter or the
 * measured speed predicts more than LONG_JOB_MS, with the one-click switch to wasm (backend-label.ts).
 */
import { LONG_JOB_MS } from '../engine/experiments';
import type { BackendInfo } from '../shared/types';
import { formatDuration } from './explorer/logic';

export { LONG_JOB_MS };

/** "about 1 min 2 s left", or "estimating time left…" while no unit has finished (etaMs null). */
export function timeLeftText(etaMs: number | null | undefined): string {
  return etaMs === null || etaMs === undefined || !Number.isFinite(etaMs) ? 'estimating time left…' : `about ${formatDuration(etaMs)} left`;
}

/** A prediction from an earlier measurement: ms per unit × units; null without a measurement. */
export function predictMs(perUnitMs: number | null | undefined, units: number): number | null {
  return perUnitMs !== null && perUnitMs !== undefined && Number.isFinite(perUnitMs) && perUnitMs > 0 && units > 0 ? perUnitMs * units : null;
}

export interface LongJobNote {
  text: string;
  /** the backend one click restarts the page on, or null (already the fastest choice here) */
  switchTo: 'wasm' | null;
}

/**
 * The note beside a long job (null: nothing to say). `job`: what runs ("localizing P36:4"); `etaMs`: the
 * time it still needs, measured (while it runs) or predicted from an earlier measurement (before it
 * starts); `running`: said during the job; `keeps`: what a switch keeps (the page reloads).
 */
export function longJobNote(o: { backend: BackendInfo | null; job: string; etaMs: number | null; running: boolean; keeps: string }): LongJobNote | null {
  const b = o.backend;
  if (!b) return null;
  const canSwitch = b.name !== 'wasm';
  const sw = canSwitch ? ` Switching to wasm reloads the page; ${o.keeps}.` : '';
  const long = o.etaMs !== null && o.etaMs > LONG_JOB_MS;
  const at = long ? ` At the measured speed ${o.job} needs about ${formatDuration(o.etaMs!)}${o.running ? ' more' : ''}.` : '';
  if (b.software) {
    return {
      text: `The page computes with WebGPU on a software adapter (${b.software}), which is slower than wasm here: ${o.job} may take a long time.${at}${sw}`,
      switchTo: canSwitch ? 'wasm' : null,
    };
  }
  if (!long) return null;
  return { text: `${at.trim()}${canSwitch ? ` wasm may be faster on this machine.${sw}` : ''}`, switchTo: canSwitch ? 'wasm' : null };
}

/**
 * The Localize view's note: before a localize, from the backend and the time per query measured by an
 * earlier localize on this page (× the fact's queries in the chosen languages); during one, from its
 * measured time left.
 */
export function localizeNote(o: {
  backend: BackendInfo | null;
  factId: string | null;
  /** the fact's queries in the chosen languages */
  queries: number;
  /** ms per computed query measured by an earlier localize (null: none yet) */
  queryMs: number | null;
  localizing: boolean;
  etaMs: number | null;
}): LongJobNote | null {
  if (!o.factId) return null;
  return longJobNote({
    backend: o.backend,
    job: `localizing ${o.factId}`,
    etaMs: o.localizing ? o.etaMs : predictMs(o.queryMs, o.queries),
    running: o.localizing,
    keeps: o.localizing ? 'the queries attributed so far are cached, and localizing resumes from them' : 'the fact and the settings stay in the address',
  });
}

/** The Experiments view's note: before a run, from the backend and the time per fact measured by an earlier run; during one, from its time left. */
export function experimentNote(o: {
  backend: BackendInfo | null;
  facts: number;
  factMs: number | null;
  running: boolean;
  etaMs: number | null;
}): LongJobNote | null {
  return longJobNote({
    backend: o.backend,
    job: `the experiment (${o.facts} facts)`,
    etaMs: o.running ? o.etaMs : predictMs(o.factMs, o.facts),
    running: o.running,
    keeps: 'the finished facts are stored, the form is kept, and Run then resumes the run',
  });
}

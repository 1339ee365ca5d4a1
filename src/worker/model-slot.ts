/**
 * The worker's loaded model and how another replaces it (engine.worker.ts). The new model is loaded in
 * full before the old one is disposed: a load that fails (a corrupt or truncated file, an unreachable
 * URL, a refused architecture) or is cancelled leaves the loaded model, and what was computed on it
 * (the explorer's fact, edits), exactly as they were. Only a successful load drops them. Both models
 * are in memory while the new one loads; the old one's memory is freed as soon as the new one is ready.
 */
import { KnError } from '../shared/errors';
import type { LoadedModel } from '../engine/families';

function disposeQuietly(m: LoadedModel): void {
  try {
    m.dispose();
  } catch {
    /* already gone (a lost device) */
  }
}

export class ModelSlot {
  /** the model every call uses; null before the first load and after unload() */
  current: LoadedModel | null = null;
  private pending: AbortController | null = null;

  /** `forget`: drops what was computed on the current model; called just before it is disposed */
  constructor(private readonly forget: () => void) {}

  /** The current model; refused when none is loaded. */
  loaded(): LoadedModel {
    if (!this.current) throw new KnError('bad-input', 'no model is loaded');
    return this.current;
  }

  get loading(): boolean {
    return this.pending !== null;
  }

  /**
   * Loads a model with `open` (given the signal that cancel() or a newer load aborts) and only then
   * disposes the current one and puts the new one in its place. A rejection leaves `current` untouched.
   */
  async replace(open: (signal: AbortSignal) => Promise<LoadedModel>): Promise<LoadedModel> {
    this.pending?.abort();
    const ctl = new AbortController();
    this.pending = ctl;
    try {
      let m: LoadedModel;
      try {
        m = await open(ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted) throw new KnError('cancelled', 'loading was cancelled');
        throw e;
      }
      if (ctl.signal.aborted) {
        disposeQuietly(m);
        throw new KnError('cancelled', 'loading was cancelled');
      }
      this.unload();
      this.current = m;
      return m;
    } finally {
      if (this.pending === ctl) this.pending = null;
    }
  }

  /** Stops a load in progress; the current model stays. */
  cancel(): void {
    this.pending?.abort();
  }

  /** Drops the current model and what was computed on it (a lost device, an explicit unload, a replacement). */
  unload(): void {
    this.forget();
    if (this.current) {
      disposeQuietly(this.current);
      this.current = null;
    }
  }
}

/** What the explorer's model, facts and analysis stores need from the explorer that holds them. */
import type { BackendInfo, ModelInfo } from '../../shared/types';
import type { ImportedExploration } from '../share/exploration-file';
import type { ExplorerClient } from './client';

/** A read-only exploration (a static export, or an imported file): stored results, no model. */
export interface StaticView {
  title: string;
  imported: ImportedExploration;
}

export interface StoreHost {
  readonly client: ExplorerClient | null;
  readonly info: ModelInfo | null;
  /** the backend the worker computes on (null before it started) */
  readonly backend: BackendInfo | null;
  readonly factId: string | null;
  readonly staticView: StaticView | null;
  /** a link is being opened: no hash updates, no fact list */
  readonly restoring: boolean;
  notice: string;
  error: unknown;
  showError(e: unknown, title?: string): void;
  updateHash(): void;
}

/**
 * What the page's edits (edits.ts) hand the page: an applied edit as listed, an edit's and a teach's request, progress
 * and evaluation. Plain data (structured-clone safe): the worker's contract (src/worker/api.ts) re-exports these types.
 */
import type { AppliedEdit } from '../interventions';
import type { EditCell } from '../report';
import type { Lang } from '../rules';
import type { MatriceSettings, NeuronId } from '../selection';
import type { EditSpec, TypedFact } from '../../shared/edit-spec';

/** where the test seam `setHold` parks a teach (see EditState.setHold) */
export const TEACH_HOLD_POINTS = ['teach-commit', 'teach-done'] as const;
export type TeachHoldPoint = (typeof TEACH_HOLD_POINTS)[number];
/** what a cancel found: a teach it stopped, a teach that had already finished, or nothing running */
export type TeachCancelOutcome = 'cancelled' | 'finished' | 'idle';

export interface EditRequest {
  kind: 'erase' | 'update';
  neurons: NeuronId[];
  /** update: the new object, as the edit language's query should answer it */
  newObject?: string;
  lambda1?: number;
  lambda2?: number;
  /** update: the language whose first query the update is made from (default English, as the paper) */
  lang?: string;
}

export interface TokenAt {
  token: string;
  prob: number;
}

export interface EditQueryView {
  lang: string;
  templateId: string;
  prompt: string;
  role: 'edited' | 'paraphrase';
  /** the model answered the old object top-1 before the edit */
  known: boolean;
  before: { pOld: number; top: TokenAt };
  after: { pOld: number; top: TokenAt };
  /** after the edit: the old object is still top-1 / (update) the new object is top-1 */
  oldTop: boolean;
  newTop?: boolean;
}

export interface UnrelatedView {
  lang: string;
  factId: string;
  prompt: string;
  before: string;
  after: string;
  same: boolean;
}

/** An applied edit, as the page lists it. */
export interface ActiveEdit {
  id: string;
  kind: AppliedEdit['kind'];
  label: string;
  neurons: number;
  notes: string[];
  precision: AppliedEdit['precision'];
  spec: EditSpec;
}

export interface EditView {
  active: ActiveEdit;
  factId: string;
  editPrompt: string;
  /** the language of the edited query (an update's `lang`, else English) */
  fromLang?: string;
  oldObject: string;
  newObject?: string;
  queries: EditQueryView[];
  unrelated: UnrelatedView[];
  /** per language: reliability / generality / locality (shares with their counts, editCell) */
  languages: Record<string, EditCell>;
  /** the int8 model's float32 overlay vs re-quantizing in place (src/engine/interventions/edit.ts) */
  requantization?: AppliedEdit['requantization'];
  ms: { edit: number; evaluate: number; total: number };
}

export interface TeachRequest {
  /** a benchmark fact id, or a typed fact */
  fact: string | TypedFact;
  /** the languages to localize in and to check after (default: all 7) */
  langs?: string[];
  /** the language whose queries are trained on (default: the typed fact's language, else English) */
  trainLang?: string;
  /** neurons trained: the top-k by S (default 10) */
  k?: number;
  trainSteps?: number;
  lr?: number;
  /** IG steps M of the localization (default 20) */
  steps?: number;
  settings?: Partial<MatriceSettings>;
  /** train these neurons instead of localizing (a link's replay) */
  neurons?: NeuronId[];
}

export interface TeachProgress {
  phase: 'localize' | 'train' | 'evaluate';
  done: number;
  total: number;
  loss?: number;
  correct?: number;
  elapsedMs: number;
}

export interface TeachQueryView {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  before: { p: number; correct: boolean; top: string };
  after: { p: number; correct: boolean; top: string };
  trained: boolean;
}

export interface TeachView {
  active: ActiveEdit | null;
  /** why nothing was changed (cancel, divergence), else null */
  stopped: string | null;
  converged: boolean;
  factId: string;
  labels: Partial<Record<Lang, { subject: string; object: string }>>;
  trainLang: string;
  neurons: NeuronId[];
  queries: TeachQueryView[];
  /** per language: [correct, total] before and after */
  languages: Record<string, { before: [number, number]; after: [number, number] }>;
  /** queries of unrelated facts whose top-1 is unchanged after the training: [same, total] */
  old: [number, number];
  notes: string[];
  skipped: { lang: string; templateId: string; reason: string }[];
  losses: number[];
  ms: { localize: number; train: number; evaluate: number; total: number };
}

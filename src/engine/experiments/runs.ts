/**
 * The page's Experiments view and its worker: what the view asks for (a manipulation, readings or calibration
 * run on the loaded model) and what it gets back (progress, saved runs, results, reports). Types only, so the
 * worker's contract (worker/api.ts) names them without importing the worker's implementation.
 */
import type { Baseline, Quadrature } from '../rules';
import type { MatriceSettings } from '../selection/scoring';
import type { Summary } from '../report/report';
import type { CalibrationBlock, CalibrationMeta, CalibrationSummary } from './calibrate';
import type { RunProgress } from './core';
import type { ExperimentMeta } from './manipulate';

/** The meta of any run the view keeps: a manipulation / readings run, or a calibration. */
export type AnyMeta = ExperimentMeta | CalibrationMeta;

/**
 * The experiments the view offers: the manipulation (Fig. 5 …), the readings table (every Eq. 9 × Eq. 5 reading)
 * and the calibration of α2, β2, τ on the loaded model (`kn experiment calibrate`).
 */
export type ExperimentKind = 'manipulate' | 'readings' | 'calibrate';

/** What the Experiments view asks for. */
export interface ExperimentRequest {
  experiment: ExperimentKind;
  /** how the page names the loaded model (e.g. bundled:demo-causal); not part of the id */
  modelLabel: string;
  facts: number;
  langs: string[];
  methods: string[];
  seed: number;
  /** M, the quadrature points of the IG (engine/rules/index.ts STEPS_MIN..STEPS_MAX) */
  steps: number;
  baseline?: Baseline;
  /** the IG quadrature (absent: the engine's DEFAULT_QUADRATURE) */
  quadrature?: Quadrature;
  relations?: string[];
  settings?: Partial<MatriceSettings>;
  /** calibrate: the facts' split ('dev': the bundled model's split.json dev facts; 'test' is refused; null: any known fact) */
  split?: string | null;
  /** calibrate: the grid as option text per axis (comma-separated; absent: the engine's DEFAULT_GRID) */
  grid?: { alpha2?: string; beta2?: string; tau?: string };
}

export interface ExperimentProgress extends RunProgress {
  id: string;
  /** facts of the whole run (picked), and how many are finished including earlier sessions */
  runTotal: number;
  runDone: number;
  /** phase 'pick': candidates probed and kept so far */
  probed?: number;
  picked?: number;
}

export interface SavedExperiment {
  id: string;
  meta: AnyMeta;
  /** facts finished */
  done: number;
  createdAt: number;
  updatedAt: number;
}

export interface ExperimentRunResult {
  id: string;
  status: 'done' | 'cancelled';
  /** true when the run existed before (rows of an earlier session were kept) */
  resumed: boolean;
  /** for a new run: the most recent saved run and the first field in which it differs */
  differsFrom: { id: string; field: string } | null;
  written: number;
  skipped: number;
  total: number;
  message: string;
}

export interface ExperimentReport {
  id: string;
  meta: ExperimentMeta;
  summary: Summary;
  done: number;
  total: number;
}

/** A calibration run's report: the CLI's files (report.md, frontier.csv/svg, calibration.json) and its block. */
export interface CalibrationReport {
  id: string;
  meta: CalibrationMeta;
  summary: CalibrationSummary;
  files: Record<string, string>;
  /** the block "Use these settings for this model" stores (null when no setting qualifies) */
  block: CalibrationBlock | null;
  command: string;
  done: number;
  total: number;
}

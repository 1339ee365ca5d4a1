/**
 * What a run request becomes: the meta (facts still empty) of a manipulation / readings run or a calibration,
 * the one builder the CLI (`kn experiment …`, flags) and the page's worker (the Experiments form) both call,
 * so a run started in either writes the same meta.
 */
import type { Lang, Relation } from '../../data/types';
import { KnError } from '../../shared/errors';
import type { LoadedModel } from '../families/model';
import { LEGACY_QUADRATURE, type Baseline, type Quadrature } from '../rules';
import type { MatriceSettings } from '../selection/scoring';
import { CALIBRATION_VERSION, type CalibrationMeta } from './calibrate';
import type { CalibrationGrid } from '../rules/calibration';
import { minKnownLangsFor, type ModelRef } from './core';
import { makeMeta, parseMethodSpec, readingSpecs, type ExperimentMeta, type MethodSpec } from './manipulate';

export type { ModelRef };

export const modelRef = (model: LoadedModel, id: string): ModelRef => ({
  id,
  contentHash: model.info.contentHash,
  dtype: model.info.dtype,
  kind: model.info.kind,
  numLayers: model.cfg.numLayers,
  ffnSize: model.cfg.ffn,
});

/**
 * The methods of a manipulation or readings run: readings = MaTrice under every Eq. 9 × Eq. 5 reading, each
 * beside its Random; manipulate = the given method specs, refused when one is listed twice, MaTrice added first
 * when missing (the report compares every method with it).
 */
export function runMethodSpecs(kind: 'manipulate' | 'readings', methods: readonly string[]): MethodSpec[] {
  const specs: MethodSpec[] = kind === 'readings' ? readingSpecs() : methods.map(parseMethodSpec);
  if (new Set(specs.map((s) => s.key)).size !== specs.length) throw new KnError('bad-input', '--methods lists a method twice');
  if (kind === 'manipulate' && !specs.some((s) => s.key === 'matrice')) specs.unshift(parseMethodSpec('matrice'));
  return specs;
}

/** What every run request names (the CLI's flags, the page's form). */
export interface RunRequest {
  /** how the run names its model (CLI: the --model argument; page: its label) */
  id: string;
  steps: number;
  baseline: Baseline;
  quadrature: Quadrature;
  seed: number;
  langs: Lang[];
  /** how many facts to pick */
  facts: number;
  split: string | null;
  shard: { k: number; n: number } | null;
}

export interface ManipulationRequest extends RunRequest {
  specs: readonly MethodSpec[];
  settings: Partial<MatriceSettings>;
  relations: Relation[];
}

/** The meta of a manipulation or readings run on a model (facts still empty). */
export function manipulationMeta(model: LoadedModel, r: ManipulationRequest): ExperimentMeta {
  return makeMeta({
    model: modelRef(model, r.id),
    settings: r.settings,
    steps: r.steps,
    baseline: r.baseline,
    quadrature: r.quadrature,
    seed: r.seed,
    langs: r.langs,
    methods: r.specs.map((s) => s.key),
    facts: [],
    request: { facts: r.facts, relations: r.relations, split: r.split, minKnownLangs: minKnownLangsFor(r.langs) },
    shard: r.shard,
  });
}

export interface CalibrationRequest extends RunRequest {
  /** the settings the grid varies from (resolved) */
  base: MatriceSettings;
  grid: CalibrationGrid;
}

/** The meta of a calibration on a model (facts still empty); the legacy quadrature is left out, as in folders before the option. */
export function calibrationMeta(model: LoadedModel, r: CalibrationRequest): CalibrationMeta {
  return {
    v: CALIBRATION_VERSION,
    experiment: 'calibrate',
    model: modelRef(model, r.id),
    base: r.base,
    grid: r.grid,
    steps: r.steps,
    baseline: r.baseline,
    ...(r.quadrature !== LEGACY_QUADRATURE ? { quadrature: r.quadrature } : {}),
    seed: r.seed,
    langs: r.langs,
    facts: [],
    request: { facts: r.facts, split: r.split, minKnownLangs: minKnownLangsFor(r.langs) },
    shard: r.shard,
  };
}

/**
 * The Experiments view's worker side: the benchmark-scale manipulation runner (src/engine/experiments) with
 * its rows kept in IndexedDB, so a reload resumes the run and a different model or settings never mixes
 * into it.
 *
 * One idb-keyval store ('kn-experiments' / 'runs'), keyed by the experiment id:
 *   run:<id>             { meta, createdAt, updatedAt }     (meta.facts = the picked facts, in run order)
 *   row:<id>:<fact id>   { row, timing }                     (one whole fact, written after the fact)
 * The id is a hash of everything in the meta that makes two runs comparable (experimentId): the same form
 * on the same model resumes, anything else starts a new run, and the view says which field differs from
 * the last saved run. Pure engine calls and a key-value store: runs in the worker and in Node (tests,
 * with the in-memory twin).
 *
 * "Calibrate on this model" (experiment 'calibrate', engine/experiments/calibrate.ts: its grid, rule, rows and
 * summary) runs through the same plumbing: its meta is a CalibrationMeta, its id `calibrate-<hash>`, its rows
 * checked by calibrationRowProblem; calibrationReport gives the CLI's report files and the calibration block.
 */
import {
  checkBaseline,
  checkLang,
  checkRelation,
  checkSteps,
  DEFAULT_BASELINE,
  DEFAULT_QUADRATURE,
  FACTS_MAX,
  FACTS_MIN,
  SEED_MAX,
  SEED_MIN,
} from '../engine/rules';
import { createRecordStore, IdbRecordStore, MemoryRecordStore, type RecordStore } from '../data/store';
import type { RmlLama } from '../data/loader';
import { LANGS, type Lang, type Relation } from '../data/types';
import { KnError } from '../shared/errors';
import { sha256Hex } from '../shared/hash';
import type { BytesStore } from '../engine/attribution';
import { resolveSettings } from '../engine/selection';
import type { LoadedModel } from '../engine/families';
import type {
  AnyMeta,
  CalibrationReport,
  ExperimentKind,
  ExperimentProgress,
  ExperimentReport,
  ExperimentRequest,
  ExperimentRunResult,
  SavedExperiment,
} from '../engine/experiments';
import {
  RecordRowSink,
  rowPrefix,
  runKey,
  unfinishedNote,
  type StoredRun,
  calibrationMeta,
  DEFAULT_METHODS,
  manipulationMeta,
  parseMethodSpec,
  metaMismatch,
  pickFacts,
  rowProblem,
  runMethodSpecs,
  runManipulation,
  type ExperimentMeta,
  type FactRow,
  type RunProgress,
} from '../engine/experiments';
import { summarize } from '../engine/report';
import {
  calibrateCommand,
  calibrationBlock,
  calibrationFiles,
  calibrationRowProblem,
  parseGrid,
  runCalibration,
  summarizeCalibration,
  type CalibrationMeta,
  type CalibrationRow,
  calibrationMismatch,
} from '../engine/experiments';

/** The meta of any run the view keeps: a manipulation / readings run, or a calibration. */
export type { AnyMeta };
const isCalibration = (m: AnyMeta): m is CalibrationMeta => m.experiment === 'calibrate';
/** Why a stored row cannot be read against its run's meta, or null. */
const anyRowProblem = (r: unknown, m: AnyMeta) => (isCalibration(m) ? calibrationRowProblem(r, m) : rowProblem(r as FactRow, m));

// ------------------------------------------------------------------------------------------- store

/** The run records' store: JSON values, IndexedDB in the page, memory in tests and where IndexedDB fails (data/store.ts). */
export { createRecordStore, IdbRecordStore, MemoryRecordStore, type RecordStore };

type RunRecord = StoredRun<AnyMeta>;

/** Hex sha256 of a text (shared/hash.ts). */
const sha256 = (text: string): Promise<string> => sha256Hex(new TextEncoder().encode(text));

/** Canonical JSON: object keys sorted, so the id does not depend on the order fields were set in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A readings run: every method is a reading (`matrice@scale/none` …), as `kn experiment readings` writes. */
export const isReadings = (m: AnyMeta) => !isCalibration(m) && m.methods.length > 0 && m.methods.every((k) => k.includes('@'));

/**
 * The experiment id: a hash of the meta without the picked facts (they follow from the rest), the shard
 * and the model's label (the same weights loaded from another URL are the same model) — the fields
 * metaMismatch compares.
 */
export async function experimentId(meta: AnyMeta): Promise<string> {
  const { facts: _facts, shard: _shard, ...rest } = meta;
  void _facts;
  void _shard;
  const h = await sha256(canonical({ ...rest, model: { ...rest.model, id: undefined } }));
  return `${isReadings(meta) ? 'readings' : meta.experiment}-${h.slice(0, 16)}`;
}

/** The sink of one run in the record store (engine/experiments/record-sink.ts), its rows checked against its meta. */
export class IdbRowSink<R extends { fact: string; index: number } = FactRow> extends RecordRowSink<R, AnyMeta> {
  constructor(store: RecordStore, id: string, meta: AnyMeta) {
    super(store, id, meta, anyRowProblem);
  }
}

// ------------------------------------------------------------------------------------------- API types

/** What the view asks and gets (engine/experiments/runs.ts, so worker/api.ts imports no worker file). */
export type { CalibrationReport, ExperimentKind, ExperimentProgress, ExperimentReport, ExperimentRequest, ExperimentRunResult, SavedExperiment };

// ------------------------------------------------------------------------------------------- runner

function checkRequest(r: ExperimentRequest): void {
  if (!r || typeof r !== 'object') throw new KnError('bad-input', 'experiment: no request');
  if (r.experiment !== 'manipulate' && r.experiment !== 'readings' && r.experiment !== 'calibrate')
    throw new KnError('bad-input', `unknown experiment "${String(r.experiment)}" (manipulate, readings or calibrate)`);
  if (r.experiment === 'calibrate' && r.split === 'test')
    throw new KnError('bad-input', 'split test: calibration never sees the test split (it judges the chosen settings); use the dev split');
  if (r.experiment === 'calibrate' && r.split !== undefined && r.split !== null && r.split !== 'dev')
    throw new KnError('bad-input', `split must be dev (or none), got "${String(r.split)}"`);
  if (!Number.isInteger(r.facts) || r.facts < FACTS_MIN || r.facts > FACTS_MAX)
    throw new KnError('bad-input', `number of facts must be an integer in ${FACTS_MIN}..${FACTS_MAX}, got ${r.facts}`);
  if (!Number.isInteger(r.seed) || r.seed < SEED_MIN || r.seed > SEED_MAX)
    throw new KnError('bad-input', `seed must be an integer in ${SEED_MIN}..${SEED_MAX}, got ${r.seed}`);
  checkSteps(r.steps, 'M (steps)');
  if (r.baseline !== undefined) checkBaseline(r.baseline);
  if (!Array.isArray(r.langs) || !r.langs.length) throw new KnError('bad-input', 'choose at least one language');
  for (const l of r.langs) checkLang(l);
  if (r.experiment === 'manipulate' && (!Array.isArray(r.methods) || !r.methods.length)) throw new KnError('bad-input', 'choose at least one method');
  for (const rel of r.relations ?? []) checkRelation(rel);
}

/** The meta a request makes on a model (facts still empty): as `kn experiment manipulate|readings` makes it (engine/experiments/requests.ts). */
export function requestMeta(model: LoadedModel, r: ExperimentRequest): ExperimentMeta {
  checkRequest(r);
  const langs = LANGS.filter((l) => r.langs.includes(l)) as Lang[];
  return manipulationMeta(model, {
    id: r.modelLabel || model.info.contentHash.slice(0, 12),
    specs: runMethodSpecs(r.experiment === 'readings' ? 'readings' : 'manipulate', [...new Set(r.methods)]),
    settings: r.settings ?? {},
    steps: r.steps,
    baseline: r.baseline ?? DEFAULT_BASELINE,
    quadrature: r.quadrature ?? DEFAULT_QUADRATURE,
    seed: r.seed,
    langs,
    facts: r.facts,
    relations: (r.relations ?? []) as Relation[],
    split: null,
    shard: null,
  });
}

/** The meta of a calibration request on a model (facts still empty): as `kn experiment calibrate` makes it. */
export function calibrationRequestMeta(model: LoadedModel, r: ExperimentRequest): CalibrationMeta {
  checkRequest(r);
  if (r.experiment !== 'calibrate') throw new KnError('bad-input', `not a calibration request (${r.experiment})`);
  return calibrationMeta(model, {
    id: r.modelLabel || model.info.contentHash.slice(0, 12),
    base: resolveSettings({ ...(r.settings?.norm ? { norm: r.settings.norm } : {}), ...(r.settings?.attrNorm ? { attrNorm: r.settings.attrNorm } : {}) }),
    grid: parseGrid(r.grid ?? {}),
    steps: r.steps,
    baseline: r.baseline ?? DEFAULT_BASELINE,
    quadrature: r.quadrature ?? DEFAULT_QUADRATURE,
    seed: r.seed,
    langs: LANGS.filter((l) => r.langs.includes(l)) as Lang[],
    facts: r.facts,
    split: r.split ?? null,
    shard: null,
  });
}

/** The first field two calibration metas differ in, or null: the engine's rule (the CLI's too). */
export { calibrationMismatch };

const anyMismatch = (a: AnyMeta, b: AnyMeta): string | null =>
  isCalibration(a) !== isCalibration(b)
    ? `experiment (${a.experiment} vs ${b.experiment})`
    : isCalibration(a)
      ? calibrationMismatch(a, b as CalibrationMeta)
      : metaMismatch(a, b as ExperimentMeta);

/** The facts of a split of the loaded model (its split.json: bundled models), e.g. the dev facts. */
export type SplitFacts = (source: string, split: 'dev') => Promise<string[]>;

export class ExperimentRunner {
  private running: AbortController | null = null;

  constructor(
    private getModel: () => LoadedModel | null,
    private bench: () => Promise<RmlLama>,
    readonly store: RecordStore,
    private attributionStore?: BytesStore,
    private splitFacts?: SplitFacts,
  ) {}

  get busy() {
    return this.running !== null;
  }

  cancel(): void {
    this.running?.abort();
  }

  async list(): Promise<SavedExperiment[]> {
    const all = await this.store.keys();
    const out: SavedExperiment[] = [];
    for (const k of all) {
      if (!k.startsWith('run:')) continue;
      const id = k.slice(4);
      const rec = await this.store.get<RunRecord>(k).catch(() => undefined);
      if (!rec?.meta || !Array.isArray(rec.meta.facts)) continue;
      const done = (await new IdbRowSink(this.store, id, rec.meta).finished()).size;
      out.push({ id, meta: rec.meta, done, createdAt: rec.createdAt, updatedAt: rec.updatedAt });
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async delete(id: string): Promise<void> {
    if (this.running && this.runningId === id) throw new KnError('bad-input', `experiment ${id} is running; cancel it first`);
    for (const k of await this.store.keys()) if (k === runKey(id) || k.startsWith(rowPrefix(id))) await this.store.delete(k);
  }

  private runningId: string | null = null;

  /** Summary of a saved run (its finished facts so far). */
  async report(id: string): Promise<ExperimentReport> {
    const rec = await this.store.get<RunRecord>(runKey(id));
    if (!rec?.meta) throw new KnError('bad-input', `no saved experiment ${id}`);
    if (isCalibration(rec.meta)) throw new KnError('bad-input', `${id} is a calibration: its report is calibrationReport's`);
    const { rows, timings, problems } = await new IdbRowSink(this.store, id, rec.meta).read();
    if (!rows.length)
      throw new KnError(
        'bad-input',
        `experiment ${id} has no finished fact yet${problems.length ? ` (${problems.length} unreadable rows: ${problems[0]})` : ''}`,
      );
    const unfinished = unfinishedNote(rec.meta, rows.length);
    if (unfinished) problems.push(unfinished);
    return { id, meta: rec.meta, summary: summarize(rec.meta, rows, timings, problems), done: rows.length, total: rec.meta.facts.length };
  }

  /** A calibration run's summary, the CLI's report files and the block it chose (of its finished facts so far). */
  async calibrationReport(id: string): Promise<CalibrationReport> {
    const rec = await this.store.get<RunRecord>(runKey(id));
    if (!rec?.meta || !isCalibration(rec.meta)) throw new KnError('bad-input', `no saved calibration ${id}`);
    const meta = rec.meta;
    const { rows, problems } = await new IdbRowSink<CalibrationRow>(this.store, id, meta).read();
    if (!rows.length)
      throw new KnError(
        'bad-input',
        `calibration ${id} has no finished fact yet${problems.length ? ` (${problems.length} unreadable rows: ${problems[0]})` : ''}`,
      );
    const unfinished = unfinishedNote(meta, rows.length);
    if (unfinished) problems.push(unfinished);
    const summary = summarizeCalibration(meta, rows, problems);
    const command = calibrateCommand(meta);
    return {
      id,
      meta,
      summary,
      files: calibrationFiles(meta, summary, command),
      block: calibrationBlock(meta, summary, command),
      command,
      done: rows.length,
      total: meta.facts.length,
    };
  }

  /** The facts a request may pick from: a calibration's dev split (bundled models), else any. */
  private async candidates(model: LoadedModel, base: AnyMeta): Promise<string[] | undefined> {
    if (!isCalibration(base) || base.request.split !== 'dev') return undefined;
    if (!this.splitFacts)
      throw new KnError('bad-input', 'the dev split needs the model\'s split.json (a bundled demo model); choose "any fact the model knows"');
    const ids = await this.splitFacts(model.info.source, 'dev');
    if (!ids.length) throw new KnError('bad-input', `${model.info.source}: its split.json has no dev facts`);
    return ids;
  }

  /** Runs (or resumes) the experiment of a request on the loaded model. Cancel: resolves with status 'cancelled'. */
  async run(r: ExperimentRequest, onProgress?: (p: ExperimentProgress) => void): Promise<ExperimentRunResult> {
    const model = this.getModel();
    if (!model) throw new KnError('bad-input', 'no model is loaded; load one in "Model & facts" first');
    if (this.running) throw new KnError('bad-input', 'an experiment is already running');
    const base: AnyMeta = r?.experiment === 'calibrate' ? calibrationRequestMeta(model, r) : requestMeta(model, r);
    const id = await experimentId(base);
    const ctl = new AbortController();
    this.running = ctl;
    this.runningId = id;
    const t0 = performance.now();
    try {
      const bench = await this.bench();
      const rec = await this.store.get<RunRecord>(runKey(id));
      let meta: AnyMeta;
      let differsFrom: ExperimentRunResult['differsFrom'] = null;
      const resumed = !!rec;
      if (rec) {
        const diff = rec.meta ? anyMismatch({ ...rec.meta, facts: [] }, base) : 'meta (missing)';
        if (diff) throw new KnError('bad-input', `the saved experiment ${id} holds results of another run: ${diff} differs; delete it or change the settings`);
        meta = rec.meta;
      } else {
        const last = (await this.list())[0];
        if (last) {
          const d = anyMismatch({ ...last.meta, facts: [] }, base);
          if (d) differsFrom = { id: last.id, field: d };
        }
        const candidates = await this.candidates(model, base);
        const facts = await pickFacts(model, bench, {
          facts: r.facts,
          relations: isCalibration(base) ? undefined : base.request.relations,
          candidates,
          langs: base.langs,
          seed: base.seed,
          signal: ctl.signal,
          onProgress: (p) =>
            onProgress?.({
              id,
              phase: 'pick',
              done: p.picked,
              total: r.facts,
              skipped: 0,
              elapsedMs: performance.now() - t0,
              etaMs: null,
              runTotal: r.facts,
              runDone: 0,
              probed: p.probed,
              picked: p.picked,
            }),
        });
        meta = { ...base, facts };
        const now = Date.now();
        await this.store.set(runKey(id), { meta, createdAt: now, updatedAt: now } satisfies RunRecord);
      }
      const m = meta;
      const sink = isCalibration(m) ? new IdbRowSink<CalibrationRow>(this.store, id, m) : new IdbRowSink(this.store, id, m);
      const before = (await sink.finished()).size;
      let written = 0,
        skipped = 0;
      const progress = (p: RunProgress) => onProgress?.({ ...p, id, runTotal: m.facts.length, runDone: p.skipped + p.done });
      try {
        const res = isCalibration(m)
          ? await runCalibration({
              model,
              bench,
              meta: m,
              sink: sink as IdbRowSink<CalibrationRow>,
              store: this.attributionStore,
              signal: ctl.signal,
              onProgress: progress,
            })
          : await runManipulation({
              model,
              bench,
              meta: m,
              methods: m.methods.map(parseMethodSpec),
              sink: sink as IdbRowSink,
              store: this.attributionStore,
              signal: ctl.signal,
              onProgress: progress,
            });
        written = res.written;
        skipped = res.skipped;
      } catch (e) {
        if (e instanceof KnError && e.code === 'cancelled') {
          return {
            id,
            status: 'cancelled',
            resumed,
            differsFrom,
            written: sink.written,
            skipped: before,
            total: meta.facts.length,
            message: `cancelled: ${before + sink.written} of ${meta.facts.length} facts are finished and kept; Run again with the same settings to resume`,
          };
        }
        throw e;
      }
      return {
        id,
        status: 'done',
        resumed,
        differsFrom,
        written,
        skipped,
        total: meta.facts.length,
        message: `${meta.facts.length} facts finished (${written} now${skipped ? `, ${skipped} in an earlier session` : ''})${meta.facts.length < r.facts ? `; only ${meta.facts.length} facts known by the model were found (asked for ${r.facts})` : ''}`,
      };
    } catch (e) {
      if (e instanceof KnError && e.code === 'cancelled') {
        // cancelled while picking facts: nothing was stored
        return {
          id,
          status: 'cancelled',
          resumed: false,
          differsFrom: null,
          written: 0,
          skipped: 0,
          total: 0,
          message: 'cancelled while picking facts; nothing was saved',
        };
      }
      throw e;
    } finally {
      this.running = null;
      this.runningId = null;
    }
  }
}

export { DEFAULT_METHODS };

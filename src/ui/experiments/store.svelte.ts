/**
 * The Experiments view's state and its calls to the worker (through the explorer's client). The logic
 * lives in logic.ts; this class only holds what the view shows.
 */
import { KnError, toKnError } from '../../shared/errors';
import type { CalibrationReport, ExperimentProgress, ExperimentRunResult, SavedExperiment } from '../../worker/experiments';
import { modelDefaults } from '../../engine/selection';
import type { Explorer } from '../explorer/store.svelte';
import { describeModel, modelToState } from '../explorer/logic';
import {
  FORM_STORAGE_KEY,
  defaultForm,
  formText,
  formToRequest,
  importReport,
  metaToForm,
  reportParam,
  reproduceCommand,
  storedForm,
  type ExperimentForm,
  type ReportDoc,
} from './logic';

type FormStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** localStorage, or null where there is none (Node) or it refuses (private windows, sandboxes) */
function pageStorage(): FormStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export class Experiments {
  form: ExperimentForm = $state(defaultForm());
  running = $state(false);
  cancelling = $state(false);
  progress: ExperimentProgress | null = $state.raw(null);
  /** ms per fact measured by the last run on this page (predicts the next one: long-job.ts) */
  factMs: number | null = $state(null);
  result: ExperimentRunResult | null = $state.raw(null);
  runs: SavedExperiment[] = $state.raw([]);
  storageNote: string | null = $state(null);
  /** the report shown: of a saved run (id) or read-only from a file (id null) */
  report: ReportDoc | null = $state.raw(null);
  reportId: string | null = $state(null);
  reportDone = $state(0);
  readOnly = $state(false);
  /** the calibration run shown ("Calibrate on this model"): its report files and the block it chose */
  calibration: CalibrationReport | null = $state.raw(null);
  /** a "Use these settings" / "Forget" in flight */
  applying = $state(false);
  error: KnError | null = $state(null);
  notice = $state('');

  /** `storage`: where the form is kept across reloads (the page's localStorage) */
  constructor(
    readonly ex: Explorer,
    private readonly storage: FormStorage | null = pageStorage(),
  ) {
    let text: string | null = null;
    try {
      text = storage?.getItem(FORM_STORAGE_KEY) ?? null;
    } catch {
      /* unreadable storage: the defaults */
    }
    this.form = storedForm(text);
  }

  /** Keeps the form across reloads (called whenever it changes, and when a run starts). */
  saveForm() {
    try {
      this.storage?.setItem(FORM_STORAGE_KEY, formText(this.form));
    } catch {
      /* a full or refused storage: the form is kept for this page only */
    }
  }

  /** How the loaded model is named in a run (its source, e.g. bundled:demo-causal). */
  modelLabel(): string {
    const st = modelToState(this.ex.model.spec);
    return st ? describeModel(st) : (this.ex.model.info?.contentHash.slice(0, 12) ?? 'model');
  }

  /** Opens `?report=<file>.json` read-only (true when the page was opened for a report). */
  start(search: string): boolean {
    let url: string | null;
    try {
      url = reportParam(search);
    } catch (e) {
      this.error = toKnError(e);
      return true;
    }
    if (!url) return false;
    void (async () => {
      try {
        const r = await fetch(url);
        if (!r.ok) throw new KnError('missing-file', `experiment report: ${url} could not be fetched (HTTP ${r.status})`);
        this.openFile(await r.text());
      } catch (e) {
        this.error = toKnError(e);
      }
    })();
    return true;
  }

  openFile(text: string) {
    this.error = null;
    ++this.openSeq;
    try {
      this.report = importReport(text);
      this.calibration = null;
      this.reportId = null;
      this.reportDone = this.report.summary.facts;
      this.readOnly = true;
    } catch (e) {
      this.error = toKnError(e);
    }
  }

  async refresh() {
    const c = this.ex.client;
    if (!c) return;
    try {
      const r = await c.experimentList();
      this.runs = r.runs;
      this.storageNote =
        r.storage === 'memory'
          ? `IndexedDB is not available (${r.storageNote ?? 'unknown reason'}): rows are kept in memory only and a reload loses them.`
          : null;
    } catch (e) {
      this.error = toKnError(e);
    }
  }

  async run() {
    const c = this.ex.client;
    if (!c || this.running) return;
    this.error = null;
    this.notice = '';
    this.result = null;
    this.progress = null;
    let req;
    try {
      if (!this.ex.model.info) throw new KnError('bad-input', 'no model is loaded; load one in "1 · Model & facts" first');
      req = formToRequest(this.form, this.modelLabel());
      this.saveForm();
    } catch (e) {
      this.error = toKnError(e);
      return;
    }
    this.running = true;
    const t0 = performance.now();
    try {
      let shown = 0;
      const r = await c.experimentRun(req, (p) => {
        this.progress = p;
        if (p.phase === 'run' && p.done > 0) this.factMs = p.elapsedMs / p.done;
        // the report and the saved runs follow the run: refreshed after every finished fact
        if (p.phase === 'run' && p.runDone > shown) {
          shown = p.runDone;
          void this.open(p.id);
          void this.refresh();
        }
      });
      this.result = r;
      console.info(`[kn] experiment ${r.id} ${r.status}: ${r.written} facts written, ${r.skipped} resumed, in ${Math.round(performance.now() - t0)} ms`);
      this.notice =
        r.message +
        (r.differsFrom ? ` New run ${r.id}: the saved run ${r.differsFrom.id} differs in ${r.differsFrom.field}, so their rows are kept apart.` : '');
      await this.refresh();
      if (r.written + r.skipped > 0) await this.open(r.id);
    } catch (e) {
      this.error = toKnError(e);
    } finally {
      this.running = false;
      this.cancelling = false;
      // done, cancelled or failed: no progress and no time left stays on screen (the notice says how it ended)
      this.progress = null;
    }
  }

  async cancel() {
    this.cancelling = true;
    await this.ex.client?.experimentCancel();
  }

  private openSeq = 0;

  async open(id: string) {
    const c = this.ex.client;
    if (!c) return;
    const seq = ++this.openSeq;
    if (id.startsWith('calibrate-')) {
      try {
        const r = await c.calibrationReport(id);
        if (seq !== this.openSeq) return;
        this.calibration = r;
        this.report = null;
        this.reportId = id;
        this.reportDone = r.done;
        this.readOnly = false;
      } catch (e) {
        if (seq === this.openSeq) this.error = toKnError(e);
      }
      return;
    }
    try {
      const r = await c.experimentReport(id);
      if (seq !== this.openSeq) return; // a newer request wins
      this.report = { format: 'kn-experiment-report', version: 1, createdWith: '', command: reproduceCommand(r.meta), total: r.total, summary: r.summary };
      this.calibration = null;
      this.reportId = id;
      this.reportDone = r.done;
      this.readOnly = false;
    } catch (e) {
      if (seq === this.openSeq) this.error = toKnError(e);
    }
  }

  /** Puts a saved run's settings in the form: Run then resumes it (on the same model). */
  useSettings(run: SavedExperiment) {
    this.form = metaToForm(run.meta);
    this.saveForm();
    this.notice = `The form holds the settings of ${run.id}; Run resumes it${run.meta.model.contentHash !== this.ex.model.info?.contentHash ? ` once its model (${run.meta.model.id}) is loaded — the loaded model differs in model.contentHash` : ''}.`;
  }

  /** Runs the remaining facts of a saved run (its settings go back in the form). */
  async resume(run: SavedExperiment) {
    this.useSettings(run);
    await this.run();
  }

  async remove(id: string) {
    try {
      await this.ex.client?.experimentDelete(id);
      if (this.reportId === id) {
        this.report = null;
        this.calibration = null;
        this.reportId = null;
      }
      await this.refresh();
    } catch (e) {
      this.error = toKnError(e);
    }
  }

  // ------------------------------------------------------------------------------------------ calibration

  /** Whether the loaded weights use a calibration made on this page (kept per content hash in IndexedDB). */
  get calibrationStored(): boolean {
    return this.ex.model.info?.calibrationSource === 'page';
  }

  /** Where the loaded model's settings come from (engine modelDefaults: this page's calibration, the folder's, METHOD's). */
  get defaultsNote(): string {
    return this.ex.model.info ? modelDefaults(this.ex.model.info).note : '';
  }

  /** The model's info came back with another effective calibration: the explorer's settings follow it. */
  private applyInfo(info: NonNullable<Experiments['ex']['model']['info']>) {
    this.ex.model.info = info;
    this.ex.analysis.settings = { ...modelDefaults(info).settings };
    if (this.ex.analysis.loc) void this.ex.analysis.rescore();
  }

  /** "Use these settings for this model": the shown calibration becomes the page's settings for these weights. */
  async useCalibration() {
    const c = this.ex.client;
    const cal = this.calibration;
    if (!c || !cal || this.applying) return;
    this.error = null;
    this.applying = true;
    try {
      const info = await c.calibrationUse(cal.id);
      this.applyInfo(info);
      const s = info.calibration?.settings;
      this.notice = s
        ? `This model now starts with α2 = ${s.alpha2}, β2 = ${s.beta2}, τ = ${s.tau} (calibrated on this page on ${info.calibration!.facts} facts; kept in this browser for these weights, until you forget it).`
        : '';
    } catch (e) {
      this.error = toKnError(e);
    } finally {
      this.applying = false;
    }
  }

  /** "Forget this calibration": the loaded weights go back to their folder's calibration.json, else METHOD's defaults. */
  async forgetCalibration() {
    const c = this.ex.client;
    if (!c || this.applying) return;
    this.error = null;
    this.applying = true;
    try {
      const info = await c.calibrationForget();
      this.applyInfo(info);
      this.notice = `Forgot this page's calibration: ${modelDefaults(info).note}.`;
    } catch (e) {
      this.error = toKnError(e);
    } finally {
      this.applying = false;
    }
  }
}

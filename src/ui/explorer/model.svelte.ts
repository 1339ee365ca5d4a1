/**
 * The model store: the bundled models, the loaded model (source, weights' dtype, info, device memory), its
 * load progress, and the free-prompt probe. Logic in model.ts.
 */
import type { ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../../shared/types';
import type { MemoryReport } from '../../worker/api';
import type { BundledModel } from '../sources';
import type { StoreHost } from './host';
import { failedLoad } from './model';

export class ModelStore {
  bundled: BundledModel[] = $state([]);
  bundledLoaded = $state(false);
  loading = $state(false);
  progress: Progress | null = $state(null);
  info: ModelInfo | null = $state(null);
  memory: MemoryReport | null = $state(null);
  spec: ModelSourceSpec | null = $state.raw(null);
  dtype: WeightDtype = $state('int8');
  probing = $state(false);
  probeResult: ProbeResult | null = $state(null);

  constructor(private readonly host: StoreHost) {}

  /** Forgets the loaded model (a lost device, or before loading another). */
  unload() {
    this.info = null;
    this.probeResult = null;
    this.memory = null;
  }

  /**
   * Loads a model; false (with the error shown) when it fails. The worker keeps the loaded model until
   * the new one has loaded, and so does this store: a failed or cancelled load leaves source, info and
   * memory as they were (model.ts failedLoad says so on the page).
   */
  async load(spec: ModelSourceSpec, dtype: WeightDtype): Promise<boolean> {
    const client = this.host.client;
    if (!client) return false;
    this.loading = true;
    this.progress = null;
    try {
      const info = await client.load(spec, dtype, (p) => (this.progress = p));
      this.unload();
      this.spec = spec;
      this.dtype = dtype;
      this.info = info;
      this.memory = await client.memory().catch(() => null);
      return true;
    } catch (e) {
      const f = failedLoad(spec, e, this.info ? this.spec : null);
      this.host.showError(e, f.title);
      if (f.kept) this.host.notice = this.host.notice ? `${this.host.notice} ${f.kept}` : f.kept;
      return false;
    } finally {
      this.loading = false;
      this.progress = null;
    }
  }

  async probe(prompt: string, target: string) {
    const client = this.host.client;
    if (!client) return;
    this.host.error = null;
    this.probing = true;
    try {
      this.probeResult = await client.probe(prompt, target || undefined, 10);
      this.memory = await client.memory().catch(() => this.memory);
    } catch (e) {
      this.host.showError(e);
    } finally {
      this.probing = false;
    }
  }
}

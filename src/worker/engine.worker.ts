/// <reference lib="webworker" />
/**
 * Module Web Worker that owns tfjs and the loaded model; exposed to the page through Comlink.
 * See api.ts for the contract.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { checkDeviceWeights, dropWebGPU, initBackend, parseWasmThreads, type InitBackendOptions, type WasmPaths } from '../engine/backend';
import { loadModel, type LoadedModel } from '../engine';
import { KnError } from '../shared/errors';
import type { BackendInfo, DeviceWeights, ModelInfo, ModelSourceSpec, ProbeResult, Progress, WeightDtype } from '../shared/types';
import type { EngineWorkerApi, MemoryReport, SerializedError, WorkerEvent } from './api';
import { EditState, ExplorerState } from '../engine/session';
import { ModelSlot } from './model-slot';
import { ExperimentRunner, createRecordStore } from './experiments';
import { createCalibrationStore } from './calibrations';
import { AtlasBuilder, createAtlasStore } from './atlas';
import { openRmlLama } from '../data/browser';
import { createShardStore } from '../data/store';
import type { RmlLama } from '../data/loader';
// The wasm binaries are served by Vite: in dev from node_modules, in a build as hashed assets.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

const wasmPaths: WasmPaths = {
  'tfjs-backend-wasm.wasm': new URL(wasmPlain, self.location.href).href,
  'tfjs-backend-wasm-simd.wasm': new URL(wasmSimd, self.location.href).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedSimd, self.location.href).href,
};

let backend: BackendInfo | null = null;
/** why init() refused (a bad ?backend= name): no model loads on a default backend behind the page's back */
let initError: unknown = null;
/** how int8 matrices reach the device (the page's ?weights=; default auto: packed on WebGPU) */
let deviceWeights: DeviceWeights | undefined;
/** wasm's threads (the page's ?threads=; default auto: one per core where the page is cross-origin isolated) */
let wasmThreads: InitBackendOptions['wasmThreads'];

const listeners: ((e: WorkerEvent) => void)[] = [];

// RML-LAMA (shards cached in IndexedDB 'kn-rml-lama') and the attribution cache ('kn-attributions')
let benchP: Promise<RmlLama> | null = null;
function bench(): Promise<RmlLama> {
  if (!benchP) {
    benchP = openRmlLama();
    benchP.catch(() => (benchP = null));
  }
  return benchP;
}
const attributionStore = createShardStore({ dbName: 'kn-attributions' });
// a new model replaces the loaded one only once it has loaded (model-slot.ts); then what was computed on the old one goes
const slot = new ModelSlot(() => {
  explorer.reset();
  edits.reset();
  experiments.cancel();
  atlas.cancel();
});
const model = (): LoadedModel | null => slot.current;
const explorer = new ExplorerState(model, bench, attributionStore);
const experimentStore = createRecordStore();
const experiments = new ExperimentRunner(model, bench, experimentStore.store, attributionStore, splitFacts);
// atlases built in the page, per content hash ('kn-atlas'; worker/atlas.ts)
const atlas = new AtlasBuilder(model, bench, createAtlasStore().store, attributionStore);
// calibrations made on this page, per content hash ('kn-calibrations'): a loaded model's info carries the effective one
const calibrations = createCalibrationStore();

/** A bundled model's split (its split.json beside the weights, as the CLI reads it): the calibration's dev facts. */
async function splitFacts(source: string, split: 'dev'): Promise<string[]> {
  const name = /^bundled:(.+)$/.exec(source)?.[1];
  if (!name) throw new KnError('bad-input', `the dev split needs a bundled model's split.json; ${source} has none: choose "any fact the model knows"`);
  const base = new URL((import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/', location.origin);
  const url = new URL(`models/${name}/split.json`, base).href;
  const r = await fetch(url);
  if (!r.ok) throw new KnError('missing-file', `${url}: HTTP ${r.status} (the dev split needs the model's split.json)`);
  const ids = ((await r.json()) as Record<string, unknown>)[split === 'dev' ? 'devFacts' : 'testFacts'];
  if (!Array.isArray(ids) || !ids.length) throw new KnError('bad-input', `${url} has no devFacts list`);
  return ids.map(String);
}
const edits = new EditState(model, bench, explorer, attributionStore, () => (experiments.busy ? 'an experiment runs (Experiments view)' : null));

function emit(e: WorkerEvent): void {
  for (const l of listeners) {
    try {
      l(e);
    } catch {
      /* page went away */
    }
  }
}

function serialize(e: unknown): SerializedError {
  if (e instanceof KnError) return { code: e.code, message: e.message };
  if (e && typeof e === 'object' && 'code' in e && 'message' in e && typeof (e as { code: unknown }).code === 'string') {
    return { code: (e as { code: string }).code, message: String((e as { message: unknown }).message) };
  }
  if (e instanceof DOMException && e.name === 'AbortError') return { code: 'cancelled', message: 'loading was cancelled' };
  if (e instanceof Error) return { code: 'bad-input', message: e.message || e.name };
  return { code: 'bad-input', message: String(e) };
}

async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw serialize(e);
  }
}

async function onDeviceLost(reason: string): Promise<void> {
  // Tensors of the lost device are gone; drop the model and continue on wasm.
  slot.cancel();
  slot.unload();
  dropWebGPU();
  try {
    backend = await initBackend({ prefer: ['wasm', 'cpu'], wasmPaths, wasmThreads });
    backend = { ...backend, fallbacks: [{ name: 'webgpu', reason: `GPU device lost: ${reason}` }, ...backend.fallbacks] };
  } catch (e) {
    backend = { name: tf.getBackend() ?? 'none', fallbacks: [{ name: 'wasm', reason: serialize(e).message }] };
  }
  emit({ type: 'device-lost', message: `GPU device lost: ${reason}; falling back to ${backend.name}. Load the model again.`, backend });
}

const api: EngineWorkerApi = {
  init: (prefer, opts) =>
    guarded(async () => {
      deviceWeights = checkDeviceWeights(opts?.deviceWeights);
      try {
        wasmThreads = parseWasmThreads(opts?.threads);
        backend = await initBackend({ prefer, wasmPaths, wasmThreads, onDeviceLost: (r) => void onDeviceLost(r) });
        initError = null;
      } catch (e) {
        initError = e;
        throw e;
      }
      return backend;
    }),

  subscribe: async (cb) => {
    listeners.push(cb);
  },

  load: (spec: ModelSourceSpec, dtype: WeightDtype, onProgress?: (p: Progress) => void) =>
    guarded(async (): Promise<ModelInfo> => {
      // a refused init (e.g. ?backend=nonsense) stays refused: the page says why, nothing loads or computes
      if (initError) throw initError;
      if (!backend) backend = await initBackend({ wasmPaths, wasmThreads, onDeviceLost: (r) => void onDeviceLost(r) });
      const b = backend;
      let last = 0;
      // the loaded model stays until this one has loaded (a failed or cancelled load keeps it)
      const m = await slot.replace((signal) =>
        loadModel(spec, {
          dtype,
          // refuse up front what this backend cannot hold (WebGPU buffer limit, wasm's 4 GiB memory)
          maxDeviceBytes: b.limits?.maxDeviceBytes,
          maxTensorBytes: b.limits?.maxTensorBytes,
          // after a lost device the model is on wasm: 'packed' would be refused there
          deviceWeights: deviceWeights === 'packed' && b.name !== 'webgpu' ? 'auto' : deviceWeights,
          signal,
          onProgress: onProgress
            ? (p) => {
                // throttle progress messages to ~20/s, but always pass stage changes and the end
                const now = Date.now();
                if (now - last > 50 || p.loaded === p.total) {
                  last = now;
                  void onProgress(p);
                }
              }
            : undefined,
        }),
      );
      // the calibration stored on this page for these weights, else the folder's, else none (worker/calibrations.ts)
      return calibrations.effective(m.info);
    }),

  probe: (prompt, target, topK = 10) => guarded(async (): Promise<ProbeResult> => slot.loaded().probe(prompt, { target: target || undefined, topK })),

  cancel: async () => {
    slot.cancel();
    explorer.cancel();
    edits.cancel();
  },

  memory: async (): Promise<MemoryReport> => {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    return { numBytes: m.numBytes, numTensors: m.numTensors, numBytesInGPU: m.numBytesInGPU };
  },

  unload: async () => {
    slot.unload();
  },

  simulateDeviceLost: async (reason) => {
    await onDeviceLost(reason);
  },

  listFacts: (relation, query, limit) => guarded(() => explorer.listFacts(relation, query, limit)),
  factsKnown: (factIds, langs) => guarded(() => explorer.factsKnown(factIds, langs, { cachedOnly: edits.busy || experiments.busy })),
  factQueries: (factId, langs, topK) => guarded(() => explorer.factQueries(factId, langs, topK)),
  localize: (factId, opts, onProgress) => guarded(() => explorer.localize(factId, opts, onProgress)),
  checkConvergence: (factId, opts, onProgress) => guarded(() => explorer.checkConvergence(factId, opts, onProgress)),
  cancelCheck: () => guarded(() => explorer.stopCheck()),
  score: (method, settings, seed, maxCells) => guarded(async () => explorer.score(method, settings, seed, maxCells)),
  neuronStats: (neuron, settings) => guarded(async () => explorer.neuronStats(neuron, settings)),
  manipulate: (neurons, factor, topK) => guarded(() => explorer.manipulate(neurons, factor, topK)),
  languageSets: (settings, factor) => guarded(() => explorer.languageSets(settings, factor)),
  exportAttributions: () =>
    guarded(async () => {
      const r = explorer.exportAttributions();
      if (!r) return null;
      const buffers = Object.values(r.languages).flatMap((l) => l.queries.map((q) => q.raw.buffer as ArrayBuffer));
      return Comlink.transfer(r, buffers);
    }),
  editApply: (req) => guarded(() => edits.edit(req)),
  editReplay: (spec) => guarded(() => edits.replay(spec)),
  editUndo: (id, all) => guarded(() => (all ? edits.undoAll() : edits.undo(id))),
  editList: () => guarded(async () => edits.list()),
  editPrepare: () => guarded(() => edits.prepare()),
  teach: (req, onProgress) => guarded(() => edits.teach(req, onProgress)),
  teachCancel: async () => edits.cancel(),
  teachHold: (point) => guarded(async () => edits.setHold(point)),
  experimentRun: (req, onProgress) =>
    guarded(async () => {
      await edits.readyForExperiment();
      return experiments.run(req, onProgress);
    }),
  experimentCancel: async () => experiments.cancel(),
  experimentList: () => guarded(async () => ({ runs: await experiments.list(), storage: experiments.store.kind, storageNote: experimentStore.reason })),
  experimentReport: (id) => guarded(() => experiments.report(id)),
  experimentDelete: (id) => guarded(() => experiments.delete(id)),
  calibrationReport: (id) => guarded(() => experiments.calibrationReport(id)),
  calibrationUse: (id) =>
    guarded(async () => {
      const m = slot.loaded();
      return calibrations.use(id, await experiments.calibrationReport(id), m.info);
    }),
  calibrationForget: () => guarded(async () => calibrations.forgetFor(slot.loaded().info)),
  atlasBuild: (req, onProgress) =>
    guarded(async () => {
      if (experiments.busy) throw new KnError('bad-input', 'an experiment runs (Experiments view): build the atlas when it is done');
      await edits.readyForExperiment();
      return atlas.build(req, onProgress);
    }),
  atlasCancel: async () => atlas.cancel(),
  atlasStatus: () => guarded(() => atlas.status()),
  atlasGet: (key) => guarded(() => atlas.get(key)),
  atlasForget: () => guarded(() => atlas.forget()),
};

Comlink.expose(api);

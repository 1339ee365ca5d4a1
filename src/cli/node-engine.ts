/** Node set-up shared by the CLI, the bench and the tests: wasm backend + folder/bundled sources. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import '../engine/node';
import { CLI_BACKEND_NAMES, checkBackendNames, initBackend } from '../engine/backend';
import { KnError } from '../shared/errors';
import { installNodeWebGPU } from './node-webgpu';
import type { BackendInfo } from '../shared/types';

let ready: Promise<BackendInfo> | undefined;
let chosen: string[] | undefined;

export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/**
 * The one rule for the CLI's backend: `--backend` (else KN_BACKEND) names one backend or a
 * comma-separated order to try, of CLI_BACKEND_NAMES (webgpu, wasm, cpu); anything else, or an empty name, is
 * refused with that list. Neither given: wasm.
 */
export function cliBackendOrder(flag: string | undefined, env: string | undefined = process.env.KN_BACKEND): string[] {
  const from = flag !== undefined ? '--backend' : 'KN_BACKEND';
  const value = flag ?? env;
  if (value === undefined || (flag === undefined && value.trim() === '')) return ['wasm'];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new KnError('bad-input', `${from} needs a backend name: ${CLI_BACKEND_NAMES.join(', ')} (or a comma-separated order to try)`);
  return checkBackendNames(names, CLI_BACKEND_NAMES, `${from} in the CLI`);
}

/** The order nodeBackend() will try (kn.ts sets it from --backend before any command runs). */
export function useBackend(order: string[]): void {
  if (ready) throw new KnError('backend', 'the backend is already initialised');
  chosen = order;
}

let current: BackendInfo | null = null;

/**
 * What an experiment's meta.json and timing rows record of the backend that ran it: the name, and for WebGPU the
 * adapter (vendor, architecture, device, description, software or not). Null before nodeBackend() resolved.
 */
export function backendRecord(): { name: string; adapter?: NonNullable<BackendInfo['adapter']> } | null {
  if (!current) return null;
  return { name: current.name, ...(current.adapter ? { adapter: current.adapter } : {}) };
}

const lost = new AbortController();
let lostReason: string | null = null;

/**
 * Aborted when the WebGPU device is lost mid-run (a driver reset, the GPU gone): withSigint (results.ts) stops
 * the runner on it, and the finished facts stay in the results folder.
 */
export function gpuLostSignal(): AbortSignal {
  return lost.signal;
}

/** Why the device was lost, with what to do next; null while it is not. */
export function gpuLostMessage(): string | null {
  return lostReason === null
    ? null
    : `the WebGPU device was lost (${lostReason}); the facts finished before are kept in the results folder: ` +
        'run the same command again with --backend wasm (or on a machine whose GPU works) to resume';
}

/**
 * Initialises tfjs once per process (wasm unless --backend / KN_BACKEND names another). WebGPU in Node runs on
 * Dawn's bindings (node-webgpu.ts), installed only when the order names it; asked for alone (`--backend
 * webgpu`), a WebGPU that does not start is an error with its reason, not a silent fall to cpu.
 */
export function nodeBackend(): Promise<BackendInfo> {
  if (!ready) {
    ready = (async () => {
      const order = chosen ?? cliBackendOrder(undefined);
      const webgpuOnly = order.length === 1 && order[0] === 'webgpu';
      if (order.includes('webgpu')) {
        const why = await installNodeWebGPU();
        if (why && webgpuOnly) throw new KnError('backend', `--backend webgpu: WebGPU cannot run in this Node: ${why}`);
      }
      const info = await initBackend({
        prefer: order,
        wasmPaths: wasmDir(),
        deferSoftware: order.length > 1,
        onDeviceLost: (reason) => {
          lostReason = reason || 'unknown reason';
          lost.abort(new KnError('backend', gpuLostMessage()!));
        },
      });
      current = info;
      // which GPU (or emulation) runs it: on stderr, so that --json output stays one object
      if (info.name === 'webgpu') process.stderr.write(`kn: backend webgpu on ${info.detail}\n`);
      if (webgpuOnly && info.name !== 'webgpu') {
        const f = info.fallbacks.find((x) => x.name === 'webgpu');
        throw new KnError('backend', `--backend webgpu: WebGPU is unavailable here: ${f?.reason ?? `initBackend chose ${info.name}`}`);
      }
      return info;
    })();
  }
  return ready;
}

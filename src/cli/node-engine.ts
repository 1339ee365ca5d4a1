/** Node set-up shared by the CLI, the bench and the tests: wasm backend + folder/bundled sources. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import '../engine/source-node';
import { CLI_BACKEND_NAMES, checkBackendNames, initBackend } from '../engine/backend';
import { KnError } from '../engine/errors';
import type { BackendInfo } from '../engine/types';

let ready: Promise<BackendInfo> | undefined;
let chosen: string[] | undefined;

export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/**
 * The one rule for the CLI's backend: `--backend` (else KN_BACKEND) names one backend or a
 * comma-separated order to try, of CLI_BACKEND_NAMES (wasm, cpu); anything else, or an empty name, is
 * refused with that list. Neither given: wasm.
 */
export function cliBackendOrder(flag: string | undefined, env: string | undefined = process.env.KN_BACKEND): string[] {
  const from = flag !== undefined ? '--backend' : 'KN_BACKEND';
  const value = flag ?? env;
  if (value === undefined || (flag === undefined && value.trim() === '')) return ['wasm'];
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new KnError('bad-input', `${from} needs a backend name: ${CLI_BACKEND_NAMES.join(', ')} (or a comma-separated order to try)`);
  return checkBackendNames(names, CLI_BACKEND_NAMES, `${from} in the CLI`);
}

/** The order nodeBackend() will try (kn.ts sets it from --backend before any command runs). */
export function useBackend(order: string[]): void {
  if (ready) throw new KnError('backend', 'the backend is already initialised');
  chosen = order;
}

/** Initialises tfjs once per process (wasm unless --backend / KN_BACKEND names another). */
export function nodeBackend(): Promise<BackendInfo> {
  if (!ready) {
    try {
      ready = initBackend({ prefer: chosen ?? cliBackendOrder(undefined), wasmPaths: wasmDir() });
    } catch (e) {
      ready = Promise.reject(e);
    }
  }
  return ready;
}

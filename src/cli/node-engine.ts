/** Node set-up shared by the CLI, the bench and the tests: wasm backend + folder/bundled sources. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import '../engine/source-node';
import { initBackend } from '../engine/backend';
import type { BackendInfo } from '../engine/types';

let ready: Promise<BackendInfo> | undefined;

export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/** Initialises tfjs once per process (wasm unless KN_BACKEND names another). */
export function nodeBackend(): Promise<BackendInfo> {
  if (!ready) {
    const prefer = process.env.KN_BACKEND ? [process.env.KN_BACKEND] : ['wasm'];
    ready = initBackend({ prefer, wasmPaths: wasmDir() });
  }
  return ready;
}

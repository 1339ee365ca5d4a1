import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

/**
 * Cross-origin isolation (COOP/COEP): with it the page's wasm backend runs threaded (SharedArrayBuffer).
 * COEP credentialless, not require-corp: the models come from other origins (the Hugging Face hub, a user's server)
 * by CORS fetches, which both allow, but when such a fetch fails the page tells "the server answered without CORS"
 * from "unreachable" by a no-cors request (src/engine/http.ts), and require-corp blocks every no-cors answer that
 * lacks Cross-Origin-Resource-Policy (measured: e2e/errors.spec.ts then said "unreachable"). credentialless lets it
 * through without cookies. Safari knows only require-corp: there the page is not isolated and wasm runs one thread.
 * The same headers are in public/_headers (Netlify, Cloudflare Pages); README "Deploying" lists them.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

/**
 * A static host that cannot send those headers: coi-serviceworker (npm, pinned) adds them from a service worker
 * after one reload. index.html loads %BASE_URL%coi-serviceworker.js; this plugin serves the package's file in dev and
 * emits it at the root of the build (the worker's scope is its folder). It registers only when the page is not
 * isolated already, so a host that sends the headers never gets the worker.
 */
function coiServiceWorker(): Plugin {
  const file = createRequire(import.meta.url).resolve('coi-serviceworker/coi-serviceworker.min.js');
  const name = 'coi-serviceworker.js';
  return {
    name: 'kn-coi-serviceworker',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== server.config.base + name) return next();
        res.setHeader('Content-Type', 'text/javascript');
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: name, source: readFileSync(file) });
    },
  };
}

// The tfjs packages are pre-bundled together so that tfjs-core is one module instance shared by
// @tensorflow/tfjs, the webgpu backend and the wasm backend (two copies = two backend registries).
const TF_DEPS = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-wasm',
  'comlink',
  '@huggingface/tokenizers',
  '@huggingface/hub',
];

/**
 * Threaded wasm in a build: tfjs-wasm hands its pthread workers `'var WasmBackendModuleThreadedSimd = ' +
 * factory.toString()` as their script, but the minifier renames the variable the factory reads from its enclosing
 * closure (`_scriptDir`), so every worker died with "e is not defined". The factory's toString here returns the
 * package's own source of that closure (self-contained), whatever the minifier makes of the code that runs.
 */
function tfjsWasmThreadsSource(): Plugin {
  return {
    name: 'kn-tfjs-wasm-threads-source',
    transform(code, id) {
      if (!/tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/.test(id.split('?')[0])) return null;
      const start = code.indexOf('var WasmBackendModuleThreadedSimd = (() => {');
      const end = code.indexOf('\n})();\n', start);
      if (start < 0 || end < 0) this.error('tfjs-backend-wasm-threaded-simd.js: the factory closure was not found (another tfjs-wasm version?)');
      const iife = code.slice(start + 'var WasmBackendModuleThreadedSimd = '.length, end + '\n})()'.length);
      return { code: `${code}\nWasmBackendModuleThreadedSimd.toString = function () { return ${JSON.stringify(iife)}; };\n`, map: null };
    },
  };
}

export default defineConfig({
  plugins: [svelte(), coiServiceWorker(), tfjsWasmThreadsSource()],
  server: { port: 5173, strictPort: false, headers: ISOLATION_HEADERS },
  preview: { port: 4173, headers: ISOLATION_HEADERS },
  // the engine worker is bundled on its own: it needs the threads fix too
  worker: { format: 'es', plugins: () => [tfjsWasmThreadsSource()] },
  // the worker is an entry too, so its deps are found by the first scan (no re-optimise + reload mid-run)
  optimizeDeps: { include: TF_DEPS, entries: ['index.html', 'src/worker/engine.worker.ts'] },
  // gpu.html: the engine harness that e2e/int8-webgpu.spec.ts and `npm run bench -- --backend webgpu` drive
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, rollupOptions: { input: { main: 'index.html', gpu: 'gpu.html' } } },
  // vitest (Node, wasm backend); e2e/ belongs to Playwright
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**'],
    environment: 'node',
    // vitest's default is one worker per CPU but one (1 on this 2-core machine): the tests are CPU-bound
    // (single-threaded wasm per process), so two files run at a time (measured: 351 s → 246 s for the unit
    // tests, `time npx vitest run`; docs/PERFORMANCE.md "The test suite")
    maxWorkers: 2,
    // the longest single test takes 13 s on an idle 2-core machine (tokenizer parity, unigram) and about twice
    // that beside a CPU load: every budget is ≥ 5× the slowest under load (the WebGPU ones set their own)
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
} as import('vite').UserConfig);

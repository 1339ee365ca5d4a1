import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

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

export default defineConfig({
  plugins: [svelte()],
  server: { port: 5173, strictPort: false },
  preview: { port: 4173 },
  worker: { format: 'es' },
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

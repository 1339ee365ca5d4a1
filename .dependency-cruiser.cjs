/**
 * The architecture's rules (docs/ARCHITECTURE.md), checked by `npm run check:arch` (part of `npm test`):
 * the one-way flow shared ← data ← engine ← worker/cli/gpu ← ui, front doors into the engine, thin components.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle ties modules that should flow one way', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'shared-is-a-leaf', severity: 'error', comment: 'src/shared (errors, hashing, shared types) imports nothing of the app',
      from: { path: '^src/shared/' }, to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'data-below-engine', severity: 'error', comment: 'src/data (RML-LAMA) sits below the engine and imports only src/shared',
      from: { path: '^src/data/' }, to: { path: '^src/', pathNot: '^src/(data|shared)/' },
    },
    {
      name: 'engine-is-pure', severity: 'error', comment: 'the engine imports no worker, page, CLI or GPU-bench module',
      from: { path: '^src/engine/' }, to: { path: '^src/(ui|worker|cli|gpu)/|^src/main\\.ts$' },
    },
    {
      name: 'engine-through-front-doors', severity: 'error',
      comment: 'the worker, the page, the CLI and the GPU bench reach the engine only through an index.ts front door',
      from: { path: '^src/(ui|worker|cli|gpu)/|^src/main\\.ts$' },
      to: { path: '^src/engine/', pathNot: '^src/engine/(index\\.ts|[^/]+/index\\.ts)$' },
    },
    {
      name: 'components-are-thin', severity: 'error', comment: 'a .svelte component talks to ui stores and ui modules only',
      from: { path: '\\.svelte$' }, to: { path: '^src/(engine|worker|data|cli|gpu)/' },
    },
    {
      name: 'worker-contract-is-a-leaf', severity: 'error', comment: 'the worker contract (worker/api.ts) imports no worker implementation',
      from: { path: '^src/worker/api\\.ts$' }, to: { path: '^src/worker/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.svelte', '.json'] },
  },
};

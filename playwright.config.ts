import { defineConfig, devices } from '@playwright/test';

/**
 * e2e in Debian Chromium (/usr/bin/chromium; never `npx playwright install`).
 * WebGPU headless: `--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader` is what gives
 * navigator.gpu.requestAdapter() an adapter (google / swiftshader) on a machine with no GPU;
 * the Vulkan/ANGLE flags are kept so WebGL also runs on SwiftShader.
 *
 * The app is served by `vite build && vite preview` (production build: hashed wasm assets,
 * module worker chunks) unless E2E_SERVER=dev, which uses the Vite dev server instead.
 * The tiny checkpoints are served by e2e/global-setup.ts on MODEL_PORT.
 */
const APP_PORT = Number(process.env.E2E_APP_PORT ?? 4173);
const useDev = process.env.E2E_SERVER === 'dev';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const chromiumArgs = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  testMatch: /.*\.spec\.ts$/,
  outputDir: 'test-results/e2e',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // Measured (2-core machine, load average 8-18 from other jobs): every test but the explorer's takes
  // 2-10 s on either project, single steps (load, predict) 0.1-4 s; the explorer test sets its own,
  // longer budget from its measured times (e2e/explorer.spec.ts). Budgets stay ≥ 5× the measured time.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'test-results/html-report' }]],
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    launchOptions: { executablePath: CHROMIUM, args: chromiumArgs },
  },
  projects: [
    {
      name: 'webgpu',
      use: { ...devices['Desktop Chrome'], channel: undefined, launchOptions: { executablePath: CHROMIUM, args: chromiumArgs } },
      metadata: { backend: 'webgpu' },
    },
    {
      name: 'wasm',
      use: { ...devices['Desktop Chrome'], channel: undefined, launchOptions: { executablePath: CHROMIUM, args: chromiumArgs } },
      metadata: { backend: 'wasm' },
    },
  ],
  webServer: {
    command: useDev
      ? `npx vite --port ${APP_PORT} --strictPort --host 127.0.0.1`
      : `npx vite build && npx vite preview --port ${APP_PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${APP_PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 300_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FullConfig } from '@playwright/test';
import { MODEL_PORT, STATE_FILE, materializeFixtures } from './fixtures';
import { closedPort, startModelServer } from './model-server';

export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'kn-e2e-models-'));
  await materializeFixtures(root);
  const server = await startModelServer(root, MODEL_PORT);
  const unreachablePort = await closedPort();
  await mkdir(dirname(STATE_FILE), { recursive: true });
  await writeFile(STATE_FILE, JSON.stringify({ root, unreachablePort }, null, 2));
  // the workers read this run's state from the environment (Playwright hands global setup's env to them),
  // so a second run in the same checkout that rewrites STATE_FILE cannot point this one elsewhere
  process.env.KN_E2E_STATE = JSON.stringify({ root, unreachablePort });
  return async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(root, { recursive: true, force: true });
  };
}

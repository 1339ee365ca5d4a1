/**
 * A WebGPU device lost mid-run in the CLI (Node, Dawn's bindings): the run stops at once with a `backend`
 * error that says the finished facts are kept and how to resume on another backend (results.ts withSigint,
 * node-engine.ts onDeviceLost). The loss is real: the device under tfjs is destroyed while work is in flight
 * (what a driver reset does to it), not simulated by a flag.
 * Without Dawn or Vulkan the file is skipped with the reason, except under CI=1, where it fails.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { webgpuDevice } from '../../src/engine/backend/backend';
import { KnError } from '../../src/shared/errors';
import { installNodeWebGPU, useSwiftShaderIfNoDriverChosen } from '../../src/cli/node-webgpu';
import { gpuLostMessage, nodeBackend, useBackend } from '../../src/cli/node-engine';
import { progressPrinter, withSigint } from '../../src/cli/results';

useSwiftShaderIfNoDriverChosen();
let unavailable = await installNodeWebGPU();
if (!unavailable) {
  useBackend(['webgpu']);
  try {
    const info = await nodeBackend();
    if (info.name !== 'webgpu') unavailable = `the backend is ${info.name}`;
  } catch (e) {
    unavailable = String(e);
  }
}
if (unavailable && process.env.CI) throw new Error(`WebGPU in Node is unavailable: ${unavailable} (.ci/run installs libvulkan1 and chromium's SwiftShader)`);

describe.skipIf(!!unavailable)('a lost WebGPU device mid-run', () => {
  it("stops the run with a backend error naming how to resume, and aborts the work's signal", async () => {
    expect(gpuLostMessage()).toBeNull();
    let rounds = 0;
    let workSignal: AbortSignal | null = null;
    const run = withSigint(progressPrinter(true), async (signal) => {
      workSignal = signal;
      // "facts": GPU work read back one after another, as the runner does
      for (;;) {
        const t = tf.tidy(() => tf.matMul(tf.randomNormal([256, 256]), tf.randomNormal([256, 256])).sum());
        await t.data();
        t.dispose();
        rounds++;
        if (rounds === 2) webgpuDevice()!.destroy(); // the device goes away under tfjs
        if (rounds > 10_000) throw new Error('the loss never stopped the run');
      }
    });
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KnError);
    expect((err as KnError).code).toBe('backend');
    const msg = (err as KnError).message;
    expect(msg).toMatch(
      /^the WebGPU device was lost \(.+\); the facts finished before are kept in the results folder: run the same command again with --backend wasm/,
    );
    expect(msg).toBe(gpuLostMessage());
    expect(workSignal!.aborted).toBe(true);
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect(rounds).toBeLessThan(10_000);
  }, 120_000);
});

it.skipIf(!unavailable)('WebGPU in Node is unavailable here', () => {
  console.log(`skipped the device-loss test: ${unavailable}`);
});

import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
async function main() {
  await nodeBackend();
  const t = async (label: string, f: () => tf.Tensor) => { const r0 = f(); await r0.data(); r0.dispose(); const t0 = performance.now(); for (let i = 0; i < 5; i++) { const r = f(); await r.data(); r.dispose(); } console.log(label, ((performance.now() - t0) / 5).toFixed(2), 'ms'); };
  for (const [n, k, o] of [[20, 768, 3072], [20, 3072, 768], [200, 3072, 768], [20, 768, 50257]]) {
    const W = tf.randomNormal([k, o]); const dy = tf.randomNormal([n, o]);
    await t(`dx=dy·Wᵀ transposeB [${n},${o}]x[${k},${o}]ᵀ`, () => tf.matMul(dy, W, false, true));
    await t(`dx=(W·dyᵀ)ᵀ`, () => tf.tidy(() => tf.matMul(W, dy.transpose()).transpose()));
  }
}
main();

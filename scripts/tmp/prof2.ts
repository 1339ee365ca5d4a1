import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
async function main() {
  await nodeBackend();
  const t = async (label: string, f: () => tf.Tensor) => { const r0 = f(); await r0.data(); r0.dispose(); const t0 = performance.now(); for (let i = 0; i < 5; i++) { const r = f(); await r.data(); r.dispose(); } console.log(label, ((performance.now() - t0) / 5).toFixed(2), 'ms'); };
  for (const [n, k, o] of [[20, 3072, 768], [20, 768, 3072], [200, 3072, 768], [20, 50257, 768]]) {
    const x = tf.randomNormal([n, k]); const W = tf.randomNormal([k, o]); const Wt = tf.randomNormal([o, k]);
    await t(`[${n},${k}]x[${k},${o}] plain`, () => tf.matMul(x, W));
    await t(`[${n},${k}]x[${o},${k}]^T transposeB`, () => tf.matMul(x, Wt, false, true));
    const xt = tf.randomNormal([k, n]);
    await t(`[${k},${n}]^T x[${k},${o}] transposeA`, () => tf.matMul(xt, W, true, false));
  }
}
main();

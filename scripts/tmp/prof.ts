import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
import { loadModel } from '../../src/engine/index';
async function main() {
  await nodeBackend();
  const m = await loadModel({ type: 'folder', path: '.cache/bench/gpt2-small-shape' }, { dtype: 'f32', deviceBudgetBytes: 2 ** 31 });
  const E = m.store.mat('wte.weight');
  const x = tf.randomNormal([20, 768]) as tf.Tensor2D;
  const W = m.store.mat('h.3.mlp.c_fc.weight');
  const t = async (label: string, f: () => tf.Tensor) => { await f().data(); const t0 = performance.now(); for (let i = 0; i < 3; i++) { const r = f(); await r.data(); r.dispose(); } console.log(label, ((performance.now() - t0) / 3).toFixed(1), 'ms'); };
  await t('head x·Eᵀ [20,768]x[768,50257]', () => tf.matMul(x, E, false, true));
  const g = tf.randomNormal([20, 50257]) as tf.Tensor2D;
  await t('head back g·E', () => tf.matMul(g, E));
  await t('c_fc x·W [20,768]x[768,3072]', () => tf.matMul(x, W));
  await t('softmax 20x50257', () => tf.softmax(g));
  const x10 = tf.randomNormal([10, 768]) as tf.Tensor2D;
  await t('head 10 rows', () => tf.matMul(x10, E, false, true));
  await t('c_fc 10 rows', () => tf.matMul(x10, W));
}
main();

import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
import { loadModel } from '../../src/engine/index';
async function main() {
  await nodeBackend();
  const m = await loadModel({ type: 'folder', path: process.argv[2] }, { dtype: 'f32', deviceBudgetBytes: 2 ** 31 });
  const E = m.store.mat(m.info.family === 'bert' ? 'embeddings.word_embeddings.weight' : 'wte.weight');
  const t = async (label: string, f: () => tf.Tensor | tf.Tensor[]) => { const r0 = f(); await (Array.isArray(r0) ? r0[0] : r0).data(); tf.dispose(r0); const t0 = performance.now(); for (let i = 0; i < 3; i++) { const r = f(); await (Array.isArray(r) ? r[0] : r).data(); tf.dispose(r); } console.log(label, ((performance.now() - t0) / 3).toFixed(1), 'ms'); };
  const x = tf.randomNormal([20, 768]) as tf.Tensor2D;
  await t('head fwd', () => tf.matMul(x, E));
  await t('head fwd+grad', () => { const g = tf.grad((z: tf.Tensor) => tf.softmax(tf.matMul(z as tf.Tensor2D, E)).slice([0, 5], [20, 1]).sum())(x); return g; });
  const { prof } = { prof: await tf.profile(async () => { const g = tf.grad((z: tf.Tensor) => tf.softmax(tf.matMul(z as tf.Tensor2D, E)).slice([0, 5], [20, 1]).sum())(x); await g.data(); g.dispose(); }) };
  void prof;
  const p = await tf.profile(async () => { const g = tf.grad((z: tf.Tensor) => tf.softmax(tf.matMul(z as tf.Tensor2D, E)).slice([0, 5], [20, 1]).sum())(x); await g.data(); g.dispose(); });
  console.log(p.kernels.map((k) => `${k.name} ${k.inputShapes.map((s) => JSON.stringify(s)).join(' ')} ${(k.kernelTimeMs as number).toFixed(1)}`).join('\n'));
}
main();

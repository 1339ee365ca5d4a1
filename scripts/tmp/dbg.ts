import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
import { loadModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/matrice/attribute';
async function main() {
  await nodeBackend();
  const m = await loadModel({ type: 'folder', path: '.cache/bench/gpt2-small-shape' }, { dtype: 'f32', deviceBudgetBytes: 2 ** 31 });
  const prompt = 'The capital of France is Paris The capital of France';
  console.log(m.tok.encodeQuery(prompt).ids.length);
  for (const path of ['fast', 'naive'] as const) {
    const t0 = performance.now();
    let last = 0;
    await attributeQuery(m, prompt, 'Paris', { steps: 20, baseline: 'pad', layers: [0], path, onProgress: (d, t) => { if (d - last >= 20) { last = d; console.log(path, d, t, ((performance.now() - t0) / 1000).toFixed(1), 's', tf.memory().numBytes / 1e6, 'MB'); } } });
    console.log(path, ((performance.now() - t0) / 1000).toFixed(2));
  }
}
main();

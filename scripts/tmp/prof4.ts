import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
import { loadModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/matrice/attribute';
async function main() {
  await nodeBackend();
  const m = await loadModel({ type: 'folder', path: '.cache/bench/gpt2-small-shape' }, { dtype: 'f32', deviceBudgetBytes: 2 ** 31 });
  const prompt = 'The capital of France is Paris The capital of France';
  await attributeQuery(m, prompt, 'Paris', { steps: 2, baseline: 'zero', layers: [0] });
  const p = await tf.profile(async () => { await attributeQuery(m, prompt, 'Paris', { steps: 80, baseline: 'zero', layers: [0] }); });
  const agg = new Map<string, { ms: number; n: number }>();
  for (const k of p.kernels) { const key = k.name + ' ' + k.inputShapes.map((s) => JSON.stringify(s)).join(''); const a = agg.get(key) ?? { ms: 0, n: 0 }; a.ms += k.kernelTimeMs as number; a.n++; agg.set(key, a); }
  const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
  let total = 0; for (const k of p.kernels) total += k.kernelTimeMs as number;
  console.log('total kernel ms', total.toFixed(0), 'kernels', p.kernels.length);
  for (const [k, v] of rows) console.log(v.ms.toFixed(1).padStart(8), String(v.n).padStart(4), k);
}
main();

import { nodeBackend } from '../../src/cli/node-engine';
import { loadModel } from '../../src/engine/index';
import { attributeQuery, completenessError } from '../../src/engine/matrice/attribute';
async function main() { await nodeBackend();
for (const a of ['llama', 'gpt2']) {
  const m = await loadModel({ type: 'folder', path: '/tmp/ck/' + a }, { dtype: 'f32' });
  for (const M of [10, 50, 200, 1000]) {
    const r = await attributeQuery(m, 'The capital of France is', 'Paris', { steps: M });
    console.log(a, M, completenessError(r), Math.max(...r.completeness.map((c) => Math.abs(c.expected))));
  }
}
}
main();

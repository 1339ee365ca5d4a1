/**
 * Item 4 of issue 12 (a script, not a test): real-size random checkpoints (scripts/reference/real_size.py:
 * the exact configs of xlm-roberta-base, bloom-560m and Qwen2.5-0.5B) served by a local HTTP server with
 * the hub's URL layout (/<repo>/resolve/main/<file>), loaded by repo id in Node with progress, then one
 * probe and one query's attributions. Prints one JSON row per model: time to first prediction, attribution
 * time, peak host RSS and tfjs device bytes, download bytes; and the up-front refusal when the model does
 * not fit a device limit.
 *
 *   npx tsx scripts/reference/real-size.ts [--repos a,b] [--steps 20] [--layers all|0,5,11] [--dtype int8|f32]
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../../src/cli/node-engine';
import { loadModel } from '../../src/engine/index';
import { attributeQuery } from '../../src/engine/attribution/attribute';
import { setHubUrl } from '../../src/engine/source/source';
import { start, stop } from '../../tests/helpers/http-server';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const QUERIES: Record<string, { prompt: string; target: string }> = {
  'FacebookAI/xlm-roberta-base': { prompt: 'La capitale de la France est <mask>.', target: 'Paris' },
  'bigscience/bloom-560m': { prompt: 'La capitale de la France est', target: ' Paris' },
  'Qwen/Qwen2.5-0.5B': { prompt: 'La capitale de la France est', target: ' Paris' },
};

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function main() {
  const backend = await nodeBackend();
  const repos = arg('repos', Object.keys(QUERIES).join(',')).split(',');
  const steps = Number(arg('steps', '20'));
  const dtype = arg('dtype', 'int8') as 'int8' | 'f32';
  for (const repo of repos) {
    const dir = join(ROOT, '.cache', 'reference', 'real', repo);
    const server = await start({ mounts: { [`/${repo}/resolve/main/`]: dir } });
    setHubUrl(server.url);
    let peakRss = 0,
      peakDevice = 0;
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      peakDevice = Math.max(peakDevice, tf.memory().numBytes);
    };
    const timer = setInterval(sample, 100);
    const row: Record<string, unknown> = { repo, backend: backend.name, dtype };
    try {
      const t0 = performance.now();
      let lastLog = 0;
      const m = await loadModel(
        { type: 'hub', repo },
        {
          dtype,
          onProgress: (p) => {
            if (performance.now() - lastLog > 5000) {
              lastLog = performance.now();
              console.error(`${repo}: ${p.stage} ${p.loaded}/${p.total}`);
            }
          },
        },
      );
      row.loadS = (performance.now() - t0) / 1000;
      row.params = m.info.numParams;
      row.weightBytes = m.info.weightBytes;
      const q = QUERIES[repo];
      const pr = await m.probe(q.prompt, { target: q.target, topK: 5 });
      row.firstPredictionS = (performance.now() - t0) / 1000;
      row.tokens = pr.ids.length;
      sample();
      const layerArg = arg('layers', 'all');
      const layers = layerArg === 'all' ? undefined : layerArg.split(',').map(Number);
      const t1 = performance.now();
      let lastP = 0;
      const a = await attributeQuery(m, q.prompt, q.target, {
        steps,
        layers,
        onProgress: (done, total) => {
          if (performance.now() - lastP > 10000) {
            lastP = performance.now();
            console.error(`${repo}: attribution ${done}/${total} points, ${((performance.now() - t1) / 1000).toFixed(0)} s`);
          }
        },
      });
      row.attributionS = (performance.now() - t1) / 1000;
      row.attributedLayers = a.layers.length;
      row.baselines = a.baselinePositions.length;
      row.steps = steps;
      m.dispose();
      // the same model refused up front on a device that is too small (no crash, the numbers)
      try {
        await loadModel({ type: 'hub', repo }, { dtype: 'f32', maxDeviceBytes: 512 * 1024 ** 2 });
        row.refusal = 'not refused';
      } catch (e) {
        row.refusal = (e as Error).message;
      }
    } catch (e) {
      row.error = (e as Error).message;
    } finally {
      clearInterval(timer);
      sample();
      row.downloadBytes = server.requests
        .filter((r) => r.status === 200 || r.status === 206)
        .reduce((s, r) => {
          if (r.range) {
            const mm = /bytes=(\d+)-(\d*)/.exec(r.range);
            if (mm) return s + (mm[2] ? Number(mm[2]) - Number(mm[1]) + 1 : 0);
          }
          try {
            return s + statSync(join(dir, r.path.slice(`/${repo}/resolve/main/`.length))).size;
          } catch {
            return s;
          }
        }, 0);
      row.peakRssBytes = peakRss;
      row.peakDeviceBytes = peakDevice;
      await stop(server);
    }
    console.log(JSON.stringify(row));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

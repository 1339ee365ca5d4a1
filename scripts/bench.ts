/**
 * `npm run bench`: speed and memory figures, measured side by side in one run on one backend.
 *  1. dense matmul GFLOP/s of the backend (the ceiling)
 *  2. SAIG naive vs fast path on the same slice of work (one layer, zero baseline, M = 20) for a
 *     10-token query on a GPT-2-small-shaped random checkpoint (12 layers, d 768, FFN 3072, vocab 50257),
 *     and on a BERT-base-shaped one (masked); their ratio
 *  3. the fast path's time for a whole query (all layers, SAIG ⟨PAD⟩ baselines, M = 20), its GFLOP/s and
 *     its share of the matmul ceiling
 *  4. int8 vs f32: bytes per parameter held, and the probability error
 *  5. the manipulation experiment per fact on the bundled demo models (all 7 languages, every method,
 *     M = 20, knock-out): wall time per fact with fresh attributions and with cached ones (the
 *     manipulations alone), and the projected time for 100 facts (issue target: ≤ 15 min on 2 cores)
 *  6. `kn experiment manipulate … --jobs 1` against `--jobs 2` (the CLI as a user runs it: child processes, merge)
 *     on the same few demo-causal test facts (all 7 languages, every method, M = 20, no attribution cache), one after
 *     the other: wall time, the ratio, and each projected to 100 facts; the load average beside them (`--jobs-bench`
 *     runs only this section; `--jobs-facts F`, default 6; `--jobs-list 1,2`)
 * Random checkpoints are written once under .cache/bench (HF layout, F32 safetensors).
 *
 * `--backend webgpu`: the same measurements on WebGPU, in Chromium (Playwright, /usr/bin/chromium or
 * CHROMIUM_PATH) on the engine harness gpu.html (src/gpu/harness.ts, served by a Vite dev server; the
 * checkpoints by a local file server): the adapter and its limits, the dense matmul ceiling and the packed
 * int8 kernel, naive vs fast and the whole query for f32, int8 dequantized (LRU) and int8 packed weights,
 * and device bytes per parameter with every layer resident (tf.memory().numBytesInGPU) for GPT-2-small
 * and Qwen2.5-0.5B shapes. Default adapter: SwiftShader (the CI flags). `--gpu` (`npm run bench:gpu`):
 * the flags a real adapter needs in headless Chromium. `--json`: one JSON object on stdout, tables on
 * stderr. `--steps M` (default 20; 2 on a software adapter), `--tokens T` (query length, default 10; 5 on
 * a software adapter), `--quick` (no whole query, GPT-2 only), `--adapter-only` (the adapter and its limits),
 * `--models gpt2-small-shape,bert-base-shape,demo-causal` (the SAIG rows to run), `--modes f32,int8-dequantized,int8-packed`.
 *
 * `--big-shapes [--shapes bloom-560m,qwen2.5-0.5b,xlm-roberta-base] [--steps M] [--layers 0|all]`: real-size shapes
 * (random weights, the real configs) through `kn attribute` under `/usr/bin/time -v`: path, time, peak RSS
 * (scripts/bench-big-shapes.ts; default --layers 0 --steps 2).
 *
 * `--page-threads [--repeat N]`: the page's localize of the featured fact on wasm, cross-origin isolated with threads
 * against `?threads=off`, in Chromium on the built page (scripts/bench-page-threads.ts): both times and their ratio.
 */
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from '../src/cli/node-engine';
import { FAMILIES } from '../src/engine/families/registry';
import { loadModel } from '../src/engine/index';
import { attributeQuery } from '../src/engine/attribution/attribute';
import { BERT_BASE_CONFIG, GPT2_SMALL_CONFIG, fastFlops, matmulGflops, queryOf, time } from '../src/gpu/bench';
import { Rng, tinyTokenizer } from '../tests/helpers/tiny-checkpoints';

const CACHE = join(process.cwd(), '.cache', 'bench');
const quick = process.argv.includes('--quick');
/** the value after `name` on the command line (`--backend webgpu`), or undefined */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
/** `--experiment`: only section 5 (the per-fact time of the manipulation experiment) */
const experimentOnly = process.argv.includes('--experiment');
/** `--jobs-bench`: only section 6 (`kn experiment manipulate --jobs 1` vs `--jobs 2`) */
const jobsOnly = process.argv.includes('--jobs-bench');

/** "1 min 5 s" / "35 s" (results.ts dur) → seconds */
const durS = (t: string) => {
  const m = /(?:(\d+) min)?\s*(\d+) s/.exec(t);
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : NaN;
};

/**
 * Section 6: the CLI's `kn experiment manipulate` on demo-causal's test split, F facts, all 7 languages, every method,
 * M = 20, fresh attributions (--no-cache), with each --jobs value of `list` in turn. Projected to 100 facts as
 * wall + phase × (100 / F − 1), where phase is the time the facts themselves took (the last progress line's
 * "elapsed": from the first fact, or from the children's start, to the end); the rest (start, load, the pick of F
 * facts) is counted once. The pick of 100 facts probes more candidates than that of F (a few seconds more here).
 */
async function benchJobs(facts: number, list: number[]) {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { availableParallelism, loadavg, tmpdir } = await import('node:os');
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
  const rows: Record<string, unknown>[] = [];
  for (const jobs of list) {
    const out = mkdtempSync(join(tmpdir(), `kn-bench-jobs${jobs}-`));
    const args = [
      'experiment',
      'manipulate',
      '--model',
      'bundled:demo-causal',
      '--split',
      'test',
      '--facts',
      String(facts),
      '--no-cache',
      '--jobs',
      String(jobs),
      '--out',
      out,
    ];
    const command = `npm run -s kn -- ${args.slice(0, -1).join(' ')} <dir>`;
    console.error(`jobs ${jobs}: ${command}`);
    const load0 = loadavg()[0];
    const t0 = performance.now();
    const stderr = await new Promise<string>((resolve, reject) => {
      const p = spawn(tsx, ['src/cli/kn.ts', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`${command} exited with ${code}: ${err.slice(-500)}`))));
    });
    const wall = (performance.now() - t0) / 1000;
    const last =
      stderr
        .trim()
        .split('\n')
        .filter((l) => / elapsed/.test(l))
        .pop() ?? '';
    const phase = durS(/· ([\d a-z]+) elapsed/.exec(last)?.[1] ?? '');
    // Σ of the facts' own wall times ÷ the phase: how many facts ran at once on average (2 on two free cores, less the
    // uneven shards' tail; about 1 when other work takes a core)
    const factMs = readFileSync(join(out, 'timing.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .reduce((a, l) => a + (JSON.parse(l) as { ms: number }).ms, 0);
    rmSync(out, { recursive: true, force: true });
    rows.push({
      jobs,
      facts,
      wall_s: +wall.toFixed(1),
      facts_phase_s: phase,
      s_per_fact: +(phase / facts).toFixed(2),
      facts_at_once: +(factMs / 1000 / phase).toFixed(2),
      projected_min_100_facts: +((wall + phase * (100 / facts - 1)) / 60).toFixed(1),
      load_avg_1min_before: +load0.toFixed(2),
      load_avg_1min_after: +loadavg()[0].toFixed(2),
      command,
    });
  }
  // a value of --jobs-list given more than once (e.g. 1,2,2,1: the load's drift falls on both) is averaged
  const mean = (j: number, k: string) => {
    const v = rows.filter((r) => r.jobs === j).map((r) => r[k] as number);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const has = (j: number) => rows.some((r) => r.jobs === j);
  return {
    cores: availableParallelism(),
    runs: rows,
    ...(has(1) && has(2)
      ? {
          ratio_wall_jobs1_over_jobs2: +(mean(1, 'wall_s') / mean(2, 'wall_s')).toFixed(2),
          ratio_facts_phase_jobs1_over_jobs2: +(mean(1, 'facts_phase_s') / mean(2, 'facts_phase_s')).toFixed(2),
          projected_min_100_facts_jobs2: +mean(2, 'projected_min_100_facts').toFixed(1),
        }
      : {}),
  };
}

export async function writeRandomCheckpoint(dir: string, arch: 'gpt2' | 'bert', config: Record<string, unknown>) {
  if (existsSync(join(dir, 'model.safetensors'))) return;
  mkdirSync(dir, { recursive: true });
  const fam = FAMILIES.find((f) => f.key === arch)!;
  const specs = fam.expected(fam.parseConfig(config));
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    header[s.name] = { dtype: 'F32', shape: s.shape, data_offsets: [off, off + n * 4] };
    off += n * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = createWriteStream(join(dir, 'model.safetensors'));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  out.write(len);
  out.write(json);
  const r = new Rng(1234);
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    const isNormW = s.shape.length === 1 && /(ln_|LayerNorm|norm)[^.]*\.weight$|ln_f\.weight$/.test(s.name);
    const std = s.shape.length === 1 ? 0.02 : 0.06;
    for (let i = 0; i < n; i++) d[i] = (isNormW ? 1 : 0) + std * r.normal();
    await new Promise<void>((res) => (out.write(Buffer.from(d.buffer)) ? res() : out.once('drain', () => res())));
  }
  await new Promise<void>((res) => out.end(() => res()));
  const tok = tinyTokenizer(arch);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.json));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tok.config));
}

async function benchModel(label: string, dir: string, target: string, layer: number, baseline: 'zero' | 'pad' = 'pad') {
  const m = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32', deviceBudgetBytes: 2 ** 31 });
  const words = m.info.kind === 'masked' ? ['the', 'capital', 'of', 'france', 'is', 'paris'] : ['The', 'capital', 'of', 'France', 'is', 'Paris'];
  const prompt = queryOf(m, words, 10);
  const T = m.tok.encodeQuery(prompt).ids.length;
  const opts = { steps: 20, baseline, layers: [layer] };
  await attributeQuery(m, prompt, target, { ...opts, steps: 2 }); // warm-up (kernels, caches)
  console.error(`${label}: ${T} tokens, naive path…`);
  const naive = await time(() => attributeQuery(m, prompt, target, { ...opts, path: 'naive' }));
  console.error(`${label}: fast path…`);
  const fast = await time(() => attributeQuery(m, prompt, target, opts));
  let maxRel = 0;
  const a = fast.r.raw[layer],
    b = naive.r.raw[layer];
  let den = 0;
  for (let j = 0; j < a.length; j++) den = Math.max(den, Math.abs(b[j]));
  for (let j = 0; j < a.length; j++) maxRel = Math.max(maxRel, Math.abs(a[j] - b[j]) / den);
  const row: Record<string, unknown> = {
    model: label,
    tokens: T,
    layer,
    baseline,
    points: (baseline === 'zero' ? 1 : T - m.tok.encodeQuery(prompt).special.filter(Boolean).length - (m.info.kind === 'masked' ? 1 : 0)) * 20,
    naive_s: +naive.s.toFixed(3),
    fast_s: +fast.s.toFixed(3),
    ratio: +(naive.s / fast.s).toFixed(2),
    fast_vs_naive_maxRelDiff: maxRel,
    maxAbsRaw: den,
  };
  let whole: { s: number; r: Awaited<ReturnType<typeof attributeQuery>> } | undefined;
  if (!quick) {
    whole = await time(() => attributeQuery(m, prompt, target, { steps: 20, baseline: 'pad' }));
    const mBase = whole.r.baselinePositions.length;
    let flops = 0;
    for (let l = 0; l < m.cfg.numLayers; l++) flops += fastFlops(m, l, mBase * 20, T);
    row.whole_query_s = +whole.s.toFixed(2);
    row.whole_query_baselines = mBase;
    row.whole_query_gflops = +(flops / whole.s / 1e9).toFixed(2);
  }
  m.dispose();
  return row;
}

async function int8Error(dir: string, prompts: string[]) {
  const f = await loadModel({ type: 'folder', path: dir }, { dtype: 'f32' });
  const q = await loadModel({ type: 'folder', path: dir }, { dtype: 'int8' });
  let maxAbs = 0,
    maxRelTop = 0;
  for (const p of prompts) {
    const a = await f.probe(p, { topK: 10 }),
      b = await q.probe(p, { topK: 10 });
    for (const t of a.top) {
      const other = (await q.probe(p, { target: undefined, topK: f.cfg.vocab })).top.find((x) => x.id === t.id)!;
      maxAbs = Math.max(maxAbs, Math.abs(other.prob - t.prob));
      maxRelTop = Math.max(maxRelTop, Math.abs(other.prob - t.prob) / t.prob);
    }
    void b;
  }
  const out = {
    params: q.info.numParams,
    int8_bytes_per_param: +(q.info.weightBytes / q.info.numParams).toFixed(4),
    f32_bytes_per_param: +(f.info.weightBytes / f.info.numParams).toFixed(4),
    top10_prob_maxAbsErr: maxAbs,
    top10_prob_maxRelErr: maxRelTop,
  };
  f.dispose();
  q.dispose();
  return out;
}

async function benchExperiment(name: string, facts = 3) {
  const dir = join(process.cwd(), 'public', 'models', name);
  if (!existsSync(join(dir, 'kn-manifest.json'))) return null;
  const { openLocal } = await import('../src/data/node');
  const { loadModelArg } = await import('../src/engine/index');
  const { MemoryBytesStore } = await import('../src/engine/attribution/cache');
  const { DEFAULT_METHODS, makeMeta, parseMethodSpec, pickFacts, runFact } = await import('../src/engine/experiments/manipulate');
  const { LANGS } = await import('../src/data/types');
  const m = await loadModelArg(`bundled:${name}`, { dtype: 'int8' });
  const bench = await openLocal();
  const langs = [...LANGS];
  const picked = await pickFacts(m, bench, { facts, langs, seed: 1 });
  const meta = makeMeta({
    model: { id: name, contentHash: m.info.contentHash, dtype: m.info.dtype, kind: m.info.kind, numLayers: m.cfg.numLayers, ffnSize: m.cfg.ffn },
    steps: 20,
    baseline: 'pad',
    seed: 1,
    langs,
    methods: [...DEFAULT_METHODS],
    facts: picked,
    request: { facts, relations: [], split: null, minKnownLangs: 4 },
    shard: null,
  });
  const methods = DEFAULT_METHODS.map(parseMethodSpec);
  const store = new MemoryBytesStore();
  let fresh = 0,
    cached = 0,
    queries = 0;
  for (const [i, f] of picked.entries()) {
    const a = await time(() => runFact({ model: m, bench, meta, methods, store }, f, i));
    const b = await time(() => runFact({ model: m, bench, meta, methods, store }, f, i));
    fresh += a.s;
    cached += b.s;
    queries += a.r.queries.length;
  }
  m.dispose();
  const n = picked.length;
  return {
    model: name,
    facts: n,
    queries_per_fact: +(queries / n).toFixed(1),
    s_per_fact: +(fresh / n).toFixed(2),
    s_per_fact_cached_attributions: +(cached / n).toFixed(2),
    attribution_share: +(1 - cached / fresh).toFixed(3),
    projected_min_100_facts: +(((fresh / n) * 100) / 60).toFixed(1),
  };
}

async function main() {
  if (process.argv.includes('--big-shapes')) {
    // real-size shapes (bloom-560m, Qwen2.5-0.5B, xlm-roberta-base) through `kn attribute` under /usr/bin/time -v
    const { benchBigShapes } = await import('./bench-big-shapes');
    await benchBigShapes({
      shapes: arg('--shapes'),
      steps: arg('--steps') ? Number(arg('--steps')) : undefined,
      layers: arg('--layers'),
      json: process.argv.includes('--json'),
    });
    return;
  }
  if (process.argv.includes('--page-threads')) {
    // the page's localize of the featured fact on wasm, threads vs one thread (Chromium; scripts/bench-page-threads.ts)
    const { benchPageThreads } = await import('./bench-page-threads');
    return benchPageThreads({ repeat: arg('--repeat') ? Number(arg('--repeat')) : 1, json: process.argv.includes('--json') });
  }
  if (arg('--backend') === 'webgpu') {
    const { benchWebGPU } = await import('./bench-webgpu');
    return benchWebGPU({
      gpu: process.argv.includes('--gpu'),
      json: process.argv.includes('--json'),
      quick,
      adapterOnly: process.argv.includes('--adapter-only'),
      models: arg('--models'),
      modes: arg('--modes'),
      steps: arg('--steps') ? Number(arg('--steps')) : undefined,
      tokens: arg('--tokens') ? Number(arg('--tokens')) : undefined,
      writeRandomCheckpoint,
    });
  }
  if (arg('--backend') !== undefined && arg('--backend') !== 'wasm')
    throw new Error(`--backend takes wasm (Node, the default) or webgpu (Chromium), got ${arg('--backend')}`);
  const backend = await nodeBackend();
  console.error(`backend: ${backend.name}${backend.detail ? ` (${backend.detail})` : ''}`);
  const jobsFacts = Number(arg('--jobs-facts') ?? 6);
  const jobsList = (arg('--jobs-list') ?? '1,2').split(',').map(Number);
  if (jobsOnly) {
    const jobs = await benchJobs(jobsFacts, jobsList);
    console.table(jobs.runs.map(({ command: _c, ...r }) => r));
    console.log(JSON.stringify({ backend: backend.name, jobs }, null, 2));
    return;
  }
  if (experimentOnly) {
    const experiment = [await benchExperiment('demo-causal'), await benchExperiment('demo-masked')].filter((x) => x !== null);
    console.table(experiment);
    console.log(JSON.stringify({ backend: backend.name, experiment_per_fact: experiment }, null, 2));
    return;
  }
  const gpt2Dir = join(CACHE, 'gpt2-small-shape');
  const bertDir = join(CACHE, 'bert-base-shape');
  await writeRandomCheckpoint(gpt2Dir, 'gpt2', GPT2_SMALL_CONFIG);
  await writeRandomCheckpoint(bertDir, 'bert', BERT_BASE_CONFIG);
  const gflops = await matmulGflops();
  console.error(`dense matmul 1024³: ${gflops.toFixed(1)} GFLOP/s`);
  const rows = [await benchModel('gpt2-small-shape (causal)', gpt2Dir, 'Paris', 0), await benchModel('bert-base-shape (masked)', bertDir, 'paris', 0)];
  const demo = join(process.cwd(), 'public', 'models', 'demo-causal');
  if (existsSync(join(demo, 'kn-manifest.json'))) rows.push(await benchModel('demo-causal (bundled)', demo, 'Paris', 0));
  for (const r of rows) if (r.whole_query_gflops) r.share_of_matmul = +((r.whole_query_gflops as number) / gflops).toFixed(3);
  const int8 = await int8Error(gpt2Dir, ['The capital of France is', 'Paris is the capital of']);
  const experiment = quick ? [] : [await benchExperiment('demo-causal'), await benchExperiment('demo-masked')].filter((x) => x !== null);
  const jobs = quick ? undefined : await benchJobs(jobsFacts, jobsList);
  const result = {
    backend: backend.name,
    matmul_gflops: +gflops.toFixed(2),
    saig: rows,
    int8_gpt2_small_shape: int8,
    experiment_per_fact: experiment,
    ...(jobs ? { jobs } : {}),
    tfMemory: tf.memory().numTensors,
  };
  console.table(rows);
  if (experiment.length) console.table(experiment);
  if (jobs) console.table(jobs.runs.map(({ command: _c, ...r }) => r));
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

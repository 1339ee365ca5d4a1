/**
 * The GPU check (issue 19 item 4): what `run` runs on a GPU machine, bundled by `pack` into one file with Node and
 * Dawn beside it (scripts/gpu-check/README.md). Prints ONE JSON object on stdout and the tables on stderr, and writes
 * both (gpu-check.json, gpu-check.md) into --out:
 *  - the WebGPU adapter (vendor, architecture, software or not); a software adapter is refused unless --dry;
 *  - dense float32 matmul GFLOP/s and the packed int8 kernel's (src/gpu/bench.ts matmulGflops / int8MatmulGflops);
 *  - per model shape (GPT-2 small, BLOOM-560m, Qwen2.5-0.5B, XLM-R base: random F16 weights written here, real
 *    configs; checkpoint.ts) and per weight mode (f32, packed int8): load time, the first query (all layers, M = 20,
 *    ⟨PAD⟩ baselines, Gauss-Legendre: the engine's defaults; shader compiles included), the same query again (warm),
 *    a fact (7 languages × 4 queries = 28) extrapolated from the queries timed, device bytes per parameter;
 *  - the same query's attributions with transformers on CUDA (torch_ig.py, the reference's method on the same weights):
 *    the ratio ours ÷ PyTorch and the largest difference.
 * A time budget (--budget-s, default 420 = 7 min) skips, and names, every step that would not fit; a running
 * attribution is stopped at the budget, and a hard stop prints what is there 30 s after it.
 *
 *   npx tsx scripts/gpu-check/check.ts [--dry] [--budget-s 420] [--out DIR] [--work DIR] [--models a,b]
 *       [--python python3] [--no-torch] [--fact-sample 4] [--steps 20] [--assets DIR]
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { nodeBackend, useBackend } from '../../src/cli/node-engine';
import { useSwiftShaderIfNoDriverChosen } from '../../src/cli/node-webgpu';
import { loadModel } from '../../src/engine/index';
import { attributeQuery, type QueryAttribution } from '../../src/engine/attribution/attribute';
import type { LoadedModel } from '../../src/engine/families/model';
import type { BackendInfo } from '../../src/shared/types';
import { int8MatmulGflops, matmulGflops } from '../../src/gpu/bench';
import { dryShapes, REAL_SHAPES, writeShapeCheckpoint } from './checkpoint';
import { FACT_QUERIES, HARD_STOP_STEP, markdownTables, type GpuCheckReport, type ModeRow, type ModelRow, validateReport } from './report';

// ------------------------------------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(`--${n}`);
function opt(n: string): string | undefined {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const dry = flag('dry');
const here = dirname(fileURLToPath(import.meta.url));
/** packed: assets/ beside the bundle; from the source tree: the repo's files */
const packed = existsSync(join(here, 'assets', 'tokenizers'));
const assets = opt('assets') ?? (packed ? join(here, 'assets') : null);
const repo = join(here, '..', '..');
const tokenizerRoot = assets ? join(assets, 'tokenizers') : join(repo, 'tests', 'fixtures', 'reference', 'models');
const referenceDir = assets ? join(assets, 'reference') : join(repo, 'scripts', 'reference');
const torchScript = assets ? join(assets, 'torch_ig.py') : join(here, 'torch_ig.py');
const budgetS = Number(opt('budget-s') ?? (dry ? 600 : 420));
const outDir = opt('out');
const workDir = opt('work') ?? join(tmpdir(), 'kn-gpu-check');
/** --dry: M = 4 and one query per fact (SwiftShader on 2 cores runs a tiny query at M = 20 in 10-40 s) */
const steps = Number(opt('steps') ?? (dry ? 4 : 20));
const factSample = Math.max(1, Math.min(FACT_QUERIES.causal.length, Number(opt('fact-sample') ?? (dry ? 1 : 4))));
const python = opt('python') ?? process.env.KN_GPU_CHECK_PYTHON ?? 'python3';
const noTorch = flag('no-torch');
/** `--real-shapes` with --dry: the real sizes on a software adapter (to see the loads and the budget's cuts, not speeds) */
const allShapes = dry && !flag('real-shapes') ? dryShapes() : REAL_SHAPES;
const wanted = opt('models')
  ?.split(',')
  .map((s) => s.trim());
const shapes = wanted ? allShapes.filter((s) => wanted.some((w) => s.name.startsWith(w))) : allShapes;
if (wanted && !shapes.length) throw new Error(`--models ${wanted.join(',')}: none of ${allShapes.map((s) => s.name).join(', ')}`);
/** the fact: 7 languages × 4 templates (RML-LAMA), extrapolated from the queries timed */
const FACT_QUERY_COUNT = 28;
/**
 * a load, a first query or PyTorch starts while this much of the budget is left (their length is unknown before the
 * first model; the budget's abort stops them, and the shapes go smallest first, so a cut falls on the largest)
 */
const MIN_STEP_S = 10;

// ------------------------------------------------------------------------------------------------ budget

const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const left = () => budgetS - elapsed();
const log = (s: string) => process.stderr.write(`[gpu-check ${elapsed().toFixed(0).padStart(3)} s] ${s}\n`);
const r3 = (x: number) => +x.toFixed(3);

const report: GpuCheckReport = {
  tool: 'kn gpu-check',
  dry,
  started_at: new Date().toISOString(),
  budget_s: budgetS,
  wall_s: 0,
  host: {
    cpus: cpus().length,
    memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gpu: nvidiaSmi(),
  },
  settings: {
    shapes: allShapes === REAL_SHAPES ? 'real' : 'dry',
    steps,
    baseline: 'pad',
    quadrature: 'gauss-legendre',
    fact_queries: FACT_QUERY_COUNT,
    fact_sample: factSample,
    layers: 'all',
  },
  backend: null,
  adapter: null,
  matmul_gflops: {},
  int8_matmul_gflops: {},
  models: [],
  torch: null,
  skipped: [],
  complete: false,
};

const budgetAbort = new AbortController();
const budgetTimer = setTimeout(() => budgetAbort.abort(new Error('the time budget ran out')), budgetS * 1000);
budgetTimer.unref();
// a step that does not look at the signal (a load, a kernel) cannot stop at the budget: print what is there
const hardStop = setTimeout(
  () => {
    if (running) report.skipped.push({ step: running, reason: `still running at the hard stop (it does not look at the budget's abort)` });
    report.skipped.push({ step: HARD_STOP_STEP, reason: `hard stop ${budgetS + 30} s after the start (budget ${budgetS} s)` });
    emit();
    process.exit(3);
  },
  (budgetS + 30) * 1000,
);
hardStop.unref();

/** the step under way (named at a hard stop) */
let running: string | null = null;

function skip(step: string, reason: string) {
  log(`skipped: ${step}: ${reason}`);
  report.skipped.push({ step, reason });
}

/** runs `f` if about `estS` seconds are left (else skips it, named); a failure is recorded, not thrown */
async function step<T>(name: string, estS: number, f: () => Promise<T>): Promise<T | undefined> {
  if (budgetAbort.signal.aborted) return (skip(name, 'the time budget has run out'), undefined);
  if (estS > left()) return (skip(name, `time budget: about ${Math.ceil(estS)} s needed, ${Math.max(0, Math.floor(left()))} s left`), undefined);
  running = name;
  try {
    return await f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (budgetAbort.signal.aborted) skip(name, `stopped at the time budget (${msg})`);
    else skip(name, `failed: ${msg}`);
    return undefined;
  } finally {
    running = null;
    savePartial();
  }
}

/** the report so far, into --out after every step: what a killed run leaves (gpu-check.partial.json) */
function savePartial() {
  if (!outDir) return;
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'gpu-check.partial.json'), JSON.stringify({ ...report, wall_s: r3(elapsed()) }, null, 2) + '\n');
  } catch {
    /* best effort */
  }
}

function nvidiaSmi(): string | null {
  try {
    return (
      execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
        encoding: 'utf8',
        timeout: 20_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null
    );
  } catch {
    return null;
  }
}

function emit() {
  report.wall_s = r3(elapsed());
  const problems = validateReport(report);
  if (problems.length) report.structure_problems = problems;
  const md = markdownTables(report);
  const json = JSON.stringify(report, null, 2);
  // the JSON first, the tables last (what the end of a captured output shows)
  process.stdout.write(json + '\n');
  process.stderr.write('\n' + md + '\n');
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'gpu-check.json'), json + '\n');
    writeFileSync(join(outDir, 'gpu-check.md'), md + '\n');
    rmSync(join(outDir, 'gpu-check.partial.json'), { force: true });
  }
}

// ------------------------------------------------------------------------------------------------ PyTorch side

class TorchServer {
  private proc: ChildProcessWithoutNullStreams;
  private waiting: ((v: Record<string, unknown>) => void)[] = [];
  private exited: string | null = null;
  constructor(device: string) {
    this.proc = spawn(python, ['-u', torchScript, '--reference', referenceDir, '--device', device], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error', TOKENIZERS_PARALLELISM: 'false', PYTHONUNBUFFERED: '1' },
    }) as ChildProcessWithoutNullStreams;
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(l);
      } catch {
        process.stderr.write(`[torch stdout] ${l}\n`);
        return;
      }
      this.waiting.shift()?.(v);
    });
    createInterface({ input: this.proc.stderr }).on('line', (l) => {
      if (!/^\s*$/.test(l)) process.stderr.write(`  ${l.startsWith('[torch]') ? l : '[torch] ' + l}\n`);
    });
    this.proc.on('error', (e) => this.fail(`${python} could not start: ${e.message}`));
    this.proc.on('exit', (code, sig) => this.fail(`${python} exited (${sig ?? code})`));
  }
  private fail(why: string) {
    this.exited ??= why;
    for (const w of this.waiting.splice(0)) w({ ok: false, error: why });
  }
  /** the next answer line; null (and the process killed) after `timeoutS` */
  next(timeoutS: number): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.resolve({ ok: false, error: this.exited });
    return new Promise((res) => {
      const timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        this.fail(`no answer within ${Math.round(timeoutS)} s`);
      }, Math.max(1, timeoutS) * 1000);
      this.waiting.push((v) => {
        clearTimeout(timer);
        res(v);
      });
    });
  }
  send(obj: Record<string, unknown>, timeoutS: number): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.resolve({ ok: false, error: this.exited });
    const p = this.next(timeoutS);
    this.proc.stdin.write(JSON.stringify(obj) + '\n');
    return p;
  }
  close() {
    if (!this.exited) {
      this.proc.stdin.write('{"cmd":"quit"}\n');
      this.proc.stdin.end();
      setTimeout(() => this.proc.kill('SIGKILL'), 5000).unref();
    }
  }
}

// ------------------------------------------------------------------------------------------------ measurements

const gpuBytes = () => (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU ?? tf.memory().numBytes;

function queriesFor(m: LoadedModel) {
  if (m.info.kind === 'causal') return FACT_QUERIES.causal;
  const mask = m.tok.maskToken ?? '<mask>';
  return FACT_QUERIES.masked.map((q) => ({ prompt: q.prompt.replace('[MASK]', mask), target: q.target }));
}

/** the largest |a − b| over every attributed layer, and that over the largest |b| */
function compareRaw(a: QueryAttribution, b: Float32Array[] | Float64Array[]): { max_abs_diff: number; max_rel_diff: number } {
  let maxAbs = 0,
    den = 0;
  a.layers.forEach((l, i) => {
    const x = a.raw[l],
      y = b[i];
    for (let j = 0; j < x.length; j++) {
      maxAbs = Math.max(maxAbs, Math.abs(x[j] - y[j]));
      den = Math.max(den, Math.abs(y[j]));
    }
  });
  return { max_abs_diff: maxAbs, max_rel_diff: den > 0 ? maxAbs / den : maxAbs };
}

async function timeQuery(m: LoadedModel, q: { prompt: string; target: string }) {
  const s0 = performance.now();
  const r = await attributeQuery(m, q.prompt, q.target, { steps, baseline: 'pad', quadrature: 'gauss-legendre', signal: budgetAbort.signal });
  return { s: (performance.now() - s0) / 1000, r };
}

/**
 * one weight mode of one model: load, first query, the same again, the fact's sample; disposed after. The fact's
 * sample queries run only while they end before `extrasUntil` (elapsed seconds: this mode's share of the budget).
 */
async function runMode(
  model: ModelRow,
  dir: string,
  dtype: 'f32' | 'int8',
  backend: BackendInfo,
  extrasUntil: number,
): Promise<{ row: ModeRow; first?: QueryAttribution }> {
  // in the report from the start: a hard stop prints what is measured so far
  const row: ModeRow = (model[dtype] = { weights: dtype === 'f32' ? 'f32' : 'packed-int8' });
  const label = `${model.name} ${row.weights}`;
  const before = gpuBytes();
  const m = await step(`${label}: load`, MIN_STEP_S, async () => {
    const s0 = performance.now();
    const model = await loadModel(
      { type: 'folder', path: dir },
      {
        dtype,
        ...(dtype === 'int8' ? { deviceWeights: 'packed' as const } : {}),
        maxTensorBytes: backend.limits?.maxTensorBytes,
        signal: budgetAbort.signal,
      },
    );
    row.load_s = r3((performance.now() - s0) / 1000);
    log(`${label}: loaded in ${row.load_s} s (${model.info.deviceWeights})`);
    return model;
  });
  if (!m) return { row };
  let first: QueryAttribution | undefined;
  try {
    row.device_weights = m.info.deviceWeights;
    const qs = queriesFor(m);
    const a = await step(`${label}: first query`, MIN_STEP_S, () => timeQuery(m, qs[0]));
    if (!a) return { row };
    first = a.r;
    row.first_query_s = r3(a.s);
    row.tokens = a.r.ids.length;
    row.baselines = a.r.baselinePositions.length;
    row.device_bytes_per_param = +((gpuBytes() - before) / m.info.numParams).toFixed(3);
    log(
      `${label}: first query ${a.s.toFixed(2)} s (${row.tokens} tokens, ${row.baselines} baselines, ${m.cfg.numLayers} layers, M = ${steps}), ${row.device_bytes_per_param} device bytes/param`,
    );
    const warm = await step(`${label}: the same query again (warm)`, a.s * 1.2, () => timeQuery(m, qs[0]));
    if (!warm) return { row, first };
    row.query_s = r3(warm.s);
    const times = [warm.s];
    for (let i = 1; i < factSample; i++) {
      if (elapsed() + warm.s * 1.2 > extrasUntil) {
        skip(
          `${label}: fact sample queries ${i + 1}-${factSample}`,
          `this model's share of the budget (until ${Math.round(extrasUntil)} s) is used; the fact is extrapolated from ${i}`,
        );
        break;
      }
      const t = await step(`${label}: fact sample query ${i + 1} of ${factSample}`, warm.s * 1.2, () => timeQuery(m, qs[i]));
      if (!t) break;
      times.push(t.s);
    }
    const mean = times.reduce((s, x) => s + x, 0) / times.length;
    row.fact_s = r3(mean * FACT_QUERY_COUNT);
    row.fact_basis = `${times.length} quer${times.length === 1 ? 'y' : 'ies'} timed (warm), mean × ${FACT_QUERY_COUNT}`;
    log(`${label}: query ${warm.s.toFixed(2)} s warm, fact ≈ ${row.fact_s} s (${row.fact_basis})`);
    return { row, first };
  } finally {
    m.dispose();
  }
}

async function main() {
  mkdirSync(workDir, { recursive: true });
  log(`${dry ? 'DRY RUN (tiny shapes, a software adapter allowed)' : 'GPU check'}; budget ${budgetS} s; work folder ${workDir}`);
  if (dry) useSwiftShaderIfNoDriverChosen();
  // PyTorch starts first: its imports overlap with the kernels' measurements
  let torch: TorchServer | null = null;
  let torchHello: Promise<Record<string, unknown>> | null = null;
  if (noTorch) report.torch = { skipped: '--no-torch' };
  else if (!existsSync(torchScript)) report.torch = { skipped: `${torchScript} is missing` };
  else {
    torch = new TorchServer(dry ? 'cpu' : 'cuda');
    torchHello = torch.next(180);
  }

  useBackend(['webgpu']);
  let backend: BackendInfo;
  try {
    backend = await nodeBackend();
  } catch (e) {
    report.skipped.push({ step: 'WebGPU backend', reason: e instanceof Error ? e.message : String(e) });
    torch?.close();
    return;
  }
  report.backend = { name: backend.name, detail: backend.detail ?? null, limits: backend.limits ?? null };
  report.adapter = backend.adapter ?? null;
  log(`backend ${backend.name}: ${backend.detail ?? ''}`);
  if (backend.adapter?.software && !dry) {
    report.skipped.push({
      step: 'everything',
      reason: `the WebGPU adapter is a software renderer (${backend.adapter.software}); the check needs the GPU's Vulkan driver (VK_ICD_FILENAMES / VK_DRIVER_FILES = nvidia_icd.json); --dry runs it on a software adapter`,
    });
    torch?.close();
    return;
  }

  for (const n of dry ? [256] : [1024, 4096]) {
    await step(`dense f32 matmul ${n}³`, 10, async () => {
      report.matmul_gflops[String(n)] = r3(await matmulGflops(n, dry ? 2 : 10));
      log(`dense f32 matmul ${n}³: ${report.matmul_gflops[String(n)]} GFLOP/s`);
    });
    await step(`packed int8 matmul ${n}³`, 10, async () => {
      report.int8_matmul_gflops[String(n)] = r3(await int8MatmulGflops(n, dry ? 2 : 10));
      log(`packed int8 matmul ${n}³: ${report.int8_matmul_gflops[String(n)]} GFLOP/s`);
    });
  }

  if (torchHello) {
    const h = await torchHello;
    if (h.ok) {
      report.torch = { torch: String(h.torch), transformers: String(h.transformers), device: String(h.device), device_name: String(h.device_name) };
      log(`PyTorch ${h.torch} (transformers ${h.transformers}) on ${h.device_name}`);
    } else {
      report.torch = { skipped: String(h.error) };
      log(`PyTorch skipped: ${h.error}`);
      torch?.close();
      torch = null;
    }
  }

  for (let i = 0; i < shapes.length; i++) {
    const shape = shapes[i];
    const dir = join(workDir, shape.name);
    const ck = await step(`${shape.name}: write the random checkpoint`, 2, () => writeShapeCheckpoint(dir, shape, tokenizerRoot));
    if (!ck) continue;
    const row: ModelRow = { name: shape.name, repo: shape.repo, params: ck.params, config: pickConfig(ck.config), write_s: r3(ck.seconds) };
    report.models.push(row);
    log(
      `${shape.name}: ${(ck.params / 1e6).toFixed(1)}M parameters, checkpoint ${ck.bytes ? (ck.bytes / 2 ** 20).toFixed(0) + ' MiB written' : 'already there'} (${ck.seconds.toFixed(1)} s)`,
    );
    // every model gets an equal share of what is left for its optional steps (the fact's sample queries): f32 the
    // first half, packed int8 until the end; f32, PyTorch and int8's first queries only need the whole budget
    const share = left() / (shapes.length - i);
    const modelEnd = elapsed() + share;
    const f32 = await runMode(row, dir, 'f32', backend, elapsed() + share * 0.45);
    if (torch && f32.first) {
      const a = f32.first;
      const out = join(workDir, `${shape.name}.torch-raw.f32`);
      const res = await step(`${shape.name}: PyTorch`, MIN_STEP_S, () =>
        torch!.send(
          {
            cmd: 'ig',
            dir,
            family: shape.tokenizer,
            ids: a.ids,
            position: a.position,
            target: a.targetId,
            baseline_positions: a.baselinePositions,
            pad: a.padId,
            steps: a.steps,
            quadrature: a.quadrature,
            layers: a.layers,
            out,
            repeat: 1,
            free: true,
          },
          Math.max(5, left()),
        ),
      );
      if (res && res.ok) {
        const buf = readFileSync(out);
        const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        const F = a.raw[a.layers[0]].length;
        const per = a.layers.map((_, i) => all.subarray(i * F, (i + 1) * F));
        const ours = f32.row.query_s ?? f32.row.first_query_s!;
        row.torch = {
          load_s: r3(Number(res.load_s)),
          first_query_s: r3(Number(res.first_s)),
          query_s: r3(Number(res.query_s)),
          ratio_ours_over_torch: r3(ours / Number(res.query_s)),
          ...compareRaw(a, per),
          ...(res.peak_bytes ? { peak_bytes: Number(res.peak_bytes) } : {}),
        };
        rmSync(out, { force: true });
        log(
          `${shape.name}: PyTorch ${Number(res.query_s).toFixed(2)} s, ours ÷ PyTorch ${row.torch.ratio_ours_over_torch}, max diff ${row.torch.max_abs_diff.toExponential(2)} (rel ${row.torch.max_rel_diff.toExponential(2)})`,
        );
      } else if (res) {
        row.torch = { skipped: String(res.error) };
        skip(`${shape.name}: PyTorch`, String(res.error));
      } else row.torch = { skipped: report.skipped.at(-1)?.reason ?? 'skipped' };
    } else if (!torch) row.torch = { skipped: report.torch && 'skipped' in report.torch ? report.torch.skipped : 'PyTorch is not running' };
    else row.torch = { skipped: 'no f32 attribution of ours to compare with' };
    const int8 = await runMode(row, dir, 'int8', backend, modelEnd);
    if (f32.first && int8.first)
      row.int8_vs_f32 = compareRaw(
        int8.first,
        f32.first.layers.map((l) => f32.first!.raw[l]),
      );
    const int8s = int8.row.query_s ?? int8.row.first_query_s;
    if (row.torch && !('skipped' in row.torch) && int8s) row.torch.ratio_int8_over_torch = r3(int8s / row.torch.query_s);
    if (!dry) rmSync(dir, { recursive: true, force: true });
  }
  torch?.close();
  report.complete = report.skipped.length === 0;
}

function pickConfig(c: Record<string, unknown>) {
  const keys = [
    'architectures',
    'n_layer',
    'num_hidden_layers',
    'n_embd',
    'hidden_size',
    'intermediate_size',
    'n_head',
    'num_attention_heads',
    'num_key_value_heads',
    'vocab_size',
  ];
  return Object.fromEntries(keys.filter((k) => k in c).map((k) => [k, c[k]]));
}

main()
  .catch((e) => {
    report.skipped.push({ step: 'the check', reason: `crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
  })
  .finally(() => {
    clearTimeout(hardStop);
    emit();
    const problems = report.structure_problems ?? [];
    if (dry && problems.length) {
      process.stderr.write(`--dry: the report's structure is wrong: ${problems.join('; ')}\n`);
      process.exitCode = 2;
    }
    // Dawn keeps the event loop alive
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  });

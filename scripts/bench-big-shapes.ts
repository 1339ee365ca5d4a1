/**
 * `npm run bench -- --big-shapes`: real-size model shapes on wasm in Node (issue 19 item 2), each as a user runs
 * it: `/usr/bin/time -v tsx src/cli/kn.ts attribute --model <dir> … --json`, one process per row, so the peak RSS
 * ("Maximum resident set size") is that of the whole run (load + attribution). Per row: the command, the path
 * the attribution took (fast / streamed), wall time, the attribution's own seconds, peak RSS.
 *
 * The checkpoints: random weights with the exact configs of bigscience/bloom-560m, Qwen/Qwen2.5-0.5B and
 * FacebookAI/xlm-roberta-base (scripts/reference/real_size.py → .cache/reference/real/<org>/<name>/, ~3 GB,
 * never committed): `bash scripts/reference/setup.sh && .cache/venv-ref/bin/python scripts/reference/real_size.py`.
 *
 *   npm run bench -- --big-shapes [--shapes bloom-560m,qwen2.5-0.5b,xlm-roberta-base] [--steps M] [--layers 0|all|0,5] [--json]
 *
 * Default: `--layers 0 --steps 2` (the issue's memory target: layer 0 is the worst case, every layer above it is
 * involved; ≤ 3 GiB peak RSS). A full query is `--layers all --steps 20` (tens of minutes per shape on 2 cores).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();
const REAL = join(ROOT, '.cache', 'reference', 'real');
export const BIG_SHAPES: Record<string, { repo: string; prompt: string; target: string }> = {
  'bloom-560m': { repo: 'bigscience/bloom-560m', prompt: 'La capitale de la France est', target: ' Paris' },
  'qwen2.5-0.5b': { repo: 'Qwen/Qwen2.5-0.5B', prompt: 'La capitale de la France est', target: ' Paris' },
  'xlm-roberta-base': { repo: 'FacebookAI/xlm-roberta-base', prompt: 'La capitale de la France est <mask>.', target: 'Paris' },
};

export interface BigShapeRow {
  shape: string;
  command: string;
  ok: boolean;
  path?: string;
  wallS?: number;
  attributionS?: number;
  peakRssGiB?: number;
  error?: string;
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, maxBuffer: 1 << 28, env: { ...process.env, KN_BACKEND: 'wasm' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export async function benchBigShapes(o: { shapes?: string; steps?: number; layers?: string; json?: boolean } = {}): Promise<BigShapeRow[]> {
  const names = (o.shapes ?? Object.keys(BIG_SHAPES).join(',')).split(',');
  const steps = o.steps ?? 2,
    layers = o.layers ?? '0';
  const rows: BigShapeRow[] = [];
  const log = (s: string) => process.stderr.write(s + '\n');
  for (const name of names) {
    const s = BIG_SHAPES[name];
    if (!s) throw new Error(`unknown shape "${name}"; one of ${Object.keys(BIG_SHAPES).join(', ')}`);
    const dir = join(REAL, s.repo);
    const args = [
      'node_modules/.bin/tsx',
      'src/cli/kn.ts',
      'attribute',
      '--model',
      dir,
      '--prompt',
      s.prompt,
      '--target',
      s.target,
      '--layers',
      layers,
      '--steps',
      String(steps),
      '--json',
    ];
    const command = `/usr/bin/time -v ${args
      .map((a) => (/[\s<>]/.test(a) ? JSON.stringify(a) : a))
      .join(' ')
      .replace(ROOT + '/', '')}`;
    if (!existsSync(join(dir, 'model.safetensors'))) {
      rows.push({
        shape: name,
        command,
        ok: false,
        error: `no checkpoint in ${dir}: run bash scripts/reference/setup.sh && .cache/venv-ref/bin/python scripts/reference/real_size.py`,
      });
      log(`${name}: ${rows[rows.length - 1].error}`);
      continue;
    }
    log(`${name}: ${command}`);
    const t0 = performance.now();
    const r = await run('/usr/bin/time', ['-v', ...args]);
    const wallS = (performance.now() - t0) / 1000;
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    const row: BigShapeRow = {
      shape: name,
      command,
      ok: r.code === 0,
      wallS: Math.round(wallS * 10) / 10,
      peakRssGiB: rss ? Math.round((Number(rss[1]) / 1024 ** 2) * 100) / 100 : undefined,
    };
    if (r.code === 0) {
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      row.path = out.path;
      row.attributionS = out.seconds;
    } else row.error = (/kn: error .*/.exec(r.stderr)?.[0] ?? r.stderr.slice(-500)).trim();
    rows.push(row);
    log(`${name}: ${row.ok ? `${row.path}, wall ${row.wallS} s, attribution ${row.attributionS} s` : `failed: ${row.error}`}, peak RSS ${row.peakRssGiB} GiB`);
  }
  const table = [
    `| shape | layers | M | path | wall (load + attribution) | attribution | peak RSS |`,
    `|---|---|---|---|---|---|---|`,
    ...rows.map(
      (r) =>
        `| ${r.shape} | ${layers} | ${steps} | ${r.path ?? '—'} | ${r.wallS ?? '—'} s | ${r.attributionS ?? '—'} s | ${r.peakRssGiB ?? '—'} GiB${r.ok ? '' : ` (failed: ${r.error})`} |`,
    ),
  ].join('\n');
  if (o.json) {
    process.stderr.write(table + '\n');
    process.stdout.write(JSON.stringify({ bigShapes: { steps, layers, rows } }) + '\n');
  } else process.stdout.write(table + '\n');
  return rows;
}

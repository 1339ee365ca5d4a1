/**
 * `npm run -s gpu-check -- pack [--out DIR] [--no-node] [--fast] [--no-debs]`
 * `npm run -s gpu-check -- run [--dry] [--repack] [check options…]`
 *
 * pack: builds the self-contained folder (pack.ts; default .gpucheck/). run: packs when there is no pack (or with
 * --repack), then runs the pack's run.sh as the GPU machine would (`bash .gpucheck/run.sh …`); with --dry on this
 * machine's SwiftShader with tiny shapes, PyTorch on the CPU (.cache/venv-ref when there, else python3), and fails when
 * the report's structure is wrong. See scripts/gpu-check/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PACK_DIR, pack, REPO } from './pack';

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const flag = (n: string) => rest.includes(`--${n}`);
  const opt = (n: string) => {
    const i = rest.indexOf(`--${n}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  if (cmd === 'pack') {
    await pack({ out: opt('out'), noNode: flag('no-node'), fast: flag('fast'), noDebs: flag('no-debs') });
    return 0;
  }
  if (cmd === 'run') {
    const dir = opt('pack') ?? DEFAULT_PACK_DIR;
    if (flag('repack') || !existsSync(join(dir, 'run.sh'))) await pack({ out: opt('pack') });
    const args = rest.filter((a, i) => a !== '--repack' && a !== '--pack' && rest[i - 1] !== '--pack');
    const venv = join(REPO, '.cache', 'venv-ref', 'bin', 'python');
    if (flag('dry') && !opt('python') && existsSync(venv)) args.push('--python', venv);
    const r = spawnSync('bash', [join(dir, 'run.sh'), ...args], { stdio: 'inherit' });
    return r.status ?? 1;
  }
  process.stderr.write('usage: gpu-check pack [--out DIR] [--no-node] [--fast] [--no-debs] | run [--dry] [--repack] [--pack DIR] [check options]\n');
  return 2;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

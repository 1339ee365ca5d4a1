/**
 * `pack`: the GPU check as one self-contained folder (default .gpucheck/, git-ignored, carried to the GPU machine):
 *
 *   run.sh                         unpacks into /tmp and runs (scripts/gpu-check/run.sh)
 *   gpu-check.mjs.gz               check.ts and the engine, tfjs and its WebGPU backend bundled by esbuild
 *   node.xz                        this Node (process.execPath, symbols stripped), xz with the x86 filter
 *   node_modules/webgpu/           Dawn's Node bindings: index.js, package.json, dist/linux-x64/dawn.node.xz
 *   node_modules/@tensorflow/tfjs-backend-wasm/package.json
 *                                  what the CLI's wasmDir() resolves (the check runs on WebGPU only: no .wasm)
 *   assets/tokenizers/<family>/    the reference's small tokenizers (tests/fixtures/reference/models)
 *   assets/reference/              scripts/reference/{models,common,toks}.py (neuron_module: the reference's neuron)
 *   assets/torch_ig.py             the PyTorch side
 *   debs/                          libvulkan1 and glvnd (Debian bookworm amd64, `apt-get download`), unpacked by run.sh
 *                                  into / when the machine has no Vulkan loader (the device README's recipe)
 *   MANIFEST.json                  sizes, the Node version, what was left out
 *
 * The folder must stay within 60 MiB, and beside the repository's tracked files within the 64 MiB a device call
 * carries: both are checked and printed. The compressed Node is cached under .cache/gpu-check/ (xz of 86 MB takes
 * about 2 minutes on 2 cores).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_PACK_DIR = join(REPO, '.gpucheck');
export const PACK_LIMIT_BYTES = 60 * 2 ** 20;
export const CARRY_LIMIT_BYTES = 64 * 2 ** 20;
/** what `pack` downloads into debs/ (the device README's loaders; Dawn needs libvulkan1, NVIDIA's ICD libGLdispatch) */
export const DEBS = ['libvulkan1', 'libglvnd0', 'libegl1', 'libgl1', 'libglx0', 'libopengl0', 'libgles2'];
export const APT_DOWNLOAD =
  "mkdir -p .gpucheck/debs /tmp/amd64/partial; o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'; " +
  `apt-get $o update; (cd .gpucheck/debs && apt-get $o download ${DEBS.join(' ')})`;

export interface PackOptions {
  out?: string;
  /** leave Node out: run.sh then uses the `node` on PATH (the test does this) */
  noNode?: boolean;
  /** gzip -1 instead of xz for dawn.node (the test) */
  fast?: boolean;
  /** no apt-get download of the Vulkan loader */
  noDebs?: boolean;
  log?: (s: string) => void;
}

export interface PackResult {
  dir: string;
  bytes: number;
  files: { path: string; bytes: number }[];
  trackedBytes: number;
  leftOut: string[];
}

function sh(cmd: string, args: string[], opts: { input?: Buffer; timeoutS?: number } = {}): Buffer {
  const r = spawnSync(cmd, args, { input: opts.input, maxBuffer: 1 << 30, timeout: (opts.timeoutS ?? 900) * 1000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr?.toString().slice(-400)}`);
  return r.stdout;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** xz -9e with the x86 BCJ filter (executables shrink ~10 % more), single-threaded so the stream is deterministic */
function xzFile(src: string, dst: string, strip: 'all' | 'unneeded' | null) {
  let input = src;
  const tmp = dst + '.stripped';
  if (strip && has('strip')) {
    sh('strip', [strip === 'all' ? '--strip-all' : '--strip-unneeded', '-o', tmp, src]);
    input = tmp;
  }
  const out = sh('nice', ['-n', '10', 'xz', '-9e', '--x86', '--lzma2=preset=9e', '-T1', '-c', input]);
  writeFileSync(dst, out);
  rmSync(tmp, { force: true });
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** bytes of the repository's tracked files (what a device call carries besides the pack) */
export function trackedBytes(): number {
  try {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, maxBuffer: 1 << 28 })
      .toString()
      .split('\0')
      .filter(Boolean);
    let n = 0;
    for (const f of files) {
      try {
        n += statSync(join(REPO, f)).size;
      } catch {
        /* deleted in the work tree */
      }
    }
    return n;
  } catch {
    return 0;
  }
}

export async function pack(o: PackOptions = {}): Promise<PackResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`[pack] ${s}\n`));
  const dir = o.out ?? DEFAULT_PACK_DIR;
  const leftOut: string[] = [];
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);

  // 1. the bundle
  const esbuild = await import('esbuild');
  const t0 = performance.now();
  const built = await esbuild.build({
    entryPoints: [join(REPO, 'scripts', 'gpu-check', 'check.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    write: false,
    external: ['webgpu'],
    logLevel: 'error',
    // CommonJS dependencies call require(): give the ES module one
    banner: { js: "import { createRequire as __knCreateRequire } from 'node:module'; const require = __knCreateRequire(import.meta.url);" },
  });
  const js = Buffer.from(built.outputFiles[0].contents);
  writeFileSync(join(dir, 'gpu-check.mjs.gz'), gzipSync(js, { level: 9 }));
  log(`bundle: ${(js.length / 2 ** 20).toFixed(1)} MiB of JavaScript (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // 2. Node
  if (o.noNode) leftOut.push('node (--no-node: run.sh uses the node on PATH)');
  else if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `pack ships the Node it runs on, and the GPU machine is linux-x64; this is ${process.platform}-${process.arch} (pack on x86-64 Linux, or --no-node where that machine has Node 20)`,
    );
  } else {
    const exe = process.execPath;
    const st = statSync(exe);
    const key = createHash('sha256').update(`${exe}|${st.size}|${st.mtimeMs}|${process.version}`).digest('hex').slice(0, 16);
    const cache = join(REPO, '.cache', 'gpu-check');
    const cached = join(cache, `node-${process.version}-${key}.xz`);
    if (!existsSync(cached)) {
      mkdirSync(cache, { recursive: true });
      log(`compressing ${exe} (${process.version}, ${(st.size / 2 ** 20).toFixed(0)} MiB; about 2 minutes, cached after)…`);
      xzFile(exe, cached + '.tmp', 'all');
      sh('mv', [cached + '.tmp', cached]);
    }
    copyFileSync(cached, join(dir, 'node.xz'));
  }

  // 3. Dawn
  const webgpuDir = dirname(require.resolve('webgpu/package.json'));
  const wdst = join(dir, 'node_modules', 'webgpu');
  mkdirSync(join(wdst, 'dist', 'linux-x64'), { recursive: true });
  for (const f of ['package.json', 'index.js', 'LICENSE.md']) if (existsSync(join(webgpuDir, f))) copyFileSync(join(webgpuDir, f), join(wdst, f));
  const dawn = join(webgpuDir, 'dist', 'linux-x64', 'dawn.node');
  if (o.fast) writeFileSync(join(wdst, 'dist', 'linux-x64', 'dawn.node.gz'), gzipSync(readFileSync(dawn), { level: 1 }));
  else xzFile(dawn, join(wdst, 'dist', 'linux-x64', 'dawn.node.xz'), 'unneeded');
  const wasmPkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  mkdirSync(join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm'), { recursive: true });
  copyFileSync(wasmPkg, join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'package.json'));

  // 4. assets
  for (const fam of ['gpt2', 'bloom', 'qwen2', 'xlmr']) {
    const src = join(REPO, 'tests', 'fixtures', 'reference', 'models', fam);
    const dst = join(dir, 'assets', 'tokenizers', fam);
    mkdirSync(dst, { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(src, f), join(dst, f));
  }
  mkdirSync(join(dir, 'assets', 'reference'), { recursive: true });
  for (const f of ['models.py', 'common.py', 'toks.py']) copyFileSync(join(REPO, 'scripts', 'reference', f), join(dir, 'assets', 'reference', f));
  copyFileSync(join(REPO, 'scripts', 'gpu-check', 'torch_ig.py'), join(dir, 'assets', 'torch_ig.py'));
  copyFileSync(join(REPO, 'scripts', 'gpu-check', 'run.sh'), join(dir, 'run.sh'));
  copyFileSync(join(REPO, 'scripts', 'gpu-check', 'README.md'), join(dir, 'README.md'));

  // 5. the Vulkan loader's packages
  if (o.noDebs) leftOut.push(`debs (--no-debs; to add them: ${APT_DOWNLOAD})`);
  else {
    const debs = join(dir, 'debs');
    mkdirSync(debs, { recursive: true });
    const cache = join(REPO, '.cache', 'gpu-check', 'debs');
    const cachedDebs = existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.deb')) : [];
    if (cachedDebs.length < DEBS.length) {
      mkdirSync(cache, { recursive: true });
      mkdirSync('/tmp/amd64/partial', { recursive: true });
      const o2 = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', '-oDir::State::Lists=/tmp/amd64'];
      const upd = spawnSync('apt-get', [...o2, 'update'], { timeout: 180_000 });
      const dl = upd.status === 0 ? spawnSync('apt-get', [...o2, 'download', ...DEBS], { cwd: cache, timeout: 180_000 }) : upd;
      if (dl.status !== 0) log(`apt-get download failed (${dl.status ?? dl.error?.message}): ${dl.stderr?.toString().trim().split('\n').slice(-2).join(' ')}`);
    }
    const got = existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.deb')) : [];
    for (const f of got) copyFileSync(join(cache, f), join(debs, f));
    if (got.length < DEBS.length) leftOut.push(`debs: ${got.length} of ${DEBS.length} .deb files (run where apt works: ${APT_DOWNLOAD})`);
  }

  // 6. sizes
  const files = walk(dir).map((p) => ({ path: relative(dir, p), bytes: statSync(p).size }));
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const tracked = trackedBytes();
  const manifest = {
    node: o.noNode ? null : process.version,
    built_at: new Date().toISOString(),
    bytes,
    tracked_repo_bytes: tracked,
    files,
    left_out: leftOut,
  };
  writeFileSync(join(dir, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  for (const f of files.filter((x) => x.bytes > 512 * 1024)) log(`  ${f.path}: ${mib(f.bytes)}`);
  log(
    `${relative(process.cwd(), dir) || dir}: ${mib(bytes)} (limit ${mib(PACK_LIMIT_BYTES)}); with the repository's tracked files (${mib(tracked)}): ${mib(bytes + tracked)} of the ${mib(CARRY_LIMIT_BYTES)} a device call carries`,
  );
  for (const l of leftOut) log(`left out: ${l}`);
  if (bytes > PACK_LIMIT_BYTES) throw new Error(`the pack is ${mib(bytes)}, over ${mib(PACK_LIMIT_BYTES)}`);
  if (!o.out && bytes + tracked > CARRY_LIMIT_BYTES)
    log(`WARNING: the pack and the tracked files exceed ${mib(CARRY_LIMIT_BYTES)}: a device call would refuse the tree`);
  return { dir, bytes, files, trackedBytes: tracked, leftOut };
}

/**
 * Headless CLI over the engine: `npm run -s kn -- <command> [options] --json`.
 * Errors go to stderr with a non-zero exit code; results are one JSON object on stdout.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KnError, loadModelArg } from '../engine/index';
import { BUNDLED_DIR } from '../engine/node';
import { QUADRATURES } from '../engine/attribution';
import { availableParallelism } from 'node:os';
import {
  ATTR_NORMS,
  ATTRIBUTION_RESIDENT_BYTES,
  BASELINES,
  DEFAULT_GRID,
  LANG_NORMS,
  METHODS,
  DEFAULT_JOBS_NOTE,
  defaultJobs,
  JOBS_MAX,
  JOBS_MIN,
} from '../engine/rules';
import { COMPLETENESS_FLAG, RECHECK } from '../engine/session';
import type { WeightDtype } from '../shared/types';
import { int, parseArgs, str, takeOption, type Args } from './args';
import { cliBackendOrder, nodeBackend, useBackend } from './node-engine';
import { EDIT_HELP } from './edit-cmd';
import { ATLAS_HELP } from './atlas-cmd';

const HELP = `kn — Knowledge Neuron Explorer CLI

  kn probe --model <dir|url|hf:org/name[@rev]|bundled:name> --prompt "<text>" [--target "<text>"] [--top K] [--dtype f32|int8] --json
  kn attribute --model <m> --prompt "<text>" --target "<text>" [--steps M] [--baseline ${BASELINES.join('|')}] [--quadrature ${QUADRATURES.join('|')}] [--layers L] [--dtype f32|int8] --json
  kn localize --model <m> --relation <P-id> --fact <id> [--method ${METHODS.join('|')}] [--langs zh,en,...] [--tau T] [--alpha1 A1] [--alpha2 A2] [--beta1 B1] [--beta2 B2] [--norm ${LANG_NORMS.join('|')}] [--attr-norm ${ATTR_NORMS.join('|')}] [--steps M] [--quadrature ${QUADRATURES.join('|')}] [--layers L] [--no-recheck] --json
      --layers L: the layers to attribute (all, 3, 0,5,11, 0-5; default all); a model whose float32 weights do not fit
      ${(ATTRIBUTION_RESIDENT_BYTES / 1024 ** 3).toFixed(0)} GiB or the backend is attributed layer by layer (streamed: one layer and one chunk of the LM head at a time)
      (queries whose IG completeness error is above ${COMPLETENESS_FLAG * 100} % of P are re-attributed with ${RECHECK.quadrature} M = ${RECHECK.steps} to check the selection; --no-recheck skips it)
  kn fact [--model <m>] --fact <P-id:line> [--langs zh,en,...] --json   probe a fact's queries: known in k of 7 languages
  kn export --model <m> --out <dir> [--shard-mb N]      write our pre-quantized bundle (kn-int8)
  kn data stats --json                                    RML-LAMA statistics
  kn eval [--model <m>] [--relations P36,...] [--langs en,fr,...] [--limit N] --json
  kn eval [--model <demo model>] --split trained|heldout --json   a demo model on its trained queries / held-out templates
  kn experiment manipulate [--model <m>] [--facts N] [--relations P36,...] [--langs ...] [--methods ${METHODS.join(',')}] [--split dev|test] [--seed S] [--steps M] [--quadrature ${QUADRATURES.join('|')}] [--shard k/n | --jobs N] --out <dir>
  kn experiment readings [--model <m>] [--facts N] [--split dev] [--quadrature ${QUADRATURES.join('|')}] --out <dir>   every Eq. 9 × Eq. 5 reading of MaTrice
  kn experiment calibrate [--model <m>] [--split dev] [--facts N] [--grid-alpha2 ${DEFAULT_GRID.alpha2.join(',')}] [--grid-beta2 ${DEFAULT_GRID.beta2.join(',')}] [--grid-tau ${DEFAULT_GRID.tau.join(',')}] [--quadrature ${QUADRATURES.join('|')}] [--shard k/n | --jobs N] --out <dir>
                                                          choose α2, β2, τ on dev facts by the rule of docs/METHOD.md
  kn experiment report <dir> [--out <dir>] [--json]       Fig. 5, Table II, Fig. 4, selection sizes, knock-out: Markdown, CSV, SVG
  kn experiment merge <shard dir>... --out <dir>          join --shard outputs
      --jobs N (manipulate, readings, edit, inject, enhance, calibrate): N shard processes on this machine, merged into --out
      as one run; ${JOBS_MIN}..${JOBS_MAX}, default ${DEFAULT_JOBS_NOTE} (here ${defaultJobs(availableParallelism())}); --jobs 1: one process
${EDIT_HELP}
${ATLAS_HELP}
  kn backend [--backend webgpu|wasm|cpu] --json          which tfjs backend runs (and, for webgpu, the adapter)

Every command takes --backend webgpu|wasm|cpu (or a comma-separated order; KN_BACKEND when it is not given): the
tfjs backend, wasm by default. webgpu runs on Dawn's bindings (npm webgpu) over a Vulkan driver: the GPU vendor's,
or SwiftShader on the CPU with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (only when named alone).

Without --model, the bundled causal demo model is used when it exists.`;

export const DEFAULT_MODEL = 'bundled:demo-causal';

export function defaultModelArg(a: Args): string {
  const m = str(a, 'model');
  if (m) return m;
  if (existsSync(join(BUNDLED_DIR, 'demo-causal', 'kn-manifest.json'))) return DEFAULT_MODEL;
  throw new KnError('bad-input', '--model is required (no bundled demo model is installed)');
}

/** Loads the --model (or the demo model), refusing up front what the backend cannot hold. */
async function loadForCli(a: Args, dtype = dtypeArg(a)) {
  const backend = await nodeBackend();
  return loadModelArg(defaultModelArg(a), { dtype, maxDeviceBytes: backend.limits?.maxDeviceBytes, maxTensorBytes: backend.limits?.maxTensorBytes });
}

function dtypeArg(a: Args): WeightDtype {
  const d = str(a, 'dtype') ?? 'int8';
  if (d !== 'f32' && d !== 'int8') throw new KnError('bad-input', `--dtype must be f32 or int8, got "${d}"`);
  return d;
}

async function main(args: string[]): Promise<unknown> {
  // --backend (else KN_BACKEND): one rule for every command (node-engine.ts), checked before anything runs
  const { value: backendFlag, rest: argv } = takeOption(args, 'backend');
  useBackend(cliBackendOrder(backendFlag));
  // data, eval and experiment parse their own options; kn reads only --model, --dtype and --help there
  const a = parseArgs(argv, { strict: !['data', 'eval', 'experiment', 'atlas', 'lape'].includes(argv[0]) });
  const cmd = a._[0];
  if (!cmd || a.help || cmd === 'help') {
    process.stdout.write(HELP + '\n');
    return undefined;
  }
  switch (cmd) {
    case 'backend':
      return nodeBackend();
    case 'probe': {
      const prompt = str(a, 'prompt');
      if (prompt === undefined) throw new KnError('bad-input', '--prompt is required');
      const topK = int(a, 'top', 1, 1000, 10)!;
      const model = await loadForCli(a);
      try {
        const r = await model.probe(prompt, { target: str(a, 'target'), topK });
        return {
          ids: r.ids,
          position: r.position,
          top: r.top.map((t) => ({ id: t.id, token: t.token, prob: t.prob })),
          ...(r.target ? { target: { text: r.target.text, id: r.target.id, prob: r.target.prob } } : {}),
        };
      } finally {
        model.dispose();
      }
    }
    case 'attribute':
    case 'localize': {
      const m = await import('./matrice-cmd');
      const model = await loadForCli(a);
      try {
        return cmd === 'attribute' ? await m.runAttribute(a, model) : await m.runLocalize(a, model);
      } finally {
        model.dispose();
      }
    }
    case 'fact': {
      const { runFact } = await import('./fact-cmd');
      const model = await loadForCli(a);
      try {
        return await runFact(a, model);
      } finally {
        model.dispose();
      }
    }
    case 'export': {
      const out = str(a, 'out');
      if (!out) throw new KnError('bad-input', '--out is required');
      await nodeBackend();
      const { exportKnBundle } = await import('./export');
      const model = await loadForCli(a, 'int8');
      try {
        return await exportKnBundle(model, str(a, 'model')!, out, (int(a, 'shard-mb', 1, 2048, 4) ?? 4) * 1024 * 1024);
      } finally {
        model.dispose();
      }
    }
    case 'data': {
      const { runDataCommand } = await import('./data-cmd');
      return runDataCommand(argv.slice(1));
    }
    case 'eval': {
      const { runEvalCommand } = await import('./data-cmd');
      const model = await loadForCli(a);
      try {
        return await runEvalCommand(argv.slice(1), model as never);
      } finally {
        model.dispose();
      }
    }
    case 'experiment': {
      const x = await import('./experiment-cmd');
      const sub = argv[1];
      const rest = argv.slice(2);
      const e = await import('./edit-cmd');
      const load = async (m: string | undefined, dtype: string | undefined) => {
        const args: Args = { _: [], ...(m ? { model: m } : {}), ...(dtype ? { dtype } : {}) };
        return { model: await loadForCli(args), arg: defaultModelArg(args) };
      };
      // --jobs defaults to the cores here; child processes start this same script (jobs.ts)
      const ctx = { defaultJobs: defaultJobs(availableParallelism()), self: [process.execPath, ...process.execArgv, process.argv[1]] };
      if (sub === 'manipulate' || sub === 'readings') return x.runExperiment(sub, rest, load, ctx);
      if (sub === 'edit' || sub === 'enhance' || sub === 'inject') return e.runEditCommand(sub, rest, load, ctx);
      if (sub === 'calibrate') return (await import('./calibrate-cmd')).runCalibrate(rest, load, ctx);
      if (sub === 'lape') return (await import('./atlas-cmd')).runLapeExperimentCommand(rest, load);
      // report and merge read the kind of experiment from the results folder
      if (sub === 'report' && (await (await import('./results')).resultsKind(rest.find((x) => !x.startsWith('-')))) === 'calibrate')
        return (await import('./calibrate-cmd')).runCalibrationReport(rest);
      if (sub === 'report') return (await e.isEditResults(rest)) ? e.runEditReport(rest) : x.runReport(rest);
      if (sub === 'merge' && (await (await import('./results')).resultsKind(rest.find((x) => !x.startsWith('-')))) === 'calibrate')
        return (await import('./calibrate-cmd')).runCalibrationMerge(rest);
      if (sub === 'merge') return (await e.isEditResults(rest)) ? e.runEditMerge(rest) : x.runMerge(rest);
      throw new KnError('bad-input', `unknown experiment "${sub ?? ''}"; one of manipulate, readings, calibrate, edit, enhance, inject, lape, report, merge`);
    }
    case 'atlas':
    case 'lape': {
      const at = await import('./atlas-cmd');
      const load = async (m: string | undefined, dtype: string | undefined) => {
        const args: Args = { _: [], ...(m ? { model: m } : {}), ...(dtype ? { dtype } : {}) };
        return { model: await loadForCli(args), arg: defaultModelArg(args) };
      };
      const self = [process.execPath, ...process.execArgv, process.argv[1]];
      return cmd === 'atlas' ? at.runAtlasCommand(argv.slice(1), load, { self }) : at.runLapeCommand(argv.slice(1), load);
    }
    default:
      throw new KnError('bad-input', `unknown command "${cmd}"; run "kn help"`);
  }
}

main(process.argv.slice(2)).then(
  (r) => {
    if (r !== undefined) process.stdout.write(JSON.stringify(r) + '\n');
  },
  (e) => {
    const code = e instanceof KnError ? e.code : 'internal';
    process.stderr.write(`kn: error [${code}]: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof KnError ? 2 : 1);
  },
);

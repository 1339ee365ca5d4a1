/** The GPU check's report: its shape, the structure check `run --dry` (and the test) applies, and its tables. */

/** the queries of the fact the check times (the tokenizers it borrows know English and French) */
export const FACT_QUERIES = {
  causal: [
    { prompt: 'The capital of France is', target: ' Paris' },
    { prompt: 'La capitale de la France est', target: ' Paris' },
    { prompt: 'Paris is the capital of', target: ' France' },
    { prompt: 'The official language of France is', target: ' French' },
  ],
  masked: [
    { prompt: 'The capital of France is [MASK] .', target: 'Paris' },
    { prompt: 'La capitale de la France est [MASK] .', target: 'Paris' },
    { prompt: 'Paris is the capital of [MASK] .', target: 'France' },
    { prompt: 'The official language of France is [MASK] .', target: 'French' },
  ],
};

/** the step a hard stop records: what was not reached is explained by it */
export const HARD_STOP_STEP = 'everything after this point';

export interface ModeRow {
  weights: 'f32' | 'packed-int8';
  device_weights?: string;
  load_s?: number;
  /** the first query: all layers, M steps, ⟨PAD⟩ baselines; the shaders compile here */
  first_query_s?: number;
  /** the same query again */
  query_s?: number;
  /** a fact of 28 queries, from the mean of the queries timed (fact_basis) */
  fact_s?: number;
  fact_basis?: string;
  tokens?: number;
  baselines?: number;
  device_bytes_per_param?: number;
}

export type TorchRow =
  | { skipped: string }
  | {
      load_s: number;
      first_query_s: number;
      query_s: number;
      ratio_ours_over_torch: number;
      ratio_int8_over_torch?: number;
      max_abs_diff: number;
      max_rel_diff: number;
      peak_bytes?: number;
    };

export interface ModelRow {
  name: string;
  repo: string;
  params: number;
  config: Record<string, unknown>;
  write_s: number;
  f32?: ModeRow;
  int8?: ModeRow;
  /** the same query's attributions, packed int8 against f32 (ours) */
  int8_vs_f32?: { max_abs_diff: number; max_rel_diff: number };
  torch?: TorchRow;
}

export interface GpuCheckReport {
  tool: 'kn gpu-check';
  dry: boolean;
  started_at: string;
  budget_s: number;
  wall_s: number;
  host: { cpus: number; memory_gib: number; node: string; platform: string; gpu: string | null };
  settings: { shapes: 'real' | 'dry'; steps: number; baseline: 'pad'; quadrature: string; fact_queries: number; fact_sample: number; layers: 'all' };
  backend: { name: string; detail: string | null; limits: Record<string, unknown> | null } | null;
  adapter: { vendor: string; architecture: string; device: string; description: string; software: string | null } | null;
  /** by matrix size n (n × n · n × n) */
  matmul_gflops: Record<string, number>;
  int8_matmul_gflops: Record<string, number>;
  models: ModelRow[];
  torch: { torch: string; transformers: string; device: string; device_name: string } | { skipped: string } | null;
  /** every step not done, and why */
  skipped: { step: string; reason: string }[];
  /** true when nothing was skipped */
  complete: boolean;
  structure_problems?: string[];
}

const isNum = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
const isPos = (x: unknown) => isNum(x) && (x as number) > 0;

/**
 * What is wrong with a report's structure (empty: nothing). Any report: the fields and their types, and every model
 * entry explained (a number or a skipped step naming it). A dry run must also be whole: the adapter, both kernel
 * rates, and for every model both weight modes timed and PyTorch compared or skipped with a reason.
 */
export function validateReport(r: GpuCheckReport): string[] {
  const p: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) p.push(what);
  };
  need(r.tool === 'kn gpu-check', 'tool');
  need(typeof r.dry === 'boolean', 'dry');
  need(isPos(r.budget_s), 'budget_s');
  need(isNum(r.wall_s), 'wall_s');
  need(!!r.host && isPos(r.host.cpus) && typeof r.host.node === 'string', 'host');
  need(!!r.settings && isPos(r.settings.steps) && r.settings.fact_queries === 28, 'settings');
  need(Array.isArray(r.skipped) && r.skipped.every((s) => typeof s.step === 'string' && typeof s.reason === 'string' && s.reason.length > 0), 'skipped[]');
  need(Array.isArray(r.models), 'models[]');
  for (const [k, v] of Object.entries(r.matmul_gflops ?? {})) need(isPos(v), `matmul_gflops.${k}`);
  for (const [k, v] of Object.entries(r.int8_matmul_gflops ?? {})) need(isPos(v), `int8_matmul_gflops.${k}`);
  if (r.adapter) {
    for (const k of ['vendor', 'architecture', 'device', 'description'] as const) need(typeof r.adapter[k] === 'string', `adapter.${k}`);
    need(r.adapter.software === null || typeof r.adapter.software === 'string', 'adapter.software');
  }
  const hardStopped = r.skipped.some((s) => s.step === HARD_STOP_STEP);
  const skippedAbout = (name: string) => hardStopped || r.skipped.some((s) => s.step.startsWith(name));
  for (const m of r.models ?? []) {
    need(typeof m.name === 'string' && isPos(m.params), `models[${m.name}].params`);
    for (const mode of ['f32', 'int8'] as const) {
      const row = m[mode];
      const label = `${m.name} ${mode === 'f32' ? 'f32' : 'packed-int8'}`;
      if (!row) {
        need(skippedAbout(label), `models[${m.name}].${mode}: neither measured nor skipped`);
        continue;
      }
      if (row.query_s === undefined) need(skippedAbout(label), `models[${m.name}].${mode}.query_s: neither measured nor skipped`);
      for (const k of ['load_s', 'first_query_s', 'query_s', 'fact_s', 'device_bytes_per_param'] as const) {
        if (row[k] !== undefined) need(isPos(row[k]), `models[${m.name}].${mode}.${k}`);
      }
      if (row.fact_s !== undefined) need(typeof row.fact_basis === 'string', `models[${m.name}].${mode}.fact_basis`);
    }
    if (m.torch && !('skipped' in m.torch)) {
      for (const k of ['query_s', 'ratio_ours_over_torch'] as const) need(isPos(m.torch[k]), `models[${m.name}].torch.${k}`);
      for (const k of ['max_abs_diff', 'max_rel_diff'] as const) need(isNum(m.torch[k]), `models[${m.name}].torch.${k}`);
    } else if (m.torch) need(m.torch.skipped.length > 0, `models[${m.name}].torch.skipped`);
  }
  if (r.dry && r.settings?.shapes === 'dry') {
    need(!!r.adapter, 'adapter (dry run)');
    need(Object.keys(r.matmul_gflops).length > 0 && Object.keys(r.int8_matmul_gflops).length > 0, 'kernel rates (dry run)');
    need(r.models.length > 0, 'models (dry run)');
    for (const m of r.models) {
      need(isPos(m.f32?.query_s) && isPos(m.int8?.query_s), `models[${m.name}]: both weight modes timed (dry run)`);
      need(isPos(m.f32?.fact_s) && isPos(m.int8?.fact_s), `models[${m.name}]: the fact extrapolated (dry run)`);
      need(!!m.torch, `models[${m.name}].torch: compared or skipped with a reason (dry run)`);
    }
  }
  return p;
}

const f = (x: number | undefined, d = 2) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const e = (x: number | undefined) => (x === undefined ? '—' : x.toExponential(1));

/** the report as Markdown tables (what docs/PERFORMANCE.md takes) */
export function markdownTables(r: GpuCheckReport): string {
  const out: string[] = [];
  const a = r.adapter;
  out.push(`GPU check${r.dry ? ' (DRY RUN: tiny shapes, software adapter)' : ''}, ${r.started_at}, ${r.wall_s.toFixed(0)} s of a ${r.budget_s} s budget`);
  out.push('');
  out.push('| adapter | software | GPU (nvidia-smi) | dense f32 matmul GFLOP/s | packed int8 matmul GFLOP/s | PyTorch |');
  out.push('|---|---|---|---|---|---|');
  const rates = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([n, v]) => `${v.toFixed(1)} (${n}³)`)
      .join(', ') || '—';
  const t = r.torch;
  const torch = !t ? '—' : 'skipped' in t ? `skipped: ${t.skipped}` : `${t.torch}, transformers ${t.transformers}, ${t.device_name}`;
  out.push(
    `| ${a ? [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') : '—'} | ${a ? (a.software ?? 'no') : '—'} | ${r.host.gpu ?? '—'} | ${rates(r.matmul_gflops)} | ${rates(r.int8_matmul_gflops)} | ${torch} |`,
  );
  out.push('');
  out.push(
    `One query = all layers, M = ${r.settings.steps} (${r.settings.quadrature}), ⟨PAD⟩ baselines; a fact = ${r.settings.fact_queries} queries (7 languages × 4), extrapolated from the queries timed.`,
  );
  out.push('');
  out.push(
    '| model (random weights) | params | tokens × baselines | weights | load s | first query s | query s | fact s | device B/param | PyTorch query s | ours ÷ PyTorch | max diff (rel) |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const m of r.models) {
    for (const mode of ['f32', 'int8'] as const) {
      const row = m[mode];
      const tr = m.torch;
      const tcells =
        mode === 'f32'
          ? !tr
            ? ['—', '—', '—']
            : 'skipped' in tr
              ? ['skipped', '—', '—']
              : [f(tr.query_s), f(tr.ratio_ours_over_torch), `${e(tr.max_abs_diff)} (${e(tr.max_rel_diff)})`]
          : [
              '',
              tr && !('skipped' in tr) && tr.ratio_int8_over_torch !== undefined ? f(tr.ratio_int8_over_torch) : '',
              m.int8_vs_f32 ? `vs f32: ${e(m.int8_vs_f32.max_abs_diff)} (${e(m.int8_vs_f32.max_rel_diff)})` : '—',
            ];
      out.push(
        `| ${mode === 'f32' ? m.name : ''} | ${mode === 'f32' ? (m.params / 1e6).toFixed(1) + 'M' : ''} | ${row?.tokens !== undefined ? `${row.tokens} × ${row.baselines}` : '—'} | ${mode === 'f32' ? 'f32' : 'packed int8'} | ${f(row?.load_s, 1)} | ${f(row?.first_query_s)} | ${f(row?.query_s)} | ${f(row?.fact_s, 1)} | ${row?.device_bytes_per_param?.toFixed(2) ?? '—'} | ${tcells.join(' | ')} |`,
      );
    }
  }
  if (r.skipped.length) {
    out.push('');
    out.push('Skipped:');
    for (const s of r.skipped) out.push(`- ${s.step}: ${s.reason}`);
  }
  if (r.structure_problems?.length) {
    out.push('');
    out.push(`Structure problems: ${r.structure_problems.join('; ')}`);
  }
  return out.join('\n');
}

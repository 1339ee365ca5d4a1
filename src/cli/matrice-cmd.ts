/** CLI: `kn attribute` (one query) and `kn localize` (a fact of RML-LAMA across languages). */
import { join } from 'node:path';
import { KnError } from '../engine/errors';
import { attributeQuery, completenessError } from '../engine/matrice/attribute';
import { attributeFact, manipulate, METHODS, perLanguage, selectNeurons, type Method, type QuerySpec } from '../engine/matrice/experiments';
import { normalizePerLayer, type AttrNorm, type LangNorm } from '../engine/matrice/scoring';
import type { LoadedModel } from '../engine/model';
import { FolderStore, REPO_ROOT } from '../engine/source-node';
import { causalQuery, maskedQuery } from '../data/queries';
import { LANGS, type Lang, type Relation } from '../data/types';
import { openLocal } from '../data/node';
import { int, str, type Args } from './args';

export const ATTRIBUTION_CACHE = process.env.KN_CACHE_DIR ?? join(REPO_ROOT, '.cache', 'attributions');

function num(a: Args, k: string, lo: number, hi: number, fallback?: number): number | undefined {
  const v = str(a, k);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new KnError('bad-input', `--${k} must be a number in ${lo}..${hi}, got "${v}"`);
  return n;
}

function baselineArg(a: Args): 'pad' | 'zero' {
  const b = str(a, 'baseline') ?? 'pad';
  if (b !== 'pad' && b !== 'zero') throw new KnError('bad-input', `--baseline must be pad or zero, got "${b}"`);
  return b;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

export async function runAttribute(a: Args, model: LoadedModel) {
  const prompt = str(a, 'prompt'), target = str(a, 'target');
  if (prompt === undefined) throw new KnError('bad-input', '--prompt is required');
  if (target === undefined) throw new KnError('bad-input', '--target is required');
  const steps = Number(str(a, 'steps') ?? 20);
  const r = await attributeQuery(model, prompt, target, { steps, baseline: baselineArg(a) });
  const scores = normalizePerLayer(r.raw).scores;
  return {
    ids: r.ids,
    position: r.position,
    targetId: r.targetId,
    steps: r.steps,
    baseline: r.baseline,
    raw: r.raw.map((l) => Array.from(l, round)),
    scores: scores.map((l) => Array.from(l, round)),
    pTarget: r.pFull,
    completeness: completenessError(r),
  };
}

export async function factQueries(model: LoadedModel, relation: string, factArg: string, langs: Lang[]): Promise<QuerySpec[]> {
  const rml = await openLocal();
  const id = factArg.includes(':') ? factArg : `${relation}:${factArg}`;
  if (relation && !id.startsWith(relation + ':')) throw new KnError('bad-input', `fact "${factArg}" is not in relation ${relation}`);
  const out: QuerySpec[] = [];
  for (const lang of langs) {
    const fact = await rml.fact(id, lang);
    const shard = await rml.shard(id.split(':')[0] as Relation, lang);
    for (const t of shard.templates) {
      const q = model.info.kind === 'causal' ? causalQuery(t, fact) : t.causal ? maskedQuery(t, fact, model.tok.maskToken!) : null;
      if (q) out.push({ lang, templateId: t.id, ...q });
    }
  }
  return out;
}

export function langsArg(a: Args): Lang[] {
  const v = str(a, 'langs');
  if (!v) return [...LANGS];
  const ls = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const l of ls) if (!(LANGS as readonly string[]).includes(l)) throw new KnError('bad-input', `unknown language "${l}"; one of ${LANGS.join(', ')}`);
  return ls as Lang[];
}

export async function runLocalize(a: Args, model: LoadedModel) {
  const relation = str(a, 'relation'), fact = str(a, 'fact');
  if (!fact) throw new KnError('bad-input', '--fact is required (e.g. --relation P36 --fact 0, or --fact P36:0)');
  const method = (str(a, 'method') ?? 'matrice') as Method;
  if (!METHODS.includes(method)) throw new KnError('bad-input', `--method must be one of ${METHODS.join(', ')}, got "${method}"`);
  const tau = num(a, 'tau', 0, 1, 0.2)!;
  const factId = fact.includes(':') ? fact : `${relation}:${fact}`;
  const queries = await factQueries(model, relation ?? '', fact, langsArg(a));
  const steps = int(a, 'steps', 1, 1000, 20)!;
  const store = a['no-cache'] ? undefined : new FolderStore(ATTRIBUTION_CACHE);
  const t0 = performance.now();
  const { queries: attributed, fa } = await attributeFact(model, queries, { steps, baseline: baselineArg(a), store });
  const seconds = (performance.now() - t0) / 1000;
  const settings = { tau, norm: (str(a, 'norm') ?? 'language') as LangNorm, attrNorm: (str(a, 'attr-norm') ?? 'layer') as AttrNorm };
  const sel = selectNeurons(fa, method, settings, int(a, 'seed', 0, 2 ** 31, 1));
  const suppress = perLanguage(await manipulate(model, queries, sel.neurons, 0));
  const enhance = perLanguage(await manipulate(model, queries, sel.neurons, 2));
  const languages: Record<string, unknown> = {};
  for (const l of Object.keys(suppress)) {
    languages[l] = {
      queries: suppress[l].n,
      before: suppress[l].before,
      suppressed: suppress[l].after,
      enhanced: enhance[l].after,
      deltaP_suppress: suppress[l].deltaP,
      deltaP_enhance: enhance[l].deltaP,
    };
  }
  return {
    fact: factId,
    method,
    tau,
    norm: settings.norm,
    attrNorm: settings.attrNorm,
    steps,
    neurons: sel.neurons,
    scores: sel.scores,
    threshold: sel.threshold,
    languages,
    queries: attributed.length,
    cachedQueries: attributed.filter((q) => q.cached).length,
    seconds: Math.round(seconds * 100) / 100,
    maxCompletenessError: Math.max(...attributed.map((q) => q.completeness.maxAbs)),
  };
}

/**
 * The explorer's worker-side state: the benchmark, the current fact, its attributions (kept after
 * `localize`), and the cached "before" probabilities for live manipulation. Pure engine calls, no DOM:
 * runs in the Web Worker (and in Node for tests, with a memory store and a local benchmark).
 */
import { KnError } from '../engine/errors';
import type { LoadedModel } from '../engine/model';
import { completenessError } from '../engine/matrice/attribute';
import type { BytesStore } from '../engine/matrice/cache';
import { attributeFact, METHODS, queryCacheKey, selectNeurons, type AttributedQuery, type Method, type QuerySpec } from '../engine/matrice/experiments';
import {
  deltaP,
  layerDistribution,
  neuronStats as engineNeuronStats,
  resolveSettings,
  scoreMatrice,
  scoreNoUaQ,
  type FactAttributions,
  type MatriceResult,
  type MatriceSettings,
  type NeuronId,
} from '../engine/matrice/scoring';
import type { RmlLama } from '../data/loader';
import { causalQuery, maskedQuery } from '../data/queries';
import { LANGS, RELATIONS, type Lang, type Relation } from '../data/types';
import type {
  AttributionsExport,
  FactList,
  FactQueries,
  FactQueryRow,
  LocalizeOptions,
  LocalizeProgress,
  LocalizeResult,
  ManipulateResult,
  NeuronStatsResult,
  ScoreResult,
  TopToken,
} from './api';

interface QueryWithId extends QuerySpec {
  templateId: string;
}

interface Current {
  modelHash: string;
  factId: string;
  langs: string[];
  queries: QueryWithId[];
  /** per query: P(correct), rank and top-k without intervention, keyed by prompt + target */
  before: Map<string, { prob: number; rank: number; top: TopToken[]; topK: number }>;
  attributed?: AttributedQuery[];
  fa?: FactAttributions;
  steps?: number;
  baseline?: 'pad' | 'zero';
  /** MaTrice result of the last settings (neuronStats reuses it) */
  matrice?: { key: string; r: MatriceResult };
}

const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

function checkLangs(langs: string[]): Lang[] {
  if (!Array.isArray(langs) || langs.length === 0) throw new KnError('bad-input', 'choose at least one language');
  for (const l of langs) if (!(LANGS as readonly string[]).includes(l)) throw new KnError('bad-input', `unknown language "${l}"; one of ${LANGS.join(', ')}`);
  return [...new Set(langs)] as Lang[];
}

function parseFactId(id: string): Relation {
  const m = /^(P\d+):(\d+)$/.exec(String(id));
  if (!m || !(RELATIONS as readonly string[]).includes(m[1])) {
    throw new KnError('bad-input', `unknown fact id "${id}" (expected <relation>:<lineid>, e.g. P36:0, with a relation of ${RELATIONS.join(', ')})`);
  }
  return m[1] as Relation;
}

export class ExplorerState {
  private cur: Current | null = null;
  private localizing: AbortController | null = null;

  constructor(
    private getModel: () => LoadedModel | null,
    private bench: () => Promise<RmlLama>,
    private store: BytesStore | undefined,
  ) {}

  private model(): LoadedModel {
    const m = this.getModel();
    if (!m) throw new KnError('bad-input', 'no model is loaded');
    return m;
  }

  /** Drop everything tied to the model (called when a model is loaded or lost). */
  reset(): void {
    this.localizing?.abort();
    this.cur = null;
  }

  cancel(): void {
    this.localizing?.abort();
  }

  async listFacts(relation: string, query = '', limit = 50): Promise<FactList> {
    if (!(RELATIONS as readonly string[]).includes(relation)) throw new KnError('bad-input', `unknown relation "${relation}"; one of ${RELATIONS.join(', ')}`);
    const b = await this.bench();
    const shards = await Promise.all(LANGS.map((l) => b.shard(relation as Relation, l)));
    const q = fold(query.trim());
    const facts: FactList['facts'] = [];
    let total = 0;
    const base = shards[0].facts;
    for (let i = 0; i < base.length; i++) {
      let matchedLang: string | undefined;
      if (q) {
        for (const s of shards) {
          const f = s.facts[i];
          if (f && fold(f.subject).includes(q)) {
            matchedLang = s.lang;
            break;
          }
        }
        if (!matchedLang) continue;
      }
      total++;
      if (facts.length >= limit) continue;
      const labels: Record<string, { subject: string; object: string }> = {};
      for (const s of shards) {
        const f = s.facts[i];
        if (f && f.id === base[i].id) labels[s.lang] = { subject: f.subject, object: f.object };
      }
      facts.push({ id: base[i].id, relation, labels, ...(matchedLang ? { matchedLang } : {}) });
    }
    return { relation, facts, total };
  }

  /** The fact's queries for the model's kind (causal: object-last templates; masked: the same templates' masked form). */
  private async buildQueries(factId: string, langs: Lang[]) {
    const model = this.model();
    const relation = parseFactId(factId);
    const b = await this.bench();
    const labels: Record<string, { subject: string; object: string }> = {};
    const queries: QueryWithId[] = [];
    const skipped: FactQueries['skipped'] = [];
    for (const lang of langs) {
      const fact = await b.fact(factId, lang);
      labels[lang] = { subject: fact.subject, object: fact.object };
      const shard = await b.shard(relation, lang);
      for (const t of shard.templates) {
        if (!t.causal) continue; // the same templates for both kinds: object-last ones
        const q = model.info.kind === 'causal' ? causalQuery(t, fact) : maskedQuery(t, fact, model.tok.maskToken ?? '[MASK]');
        if (!q) continue;
        try {
          const enc = model.tok.encodeQuery(q.prompt);
          model.checkLength(enc.ids.length);
          model.tok.targetId(q.prompt, q.target);
          queries.push({ lang, templateId: t.id, prompt: q.prompt, target: q.target });
        } catch (e) {
          skipped.push({ lang, templateId: t.id, reason: e instanceof Error ? e.message : String(e) });
        }
      }
    }
    return { relation, labels, queries, skipped };
  }

  private ensureCurrent(factId: string, langs: string[], queries: QueryWithId[]): Current {
    const hash = this.model().info.contentHash;
    const c = this.cur;
    const same =
      c &&
      c.modelHash === hash &&
      c.factId === factId &&
      c.queries.length === queries.length &&
      c.queries.every((q, i) => q.prompt === queries[i].prompt && q.target === queries[i].target);
    if (same) return c!;
    this.cur = { modelHash: hash, factId, langs, queries, before: new Map() };
    return this.cur;
  }

  private async before(c: Current, q: QuerySpec, topK: number) {
    const key = `${q.prompt}\u0000${q.target}`;
    const hit = c.before.get(key);
    if (hit && hit.topK >= topK) return hit;
    const r = await this.model().probe(q.prompt, { target: q.target, topK });
    const v = { prob: r.target!.prob, rank: r.target!.rank, top: r.top.map((t) => ({ token: t.token, prob: t.prob })), topK };
    c.before.set(key, v);
    return v;
  }

  async factQueries(factId: string, langs: string[], topK = 5): Promise<FactQueries> {
    const ls = checkLangs(langs);
    const built = await this.buildQueries(factId, ls);
    const c = this.ensureCurrent(factId, ls, built.queries);
    const model = this.model();
    const rows: FactQueryRow[] = [];
    for (const q of built.queries) {
      const b = await this.before(c, q, topK);
      const targetId = model.tok.targetId(q.prompt, q.target);
      rows.push({
        lang: q.lang,
        templateId: q.templateId,
        prompt: q.prompt,
        target: q.target,
        targetToken: model.tok.display(targetId),
        pCorrect: b.prob,
        rank: b.rank,
        correct: b.rank === 0,
        top: b.top.slice(0, topK),
      });
    }
    return { factId, relation: built.relation, labels: built.labels, langs: ls, queries: rows, skipped: built.skipped };
  }

  private async allCached(model: LoadedModel, queries: QuerySpec[], steps: number, baseline: string): Promise<boolean> {
    if (!this.store) return false;
    for (const q of queries) {
      const key = await queryCacheKey(model, q, { steps, baseline: baseline as 'pad' | 'zero' });
      if (!(await this.store.get(key))) return false;
    }
    return true;
  }

  async localize(factId: string, opts: LocalizeOptions, onProgress?: (p: LocalizeProgress) => void): Promise<LocalizeResult> {
    const model = this.model();
    const ls = checkLangs(opts.langs);
    const steps = opts.steps ?? 20;
    if (!Number.isInteger(steps) || steps < 1 || steps > 1000) throw new KnError('bad-input', `steps (M) must be an integer in 1..1000, got ${steps}`);
    const baseline = opts.baseline ?? 'pad';
    if (baseline !== 'pad' && baseline !== 'zero') throw new KnError('bad-input', `baseline must be pad or zero, got "${baseline}"`);
    const built = await this.buildQueries(factId, ls);
    if (built.queries.length === 0) throw new KnError('bad-input', `fact ${factId} has no usable query in ${ls.join(', ')} for this model`);
    const base = {
      factId,
      langs: ls,
      steps,
      baseline,
      numLayers: model.cfg.numLayers,
      ffnSize: model.cfg.ffn,
      skipped: built.skipped,
    };
    if (opts.cacheOnly && !(await this.allCached(model, built.queries, steps, baseline))) {
      return { ...base, complete: false, queries: [], cachedCount: 0, maxCompleteness: { maxAbs: 0, maxRel: 0 }, ms: 0 };
    }
    this.localizing?.abort();
    const ctl = new AbortController();
    this.localizing = ctl;
    const t0 = performance.now();
    let last = 0;
    try {
      const { queries, fa } = await attributeFact(model, built.queries, {
        steps,
        baseline,
        store: this.store,
        signal: ctl.signal,
        onProgress: (p) => {
          if (!onProgress) return;
          const now = performance.now();
          const done = p.queriesDone === p.queriesTotal && p.pointsTotal === 0;
          if (now - last < 100 && !done) return;
          last = now;
          const elapsedMs = now - t0;
          const frac = (p.queriesDone + (p.pointsTotal > 0 ? p.pointsDone / p.pointsTotal : 0)) / p.queriesTotal;
          const etaMs = frac > 0.02 ? (elapsedMs / frac) * (1 - frac) : null;
          void onProgress({ ...p, elapsedMs, etaMs });
        },
      });
      if (ctl.signal.aborted) throw new KnError('cancelled', 'localization cancelled');
      const c = this.ensureCurrent(factId, ls, built.queries);
      c.attributed = queries;
      c.fa = fa;
      c.steps = steps;
      c.baseline = baseline;
      c.matrice = undefined;
      let maxAbs = 0, maxRel = 0;
      for (const q of queries) {
        maxAbs = Math.max(maxAbs, q.completeness.maxAbs);
        maxRel = Math.max(maxRel, q.completeness.maxRel);
      }
      return {
        ...base,
        complete: true,
        queries: queries.map((q) => ({
          lang: q.lang,
          templateId: q.templateId ?? '',
          prompt: q.prompt,
          target: q.target,
          cached: q.cached,
          completeness: completenessError(q.attribution),
          pFull: q.attribution.pFull,
        })),
        cachedCount: queries.filter((q) => q.cached).length,
        maxCompleteness: { maxAbs, maxRel },
        ms: performance.now() - t0,
      };
    } catch (e) {
      if (ctl.signal.aborted) throw new KnError('cancelled', 'localization cancelled');
      throw e;
    } finally {
      if (this.localizing === ctl) this.localizing = null;
    }
  }

  private localized(): Current & { fa: FactAttributions } {
    const c = this.cur;
    if (!c || !c.fa || c.modelHash !== this.getModel()?.info.contentHash) throw new KnError('bad-input', 'localize a fact first');
    return c as Current & { fa: FactAttributions };
  }

  private matriceFor(c: Current & { fa: FactAttributions }, s: MatriceSettings): MatriceResult {
    const key = JSON.stringify(s);
    if (c.matrice?.key === key) return c.matrice.r;
    const r = scoreMatrice(c.fa, s);
    c.matrice = { key, r };
    return r;
  }

  score(method: Method, settings: Partial<MatriceSettings>, seed = 1, maxCells = 65536): ScoreResult {
    const t0 = performance.now();
    if (!METHODS.includes(method)) throw new KnError('bad-input', `unknown method "${method}"; one of ${METHODS.join(', ')}`);
    const c = this.localized();
    const s = resolveSettings(settings);
    const heat = method === 'no-uaq' ? scoreNoUaQ(c.fa, s) : this.matriceFor(c, s);
    const sel = method === 'matrice' ? { neurons: heat.selected } : method === 'no-uaq' ? { neurons: heat.selected } : selectNeurons(c.fa, method, s, seed);
    const { numLayers, ffnSize } = c.fa;
    const bin = Math.max(1, Math.ceil((numLayers * ffnSize) / Math.max(1, maxCells)));
    const S = heat.S.map((row) => {
      if (bin === 1) return Array.from(row, (v) => (Number.isFinite(v) ? v : 0));
      const out: number[] = [];
      for (let j = 0; j < row.length; j += bin) {
        let m = -Infinity;
        for (let k = j; k < Math.min(row.length, j + bin); k++) if (Number.isFinite(row[k]) && row[k] > m) m = row[k];
        out.push(m === -Infinity ? 0 : m);
      }
      return out;
    });
    return {
      method,
      heatmapOf: method === 'no-uaq' ? 'no-uaq' : 'matrice',
      S,
      bin,
      numLayers,
      ffnSize,
      selected: sel.neurons,
      threshold: method === 'matrice' || method === 'no-uaq' || method === 'random' ? heat.threshold : null,
      maxS: heat.maxS,
      layerDistribution: layerDistribution(sel.neurons, numLayers),
      warnings: heat.warnings.length,
      ms: performance.now() - t0,
    };
  }

  neuronStats(neuron: NeuronId, settings: Partial<MatriceSettings>): NeuronStatsResult {
    const c = this.localized();
    const s = resolveSettings(settings);
    const st = engineNeuronStats(c.fa, s, neuron, this.matriceFor(c, s));
    return {
      neuron: st.neuron,
      perLanguage: st.languages.map((lang) => ({ lang, value: st.perLanguage[lang].normalized, raw: st.perLanguage[lang].s })),
      mean: st.mean,
      std: st.std,
      S: st.S,
      threshold: st.threshold,
      selected: st.selected,
    };
  }

  async manipulate(neurons: NeuronId[], factor: number, topK = 5): Promise<ManipulateResult> {
    const t0 = performance.now();
    const c = this.cur;
    if (!c || c.modelHash !== this.getModel()?.info.contentHash) throw new KnError('bad-input', 'choose a fact first');
    if (!Number.isFinite(factor)) throw new KnError('bad-input', `the scale factor must be a finite number, got ${factor}`);
    const model = this.model();
    const ns = neurons.map((n) => [n[0], n[1]] as NeuronId);
    const rows: ManipulateResult['rows'] = [];
    // all queries in a few batched forwards (grouped by length), not one forward per query
    const afters = ns.length ? await model.probeMany(c.queries, { topK, intervention: { neurons: ns, factor } }) : null;
    for (const [i, q] of c.queries.entries()) {
      const b = await this.before(c, q, topK);
      const a = afters ? afters[i] : null;
      const after = a ? a.target!.prob : b.prob;
      rows.push({
        lang: q.lang,
        templateId: q.templateId,
        prompt: q.prompt,
        target: q.target,
        before: b.prob,
        after,
        deltaP: deltaP(b.prob, after),
        correctBefore: b.rank === 0,
        correctAfter: a ? a.target!.rank === 0 : b.rank === 0,
        topBefore: b.top.slice(0, topK),
        topAfter: a ? a.top.map((t) => ({ token: t.token, prob: t.prob })) : b.top.slice(0, topK),
      });
    }
    return { factor, neurons: ns, rows, ms: performance.now() - t0 };
  }

  exportAttributions(): AttributionsExport | null {
    const c = this.cur;
    if (!c?.fa || !c.attributed) return null;
    const languages: AttributionsExport['languages'] = {};
    const F = c.fa.ffnSize;
    for (const q of c.attributed) {
      const flat = new Float32Array(c.fa.numLayers * F);
      q.attribution.raw.forEach((r, l) => flat.set(r, l * F));
      (languages[q.lang] ??= { queries: [] }).queries.push({ text: q.prompt, templateId: q.templateId ?? '', raw: flat });
    }
    return {
      factId: c.factId,
      steps: c.steps ?? 20,
      baseline: c.baseline ?? 'pad',
      numLayers: c.fa.numLayers,
      ffnSize: F,
      modelHash: c.modelHash,
      languages,
    };
  }
}

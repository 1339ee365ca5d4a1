/**
 * Training data for the demo models, from RML-LAMA (public/data/rml-lama).
 *
 * - Facts: the first `perRelation` facts of every relation (by line id) whose labels are short enough,
 *   with one object per subject; every fact in all 7 languages. With `minRelations` (v2: 2), only facts
 *   whose subject (English label) has a fact in at least that many relations are kept, so an entity's
 *   representation serves several facts. Trained facts are split into `devFacts` (≈ 25 %, per relation,
 *   seeded: for choosing the recipe) and `testFacts` (the rest: never used to choose it).
 * - Templates: per relation x language, the first 3 causal templates are trained and the 4th is held out
 *   (paraphrase generalization). The masked model uses the masked forms of the same templates.
 * - Examples per epoch: every fact x language x trained template; code-switched queries (a template of
 *   language A with the subject's name in language B, the object in A); name-link lines that pair an
 *   entity's names in all 7 languages ("France = Ranska = 法国 = …", random order), so the model has
 *   reason to give one entity one representation across languages.
 * All token ids come from the engine's own tokenizer wrapper (KnTokenizer), so what is trained is what
 * the engine probes.
 */
import { openLocal } from '../../src/data/node';
import { causalQuery, maskedQuery } from '../../src/data/queries';
import { LANGS, RELATIONS, type Lang, type Relation, type Shard } from '../../src/data/types';
import type { KnTokenizer } from '../../src/engine/families/tokenizer';

export interface DemoFact {
  id: string;
  relation: Relation;
  subject: Record<Lang, string>;
  object: Record<Lang, string>;
}

export interface TemplateSplit {
  trained: string[];
  heldout: string[];
}

/** What split.json (shipped beside a demo model) holds. */
export interface DemoSplit {
  format: 'kn-demo-split';
  version: 1;
  kind: 'causal' | 'masked';
  facts: Record<string, string[]>;
  templates: Record<string, Record<string, TemplateSplit>>;
  /** disjoint subsets of the trained facts: dev (≈ 25 %, for choosing the recipe) and test (the rest) */
  devFacts?: string[];
  testFacts?: string[];
}

export interface DataOptions {
  perRelation?: number;
  trainedPerLang?: number;
  /** keep only facts whose subject has facts in at least this many relations (1 = all) */
  minRelations?: number;
  /** share of each relation's facts put in devFacts (default 0.25) */
  devShare?: number;
}

export interface DemoData {
  facts: DemoFact[];
  shards: Map<string, Shard>; // `${rel}.${lang}`
  split: Omit<DemoSplit, 'kind'>;
}

export const MAX_LABEL_CHARS = 28;

/** The fixed seed of the dev/test fact split (the same for both models and every recipe). */
export const DEV_SPLIT_SEED = 20260;

export async function loadDemoData(opts: DataOptions | number = {}, trainedPerLangArg = 3): Promise<DemoData> {
  const o: DataOptions = typeof opts === 'number' ? { perRelation: opts, trainedPerLang: trainedPerLangArg } : opts;
  const perRelation = o.perRelation ?? 60,
    trainedPerLang = o.trainedPerLang ?? 3,
    minRelations = o.minRelations ?? 1;
  const bench = await openLocal();
  const shards = new Map<string, Shard>();
  const facts: DemoFact[] = [];
  const split: DemoData['split'] = { format: 'kn-demo-split', version: 1, facts: {}, templates: {} };
  const labelOk = (rel: string, i: number) => {
    for (const l of LANGS) {
      const f = shards.get(`${rel}.${l}`)!.facts[i];
      if (f.subject.length > MAX_LABEL_CHARS || f.object.length > MAX_LABEL_CHARS || f.subject.includes('=')) return false;
    }
    return true;
  };
  // subjects (English label) per relation, among the facts whose labels are usable
  const relsOf = new Map<string, Set<string>>();
  for (const rel of RELATIONS) {
    for (const l of LANGS) shards.set(`${rel}.${l}`, await bench.shard(rel, l));
    const en = shards.get(`${rel}.en`)!;
    en.facts.forEach((f, i) => {
      if (!labelOk(rel, i)) return;
      (relsOf.get(f.subject) ?? relsOf.set(f.subject, new Set()).get(f.subject)!).add(rel);
    });
  }
  for (const rel of RELATIONS) {
    const per = {} as Record<Lang, Shard>;
    for (const l of LANGS) per[l] = shards.get(`${rel}.${l}`)!;
    const seen = new Set<string>();
    const chosen: string[] = [];
    for (let i = 0; i < per.en.facts.length && chosen.length < perRelation; i++) {
      const subject = {} as Record<Lang, string>;
      const object = {} as Record<Lang, string>;
      let ok = true;
      for (const l of LANGS) {
        const f = per[l].facts[i];
        if (f.id !== per.en.facts[i].id) throw new Error(`fact order differs in ${rel}.${l}`);
        subject[l] = f.subject;
        object[l] = f.object;
        if (f.subject.length > MAX_LABEL_CHARS || f.object.length > MAX_LABEL_CHARS || f.subject.includes('=')) ok = false;
      }
      if (ok && (relsOf.get(subject.en)?.size ?? 0) < minRelations) ok = false;
      if (!ok || seen.has(subject.en)) continue;
      seen.add(subject.en);
      chosen.push(per.en.facts[i].id);
      facts.push({ id: per.en.facts[i].id, relation: rel, subject, object });
    }
    split.facts[rel] = chosen;
    split.templates[rel] = {};
    for (const l of LANGS) {
      const causal = per[l].templates.filter((t) => t.causal);
      if (causal.length < trainedPerLang + 1) throw new Error(`${rel}.${l}: only ${causal.length} causal templates`);
      split.templates[rel][l] = {
        trained: causal.slice(0, trainedPerLang).map((t) => t.id),
        heldout: [causal[trainedPerLang].id],
      };
    }
  }
  // dev/test: per relation, a seeded shuffle; the first ≈ devShare go to dev
  const r = rng(DEV_SPLIT_SEED);
  split.devFacts = [];
  split.testFacts = [];
  for (const rel of RELATIONS) {
    const ids = shuffle([...split.facts[rel]], r);
    const nDev = Math.round(ids.length * (o.devShare ?? 0.25));
    split.devFacts.push(...ids.slice(0, nDev));
    split.testFacts.push(...ids.slice(nDev));
  }
  return { facts, shards, split };
}

export function template(data: DemoData, rel: string, lang: Lang, id: string) {
  const t = data.shards.get(`${rel}.${lang}`)!.templates.find((x) => x.id === id);
  if (!t) throw new Error(`template ${id} not found`);
  return t;
}

/** Every text the tokenizer should know: all queries (trained and held out) and the name lines. */
export function corpusTexts(data: DemoData): string[] {
  const out: string[] = [];
  for (const f of data.facts) {
    for (const l of LANGS) {
      const ts = data.split.templates[f.relation][l];
      for (const id of [...ts.trained, ...ts.heldout]) {
        const t = template(data, f.relation, l, id);
        const fact = { id: f.id, subject: f.subject[l], object: f.object[l] };
        const q = causalQuery(t, fact)!;
        out.push(q.prompt + q.target);
        out.push(maskedQuery(t, fact, f.object[l]).prompt);
      }
    }
    out.push(LANGS.map((l) => f.subject[l]).join(' = '));
    out.push(LANGS.map((l) => f.object[l]).join(' = '));
    // bare labels: a masked model's target is the object tokenized on its own (no leading space)
    for (let k = 0; k < 3; k++) for (const l of LANGS) out.push(f.subject[l], f.object[l]);
  }
  return out;
}

/** One training sequence: ids, and (position whose output predicts, label id) pairs. */
export interface Example {
  ids: number[];
  labels: [number, number][];
  /** base examples: the query's language (labels[0] is the target the engine checks) */
  lang?: Lang;
  /** masked queries built with MixOptions.subjectSpans: the subject's token positions [start, end) */
  subj?: [number, number];
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const MAX_OBJECT_TOKENS = 6;

/** Causal example: the query, then the object's tokens; loss on the object's tokens. */
export function causalExample(tok: KnTokenizer, prompt: string, target: string, maxLen: number): Example | null {
  const pre = tok.encodeQuery(prompt).ids;
  const first = tok.targetId(prompt, target);
  const full = tok.encode(prompt + target);
  const samePrefix = pre.length < full.length && pre.every((v, i) => full[i] === v);
  const rest = samePrefix ? full.slice(pre.length) : tok.encode(target, false);
  if (rest[0] !== first) return null;
  const obj = rest.slice(0, MAX_OBJECT_TOKENS);
  const ids = [...pre, ...obj.slice(0, -1)].slice(0, maxLen);
  const labels: [number, number][] = [];
  for (let i = 0; i < obj.length && pre.length - 1 + i < ids.length; i++) labels.push([pre.length - 1 + i, obj[i]]);
  return labels.length ? { ids, labels } : null;
}

/** Masked example: the sentence with one mask token where the object goes; label = its first token. */
export function maskedExample(tok: KnTokenizer, prompt: string, object: string, maxLen: number): Example | null {
  const q = tok.encodeQuery(prompt);
  if (q.ids.length > maxLen) return null;
  return { ids: q.ids, labels: [[q.position, tok.targetId(prompt, object)]] };
}

/** Name line: loss on every token after the first name (causal); random masking (masked). */
export function nameLineExample(tok: KnTokenizer, names: string[], kind: 'causal' | 'masked', r: () => number, maxLen: number): Example | null {
  const text = names.join(' = ');
  if (kind === 'causal') {
    const ids = tok.encode(text).slice(0, maxLen);
    const firstLen = tok.encode(names[0]).length;
    const labels: [number, number][] = [];
    for (let p = firstLen - 1; p + 1 < ids.length; p++) labels.push([p, ids[p + 1]]);
    return labels.length ? { ids, labels } : null;
  }
  const ids = tok.encode(text).slice(0, maxLen);
  const labels: [number, number][] = [];
  const out = [...ids];
  for (let p = 0; p < ids.length; p++) {
    if (tok.specialIds.has(ids[p])) continue;
    if (r() < 0.2) {
      labels.push([p, ids[p]]);
      out[p] = tok.maskId!;
    }
  }
  return labels.length ? { ids: out, labels } : null;
}

/** What goes into an epoch besides the base queries (v1 values as defaults). */
export interface MixOptions {
  /** code-switched queries per fact (template + object in A, subject in B) */
  codeSwitch?: number;
  /** share of the objects whose name-link line is in an epoch (v1 0.5, v2 1) */
  objectLineShare?: number;
  /** "name A = name B" lines per entity (subjects and objects) per epoch, random language pairs (v1 0) */
  pairLines?: number;
  /** extra pair lines per entity with one side in zh/ja/ko (the languages whose share is weakest) */
  cjkPairLines?: number;
  /** extra code-switched queries per fact with the template or the subject in zh/ja/ko */
  cjkCodeSwitch?: number;
  /** masked: mark each query's subject tokens (Example.subj; off by default, draws no random numbers) */
  subjectSpans?: boolean;
}

const CJK: Lang[] = ['zh', 'ja', 'ko'];

export interface ExampleBuilder {
  /** the fixed examples (facts x languages x trained templates), built once */
  base: Example[];
  /** the examples of one epoch: base + code-switched + name lines, shuffled (deterministic in epoch) */
  epoch(e: number): Example[];
}

export function buildExamples(data: DemoData, tok: KnTokenizer, kind: 'causal' | 'masked', maxLen: number, seed = 1234, mix: MixOptions = {}): ExampleBuilder {
  const codeSwitch = mix.codeSwitch ?? 2,
    objectShare = mix.objectLineShare ?? 0.5,
    pairLines = mix.pairLines ?? 0;
  const cjkPairs = mix.cjkPairLines ?? 0,
    cjkSwitch = mix.cjkCodeSwitch ?? 0;
  /** two different languages; with `cjk`, one of them (either side, at random) is zh, ja or ko */
  const langPair = (r: () => number, cjk: boolean): [Lang, Lang] => {
    let a = LANGS[Math.floor(r() * LANGS.length)];
    let b = LANGS[Math.floor(r() * LANGS.length)];
    if (cjk) {
      const c = CJK[Math.floor(r() * CJK.length)];
      if (r() < 0.5) a = c;
      else b = c;
    }
    if (b === a) b = LANGS[(LANGS.indexOf(a) + 1) % LANGS.length];
    return [a, b];
  };
  const mask = tok.maskToken ?? '[MASK]';
  const make = (rel: string, tl: Lang, tid: string, subject: string, object: string): Example | null => {
    const t = template(data, rel, tl, tid);
    const f = { id: '', subject, object };
    if (kind === 'causal') {
      const q = causalQuery(t, f)!;
      return causalExample(tok, q.prompt, q.target, maxLen);
    }
    const ex = maskedExample(tok, maskedQuery(t, f, mask).prompt, object, maxLen);
    if (ex && mix.subjectSpans) {
      const span = subjectSpan(tok, ex.ids, (s) => maskedQuery(t, { ...f, subject: s }, mask).prompt);
      if (span) ex.subj = span;
    }
    return ex;
  };
  const base: Example[] = [];
  for (const f of data.facts) {
    for (const l of LANGS) {
      for (const tid of data.split.templates[f.relation][l].trained) {
        const ex = make(f.relation, l, tid, f.subject[l], f.object[l]);
        if (ex) base.push({ ...ex, lang: l });
      }
    }
  }
  const objectsByRel = new Map<string, Map<string, Record<Lang, string>>>();
  for (const f of data.facts) {
    const m = objectsByRel.get(f.relation) ?? new Map();
    m.set(f.object.en, f.object);
    objectsByRel.set(f.relation, m);
  }
  const objectNames = [...new Map([...objectsByRel.values()].flatMap((m) => [...m.entries()])).values()];
  const subjectNames = [...new Map(data.facts.map((f) => [f.subject.en, f.subject] as const)).values()];
  const pairs = (names: Record<Lang, string>, r: () => number, out: Example[]) => {
    for (let k = 0; k < pairLines + cjkPairs; k++) {
      const [a, b] = langPair(r, k >= pairLines);
      const ex = nameLineExample(tok, [names[a], names[b]], kind, r, maxLen);
      if (ex) out.push(ex);
    }
  };
  return {
    base,
    epoch(e: number) {
      const r = rng(seed * 1000003 + e);
      const out = [...base];
      for (const f of data.facts) {
        // two code-switched queries per fact: template + object in A, subject in B
        for (let k = 0; k < codeSwitch + cjkSwitch; k++) {
          let a: Lang, b: Lang;
          if (k < codeSwitch) {
            // v1/v2 order of random draws (kept so a v2 run is reproducible)
            a = LANGS[Math.floor(r() * LANGS.length)];
            b = LANGS[Math.floor(r() * LANGS.length)];
            if (b === a) b = LANGS[(LANGS.indexOf(a) + 1) % LANGS.length];
          } else [a, b] = langPair(r, true);
          const ts = data.split.templates[f.relation][a].trained;
          const ex = make(f.relation, a, ts[Math.floor(r() * ts.length)], f.subject[b], f.object[a]);
          if (ex) out.push(ex);
        }
        const ex = nameLineExample(
          tok,
          shuffle(
            LANGS.map((l) => f.subject[l]),
            r,
          ),
          kind,
          r,
          maxLen,
        );
        if (ex) out.push(ex);
      }
      for (const o of objectNames) {
        if (objectShare < 1 && r() < 1 - objectShare) continue;
        const ex = nameLineExample(
          tok,
          shuffle(
            LANGS.map((l) => o[l]),
            r,
          ),
          kind,
          r,
          maxLen,
        );
        if (ex) out.push(ex);
      }
      if (pairLines + cjkPairs > 0) {
        for (const n of subjectNames) pairs(n, r, out);
        for (const o of objectNames) pairs(o, r, out);
      }
      return shuffle(out, r);
    },
  };
}

/**
 * The subject's token positions in a query: outside the common prefix / suffix with the same template filled by
 * two other subjects (the widest span of the two; template tokens merged with the subject count as subject), as
 * scripts/train/masked_paths.py splits layer-0 attention. null when the span is empty.
 */
function subjectSpan(tok: KnTokenizer, ids: number[], withSubject: (s: string) => string): [number, number] | null {
  let start = ids.length,
    end = 0;
  for (const other of ['Qzxv Wyk', '가나다라']) {
    const o = tok.encode(withSubject(other));
    let p = 0;
    while (p < ids.length && p < o.length && ids[p] === o[p]) p++;
    let q = 0;
    while (q < ids.length - p && q < o.length - p && ids[ids.length - 1 - q] === o[o.length - 1 - q]) q++;
    start = Math.min(start, p);
    end = Math.max(end, ids.length - q);
  }
  return end > start ? [start, end] : null;
}

/** Batches of one epoch: sorted by length inside windows (less padding), then shuffled. */
export function batchesOf(examples: Example[], batchSize: number, seed: number): Example[][] {
  const r = rng(seed);
  const win = batchSize * 16;
  const batches: Example[][] = [];
  for (let i = 0; i < examples.length; i += win) {
    const w = examples.slice(i, i + win).sort((a, b) => a.ids.length - b.ids.length);
    for (let j = 0; j < w.length; j += batchSize) batches.push(w.slice(j, j + batchSize));
  }
  return shuffle(batches, r);
}

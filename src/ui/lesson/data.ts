/**
 * The lesson's precomputed results (public/models/<name>/lesson.json, written by `npm run -s lesson:build`,
 * scripts/lesson-build.ts, from the engine's own explorer and edits): their shape, the check that refuses a
 * file made for other weights, and the fetch. A chapter is drawn from these before the model has loaded;
 * the live widgets take over when it has (lesson.svelte.ts).
 */
import { LANGS, LESSON } from '../../engine/rules';
import { KnError } from '../../shared/errors';

export type Neuron = [number, number];

/** One language's P(correct) before/after a manipulation (the engine's LanguageSummary; ΔP null when no known query). */
export interface LangEffect {
  before: number;
  after: number;
  deltaP: number | null;
  /** queries, and how many the model answered top-1 before */
  n: number;
  known: number;
  /** share of the known queries whose top-1 answer is no longer the target after (null when none was known) */
  flipRate: number | null;
}

export interface LessonProbe {
  lang: string;
  templateId: string;
  prompt: string;
  target: string;
  pCorrect: number;
  correct: boolean;
  top: { token: string; prob: number };
}

export interface LessonFact {
  id: string;
  relation: string;
  labels: Record<string, { subject: string; object: string }>;
  /** the languages the model knows the fact in (the one known-language rule) */
  known: string[];
  probes: LessonProbe[];
  /** the IG completeness error relative to P(correct): the worst and the median over the fact's queries */
  localize: { queries: number; maxCompletenessRel: number; medianCompletenessRel: number; ms: number };
  /** MaTrice's selection with the model's settings */
  selected: Neuron[];
  threshold: number | null;
  maxS: number;
  layerDistribution: number[];
  coverageMean: number | null;
  /** the neuron with the largest S: its per-language scores (Eq. 9), mean, std, S */
  neuron: { id: Neuron; perLanguage: { lang: string; value: number }[]; mean: number; std: number; S: number; threshold: number; selected: boolean };
  /** the same neuron's integrated gradients on each language's first query (raw, summed over baselines) and its layer's sum */
  ig: { lang: string; prompt: string; pFull: number; completenessRel: number; neuron: number; layerSum: number; rank: number; ofLayer: number }[];
  suppress: Record<string, LangEffect>;
  enhance: Record<string, LangEffect>;
  random: { neurons: Neuron[]; suppress: Record<string, LangEffect> };
  ownSets: { lang: string; own: number; overlap: number; ownDeltaP: number | null; sharedDeltaP: number | null }[];
  /** an update of the fact from the edit language's query: each language's first query after it */
  edit: {
    lang: string;
    newObject: string;
    queries: { lang: string; prompt: string; before: string; after: string; pOldBefore: number; pOldAfter: number; newTop: boolean; oldTop: boolean }[];
    unrelatedSame: number;
    unrelated: number;
  } | null;
}

export interface LessonFile {
  format: string;
  version: number;
  model: string;
  /** the loaded model's content hash (checked once it has loaded) */
  contentHash: string;
  /** the bundle's kn-manifest.json contentHash (checked before the model loads, so no chapter shows other weights' numbers) */
  manifestHash: string;
  command: string;
  builtAt: string;
  settings: { alpha1: number; alpha2: number; beta1: number; beta2: number; tau: number; norm: string; attrNorm: string };
  steps: number;
  baseline: string;
  quadrature: string;
  numLayers: number;
  ffnSize: number;
  langs: string[];
  facts: LessonFact[];
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The file, checked: its format, and every fact's fields the chapters read. A bad file names what is wrong. */
export function parseLesson(j: unknown): LessonFile {
  if (!isObj(j) || j.format !== LESSON.format || j.version !== LESSON.version)
    throw new KnError('bad-input', `lesson.json: not a ${LESSON.format} file of version ${LESSON.version}`);
  if (typeof j.model !== 'string' || typeof j.contentHash !== 'string' || typeof j.manifestHash !== 'string' || typeof j.command !== 'string')
    throw new KnError('bad-input', 'lesson.json: model, contentHash, manifestHash and command are required');
  if (!isNum(j.numLayers) || !isNum(j.ffnSize) || !Array.isArray(j.langs) || !Array.isArray(j.facts) || j.facts.length === 0)
    throw new KnError('bad-input', 'lesson.json: numLayers, ffnSize, langs and at least one fact are required');
  for (const l of j.langs)
    if (!(LANGS as readonly string[]).includes(l as string)) throw new KnError('bad-input', `lesson.json: unknown language ${JSON.stringify(l)}`);
  for (const f of j.facts as unknown[]) {
    if (!isObj(f) || typeof f.id !== 'string' || !/^P\d+:\d+$/.test(f.id)) throw new KnError('bad-input', 'lesson.json: a fact without a valid id');
    for (const k of ['probes', 'selected', 'known', 'ig', 'ownSets'])
      if (!Array.isArray(f[k])) throw new KnError('bad-input', `lesson.json: fact ${f.id} has no ${k}`);
    for (const k of ['suppress', 'enhance', 'random', 'neuron', 'labels'])
      if (!isObj(f[k])) throw new KnError('bad-input', `lesson.json: fact ${f.id} has no ${k}`);
  }
  return j as unknown as LessonFile;
}

/**
 * The file for the loaded weights: refused (with the reason) when it was made for others, so that no
 * chapter shows another model's numbers as this one's.
 */
export function checkLessonModel(file: LessonFile, contentHash: string): void {
  if (file.contentHash !== contentHash)
    throw new KnError(
      'bad-input',
      `lesson.json was built for other weights (content hash ${file.contentHash.slice(0, 12)}…, the loaded model's is ${contentHash.slice(0, 12)}…): rebuild it with \`${file.command}\``,
    );
}

/** Before the model loads: the bundle's manifest hash against the file's (the same check on the bundle's files). */
export function checkLessonManifest(file: LessonFile, manifestHash: string): void {
  if (file.manifestHash !== manifestHash)
    throw new KnError(
      'bad-input',
      `lesson.json was built for other weights (kn-manifest.json ${file.manifestHash}, the bundle's is ${manifestHash}): rebuild it with \`${file.command}\``,
    );
}

/** The bundled model's precomputed lesson, checked against its kn-manifest.json before any chapter draws from it. */
export async function fetchLesson(name: string, base = import.meta.env?.BASE_URL ?? '/'): Promise<LessonFile> {
  if (!/^[\w.-]+$/.test(name)) throw new KnError('bad-input', `not a bundled model name: ${JSON.stringify(name)}`);
  const dir = `${base.replace(/\/?$/, '/')}models/${name}`;
  const [file, manifest] = await Promise.all([fetchJson(`${dir}/lesson.json`, name), fetchJson(`${dir}/kn-manifest.json`, name)]);
  const lesson = parseLesson(file);
  const h = (manifest as { contentHash?: unknown } | null)?.contentHash;
  if (typeof h !== 'string') throw new KnError('bad-input', `${dir}/kn-manifest.json has no contentHash`);
  checkLessonManifest(lesson, h);
  return lesson;
}

async function fetchJson(url: string, name: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw new KnError('unreachable', `could not fetch ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json'))
    throw new KnError('bad-input', `${url}: not found (HTTP ${res.status}); build the lesson with \`npm run -s lesson:build -- ${name}\``);
  return res.json();
}

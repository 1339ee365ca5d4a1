/**
 * The experiment's headline numbers for a bundled demo model (public/models/<name>/experiment.json, written
 * by scripts/experiment-headline.ts from a `kn experiment manipulate` run): fetched, checked, and turned
 * into the sentences the model card and the teaching panel show.
 */
import { LANGS } from '../engine/rules';

export interface Headline {
  model: string;
  contentHash: string;
  command: string;
  facts: number;
  split: string | null;
  neurons: number;
  selectedMedian: number;
  suppress: {
    matrice: number | null;
    random: number | null;
    amig: number | null;
    perLanguage: Record<string, number | null>;
    ownSets: Record<string, number | null>;
  };
  enhance: { matrice: number | null; random: number | null };
  featuredFact: { id: string; languages: number; suppress: number; neurons: number } | null;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const numOrNull = (x: unknown) => x === null || isNum(x);

/** The file's content if it has the headline's shape, else null (a bad file never breaks the page). */
export function parseHeadline(j: unknown): Headline | null {
  if (!j || typeof j !== 'object') return null;
  const o = j as Record<string, unknown>;
  if (o.format !== 'kn-experiment-headline' || o.version !== 1) return null;
  if (typeof o.model !== 'string' || typeof o.contentHash !== 'string' || typeof o.command !== 'string') return null;
  if (!isNum(o.facts) || !isNum(o.neurons) || !isNum(o.selectedMedian)) return null;
  const s = o.suppress as Record<string, unknown> | undefined,
    e = o.enhance as Record<string, unknown> | undefined;
  if (!s || !e || !numOrNull(s.matrice) || !numOrNull(s.random) || !numOrNull(e.matrice)) return null;
  for (const k of ['perLanguage', 'ownSets']) {
    const m = s[k];
    if (!m || typeof m !== 'object' || !Object.values(m).every(numOrNull)) return null;
  }
  const f = o.featuredFact as Record<string, unknown> | null | undefined;
  if (f !== null && (!f || typeof f.id !== 'string' || !/^P\d+:\d+$/.test(f.id) || !isNum(f.suppress))) return null;
  return j as Headline;
}

export async function fetchHeadline(name: string, base = import.meta.env?.BASE_URL ?? '/'): Promise<Headline | null> {
  if (!/^[\w.-]+$/.test(name)) return null;
  try {
    const res = await fetch(`${base.replace(/\/?$/, '/')}models/${name}/experiment.json`, { cache: 'no-cache' });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return null;
    return parseHeadline(await res.json());
  } catch {
    return null;
  }
}

const pct = (x: number | null) => {
  if (x === null) return 'n/a';
  const v = Math.abs(x * 100),
    t = v.toFixed(v < 10 ? 1 : 0);
  return Number(t) === 0 ? '0 %' : `${x < 0 ? '−' : '+'}${t} %`;
};

/** One paragraph in plain words, with the numbers, for a class. */
export function headlineSentences(h: Headline): string[] {
  const share = ((100 * h.selectedMedian) / h.neurons).toFixed(2);
  const langs = Object.entries(h.suppress.perLanguage);
  const worst = langs.filter(([, v]) => v !== null).sort((a, b) => (b[1] as number) - (a[1] as number))[0];
  const out = [
    `On ${h.facts} facts this model knows${h.split ? ` (its ${h.split} split)` : ''}, MaTrice selects a median of ${h.selectedMedian} of its ${h.neurons} FFN neurons (${share} %).`,
    `Switching them off changes P(correct answer) by ${pct(h.suppress.matrice)} on average over the ${LANGS.length} languages; as many random neurons: ${pct(h.suppress.random)}.` +
      (worst ? ` The weakest language is ${worst[0]} (${pct(worst[1])}).` : ''),
  ];
  const own = Object.values(h.suppress.ownSets).filter(isNum);
  if (own.length)
    out.push(
      `Each language's own neurons, selected from that language alone, remove ${pct(own.reduce((a, b) => a + b, 0) / own.length)} on average: part of the fact is stored per language, not shared.`,
    );
  return out;
}

/** Cleaning of source patterns and derivation of the causal (object-last) form. */
import type { Lang } from '../../src/data/types';

export interface CleanResult {
  ok: boolean;
  /** cleaned full sentence (masked form) */
  text: string;
  notes: string[];
  reason?: string;
}

const CJK_NOSPACE: ReadonlySet<Lang> = new Set<Lang>(['zh', 'ja']);
const LATIN: ReadonlySet<Lang> = new Set<Lang>(['en', 'fr', 'fi', 'hu']);

/** X-FACTR inflection markup such as [Y.IN+ESS] or [né;X-Gender=MASC|...]. */
export function hasXfactrMarkup(p: string): boolean {
  return /\[(?!X\]|Y\])[^\]]*\]/.test(p);
}

export function cleanPattern(raw: string, lang: Lang): CleanResult {
  const notes: string[] = [];
  let t = raw.normalize('NFC').replace(/\u2019/g, "'");
  // broken bracket repairs (Korean "[ [X] ]", Finnish "[Y]stä]")
  const before = t;
  t = t.replace(/\[\s*\[([XY])\]\s*\]/g, '[$1]');
  t = t.replace(/\[\s+\[([XY])\]/g, '[$1]');
  // remove every "]" that does not close [X]/[Y], and every "[" that does not open one
  t = t.replace(/\[(?![XY]\])/g, '');
  t = t.replace(/(?<!\[[XY])\]/g, '');
  if (t !== before) notes.push(`repaired malformed brackets in "${raw}"`);
  t = t.replace(/\s+/g, ' ').trim();
  if (CJK_NOSPACE.has(lang)) t = t.replace(/ /g, '');
  // "[Y] ." -> "[Y]."
  t = t.replace(/\s+([.,!?。、，])/g, '$1');
  // trailing commas are list residue: "[X], a product of [Y],"
  t = t.replace(/[,，、]+$/, '').trim();
  if (LATIN.has(lang) && /^[a-zà-ÿ]/.test(t)) t = t[0].toUpperCase() + t.slice(1);
  const nx = (t.match(/\[X\]/g) ?? []).length;
  const ny = (t.match(/\[Y\]/g) ?? []).length;
  if (nx !== 1 || ny !== 1) return { ok: false, text: t, notes, reason: `needs exactly one [X] and one [Y]: "${raw}"` };
  if (/[[\]]/.test(t.replace(/\[[XY]\]/g, ''))) return { ok: false, text: t, notes, reason: `stray bracket: "${raw}"` };
  return { ok: true, text: t, notes };
}

const JA_COPULA = /\[Y\](です|である|でした|だ)$/;
const KO_COPULA = /\[Y\](입니다|이다|이었습니다|였습니다)$/;

/**
 * The causal form: the cleaned sentence when its object slot is last (after dropping the sentence-final
 * period, and for ja/ko a bare sentence-final copula, which the query - the text before [Y] - never
 * contains anyway). Null when the object is not last.
 */
export function deriveCausal(text: string, lang: Lang): { causal: string | null; note?: string } {
  const core = text.replace(/[.。!！]+$/, '').trim();
  if (core.endsWith('[Y]')) {
    const prev = core.slice(0, -3);
    if (LATIN.has(lang) && /[\p{L}\-]$/u.test(prev)) return { causal: null };
    return { causal: core };
  }
  if (lang === 'ja') {
    const m = core.match(JA_COPULA);
    if (m) return { causal: core.slice(0, -m[1].length), note: `causal form drops the sentence-final copula 「${m[1]}」` };
  }
  if (lang === 'ko') {
    const m = core.match(KO_COPULA);
    if (m) return { causal: core.slice(0, -m[1].length), note: `causal form drops the sentence-final copula '${m[1]}'` };
  }
  return { causal: null };
}

/** Key for de-duplication: the cleaned text without final punctuation, case-folded. */
export function dedupeKey(text: string): string {
  return text.replace(/[.。!！]+$/, '').toLowerCase();
}

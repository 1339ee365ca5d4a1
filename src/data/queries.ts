/** Turning templates and facts into probe queries. */
import type { Fact, Lang, Shard, Template } from './types';

export interface Query {
  factId: string;
  relation: string;
  lang: Lang;
  templateId: string;
  /** causal: the text before the object (no trailing space); masked: the sentence with the mask token */
  prompt: string;
  /**
   * the object as the continuation of the prompt: causal queries keep the separator that stood before
   * [Y] (" Paris" in English, "北京" in Chinese), so prompt + target is the sentence up to the object;
   * masked queries give the bare object.
   */
  target: string;
  subject: string;
  object: string;
}

const fill = (s: string, slot: string, value: string) => s.split(slot).join(value);

export function causalQuery(t: Template, f: Fact): { prompt: string; target: string } | null {
  if (!t.causal) return null;
  const prefix = fill(t.causal.slice(0, t.causal.length - 3), '[X]', f.subject);
  const prompt = prefix.trimEnd();
  const sep = prefix.length > prompt.length ? ' ' : '';
  return { prompt, target: sep + f.object };
}

export function maskedQuery(t: Template, f: Fact, maskToken: string): { prompt: string; target: string } {
  return { prompt: fill(fill(t.masked, '[X]', f.subject), '[Y]', maskToken), target: f.object };
}

/** All queries of a shard for a model kind; facts outer, templates inner. */
export function shardQueries(shard: Shard, kind: 'causal' | 'masked', maskToken = '[MASK]', factLimit?: number): Query[] {
  const out: Query[] = [];
  const facts = factLimit === undefined ? shard.facts : shard.facts.slice(0, factLimit);
  for (const f of facts) {
    for (const t of shard.templates) {
      const q = kind === 'causal' ? causalQuery(t, f) : maskedQuery(t, f, maskToken);
      if (!q) continue;
      out.push({ factId: f.id, relation: shard.relation, lang: shard.lang, templateId: t.id, ...q, subject: f.subject, object: f.object });
    }
  }
  return out;
}

/** Query length as in Table I: characters (no spaces) for zh/ja/ko, whitespace-separated words otherwise. */
export function queryLength(text: string, lang: Lang): number {
  if (lang === 'zh' || lang === 'ja' || lang === 'ko') return [...text.replace(/\s+/g, '')].length;
  return text.trim().split(/\s+/).filter(Boolean).length;
}

/**
 * The queries of one fact in one language for a model kind: the shard's object-last templates (causal: the
 * text before the object; masked: the same templates with the object masked), so both kinds ask the same
 * paraphrases. The one rule used by the CLI, the worker and the experiment runner.
 */
export function factTemplateQueries(
  shard: Shard,
  fact: Fact,
  kind: 'causal' | 'masked',
  maskToken = '[MASK]',
): { templateId: string; prompt: string; target: string }[] {
  const out: { templateId: string; prompt: string; target: string }[] = [];
  for (const t of shard.templates) {
    if (!t.causal) continue;
    const q = kind === 'causal' ? causalQuery(t, fact) : maskedQuery(t, fact, maskToken);
    if (q) out.push({ templateId: t.id, ...q });
  }
  return out;
}

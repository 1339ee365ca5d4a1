/**
 * CLI: `kn fact --fact P36:0 [--langs zh,en,...] --json`: a fact's labels and every query probed once on the
 * model, and in which languages the model knows it (the project's one rule: at least half of a language's
 * queries answered top-1 correctly, src/data/probing.ts isKnownLanguage). Cheap: no attribution.
 */
import { KnError } from '../shared/errors';
import type { LoadedModel } from '../engine/families';
import { FactSession, parseFactId } from '../engine/session';
import { KNOWN_RULE } from '../data/probing';
import { openLocal } from '../data/node';
import { str, type Args } from './args';
import { langsArg } from './flow';

export async function runFact(a: Args, model: LoadedModel) {
  const relation = str(a, 'relation'),
    fact = str(a, 'fact');
  if (!fact) throw new KnError('bad-input', '--fact is required (e.g. --fact P36:0, or --relation P36 --fact 0)');
  const factId = fact.includes(':') ? fact : `${relation}:${fact}`;
  parseFactId(factId);
  const s = await FactSession.open(model, await openLocal(), factId, langsArg(a), { topK: 1 });
  const k = s.knownSummary();
  return {
    fact: factId,
    labels: s.labels,
    rule: KNOWN_RULE,
    knownIn: `${k.known.length} of ${k.langs.length}`,
    known: k.known,
    languages: k.perLanguage,
    queries: s.queries.length,
    correct: s.queries.filter((q) => q.known).length,
    skipped: s.skipped.length,
  };
}

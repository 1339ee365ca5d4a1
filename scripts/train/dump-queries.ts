/**
 * `npx tsx scripts/train/dump-queries.ts --data <dump dir> --out <file.json> [--split dev|test|all] [--templates trained|heldout|all]`
 *
 * The masked (or causal) queries of one split's facts as the trainer sees them, for scripts/train/masked_paths.py:
 * [{fact, relation, lang, template, heldout, ids, position, label, object}] built by train-demo.ts's own prepare()
 * (the dump folder's bpe.json, so the same tokenizer) and data.ts's maskedExample / causalExample.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { causalQuery, maskedQuery } from '../../src/data/queries';
import { LANGS } from '../../src/data/types';
import { causalExample, maskedExample, template } from './data';
import { SPECS, prepare } from './train-demo';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main() {
  const args = process.argv.slice(2);
  const dir = flag(args, '--data'),
    out = flag(args, '--out');
  if (!dir || !out) throw new Error('--data <dump dir> and --out <file.json> are required');
  const split = flag(args, '--split') ?? 'dev',
    which = flag(args, '--templates') ?? 'all';
  const meta = JSON.parse(readFileSync(resolve(dir, 'meta.json'), 'utf8'));
  const kind = meta.kind as 'causal' | 'masked';
  const spec = { ...SPECS[kind], ...meta.spec, recipe: meta.recipe, kind, name: meta.name };
  const run = await prepare(spec, resolve(dir), false, () => {});
  const { data, tok, config } = run;
  const ids = new Set(split === 'dev' ? data.split.devFacts : split === 'test' ? data.split.testFacts : data.facts.map((f) => f.id));
  const rows: unknown[] = [];
  for (const f of data.facts) {
    if (!ids.has(f.id)) continue;
    for (const l of LANGS) {
      const ts = data.split.templates[f.relation][l];
      const list = [
        ...(which !== 'heldout' ? ts.trained.map((t) => [t, false] as const) : []),
        ...(which !== 'trained' ? ts.heldout.map((t) => [t, true] as const) : []),
      ];
      for (const [tid, heldout] of list) {
        const t = template(data, f.relation, l, tid);
        const fact = { id: f.id, subject: f.subject[l], object: f.object[l] };
        const ex =
          kind === 'masked'
            ? maskedExample(tok, maskedQuery(t, fact, tok.maskToken ?? '[MASK]').prompt, f.object[l], config.ctx)
            : (() => {
                const q = causalQuery(t, fact)!;
                return causalExample(tok, q.prompt, q.target, config.ctx);
              })();
        if (!ex) continue;
        rows.push({
          fact: f.id,
          split: (data.split.devFacts ?? []).includes(f.id) ? 'dev' : 'test',
          relation: f.relation,
          lang: l,
          template: tid,
          heldout,
          ids: ex.ids,
          position: ex.labels[0][0],
          label: ex.labels[0][1],
          subject: f.subject[l],
          object: f.object[l],
        });
      }
    }
  }
  await writeFile(out, JSON.stringify(rows));
  console.log(`${rows.length} queries of ${ids.size} ${split} facts -> ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

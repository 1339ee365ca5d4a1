/**
 * `npm run -s headline -- <results dir> <bundled model name>`: the experiment's headline numbers for a
 * bundled demo model, written to public/models/<name>/experiment.json, which the page shows in the model
 * card and the teaching panel, with the fact the explorer opens on (the one whose MaTrice suppression is
 * clearest in the most languages). Everything is read from the results folder; the command that made it is
 * stored beside the numbers.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMeta, readRows, reproduceCommand } from '../src/cli/experiment-cmd';
import { factLanguageDeltaP, summarize } from '../src/engine/report/report';
import { BUNDLED_DIR } from '../src/engine/source/source-node';
import { LEGACY_QUADRATURE } from '../src/engine/rules';

async function main() {
  const [dir, name] = process.argv.slice(2);
  if (!dir || !name) throw new Error('usage: tsx scripts/experiment-headline.ts <results dir> <bundled model name>');
  const meta = await readMeta(dir);
  const { rows, timings, problems } = await readRows(dir, meta);
  const s = summarize(meta, rows, timings, problems);
  const langs = meta.langs;
  const m = s.methods.matrice,
    r = s.methods.random;
  // the featured fact: known in the most languages, then the most negative mean MaTrice ΔP over them
  const scored = rows.map((row) => {
    const ds = langs.map((l) => factLanguageDeltaP(row, row.methods.matrice.suppress, l)).filter(Number.isFinite);
    return { fact: row.fact, langs: ds.length, mean: ds.length ? ds.reduce((a, b) => a + b, 0) / ds.length : 0, n: row.methods.matrice.neurons.length };
  });
  scored.sort((a, b) => b.langs - a.langs || a.mean - b.mean);
  const featured = scored[0];
  const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
  const headline = {
    format: 'kn-experiment-headline',
    version: 1,
    model: name,
    contentHash: meta.model.contentHash,
    command: reproduceCommand(meta).replace('--out <dir>', `--out ${dir}`),
    facts: s.facts,
    split: meta.request.split,
    neurons: meta.model.numLayers * meta.model.ffnSize,
    settings: {
      alpha2: meta.settings.alpha2,
      beta2: meta.settings.beta2,
      tau: meta.settings.tau,
      norm: meta.settings.norm,
      attrNorm: meta.settings.attrNorm,
      steps: meta.steps,
      quadrature: meta.quadrature ?? LEGACY_QUADRATURE,
    },
    selectedMedian: m.selectedMedian,
    suppress: {
      matrice: round(m.mean.suppress),
      random: round(r?.mean.suppress ?? null),
      amig: round(s.methods.amig?.mean.suppress ?? null),
      perLanguage: Object.fromEntries(langs.map((l) => [l, round(m.languages[l].suppress)])),
      ownSets: Object.fromEntries(langs.map((l) => [l, round(s.perLanguageSets[l]?.suppress ?? null)])),
    },
    enhance: { matrice: round(m.mean.enhance), random: round(r?.mean.enhance ?? null) },
    knockout: { k: s.knockout.k, top: s.knockout.top.map(round), random: s.knockout.random.map(round) },
    featuredFact: featured ? { id: featured.fact, languages: featured.langs, suppress: round(featured.mean), neurons: featured.n } : null,
  };
  const out = join(BUNDLED_DIR, name, 'experiment.json');
  await writeFile(out, JSON.stringify(headline, null, 1) + '\n');
  process.stdout.write(
    JSON.stringify({ out, featuredFact: headline.featuredFact, suppress: headline.suppress.matrice, random: headline.suppress.random }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`headline: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

/**
 * The lesson's logic (no DOM, no Svelte; unit-tested in tests/ui/lesson.test.ts): the address (?lesson, ?lesson=N,
 * &fact=, &model=, &presenter), the eight chapters (title, a few sentences with the numbers they state, what to
 * click, what to look for) drawn from one LessonFact, and the explorer link that carries the fact and settings.
 * Every number a chapter states is a Num: its key, its raw value and its text, so the page marks it
 * (data-num) and the e2e compares it with the explorer's.
 */
import { EDIT_LANG as LESSON_EDIT_LANG, LANGS, LESSON } from '../../engine/rules';
import { formatDeltaP, formatProbability } from '../plots/charts';
import { RELATION_NAMES } from '../explorer/logic';
import type { LangEffect, LessonFact, LessonFile } from './data';

export const LANG_NAMES: Record<string, string> = { zh: 'Chinese', en: 'English', fr: 'French', fi: 'Finnish', hu: 'Hungarian', ja: 'Japanese', ko: 'Korean' };
export const langName = (l: string) => LANG_NAMES[l] ?? l;

/** The number of chapters (the rules' LESSON.chapters), for the view. */
export const CHAPTER_COUNT = LESSON.chapters;
/** The live sliders' ranges (the rules' LESSON). */
export const TAU_SLIDER = LESSON.tauSlider;
export const FACTOR_SLIDER = LESSON.factorSlider;

/** What the address asks of the lesson. */
export interface LessonParams {
  /** the chapter to show (1-based; 1 when the address names none or a bad one) */
  chapter: number;
  /** why the address's chapter was refused ('' when it was fine) */
  chapterError: string;
  fact: string | null;
  model: string;
  presenter: boolean;
  /** the language chapter 7's live edit is made from (`&edit=fr`; English when the address names none or an unknown one) */
  editLang: string;
}

export const DEFAULT_LESSON_MODEL = 'demo-causal';

/** The languages chapter 7's edit can be made from (any of the benchmark's). */
export const EDIT_LANGS: readonly string[] = LANGS;

export function isLesson(search: string): boolean {
  return new URLSearchParams(search).has('lesson');
}

export function parseLessonParams(search: string): LessonParams {
  const p = new URLSearchParams(search);
  const raw = (p.get('lesson') ?? '').trim();
  let chapter = 1,
    chapterError = '';
  if (raw !== '') {
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isInteger(n) && n >= 1 && n <= LESSON.chapters) chapter = n;
    else chapterError = `There is no chapter ${JSON.stringify(raw).slice(1, -1)}: the lesson has chapters 1 to ${LESSON.chapters}.`;
  }
  const fact = p.get('fact');
  const model = p.get('model') ?? DEFAULT_LESSON_MODEL;
  return {
    chapter,
    chapterError,
    fact: fact && /^P\d+:\d+$/.test(fact) ? fact : null,
    model: /^[\w.-]+$/.test(model) ? model : DEFAULT_LESSON_MODEL,
    presenter: p.has('presenter') && p.get('presenter') !== '0',
    editLang: (LANGS as readonly string[]).includes(p.get('edit') ?? '') ? p.get('edit')! : LESSON_EDIT_LANG,
  };
}

/** The lesson's address for a chapter (the fact, model and presenter mode kept). */
export function lessonSearch(p: Pick<LessonParams, 'fact' | 'model' | 'presenter'> & { editLang?: string }, chapter: number): string {
  const q = new URLSearchParams();
  q.set('lesson', String(chapter));
  if (p.fact) q.set('fact', p.fact);
  if (p.model !== DEFAULT_LESSON_MODEL) q.set('model', p.model);
  if (p.presenter) q.set('presenter', '1');
  if (p.editLang && p.editLang !== LESSON_EDIT_LANG) q.set('edit', p.editLang);
  return `?${q.toString()}`;
}

/** ←/→ move a chapter; Home/End go to the first/last; anything else (or typing in a field) does nothing. */
export function keyToChapter(key: string, chapter: number, inField: boolean): number | null {
  if (inField) return null;
  if (key === 'ArrowRight' || key === 'PageDown') return Math.min(LESSON.chapters, chapter + 1);
  if (key === 'ArrowLeft' || key === 'PageUp') return Math.max(1, chapter - 1);
  if (key === 'Home') return 1;
  if (key === 'End') return LESSON.chapters;
  return null;
}

// ------------------------------------------------------------------------------------------------
// numbers

/** A number a chapter states: `key` names it (data-num), `value` is what it was computed from, `text` what is read. */
export interface Num {
  num: string;
  value: number;
  text: string;
}
export type Part = string | Num;

const num = (key: string, value: number, text: string): Num => ({ num: key, value, text });
/** "1 random neuron", "4 random neurons" */
export const neurons = (n: number, kind = '') => `${n} ${kind}neuron${n === 1 ? '' : 's'}`;
const pct = (x: number, digits = 0) => `${(x * 100).toFixed(digits)} %`;

/** Mean of the languages' ΔP that are defined (languages with a known query), or null. */
export function meanDeltaP(m: Record<string, LangEffect>): number | null {
  const ds = Object.values(m)
    .map((e) => e.deltaP)
    .filter((d): d is number => d !== null && Number.isFinite(d));
  return ds.length ? ds.reduce((a, b) => a + b, 0) / ds.length : null;
}

/** The fact the lesson opens on without `&fact=`: the first whose switch-off effect is clear (LESSON.clearEffect), else the first. */
export function defaultFact(facts: readonly LessonFact[]): LessonFact | null {
  return facts.find((f) => (meanDeltaP(f.suppress) ?? 0) <= LESSON.clearEffect) ?? facts[0] ?? null;
}

/** The first query of each language, in the file's language order. */
export function firstProbes(f: LessonFact) {
  const out: LessonFact['probes'] = [];
  for (const q of f.probes) if (!out.some((x) => x.lang === q.lang)) out.push(q);
  return out;
}

export const factTitle = (f: Pick<LessonFact, 'relation' | 'labels'>) => {
  const en = f.labels.en ?? Object.values(f.labels)[0];
  return en ? `${en.subject} → ${en.object}` : '';
};
export const relationName = (r: string) => RELATION_NAMES[r] ?? r;

// ------------------------------------------------------------------------------------------------
// chapters

export interface Chapter {
  n: number;
  id: string;
  title: string;
  /** paragraphs: text with its numbers */
  text: Part[][];
  /** what to click */
  todo: string;
  /** what to look for */
  look: string;
}

export interface ChapterContext {
  file: Pick<LessonFile, 'numLayers' | 'ffnSize' | 'langs' | 'model'>;
  fact: LessonFact;
  /** the model card's experiment sentences (experiment.json), for the last chapter */
  headline: string[];
}

export const CHAPTER_TITLES = [
  'One fact, seven languages',
  'Where in the network? One neuron',
  'Many questions, many languages: the score S',
  'The few neurons MaTrice selects',
  'Switch them off, double them',
  "Compare: random neurons, and each language's own",
  'Edit the fact in English, watch the others',
  'What real models show',
] as const;

export function chapters(ctx: ChapterContext): Chapter[] {
  const { file, fact: f } = ctx;
  const en = f.labels.en ?? Object.values(f.labels)[0] ?? { subject: '?', object: '?' };
  const total = file.numLayers * file.ffnSize;
  const langsN = file.langs.length;
  const sel = f.selected.length;
  const [nl, nj] = f.neuron.id;
  const supMean = meanDeltaP(f.suppress);
  const enhMean = meanDeltaP(f.enhance);
  const rndMean = meanDeltaP(f.random.suppress);
  const igEn = f.ig.find((g) => g.lang === 'en') ?? f.ig[0];
  const own = f.ownSets.filter((o) => o.ownDeltaP !== null);
  const ownMean = own.length ? own.reduce((a, o) => a + (o.ownDeltaP as number), 0) / own.length : null;
  const overlapMean = f.ownSets.length ? f.ownSets.reduce((a, o) => a + o.overlap, 0) / f.ownSets.length : 0;
  const ownSizeMean = f.ownSets.length ? f.ownSets.reduce((a, o) => a + o.own, 0) / f.ownSets.length : 0;
  const changed = f.edit ? f.edit.queries.filter((q) => q.newTop) : [];
  const gone = f.edit ? f.edit.queries.filter((q) => !q.oldTop) : [];
  const dp = (key: string, x: number | null) => (x === null ? 'n/a' : num(key, x, formatDeltaP(x)));
  const out: Omit<Chapter, 'n' | 'title'>[] = [
    {
      id: 'ask',
      text: [
        [
          `A language model completes sentences: asked “${firstProbes(f).find((q) => q.lang === 'en')?.prompt ?? `${en.subject} …`} …”, it gives every word of its vocabulary a probability, and its first guess is the one with the largest. We ask one fact, ⟨${en.subject}, ${relationName(f.relation)}, ${en.object}⟩, in `,
          num('langs', langsN, String(langsN)),
          ' languages, with several sentences per language.',
        ],
        [
          'The model knows the fact in a language when its first guess is right on at least half of that language’s sentences. This one knows it in ',
          num('known', f.known.length, String(f.known.length)),
          ` of ${langsN} languages.`,
        ],
      ],
      todo: 'Read each language’s first sentence and the model’s first guess beside it.',
      look: 'The bar is P(correct answer): the longer, the surer the model. A ✓ marks a right first guess.',
    },
    {
      id: 'neuron',
      text: [
        [
          'Inside, the model has ',
          num('layers', file.numLayers, String(file.numLayers)),
          ' layers of ',
          num('ffn', file.ffnSize, String(file.ffnSize)),
          ` small units, “neurons”: ${total} in all. Which of them carry the fact? Integrated gradients give each neuron its share of the answer’s probability: turn the neuron’s activity up slowly from a “blank” sentence to the real one and add up how much the probability moves.`,
        ],
        igEn
          ? [
              `The neuron with the largest score is number ${nj} of layer ${nl}. On the ${langName(igEn.lang)} sentence, P(correct) is `,
              num('ig-p', igEn.pFull, formatProbability(igEn.pFull)),
              '; this neuron’s integrated gradient is ',
              num('ig-neuron', igEn.neuron, igEn.neuron.toFixed(4)),
              ', rank ',
              num('ig-rank', igEn.rank, String(igEn.rank)),
              ` of the ${igEn.ofLayer} neurons of its layer.`,
            ]
          : [`The neuron with the largest score is number ${nj} of layer ${nl}.`],
        [
          'The shares add up: over a layer they sum to the change of probability they explain, up to the error of the sum, a median of ',
          num('completeness', f.localize.medianCompletenessRel, pct(f.localize.medianCompletenessRel, 1)),
          ` of P over the fact’s ${f.localize.queries} sentences (a few short, unlikely sentences do worse).`,
        ],
      ],
      todo: 'Compare the neuron’s bar in each language.',
      look: 'One sentence in one language is noisy: the same neuron can score high in one language and near zero in another.',
    },
    {
      id: 'score',
      text: [
        [
          'So we ask many sentences in many languages. For each language the neuron’s scores are averaged (and put on one scale); then MaTrice looks at two things across languages: the mean (high is good) and the spread, how much the languages disagree (low is good). The score S rewards both.',
        ],
        [
          `Neuron ${nl}:${nj}: mean `,
          num('mean', f.neuron.mean, f.neuron.mean.toFixed(3)),
          ', spread ',
          num('std', f.neuron.std, f.neuron.std.toFixed(3)),
          ', S = ',
          num('S', f.neuron.S, f.neuron.S.toFixed(3)),
          ' (the threshold is ',
          num('threshold', f.neuron.threshold, f.neuron.threshold.toFixed(3)),
          ').',
        ],
      ],
      todo: 'Look at the dots: one per language, with the mean and the spread drawn across them.',
      look: 'A neuron all languages agree on has its dots close together, far to the right.',
    },
    {
      id: 'select',
      text: [
        [
          'MaTrice keeps the neurons whose S is above the threshold (a share τ of the largest S). For this fact it keeps ',
          num('selected', sel, String(sel)),
          ` of ${total} neurons (`,
          num('selected-share', sel / total, `${((100 * sel) / total).toFixed(2)} %`),
          ').',
        ],
        ['Most of them sit in the layers where the bars are tallest: the figure shows the share of the selected neurons per layer.'],
      ],
      todo: 'When the model has loaded, move the τ slider: a lower threshold keeps more neurons.',
      look: 'How few neurons pass: a fact is not spread over the whole network.',
    },
    {
      id: 'toggle',
      text: [
        [
          `Now the test. Switch ${sel === 1 ? 'this neuron' : `these ${sel} neurons`} off (multiply ${sel === 1 ? 'it' : 'them'} by 0) and ask every language again: P(correct) changes by `,
          dp('suppress-mean', supMean),
          ' on average over the languages that knew the fact. Double them (×2): ',
          dp('enhance-mean', enhMean),
          '.',
        ],
      ],
      todo: 'When the model has loaded, press “Switch off” and “Double”, or move the factor.',
      look: 'Switching off should lower the grey-to-colour bars in every language, not only in one.',
    },
    {
      id: 'compare',
      text: [
        [
          `Is that special? Switch off ${neurons(sel, 'random ')} instead: `,
          dp('random-mean', rndMean),
          ` (MaTrice’s: ${supMean === null ? 'n/a' : formatDeltaP(supMean)}).`,
        ],
        [
          'Now find each language’s own neurons, from that language’s sentences alone: about ',
          num('own-size', ownSizeMean, ownSizeMean.toFixed(1)),
          ' per language, of which ',
          num('own-overlap', overlapMean, overlapMean.toFixed(1)),
          ' are also in the shared set. Switching off a language’s own set changes its P(correct) by ',
          dp('own-mean', ownMean),
          ` on average. The honest finding: in a small model much of a fact is stored per language, and the shared neurons are only part of it (mind the sizes: a language’s own set is ${ownSizeMean > sel ? 'larger than' : 'about as large as'} ${neurons(sel, 'shared ')}).`,
        ],
      ],
      todo: 'When the model has loaded, press “Other random neurons” to draw another random set.',
      look: 'Compare the colours: MaTrice against Random, and the table’s own-set column against the shared column.',
    },
    {
      id: 'edit',
      text: f.edit
        ? [
            [
              `We rewrite ${sel === 1 ? 'the one shared neuron' : `the ${sel} shared neurons`} so that the English sentence answers “${f.edit.newObject}” instead of “${en.object}”, and ask every language again (each language’s first sentence). The new answer is first in `,
              num('edit-new', changed.length, String(changed.length)),
              ` of ${f.edit.queries.length} languages; the old answer is gone in `,
              num('edit-gone', gone.length, String(gone.length)),
              '. Unrelated facts keep their answer in ',
              num('edit-locality', f.edit.unrelatedSame, String(f.edit.unrelatedSame)),
              ` of ${f.edit.unrelated} sentences.`,
            ],
          ]
        : [['This fact has no English sentence for this model, so it cannot be edited from English.']],
      todo: 'When the model has loaded, type another answer and press “Edit”; “Edit from” makes the edit from another language’s sentence instead of English; “Undo” puts the weights back exactly.',
      look: 'Which languages follow the English edit, and which keep the old answer.',
    },
    {
      id: 'real',
      text: [
        [
          'The paper behind this page (Cao et al., “One Mind, Many Tongues”) runs these steps on real multilingual models. It reports that the neurons MaTrice selects are a tiny share of the network, that switching them off lowers the answer in all languages much more than switching off as many random neurons, and that editing them from one language changes the fact in the others too.',
        ],
        [
          'The caveat: this demo model is tiny and was trained on the benchmark itself, so its numbers are not the paper’s; the experiment on this model, over many facts, says:',
        ],
        ...ctx.headline.map((s) => [s]),
      ],
      todo: 'Open the full explorer to try any fact, or the Experiments view to run the benchmark.',
      look: 'Whether this model’s averages tell the same story as the single fact you followed.',
    },
  ];
  return out.map((c, i) => ({ ...c, n: i + 1, title: CHAPTER_TITLES[i] }));
}

/** What the last chapter's table holds of the model's experiment (experiment.json, ui/headline.ts Headline). */
export interface HeadlineNumbers {
  facts: number;
  neurons: number;
  selectedMedian: number;
  suppress: { matrice: number | null; random: number | null; ownSets: Record<string, number | null> };
}

/** The last chapter's table: this fact beside the model's experiment over many facts (null where a side has no value). */
export function comparisonRows(f: LessonFact, h: HeadlineNumbers | null): { what: string; fact: string; model: string }[] {
  const own = f.ownSets.map((o) => o.ownDeltaP).filter((x): x is number => x !== null);
  const hOwn = h ? Object.values(h.suppress.ownSets).filter((x): x is number => x !== null) : [];
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const d = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : formatDeltaP(x));
  return [
    { what: 'neurons selected', fact: String(f.selected.length), model: h ? `median ${h.selectedMedian} of ${h.neurons}` : 'n/a' },
    { what: 'ΔP, MaTrice’s neurons off', fact: d(meanDeltaP(f.suppress)), model: d(h?.suppress.matrice) },
    { what: 'ΔP, as many random neurons off', fact: d(meanDeltaP(f.random.suppress)), model: d(h?.suppress.random) },
    { what: 'ΔP, each language’s own set off', fact: d(avg(own)), model: d(avg(hOwn)) },
  ];
}

/** The rows a ProbBars chart draws from a manipulation's per-language results. */
export function effectRows(m: Record<string, LangEffect>) {
  return LANGS.filter((l) => m[l]).map((l) => ({
    lang: l,
    before: m[l].before,
    after: m[l].after,
    deltaP: m[l].deltaP ?? Number.NaN,
    correctBefore: m[l].known > 0,
  }));
}

/** What to click: a live control's hint loses its "when the model has loaded" once the model is live. */
export function todoText(todo: string, live: boolean): string {
  const m = /^When the model has loaded, (.)(.*)$/.exec(todo);
  return live && m ? m[1].toUpperCase() + m[2] : todo;
}

export const chapterText = (parts: Part[]) => parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
export { pct };

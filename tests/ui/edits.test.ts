/**
 * The Edit view's logic (src/ui/explorer/edits.ts) and the edits in the share link / exploration file
 * (state.ts editSchema): round trip, refusals naming the field, the restore plan (a taught fact never
 * re-trains silently), the per-language rows and the words the page says.
 */
import { describe, expect, it } from 'vitest';
import { decodeState, defaultState, encodeState, type ExplorationEdit, type ExplorationState } from '../../src/ui/share/state';
import {
  editHeadline,
  editRows,
  editsBanner,
  lateCancelNotice,
  objectSuggestions,
  restorePlan,
  teachProgressFraction,
  teachProgressText,
  teachVerdict,
} from '../../src/ui/explorer/edits';
import { exportExploration, importExploration } from '../../src/ui/share/exploration-file';
import type { EditView, TeachView } from '../../src/worker/api';

const EDITS: ExplorationEdit[] = [
  {
    kind: 'erase',
    fact: 'P138:53',
    neurons: [
      [0, 5],
      [1, 7],
    ],
  },
  { kind: 'update', fact: 'P138:53', neurons: [[0, 5]], newObject: 'Paris', lambda1: 1, lambda2: 8 },
  { kind: 'inject', fact: { relation: 'P36', lang: 'en', subject: 'Zorbania', object: 'Paris' }, neurons: [[2, 9]], lang: 'en', trainSteps: 40, lr: 0.01 },
  { kind: 'erase', fact: 'P36:4', neurons: [[1, 1]] },
];
const withEdits = (edits: unknown): ExplorationState => ({ ...defaultState(), fact: 'P138:53', edits }) as ExplorationState;

describe('edits in links and files', () => {
  it('round-trips through the link and the exploration file', () => {
    const st = withEdits(EDITS);
    expect(decodeState(encodeState(st))).toEqual(st);
    const file = exportExploration(st, {
      model: { label: 'bundled:demo-causal', contentHash: 'h', architecture: 'GPT2LMHeadModel', numLayers: 4, ffnSize: 512 },
    });
    expect(importExploration(file).state.edits).toEqual(EDITS);
  });

  it('refuses malformed edits, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [[{ kind: 'rewrite', fact: 'P36:1', neurons: [] }], /edits\[0\].kind must be one of "erase", "update", "inject", got "rewrite"/],
      [[{ kind: 'update', fact: 'P36:1', neurons: [[0, 1]], newObject: 'x', lambda1: 1, lambda2: 80 }], /edits\[0\].lambda2 must be in \[0, 50\], got 80/],
      [[{ kind: 'update', fact: 'P36:1', neurons: [[0, 1]], newObject: '', lambda1: 1, lambda2: 8 }], /edits\[0\].newObject must not be empty/],
      [[{ kind: 'erase', fact: 'P36:1', neurons: [[0, -1]] }], /edits\[0\].neurons\[0\] neuron index must be a non-negative integer/],
      [[{ kind: 'inject', fact: 'P36:1', neurons: [[0, 1]], lang: 'en', trainSteps: 40, lr: 0 }], /edits\[0\].lr must be above 0/],
      [[{ kind: 'erase', fact: 'P36:1', neurons: [], extra: 1 }], /edits\[0\] has an unknown field "extra"/],
      [new Array(33).fill(EDITS[0]), /edits has 33 entries, at most 32 allowed/],
    ];
    for (const [edits, re] of bad) {
      expect(() => encodeState(withEdits(edits)), JSON.stringify(edits).slice(0, 80)).toThrow(re);
    }
  });
});

describe('restoring a link', () => {
  it('re-applies erase/update at once and keeps a taught fact and what follows it waiting', () => {
    expect(restorePlan(EDITS)).toEqual({ replay: EDITS.slice(0, 2), pending: EDITS.slice(2) });
    expect(restorePlan(EDITS.slice(0, 2))).toEqual({ replay: EDITS.slice(0, 2), pending: [] });
    expect(restorePlan([])).toEqual({ replay: [], pending: [] });
  });

  it('says so in a banner whenever the model is edited or edits wait', () => {
    expect(editsBanner([], [])).toBeNull();
    const active = [
      {
        id: 'erase-1',
        kind: 'erase' as const,
        label: 'erase 2 neurons of P138:53 (from English)',
        neurons: 2,
        notes: [],
        precision: 'f32' as const,
        spec: EDITS[0],
      },
    ];
    expect(editsBanner(active, [])).toMatch(/^The model is edited \(1 edit: erase 2 neurons of P138:53 \(from English\)\)/);
    expect(editsBanner(active, EDITS.slice(2))).toMatch(
      /2 edits from the link are not applied \(teach Zorbania → Paris \(P36, en\): 1 neuron trained on en; erase 1 neuron of P36:4/,
    );
  });
});

function view(): EditView {
  const q = (lang: string, role: 'edited' | 'paraphrase', known: boolean, oldTop: boolean, same = true) => ({
    lang,
    templateId: `${lang}-${role}`,
    prompt: `${lang} ${role}`,
    role,
    known,
    before: { pOld: 0.8, top: { token: ' Beijing', prob: 0.8 } },
    after: { pOld: oldTop ? 0.6 : 0.1, top: { token: oldTop ? ' Beijing' : ' Tokyo', prob: 0.5 } },
    oldTop,
    same,
  });
  return {
    active: { id: 'erase-1', kind: 'erase', label: 'erase', neurons: 3, notes: [], precision: 'f32', spec: EDITS[0] },
    factId: 'P138:53',
    editPrompt: 'en edited',
    oldObject: 'Beijing',
    queries: [
      q('en', 'edited', true, false),
      q('en', 'paraphrase', true, false),
      q('en', 'paraphrase', true, true),
      q('zh', 'edited', true, true),
      q('ja', 'edited', false, true),
    ],
    unrelated: [
      { lang: 'en', factId: 'P19:1', prompt: 'u', before: ' a', after: ' a', same: true },
      { lang: 'zh', factId: 'P19:1', prompt: 'u', before: ' a', after: ' b', same: false },
    ],
    languages: {
      zh: { reliability: 0, generality: null, locality: 0, n: { edited: 1, paraphrase: 0, unrelated: 1 } },
      en: { reliability: 1, generality: 0.5, locality: 1, n: { edited: 1, paraphrase: 2, unrelated: 1 } },
      ja: { reliability: null, generality: null, locality: null, n: { edited: 0, paraphrase: 0, unrelated: 0 } },
    },
    ms: { edit: 1, evaluate: 100, total: 120 },
  };
}

describe('what the Edit view shows', () => {
  it('one row per language in the app order, with the edited query before → after', () => {
    const rows = editRows(view());
    expect(rows.map((r) => r.lang)).toEqual(['zh', 'en', 'ja']);
    const en = rows[1];
    expect(en.edited).toMatchObject({ before: ' Beijing', after: ' Tokyo', success: true, known: true });
    expect(en.paraphrases).toEqual({ success: 1, total: 2 });
    expect(en).toMatchObject({ reliability: 1, generality: 0.5, locality: 1, unrelated: { same: 1, total: 1 } });
    expect(rows[0].edited?.success).toBe(false);
  });

  it('says where the edit took, where not, and what was not counted', () => {
    expect(editHeadline(view())).toBe(
      'Edited from English (3 neurons). The edited query no longer answers "Beijing" in en; not in zh. P("Beijing") on it: 80 % → 35 % on average. Not counted (the model did not know it before): ja. Unrelated facts keep their answer on 1 of 2 queries.',
    );
    const none = view();
    none.queries = none.queries.map((q) => ({ ...q, oldTop: true, after: { ...q.after, pOld: 0.6 } }));
    expect(editHeadline(none)).toMatch(
      /^Edited from English \(3 neurons\)\. The edited query still answers "Beijing" in every language it knew \(zh, en\)\. P\("Beijing"\) on it: 80 % → 60 % on average\./,
    );
    expect(editHeadline({ ...view(), fromLang: 'fr' })).toMatch(/^Edited from French \(3 neurons\)\./);
  });

  it('says in which languages a taught fact arrived, and when training stopped', () => {
    const t = {
      stopped: null,
      converged: true,
      trainLang: 'en',
      languages: {
        zh: { before: [0, 4], after: [0, 4] },
        en: { before: [0, 8], after: [8, 8] },
        fr: { before: [0, 4], after: [4, 4] },
        ko: { before: [1, 4], after: [1, 4] },
      },
      old: [13, 21],
    } as unknown as TeachView;
    expect(teachVerdict(t)).toBe(
      'Trained on English: 8/8 of its queries now right. Carried over to fr 4/4. Not to zh, ko. Unrelated facts keep their answer on 13 of 21 queries.',
    );
    expect(teachVerdict({ ...t, languages: { en: t.languages.en } } as TeachView)).toMatch(/did not carry over to any other language/);
    expect(teachVerdict({ ...t, stopped: 'training diverged at step 3' } as TeachView)).toBe('Training stopped: training diverged at step 3.');
  });

  it('progress text and fraction move forward through the phases', () => {
    const p = (phase: 'localize' | 'train' | 'evaluate', done: number, total: number) => ({ phase, done, total, loss: 2.5, correct: 3, elapsedMs: 1500 });
    expect(teachProgressText(p('localize', 3.5, 31))).toBe('Localizing the new fact: 3 of 31 queries (1.5 s)');
    expect(teachProgressText(p('train', 4, 40))).toBe('Training step 4 of at most 40: loss 2.500, 3 training queries right (1.5 s)');
    const fr = [p('localize', 0, 31), p('localize', 31, 31), p('train', 1, 40), p('train', 40, 40), p('evaluate', 0, 1)].map((x) => teachProgressFraction(x));
    expect([...fr].sort((a, b) => a - b)).toEqual(fr);
    expect(fr[0]).toBe(0);
    expect(fr[4]).toBeLessThan(1);
  });

  it('suggests new objects from the model and the relation, never the old one', () => {
    const s = objectSuggestions(
      'Beijing',
      [{ token: ' Beijing' }, { token: ' Tokyo' }, { token: '' }],
      [{ labels: { en: { object: 'Paris' } } }, { labels: { en: { object: 'tokyo' } } }, { labels: { fr: { object: 'Londres' } } }],
    );
    expect(s).toEqual(['Tokyo', 'Paris']);
  });
});

describe('a Cancel that reaches the worker after the teach finished', () => {
  it('says the fact was taught and how to undo it, only when it was kept', () => {
    const active = { id: 'e1' } as unknown as TeachView['active'];
    expect(lateCancelNotice(true, { active, factId: 'P36:4' })).toBe(
      'Teaching P36:4 had already finished when Cancel arrived, so the fact is taught; "Undo the last edit" removes it.',
    );
    // the cancel won (no result), or the teach kept nothing (diverged), or no cancel came late
    expect(lateCancelNotice(true, null)).toBeNull();
    expect(lateCancelNotice(true, { active: null, factId: 'P36:4' })).toBeNull();
    expect(lateCancelNotice(false, { active, factId: 'P36:4' })).toBeNull();
  });
});

/**
 * The fact list's search (src/engine/session/facts.ts searchMatch, listFacts): subjects and objects, in every
 * language's labels, case- and accent-insensitive; checked against the benchmark's own labels.
 */
import { describe, expect, it } from 'vitest';
import { openLocal } from '../../src/data/node';
import { LANGS } from '../../src/data/types';
import { ExplorerState, searchMatch } from '../../src/engine/session';

const bench = openLocal();
const explorer = new ExplorerState(
  () => null,
  () => bench,
  undefined,
);

describe('fact search', () => {
  it('matches subjects and objects in any language, first language first, subject before object', () => {
    const labels = [
      { lang: 'zh', subject: '中华人民共和国', object: '北京市' },
      { lang: 'en', subject: "People's Republic of China", object: 'Beijing' },
      { lang: 'fr', subject: 'République populaire de Chine', object: 'Pékin' },
    ];
    expect(searchMatch(labels, '北京')).toEqual({ lang: 'zh', field: 'object' });
    expect(searchMatch(labels, 'beijing')).toEqual({ lang: 'en', field: 'object' });
    expect(searchMatch(labels, '  BEIJING ')).toEqual({ lang: 'en', field: 'object' });
    expect(searchMatch(labels, 'pekin')).toEqual({ lang: 'fr', field: 'object' });
    expect(searchMatch(labels, 'china')).toEqual({ lang: 'en', field: 'subject' });
    expect(searchMatch(labels, 'republique')).toEqual({ lang: 'fr', field: 'subject' });
    expect(searchMatch(labels, 'Tokyo')).toBeNull();
    expect(searchMatch(labels, '')).toBeNull();
  });

  it('"北京" and "Beijing" find ⟨China, capital, Beijing⟩ (P36:551) by its object; a subject search still works', async () => {
    const b = await bench;
    const en = await b.shard('P36', 'en');
    const zh = await b.shard('P36', 'zh');
    const china = en.facts.find((f) => f.subject === "People's Republic of China")!;
    expect(china).toMatchObject({ id: 'P36:551', object: 'Beijing' });
    expect(zh.facts.find((f) => f.id === china.id)!.object).toBe('北京市');

    const byZh = await explorer.listFacts('P36', '北京');
    // every fact whose zh object holds 北京 (recounted from the shard), none other
    const expectZh = zh.facts.filter((f) => f.object.includes('北京') || f.subject.includes('北京')).map((f) => f.id);
    expect(expectZh).toContain('P36:551');
    expect(byZh.facts.map((f) => f.id)).toEqual(expectZh);
    expect(byZh.facts.find((f) => f.id === 'P36:551')).toMatchObject({ matchedLang: 'zh', matchedField: 'object' });

    const byEn = await explorer.listFacts('P36', 'Beijing');
    expect(byEn.facts.map((f) => f.id)).toContain('P36:551');
    expect(byEn.facts.find((f) => f.id === 'P36:551')).toMatchObject({ matchedLang: 'en', matchedField: 'object' });
    expect(byEn.facts.find((f) => f.id === 'P36:551')!.labels.zh).toEqual({ subject: '中华人民共和国', object: '北京市' });
    for (const f of byEn.facts) expect(LANGS.some((l) => /beijing/i.test(f.labels[l]?.subject + ' ' + f.labels[l]?.object))).toBe(true);

    const bySubject = await explorer.listFacts('P36', 'azerbaijan');
    expect(bySubject.facts[0]).toMatchObject({ id: 'P36:0', matchedLang: 'en', matchedField: 'subject' });
    const all = await explorer.listFacts('P36', '', 5);
    expect(all.total).toBe(en.facts.length);
    expect(all.facts[0]).not.toHaveProperty('matchedLang');
  });
});

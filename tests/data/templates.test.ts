import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LANGS, RELATIONS, type Manifest, type Shard } from '../../src/data/types';
import { causalQuery, maskedQuery } from '../../src/data/queries';
import { DATA_DIR } from './helpers';

const manifest: Manifest = JSON.parse(readFileSync(join(DATA_DIR, 'manifest.json'), 'utf8'));
const shards: Shard[] = manifest.shards.map((e) => JSON.parse(readFileSync(join(DATA_DIR, e.path), 'utf8')));
const SOURCES = ['mpararel', 'mlama', 'chen-aligned', 'pararel', 'xfactr', 'written'];
const count = (s: string, sub: string) => s.split(sub).length - 1;
const stray = (s: string) => /[[\]]/.test(s.replace(/\[[XY]\]/g, ''));

describe('RML-LAMA templates', () => {
  it('covers 8 relations x 7 languages', () => {
    expect(shards.length).toBe(56);
    for (const r of RELATIONS)
      for (const l of LANGS)
        expect(
          shards.some((s) => s.relation === r && s.lang === l),
          `${r}.${l}`,
        ).toBe(true);
  });

  it('has at least 4 causal templates per relation and language', () => {
    for (const s of shards) expect(s.templates.filter((t) => t.causal).length, `${s.relation}.${s.lang}`).toBeGreaterThanOrEqual(4);
  });

  it('causal templates end with the object slot [Y] itself (no trimming), one [X], no stray brackets', () => {
    for (const s of shards) {
      for (const t of s.templates) {
        if (t.causal === null) continue;
        expect(t.causal.endsWith('[Y]'), `${t.id}: ${t.causal}`).toBe(true);
        expect(count(t.causal, '[X]'), t.id).toBe(1);
        expect(count(t.causal, '[Y]'), t.id).toBe(1);
        expect(stray(t.causal), `${t.id}: ${t.causal}`).toBe(false);
        expect(t.causal).toBe(t.causal.trim());
      }
    }
  });

  it('masked templates have one [X], one [Y] and no stray brackets (Finnish "]" and Korean "[ [X] ]" cleaned)', () => {
    for (const s of shards) {
      for (const t of s.templates) {
        expect(count(t.masked, '[X]'), `${t.id}: ${t.masked}`).toBe(1);
        expect(count(t.masked, '[Y]'), `${t.id}: ${t.masked}`).toBe(1);
        expect(stray(t.masked), `${t.id}: ${t.masked}`).toBe(false);
      }
    }
  });

  it('records an origin for every template: source pattern, or written with a note', () => {
    for (const s of shards) {
      const ids = new Set<string>();
      for (const t of s.templates) {
        expect(ids.has(t.id), t.id).toBe(false);
        ids.add(t.id);
        expect(SOURCES).toContain(t.origin.source);
        if (t.origin.source === 'written') {
          expect(t.origin.note, t.id).toBeTruthy();
          expect(t.causal, t.id).not.toBeNull();
        } else expect(t.origin.pattern, t.id).toBeTruthy();
      }
    }
  });

  it('SOV languages get object-last templates, e.g. ja [X]の出身地は[Y] and ko [X]의 수도는 [Y]', () => {
    const get = (r: string, l: string) => shards.find((s) => s.relation === r && s.lang === l)!;
    expect(get('P19', 'ja').templates.map((t) => t.causal)).toContain('[X]の出身地は[Y]');
    expect(get('P36', 'ko').templates.map((t) => t.causal)).toContain('[X]의 수도는 [Y]');
    expect(get('P36', 'zh').templates.map((t) => t.causal)).toContain('[X]的首都是[Y]');
  });

  it('builds queries: causal = text before [Y] with the separator on the target; masked = mask in place', () => {
    const en = shards.find((s) => s.relation === 'P36' && s.lang === 'en')!;
    const t = en.templates.find((x) => x.causal === 'The capital of [X] is [Y]')!;
    expect(causalQuery(t, { id: 'P36:0', subject: 'France', object: 'Paris' })).toEqual({ prompt: 'The capital of France is', target: ' Paris' });
    expect(maskedQuery(t, { id: 'P36:0', subject: 'France', object: 'Paris' }, '[MASK]').prompt).toBe('The capital of France is [MASK].');
    const zh = shards.find((s) => s.relation === 'P36' && s.lang === 'zh')!;
    const tz = zh.templates.find((x) => x.causal === '[X]的首都是[Y]')!;
    expect(causalQuery(tz, { id: 'P36:0', subject: '法国', object: '巴黎' })).toEqual({ prompt: '法国的首都是', target: '巴黎' });
  });

  it('has the same facts, with labels, in all 7 languages', () => {
    for (const r of RELATIONS) {
      const per = shards.filter((s) => s.relation === r);
      const ids = per[0].facts.map((f) => f.id);
      for (const s of per) {
        expect(s.facts.map((f) => f.id)).toEqual(ids);
        for (const f of s.facts) expect(f.subject && f.object, `${s.relation}.${s.lang} ${f.id}`).toBeTruthy();
      }
    }
    const total = RELATIONS.reduce((a, r) => a + shards.find((s) => s.relation === r)!.facts.length, 0);
    expect(total).toBeGreaterThanOrEqual(2400);
  });

  it('carries licence and citation of every source in the manifest', () => {
    expect(manifest.license).toMatch(/CC BY-NC 4\.0/);
    for (const s of manifest.sources) {
      expect(s.license, s.name).toBeTruthy();
      expect(s.citation, s.name).toBeTruthy();
      expect(s.repo, s.name).toBeTruthy();
    }
    expect(manifest.sources.map((s) => s.name).join(' ')).toMatch(/mParaRel.*mLAMA.*ParaRel.*X-FACTR/s);
  });
});

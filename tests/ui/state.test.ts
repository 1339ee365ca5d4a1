import { describe, expect, it } from 'vitest';
import { KnError } from '../../src/shared/errors';
import { createRng, type Rng } from '../../src/engine/selection/rng';
import {
  EXPLORATION_METHODS,
  STATE_LIMITS,
  base64urlDecode,
  base64urlEncode,
  decodeState,
  defaultState,
  encodeState,
  encodeStateUncompressed,
  type ExplorationState,
} from '../../src/ui/share/state';
import { deflateSync } from 'fflate';

function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[r.nextInt(xs.length)];
}

function randomState(r: Rng): ExplorationState {
  const models: ExplorationState['model'][] = [
    { type: 'bundled', name: pick(r, ['demo', 'tiny-gpt2', 'mbert_small.v2']) },
    { type: 'url', url: pick(r, ['https://example.org/models/gpt2', 'http://localhost:8080/m?x=1&y=é']) },
    { type: 'hub', repo: pick(r, ['gpt2', 'ai-forever/mGPT', 'bert-base-multilingual-cased']) },
    { type: 'hub', repo: 'openai-community/gpt2', revision: pick(r, ['main', 'refs/pr/3', 'a1b2c3d']) },
  ];
  const num = () => (r.nextFloat() - 0.5) * 10 ** (r.nextInt(7) - 3);
  const s: ExplorationState = {
    v: 1,
    model: pick(r, models),
    method: pick(r, EXPLORATION_METHODS),
    settings: {
      alpha1: num(),
      alpha2: num(),
      beta1: num(),
      beta2: num(),
      tau: r.nextInt(4) === 0 ? pick(r, [0, 1]) : r.nextFloat(),
      norm: pick(r, ['language', 'neuron'] as const),
      attrNorm: pick(r, ['layer', 'global', 'none'] as const),
    },
    steps: 1 + r.nextInt(1000),
    baseline: pick(r, ['pad', 'zero'] as const),
  };
  if (r.nextInt(2)) s.fact = pick(r, ['P36/0', 'P19:12', '⟨China, capital, Beijing⟩ 北京']);
  if (r.nextInt(2)) {
    const all = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko', 'pt-BR'];
    s.langs = all.filter(() => r.nextInt(2) === 1);
  }
  if (r.nextInt(2)) {
    const n = r.nextInt(50);
    s.toggles = {
      set: pick(r, ['selected', 'manual'] as const),
      neurons: Array.from({ length: n }, () => [r.nextInt(48), r.nextInt(16384)] as [number, number]),
      factor: pick(r, [0, 2, -10, 10, (r.nextFloat() - 0.5) * 20]),
    };
  }
  if (r.nextInt(2)) s.compare = r.nextInt(2) === 1;
  return s;
}

/** A link carrying raw JSON text (bypassing encodeState's validation). */
function rawLink(json: string): string {
  return `#s=${base64urlEncode(new TextEncoder().encode(json))}`;
}
function linkWith(mut: (o: Record<string, any>) => void): string {
  const o = JSON.parse(JSON.stringify(defaultState()));
  mut(o);
  return rawLink(JSON.stringify(o));
}

function expectBad(fn: () => unknown, ...parts: (string | RegExp)[]) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a KnError').toBeInstanceOf(KnError);
  expect((err as KnError).code).toBe('bad-input');
  for (const p of parts) expect((err as KnError).message).toMatch(p);
  return (err as KnError).message;
}

describe('share link state', () => {
  it('round-trips 300 random valid states exactly (seeded)', () => {
    const r = createRng('state-roundtrip');
    for (let i = 0; i < 300; i++) {
      const s = randomState(r);
      const hash = encodeState(s);
      expect(hash).toMatch(/^#z=[A-Za-z0-9_-]+$/);
      expect(decodeState(hash)).toStrictEqual(s);
      // canonical: encoding the decoded state gives the same link
      expect(encodeState(decodeState(hash))).toBe(hash);
    }
  });

  it('round-trips the default state and accepts the hash without "#", inside a URL, or with other params', () => {
    const s = defaultState();
    const h = encodeState(s);
    expect(decodeState(h)).toStrictEqual(s);
    expect(decodeState(h.slice(1))).toStrictEqual(s);
    expect(decodeState(`https://host/app/?x=1${h}`)).toStrictEqual(s);
    expect(decodeState(`#tab=2&${h.slice(1)}&z=3`)).toStrictEqual(s);
  });

  it('round-trips the maximum number of toggled neurons', () => {
    const s = defaultState();
    s.toggles = {
      set: 'manual',
      neurons: Array.from({ length: STATE_LIMITS.maxToggledNeurons }, (_, i) => [i % 48, (i * 7919) % 16384] as [number, number]),
      factor: 2,
    };
    const h = encodeState(s);
    expect(h.length).toBeLessThanOrEqual(STATE_LIMITS.maxLinkLength);
    expect(decodeState(h)).toStrictEqual(s);
  });

  it('links are compressed (z=), and the uncompressed links of earlier versions (s=) still open', () => {
    const r = createRng('state-compat');
    for (let i = 0; i < 50; i++) {
      const s = randomState(r);
      const old = encodeStateUncompressed(s);
      expect(old).toMatch(/^#s=[A-Za-z0-9_-]+$/);
      expect(decodeState(old)).toStrictEqual(s);
      expect(decodeState(encodeState(s))).toStrictEqual(s);
    }
    // a link written by the previous version, verbatim
    const v0 =
      '#s=eyJ2IjoxLCJtb2RlbCI6eyJ0eXBlIjoiYnVuZGxlZCIsIm5hbWUiOiJkZW1vIn0sIm1ldGhvZCI6Im1hdHJpY2UiLCJzZXR0aW5ncyI6eyJhbHBoYTEiOjEsImFscGhhMiI6MSwiYmV0YTEiOjEsImJldGEyIjoxLCJ0YXUiOjAuMiwibm9ybSI6InNjYWxlIiwiYXR0ck5vcm0iOiJub25lIn0sInN0ZXBzIjoyMCwiYmFzZWxpbmUiOiJwYWQifQ';
    expect(decodeState(v0)).toStrictEqual({
      v: 1,
      model: { type: 'bundled', name: 'demo' },
      method: 'matrice',
      settings: { alpha1: 1, alpha2: 1, beta1: 1, beta2: 1, tau: 0.2, norm: 'scale', attrNorm: 'none' },
      steps: 20,
      baseline: 'pad',
    });
    // many toggled neurons: the compressed link is much shorter
    const big = defaultState();
    big.toggles = { set: 'manual', neurons: Array.from({ length: 2000 }, (_, i) => [i % 4, i % 512] as [number, number]), factor: 0 };
    expect(encodeState(big).length).toBeLessThan(encodeStateUncompressed(big).length / 4);
  });

  it('refuses compressed links that are not DEFLATE or inflate beyond the limit, naming z', () => {
    expectBad(() => decodeState(`#z=${base64urlEncode(Uint8Array.from([1, 2, 3, 4, 5]))}`), /link: z is not valid compressed data/);
    const bomb = deflateSync(new Uint8Array(STATE_LIMITS.maxStateBytes + 10).fill(32), { level: 9 });
    expectBad(() => decodeState(`#z=${base64urlEncode(bomb)}`), /link: z decompresses to more than \d+ bytes/);
    expectBad(() => decodeState(`#z=${base64urlEncode(deflateSync(new TextEncoder().encode('{"v":2}')))}`), /link: v must be 1/);
  });

  it('base64url is the RFC 4648 §5 alphabet and round-trips all byte lengths', () => {
    const r = createRng(7);
    for (let n = 0; n < 70; n++) {
      const b = Uint8Array.from({ length: n }, () => r.nextInt(256));
      const e = base64urlEncode(b);
      expect(e).toBe(Buffer.from(b).toString('base64url'));
      expect(Array.from(base64urlDecode(e))).toEqual(Array.from(b));
    }
  });

  describe('rejects malformed links with a message naming the field', () => {
    it('no s= parameter / empty', () => {
      expectBad(() => decodeState(''), /link: hash has no "z=" or "s=" parameter/);
      expectBad(() => decodeState('#x=1'), /"s="/);
      expectBad(() => decodeState('#s='), /link: s is empty/);
    });
    it('bad base64', () => {
      expectBad(() => decodeState('#s=abc$def'), /link: s is not valid base64url/, /"\$"/);
      expectBad(() => decodeState('#s=ab+/'), /base64url/);
      expectBad(() => decodeState('#s=abcde'), /base64url/);
    });
    it('bad UTF-8 and bad JSON', () => {
      expectBad(() => decodeState(`#s=${base64urlEncode(Uint8Array.from([0xff, 0xfe, 0x7b]))}`), /link: s is not valid UTF-8/);
      expectBad(() => decodeState(rawLink('{"v":1,')), /link: s is not valid JSON/);
      expectBad(() => decodeState(rawLink('{"v":1,"settings":{"tau":NaN}}')), /not valid JSON/);
      expectBad(() => decodeState(rawLink('[1,2]')), /link: state must be an object/);
    });
    it('wrong v', () => {
      expectBad(() => decodeState(linkWith((o) => (o.v = 2))), /link: v must be 1/, /got 2/);
      expectBad(() => decodeState(linkWith((o) => delete o.v)), /link: v is missing/);
    });
    it('tau out of [0, 1]', () => {
      expectBad(() => decodeState(linkWith((o) => (o.settings.tau = 2))), /link: settings\.tau must be in \[0, 1\], got 2/);
      expectBad(() => decodeState(linkWith((o) => (o.settings.tau = -0.1))), /settings\.tau/);
      expectBad(() => decodeState(linkWith((o) => (o.settings.tau = '0.2'))), /settings\.tau must be a finite number/);
    });
    it('factor NaN / out of range', () => {
      // NaN has no JSON form; JSON.stringify writes null
      const nanLink = linkWith((o) => (o.toggles = { set: 'manual', neurons: [], factor: NaN }));
      expectBad(() => decodeState(nanLink), /link: toggles\.factor must be a finite number, got null/);
      expectBad(() => decodeState(linkWith((o) => (o.toggles = { set: 'manual', neurons: [], factor: 11 }))), /toggles\.factor must be in \[-10, 10\]/);
      const s = defaultState();
      s.toggles = { set: 'manual', neurons: [], factor: NaN };
      expectBad(() => encodeState(s), /state: toggles\.factor must be a finite number, got NaN/);
      s.toggles.factor = Infinity;
      expectBad(() => encodeState(s), /toggles\.factor/);
    });
    it('negative or non-integer neuron index', () => {
      const t = (neurons: unknown) => linkWith((o) => (o.toggles = { set: 'manual', neurons, factor: 0 }));
      expectBad(
        () =>
          decodeState(
            t([
              [0, 1],
              [2, -3],
            ]),
          ),
        /link: toggles\.neurons\[1\] neuron index must be a non-negative integer, got -3/,
      );
      expectBad(() => decodeState(t([[-1, 0]])), /toggles\.neurons\[0\] layer must be a non-negative integer/);
      expectBad(() => decodeState(t([[1.5, 0]])), /toggles\.neurons\[0\] layer/);
      expectBad(() => decodeState(t([[1, 2, 3]])), /toggles\.neurons\[0\] must be a pair/);
      expectBad(() => decodeState(t('1,2')), /toggles\.neurons must be an array/);
    });
    it('quadrature: a link without one (written before the option) decodes without it; a named one round-trips', () => {
      expect('quadrature' in decodeState(linkWith(() => {}))).toBe(false);
      expect(decodeState(linkWith((o) => (o.quadrature = 'gauss-legendre'))).quadrature).toBe('gauss-legendre');
      expect(decodeState(linkWith((o) => (o.quadrature = 'riemann-right'))).quadrature).toBe('riemann-right');
    });
    it('unknown method, model type, enums', () => {
      expectBad(
        () => decodeState(linkWith((o) => (o.method = 'magic'))),
        /link: method must be one of "matrice", "amig", "random", "no-uaq", "no-ual", got "magic"/,
      );
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'folder', path: '/etc' }))), /link: model\.type must be one of/);
      expectBad(() => decodeState(linkWith((o) => (o.baseline = 'eos'))), /link: baseline/);
      expectBad(
        () => decodeState(linkWith((o) => (o.quadrature = 'simpson'))),
        /link: quadrature must be one of "riemann-right", "gauss-legendre", got "simpson"/,
      );
      expectBad(() => decodeState(linkWith((o) => (o.settings.norm = 'x'))), /link: settings\.norm/);
      expectBad(() => decodeState(linkWith((o) => (o.settings.attrNorm = 'x'))), /link: settings\.attrNorm/);
      expectBad(() => decodeState(linkWith((o) => (o.toggles = { set: 'all', neurons: [], factor: 0 }))), /link: toggles\.set/);
    });
    it('bad model fields', () => {
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'bundled', name: '../secret' }))), /link: model\.name must be a folder name/);
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'url', url: 'javascript:alert(1)' }))), /link: model\.url must be an http\(s\) URL/);
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'url', url: 'models/x' }))), /link: model\.url is not an absolute URL/);
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'hub', repo: 'a/b/c' }))), /link: model\.repo/);
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'hub', repo: 'a/b', revision: 'x y' }))), /link: model\.revision/);
      expectBad(() => decodeState(linkWith((o) => (o.model = { type: 'hub', repo: 'a/b', url: 'https://x' }))), /link: model has an unknown field "url"/);
    });
    it('steps, langs, fact, compare, unknown fields', () => {
      expectBad(() => decodeState(linkWith((o) => (o.steps = 0))), /link: steps must be an integer in \[1, 1000\], got 0/);
      expectBad(() => decodeState(linkWith((o) => (o.steps = 1001))), /link: steps/);
      expectBad(() => decodeState(linkWith((o) => (o.steps = 2.5))), /link: steps must be an integer/);
      expectBad(() => decodeState(linkWith((o) => (o.langs = ['en', 'EN']))), /link: langs\[1\] must be a language code/);
      expectBad(() => decodeState(linkWith((o) => (o.langs = ['en', 'en']))), /link: langs\[1\] repeats/);
      expectBad(() => decodeState(linkWith((o) => (o.langs = ['__proto__']))), /link: langs\[0\]/);
      expectBad(() => decodeState(linkWith((o) => (o.fact = 'a\u0000b'))), /link: fact contains control characters/);
      expectBad(() => decodeState(linkWith((o) => (o.fact = 'x'.repeat(300)))), /link: fact is 300 characters long/);
      expectBad(() => decodeState(linkWith((o) => (o.compare = 'yes'))), /link: compare must be true or false/);
      expectBad(() => decodeState(linkWith((o) => (o.extra = 1))), /link: state has an unknown field "extra"/);
      expectBad(() => decodeState(linkWith((o) => (o.settings.gamma = 1))), /link: settings has an unknown field "gamma"/);
      expectBad(() => decodeState(linkWith((o) => delete o.settings.beta2)), /link: settings\.beta2 is missing/);
    });
    it('too long', () => {
      expectBad(() => decodeState(`#s=${'A'.repeat(STATE_LIMITS.maxLinkLength)}`), /link: hash is \d+ characters long, at most 262144 allowed/);
      const many = linkWith(
        (o) => (o.toggles = { set: 'manual', neurons: Array.from({ length: STATE_LIMITS.maxToggledNeurons + 1 }, () => [0, 0]), factor: 0 }),
      );
      expectBad(() => decodeState(many), /link: toggles\.neurons has 10001 entries, at most 10000 allowed/);
    });
  });

  it('decodeState results are fresh objects (no aliasing of the parsed JSON)', () => {
    const s = defaultState();
    s.toggles = { set: 'manual', neurons: [[1, 2]], factor: 0 };
    const a = decodeState(encodeState(s));
    const b = decodeState(encodeState(s));
    a.toggles!.neurons[0][0] = 9;
    expect(b.toggles!.neurons[0][0]).toBe(1);
  });
});

/**
 * Emoji have a fallback font: the app's font stacks (src/ui/app.css) end in an emoji family, after the
 * text fonts, and .ci/run installs that font (Debian fonts-noto-color-emoji) beside Noto CJK.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const css = readFileSync(join(ROOT, 'src/ui/app.css'), 'utf8');
const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');

/** the value of the first declaration `name: …;` outside @font-face rules, var(--x) resolved */
function decl(name: string): string {
  const m = new RegExp(`(?:^|[\\s;{])${name.replace(/[-]/g, '\\-')}:\\s*([^;]+);`).exec(css.replace(/@font-face\s*{[^}]*}/g, ''));
  expect(m, name).not.toBeNull();
  return m![1].replace(/var\((--[\w-]+)\)/g, (_, v: string) => decl(v));
}
const families = (v: string) => v.split(',').map((f) => f.trim().replace(/^['"]|['"]$/g, ''));

describe('emoji fallback font', () => {
  it("the page and monospace stacks end with Noto Color Emoji (and the other platforms' emoji fonts) after the text fonts", () => {
    for (const stack of [decl('font-family'), decl('--mono')]) {
      const f = families(stack);
      const i = f.indexOf('Noto Color Emoji');
      expect(i, stack).toBeGreaterThan(0);
      // a generic text family comes before it, so text never renders in the emoji font
      expect(
        f.slice(0, i).some((x) => x === 'sans-serif' || x === 'monospace'),
        stack,
      ).toBe(true);
      expect(f).toContain('Apple Color Emoji');
      expect(f).toContain('Segoe UI Emoji');
    }
  });

  it("both stacks start with 'KN Emoji': the colour emoji font on the emoji blocks only (never digits or letters)", () => {
    const face = /@font-face\s*{([^}]*)}/.exec(css)?.[1] ?? '';
    expect(face).toMatch(/font-family:\s*'KN Emoji'/);
    expect(face).toMatch(/local\('Noto Color Emoji'\)/);
    const range = /unicode-range:\s*([^;]+);/
      .exec(face)![1]
      .split(',')
      .map((r) =>
        r
          .trim()
          .replace(/^U\+/, '')
          .split('-')
          .map((h) => parseInt(h, 16)),
      );
    const covered = (cp: number) => range.some(([lo, hi]) => cp >= lo && cp <= (hi ?? lo));
    expect(covered(0x1f600)).toBe(true); // 😀
    expect(covered(0x1f9e0)).toBe(true); // 🧠
    for (const ch of '0123456789 #*aZ✓✗✕→·') expect(covered(ch.codePointAt(0)!), ch).toBe(false);
    for (const stack of [decl('font-family'), decl('--mono')]) expect(families(stack)[0]).toBe('KN Emoji');
  });

  it('.ci/run installs fonts-noto-color-emoji with fonts-noto-cjk, and checks for it', () => {
    const install = ci.split('\n').find((l) => /apt-get install/.test(l));
    expect(install).toMatch(/\bfonts-noto-cjk\b/);
    expect(install).toMatch(/\bfonts-noto-color-emoji\b/);
    expect(ci).toMatch(/dpkg -s [^\n]*fonts-noto-color-emoji/);
  });
});

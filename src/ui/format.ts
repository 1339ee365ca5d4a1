/** Pure formatting helpers for the UI (no DOM). */

const VISIBLE: Record<string, string> = {
  ' ': '␣',
  Ġ: '␣', // GPT-2 byte-level space
  '▁': '␣', // SentencePiece space
  '\n': '↵',
  Ċ: '↵',
  '\t': '⇥',
  ĉ: '⇥',
  '\r': '␍',
};

/** Make whitespace in a token visible: " Paris" -> "␣Paris". Returned as text, never HTML. */
export function visibleToken(tok: string): string {
  if (tok === '') return '∅';
  let out = '';
  for (const ch of tok) out += VISIBLE[ch] ?? (ch.charCodeAt(0) < 32 ? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch);
  return out;
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatProb(p: number): string {
  if (p >= 0.001) return `${(p * 100).toFixed(2)} %`;
  return p.toExponential(2);
}

export function progressText(loaded: number, total: number): string {
  return total > 0 ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
}

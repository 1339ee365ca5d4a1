/**
 * Static hosting of an exploration: a read-only page that shows stored results without loading a model.
 *
 * Convention (wired up by the explorer page): the built app opened with `?static=<relative path to an
 * exploration JSON>` fetches that file from the same origin, imports it with `importExploration`, and
 * shows the stored results read-only. `buildStaticExploration` lists the files to put beside the built
 * `dist/`: the exploration JSON, a tiny redirect page, and a README.txt with the steps.
 *
 * `staticParam(search)` reads and checks the parameter: only a relative path to a `.json` file on the same
 * origin is accepted (no scheme, no `//`, no `..`, no backslashes), so a crafted link cannot make the page
 * fetch from elsewhere.
 */
import { KnError } from '../../shared/errors';
import { isHtmlFallback } from '../../engine/source';
import { modelLabel } from '../../engine/source';
import { importExploration } from './exploration-file';

export const STATIC_PARAM = 'static';
export const STATIC_FILE = 'exploration.json';
export const STATIC_OPEN_PAGE = 'exploration.html';

export interface StaticFile {
  path: string;
  content: string;
}

/** The README's "How to host it" steps for a file `file` opened by the page `openPage` or at `<host>/<query>`. */
export function hostingSteps(file: string, openPage: string, query: string): string[] {
  return [
    'How to host it:',
    '  1. Build the app:            npm ci && npm run build      (writes dist/)',
    `  2. Copy ${file} and ${openPage} into dist/ (next to index.html).`,
    '  3. Serve dist/ from any static host (GitHub Pages, Netlify, S3, `npx vite preview`, ...).',
    `  4. Open <your host>/${openPage}, or directly <your host>/${query}`,
  ];
}

/** The small HTML page that sends a visitor on to `url` (the page beside the app, e.g. exploration.html). */
export function redirectPage(title: string, url: string, linkText: string): string {
  const href = url.replace(/&/g, '&amp;');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<meta http-equiv="refresh" content="0; url=${href}">
</head>
<body>
<p><a href="${href}">${linkText}</a></p>
</body>
</html>
`;
}

/**
 * The files a static host needs beside the built app (`dist/`) to open this exploration read-only.
 * Validates the exploration first (throws `KnError('bad-input', 'exploration file: …')`).
 */
export function buildStaticExploration(file: string): { files: StaticFile[]; url: string } {
  const ex = importExploration(file);
  const url = `./?${STATIC_PARAM}=${encodeURIComponent(STATIC_FILE)}`;
  const m = ex.meta.model;
  const facts = ex.state.fact ? `fact ${ex.state.fact}, ` : '';
  const readme = [
    'Knowledge Neuron Explorer - a static, read-only exploration',
    '',
    `Model: ${oneLine(m.label || modelLabel(ex.state.model))} (${m.numLayers} layers x ${m.ffnSize} neurons)`,
    `Exploration: ${facts}method ${ex.state.method}${ex.results ? '' : ' (no stored results)'}`,
    '',
    ...hostingSteps(STATIC_FILE, STATIC_OPEN_PAGE, `?${STATIC_PARAM}=${STATIC_FILE}`),
    '',
    'The page then loads the stored results from exploration.json and shows them read-only: no model is',
    'downloaded and nothing is computed. To explore further (other settings, manipulations), import the',
    'JSON file into a full explorer that can load the model.',
    '',
    `The ${STATIC_PARAM}= parameter only accepts a relative path to a .json file on the same host.`,
    '',
  ].join('\n');
  const open = redirectPage('Knowledge Neuron Explorer - exploration', url, 'Open the exploration');
  return {
    files: [
      { path: STATIC_FILE, content: file },
      { path: STATIC_OPEN_PAGE, content: open },
      { path: 'README.txt', content: readme },
    ],
    url,
  };
}

/**
 * The `static` parameter of a query string (`location.search`), checked: null when absent; a relative
 * same-origin path ending in `.json` otherwise. Throws `KnError('bad-input', …)` for anything else.
 */
export function staticParam(search: string): string | null {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const v = params.get(STATIC_PARAM);
  if (v === null) return null;
  const bad = (why: string): never => {
    throw new KnError('bad-input', `static exploration: the "${STATIC_PARAM}" parameter ${why}`);
  };
  if (v.length === 0) bad('is empty');
  if (v.length > 512) bad(`is ${v.length} characters long, at most 512 allowed`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith('//') || v.startsWith('/')) {
    bad(
      `must be a relative path on this host, and "${oneLine(v).slice(0, 80)}" is not: the page only opens explorations from its own host (beside index.html), so that a link cannot make it fetch data from elsewhere`,
    );
  }
  if (v.includes('\\') || v.split('/').includes('..')) bad('must not contain ".." or backslashes');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f?#]/.test(v)) bad('contains characters not allowed in a file path');
  if (!/\.json$/i.test(v)) bad('must name a .json file');
  return v;
}

type FetchResponse = Pick<Response, 'ok' | 'status' | 'statusText' | 'text'> & { headers: { get(name: string): string | null } };

/**
 * Fetches the static exploration `path` (already checked by `staticParam`) relative to the page `base`.
 * A missing file is reported as not found, also when the server answers with its HTML page instead (what
 * single-page hosts and the dev server do for any unknown path), not as a JSON syntax error.
 */
export async function fetchStaticExploration(path: string, base: string, fetchImpl: (url: string) => Promise<FetchResponse> = fetch): Promise<string> {
  const url = new URL(path, base);
  if (url.origin !== new URL(base).origin) throw new KnError('bad-input', `static exploration ${path}: not on this host`);
  let res: FetchResponse;
  try {
    res = await fetchImpl(url.href);
  } catch (e) {
    throw new KnError('unreachable', `static exploration ${path}: unreachable (${(e as Error).message || String(e)})`);
  }
  const where = `put ${path} beside the app's index.html`;
  if (res.status === 404 || res.status === 410) throw new KnError('missing-file', `static exploration ${path}: not found (HTTP ${res.status}); ${where}`);
  if (!res.ok) throw new KnError('unreachable', `static exploration ${path}: HTTP ${res.status} ${res.statusText}`.trim());
  if (isHtmlFallback(path, res.headers.get('content-type'))) {
    throw new KnError('missing-file', `static exploration ${path}: not found (the server answered with a web page, not the file); ${where}`);
  }
  return res.text();
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
}

/** Browser only: saves `text` as a file download (not unit tested). */
export function downloadBlob(name: string, text: string, type = 'application/json'): void {
  const blob = new Blob([text], { type: `${type};charset=utf-8` });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

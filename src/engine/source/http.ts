import { KnError } from '../../shared/errors';

/**
 * A `text/html` answer for a file that is not a web page: the fallback page that single-page hosts and
 * Vite's servers send for any unknown path (HTTP 200), i.e. the file does not exist. Callers report it as
 * "not found" instead of failing to parse the page as JSON ("Unexpected token '<'").
 */
export function isHtmlFallback(name: string, contentType: string | null): boolean {
  return !!contentType && /^\s*text\/html\b/i.test(contentType) && !/\.html?$/i.test(name);
}

/**
 * What a server must send for the page to read a model from another origin (README "Models"). The
 * engine asks for whole files (no Range requests) and reads only Content-Length and Content-Type, which
 * the browser shows without Access-Control-Expose-Headers; so this one header is all it takes.
 */
export const CORS_HEADER = 'Access-Control-Allow-Origin: *';

/** Whether this runs in a browser (page or worker), where a cross-origin answer needs CORS headers. */
function inBrowser(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return typeof g.document !== 'undefined' || typeof g.WorkerGlobalScope !== 'undefined';
}

/**
 * Whether anything answers at `url`: a `no-cors` request succeeds (with an opaque response the page may
 * not read) whenever the server answered, CORS headers or not, and fails like the first request when
 * nothing answered.
 */
export async function answersWithoutCors(url: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const res = await fetch(url, { mode: 'no-cors', cache: 'no-store', signal });
    return res.type === 'opaque' || res.ok;
  } catch {
    return false;
  }
}

/**
 * Why `fetch(url)` threw, as a KnError. In a browser a TypeError ("Failed to fetch") is either a server
 * that did not answer (code 'unreachable') or one that answered without CORS permission for this page
 * (code 'cors'); `probe` (a no-cors request) tells them apart. Elsewhere (Node) there is no CORS.
 */
export async function fetchFailure(
  url: string,
  e: unknown,
  opts: { signal?: AbortSignal; browser?: boolean; probe?: (url: string, signal?: AbortSignal) => Promise<boolean> } = {},
): Promise<KnError> {
  const why = (e instanceof Error && e.message) || String(e);
  const browser = opts.browser ?? inBrowser();
  if (browser && e instanceof TypeError && (await (opts.probe ?? answersWithoutCors)(url, opts.signal))) {
    return new KnError(
      'cors',
      `${url}: the server answered, but without CORS permission for this page (no Access-Control-Allow-Origin header), so the browser withheld the file; ` +
        `serve the model with the header "${CORS_HEADER}" (e.g. npx http-server --cors), or from this page's own origin`,
    );
  }
  return new KnError('unreachable', `${url}: unreachable (${why})`);
}

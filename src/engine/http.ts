/**
 * A `text/html` answer for a file that is not a web page: the fallback page that single-page hosts and
 * Vite's servers send for any unknown path (HTTP 200), i.e. the file does not exist. Callers report it as
 * "not found" instead of failing to parse the page as JSON ("Unexpected token '<'").
 */
export function isHtmlFallback(name: string, contentType: string | null): boolean {
  return !!contentType && /^\s*text\/html\b/i.test(contentType) && !/\.html?$/i.test(name);
}

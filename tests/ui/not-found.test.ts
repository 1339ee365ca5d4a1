/**
 * Missing files answered by a server's HTML fallback page (Vite's dev and preview servers, single-page
 * hosts) are reported as not found, not as "not valid JSON (Unexpected token '<')"; a foreign ?static= is
 * refused with the reason; the Share view says why it has no link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KnError } from '../../src/shared/errors';
import { isHtmlFallback } from '../../src/engine/source/http';
import { UrlSource } from '../../src/engine/source/source';
import { fetchStaticExploration, staticParam } from '../../src/ui/share/static-export';
import { shareLinkUnavailable } from '../../src/ui/share/link-status';

const PAGE = '<!doctype html>\n<html lang="en"><head><title>app</title></head><body></body></html>\n';
let server: Server;
let base: string;

beforeAll(async () => {
  // like `vite preview`: index.html with 200 for any unknown path; one real JSON file; one real 404
  server = createServer((req, res) => {
    if (req.url === '/exploration.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"format":"kn-exploration"}');
    } else if (req.url?.startsWith('/gone/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nope');
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function refusal(p: Promise<unknown>): Promise<KnError> {
  const e = await p.then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(KnError);
  return e as KnError;
}

describe('an HTML fallback page means "not found"', () => {
  it('recognises the fallback by its content type, for files that are not web pages', () => {
    expect(isHtmlFallback('config.json', 'text/html')).toBe(true);
    expect(isHtmlFallback('config.json', 'text/html; charset=utf-8')).toBe(true);
    expect(isHtmlFallback('config.json', 'application/json')).toBe(false);
    expect(isHtmlFallback('config.json', null)).toBe(false);
    expect(isHtmlFallback('exploration.html', 'text/html')).toBe(false);
  });

  it('a model file the server answers with its page is missing (the loader then says "not found")', async () => {
    const src = new UrlSource(`${base}models/nope`, 'bundled:nope');
    expect(await src.open('config.json')).toBeNull();
    expect(await src.open('kn-manifest.json')).toBeNull();
    expect(await new UrlSource(`${base}gone`).open('config.json')).toBeNull();
  });

  it('?static=nope.json: "not found", with where to put the file', async () => {
    const e = await refusal(fetchStaticExploration('nope.json', base));
    expect(e.code).toBe('missing-file');
    expect(e.message).toBe(
      "static exploration nope.json: not found (the server answered with a web page, not the file); put nope.json beside the app's index.html",
    );
    expect(e.message).not.toMatch(/JSON|token/);
    const e404 = await refusal(fetchStaticExploration('gone/x.json', base));
    expect(e404.message).toMatch(/^static exploration gone\/x\.json: not found \(HTTP 404\)/);
    expect(await fetchStaticExploration('exploration.json', base)).toBe('{"format":"kn-exploration"}');
  });
});

describe('?static= on another origin', () => {
  it('is refused, and the message says why', () => {
    let err: unknown;
    try {
      staticParam('?static=https://evil.example/x.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KnError);
    expect((err as KnError).message).toBe(
      'static exploration: the "static" parameter must be a relative path on this host, and "https://evil.example/x.json" is not: the page only opens explorations from its own host (beside index.html), so that a link cannot make it fetch data from elsewhere',
    );
  });

  it('is refused at fetch time too, whatever the path resolves to', async () => {
    const e = await refusal(fetchStaticExploration('//evil.example/x.json', base));
    expect(e.message).toBe('static exploration //evil.example/x.json: not on this host');
  });
});

describe('the Share view without a link', () => {
  it('says that no model is loaded (not that local files cannot be shared)', () => {
    const m = shareLinkUnavailable({ hasModel: false, loading: false, modelType: null })!;
    expect(m).toMatch(/^No model is loaded yet/);
    expect(m).not.toMatch(/local files/);
    expect(shareLinkUnavailable({ hasModel: false, loading: true, modelType: 'bundled' })).toMatch(/still loading/);
    expect(shareLinkUnavailable({ hasModel: true, loading: false, modelType: 'files' })).toMatch(/local files, which a link cannot carry/);
    expect(shareLinkUnavailable({ hasModel: true, loading: false, modelType: 'bundled' })).toBeNull();
  });
});

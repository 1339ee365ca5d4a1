/**
 * Why a model URL could not be fetched (src/engine/source/http.ts fetchFailure): in a browser, fetch's bare
 * TypeError is told apart into a server that did not answer ('unreachable') and one that answered without
 * CORS headers ('cors', naming the header to add); in Node there is no CORS, so it stays 'unreachable'.
 * The browser itself is exercised in e2e/errors.spec.ts (a server without CORS headers, a closed port).
 */
import { describe, expect, it } from 'vitest';
import { KnError } from '../../src/shared/errors';
import { CORS_HEADER, fetchFailure } from '../../src/engine/source/http';
import { UrlSource } from '../../src/engine/source/source';
import { closedPort } from '../../e2e/model-server';

const URL_ = 'https://models.example/gpt2/config.json';
const failed = new TypeError('Failed to fetch');

describe('a fetch that threw', () => {
  it('in a browser, a server that answers a no-cors request lacks CORS headers: the message names the header', async () => {
    const probed: string[] = [];
    const e = await fetchFailure(URL_, failed, { browser: true, probe: async (u) => (probed.push(u), true) });
    expect(probed).toEqual([URL_]);
    expect(e).toBeInstanceOf(KnError);
    expect(e.code).toBe('cors');
    expect(e.message).toBe(
      `${URL_}: the server answered, but without CORS permission for this page (no Access-Control-Allow-Origin header), so the browser withheld the file; ` +
        'serve the model with the header "Access-Control-Allow-Origin: *" (e.g. npx http-server --cors), or from this page\'s own origin',
    );
    expect(CORS_HEADER).toBe('Access-Control-Allow-Origin: *');
  });

  it("in a browser, no answer to the no-cors request either: unreachable, with the browser's reason", async () => {
    const e = await fetchFailure(URL_, failed, { browser: true, probe: async () => false });
    expect([e.code, e.message]).toEqual(['unreachable', `${URL_}: unreachable (Failed to fetch)`]);
  });

  it("an error other than fetch's TypeError, or Node, is never taken for CORS (no probe is made)", async () => {
    let probes = 0;
    const probe = async () => (probes++, true);
    expect((await fetchFailure(URL_, new Error('socket hang up'), { browser: true, probe })).code).toBe('unreachable');
    expect((await fetchFailure(URL_, failed, { browser: false, probe })).code).toBe('unreachable');
    expect(probes).toBe(0);
  });

  it("a UrlSource on a closed port in Node: unreachable, naming the file's address", async () => {
    const port = await closedPort();
    const base = `http://127.0.0.1:${port}/m`;
    const e = await new UrlSource(base).open('config.json').catch((x) => x);
    expect(e).toBeInstanceOf(KnError);
    expect(e.code).toBe('unreachable');
    expect(e.message).toMatch(new RegExp(`^${base.replace(/[./]/g, '\\$&')}/config\\.json: unreachable \\(`));
  });
});

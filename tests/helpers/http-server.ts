/**
 * Test helper: a real node:http static file server over one or more folders, on an ephemeral port of
 * 127.0.0.1. It answers GET/HEAD with Content-Length, an ETag and single-range requests
 * (`Range: bytes=a-b` → 206 + Content-Range), and 404 (with `X-Error-Code: EntryNotFound`, as the
 * Hugging Face Hub does) for missing files, so it can stand in for a plain model URL and for the hub's
 * `/<repo>/resolve/<revision>/<path>` endpoint (mount the checkpoint folder at that prefix).
 *
 * Hooks let a test misbehave on purpose:
 *   status(path)    → answer with this HTTP status instead of the file (e.g. 500)
 *   transform(path, bytes) → serve these bytes instead (corrupt or truncate; Content-Length follows)
 *   abortAfter(path) → advertise the full Content-Length, send this many bytes, then destroy the socket
 *   chunked         → omit Content-Length (Transfer-Encoding: chunked), so the size is unknown
 *   chunkBytes / chunkDelayMs → write the body in chunks of this size, pausing between them
 * Every request is logged in `requests` (method, path, range header).
 *
 * Independent of src/engine: do not import engine code here.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface ServerHooks {
  status?: (path: string) => number | undefined;
  transform?: (path: string, bytes: Buffer) => Buffer;
  abortAfter?: (path: string) => number | undefined;
  chunked?: boolean | ((path: string) => boolean);
  chunkBytes?: number;
  chunkDelayMs?: number;
}

export interface ServerOptions extends ServerHooks {
  /** URL path prefix → folder. `'/'` serves a folder at the root. */
  mounts: Record<string, string>;
}

export interface RequestLog {
  method: string;
  path: string;
  range?: string;
  status: number;
}

export interface TestServer {
  /** http://127.0.0.1:<port> (no trailing slash) */
  url: string;
  port: number;
  server: Server;
  requests: RequestLog[];
  /** change hooks while running */
  hooks: ServerHooks;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function resolvePath(mounts: Record<string, string>, urlPath: string): string | null {
  // longest prefix wins
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const p of prefixes) {
    const pre = p.endsWith('/') ? p : p + '/';
    if (urlPath.startsWith(pre)) {
      const rel = normalize(urlPath.slice(pre.length));
      if (rel.startsWith('..') || rel.split(sep).includes('..')) return null;
      return join(mounts[p], rel);
    }
  }
  return null;
}

function parseRange(h: string | undefined, size: number): [number, number] | null | 'bad' {
  if (!h) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m) return null;
  let a: number, b: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    a = Math.max(0, size - n);
    b = size - 1;
  } else {
    a = Number(m[1]);
    b = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (a > b || a >= size) return 'bad';
  return [a, b];
}

async function handle(opts: ServerOptions, hooks: ServerHooks, log: RequestLog[], req: IncomingMessage, res: ServerResponse) {
  const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const entry: RequestLog = { method: req.method ?? 'GET', path: urlPath, range: req.headers.range, status: 0 };
  log.push(entry);
  const send = (status: number, body: string, headers: Record<string, string> = {}) => {
    entry.status = status;
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const forced = hooks.status?.(urlPath);
  if (forced !== undefined) return send(forced, `forced status ${forced}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
  const file = resolvePath(opts.mounts, urlPath);
  let bytes: Buffer;
  try {
    if (!file || !(await stat(file)).isFile()) throw new Error('not a file');
    bytes = await readFile(file);
  } catch {
    return send(404, `not found: ${urlPath}\n`, { 'X-Error-Code': 'EntryNotFound' });
  }
  if (hooks.transform) bytes = hooks.transform(urlPath, bytes);
  const etag = `"${createHash('sha1').update(bytes).digest('hex')}"`;
  const range = parseRange(req.headers.range, bytes.length);
  if (range === 'bad') {
    return send(416, 'range not satisfiable\n', { 'Content-Range': `bytes */${bytes.length}` });
  }
  let body = bytes;
  const headers: Record<string, string> = {
    'Content-Type': urlPath.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: etag,
  };
  let status = 200;
  if (range) {
    status = 206;
    body = bytes.subarray(range[0], range[1] + 1);
    headers['Content-Range'] = `bytes ${range[0]}-${range[1]}/${bytes.length}`;
  }
  const chunked = typeof hooks.chunked === 'function' ? hooks.chunked(urlPath) : !!hooks.chunked;
  if (!chunked) headers['Content-Length'] = String(body.length);
  entry.status = status;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') return res.end();
  const cut = hooks.abortAfter?.(urlPath);
  const limit = cut === undefined ? body.length : Math.min(cut, body.length);
  const step = hooks.chunkBytes ?? 16 * 1024;
  for (let o = 0; o < limit; o += step) {
    if (res.destroyed) return;
    const piece = body.subarray(o, Math.min(o + step, limit));
    const ok = res.write(piece);
    if (!ok) await new Promise<void>((r) => res.once('drain', () => r()));
    if (hooks.chunkDelayMs) await sleep(hooks.chunkDelayMs);
  }
  if (cut !== undefined && cut < body.length) {
    // close the connection mid-body: the client saw Content-Length but gets fewer bytes
    await new Promise<void>((r) => setImmediate(r));
    res.socket?.destroy();
    return;
  }
  res.end();
}

/** Starts a server; `mounts` maps URL prefixes to folders (e.g. `{ '/': dir }`). */
export async function start(options: ServerOptions | string): Promise<TestServer> {
  const opts: ServerOptions = typeof options === 'string' ? { mounts: { '/': options } } : options;
  const requests: RequestLog[] = [];
  const hooks: ServerHooks = {
    status: opts.status,
    transform: opts.transform,
    abortAfter: opts.abortAfter,
    chunked: opts.chunked,
    chunkBytes: opts.chunkBytes,
    chunkDelayMs: opts.chunkDelayMs,
  };
  const server = createServer((req, res) => {
    handle(opts, hooks, requests, req, res).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(e));
      } else res.destroy();
    });
  });
  // keep-alive sockets would keep stop() waiting
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server, requests, hooks };
}

/** Stops the server and closes open connections. */
export async function stop(s: TestServer | undefined): Promise<void> {
  if (!s) return;
  await new Promise<void>((resolve) => {
    s.server.close(() => resolve());
    s.server.closeAllConnections?.();
  });
}

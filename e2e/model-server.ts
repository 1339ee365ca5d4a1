/**
 * A real local HTTP server for the e2e checkpoints: static files under `root`, CORS headers,
 * Content-Length, GET/HEAD/OPTIONS. No Range support (not required by the engine).
 * `/slow/<path>` serves `<path>` throttled (4 KiB every 100 ms) so progress and Cancel can be seen.
 * `/nocors/<path>` serves `<path>` without any CORS header, as most static servers do by default: the
 * browser then withholds the answer from a page on another origin (e2e/errors.spec.ts).
 */
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.safetensors': 'application/octet-stream',
  '.txt': 'text/plain',
};

export function startModelServer(root: string, port: number): Promise<http.Server> {
  const base = normalize(root + sep);
  const server = http.createServer(async (req, res) => {
    let url = new URL(req.url ?? '/', 'http://x');
    const noCors = url.pathname.startsWith('/nocors/');
    if (noCors) url = new URL(url.pathname.slice('/nocors'.length) + url.search, 'http://x');
    else {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', '*');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Type, ETag');
    }
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const slow = url.pathname.startsWith('/slow/');
    const rel = slow ? url.pathname.slice('/slow'.length) : url.pathname;
    const file = normalize(join(base, decodeURIComponent(rel)));
    if (!file.startsWith(base)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${url.pathname}`);
      return;
    }
    const ext = file.slice(file.lastIndexOf('.'));
    res.writeHead(200, { 'Content-Type': TYPES[ext] ?? 'application/octet-stream', 'Content-Length': String(size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!slow) {
      createReadStream(file).pipe(res);
      return;
    }
    const stream = createReadStream(file, { highWaterMark: 4096 });
    stream.on('data', (chunk) => {
      stream.pause();
      res.write(chunk);
      setTimeout(() => stream.resume(), 100);
    });
    stream.on('end', () => res.end());
    req.on('close', () => stream.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A port on which nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

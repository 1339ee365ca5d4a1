/**
 * Where model files come from. Every source answers `open(name)` with a byte stream (and its size when
 * known) or null when the file does not exist, so the loader is the same for the hub, a URL, a picked
 * folder, a Node folder and the bundled models.
 */
import { downloadFile } from '@huggingface/hub';
import { KnError } from '../../shared/errors';
import { fetchFailure, isHtmlFallback } from './http';
import { filesLabel, isHubRepoId } from './model-id';
import { readAll } from './safetensors';
import type { ModelSourceSpec } from '../../shared/types';

export interface FileHandle {
  size?: number;
  stream: ReadableStream<Uint8Array>;
}

export interface ModelSource {
  /** human-readable origin, used in messages: "https://…/tiny", "hf:gpt2@main", "/path/to/folder" */
  readonly label: string;
  open(name: string, signal?: AbortSignal): Promise<FileHandle | null>;
}

export async function readText(src: ModelSource, name: string, signal?: AbortSignal): Promise<string | null> {
  const h = await src.open(name, signal);
  if (!h) return null;
  return new TextDecoder().decode(await readAll(h.stream, name, h.size, signal));
}

export async function readJson<T = unknown>(src: ModelSource, name: string, signal?: AbortSignal): Promise<T | null> {
  const text = await readText(src, name, signal);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new KnError('corrupt-file', `${name}: not valid JSON (${(e as Error).message})`);
  }
}

export class UrlSource implements ModelSource {
  readonly base: string;
  constructor(
    base: string,
    readonly label: string = base,
  ) {
    this.base = base.replace(/\/+$/, '');
  }
  async open(name: string, signal?: AbortSignal): Promise<FileHandle | null> {
    const url = `${this.base}/${name}`;
    let res: Response;
    try {
      res = await fetch(url, { signal });
    } catch (e) {
      if (signal?.aborted) throw new KnError('cancelled', `${name}: loading cancelled`);
      throw await fetchFailure(url, e, { signal }); // 'unreachable', or 'cors' when the server answered without CORS headers
    }
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok || !res.body) throw new KnError('unreachable', `${url}: HTTP ${res.status} ${res.statusText}`);
    if (isHtmlFallback(name, res.headers.get('content-type'))) {
      await res.body.cancel().catch(() => undefined);
      return null; // "not found", not a JSON syntax error about '<'
    }
    const len = res.headers.get('content-length');
    const encoded = res.headers.get('content-encoding');
    // with content-encoding, content-length counts compressed bytes: do not trust it as the file size
    return { size: len && !encoded ? Number(len) : undefined, stream: res.body };
  }
}

export class HubSource implements ModelSource {
  readonly label: string;
  constructor(
    readonly repo: string,
    readonly revision = 'main',
    readonly hubUrl = 'https://huggingface.co',
  ) {
    this.label = `hf:${repo}@${revision}`;
  }
  async open(name: string, signal?: AbortSignal): Promise<FileHandle | null> {
    let blob: Blob | null;
    try {
      blob = await downloadFile({
        repo: this.repo,
        path: name,
        revision: this.revision,
        hubUrl: this.hubUrl,
        fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal }),
      });
    } catch (e) {
      if (signal?.aborted) throw new KnError('cancelled', `${name}: loading cancelled`);
      const msg = (e as Error).message || String(e);
      if (/not found|404/i.test(msg)) return null;
      throw new KnError('unreachable', `${this.label}/${name}: unreachable (${msg})`);
    }
    if (!blob) return null;
    return { size: blob.size, stream: blob.stream() as ReadableStream<Uint8Array> };
  }
}

/** A folder the user picked or dropped in the browser (webkitRelativePath "folder/config.json"). */
export class FilesSource implements ModelSource {
  readonly label: string;
  private byName = new Map<string, File>();
  constructor(files: File[]) {
    for (const f of files) {
      const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
      const parts = rel.split('/');
      // strip the top folder so "tiny/config.json" and "config.json" both work
      const name = parts.length > 1 ? parts.slice(1).join('/') : rel;
      this.byName.set(name, f);
      if (!this.byName.has(f.name)) this.byName.set(f.name, f);
    }
    this.label = filesLabel(files);
  }
  async open(name: string): Promise<FileHandle | null> {
    const f = this.byName.get(name);
    return f ? { size: f.size, stream: f.stream() as ReadableStream<Uint8Array> } : null;
  }
}

type SourceFactory = (spec: ModelSourceSpec) => ModelSource;
const factories: Partial<Record<ModelSourceSpec['type'], SourceFactory>> = {
  url: (s) => new UrlSource((s as { url: string }).url),
  hub: (s) => {
    const h = s as { repo: string; revision?: string };
    return new HubSource(h.repo, h.revision || 'main', hubUrlOverride);
  },
  files: (s) => new FilesSource((s as { files: File[] }).files),
  bundled: (s) => {
    const name = (s as { name: string }).name;
    const base = typeof location !== 'undefined' ? new URL(`models/${name}`, bundledBase()).href : `models/${name}`;
    return new UrlSource(base, `bundled:${name}`);
  },
};
let hubUrlOverride = 'https://huggingface.co';

function bundledBase(): string {
  // in a worker, location is the worker script URL; the app's base is its origin + Vite base
  const base = (import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/';
  return new URL(base, location.origin).href;
}

/** Node registers folder/bundled factories (see source-node.ts); tests may point the hub elsewhere. */
export function registerSourceFactory(type: ModelSourceSpec['type'], f: SourceFactory) {
  factories[type] = f;
}
export function setHubUrl(url: string) {
  hubUrlOverride = url.replace(/\/+$/, '');
}

export function makeSource(spec: ModelSourceSpec): ModelSource {
  const f = factories[spec.type];
  if (!f) throw new KnError('bad-input', `model source type "${spec.type}" is not available here`);
  return f(spec);
}

/** "hf:org/name[@rev]" | "http(s)://…" | "bundled:name" | a path (Node) */
export function parseModelArg(s: string): ModelSourceSpec {
  const t = s.trim();
  if (!t) throw new KnError('bad-input', 'no model given');
  if (t.startsWith('hf:')) {
    const [repo, revision] = t.slice(3).split('@');
    if (!isHubRepoId(repo)) throw new KnError('bad-input', `"${repo}" is not a Hugging Face repo id (org/name)`);
    return { type: 'hub', repo, revision: revision || 'main' };
  }
  if (/^https?:\/\//i.test(t)) {
    try {
      new URL(t);
    } catch {
      throw new KnError('bad-input', `"${t}" is not a valid URL`);
    }
    return { type: 'url', url: t };
  }
  if (t.startsWith('bundled:')) return { type: 'bundled', name: t.slice(8) };
  return { type: 'folder', path: t };
}

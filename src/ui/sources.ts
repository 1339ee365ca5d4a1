/** Model source choices -> ModelSourceSpec, plus helpers to collect files from a dropped folder. */
import { isHubRepoId, parseBundledIndex, type BundledModel } from '../engine/source';
import type { ModelSourceSpec } from '../shared/types';

export type { BundledModel } from '../engine/source';
export type SourceKind = 'bundled' | 'hub' | 'url' | 'files';

/** Reads /models/index.json if present (its shapes: parseBundledIndex). */
export async function fetchBundledModels(base = import.meta.env.BASE_URL ?? '/'): Promise<BundledModel[]> {
  try {
    const res = await fetch(`${base.replace(/\/?$/, '/')}models/index.json`, { cache: 'no-cache' });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return [];
    return parseBundledIndex(await res.json());
  } catch {
    return [];
  }
}

export interface SourceForm {
  kind: SourceKind;
  bundled: string;
  hubRepo: string;
  hubRevision: string;
  url: string;
  files: File[];
}

/** Returns the spec or a message saying what is missing. */
export function specFromForm(f: SourceForm): ModelSourceSpec | string {
  switch (f.kind) {
    case 'bundled':
      return f.bundled ? { type: 'bundled', name: f.bundled } : 'choose a bundled model';
    case 'hub': {
      let repo = f.hubRepo.trim();
      let revision = f.hubRevision.trim() || undefined;
      if (repo.startsWith('hf:')) repo = repo.slice(3);
      const at = repo.indexOf('@');
      if (at > 0) {
        revision ??= repo.slice(at + 1) || undefined;
        repo = repo.slice(0, at);
      }
      if (!isHubRepoId(repo)) return 'enter a Hugging Face repo id like "openai-community/gpt2"';
      return revision ? { type: 'hub', repo, revision } : { type: 'hub', repo };
    }
    case 'url': {
      const u = f.url.trim();
      try {
        const parsed = new URL(u, location.href);
        if (!/^https?:$/.test(parsed.protocol)) return 'the URL must start with http:// or https://';
        return { type: 'url', url: parsed.href };
      } catch {
        return 'enter the URL of a folder holding config.json, tokenizer.json and *.safetensors';
      }
    }
    case 'files':
      // copy: a Svelte $state proxy array cannot be structured-cloned to the worker
      return f.files.length ? { type: 'files', files: Array.from(f.files) } : 'pick or drop a model folder';
  }
}

function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push(file);
  } else if (entry.isDirectory) {
    for (const e of await readAllEntries((entry as FileSystemDirectoryEntry).createReader())) await walk(e, out);
  }
}

/** Files from a drop: folders are walked recursively; plain files are taken as they are. */
export async function filesFromDrop(dt: DataTransfer): Promise<File[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const e = item.webkitGetAsEntry?.();
    if (e) entries.push(e);
  }
  if (entries.length === 0) return Array.from(dt.files ?? []);
  const out: File[] = [];
  for (const e of entries) await walk(e, out);
  return out;
}

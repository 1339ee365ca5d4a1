/**
 * How a model source is named, in one place (no dependencies: the page's main thread, the worker and the
 * CLI all import it): the Hugging Face repo-id pattern and the one-line label of a source spec.
 */
import type { ModelSourceSpec } from '../../shared/types';

/**
 * A Hugging Face repo id: "name" or "org/name", each part letters, digits, ".", "_" and "-", starting with
 * a letter or digit; ".." is refused separately (isHubRepoId).
 */
export const HUB_REPO_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function isHubRepoId(s: string): boolean {
  return HUB_REPO_PATTERN.test(s) && !s.includes('..');
}

/** Files picked or dropped in the browser, named by their top folder ("tiny/config.json" -> "tiny"), else "local files". */
export function filesLabel(files: readonly unknown[] | undefined): string {
  const first = files?.[0] as { webkitRelativePath?: unknown } | undefined;
  const rel = typeof first?.webkitRelativePath === 'string' ? first.webkitRelativePath : '';
  return (rel.includes('/') && rel.split('/')[0]) || 'local files';
}

/** The source as one line: "bundled:demo", "hf:org/name[@rev]", the URL, the folder, or a picked folder's name ("local files"). */
export function modelLabel(spec: Exclude<ModelSourceSpec, { type: 'files' }> | { type: 'files'; files?: readonly unknown[] }): string {
  switch (spec.type) {
    case 'hub':
      return `hf:${spec.repo}${spec.revision ? `@${spec.revision}` : ''}`;
    case 'url':
      return spec.url;
    case 'folder':
      return spec.path;
    case 'bundled':
      return `bundled:${spec.name}`;
    case 'files':
      return filesLabel(spec.files);
  }
}

/** A bundled model as its index lists it. */
export interface BundledModel {
  name: string;
  label: string;
}

/**
 * The bundled models' index, public/models/index.json (the one list: the page fetches it, the CLI reads
 * it): ["name", …], [{name, label?, description?}, …], or {models: […]}; anything else lists none.
 */
export function parseBundledIndex(j: unknown): BundledModel[] {
  const arr = Array.isArray(j) ? j : j && typeof j === 'object' && Array.isArray((j as { models?: unknown }).models) ? (j as { models: unknown[] }).models : [];
  const out: BundledModel[] = [];
  for (const m of arr) {
    if (typeof m === 'string') out.push({ name: m, label: m });
    else if (m && typeof m === 'object' && typeof (m as { name?: unknown }).name === 'string') {
      const o = m as { name: string; label?: string; description?: string };
      out.push({ name: o.name, label: o.label ?? (o.description ? `${o.name} — ${o.description}` : o.name) });
    }
  }
  return out;
}

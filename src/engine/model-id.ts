/**
 * How a model source is named, in one place (no dependencies: the page's main thread, the worker and the
 * CLI all import it): the Hugging Face repo-id pattern and the one-line label of a source spec.
 */
import type { ModelSourceSpec } from './types';

/**
 * A Hugging Face repo id: "name" or "org/name", each part letters, digits, ".", "_" and "-", starting with
 * a letter or digit; ".." is refused separately (isHubRepoId).
 */
export const HUB_REPO_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function isHubRepoId(s: string): boolean {
  return HUB_REPO_PATTERN.test(s) && !s.includes('..');
}

/** The source as one line: "bundled:demo", "hf:org/name[@rev]", the URL, the folder, or "local files". */
export function modelLabel(spec: Exclude<ModelSourceSpec, { type: 'files' }> | { type: 'files'; files?: unknown }): string {
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
      return 'local files';
  }
}

/**
 * RML-LAMA shard format (our rebuild of the benchmark of "One Mind, Many Tongues").
 * One JSON shard per relation x language, listed with its sha256 in manifest.json.
 * See docs/DATA.md.
 */

export const FORMAT_VERSION = 1 as const;
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = [1];

export const LANGS = ['zh', 'en', 'fr', 'fi', 'hu', 'ja', 'ko'] as const;
export type Lang = (typeof LANGS)[number];

export const RELATIONS = ['P19', 'P138', 'P463', 'P36', 'P37', 'P101', 'P937', 'P176'] as const;
export type Relation = (typeof RELATIONS)[number];

/** Languages of the low-resource enhancement experiment (Q_error). */
export const LOW_RESOURCE_LANGS: readonly Lang[] = ['fi', 'hu', 'ja', 'ko'];

export type TemplateSource = 'mpararel' | 'mlama' | 'chen-aligned' | 'pararel' | 'xfactr' | 'written';

export interface TemplateOrigin {
  source: TemplateSource;
  /** the source pattern exactly as in the source file (absent for `written`) */
  pattern?: string;
  /** what we changed, or why we wrote it */
  note?: string;
  /** mParaRel only: the pattern was checked by a native speaker in mParaRel */
  checked?: boolean;
}

export interface Template {
  /** stable within a shard, e.g. "P36.fr.3" */
  id: string;
  /** object-last form for causal models; always ends with "[Y]"; the query is the text before it */
  causal: string | null;
  /** form for masked models; [Y] anywhere (replaced by the mask token) */
  masked: string;
  origin: TemplateOrigin;
}

export interface Fact {
  /** `<relation>:<lineid>`, lineid = 0-based line index in LAMA TREx/<relation>.jsonl; the same in every language */
  id: string;
  subject: string;
  object: string;
}

export interface Shard {
  formatVersion: number;
  version: string;
  relation: Relation;
  lang: Lang;
  templates: Template[];
  facts: Fact[];
}

export interface ShardEntry {
  relation: Relation;
  lang: Lang;
  /** relative to the manifest's folder */
  path: string;
  bytes: number;
  sha256: string;
  facts: number;
  templates: number;
  causalTemplates: number;
}

export interface SourceInfo {
  name: string;
  repo: string;
  commit: string;
  license: string;
  citation: string;
  /** what we took from it */
  used: string;
}

export interface Manifest {
  formatVersion: number;
  name: string;
  version: string;
  languages: Lang[];
  relations: Relation[];
  shards: ShardEntry[];
  sources: SourceInfo[];
  license: string;
  notes: string[];
}

/**
 * One error type for everything the engine refuses. `code` is stable (tests and the UI switch on it);
 * `message` is for people and always names the file, tensor or setting at fault.
 */
export type KnErrorCode =
  | 'missing-file'
  | 'corrupt-file'
  | 'truncated'
  | 'bad-header'
  | 'bad-tensor'
  | 'bad-config'
  | 'unsupported-architecture'
  | 'unreachable'
  | 'cors'
  | 'too-large'
  | 'bad-input'
  | 'integrity'
  | 'cancelled'
  | 'backend'
  /** a child process of `kn experiment … --jobs N` ended without finishing its shard */
  | 'job-failed';

export class KnError extends Error {
  readonly code: KnErrorCode;
  constructor(code: KnErrorCode, message: string) {
    super(message);
    this.name = 'KnError';
    this.code = code;
  }
}

/** Errors cross the worker boundary as plain objects; this restores them. */
export function toKnError(e: unknown): KnError {
  if (e instanceof KnError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return new KnError((e as { code: KnErrorCode }).code, String((e as { message: unknown }).message));
  }
  return new KnError('bad-input', e instanceof Error ? e.message : String(e));
}

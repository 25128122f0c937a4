import {SynthexError} from './synthex-error.js'

/** The file-system failures a person can act on, each in words and with what to do. */
const KNOWN: Readonly<Record<string, {hint: string; what: string}>> = {
  EACCES: {
    hint: 'Run synthex as the user who owns it, or give that user access (SYNTHEX_HOME should be yours, mode 0700).',
    what: 'permission denied',
  },
  EDQUOT: {hint: 'Free some space within your disk quota (or move SYNTHEX_HOME elsewhere), then run the command again.', what: 'disk quota exceeded'},
  EIO: {hint: 'The disk may be failing: check the system log, and restore from a backup if it is.', what: 'input/output error'},
  ENOSPC: {
    hint: 'Free some space on that file system (or move SYNTHEX_HOME to another one), then run the command again. Even a command that only reads needs a little: the embedded database writes its lock file and logs.',
    what: 'no space left on device',
  },
  EPERM: {hint: 'Run synthex as the user who owns it, or give that user access (SYNTHEX_HOME should be yours, mode 0700).', what: 'operation not permitted'},
  EROFS: {
    hint: 'The embedded database writes even when a command only reads: remount that file system read-write, or point SYNTHEX_HOME at a writable directory.',
    what: 'read-only file system',
  },
}

/**
 * A file or directory synthex needs cannot be written or read: a full disk, a read-only
 * mount, a permission. A runtime failure of the machine, not a bug in synthex.
 */
export class StorageError extends SynthexError {
  constructor(
    readonly errno: string,
    readonly path: string,
    cause?: unknown,
  ) {
    const known = KNOWN[errno] ?? {hint: 'Check that file system, then run the command again.', what: errno}
    super(`${capitalise(known.what)} at ${path}.`, {cause, code: 'STORAGE_ERROR', details: {errno, path}, hint: known.hint})
  }
}

/** The errno codes StorageError describes. */
export function isStorageErrno(code: unknown): code is string {
  return typeof code === 'string' && code in KNOWN
}

/**
 * A StorageError for an error Node's fs threw (it carries `code`, `syscall` and `path`), or
 * undefined for anything else. `path` names the place to report when the error has none.
 */
export function storageErrorOf(error: unknown, path?: string): StorageError | undefined {
  if (error instanceof StorageError) return error
  const err = error as Partial<NodeJS.ErrnoException> | undefined
  if (!isStorageErrno(err?.code) || typeof err?.syscall !== 'string') return undefined
  const where = path ?? err.path
  return where === undefined ? undefined : new StorageError(err.code, where, error)
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

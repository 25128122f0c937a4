import {accessSync, constants, statfsSync} from 'node:fs'

import {isStorageErrno, StorageError, storageErrorOf} from '../errors/storage-error.js'
import type {SynthexError} from '../errors/synthex-error.js'
import {DatabaseUnavailableError} from './database-errors.js'

/**
 * Emscripten's errno numbers, which PGlite's file system throws as `{name: 'ErrnoError',
 * errno}` (not an Error: printed as it is, it reads "[object Object]").
 */
const EMSCRIPTEN_ERRNO: Readonly<Record<number, string>> = {
  2: 'EACCES',
  19: 'EDQUOT',
  29: 'EIO',
  31: 'EISDIR',
  44: 'ENOENT',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  63: 'EPERM',
  69: 'EROFS',
}

const IN_WORDS: Readonly<Record<string, string>> = {
  // mkdir of the data directory, where a file is
  EEXIST: 'it is a file, not a directory (EEXIST)',
  EISDIR: 'a directory stands where Postgres expects a file (EISDIR)',
  ENOENT: 'a file Postgres needs is missing (ENOENT)',
  ENOTDIR: 'it, or a directory in it, is a file (ENOTDIR)',
}

/** Less than this free, a database that will not start is taken to lack room (it needs a few KiB). */
const NEARLY_FULL_BYTES = 1 << 20

/**
 * Why PGlite could not open the data directory, in words and with what to do. A full disk,
 * a read-only mount or a permission is a StorageError: Postgres then only says it "failed to
 * initialize", so the directory's file system is looked at to tell.
 */
export function embeddedOpenFailure(error: unknown, dataDir: string): SynthexError {
  const code = errnoOf(error)
  if (isStorageErrno(code)) return new StorageError(code, dataDir, error)
  // PGlite only says that Postgres "failed to initialize": the directory may tell why.
  const storage = code === undefined ? storageProblem(dataDir, error) : undefined
  if (storage) return storage
  return new DatabaseUnavailableError(`Cannot open the embedded database at ${dataDir}: ${inWords(error, code)}.`, {
    cause: error,
    hint: 'If the directory was copied, edited or half-restored by another tool, restore it from a backup, or move it away to start afresh.',
  })
}

function errnoOf(error: unknown): string | undefined {
  const err = error as {code?: unknown; errno?: unknown; name?: unknown} | undefined
  if (typeof err?.code === 'string') return err.code
  if (err?.name === 'ErrnoError' && typeof err.errno === 'number') return EMSCRIPTEN_ERRNO[err.errno] ?? `errno ${err.errno}`
  return undefined
}

function storageProblem(dataDir: string, cause: unknown): StorageError | undefined {
  try {
    const {bavail, bsize} = statfsSync(dataDir)
    if (bavail * bsize < NEARLY_FULL_BYTES) return new StorageError('ENOSPC', dataDir, cause)
  } catch {
    // Nothing to learn from here; the access check or the error itself will say more.
  }

  try {
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK)
  } catch (error) {
    return storageErrorOf(error, dataDir)
  }

  return undefined
}

function inWords(error: unknown, code: string | undefined): string {
  if (code !== undefined) return IN_WORDS[code] ?? code
  const message = error instanceof Error ? error.message : ''
  if (error instanceof Error && error.name === 'RuntimeError') return 'Postgres stopped on an internal error while starting, which a damaged data directory causes'
  if (/failed to initiali[sz]e/i.test(message)) return 'Postgres did not start, which a damaged data directory, or one from another version, causes'
  if (message) return message
  const name = (error as {name?: unknown} | undefined)?.name
  return typeof name === 'string' ? name : 'unknown error'
}

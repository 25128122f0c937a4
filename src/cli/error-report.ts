import {storageErrorOf} from '../errors/storage-error.js'
import {type ErrorKind, SynthexError} from '../errors/synthex-error.js'

/** What a failed command reports: the `--json` error object, and its exit code. */
export interface ErrorReport {
  readonly code: string
  readonly details?: Readonly<Record<string, unknown>>
  readonly exitCode: number
  readonly hint?: string
  readonly message: string
}

/** The one place where kinds of failure become exit codes (README, "Output and exit codes"). */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  interrupted: 130,
  runtime: 1,
  usage: 2,
  verdict: 3,
}

interface OclifError extends Error {
  code?: string
  oclif?: {exit?: number}
  parse?: unknown
}

interface DriverError extends Error {
  code?: string
  severity?: string
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'])

/** Turns anything thrown by a command into a report; unknown errors are synthex bugs. */
export function toErrorReport(error: unknown): ErrorReport {
  if (error instanceof SynthexError) {
    return {
      code: error.code,
      exitCode: EXIT_CODES[error.kind],
      message: withoutParsingPrefix(error.message),
      ...(error.hint ? {hint: error.hint} : {}),
      ...(error.details ? {details: error.details} : {}),
    }
  }

  const err = error as OclifError & DriverError
  if (err?.parse !== undefined || (typeof err?.oclif?.exit === 'number' && err.oclif.exit === 2)) {
    return {
      code: 'USAGE',
      exitCode: EXIT_CODES.usage,
      hint: 'Run the command with --help to see its arguments, flags and examples.',
      message: stripHelpSuggestion(err.message),
    }
  }

  if (typeof err?.oclif?.exit === 'number') {
    return {code: 'FAILED', exitCode: err.oclif.exit, message: err.message}
  }

  // A full disk, a read-only mount, a permission: the machine's trouble, not a bug.
  const storage = storageErrorOf(error)
  if (storage) return toErrorReport(storage)

  if (err?.code === '53100') {
    return {
      code: 'STORAGE_ERROR',
      details: {sqlstate: err.code},
      exitCode: EXIT_CODES.runtime,
      hint: 'Free some space on the database\'s disk, then run the command again.',
      message: `The database has no space left on its disk: ${err.message}.`,
    }
  }

  if (typeof err?.code === 'string' && NETWORK_CODES.has(err.code)) {
    return {code: 'DATABASE_UNAVAILABLE', exitCode: EXIT_CODES.runtime, message: `Lost the connection to the database: ${err.message}.`}
  }

  if (typeof err?.code === 'string' && /^[\dA-Z]{5}$/.test(err.code)) {
    return {
      code: 'DATABASE_ERROR',
      details: {sqlstate: err.code},
      exitCode: EXIT_CODES.runtime,
      message: `The database refused the operation: ${err.message} (SQLSTATE ${err.code}).`,
    }
  }

  return {
    code: 'INTERNAL_ERROR',
    exitCode: EXIT_CODES.runtime,
    hint: 'This is a bug in synthex. Run again with DEBUG=synthex to see where it happened, and report it.',
    message: `Unexpected error: ${err instanceof Error ? err.message : describeThrown(error)}`,
  }
}

/**
 * oclif rewrites the message of an error thrown by a flag's parser to "Parsing --flag \n\t
 * <message>\nSee more help with --help"; synthex's own flag errors name the flag already.
 */
function withoutParsingPrefix(message: string): string {
  return message.replace(/^Parsing --[\w-]+ \n\t/, '').replace(/\nSee more help with --help\.?$/, '')
}

/** Something thrown that is not an Error, in words rather than as "[object Object]". */
function describeThrown(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value)
  const {errno, message, name} = value as {errno?: unknown; message?: unknown; name?: unknown}
  const parts = [name, message, errno === undefined ? undefined : `errno ${String(errno)}`].filter((part) => typeof part === 'string' || typeof part === 'number')
  return parts.length > 0 ? parts.join(': ') : 'a value that is not an Error'
}

/** oclif appends "See more help with --help"; our hint says it once. */
function stripHelpSuggestion(message: string): string {
  return message
    .replace(/\s*See more help with --help\.?\s*$/i, '')
    .replaceAll(/\s*\n\s*/g, ': ')
    .replaceAll(/\s{2,}/g, ' ')
    .trim()
}

import {formatDuration} from '../domain/durations.js'
import {DatabaseUnavailableError} from './database-errors.js'

/** What a failure on a server connection is reported with. */
export interface FailureContext {
  /** How long connecting may take, and what sets it (a variable, or a command's flag). */
  readonly connectTimeoutMs: number
  readonly connectTimeoutSetting: string
  /** The database, safe to print (no password). */
  readonly location: string
  /** Where the URL came from (`DATABASE_URL`, `--database-url` ...), to name in hints. */
  readonly setting: string
  /**
   * How long synthex waits for a statement's reply before it takes the server for gone:
   * a little longer than the statement timeout, so that a server that is merely slow
   * reports its own statement timeout, in its own words.
   */
  readonly replyTimeoutMs: number
  /** The limit a statement runs under on the server, and the variable that sets it. */
  readonly statementTimeoutMs: number
  readonly statementTimeoutSetting: string
}

/** The reply timeout for a statement timeout. */
export function replyTimeoutFor(statementTimeoutMs: number): number {
  return statementTimeoutMs + Math.max(1000, Math.round(statementTimeoutMs / 10))
}

export interface ConnectionFailure {
  readonly error: DatabaseUnavailableError
  /**
   * `silent`: no reply came, and the statement may still be in flight: the connection is
   * unusable. `lost`: the connection is gone. `slow`: the server cancelled a statement that
   * ran past its timeout; the connection is fine.
   */
  readonly kind: 'lost' | 'silent' | 'slow'
}

/** Socket errors that mean the connection is gone. */
const LOST_CODES: Readonly<Record<string, string>> = {
  ECONNABORTED: 'the connection was aborted',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host became unreachable',
  ENETDOWN: 'the network went down',
  ENETUNREACH: 'the network became unreachable',
  EPIPE: 'the connection was closed while synthex was writing to it',
  ETIMEDOUT: 'the server stopped acknowledging (TCP timeout)',
}

/** SQLSTATEs with which the server ends a session (FATAL) rather than refusing a statement. */
const SESSION_ENDED: Readonly<Record<string, string>> = {
  '25P03': 'the server ended the session, whose transaction had been idle too long',
  '57P01': 'the server ended the session (terminated by an administrator, or shutting down)',
  '57P02': 'the server crashed',
  '57P03': 'the server is starting up or shutting down',
  '57P05': 'the server ended the idle session',
}

/**
 * Recognises a lost or silent connection in what pg threw, and describes it. Anything else
 * (a constraint violation, a syntax error) is not a connection failure: undefined, and the
 * caller passes the error on as it is, since services act on SQLSTATEs.
 *
 * `lost` is the error the connection died of, when it died between statements: pg then
 * only says that the client "is not queryable".
 */
export function connectionFailure(error: unknown, context: FailureContext, lost?: Error): ConnectionFailure | undefined {
  if (error instanceof DatabaseUnavailableError) return {error, kind: 'lost'}
  const err = error as {code?: unknown; message?: unknown} | undefined
  const message = typeof err?.message === 'string' ? err.message : ''
  const code = typeof err?.code === 'string' ? err.code : undefined

  if (message === 'Query read timeout') {
    return {
      error: new DatabaseUnavailableError(`The database stopped answering: no reply from ${context.location} within ${formatDuration(context.replyTimeoutMs)}.`, {
        cause: error,
        hint: `Check that the server is up and reachable from here, then run the command again. A statement may take ${formatDuration(context.statementTimeoutMs)} (${context.statementTimeoutSetting}); raise it if the server is only slow.`,
      }),
      kind: 'silent',
    }
  }

  if (code === '57014' && /statement timeout/i.test(message)) {
    const limit = formatDuration(context.statementTimeoutMs)
    return {
      error: new DatabaseUnavailableError(`The database at ${context.location} did not finish a statement within ${limit}; the server cancelled it and nothing of it was kept.`, {
        cause: error,
        hint: `Retry when the server is less busy, or raise ${context.statementTimeoutSetting} (now ${limit}).`,
      }),
      kind: 'slow',
    }
  }

  // "not queryable": the connection died between statements, of `lost`.
  const reason = lost && /not queryable/.test(message) ? (lostReason(codeOf(lost), lost.message) ?? lost.message) : lostReason(code, message)
  if (reason === undefined) return undefined
  return {
    error: new DatabaseUnavailableError(`Lost the connection to the database at ${context.location}: ${reason}.`, {
      cause: error,
      hint: 'Check that the server is up and reachable from here, then run the command again.',
    }),
    kind: 'lost',
  }
}

function codeOf(error: Error): string | undefined {
  const {code} = error as {code?: unknown}
  return typeof code === 'string' ? code : undefined
}

function lostReason(code: string | undefined, message: string): string | undefined {
  if (code !== undefined) {
    const reason = LOST_CODES[code] ?? SESSION_ENDED[code]
    if (reason) return reason
    if (code.startsWith('08')) return `the connection failed (${message || code})`
  }

  if (/^Connection terminated/.test(message)) return 'the server closed it unexpectedly'
  if (/not queryable/.test(message)) return 'the connection had already failed'
  return undefined
}

/** The error for a connection that could not be made (refused, timed out, authentication...). */
export function cannotConnect(error: unknown, context: FailureContext): DatabaseUnavailableError {
  const reason = describeConnectionError(error)
  const waited = reason === 'connection timed out' ? `; synthex waited ${formatDuration(context.connectTimeoutMs)} (${context.connectTimeoutSetting})` : ''
  return new DatabaseUnavailableError(`Cannot connect to the database at ${context.location}: ${reason}.`, {
    cause: error,
    hint: `Check that the server is running and that ${context.setting} is right${waited}.`,
  })
}

/** A connection failure in words, without the URL (pg does not echo it, and neither do we). */
export function describeConnectionError(error: unknown): string {
  const err = error as NodeJS.ErrnoException & {code?: string}
  switch (err?.code) {
    case 'ECONNREFUSED': {
      return 'connection refused (is the server running and listening on that port?)'
    }

    case 'ENOTFOUND':
    case 'EAI_AGAIN': {
      return 'host not found'
    }

    case 'ETIMEDOUT': {
      return 'connection timed out'
    }

    case '28P01':
    case '28000': {
      return `authentication failed: ${describe(error)}`
    }

    case '3D000': {
      return describe(error)
    }

    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      return `the server's TLS certificate could not be verified (${describe(error)}); give its CA with sslrootcert=<file>, or use sslmode=require to encrypt without verifying`
    }

    default: {
      const message = describe(error)
      if (/timeout/i.test(message)) return 'connection timed out'
      if (/does not support SSL/i.test(message)) {
        return 'the server does not accept TLS connections, but the URL\'s sslmode requires one (use sslmode=prefer or sslmode=disable for a server without TLS)'
      }

      if (error instanceof AggregateError && error.errors.length > 0) return describeConnectionError(error.errors[0])
      return message || 'unknown error'
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

import {toErrorReport} from '../cli/error-report.js'
import {InvalidInputError} from '../errors/input-errors.js'
import {SynthexError} from '../errors/synthex-error.js'

/** The JSON error body of every non-2xx answer: `{"error":{"code","message","details"?}}`. */
export interface ErrorBody {
  readonly error: {readonly code: string; readonly details?: Readonly<Record<string, unknown>>; readonly message: string}
}

/** Why a request with a valid key was refused (see HttpError.denial). */
export type Denial = 'reach' | 'role' | 'scope'

/** An answer other than success, raised by a route or middleware and rendered by the app. */
export class HttpError extends Error {
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly status: number
  /**
   * Why a caller with a valid key was refused, when it was: its key lacks the scope, its role
   * may never do it, or the resource is outside its reach (answered 404 like one that does
   * not exist). Such answers are counted and audited (src/http/denials.ts).
   */
  readonly denial: Denial | undefined

  constructor(status: number, code: string, message: string, options: {denial?: Denial; details?: Record<string, unknown>; headers?: Record<string, string>} = {}) {
    super(message)
    this.status = status
    this.denial = options.denial
    this.code = code
    this.details = options.details
    this.headers = options.headers ?? {}
  }
}

/** SynthexError codes and the HTTP status each means; the rest follow their kind. */
const STATUS_OF_CODE: Record<string, number> = {
  CONFLICT: 409,
  DATABASE_UNAVAILABLE: 503,
  INVALID_INPUT: 422,
  NOT_FOUND: 404,
}

/**
 * What a thrown error answers. synthex's own errors keep their code and message (they name
 * no secret by design); anything else is a bug or an outage and answers 500 with a generic
 * message: no stack, no driver text that might quote a value.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error
  if (error instanceof InvalidInputError) {
    return new HttpError(422, 'INVALID_INPUT', error.message, {details: {issues: error.issues.map((issue) => ({field: issue.field, message: issue.message}))}})
  }

  if (error instanceof SynthexError) {
    const report = toErrorReport(error)
    const status = STATUS_OF_CODE[error.code] ?? (error.kind === 'usage' ? 422 : 500)
    return new HttpError(status, error.code, status === 500 ? 'The server could not complete the request.' : report.message, {details: status === 500 ? undefined : error.details as Record<string, unknown> | undefined})
  }

  return new HttpError(500, 'INTERNAL', 'The server could not complete the request.')
}

export function errorBody(error: HttpError): ErrorBody {
  return {error: {code: error.code, message: error.message, ...(error.details ? {details: error.details} : {})}}
}

import type {Context, MiddlewareHandler} from 'hono'

import type {Db} from '../db/schema.js'
import {type ApiPrincipal, type ApiScope, type Authentication, authenticateApiKeys, type KeyCheck} from '../services/api-keys/api-keys.js'
import type {Workspace} from '../services/workspaces/workspaces.js'
import {type DenialRecorder, matchedRoute} from './denials.js'
import {HttpError, toHttpError} from './http-errors.js'

export interface AuthVariables {
  principal: ApiPrincipal | undefined
  /** The workspace the request addresses (`?workspace=`), read with the key; null when none has that slug. */
  requestedWorkspace: undefined | {slug: string; workspace: null | Workspace}
}

const CHALLENGE = 'Bearer realm="synthex"'

const REASONS = {
  deactivated: 'The API key\'s user has been deactivated.',
  expired: 'The API key has expired.',
  malformed: 'The Authorization header does not carry a synthex API key (Bearer sxk_...).',
  revoked: 'The API key has been revoked.',
  unknown: 'The API key is not known.',
} as const

/** The bearer key of a request, or undefined when there is none. */
function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1] ?? ''
}

/** The most keys one statement checks. */
const MOST_AT_ONCE = 100

/**
 * Key checks gathered over one turn of the event loop and answered by one statement
 * (authenticateApiKeys): under load, the requests that arrive together cost one round trip to
 * the database between them for their keys. Each check still runs after its request arrived.
 */
function keyChecker(db: () => Db): (check: KeyCheck) => Promise<Authentication> {
  let waiting: Array<{check: KeyCheck; reject: (error: unknown) => void; resolve: (result: Authentication) => void}> = []
  const run = async (): Promise<void> => {
    const batch = waiting.slice(0, MOST_AT_ONCE)
    waiting = waiting.slice(MOST_AT_ONCE)
    if (waiting.length > 0) setImmediate(() => void run())
    try {
      const results = await authenticateApiKeys(db(), batch.map((entry) => entry.check))
      for (const [index, entry] of batch.entries()) entry.resolve(results[index] as Authentication)
    } catch (error) {
      for (const entry of batch) entry.reject(error)
    }
  }

  return (check) =>
    new Promise((resolve, reject) => {
      waiting.push({check, reject, resolve})
      if (waiting.length === 1) setImmediate(() => void run())
    })
}

/**
 * Authenticates the request's key, if it has one, on every request (no cache: a revoked key
 * stops working on the next request). Where `required(c)`, a request without a valid key
 * answers 401 with `WWW-Authenticate`, as RFC 6750 says; elsewhere an absent key is let
 * through as anonymous (for routes that answer everyone, with less).
 */
export function authenticate(db: () => Db, options: {onDenied: DenialRecorder; required: (c: Context) => boolean}): MiddlewareHandler<{Variables: AuthVariables}> {
  const check = keyChecker(db)
  return async (c, next) => {
    const key = bearer(c.req.header('authorization'))
    if (key === undefined) {
      if (options.required(c)) throw new HttpError(401, 'UNAUTHENTICATED', 'An API key is required: Authorization: Bearer <key> (see `synthex api-keys create`).', {headers: {'www-authenticate': CHALLENGE}})
      c.set('principal', undefined)
      return next()
    }

    const slug = c.req.query('workspace') ?? 'default'
    const result = await check({key, workspace: slug})
    if (!result.ok) {
      if ('key' in result) {
        await options.onDenied({key: result.key.name, method: c.req.method, reason: result.reason, role: result.key.role, route: matchedRoute(c), status: 401, user: result.key.user?.email ?? null})
      }

      throw new HttpError(401, 'UNAUTHENTICATED', REASONS[result.reason], {headers: {'www-authenticate': `${CHALLENGE}, error="invalid_token"`}})
    }

    c.set('principal', result.principal)
    c.set('requestedWorkspace', {slug, workspace: result.workspace})
    return next()
  }
}

/**
 * 403 unless the request's key may act with the scope: its own scopes must have it, and its
 * user's role must allow it (src/services/access/roles.ts). Either refusal is a denial.
 */
export function requireScope(principal: ApiPrincipal | undefined, scope: ApiScope): ApiPrincipal {
  if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', 'An API key is required.', {headers: {'www-authenticate': CHALLENGE}})
  if (!principal.keyScopes.has(scope)) {
    throw new HttpError(403, 'FORBIDDEN', `The API key ${principal.name} lacks the ${scope} scope.`, {
      denial: 'scope',
      details: {required: scope},
      headers: {'www-authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${scope}"`},
    })
  }

  if (!principal.scopes.has(scope)) {
    throw new HttpError(403, 'FORBIDDEN', `The ${principal.role} role may not do this (${scope}).`, {denial: 'role', details: {required: scope, role: principal.role}})
  }

  return principal
}

/** 403: the caller's role may never take this action, whatever its scopes. */
export function roleForbids(principal: ApiPrincipal, what: string): HttpError {
  return new HttpError(403, 'FORBIDDEN', `The ${principal.role} role may not ${what}.`, {denial: 'role', details: {role: principal.role}})
}

/**
 * 404 for a resource outside the caller's reach: the very answer `notFound` (the error for one
 * that does not exist) gives, so that its existence does not leak; only the audit trail and
 * the metrics tell them apart.
 */
export function outsideReach(notFound: Error): HttpError {
  const http = toHttpError(notFound)
  return new HttpError(http.status, http.code, http.message, {denial: 'reach', details: http.details as Record<string, unknown> | undefined, headers: {...http.headers}})
}

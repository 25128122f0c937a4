import type {MiddlewareHandler} from 'hono'

import type {Db} from '../db/schema.js'
import {type ApiPrincipal, type ApiScope, authenticateApiKey} from '../services/api-keys/api-keys.js'
import {HttpError} from './http-errors.js'

export interface AuthVariables {
  principal: ApiPrincipal | undefined
}

const CHALLENGE = 'Bearer realm="synthex"'

const REASONS = {
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

/**
 * Authenticates the request's key, if it has one, on every request (no cache: a revoked key
 * stops working on the next request). `required`: a request without a valid key answers 401
 * with `WWW-Authenticate`, as RFC 6750 says; otherwise an absent key is let through as
 * anonymous (for routes that answer everyone, with less).
 */
export function authenticate(db: () => Db, options: {required: boolean}): MiddlewareHandler<{Variables: AuthVariables}> {
  return async (c, next) => {
    const key = bearer(c.req.header('authorization'))
    if (key === undefined) {
      if (options.required) throw new HttpError(401, 'UNAUTHENTICATED', 'An API key is required: Authorization: Bearer <key> (see `synthex api-keys create`).', {headers: {'www-authenticate': CHALLENGE}})
      c.set('principal', undefined)
      return next()
    }

    const result = await authenticateApiKey(db(), key)
    if (!result.ok) {
      throw new HttpError(401, 'UNAUTHENTICATED', REASONS[result.reason], {headers: {'www-authenticate': `${CHALLENGE}, error="invalid_token"`}})
    }

    c.set('principal', result.principal)
    return next()
  }
}

/** 403 unless the request's key has the scope. */
export function requireScope(principal: ApiPrincipal | undefined, scope: ApiScope): ApiPrincipal {
  if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', 'An API key is required.', {headers: {'www-authenticate': CHALLENGE}})
  if (!principal.scopes.has(scope)) {
    throw new HttpError(403, 'FORBIDDEN', `The API key ${principal.name} lacks the ${scope} scope.`, {
      details: {required: scope},
      headers: {'www-authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${scope}"`},
    })
  }

  return principal
}

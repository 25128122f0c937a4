import type {MiddlewareHandler} from 'hono'

import {finishIdempotent, requestHash, startIdempotent} from '../services/api-keys/idempotency.js'
import type {ServeDependencies, ServeEnv} from './app.js'
import {HttpError} from './http-errors.js'

/**
 * `Idempotency-Key` on POST, as Stripe has it: the same key with the same request answers
 * what the first one answered (with `Idempotent-Replayed: true`) and changes nothing; the
 * same key with another request is 422; a retry while the first is still running is 409.
 * Keys are per API key, kept 24 hours; a first request that failed on the server's side
 * (5xx) may be retried with the same key.
 */
export function idempotency(deps: ServeDependencies): MiddlewareHandler<ServeEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key')
    const principal = c.get('principal')
    if (c.req.method !== 'POST' || key === undefined || !principal) return next()
    if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new HttpError(422, 'INVALID_INPUT', 'Idempotency-Key must be 1-255 printable ASCII characters.', {details: {issues: [{field: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters'}]}})
    }

    const url = new URL(c.req.url)
    const hash = requestHash(c.req.method, `${url.pathname}${url.search}`, await c.req.text())
    const start = await startIdempotent(deps.db(), principal.id, key, hash)
    if (start.kind === 'conflict') throw new HttpError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another request; use a new key for a new request.')
    if (start.kind === 'in-progress') throw new HttpError(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry in a moment.', {headers: {'retry-after': '1'}})
    if (start.kind === 'replay') {
      c.header('idempotent-replayed', 'true')
      return c.json(start.response, start.status as 200)
    }

    await next()
    const response = c.get('replayAnswer') ?? (c.res.headers.get('content-type')?.includes('json') ? ((await c.res.clone().json()) as unknown) : null)
    await finishIdempotent(deps.db(), principal.id, key, {response, status: c.res.status})
  }
}

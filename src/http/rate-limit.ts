import type {MiddlewareHandler} from 'hono'

import type {ServeEnv} from './app.js'
import {HttpError} from './http-errors.js'

/**
 * A token bucket per API key, in this process: `perMinute` requests a minute on average,
 * bursts of up to a tenth of that (at least 10). Over it, 429 with `Retry-After` (whole
 * seconds until a request would pass) and the limit in `RateLimit-Limit`/`RateLimit-Remaining`.
 * Several `serve` processes each apply it: the limit is per process.
 */
export function rateLimit(perMinute: number, now: () => number = () => performance.now()): MiddlewareHandler<ServeEnv> {
  const capacity = Math.max(10, Math.ceil(perMinute / 10))
  const perMs = perMinute / 60_000
  const buckets = new Map<string, {at: number; tokens: number}>()
  return async (c, next) => {
    const principal = c.get('principal')
    if (!principal) return next()
    const at = now()
    const bucket = buckets.get(principal.id) ?? {at, tokens: capacity}
    bucket.tokens = Math.min(capacity, bucket.tokens + (at - bucket.at) * perMs)
    bucket.at = at
    buckets.set(principal.id, bucket)
    if (bucket.tokens < 1) {
      const waitSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000))
      throw new HttpError(429, 'RATE_LIMITED', `Too many requests for the key ${principal.name}: at most ${perMinute} a minute. Retry after ${waitSeconds} s.`, {
        headers: {'ratelimit-limit': String(perMinute), 'ratelimit-remaining': '0', 'retry-after': String(waitSeconds)},
      })
    }

    bucket.tokens -= 1
    c.header('ratelimit-limit', String(perMinute))
    c.header('ratelimit-remaining', String(Math.floor(bucket.tokens)))
    return next()
  }
}

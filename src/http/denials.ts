import type {Context} from 'hono'
import {routePath} from 'hono/route'

import type {Db} from '../db/schema.js'
import {type AccessDenial, recordAccessDenial} from '../services/access/access-denials.js'

/** The pattern of the route a request matched (the last one: middleware is registered first), never its path. */
export function matchedRoute(c: Context): string {
  return routePath(c, -1)
}

/** A refused request of a known key, as the HTTP layer sees it. */
export type DenialRecorder = (denial: AccessDenial) => Promise<void>

/** How often one key's refusals for an unusable key (revoked, expired, deactivated) are written. */
const UNUSABLE_KEY_EVERY_MS = 60_000

/**
 * Writes refused requests to the audit trail, from which synthex_api_denied_requests_total
 * counts them. A valid key's refusals (scope, role, reach) are each written: they are under
 * its rate limit. An unusable key is not (it has no principal to limit), so its attempts are
 * written at most once a minute per key and reason: a leaked revoked key shows up in the
 * trail without letting whoever holds it fill the database. A write that fails never
 * changes the answer; it is logged instead.
 */
export function denialRecorder(db: () => Db, log: (line: Record<string, unknown>) => void, now: () => number = Date.now): DenialRecorder {
  const lastWritten = new Map<string, number>()
  return async (denial) => {
    if (denial.reason === 'revoked' || denial.reason === 'expired' || denial.reason === 'deactivated') {
      const key = `${denial.key}\u0000${denial.reason}`
      const at = now()
      const last = lastWritten.get(key)
      if (last !== undefined && at - last < UNUSABLE_KEY_EVERY_MS) return
      lastWritten.set(key, at)
      if (lastWritten.size > 10_000) lastWritten.clear()
    }

    try {
      await recordAccessDenial(db(), denial)
    } catch {
      log({event: 'access_denial_not_recorded', key: denial.key, reason: denial.reason, route: denial.route, time: new Date().toISOString()})
    }
  }
}

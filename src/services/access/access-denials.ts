import {sql} from 'kysely'

import type {Db, UserRole} from '../../db/schema.js'
import {recordEvents} from '../events/events.js'

/** The audit event of a refused request (`events list --type access.denied`). */
export const ACCESS_DENIED = 'access.denied'

/**
 * Why a request with a known key was refused: its key lacks the scope, its role may never do
 * it, the resource is outside its reach (answered 404), or the key itself may not be used.
 */
export const DENIAL_REASONS = ['scope', 'role', 'reach', 'revoked', 'expired', 'deactivated'] as const
export type DenialReason = (typeof DENIAL_REASONS)[number]

export interface AccessDenial {
  /** The key's name (never the key). */
  readonly key: string
  readonly method: string
  readonly reason: DenialReason
  readonly role: UserRole
  /** The route's pattern, e.g. /api/tenants/:tenantId: no id or query string from the request. */
  readonly route: string
  readonly status: number
  /** The key's user's email; null for a key made before users existed. */
  readonly user: null | string
}

/** Writes a refused request to the audit trail: who (key, user, role), what (method, route) and why. */
export async function recordAccessDenial(db: Db, denial: AccessDenial): Promise<void> {
  await recordEvents(db, {actor: denial.key, source: 'api'}, [
    {aggregateId: denial.key, aggregateType: 'api_key', data: {...denial}, type: ACCESS_DENIED, workspaceId: null},
  ])
}

/** Refused requests so far, by reason and role (synthex_api_denied_requests_total). */
export async function accessDenialCounts(db: Db): Promise<Array<{count: number; reason: string; role: string}>> {
  // events_aggregate (workspace_id, aggregate_type, ...) finds them without reading the trail.
  const {rows} = await sql<{count: number; reason: string; role: string}>`
    select data ->> 'reason' as reason, data ->> 'role' as role, count(*)::int as count
    from events
    where workspace_id is null and aggregate_type = 'api_key' and type = ${ACCESS_DENIED}
    group by 1, 2 order by 1, 2`.execute(db)
  return rows.map((row) => ({count: Number(row.count), reason: row.reason, role: row.role}))
}

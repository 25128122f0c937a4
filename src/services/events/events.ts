import {type ExpressionBuilder, sql} from 'kysely'

import type {Db, EventRow, Schema} from '../../db/schema.js'
import type {Workspace} from '../workspaces/workspaces.js'

/** The audit event of a chunk of tenants created by `batch tenants create`: one event lists them all. */
export const IMPORTED = 'tenants.imported'

/** Who made a change and through what, stamped on every audit event. */
export interface Audit {
  readonly actor: string
  /** `cli` for commands; other front ends (an HTTP API, a scheduler) name themselves. */
  readonly source: string
}

export interface NewEvent {
  readonly aggregateId: string
  readonly aggregateType: string
  /** What changed. Never a secret: events are read by anyone who can read the audit trail. */
  readonly data: Record<string, unknown>
  readonly type: string
  readonly workspaceId: string | null
}

export interface AuditEvent {
  readonly actor: string
  readonly aggregateId: string
  readonly aggregateType: string
  readonly createdAt: Date
  readonly data: Record<string, unknown>
  readonly id: number
  readonly source: string
  readonly type: string
}

/**
 * Appends events to the audit trail. Call it with the transaction that makes the change,
 * so the change and its record commit or roll back together.
 */
export async function recordEvents(db: Db, audit: Audit, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return
  await db
    .insertInto('events')
    .values(
      events.map((event) => ({
        actor: audit.actor,
        aggregate_id: event.aggregateId,
        aggregate_type: event.aggregateType,
        data: JSON.stringify(event.data),
        source: audit.source,
        type: event.type,
        workspace_id: event.workspaceId,
      })),
    )
    .execute()
}

export function toAuditEvent(row: EventRow): AuditEvent {
  return {
    actor: row.actor,
    aggregateId: row.aggregate_id,
    aggregateType: row.aggregate_type,
    createdAt: row.created_at,
    data: row.data,
    id: Number(row.id),
    source: row.source,
    type: row.type,
  }
}

/**
 * Where one tenant's events are: those whose aggregate is the tenant (its creation,
 * changes, status changes, deletion, credentials, acknowledged alerts), and the chunk-level
 * import events whose `tenantIds` list it (found through the GIN index of migration 0002).
 * Callers scope it to a workspace: tenant ids are unique per workspace only.
 */
export function ofTenant(tenantId: string) {
  return (eb: ExpressionBuilder<Schema, 'events'>) =>
    eb.or([
      eb.and([eb('aggregate_type', '=', 'tenant'), eb('aggregate_id', '=', tenantId)]),
      eb.and([eb('type', '=', IMPORTED), sql<boolean>`data -> 'tenantIds' ? ${tenantId}`]),
    ])
}

/**
 * An import event as one tenant's history shows it: that this tenant was created by it,
 * not the thousands of other ids of its chunk.
 */
export function asTenantEvent(event: AuditEvent, tenantId: string): AuditEvent {
  if (event.type !== IMPORTED) return event
  const {tenantIds, ...data} = event.data as {tenantIds?: unknown[]}
  return {...event, aggregateId: tenantId, aggregateType: 'tenant', data: {...data, tenantsInChunk: tenantIds?.length ?? 0}}
}

export interface EventQuery {
  /** Only events recorded by this actor (exact match). */
  readonly actor?: string
  /** Keyset cursor: the last event id of the previous page. */
  readonly after?: number
  readonly limit: number
  /** Only events recorded at or after this time. */
  readonly since?: Date
  /** Only this tenant's events, shown as its history shows them (see {@link ofTenant}). */
  readonly tenantId?: string
  /**
   * Only these tenants' own events (a client's tenants: no fleet-wide event, no import's
   * list of other tenants); undefined for all.
   */
  readonly tenantIds?: readonly string[]
  /** Whether fleet-wide events (no workspace: channels, keys, users) are listed too; default true. */
  readonly fleetWide?: boolean
  /** Only events of exactly this type, e.g. `tenant.created`. */
  readonly type?: string
  /** Only events whose type starts with this, e.g. `credential.` for every credential event. */
  readonly typePrefix?: string
}

/** An audit event with the workspace it belongs to; null for fleet-wide ones (channels, silences, keys). */
export interface WorkspaceEvent extends AuditEvent {
  readonly workspace: null | string
}

export interface EventPage {
  readonly events: WorkspaceEvent[]
  /** Pass as `after` to get the next page; null on the last page. */
  readonly nextCursor: null | number
  readonly workspace: string
}

/**
 * The audit trail of a workspace, oldest first (as a tenant's history), a page at a time.
 * Fleet-wide events (channels, silences, key rotation: no workspace) apply to every
 * workspace and are listed with each, except when asking for one tenant's events.
 */
export async function listEvents(db: Db, workspace: Workspace, query: EventQuery): Promise<EventPage> {
  let select = db.selectFrom('events').selectAll()
  const fleetWide = query.fleetWide !== false && query.tenantIds === undefined
  select =
    query.tenantId === undefined
      ? select.where((eb) => (fleetWide ? eb.or([eb('workspace_id', '=', workspace.id), eb('workspace_id', 'is', null)]) : eb('workspace_id', '=', workspace.id)))
      : select.where('workspace_id', '=', workspace.id).where(ofTenant(query.tenantId))
  if (query.tenantIds !== undefined) {
    const ids = [...query.tenantIds]
    select = ids.length === 0 ? select.where(sql<boolean>`false`) : select.where('aggregate_type', '=', 'tenant').where('aggregate_id', 'in', ids)
  }

  if (query.type !== undefined) select = select.where('type', '=', query.type)
  if (query.typePrefix !== undefined) select = select.where(sql<boolean>`starts_with(type, ${query.typePrefix})`)
  if (query.actor !== undefined) select = select.where('actor', '=', query.actor)
  if (query.since !== undefined) select = select.where('created_at', '>=', query.since)
  if (query.after !== undefined) select = select.where('id', '>', query.after)
  // One extra row tells whether another page exists without counting the whole trail.
  const rows = await select.orderBy('id').limit(query.limit + 1).execute()
  const events = rows.slice(0, query.limit).map((row) => {
    const event = toAuditEvent(row)
    return {
      ...(query.tenantId === undefined ? event : asTenantEvent(event, query.tenantId)),
      workspace: row.workspace_id === null ? null : workspace.slug,
    }
  })
  return {
    events,
    nextCursor: rows.length > query.limit ? (events.at(-1)?.id ?? null) : null,
    workspace: workspace.slug,
  }
}

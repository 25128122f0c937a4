import type {Db, EventRow} from '../db/schema.js'

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

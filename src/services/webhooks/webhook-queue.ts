import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import type {WebhookEventType} from './event-catalogue.js'

export interface QueuedEvent {
  /** When it happened (the body's `timestamp`); now if not said. */
  readonly at?: Date
  /** The body's `data`: never a secret. */
  readonly data: Record<string, unknown>
  readonly type: WebhookEventType
  /** Subscriptions limited to a workspace get only its events; null for installation-wide ones (health). */
  readonly workspaceId: null | string
}

/**
 * Queues events that are not audit events (alerts, expiry, health, a finished import) for
 * the subscriptions that want them, in the caller's transaction: they are sent only if it
 * commits. One statement, whatever the number of events (queue_webhook_events,
 * migrations/0015_webhooks.sql); nothing when no subscription wants them.
 */
export async function queueWebhookEvents(db: Db, events: readonly QueuedEvent[]): Promise<void> {
  if (events.length === 0) return
  const rows = events.map((event) => ({at: (event.at ?? new Date()).toISOString(), data: event.data, type: event.type, workspace_id: event.workspaceId}))
  await sql`select queue_webhook_events(${JSON.stringify(rows)}::jsonb)`.execute(db)
}

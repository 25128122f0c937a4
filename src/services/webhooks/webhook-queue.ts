import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {matchesPatterns, type WebhookEventType} from './event-catalogue.js'

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
 * commits. One look at the enabled subscriptions (a handful of rows) decides which events
 * anyone wants, so a reconcile opening 20,000 alerts that no one subscribed to ships none of
 * them to the database; the wanted ones go in one statement (queue_webhook_events,
 * migrations/0015_webhooks.sql). Returns how many were queued.
 */
export async function queueWebhookEvents(db: Db, events: readonly QueuedEvent[]): Promise<number> {
  if (events.length === 0) return 0
  const subscriptions = await db.selectFrom('webhook_subscriptions').select(['events', 'workspace_id']).where('disabled_at', 'is', null).execute()
  const wanted = events.filter((event) =>
    subscriptions.some((subscription) => (subscription.workspace_id === null || subscription.workspace_id === event.workspaceId) && matchesPatterns(subscription.events, event.type)),
  )
  if (wanted.length === 0) return 0
  const rows = wanted.map((event) => ({at: (event.at ?? new Date()).toISOString(), data: event.data, type: event.type, workspace_id: event.workspaceId}))
  await sql`select queue_webhook_events(${JSON.stringify(rows)}::jsonb)`.execute(db)
  return wanted.length
}

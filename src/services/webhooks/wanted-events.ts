import type {Db} from '../../db/schema.js'
import {matchesPatterns} from './event-catalogue.js'
import {type QueuedEvent, queueWebhookEvents} from './webhook-queue.js'

/**
 * Queues, in the caller's transaction, the events some enabled subscription wants, and sends
 * the database nothing more when none does: a reconcile that opens 20,000 alerts, with no
 * subscription for them, pays one look at the subscriptions (a handful of rows) rather than
 * shipping 20,000 events to a statement that would match none. No events, no statement.
 */
export async function queueWantedEvents(db: Db, events: readonly QueuedEvent[]): Promise<number> {
  if (events.length === 0) return 0
  const subscriptions = await db.selectFrom('webhook_subscriptions').select(['events', 'workspace_id']).where('disabled_at', 'is', null).execute()
  const wanted = events.filter((event) =>
    subscriptions.some((subscription) => (subscription.workspace_id === null || subscription.workspace_id === event.workspaceId) && matchesPatterns(subscription.events, event.type)),
  )
  await queueWebhookEvents(db, wanted)
  return wanted.length
}

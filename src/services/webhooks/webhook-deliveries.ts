import {sql} from 'kysely'

import type {Db, WebhookDeliveryState} from '../../db/schema.js'
import {ConflictError, NotFoundError} from '../../errors/input-errors.js'
import {excerpt, MAX_STORED_BYTES} from '../alerts/delivery/delivery-outcome.js'
import {type Audit, recordEvents} from '../events/events.js'
import {GONE_REASON} from './webhook-delivery.js'

/**
 * The webhook outbox as people see it (`webhooks deliveries`, `webhooks redeliver`, `health
 * check`, `metrics`): what is pending, sent and failed, and sending one again by hand.
 */

export interface WebhookDeliveryView {
  readonly attempts: number
  readonly createdAt: Date
  readonly eventType: string
  readonly id: number
  /** Why the last attempt did not get through: an excerpt of at most 2 KiB, marked where cut. */
  readonly lastError: null | string
  readonly lastStatus: null | number
  /** The `webhook-id` header: the same on every attempt, for the receiver to deduplicate. */
  readonly messageId: string
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: Date | null
  readonly sentAt: Date | null
  readonly state: WebhookDeliveryState
  readonly subscription: string
  /** The subscription is disabled (a 410, or by hand): its pending deliveries wait for it. */
  readonly subscriptionDisabled: boolean
}

interface ViewRow {
  attempts: number
  created_at: Date
  disabled_at: Date | null
  event_type: string
  id: number | string
  last_error: null | string
  last_error_bytes: null | number
  last_status: null | number
  message_id: string
  name: string
  next_attempt_at: Date
  sent_at: Date | null
  state: WebhookDeliveryState
}

function toView(row: ViewRow): WebhookDeliveryView {
  return {
    attempts: Number(row.attempts),
    createdAt: new Date(row.created_at),
    eventType: row.event_type,
    id: Number(row.id),
    lastError: row.last_error === null ? null : excerpt(row.last_error, MAX_STORED_BYTES, Number(row.last_error_bytes ?? 0)),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    messageId: row.message_id,
    nextAttemptAt: row.state === 'pending' ? new Date(row.next_attempt_at) : null,
    sentAt: row.sent_at === null ? null : new Date(row.sent_at),
    state: row.state,
    subscription: row.name,
    subscriptionDisabled: row.disabled_at !== null,
  }
}

const VIEW_COLUMNS = sql`d.id, d.message_id, s.name, s.disabled_at, d.event_type, d.state, d.attempts, d.last_status,
  left(d.last_error, ${MAX_STORED_BYTES}::int) as last_error, octet_length(d.last_error) as last_error_bytes,
  d.next_attempt_at, d.created_at, d.sent_at`

/** Newest first. */
export async function listWebhookDeliveries(db: Db, options: {limit: number; state?: WebhookDeliveryState; subscription?: string}): Promise<WebhookDeliveryView[]> {
  if (options.subscription !== undefined) {
    const known = await db.selectFrom('webhook_subscriptions').select('id').where('name', '=', options.subscription).executeTakeFirst()
    if (!known) throw new NotFoundError(`There is no webhook subscription named "${options.subscription}".`, 'See `synthex webhooks list`.')
  }

  const {rows} = await sql<ViewRow>`
    select ${VIEW_COLUMNS}
    from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id
    where (${options.state ?? null}::text is null or d.state = ${options.state ?? null}::text)
      and (${options.subscription ?? null}::text is null or s.name = ${options.subscription ?? null}::text)
    order by d.id desc
    limit ${options.limit}`.execute(db)
  return rows.map(toView)
}

/**
 * Puts a sent or failed delivery back in the outbox, due now, its attempts counted afresh,
 * under the same `webhook-id` and with the same body (a receiver that deduplicates by
 * webhook-id will take it for the same event, which it is). Audited. Its retries stay within
 * three days of the event (webhook-retry-policy.ts): an older one gets one attempt.
 */
export async function redeliverWebhook(db: Db, audit: Audit, id: number): Promise<WebhookDeliveryView> {
  return db.transaction().execute(async (trx) => {
    const {rows} = await sql<ViewRow & {subscription_id: string; workspace_id: null | string}>`
      select ${VIEW_COLUMNS}, d.subscription_id, s.workspace_id
      from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id
      where d.id = ${id}
      for update of d`.execute(trx)
    const row = rows[0]
    if (!row) throw new NotFoundError(`There is no webhook delivery ${id}.`, 'See `synthex webhooks deliveries`.')
    if (row.state === 'pending') {
      throw new ConflictError(`Webhook delivery ${id} is pending already${row.disabled_at === null ? '' : ` (its subscription ${row.name} is disabled: enable it to resume)`}.`, 'A pending delivery is sent by the next `synthex webhooks deliver` (or `alerts check-now`).')
    }

    await trx
      .updateTable('webhook_deliveries')
      .set({attempts: 0, claimed_by: null, claimed_until: null, finished_at: null, last_error: null, last_status: null, next_attempt_at: sql<Date>`now()`, sent_at: null, state: 'pending'})
      .where('id', '=', id)
      .execute()
    await recordEvents(trx, audit, [
      {
        aggregateId: row.name,
        aggregateType: 'webhook_subscription',
        data: {delivery: id, eventType: row.event_type, messageId: row.message_id, previousState: row.state, subscription: row.name},
        type: 'webhook.redelivered',
        workspaceId: row.workspace_id,
      },
    ])
    const {rows: after} = await sql<ViewRow>`
      select ${VIEW_COLUMNS} from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id where d.id = ${id}`.execute(trx)
    return toView(after[0] as ViewRow)
  })
}

export interface SubscriptionDeliveryCounts {
  readonly counts: Record<WebhookDeliveryState, number>
  readonly subscription: string
}

/** Deliveries by subscription and state, every state present for every subscription (for `metrics`). */
export async function webhookDeliveryCounts(db: Db): Promise<SubscriptionDeliveryCounts[]> {
  const {rows} = await sql<{n: number; name: string; state: null | WebhookDeliveryState}>`
    select s.name, d.state, count(d.id)::int as n
    from webhook_subscriptions as s left join webhook_deliveries as d on d.subscription_id = s.id
    group by 1, 2 order by 1, 2`.execute(db)
  const bySubscription = new Map<string, Record<WebhookDeliveryState, number>>()
  for (const row of rows) {
    const counts = bySubscription.get(row.name) ?? {failed: 0, pending: 0, sent: 0}
    if (row.state !== null) counts[row.state] = Number(row.n)
    bySubscription.set(row.name, counts)
  }

  return [...bySubscription].map(([subscription, counts]) => ({counts, subscription}))
}

/**
 * What `health check` reports, by subscription: deliveries failed since `failedSince`;
 * pending ones of enabled subscriptions refused at least once or older than `stuckBefore`;
 * subscriptions a 410 disabled, with the deliveries waiting for them.
 */
export async function webhookProblems(db: Db, options: {failedSince: Date; stuckBefore: Date}) {
  const [failed, waiting, gone] = await Promise.all([
    sql<{n: number; name: string}>`
      select s.name, count(*)::int as n
      from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id
      where d.state = 'failed' and d.finished_at > ${options.failedSince}
      group by 1 order by 2 desc, 1`.execute(db),
    sql<{attempts: number; n: number; name: string; next_at: Date | string; since: Date | string}>`
      select s.name, count(*)::int as n, min(d.created_at) as since, min(d.next_attempt_at) as next_at, max(d.attempts)::int as attempts
      from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id
      where d.state = 'pending' and s.disabled_at is null and (d.attempts > 0 or d.created_at < ${options.stuckBefore})
      group by 1 order by min(d.created_at), 1`.execute(db),
    sql<{n: number; name: string}>`
      select s.name, count(*)::int as n
      from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id
      where d.state = 'pending' and s.disabled_reason = ${GONE_REASON} and s.disabled_at is not null
      group by 1 order by 1`.execute(db),
  ])
  return {
    failed: failed.rows.map((row) => ({n: Number(row.n), subscription: row.name})),
    gone: gone.rows.map((row) => ({n: Number(row.n), subscription: row.name})),
    waiting: waiting.rows.map((row) => ({attempts: Number(row.attempts), n: Number(row.n), nextAt: new Date(row.next_at), since: new Date(row.since), subscription: row.name})),
  }
}

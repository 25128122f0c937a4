import {setTimeout as sleep} from 'node:timers/promises'

import {sql} from 'kysely'

import type {Db, NotificationRow} from '../db/schema.js'
import {type AlertMessage, DeliveryError, type Notifier} from '../notifiers/notifier.js'
import {RateLimiter} from './rate-limiter.js'

/**
 * Step 3 of the alerting pipeline (DESIGN.md): deliver the outbox.
 *
 * A worker claims the oldest pending notifications of its channel (`FOR UPDATE SKIP
 * LOCKED`, so concurrent runs never claim the same row), sends them as one request, and
 * records the outcome before committing: sent; or retried later with exponential backoff
 * and jitter (at least the provider's Retry-After) on 429, 5xx, timeouts and network errors;
 * or failed for good on other 4xx, or after the last attempt. Rows left by earlier runs go
 * first. A channel that is down loses nothing: its rows wait in the outbox.
 */

export interface DeliveryChannel {
  readonly name: string
  readonly notifier: Notifier
}

export interface DeliveryOptions {
  /** Base URL for links in notifications (SYNTHEX_CONSOLE_URL). */
  readonly consoleUrl?: string
  readonly maxAttempts?: number
  /** How long this run may wait for backoffs and rate limits before leaving the rest for the next run. */
  readonly maxWaitMs?: number
  readonly now?: () => Date
  readonly signal?: AbortSignal
}

export interface DeliveryResult {
  readonly failed: number
  /** Still waiting after this run (retries scheduled, channels not configured here), not counting rows another run is sending. */
  readonly pending: number
  readonly sent: number
}

const BASE_BACKOFF_MS = 5000
const MAX_BACKOFF_MS = 30 * 60_000
export const DEFAULT_MAX_ATTEMPTS = 10

/** Exponential backoff with jitter: 5 s, 10 s, 20 s ... capped at 30 min, each between half and all of it. */
export function backoff(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

export async function deliverPending(db: Db, channels: readonly DeliveryChannel[], options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const now = options.now ?? (() => new Date())
  const signal = options.signal ?? new AbortController().signal
  const deadline = Date.now() + (options.maxWaitMs ?? 30_000)
  const totals = {failed: 0, sent: 0}
  await Promise.all(
    channels.flatMap((channel) => {
      const limiter = new RateLimiter(channel.notifier.limits.perMinute)
      return Array.from({length: Math.max(1, channel.notifier.limits.concurrency)}, () =>
        work(db, channel, limiter, {consoleUrl: options.consoleUrl, deadline, maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, now, signal, totals}),
      )
    }),
  )
  // Rows a concurrent run is sending right now are locked: they are in hand, not waiting.
  const {rows} = await sql<{n: number}>`
    select count(*)::int as n from (select id from alert_notifications where state = 'pending' for update skip locked) as waiting`.execute(db)
  return {...totals, pending: Number(rows[0]?.n ?? 0)}
}

interface WorkContext {
  readonly consoleUrl: string | undefined
  readonly deadline: number
  readonly maxAttempts: number
  readonly now: () => Date
  readonly signal: AbortSignal
  readonly totals: {failed: number; sent: number}
}

/** One worker of one channel: claim, send, record, until nothing is due or time is up. */
async function work(db: Db, channel: DeliveryChannel, limiter: RateLimiter, context: WorkContext): Promise<void> {
  for (;;) {
    if (context.signal.aborted) return
    const outcome = await db.transaction().execute(async (trx) => {
      const rows = await claim(trx, channel, context.now())
      if (rows.length === 0) return 'idle' as const
      if (!(await limiter.take(context.signal, context.deadline))) return 'out-of-time' as const
      const messages = rows.map((row) => row.payload as unknown as AlertMessage)
      try {
        const receipt = await channel.notifier.send({consoleUrl: context.consoleUrl, messages, runId: rows[0]?.run_id as string}, context.signal)
        await trx
          .updateTable('alert_notifications')
          .set((eb) => ({attempts: eb('attempts', '+', 1), last_error: null, provider_response: receipt.response, sent_at: context.now(), state: 'sent'}))
          .where('id', 'in', rows.map((row) => row.id))
          .execute()
        context.totals.sent += rows.length
        return 'sent' as const
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError(`internal error: ${(error as Error).message}`, {retryable: false})
        const attempts = Math.max(...rows.map((row) => row.attempts)) + 1
        const final = !failure.retryable || attempts >= context.maxAttempts
        const wait = Math.max(failure.retryAfterMs ?? 0, backoff(attempts))
        if (failure.retryAfterMs !== undefined) limiter.holdUntil(Date.now() + failure.retryAfterMs)
        await trx
          .updateTable('alert_notifications')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            last_error: `${failure.message}${final && failure.retryable ? ` (gave up after ${attempts} attempts)` : ''}`,
            next_attempt_at: new Date(context.now().getTime() + wait),
            state: final ? 'failed' : 'pending',
          }))
          .where('id', 'in', rows.map((row) => row.id))
          .execute()
        if (final) context.totals.failed += rows.length
        return final ? ('failed' as const) : ({retryInMs: wait} as const)
      }
    })
    if (outcome === 'idle' || outcome === 'out-of-time') return
    if (typeof outcome === 'object') {
      // Retry within this run only if the wait fits in its budget; otherwise the next run will.
      if (Date.now() + outcome.retryInMs > context.deadline) return
      try {
        await sleep(outcome.retryInMs, undefined, {signal: context.signal})
      } catch {
        return
      }
    }
  }
}

/**
 * The next request's worth of notifications for a channel: the oldest due one, and the
 * due ones that share its group (a digest per run, per run and severity, or one alert),
 * up to the notifier's maximum per request. Locked until the transaction ends; rows locked
 * by another worker or run are skipped, never waited for.
 */
async function claim(trx: Db, channel: DeliveryChannel, now: Date): Promise<NotificationRow[]> {
  const first = await trx
    .selectFrom('alert_notifications')
    .selectAll()
    .where('channel', '=', channel.name)
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .orderBy('id')
    .limit(1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst()
  if (!first) return []
  const {maxPerRequest, groupKey} = channel.notifier
  if (maxPerRequest <= 1) return [first]
  const key = groupKey(first.payload as unknown as AlertMessage, first.run_id)
  const more = await trx
    .selectFrom('alert_notifications')
    .selectAll()
    .where('channel', '=', channel.name)
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where('run_id', '=', first.run_id)
    .where('id', '>', first.id)
    .orderBy('id')
    .limit(Math.max(maxPerRequest * 4, 200))
    .forUpdate()
    .skipLocked()
    .execute()
  const group = [first, ...more.filter((row) => groupKey(row.payload as unknown as AlertMessage, row.run_id) === key)].slice(0, maxPerRequest)
  // Locks taken on rows of other groups end with this transaction; they were not sent.
  return group
}

/** Failed and pending notifications, for `alerts deliveries` and `health check`. */
export async function listDeliveries(
  db: Db,
  options: {channel?: string; limit: number; state?: 'failed' | 'pending' | 'sent'},
): Promise<NotificationRow[]> {
  let select = db.selectFrom('alert_notifications').selectAll()
  if (options.state) select = select.where('state', '=', options.state)
  if (options.channel) select = select.where('channel', '=', options.channel)
  return select.orderBy('id', 'desc').limit(options.limit).execute()
}

export async function deliveryCounts(db: Db): Promise<Record<'failed' | 'pending' | 'sent', number>> {
  const {rows} = await sql<{n: number; state: 'failed' | 'pending' | 'sent'}>`select state, count(*)::int as n from alert_notifications group by state`.execute(db)
  const counts = {failed: 0, pending: 0, sent: 0}
  for (const row of rows) counts[row.state] = Number(row.n)
  return counts
}

import {randomUUID} from 'node:crypto'
import {setMaxListeners} from 'node:events'
import {setTimeout as sleep} from 'node:timers/promises'

import {sql} from 'kysely'

import type {Db, NotificationRow, NotificationState} from '../../../db/schema.js'
import {type AlertMessage, DeliveryError, type Notifier} from '../../../notifiers/notifier.js'
import {OutcomeBatches} from '../../../db/outcome-batches.js'
import {excerpt, failureOf, MAX_STORED_BYTES, responseOf, storedError, textOf, validDate} from './delivery-outcome.js'
import {RateLimiter} from '../../../net/rate-limiter.js'
import {DEFAULT_MAX_ATTEMPTS, retryPlan} from './retry-policy.js'

/**
 * Step 3 of the alert pipeline (docs/architecture.md): deliver the outbox.
 *
 * A worker claims a batch of its channel's oldest due notifications with one statement (a
 * lease: `claimed_until`, taken with `FOR UPDATE SKIP LOCKED`, so concurrent runs never claim
 * the same row), sends them request by request, and records each outcome: sent; or retried
 * later with exponential backoff and jitter (at least the provider's Retry-After, at most an
 * hour) on 429, 5xx, timeouts and network errors; or failed for good on other 4xx, or after
 * the last attempt. Nothing a notifier returns or throws is stored as it is
 * (delivery-outcome.ts). Outcomes are written in batches a few milliseconds apart, so a
 * delivery costs its HTTP request and a share of two statements. Rows left by earlier runs
 * go first. A channel that is down loses nothing: its rows wait in the outbox. A process
 * that dies leaves its claims to expire (LEASE_MS); a request it had sent in its last
 * moments may then be sent again, which PagerDuty deduplicates by `dedup_key`.
 */

export interface DeliveryChannel {
  readonly name: string
  readonly notifier: Notifier
}

export interface DeliveryOptions {
  /** Who claims (the run's id): outcomes are recorded only while this claimant holds the lease. */
  readonly claimant?: string
  /** Base URL for links in notifications (SYNTHEX_CONSOLE_URL). */
  readonly consoleUrl?: string
  readonly maxAttempts?: number
  /** How long this run may wait for backoffs and rate limits before leaving the rest for the next run. */
  readonly maxWaitMs?: number
  readonly now?: () => Date
  /** How long one request may take before it counts as unanswered (and is aborted): SEND_MARGIN_MS, so it ends within its lease. */
  readonly requestTimeoutMs?: number
  readonly signal?: AbortSignal
}

export interface DeliveryResult {
  readonly failed: number
  /** Still waiting after this run (retries scheduled, channels not configured here), not counting rows another run is sending. */
  readonly pending: number
  readonly sent: number
  /** Outcomes the database would not take (each row stays claimed until its lease ends, then is due again): an error to report. */
  readonly unrecorded: readonly UnrecordedOutcome[]
}

/** How long a claim lasts. */
export const LEASE_MS = 120_000
/** A request is started only with this much of the lease left: the longest notifier timeout (15 s) and then some. */
const SEND_MARGIN_MS = 30_000
/** Requests a worker claims at once: about a second of its share of the channel's rate. */
const MAX_REQUESTS_PER_CLAIM = 50
const MAX_ROWS_PER_CLAIM = 1000
/** Outcomes are written together, at most this long after the first of them. */
const RECORD_LINGER_MS = 10

export async function deliverPending(db: Db, channels: readonly DeliveryChannel[], options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const now = options.now ?? (() => new Date())
  // A worker that fails stops the others before the outcomes are written and the error is thrown.
  const failed = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal
  // Every request listens to the run's signal: many listeners are expected, not a leak.
  setMaxListeners(0, signal)
  const recorder = new OutcomeRecorder(db, options.claimant ?? randomUUID())
  const context: WorkContext = {
    consoleUrl: options.consoleUrl,
    deadline: Date.now() + (options.maxWaitMs ?? 30_000),
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    now,
    recorder,
    requestTimeoutMs: options.requestTimeoutMs ?? SEND_MARGIN_MS,
    signal,
  }
  // A channel with nothing due gets no workers: a run with nothing to send costs this one
  // statement, not a claim by each of a channel's workers.
  const due = await dueChannels(db, channels.map((channel) => channel.name), now())
  let results: Array<PromiseSettledResult<void>>
  try {
    results = await Promise.allSettled(
      channels.filter((channel) => due.has(channel.name)).flatMap((channel) => {
        const workers = atLeastOne(channel.notifier.limits.concurrency)
        const perMinute = atLeastOne(channel.notifier.limits.perMinute)
        const limiter = new RateLimiter(perMinute)
        const turns = new Turns()
        const requestsPerClaim = Math.min(MAX_REQUESTS_PER_CLAIM, Math.max(1, Math.ceil(perMinute / 60 / workers)))
        const rowsPerClaim = Math.min(MAX_ROWS_PER_CLAIM, requestsPerClaim * atLeastOne(channel.notifier.maxPerRequest))
        return Array.from({length: workers}, async () =>
          work(db, {channel, limiter, rowsPerClaim, turns}, context).catch((error: unknown) => {
            failed.abort()
            throw error
          }),
        )
      }),
    )
  } finally {
    await recorder.close()
  }

  const failure = results.find((result) => result.status === 'rejected')
  if (failure) throw failure.reason

  // Rows another run holds a claim on are in hand, not waiting.
  const {rows} = await sql<{n: number}>`
    select count(*)::int as n from alert_notifications
    where state = 'pending' and (claimed_until is null or claimed_until < now())`.execute(db)
  return {failed: recorder.failed, pending: Number(rows[0]?.n ?? 0), sent: recorder.sent, unrecorded: recorder.unrecorded}
}

/** The channels with a notification that a claim could take now (claim() takes fewer: not those behind an older one). */
async function dueChannels(db: Db, names: readonly string[], now: Date): Promise<Set<string>> {
  if (names.length === 0) return new Set()
  const {rows} = await sql<{name: string}>`
    select name from unnest(${[...names]}::text[]) as c(name)
    where exists (
      select from alert_notifications
      where channel = c.name and state = 'pending' and next_attempt_at <= ${now} and (claimed_until is null or claimed_until < now()))`.execute(db)
  return new Set(rows.map((row) => row.name))
}

/** A notifier's limit as a whole number of at least 1 (a NaN would stop its channel without a word). */
function atLeastOne(value: number): number {
  return Number.isFinite(value) ? Math.max(1, Math.floor(value)) : 1
}

interface WorkContext {
  readonly consoleUrl: string | undefined
  readonly deadline: number
  readonly maxAttempts: number
  readonly now: () => Date
  readonly recorder: OutcomeRecorder
  readonly requestTimeoutMs: number
  readonly signal: AbortSignal
}

/** What a channel's workers share. */
interface ChannelWork {
  readonly channel: DeliveryChannel
  readonly limiter: RateLimiter
  readonly rowsPerClaim: number
  readonly turns: Turns
}

/**
 * Runs tasks one after another. A channel's workers claim in turn and reserve the slot of
 * their claim's first request before the next one claims, so batches start in the order
 * their rows were claimed, oldest first, however the database's answers interleave. (Within
 * a batch, and across retries, requests of different batches may still interleave.)
 */
class Turns {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task)
    this.#tail = result.catch(() => {})
    return result
  }
}

/** One worker of one channel: claim a batch, send it request by request, until nothing is due or time is up. */
async function work(db: Db, {channel, limiter, rowsPerClaim, turns}: ChannelWork, context: WorkContext): Promise<void> {
  const {recorder, signal} = context
  for (;;) {
    if (signal.aborted || Date.now() >= context.deadline) return
    await recorder.settle()
    const leaseEnds = Date.now() + LEASE_MS
    const {firstTurn, rows} = await turns.run(async () => {
      const rows = await claim(db, channel.name, rowsPerClaim, context.now(), recorder.claimant)
      return {firstTurn: rows.length > 0 ? limiter.take(signal, context.deadline) : undefined, rows}
    })
    if (rows.length === 0 || firstTurn === undefined) return
    const requests = group(rows, channel.notifier)
    let retryInMs: number | undefined
    for (const [index, request] of requests.entries()) {
      const rest = () => requests.slice(index).flat()
      if (signal.aborted || Date.now() + SEND_MARGIN_MS > leaseEnds) {
        recorder.release(rest())
        break
      }

      if (!(await (index === 0 ? firstTurn : limiter.take(signal, context.deadline)))) {
        recorder.release(rest())
        return
      }

      // A Retry-After hold may have outlasted the lease's margin while this request waited.
      if (Date.now() + SEND_MARGIN_MS > leaseEnds) {
        recorder.release(rest())
        break
      }

      const outcome = await send(channel, limiter, request, context)
      if (outcome !== undefined) {
        // The channel is struggling: leave the rest of the batch for later, as it was.
        recorder.release(requests.slice(index + 1).flat())
        retryInMs = outcome
        break
      }
    }

    if (retryInMs !== undefined) {
      // Retry within this run only if the wait fits in its budget; otherwise the next run will.
      if (Date.now() + retryInMs > context.deadline) return
      try {
        await sleep(retryInMs, undefined, {signal})
      } catch {
        return
      }
    }
  }
}

/**
 * Sends one request and records its outcome; returns how long to wait when it is to be
 * retried. Whatever the notifier answers or throws is made safe to store first
 * (delivery-outcome.ts): a request the provider accepted is recorded as sent, whatever its
 * receipt looks like, and a wait is at most an hour.
 */
async function send(channel: DeliveryChannel, limiter: RateLimiter, rows: readonly NotificationRow[], context: WorkContext): Promise<number | undefined> {
  const messages = rows.map((row) => row.payload as unknown as AlertMessage)
  let receipt: unknown
  try {
    receipt = await bounded(context, (signal) => channel.notifier.send({consoleUrl: context.consoleUrl, messages, runId: rows[0]?.run_id as string}, signal))
  } catch (error) {
    const failure = failureOf(error)
    // The provider asked the whole channel to wait (a 429's Retry-After), not just this request.
    if (failure.retryAfterMs !== undefined) limiter.holdUntil(Date.now() + failure.retryAfterMs)
    const attempts = Math.max(...rows.map((row) => row.attempts)) + 1
    const {final, waitMs: wait} = retryPlan(failure, attempts, context.maxAttempts)
    context.recorder.markFailed(rows, {
      error: storedError(failure.message, `${failure.note}${final && failure.retryable ? ` (gave up after ${attempts} attempts)` : ''}`),
      final,
      nextAttemptAt: validDate(context.now().getTime() + wait, () => Date.now() + wait),
    })
    return final ? undefined : wait
  }

  context.recorder.markSent(rows, responseOf(receipt), validDate(context.now().getTime()))
  return undefined
}

/**
 * A notifier's request, over within context.requestTimeoutMs whatever the notifier does: its
 * signal aborts then (or when the run is interrupted), and a notifier that does not stop is
 * no longer waited for. A request must end within its lease: after it, another run may claim
 * the same rows and send them again.
 */
async function bounded<T>(context: WorkContext, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timedOut = `no answer within ${context.requestTimeoutMs / 1000} s`
  const stop = (): void => controller.abort(new DeliveryError('interrupted', {retryable: true}))
  const stopped = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), {once: true}))
  const timer = setTimeout(() => controller.abort(new DeliveryError(timedOut, {retryable: true})), context.requestTimeoutMs)
  context.signal.addEventListener('abort', stop, {once: true})
  try {
    if (context.signal.aborted) stop()
    if (controller.signal.aborted) return await stopped
    const sending = Promise.resolve().then(() => request(controller.signal))
    // Whatever it settles to once it is no longer waited for, it is not an unhandled rejection.
    sending.catch(() => {})
    return await Promise.race([sending, stopped])
  } finally {
    clearTimeout(timer)
    context.signal.removeEventListener('abort', stop)
  }
}

/**
 * Claims up to `limit` of a channel's due notifications, oldest first, for LEASE_MS. Rows
 * another worker or run is claiming are skipped, never waited for; rows whose claim expired
 * (their process died) are due again. A row waits while an older one of the same alert is
 * pending on the channel: a resolve never overtakes the trigger being retried before it.
 */
async function claim(db: Db, channel: string, limit: number, now: Date, claimant: string): Promise<NotificationRow[]> {
  const {rows} = await sql<NotificationRow>`
    update alert_notifications set claimed_until = now() + ${`${LEASE_MS} milliseconds`}::interval, claimed_by = ${claimant}::uuid
    where id in (
      select id from alert_notifications as n
      where channel = ${channel} and state = 'pending' and next_attempt_at <= ${now}
        and (claimed_until is null or claimed_until < now())
        -- A scalar subquery rather than NOT EXISTS: it is probed (by index) only for the rows
        -- the scan reaches, never planned as an anti-join over every pending row.
        and (select 1 from alert_notifications as older
             where older.alert_id = n.alert_id and older.channel = n.channel and older.state = 'pending' and older.id < n.id
             limit 1) is null
      order by id
      limit ${limit}
      for update skip locked)
    returning *`.execute(db)
  return rows.sort((a, b) => Number(a.id) - Number(b.id))
}

/** Claimed rows as requests: grouped by the notifier's key (a digest per run and severity...), in order, at most maxPerRequest each. */
function group(rows: readonly NotificationRow[], notifier: Notifier): NotificationRow[][] {
  const groups = new Map<string, NotificationRow[][]>()
  const requests: NotificationRow[][] = []
  for (const row of rows) {
    const key = notifier.maxPerRequest <= 1 ? String(row.id) : notifier.groupKey(row.payload as unknown as AlertMessage, row.run_id)
    const open = groups.get(key)?.at(-1)
    if (open && open.length < notifier.maxPerRequest) {
      open.push(row)
      continue
    }

    const request = [row]
    groups.set(key, [...(groups.get(key) ?? []), request])
    requests.push(request)
  }

  return requests
}

interface Outcome {
  readonly attempted: boolean
  readonly channel: string
  readonly error: null | string
  readonly id: number
  readonly nextAttemptAt: Date | null
  readonly response: null | string
  readonly sentAt: Date | null
  readonly state: 'failed' | 'pending' | 'sent'
}

/** An outcome the database would not take: its row stays claimed until the lease ends, and is then due again. */
export interface UnrecordedOutcome {
  readonly channel: string
  readonly id: number
  /** The database's error, first line. */
  readonly reason: string
  /** What was to be recorded: `sent` means the provider has it, and it may be sent again. */
  readonly state: 'failed' | 'pending' | 'sent'
}

/**
 * Writes delivery outcomes in batches (at most RECORD_LINGER_MS after the first waiting
 * outcome), and ends the claims on them. An outcome is written only while this claimant
 * still holds the row, so a run that overran its lease cannot undo what the run that took
 * over recorded.
 *
 * Sent outcomes are written first, and a batch refused is written row by row
 * (src/db/outcome-batches.ts); rows still refused are reported (`unrecorded`).
 */
class OutcomeRecorder {
  failed = 0
  sent = 0
  readonly unrecorded: UnrecordedOutcome[] = []
  readonly #batches = new OutcomeBatches<Outcome>({
    first: (outcome) => outcome.state === 'sent',
    lingerMs: RECORD_LINGER_MS,
    onUnrecorded: (outcomes, error) => this.#unrecorded(outcomes, error),
    write: (batch) => this.#update(batch),
  })

  constructor(
    private readonly db: Db,
    readonly claimant: string,
  ) {}

  /** Writes what is waiting now, so that the next claim sees it (an alert's next notification becomes due once its previous one is sent). */
  async settle(): Promise<void> {
    await this.#batches.settle()
  }

  async close(): Promise<void> {
    await this.settle()
  }

  markFailed(rows: readonly NotificationRow[], outcome: {error: string; final: boolean; nextAttemptAt: Date}): void {
    if (outcome.final) this.failed += rows.length
    this.#batches.add(
      rows.map((row) => ({
        attempted: true,
        channel: row.channel,
        error: outcome.error,
        id: Number(row.id),
        nextAttemptAt: outcome.nextAttemptAt,
        response: null,
        sentAt: null,
        state: outcome.final ? 'failed' : 'pending',
      })),
    )
  }

  /** Claimed but not sent: due again at once, for this run or another. */
  release(rows: readonly NotificationRow[]): void {
    this.#batches.add(rows.map((row) => ({attempted: false, channel: row.channel, error: null, id: Number(row.id), nextAttemptAt: null, response: null, sentAt: null, state: 'pending'})))
  }

  markSent(rows: readonly NotificationRow[], response: string, at: Date): void {
    this.sent += rows.length
    this.#batches.add(rows.map((row) => ({attempted: true, channel: row.channel, error: null, id: Number(row.id), nextAttemptAt: null, response, sentAt: at, state: 'sent'})))
  }

  #unrecorded(outcomes: readonly Outcome[], error: unknown): void {
    const reason = textOf(error instanceof Error ? error.message : error).split('\n')[0]?.slice(0, 500) ?? ''
    for (const outcome of outcomes) this.unrecorded.push({channel: outcome.channel, id: outcome.id, reason, state: outcome.state})
  }

  async #update(batch: readonly Outcome[]): Promise<void> {
    await sql`
      update alert_notifications as n set
        state = u.state,
        attempts = n.attempts + case when u.attempted then 1 else 0 end,
        last_error = case when u.attempted then u.error else n.last_error end,
        provider_response = coalesce(u.response, n.provider_response),
        sent_at = coalesce(u.sent_at, n.sent_at),
        next_attempt_at = coalesce(u.next_attempt_at, n.next_attempt_at),
        claimed_until = null,
        claimed_by = null
      from unnest(
        ${batch.map((outcome) => outcome.id)}::bigint[], ${batch.map((outcome) => outcome.state)}::text[],
        ${batch.map((outcome) => outcome.attempted)}::boolean[], ${batch.map((outcome) => outcome.error)}::text[],
        ${batch.map((outcome) => outcome.response)}::text[], ${batch.map((outcome) => outcome.sentAt)}::timestamptz[],
        ${batch.map((outcome) => outcome.nextAttemptAt)}::timestamptz[]
      ) as u(id, state, attempted, error, response, sent_at, next_attempt_at)
      where n.id = u.id and n.claimed_by = ${this.claimant}::uuid`.execute(this.db)
  }
}

/**
 * The outbox, newest first, for `alerts deliveries`. The provider's answer and the last error
 * are read as bounded excerpts (delivery-outcome.ts), whatever an older version stored.
 */
export async function listDeliveries(db: Db, options: {channel?: string; limit: number; state?: NotificationState}): Promise<NotificationRow[]> {
  const bounded = (column: 'last_error' | 'provider_response') => sql<null | string>`left(${sql.ref(column)}, ${MAX_STORED_BYTES}::int)`
  const bytes = (column: 'last_error' | 'provider_response') => sql<null | number>`octet_length(${sql.ref(column)})`
  let select = db
    .selectFrom('alert_notifications')
    .select(['alert_id', 'alert_ids', 'attempts', 'channel', 'claimed_by', 'claimed_until', 'created_at', 'id', 'kind', 'next_attempt_at', 'payload', 'run_id', 'sent_at', 'severity', 'state'])
    .select([bounded('last_error').as('last_error'), bytes('last_error').as('last_error_bytes'), bounded('provider_response').as('provider_response'), bytes('provider_response').as('provider_response_bytes')])
  if (options.state) select = select.where('state', '=', options.state)
  if (options.channel) select = select.where('channel', '=', options.channel)
  const rows = await select.orderBy('id', 'desc').limit(options.limit).execute()
  const cut = (text: null | string, total: null | number): null | string => (text === null ? null : excerpt(text, MAX_STORED_BYTES, Number(total ?? 0)))
  return rows.map(({last_error_bytes: errorBytes, provider_response_bytes: responseBytes, ...row}) => ({
    ...row,
    last_error: cut(row.last_error, errorBytes),
    provider_response: cut(row.provider_response, responseBytes),
  }))
}

export async function deliveryCounts(db: Db): Promise<Record<NotificationState, number>> {
  const {rows} = await sql<{n: number; state: NotificationState}>`select state, count(*)::int as n from alert_notifications group by state`.execute(db)
  const counts = {failed: 0, pending: 0, sent: 0, superseded: 0}
  for (const row of rows) counts[row.state] = Number(row.n)
  return counts
}

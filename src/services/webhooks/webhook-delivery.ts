import {randomUUID} from 'node:crypto'
import {setMaxListeners} from 'node:events'
import {setTimeout as sleep} from 'node:timers/promises'

import {sql} from 'kysely'

import type {Keyring} from '../../crypto/keyring.js'
import type {Db} from '../../db/schema.js'
import {OutcomeBatches} from '../../db/outcome-batches.js'
import {recordEvents} from '../events/events.js'
import {storedError, textOf} from '../alerts/delivery/delivery-outcome.js'
import {openSubscription} from './subscriptions.js'
import {webhookRetryPlan} from './webhook-retry-policy.js'
import {DEFAULT_WEBHOOK_TIMEOUT_MS, type SendOutcome, sendWebhook, type WebhookTarget} from './webhook-sender.js'

/**
 * Delivers the webhook outbox (webhook_deliveries, migrations/0015_webhooks.sql), the way
 * the alert outbox is delivered (src/services/alerts/delivery/alert-delivery.ts):
 *
 * - Each subscription with something due gets workers of its own (`concurrency`, 4 by
 *   default), and no slot is shared between subscriptions: a receiver that is down or
 *   takes its full timeout to answer only ever holds its own workers.
 * - Its workers take its due rows oldest first from a feed that claims them a few at a time
 *   with a lease (`claimed_until`, `claimed_by`, taken with FOR UPDATE SKIP LOCKED): runs
 *   at once never claim the same row, and a run that dies leaves its claims to expire
 *   (LEASE_MS), nothing lost.
 * - Each outcome is recorded only while this run still holds the row's claim, and a 2xx
 *   first, in a statement of its own: what a receiver accepted is never sent again by this
 *   or another run.
 * - A failure worth retrying (408, 429, 5xx, a timeout, a network error) is retried with
 *   backoff and full jitter, never before the receiver's Retry-After, for up to three days
 *   after the event (webhook-retry-policy.ts), then `failed`. The subscription pauses for
 *   as long: its other rows are left for later rather than sent to a receiver that is
 *   struggling. A wait that fits in `maxWaitMs` is waited out in this run.
 * - A 410 disables the subscription (disabled_reason 'gone (410)'): nothing more is sent to
 *   it, and its rows stay pending, to go out if it is enabled again.
 */

export interface WebhookDeliveryOptions {
  /** Who claims (the run's id): outcomes are recorded only while this claimant holds the lease. */
  readonly claimant?: string
  /** Requests in flight at once to one subscription. */
  readonly concurrency?: number
  /** How long this run may go on (waiting out retries included) before leaving the rest to the next run. */
  readonly maxWaitMs?: number
  /** The clock that decides what is due and when to retry (tests move it; the signature's timestamp is always the wall clock). */
  readonly now?: () => Date
  readonly random?: () => number
  /** How long one request may take (default 10 s). */
  readonly requestTimeoutMs?: number
  readonly signal?: AbortSignal
}

export interface WebhookDeliveryResult {
  /** Subscriptions disabled in this run by a 410. */
  readonly disabled: readonly string[]
  /** Deliveries given up in this run: refused for good (a 4xx, a 3xx, an address refused) or retried for three days. */
  readonly failed: number
  /** Still pending after this run, not counting rows another run holds; of enabled subscriptions. */
  readonly pending: number
  /** Attempts that failed in this run and will be tried again. */
  readonly retried: number
  readonly sent: number
  /** Subscriptions whose URL and secrets could not be opened (a missing key): their deliveries wait. */
  readonly unopened: ReadonlyArray<{readonly reason: string; readonly subscription: string}>
  /** Outcomes the database would not take: their rows are due again once their claim ends. */
  readonly unrecorded: number
}

export const DEFAULT_WEBHOOK_CONCURRENCY = 4
/** disabled_reason of a subscription whose receiver answered 410 Gone. */
export const GONE_REASON = 'gone (410)'
/** How long a claim lasts. */
export const LEASE_MS = 120_000
/** A request starts only with its timeout and this much more of its lease left. */
const LEASE_MARGIN_MS = 15_000
/** Rows a feed claims at once, per worker: enough to keep the workers busy between claims, few enough to be sent well within the lease. */
const ROWS_PER_WORKER = 4
const MAX_ROWS_PER_CLAIM = 100
/** Outcomes are written together, at most this long after the first of them. */
const RECORD_LINGER_MS = 10

interface DueSubscription {
  readonly allow_http: boolean
  readonly allow_private_network: boolean
  readonly id: string
  readonly name: string
  readonly previous_secret_until: Date | null
  readonly secrets_ciphertext: string
  readonly workspace_id: null | string
}

interface ClaimedRow {
  readonly attempts: number
  /** When this run's claim of it ends, on this process's clock. */
  readonly claimEnds: number
  readonly created_at: Date
  readonly id: number
  readonly message_id: string
  readonly payload: unknown
}

export async function deliverWebhooks(db: Db, keyring: Keyring, options: WebhookDeliveryOptions = {}): Promise<WebhookDeliveryResult> {
  const now = options.now ?? (() => new Date())
  const concurrency = Math.max(1, Math.min(64, Math.floor(options.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY) || 1))
  const failed = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal
  // Every request listens to the run's signal: many listeners are expected, not a leak.
  setMaxListeners(0, signal)
  const recorder = new OutcomeRecorder(db, options.claimant ?? randomUUID())
  const run: RunContext = {
    concurrency,
    db,
    deadline: Date.now() + (options.maxWaitMs ?? 30_000),
    disabled: [],
    now,
    random: options.random ?? Math.random,
    recorder,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    signal,
    unopened: [],
  }

  // A subscription with nothing due gets no workers: a run with nothing to send costs this one statement.
  const due = await dueSubscriptions(db, now())
  let results: Array<PromiseSettledResult<void>>
  try {
    results = await Promise.allSettled(
      due.map((subscription) =>
        deliverTo(subscription, keyring, run).catch((error: unknown) => {
          // A database that fails stops every worker before the outcomes are written and the error is thrown.
          failed.abort()
          throw error
        }),
      ),
    )
  } finally {
    await recorder.close()
  }

  const failure = results.find((result) => result.status === 'rejected')
  if (failure) throw failure.reason

  const {rows} = await sql<{n: number}>`
    select count(*)::int as n from webhook_deliveries as d join webhook_subscriptions as s on s.id = d.subscription_id
    where d.state = 'pending' and s.disabled_at is null and (d.claimed_until is null or d.claimed_until < now())`.execute(db)
  return {
    disabled: run.disabled,
    failed: recorder.failed,
    pending: Number(rows[0]?.n ?? 0),
    retried: recorder.retried,
    sent: recorder.sent,
    unopened: run.unopened,
    unrecorded: recorder.unrecorded,
  }
}

interface RunContext {
  readonly concurrency: number
  readonly db: Db
  readonly deadline: number
  readonly disabled: string[]
  readonly now: () => Date
  readonly random: () => number
  readonly recorder: OutcomeRecorder
  readonly requestTimeoutMs: number
  readonly signal: AbortSignal
  readonly unopened: Array<{reason: string; subscription: string}>
}

/** The enabled subscriptions that have a delivery a claim could take now. */
async function dueSubscriptions(db: Db, now: Date): Promise<DueSubscription[]> {
  const {rows} = await sql<DueSubscription>`
    select s.id, s.name, s.secrets_ciphertext, s.previous_secret_until, s.allow_http, s.allow_private_network, s.workspace_id
    from webhook_subscriptions as s
    where s.disabled_at is null and exists (
      select from webhook_deliveries as d
      where d.subscription_id = s.id and d.state = 'pending' and d.next_attempt_at <= ${now} and (d.claimed_until is null or d.claimed_until < now()))
    order by s.name`.execute(db)
  return rows.map((row) => ({...row, previous_secret_until: row.previous_secret_until === null ? null : new Date(row.previous_secret_until)}))
}

/** One subscription's share of the run: its workers, its feed, its pause. */
async function deliverTo(subscription: DueSubscription, keyring: Keyring, run: RunContext): Promise<void> {
  let target: WebhookTarget
  try {
    const opened = openSubscription(keyring, subscription, run.now())
    target = {policy: {allowHttp: subscription.allow_http, allowPrivateNetwork: subscription.allow_private_network}, secrets: opened.secrets, url: opened.url}
  } catch (error) {
    run.unopened.push({reason: textOf(error instanceof Error ? error.message : error).split('\n')[0] ?? '', subscription: subscription.name})
    return
  }

  const feed = new Feed(run, subscription.id, Math.min(MAX_ROWS_PER_CLAIM, run.concurrency * ROWS_PER_WORKER))
  const state: SubscriptionState = {pausedUntil: 0, stopped: false}
  try {
    await Promise.all(Array.from({length: run.concurrency}, async () => work(subscription, target, feed, state, run)))
  } finally {
    // Claimed and not sent (the subscription paused, gone, or the run's time is up): due again at once.
    run.recorder.release(await feed.close())
  }
}

interface SubscriptionState {
  /** Wall-clock time before which nothing more is sent to it (a retry's wait, a Retry-After). */
  pausedUntil: number
  /** Nothing more is sent to it in this run (it answered 410, or its pause outlasts the run). */
  stopped: boolean
}

async function work(subscription: DueSubscription, target: WebhookTarget, feed: Feed, state: SubscriptionState, run: RunContext): Promise<void> {
  for (;;) {
    if (run.signal.aborted || state.stopped || Date.now() >= run.deadline) return
    if (state.pausedUntil > Date.now()) {
      if (state.pausedUntil > run.deadline) {
        state.stopped = true
        return
      }

      try {
        await sleep(state.pausedUntil - Date.now(), undefined, {signal: run.signal})
      } catch {
        return
      }

      continue
    }

    const row = await feed.next()
    if (!row) return
    if (state.stopped || run.signal.aborted) {
      run.recorder.release([row])
      return
    }

    // A request must end within its claim: after it, another run may claim the row and send it again.
    if (Date.now() + run.requestTimeoutMs + LEASE_MARGIN_MS > row.claimEnds) {
      run.recorder.release([row])
      continue
    }

    // Serialized once: these are the bytes signed and sent, keys in the documented order
    // (jsonb keeps its own), the same on every attempt.
    const body = webhookBody(row.payload)
    const outcome = await sendWebhook(target, {body, id: row.message_id}, {signal: run.signal, timeoutMs: run.requestTimeoutMs})
    await record(subscription, row, outcome, state, run)
  }
}

async function record(subscription: DueSubscription, row: ClaimedRow, outcome: SendOutcome, state: SubscriptionState, run: RunContext): Promise<void> {
  const attempt = row.attempts + 1
  switch (outcome.kind) {
    case 'interrupted': {
      run.recorder.release([row])
      return
    }

    case 'sent': {
      run.recorder.markSent(row, outcome.status, run.now())
      return
    }

    case 'failed': {
      run.recorder.markFailed(row, outcome.status, storedError(outcome.error), run.now())
      return
    }

    case 'gone': {
      // Nothing more goes to it: its rows (this one too) wait for it to be enabled again.
      state.stopped = true
      run.recorder.markAttempted(row, outcome.status, storedError(outcome.error, ' (the subscription was disabled; enable it again to resume)'))
      if (await disableGone(run.db, subscription)) run.disabled.push(subscription.name)
      return
    }

    case 'retry': {
      const plan = webhookRetryPlan({attempt, createdAt: row.created_at, now: run.now(), random: run.random, retryAfterMs: outcome.retryAfterMs})
      if (plan.final) {
        run.recorder.markFailed(row, outcome.status, storedError(outcome.error, ` (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} over 3 days)`), run.now())
        return
      }

      run.recorder.markRetry(row, outcome.status, storedError(outcome.error), plan.nextAttemptAt)
      // The receiver is struggling: the subscription's other rows wait as long as this one.
      state.pausedUntil = Math.max(state.pausedUntil, Date.now() + plan.waitMs)
      return
    }
  }
}

/** Disables a subscription whose receiver answered 410 Gone, audited; false when it was disabled already. */
async function disableGone(db: Db, subscription: DueSubscription): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable('webhook_subscriptions')
      .set({disabled_at: sql<Date>`now()`, disabled_reason: GONE_REASON, updated_at: sql<Date>`now()`})
      .where('id', '=', subscription.id)
      .where('disabled_at', 'is', null)
      .returning('name')
      .executeTakeFirst()
    if (!changed) return false
    await recordEvents(trx, {actor: 'synthex', source: 'webhooks'}, [
      {aggregateId: subscription.name, aggregateType: 'webhook_subscription', data: {name: subscription.name, reason: GONE_REASON}, type: 'webhook.disabled', workspaceId: subscription.workspace_id},
    ])
    return true
  })
}

/**
 * A subscription's due rows, oldest first, claimed a batch at a time when its workers have
 * taken what was claimed before. One claim at a time: workers that find the feed empty
 * while a claim is under way wait for it.
 */
class Feed {
  #claiming: Promise<void> | undefined
  #exhausted = false
  #queue: ClaimedRow[] = []

  constructor(
    private readonly run: RunContext,
    private readonly subscriptionId: string,
    private readonly batch: number,
  ) {}

  /** Claims no more, and returns what was claimed and not taken (a claim under way included). */
  async close(): Promise<ClaimedRow[]> {
    this.#exhausted = true
    await this.#claiming?.catch(() => {})
    return this.#queue.splice(0)
  }

  async next(): Promise<ClaimedRow | undefined> {
    for (;;) {
      const row = this.#queue.shift()
      // The next batch is claimed while the workers still have half of this one to send: they never wait for a claim but the first.
      if (this.#queue.length < this.batch / 2) this.#refill().catch(() => {})
      if (row) return row
      if (this.#exhausted) return undefined
      await this.#refill()
    }
  }

  #refill(): Promise<void> {
    if (this.#exhausted) return Promise.resolve()
    this.#claiming ??= this.#claim().finally(() => (this.#claiming = undefined))
    return this.#claiming
  }

  async #claim(): Promise<void> {
    const claimEnds = Date.now() + LEASE_MS
    const {rows} = await sql<Omit<ClaimedRow, 'claimEnds'>>`
      update webhook_deliveries set claimed_until = now() + ${`${LEASE_MS} milliseconds`}::interval, claimed_by = ${this.run.recorder.claimant}
      where id in (
        select d.id from webhook_deliveries as d
        where d.subscription_id = ${this.subscriptionId}::uuid and d.state = 'pending' and d.next_attempt_at <= ${this.run.now()}
          and (d.claimed_until is null or d.claimed_until < now())
        order by d.id
        limit ${this.batch}
        for update skip locked)
        and exists (select from webhook_subscriptions as s where s.id = ${this.subscriptionId}::uuid and s.disabled_at is null)
      returning id, message_id, payload, attempts, created_at`.execute(this.run.db)
    if (rows.length === 0) this.#exhausted = true
    const claimed = rows.map((row) => ({...row, attempts: Number(row.attempts), claimEnds, created_at: new Date(row.created_at), id: Number(row.id)}))
    this.#queue.push(...claimed.sort((a, b) => a.id - b.id))
  }
}

interface Outcome {
  readonly attempted: boolean
  readonly error: null | string
  readonly finishedAt: Date | null
  readonly id: number
  readonly nextAttemptAt: Date | null
  readonly sentAt: Date | null
  readonly state: 'failed' | 'pending' | 'sent'
  readonly status: null | number
}

/**
 * Writes outcomes in batches a few milliseconds apart, each only where this claimant still
 * holds the row (a run that overran its lease cannot undo what the run that took over
 * recorded). Sent outcomes go first, and a batch refused is written row by row
 * (src/db/outcome-batches.ts); rows still refused are counted (`unrecorded`) and come due
 * again when their claim ends.
 */
class OutcomeRecorder {
  failed = 0
  retried = 0
  sent = 0
  unrecorded = 0
  readonly #batches = new OutcomeBatches<Outcome>({
    first: (outcome) => outcome.state === 'sent',
    lingerMs: RECORD_LINGER_MS,
    // Counted; the rows come due again when their claim ends.
    onUnrecorded: (outcomes) => {
      this.unrecorded += outcomes.length
    },
    write: (batch) => this.#update(batch),
  })

  constructor(
    private readonly db: Db,
    readonly claimant: string,
  ) {}

  async close(): Promise<void> {
    await this.#batches.settle()
  }

  /** An attempt that leaves the row pending with its next attempt as it was (a 410: it waits for the subscription). */
  markAttempted(row: ClaimedRow, status: null | number, error: string): void {
    this.#batches.add([{attempted: true, error, finishedAt: null, id: row.id, nextAttemptAt: null, sentAt: null, state: 'pending', status}])
  }

  markFailed(row: ClaimedRow, status: null | number, error: string, at: Date): void {
    this.failed++
    this.#batches.add([{attempted: true, error, finishedAt: at, id: row.id, nextAttemptAt: null, sentAt: null, state: 'failed', status}])
  }

  markRetry(row: ClaimedRow, status: null | number, error: string, nextAttemptAt: Date): void {
    this.retried++
    this.#batches.add([{attempted: true, error, finishedAt: null, id: row.id, nextAttemptAt, sentAt: null, state: 'pending', status}])
  }

  markSent(row: ClaimedRow, status: number, at: Date): void {
    this.sent++
    this.#batches.add([{attempted: true, error: null, finishedAt: at, id: row.id, nextAttemptAt: null, sentAt: at, state: 'sent', status}])
  }

  /** Claimed but not sent: due again at once, for this run or another. */
  release(rows: readonly ClaimedRow[]): void {
    this.#batches.add(rows.map((row) => ({attempted: false, error: null, finishedAt: null, id: row.id, nextAttemptAt: null, sentAt: null, state: 'pending' as const, status: null})))
  }

  async #update(batch: readonly Outcome[]): Promise<void> {
    await sql`
      update webhook_deliveries as d set
        state = u.state,
        attempts = d.attempts + case when u.attempted then 1 else 0 end,
        last_status = case when u.attempted then u.status else d.last_status end,
        last_error = case when u.attempted then u.error else d.last_error end,
        sent_at = coalesce(u.sent_at, d.sent_at),
        finished_at = coalesce(u.finished_at, d.finished_at),
        next_attempt_at = coalesce(u.next_attempt_at, d.next_attempt_at),
        claimed_until = null,
        claimed_by = null
      from unnest(
        ${batch.map((outcome) => outcome.id)}::bigint[], ${batch.map((outcome) => outcome.state)}::text[],
        ${batch.map((outcome) => outcome.attempted)}::boolean[], ${batch.map((outcome) => outcome.status)}::int[],
        ${batch.map((outcome) => outcome.error)}::text[], ${batch.map((outcome) => outcome.sentAt)}::timestamptz[],
        ${batch.map((outcome) => outcome.finishedAt)}::timestamptz[], ${batch.map((outcome) => outcome.nextAttemptAt)}::timestamptz[]
      ) as u(id, state, attempted, status, error, sent_at, finished_at, next_attempt_at)
      where d.id = u.id and d.claimed_by = ${this.claimant}`.execute(this.db)
  }
}

/** A stored payload as sent: `{"type","timestamp","data"}` in that order (CONTRACT, README). */
export function webhookBody(payload: unknown): string {
  const {data, timestamp, type, ...rest} = payload as Record<string, unknown>
  return JSON.stringify({type, timestamp, data, ...rest})
}

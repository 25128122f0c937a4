import {randomUUID} from 'node:crypto'

import type {Keyring} from '../../crypto/keyring.js'
import type {Db} from '../../db/schema.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {deliverPending, LEASE_MS, type UnrecordedOutcome} from './delivery/alert-delivery.js'
import {reconcileAlerts} from './alert-reconcile.js'
import {recordAlertRun} from './alerts.js'
import {notifierFor, resolveChannels} from './channels.js'
import {type Severity} from '../../domain/severity.js'
import type {ChannelEnvironment, DogStatsdTarget} from '../../config/environment.js'
import {deliverWebhooks} from '../webhooks/webhook-delivery.js'
import {sendExpiryEvents} from './expiry-datadog-events.js'

/**
 * `alerts check-now`: evaluate and reconcile, then deliver the outbox, then the webhook
 * outbox (src/services/webhooks/webhook-delivery.ts) in what is left of --max-wait, then
 * record the run.
 */

export interface CheckOptions {
  readonly consoleUrl?: string
  readonly dryRun?: boolean
  /** A Datadog agent (DATADOG_AGENT_HOST): expiring credentials that fired or escalated are sent to it as events (expiry-datadog-events.ts). */
  readonly dogstatsd?: DogStatsdTarget
  /** The channels the environment defines. */
  readonly channelEnvironment: ChannelEnvironment
  readonly keyring?: Keyring
  readonly maxWaitMs?: number
  readonly now?: () => Date
  readonly signal?: AbortSignal
  /** More notifications than this of one rule, severity and kind in a run go out as one digest per channel (alert-storms.ts). */
  readonly stormThreshold?: number
}

export interface CheckResult {
  readonly channels: string[]
  /** Digests sent in place of a storm of notifications, one per storm (each to every channel it reaches). */
  readonly digests: number
  readonly dryRun: boolean
  readonly escalated: number
  readonly evaluated: number
  readonly failed: number
  readonly firing: number
  /** The highest severity firing and not silenced, for --fail-on. */
  readonly highestFiring: Severity | null
  readonly new: number
  readonly pendingRetry: number
  readonly queued: number
  readonly reminded: number
  readonly resolved: number
  readonly runId: string
  readonly sent: number
  readonly silenced: number
  /** The webhook deliveries this run sent, retried, failed for good, and left pending; subscriptions a 410 disabled. None on a dry run, nor without a keyring. */
  readonly webhooks: WebhookFigures
  /** On a dry run: what would be sent. */
  readonly wouldSend?: ReadonlyArray<{channel: string; kind: string; severity: Severity; summary: string}>
}

export interface WebhookFigures {
  readonly disabled: readonly string[]
  /** Subscriptions whose URL and secrets could not be opened (a missing key): their deliveries wait. */
  readonly unopened: readonly string[]
  readonly failed: number
  readonly pending: number
  readonly retried: number
  readonly sent: number
}

/** Webhooks get at least this long, whatever the alert notifications took of --max-wait. */
const MIN_WEBHOOK_WAIT_MS = 5000

export async function checkAlerts(db: Db, options: CheckOptions): Promise<CheckResult> {
  const now = options.now ?? (() => new Date())
  const started = now()
  const startedMs = performance.now()
  const runId = randomUUID()
  const channels = await resolveChannels(db, options.keyring, options.channelEnvironment)
  const reconciled = await reconcileAlerts(db, {channels, dryRun: options.dryRun, now: started, runId, stormThreshold: options.stormThreshold})
  // Fire and forget, as the metrics; once decided (committed), never on a dry run.
  const datadog = options.dogstatsd && !options.dryRun ? sendExpiryEvents(options.dogstatsd, reconciled.credentialExpiry, started).catch(() => {}) : undefined
  const delivered = options.dryRun
    ? {failed: 0, pending: 0, sent: 0, unrecorded: []}
    : await deliverPending(
        db,
        channels.map((spec) => ({name: spec.name, notifier: notifierFor(spec)})),
        {claimant: runId, consoleUrl: options.consoleUrl, maxWaitMs: options.maxWaitMs, now, signal: options.signal},
      )
  await datadog
  const maxWaitMs = options.maxWaitMs ?? 30_000
  const webhooks =
    options.dryRun || !options.keyring
      ? {disabled: [], failed: 0, pending: 0, retried: 0, sent: 0, unopened: [], unrecorded: 0}
      : await deliverWebhooks(db, options.keyring, {
          claimant: runId,
          maxWaitMs: Math.max(MIN_WEBHOOK_WAIT_MS, maxWaitMs - (performance.now() - startedMs)),
          now,
          signal: options.signal,
        })
  const result: CheckResult = {
    channels: channels.map((channel) => channel.name),
    digests: reconciled.digests,
    dryRun: Boolean(options.dryRun),
    escalated: reconciled.escalated,
    evaluated: reconciled.evaluated,
    failed: delivered.failed,
    firing: reconciled.firing,
    highestFiring: reconciled.highestFiring,
    new: reconciled.new,
    pendingRetry: delivered.pending,
    queued: reconciled.notifications.length,
    reminded: reconciled.reminded,
    resolved: reconciled.resolved,
    runId,
    sent: delivered.sent,
    silenced: reconciled.silenced,
    webhooks: {disabled: webhooks.disabled, failed: webhooks.failed, pending: webhooks.pending, retried: webhooks.retried, sent: webhooks.sent, unopened: webhooks.unopened.map((entry) => entry.subscription)},
    ...(options.dryRun
      ? {wouldSend: reconciled.notifications.map(({channel, message}) => ({channel, kind: message.kind, severity: message.severity, summary: message.summary}))}
      : {}),
  }
  const {wouldSend: _omitted, ...summary} = result
  const {unrecorded} = delivered
  await recordAlertRun(db, {dryRun: result.dryRun, finishedAt: now(), id: runId, startedAt: started, summary: unrecorded.length > 0 ? {...summary, unrecorded: unrecorded.length} : summary})
  if (unrecorded.length > 0) throw unrecordedError(result, unrecorded)
  if (webhooks.unrecorded > 0) {
    throw new SynthexError(`${webhooks.unrecorded} webhook delivery outcome${webhooks.unrecorded === 1 ? '' : 's'} could not be recorded: they are due again once their claim ends, within ${LEASE_MS / 60_000} minutes, and one that had been sent may be sent again (under the same webhook-id).`, {
      code: 'DELIVERY_NOT_RECORDED',
      details: {runId, webhooks: result.webhooks},
      hint: 'Run synthex health check: the database may be failing. synthex webhooks deliveries shows the webhook outbox.',
    })
  }

  return result
}

/**
 * Everything else this run did is recorded; these outcomes are not. Their rows stay claimed
 * until the lease ends and are then due again: a notification that was sent may be sent a
 * second time (PagerDuty deduplicates it by dedup_key). Said as an error, never passed over.
 */
function unrecordedError(result: CheckResult, unrecorded: readonly UnrecordedOutcome[]): SynthexError {
  const sent = unrecorded.filter((outcome) => outcome.state === 'sent').length
  const channels = [...new Set(unrecorded.map((outcome) => outcome.channel))].join(', ')
  const [first] = unrecorded
  return new SynthexError(
    `${unrecorded.length} delivery outcome${unrecorded.length === 1 ? '' : 's'} (${channels}) could not be recorded: ${first?.reason ?? 'unknown error'}. ` +
      `${sent > 0 ? `${sent} of them had been sent and may be sent again; ` : ''}they are due again once their claim ends, within ${LEASE_MS / 60_000} minutes.`,
    {
      code: 'DELIVERY_NOT_RECORDED',
      details: {
        failed: result.failed,
        pendingRetry: result.pendingRetry,
        runId: result.runId,
        sent: result.sent,
        unrecorded: unrecorded.map(({channel, id, state}) => ({channel, id, state})),
      },
      hint: 'Run synthex health check: the database may be failing. synthex alerts deliveries shows the outbox.',
    },
  )
}

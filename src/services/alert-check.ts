import {randomUUID} from 'node:crypto'

import type {Keyring} from '../crypto/keyring.js'
import type {Db} from '../db/schema.js'
import type {Severity} from '../notifiers/notifier.js'
import {deliverPending} from './alert-delivery.js'
import {reconcileAlerts} from './alert-reconcile.js'
import {recordAlertRun} from './alerts.js'
import {notifierFor, resolveChannels} from './channels.js'

/** `alerts check-now`: evaluate and reconcile, then deliver the outbox, then record the run. */

export interface CheckOptions {
  readonly consoleUrl?: string
  readonly dryRun?: boolean
  readonly env: NodeJS.ProcessEnv
  readonly keyring?: Keyring
  readonly maxWaitMs?: number
  readonly now?: () => Date
  readonly signal?: AbortSignal
}

export interface CheckResult {
  readonly channels: string[]
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
  /** On a dry run: what would be sent. */
  readonly wouldSend?: ReadonlyArray<{channel: string; kind: string; severity: Severity; summary: string}>
}

export async function checkAlerts(db: Db, options: CheckOptions): Promise<CheckResult> {
  const now = options.now ?? (() => new Date())
  const started = now()
  const runId = randomUUID()
  const channels = await resolveChannels(db, options.keyring, options.env)
  const reconciled = await reconcileAlerts(db, {channels, dryRun: options.dryRun, now: started, runId})
  const delivered = options.dryRun
    ? {failed: 0, pending: 0, sent: 0}
    : await deliverPending(
        db,
        channels.map((spec) => ({name: spec.name, notifier: notifierFor(spec)})),
        {claimant: runId, consoleUrl: options.consoleUrl, maxWaitMs: options.maxWaitMs, now, signal: options.signal},
      )
  const result: CheckResult = {
    channels: channels.map((channel) => channel.name),
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
    ...(options.dryRun
      ? {wouldSend: reconciled.notifications.map(({channel, message}) => ({channel, kind: message.kind, severity: message.severity, summary: message.summary}))}
      : {}),
  }
  const {wouldSend: _omitted, ...summary} = result
  await recordAlertRun(db, {dryRun: result.dryRun, finishedAt: now(), id: runId, startedAt: started, summary})
  return result
}

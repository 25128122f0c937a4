import {randomUUID} from 'node:crypto'

import type {Keyring} from '../crypto/keyring.js'
import type {Db} from '../db/schema.js'
import {type AlertMessage, severityRank, type Severity} from '../notifiers/notifier.js'
import {deliverPending} from './alert-delivery.js'
import {reconcileAlerts} from './alert-reconcile.js'
import {recordAlertRun} from './alerts.js'
import {notifierFor, resolveChannels} from './channels.js'
import {activeSilences, silences} from './silences.js'

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
  const highestFiring = await highestUnsilenced(db, options.dryRun ? reconciled.notifications.map((item) => item.message) : undefined)
  const delivered = options.dryRun
    ? {failed: 0, pending: 0, sent: 0}
    : await deliverPending(
        db,
        channels.map((spec) => ({name: spec.name, notifier: notifierFor(spec)})),
        {consoleUrl: options.consoleUrl, maxWaitMs: options.maxWaitMs, now, signal: options.signal},
      )
  const result: CheckResult = {
    channels: channels.map((channel) => channel.name),
    dryRun: Boolean(options.dryRun),
    escalated: reconciled.escalated,
    evaluated: reconciled.evaluated,
    failed: delivered.failed,
    firing: reconciled.firing,
    highestFiring,
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

/**
 * The highest severity of firing alerts that no silence mutes: those committed, plus on a dry
 * run those it would have raised (nothing of it was committed).
 */
async function highestUnsilenced(db: Db, planned: readonly AlertMessage[] | undefined): Promise<Severity | null> {
  const committed = await db
    .selectFrom('alerts')
    .innerJoin('workspaces', 'workspaces.id', 'alerts.workspace_id')
    .select(['alerts.rule', 'alerts.severity', 'alerts.tenant_id', 'workspaces.slug'])
    .where('alerts.state', '=', 'firing')
    .execute()
  const rows = [
    ...committed.map((row) => ({rule: row.rule, severity: row.severity, tenantId: row.tenant_id, workspace: row.slug})),
    ...(planned ?? []).filter((message) => message.kind !== 'resolved'),
  ]
  const muting = await activeSilences(db, new Date())
  let highest: Severity | null = null
  for (const row of rows) {
    if (muting.some((silence) => silences(silence, row))) continue
    if (highest === null || severityRank(row.severity) > severityRank(highest)) highest = row.severity
  }

  return highest
}

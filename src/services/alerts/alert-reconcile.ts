import {randomUUID} from 'node:crypto'

import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {type AlertMessage} from '../../notifiers/notifier.js'
import {type AlertInsert, type AlertUpdate, type ChannelTarget, decideAlerts, type OpenAlert} from './alert-decisions.js'
import {type AlertCandidate, evaluateAlerts, quietSince, recordEvaluation, type SteadyState} from './alert-evaluation.js'
import {loadRules} from './alert-rules.js'
import {activeSilences, silences} from './silences.js'
import {DEFAULT_STORM_THRESHOLD, groupStorms, type PlannedNotice} from './alert-storms.js'
import {type Severity, severityRank} from '../../domain/severity.js'
import {alertEvents, type CredentialExpiryEvent} from '../webhooks/alert-events.js'
import {queueWebhookEvents} from '../webhooks/webhook-queue.js'

/**
 * Step 2 of the alert pipeline (docs/architecture.md): bring the `alerts` table in line
 * with what should be firing, and write every notification this calls for to the outbox, all
 * in one transaction under a Postgres advisory lock. Two overlapping cron runs therefore decide each
 * notification once: the second sees what the first committed. What to do is decided by
 * decideAlerts (alert-decisions.ts, the state machine, pure); this reads its inputs (through
 * evaluateAlerts, alert-evaluation.ts: only what may have changed, and nothing when nothing
 * can have) and writes its outcome, with each decided alert's steady state.
 */

export interface ReconcileResult {
  /** Credential alerts that fired or escalated (expiring, expired): Datadog events are sent for them (alert-check.ts). */
  readonly credentialExpiry: readonly CredentialExpiryEvent[]
  readonly escalated: number
  /** Active credentials and tenants the rules looked at. */
  readonly evaluated: number
  readonly firing: number
  /** The highest severity firing and not silenced after this reconcile, for --fail-on. */
  readonly highestFiring: Severity | null
  readonly new: number
  /** Digests sent in place of a storm of notifications (alert-storms.ts), one per storm. */
  readonly digests: number
  /** The notifications written to the outbox (or, on a dry run, that would be); a digest covers several alerts. */
  readonly notifications: ReadonlyArray<QueuedNotification>
  readonly reminded: number
  readonly resolved: number
  readonly runId: string
  /** Firing alerts muted by a silence. */
  readonly silenced: number
  /** Notifications of resolving alerts that had not been sent, and now never will be. */
  readonly superseded: number
  /** Webhook events queued (alert.*, credential.expiring, credential.expired; see webhooks/alert-events.ts). */
  readonly webhookEvents: number
}

export interface QueuedNotification {
  readonly channel: string
  /** A digest's alerts. */
  readonly covers?: readonly number[]
  readonly message: AlertMessage
}

/** The lock that serialises reconciles across processes (an arbitrary, fixed 64-bit key). */
const RECONCILE_LOCK = 7_318_273_645_210_001n

export interface ReconcileOptions {
  readonly channels: readonly ChannelTarget[]
  readonly dryRun?: boolean
  readonly now: Date
  readonly runId?: string
  /** More notifications than this of one rule, severity and kind go out as one digest per channel. */
  readonly stormThreshold?: number
}

export async function reconcileAlerts(db: Db, options: ReconcileOptions): Promise<ReconcileResult> {
  const {channels, now} = options
  const runId = options.runId ?? randomUUID()
  const trx = await db.startTransaction().execute()
  try {
    await sql`select pg_advisory_xact_lock(${RECONCILE_LOCK.toString()}::bigint)`.execute(trx)
    const rules = await loadRules(trx)
    const evaluation = await evaluateAlerts(trx, rules, now, await quietSince(trx, now))
    const {candidates, open, steady} = evaluation
    const muting = candidates.length > 0 ? await activeSilences(trx, now) : []

    // Only what may have changed is decided; the alerts left alone are known to call for nothing.
    const decided = decideAlerts({
      candidates,
      channels,
      now,
      open,
      repeatIntervalMs: new Map(rules.map((rule) => [rule.name as string, rule.repeatIntervalMs])),
      silences: muting,
    })

    // A resolve's message names the tenant and carries the alert's details: read for resolving alerts only.
    const notifiedOfResolving = decided.resolve.filter((alert) => alert.notifiedAt !== null)
    const tenantNames = await names(trx, notifiedOfResolving)
    const detailsOf = await details(trx, notifiedOfResolving)
    const inserted = await insertAlerts(trx, decided.inserts, now)
    await updateAlerts(trx, changesOf(decided.updates, candidates, open), now)
    if (decided.resolve.length > 0) {
      await trx.updateTable('alerts').set({resolved_at: now, state: 'resolved', updated_at: now}).where('id', 'in', decided.resolve.map((alert) => alert.id)).execute()
    }

    const superseded = await supersedeUnsent(trx, notifiedOfResolving.map((alert) => alert.id))
    const workspaces = await workspaceSlugs(trx, decided.resolve)
    const resolving = new Map(notifiedOfResolving.map((alert) => [alert.id, alert]))

    const planned: PlannedNotice[] = decided.notices.map((notice) => {
      let {message} = notice
      if (notice.insert !== undefined) message = {...message, alertId: inserted[notice.insert] ?? null}
      else if (message.kind === 'resolved') {
        const alert = resolving.get(message.alertId as number) as OpenAlert
        message = {
          ...message,
          details: detailsOf.get(alert.id) ?? {},
          tenantName: tenantNames.get(`${alert.workspaceId}\u0000${alert.tenantId}`) ?? alert.tenantId,
          workspace: workspaces.get(alert.workspaceId) ?? alert.workspaceId,
        }
      }

      return {channels: notice.channels, message}
    })
    const queued = groupStorms(planned, options.stormThreshold ?? DEFAULT_STORM_THRESHOLD, now)
    const digests = queued.filter((notice) => notice.covers !== undefined).length
    const notifications = queued.flatMap(({channels: names, covers, message}) => names.map((channel) => ({channel, message, ...(covers ? {covers} : {})})))
    await queueNotifications(trx, runId, notifications, now)
    // The public events of what the alerts did, in this same transaction: a dry run's roll back queues nothing.
    const events = alertEvents({
      before: new Map(open.map((alert) => [alert.fingerprint, alert])),
      candidates,
      inserted,
      inserts: decided.inserts,
      now,
      resolved: decided.resolve,
      silenced: (candidate) => muting.some((silence) => silences(silence, candidate, now)),
      workspaces,
    })
    const webhookEvents = await queueWebhookEvents(trx, events.webhooks)
    await recordEvaluation(trx, rules, now, evaluation)
    if (options.dryRun) await trx.rollback().execute()
    else await trx.commit().execute()
    const highestFiring = [decided.counts.highestFiring, steady.highest].reduce<Severity | null>(
      (worst, severity) => (severity !== null && (worst === null || severityRank(severity) > severityRank(worst)) ? severity : worst),
      null,
    )
    return {
      ...decided.counts,
      credentialExpiry: events.credentials,
      digests,
      evaluated: evaluation.evaluated,
      firing: steady.firing + candidates.length,
      highestFiring,
      notifications,
      runId,
      silenced: steady.silenced + decided.counts.silenced,
      superseded,
      webhookEvents,
    }
  } catch (error) {
    await trx.rollback().execute().catch(() => {})
    throw error
  }
}

type Located = Pick<OpenAlert, 'id' | 'tenantId' | 'workspaceId'>

/** Tenant names for the messages of resolving alerts (whose tenants the rules no longer return). */
async function names(db: Db, alerts: readonly Located[]): Promise<Map<string, string>> {
  if (alerts.length === 0) return new Map()
  const {rows} = await sql<{name: string; tenant_id: string; workspace_id: string}>`
    select workspace_id, tenant_id, name from tenants where tenant_id = any(${[...new Set(alerts.map((alert) => alert.tenantId))]}::text[])`.execute(db)
  return new Map(rows.map((row) => [`${row.workspace_id}\u0000${row.tenant_id}`, row.name]))
}

/** Workspace slugs for the messages of resolving alerts. */
async function workspaceSlugs(db: Db, alerts: readonly Located[]): Promise<Map<string, string>> {
  if (alerts.length === 0) return new Map()
  return new Map((await db.selectFrom('workspaces').select(['id', 'slug']).execute()).map((row) => [row.id, row.slug]))
}

/** The details of resolving alerts, for their resolve messages (not read for every open alert on every run). */
async function details(db: Db, alerts: readonly Located[]): Promise<Map<number, Record<string, unknown>>> {
  if (alerts.length === 0) return new Map()
  const {rows} = await sql<{details: Record<string, unknown>; id: number}>`
    select id, details from alerts where id = any(${alerts.map((alert) => alert.id)}::bigint[])`.execute(db)
  return new Map(rows.map((row) => [Number(row.id), row.details]))
}

/** The instants an alert's steady state holds for, as the bounds of a tstzrange: null where unbounded, or both null (re-decide it every run) should they not hold now. */
function stableBounds(steady: SteadyState | undefined, now: Date): [Date | null, Date | null] | undefined {
  if (!steady) return undefined
  const at = now.getTime()
  if (!(steady.from <= at && at < steady.until)) return undefined
  return [Number.isFinite(steady.from) ? new Date(steady.from) : null, Number.isFinite(steady.until) ? new Date(steady.until) : null]
}

async function insertAlerts(db: Db, inserts: readonly AlertInsert[], now: Date): Promise<number[]> {
  if (inserts.length === 0) return []
  const bounds = inserts.map(({candidate}) => stableBounds(candidate.steady, now))
  const {rows} = await sql<{id: number}>`
    insert into alerts (fingerprint, rule, workspace_id, tenant_id, severity, summary, details, started_at, updated_at, notified_at, notified_severity, subject, basis, stable_during)
    select fingerprint, rule, workspace_id, tenant_id, severity, summary, details, ${now}, ${now},
           case when notified then ${now}::timestamptz end, case when notified then severity end,
           subject, case when basis is not null then array(select jsonb_array_elements_text(basis)) end,
           case when steady then tstzrange(stable_from, stable_until, '[)') end
    from unnest(
      ${inserts.map(({candidate}) => candidate.fingerprint)}::text[], ${inserts.map(({candidate}) => candidate.rule)}::text[],
      ${inserts.map(({candidate}) => candidate.workspaceId)}::uuid[], ${inserts.map(({candidate}) => candidate.tenantId)}::text[],
      ${inserts.map(({candidate}) => candidate.severity)}::text[], ${inserts.map(({candidate}) => candidate.summary)}::text[],
      ${inserts.map(({candidate}) => JSON.stringify(candidate.details))}::jsonb[], ${inserts.map((insert) => insert.notified)}::boolean[],
      ${inserts.map(({candidate}, index) => (bounds[index] ? (candidate.steady?.subject ?? null) : null))}::uuid[],
      ${inserts.map(({candidate}, index) => (bounds[index] ? (candidate.steady ? JSON.stringify(candidate.steady.basis) : null) : null))}::jsonb[],
      ${bounds.map((bound) => bound !== undefined)}::boolean[],
      ${bounds.map((bound) => bound?.[0] ?? null)}::timestamptz[], ${bounds.map((bound) => bound?.[1] ?? null)}::timestamptz[]
    ) with ordinality as t(fingerprint, rule, workspace_id, tenant_id, severity, summary, details, notified, subject, basis, steady, stable_from, stable_until, n)
    order by n
    returning id`.execute(db)
  return rows.map((row) => Number(row.id))
}

/** An open alert to write: what decideAlerts changed in it, if anything, and until when a later run may leave it alone. */
interface AlertChange {
  readonly id: number
  readonly steady: SteadyState | undefined
  readonly update: AlertUpdate | undefined
}

/**
 * Every open alert found again among what may have changed gets its steady state anew,
 * changed or not (else it would be re-decided on every run); those decideAlerts changed get
 * their changes too.
 */
function changesOf(updates: readonly AlertUpdate[], candidates: readonly AlertCandidate[], open: readonly OpenAlert[]): AlertChange[] {
  const openByFingerprint = new Map(open.map((alert) => [alert.fingerprint, alert.id]))
  const changes = new Map<number, AlertChange>()
  for (const candidate of candidates) {
    const id = openByFingerprint.get(candidate.fingerprint)
    if (id !== undefined && candidate.steady) changes.set(id, {id, steady: candidate.steady, update: undefined})
  }

  for (const update of updates) changes.set(update.id, {id: update.id, steady: changes.get(update.id)?.steady, update})
  return [...changes.values()]
}

async function updateAlerts(db: Db, changes: readonly AlertChange[], now: Date): Promise<void> {
  if (changes.length === 0) return
  const bounds = changes.map((change) => stableBounds(change.steady, now))
  const updates = changes.map((change) => change.update)
  await sql`
    update alerts set
      rule = case when u.changed then u.rule else alerts.rule end,
      severity = case when u.changed then u.severity else alerts.severity end,
      summary = case when u.changed then u.summary else alerts.summary end,
      details = case when u.changed then u.details else alerts.details end,
      updated_at = case when u.changed then ${now}::timestamptz else alerts.updated_at end,
      notified_at = case when u.changed then u.notified_at else alerts.notified_at end,
      notified_severity = case when u.changed then u.notified_severity else alerts.notified_severity end,
      acknowledged_at = case when u.clear_acknowledgement then null else alerts.acknowledged_at end,
      acknowledged_by = case when u.clear_acknowledgement then null else alerts.acknowledged_by end,
      subject = u.subject, basis = case when u.basis is not null then array(select jsonb_array_elements_text(u.basis)) end,
      stable_during = case when u.steady then tstzrange(u.stable_from, u.stable_until, '[)') end
    from unnest(
      ${changes.map((change) => change.id)}::bigint[], ${updates.map((update) => update !== undefined)}::boolean[],
      ${updates.map((update) => update?.severity ?? null)}::text[], ${updates.map((update) => update?.summary ?? null)}::text[],
      ${updates.map((update) => (update ? JSON.stringify(update.details) : null))}::jsonb[], ${updates.map((update) => update?.notifiedAt ?? null)}::timestamptz[],
      ${updates.map((update) => update?.notifiedSeverity ?? null)}::text[], ${updates.map((update) => update?.clearAcknowledgement ?? false)}::boolean[],
      ${updates.map((update) => update?.rule ?? null)}::text[],
      ${changes.map((change, index) => (bounds[index] ? (change.steady?.subject ?? null) : null))}::uuid[],
      ${changes.map((change, index) => (bounds[index] ? (change.steady ? JSON.stringify(change.steady.basis) : null) : null))}::jsonb[],
      ${bounds.map((bound) => bound !== undefined)}::boolean[],
      ${bounds.map((bound) => bound?.[0] ?? null)}::timestamptz[], ${bounds.map((bound) => bound?.[1] ?? null)}::timestamptz[]
    ) as u(id, changed, severity, summary, details, notified_at, notified_severity, clear_acknowledgement, rule, subject, basis, steady, stable_from, stable_until)
    where alerts.id = u.id
      -- A row that would be written as it is, is not written (the verification rules'
      -- alerts are all re-decided after any change: alert-verification-rules.ts).
      and (u.changed or u.clear_acknowledgement or alerts.subject is distinct from u.subject
           or alerts.basis is distinct from (case when u.basis is not null then array(select jsonb_array_elements_text(u.basis)) end)
           or alerts.stable_during is distinct from (case when u.steady then tstzrange(u.stable_from, u.stable_until, '[)') end))`.execute(db)
}

/**
 * An alert that resolves while a notification of it is still unsent on a channel (a trigger
 * the provider keeps refusing, a reminder waiting behind it): that notification is superseded
 * by the resolve, not sent late. A page for a problem that is gone would wake someone for
 * nothing; PagerDuty would open an incident to close it the next second. The resolve is
 * queued as ever, so a channel that may have the trigger (sent, or in the hands of a run)
 * always gets its resolve, with the same dedup_key; on one that never got it, PagerDuty
 * ignores the resolve, and Slack and email say that the alert fired and resolved.
 *
 * Only rows no run holds are superseded: a claimed row may be on its way to the provider
 * (or its run may have died while sending it), so it is left to be sent, and its resolve
 * waits behind it. A claim being taken at this moment either wins the row lock first (and
 * the row is then left alone) or finds the row superseded.
 */
async function supersedeUnsent(db: Db, alertIds: readonly number[]): Promise<number> {
  if (alertIds.length === 0) return 0
  const result = await sql`
    update alert_notifications set state = 'superseded', last_error = 'superseded: the alert resolved before this could be sent'
    where alert_id = any(${alertIds}::bigint[]) and state = 'pending' and claimed_by is null`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

async function queueNotifications(db: Db, runId: string, notifications: readonly QueuedNotification[], now: Date): Promise<void> {
  const single = notifications.filter((item) => item.covers === undefined)
  for (let offset = 0; offset < single.length; offset += 10_000) {
    const slice = single.slice(offset, offset + 10_000)
    await sql`
      insert into alert_notifications (run_id, channel, alert_id, kind, severity, payload, next_attempt_at, created_at)
      select ${runId}::uuid, channel, alert_id, kind, severity, payload, ${now}, ${now}
      from unnest(
        ${slice.map((item) => item.channel)}::text[], ${slice.map((item) => item.message.alertId)}::bigint[],
        ${slice.map((item) => item.message.kind)}::text[], ${slice.map((item) => item.message.severity)}::text[],
        ${slice.map((item) => JSON.stringify(item.message))}::jsonb[]
      ) with ordinality as t(channel, alert_id, kind, severity, payload, n)
      order by n`.execute(db)
  }

  // Digests: one row per channel and storm, a few per run at most.
  for (const item of notifications) {
    if (item.covers === undefined) continue
    await sql`
      insert into alert_notifications (run_id, channel, alert_id, alert_ids, kind, severity, payload, next_attempt_at, created_at)
      values (${runId}::uuid, ${item.channel}, null, ${[...item.covers]}::bigint[], ${item.message.kind}, ${item.message.severity}, ${JSON.stringify(item.message)}::jsonb, ${now}, ${now})`.execute(db)
  }
}

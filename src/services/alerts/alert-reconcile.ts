import {randomUUID} from 'node:crypto'

import {sql} from 'kysely'

import type {AlertRow, Db, NotificationKind} from '../../db/schema.js'
import {type AlertMessage} from '../../notifiers/notifier.js'
import {type AlertCandidate, evaluateAlerts} from './alert-evaluation.js'
import {loadRules} from './alert-rules.js'
import {activeSilences, type Silence, silences} from './silences.js'
import {type Severity, severityRank} from '../../domain/severity.js'

/**
 * Step 2 of the alert pipeline (docs/architecture.md): bring the `alerts` table in line with what
 * should be firing, and write every notification this calls for to the outbox, all in one
 * transaction under a Postgres advisory lock. Two overlapping cron runs therefore decide
 * each notification once: the second sees what the first committed.
 *
 * new -> firing, notified; severity raised above what was sent, or the rule changed (an
 * expiring credential expired) -> escalated, notified;
 * firing past its rule's repeat interval and not acknowledged -> reminder; gone -> resolved,
 * notified if anything was sent; silenced -> recorded, not sent, and sent once the silence
 * ends if it still fires.
 */

export interface ChannelTarget {
  readonly minSeverity: Severity
  readonly name: string
}

export interface ReconcileResult {
  readonly escalated: number
  /** Active credentials and tenants the rules looked at. */
  readonly evaluated: number
  readonly firing: number
  /** The highest severity firing and not silenced after this reconcile, for --fail-on. */
  readonly highestFiring: Severity | null
  readonly new: number
  /** The notifications written to the outbox (or, on a dry run, that would be). */
  readonly notifications: ReadonlyArray<{channel: string; message: AlertMessage}>
  readonly reminded: number
  readonly resolved: number
  readonly runId: string
  /** Firing alerts muted by a silence. */
  readonly silenced: number
  /** Notifications of resolving alerts that had not been sent, and now never will be. */
  readonly superseded: number
}

/** The lock that serialises reconciles across processes (an arbitrary, fixed 64-bit key). */
const RECONCILE_LOCK = 7_318_273_645_210_001n

interface Decision {
  readonly alert: Pick<AlertRow, 'fingerprint' | 'rule' | 'severity' | 'started_at' | 'summary' | 'tenant_id' | 'workspace_id'> & {
    details: Record<string, unknown>
    id: number | null
  }
  readonly escalatedFrom?: Severity
  readonly kind: NotificationKind
  readonly tenantName: string
  readonly workspace: string
}

function message(decision: Decision): AlertMessage {
  const {alert} = decision
  return {
    alertId: alert.id,
    details: alert.details,
    ...(decision.escalatedFrom ? {escalatedFrom: decision.escalatedFrom} : {}),
    fingerprint: alert.fingerprint,
    kind: decision.kind,
    rule: alert.rule,
    severity: alert.severity,
    startedAt: alert.started_at.toISOString(),
    summary: alert.summary,
    tenantId: alert.tenant_id,
    tenantName: decision.tenantName,
    workspace: decision.workspace,
  }
}

export async function reconcileAlerts(db: Db, options: {channels: readonly ChannelTarget[]; dryRun?: boolean; now: Date; runId?: string}): Promise<ReconcileResult> {
  const {channels, now} = options
  const runId = options.runId ?? randomUUID()
  const trx = await db.startTransaction().execute()
  try {
    await sql`select pg_advisory_xact_lock(${RECONCILE_LOCK.toString()}::bigint)`.execute(trx)
    const rules = await loadRules(trx)
    const repeatOf = new Map(rules.map((rule) => [rule.name as string, rule.repeatIntervalMs]))
    const candidates = await evaluateAlerts(trx, rules, now)
    const evaluated = await countSubjects(trx)
    // Not locked: only reconciles write these columns, and they hold the advisory lock. An
    // acknowledgement committed meanwhile survives the update below, which reads it afresh.
    const open = await trx
      .selectFrom('alerts')
      .select(['id', 'fingerprint', 'rule', 'severity', 'summary', 'started_at', 'notified_at', 'notified_severity', 'acknowledged_at', 'tenant_id', 'workspace_id'])
      .where('state', '=', 'firing')
      .execute()
    const muting = await activeSilences(trx, now)
    const workspaces = new Map((await trx.selectFrom('workspaces').select(['id', 'slug']).execute()).map((row) => [row.id, row.slug]))

    const openByFingerprint = new Map(open.map((alert) => [alert.fingerprint, alert]))
    const decisions: Decision[] = []
    const inserts: Array<AlertCandidate & {notified: boolean}> = []
    const updates: AlertUpdate[] = []
    let escalated = 0
    let reminded = 0
    let silencedCount = 0
    let highestFiring: Severity | null = null
    const isSilenced = (alert: {rule: string; severity: string; tenantId: string; workspace: string}): boolean => muting.some((silence: Silence) => silences(silence, alert))

    for (const candidate of candidates) {
      const current = openByFingerprint.get(candidate.fingerprint)
      const muted = isSilenced(candidate)
      if (muted) silencedCount++
      else if (highestFiring === null || severityRank(candidate.severity) > severityRank(highestFiring)) highestFiring = candidate.severity
      if (!current) {
        inserts.push({...candidate, notified: !muted})
        continue
      }

      openByFingerprint.delete(candidate.fingerprint)
      const who = {tenantName: candidate.tenantName, workspace: candidate.workspace}
      let kind: NotificationKind | undefined
      // Worse: a higher severity than was sent, or another rule (an expiring credential expired).
      const worse = current.notified_severity === null || severityRank(candidate.severity) > severityRank(current.notified_severity) || candidate.rule !== current.rule
      if (!muted && current.notified_at === null) kind = 'firing'
      else if (!muted && worse) kind = 'escalated'
      else if (!muted && !current.acknowledged_at && now.getTime() - (current.notified_at as Date).getTime() >= (repeatOf.get(current.rule) ?? 86_400_000)) kind = 'reminder'

      if (kind === 'escalated') escalated++
      if (kind === 'reminder') reminded++
      if (kind) {
        const snapshot = {...current, details: candidate.details, id: Number(current.id), rule: candidate.rule, severity: candidate.severity, summary: candidate.summary}
        decisions.push({alert: snapshot, kind, ...who, ...(kind === 'escalated' && current.notified_severity ? {escalatedFrom: current.notified_severity} : {})})
      }

      const changed = kind !== undefined || candidate.severity !== current.severity || candidate.summary !== current.summary || candidate.rule !== current.rule
      if (changed) {
        updates.push({
          // Escalation asks for attention again: it clears an acknowledgement.
          clearAcknowledgement: kind === 'escalated',
          details: candidate.details,
          id: Number(current.id),
          notifiedAt: kind ? now : current.notified_at,
          notifiedSeverity: kind ? candidate.severity : current.notified_severity,
          rule: candidate.rule,
          severity: candidate.severity,
          summary: candidate.summary,
        })
      }
    }

    // Whatever is still open is no longer true.
    const resolving = [...openByFingerprint.values()]
    const notifiedOfResolving = resolving.filter((alert) => alert.notified_at !== null)
    const tenantNames = await names(trx, notifiedOfResolving)
    const detailsOf = await details(trx, notifiedOfResolving)
    for (const alert of notifiedOfResolving) {
      decisions.push({
        alert: {...alert, details: detailsOf.get(Number(alert.id)) ?? {}, id: Number(alert.id), severity: alert.notified_severity ?? alert.severity},
        kind: 'resolved',
        tenantName: tenantNames.get(`${alert.workspace_id}\u0000${alert.tenant_id}`) ?? alert.tenant_id,
        workspace: workspaces.get(alert.workspace_id) ?? alert.workspace_id,
      })
    }

    const inserted = await insertAlerts(trx, inserts, now)
    for (const [index, candidate] of inserts.entries()) {
      if (!candidate.notified) continue
      decisions.push({
        alert: {...candidate, id: inserted[index] ?? null, started_at: now, tenant_id: candidate.tenantId, workspace_id: candidate.workspaceId},
        kind: 'firing',
        tenantName: candidate.tenantName,
        workspace: candidate.workspace,
      })
    }

    await updateAlerts(trx, updates, now)
    if (resolving.length > 0) {
      await trx.updateTable('alerts').set({resolved_at: now, state: 'resolved', updated_at: now}).where('id', 'in', resolving.map((alert) => alert.id)).execute()
    }

    const superseded = await supersedeUnsent(trx, notifiedOfResolving.map((alert) => Number(alert.id)))

    const notifications = decisions.flatMap((decision) =>
      channels.filter((channel) => severityRank(decision.alert.severity) >= severityRank(channel.minSeverity)).map((channel) => ({channel: channel.name, message: message(decision)})),
    )
    await queueNotifications(trx, runId, notifications, now)
    if (options.dryRun) await trx.rollback().execute()
    else await trx.commit().execute()
    return {
      escalated,
      evaluated,
      firing: candidates.length,
      highestFiring,
      new: inserts.length,
      notifications,
      reminded,
      resolved: resolving.length,
      runId,
      silenced: silencedCount,
      superseded,
    }
  } catch (error) {
    await trx.rollback().execute().catch(() => {})
    throw error
  }
}

/** What the rules looked at: active credentials and tenants that are not suspended. */
async function countSubjects(db: Db): Promise<number> {
  const {rows} = await sql<{n: number}>`
    select (select count(*) from credentials where rotated_at is null and revoked_at is null)
         + (select count(*) from tenants where status <> 'suspended') as n`.execute(db)
  return Number(rows[0]?.n ?? 0)
}

type OpenAlert = Pick<AlertRow, 'id' | 'tenant_id' | 'workspace_id'>

/** Tenant names for the messages of resolving alerts (whose tenants the rules no longer return). */
async function names(db: Db, alerts: readonly OpenAlert[]): Promise<Map<string, string>> {
  if (alerts.length === 0) return new Map()
  const {rows} = await sql<{name: string; tenant_id: string; workspace_id: string}>`
    select workspace_id, tenant_id, name from tenants where tenant_id = any(${[...new Set(alerts.map((alert) => alert.tenant_id))]}::text[])`.execute(db)
  return new Map(rows.map((row) => [`${row.workspace_id}\u0000${row.tenant_id}`, row.name]))
}

/** The details of resolving alerts, for their resolve messages (not read for every open alert on every run). */
async function details(db: Db, alerts: readonly OpenAlert[]): Promise<Map<number, Record<string, unknown>>> {
  if (alerts.length === 0) return new Map()
  const {rows} = await sql<{details: Record<string, unknown>; id: number}>`
    select id, details from alerts where id = any(${alerts.map((alert) => Number(alert.id))}::bigint[])`.execute(db)
  return new Map(rows.map((row) => [Number(row.id), row.details]))
}

async function insertAlerts(db: Db, inserts: ReadonlyArray<AlertCandidate & {notified: boolean}>, now: Date): Promise<number[]> {
  if (inserts.length === 0) return []
  const {rows} = await sql<{id: number}>`
    insert into alerts (fingerprint, rule, workspace_id, tenant_id, severity, summary, details, started_at, updated_at, notified_at, notified_severity)
    select fingerprint, rule, workspace_id, tenant_id, severity, summary, details, ${now}, ${now},
           case when notified then ${now}::timestamptz end, case when notified then severity end
    from unnest(
      ${inserts.map((alert) => alert.fingerprint)}::text[], ${inserts.map((alert) => alert.rule)}::text[],
      ${inserts.map((alert) => alert.workspaceId)}::uuid[], ${inserts.map((alert) => alert.tenantId)}::text[],
      ${inserts.map((alert) => alert.severity)}::text[], ${inserts.map((alert) => alert.summary)}::text[],
      ${inserts.map((alert) => JSON.stringify(alert.details))}::jsonb[], ${inserts.map((alert) => alert.notified)}::boolean[]
    ) with ordinality as t(fingerprint, rule, workspace_id, tenant_id, severity, summary, details, notified, n)
    order by n
    returning id`.execute(db)
  return rows.map((row) => Number(row.id))
}

interface AlertUpdate {
  readonly clearAcknowledgement: boolean
  readonly details: Record<string, unknown>
  readonly id: number
  readonly notifiedAt: Date | null
  readonly notifiedSeverity: Severity | null
  readonly rule: string
  readonly severity: Severity
  readonly summary: string
}

async function updateAlerts(db: Db, updates: readonly AlertUpdate[], now: Date): Promise<void> {
  if (updates.length === 0) return
  await sql`
    update alerts set
      rule = u.rule, severity = u.severity, summary = u.summary, details = u.details, updated_at = ${now},
      notified_at = u.notified_at, notified_severity = u.notified_severity,
      acknowledged_at = case when u.clear_acknowledgement then null else alerts.acknowledged_at end,
      acknowledged_by = case when u.clear_acknowledgement then null else alerts.acknowledged_by end
    from unnest(
      ${updates.map((update) => update.id)}::bigint[], ${updates.map((update) => update.severity)}::text[], ${updates.map((update) => update.summary)}::text[],
      ${updates.map((update) => JSON.stringify(update.details))}::jsonb[], ${updates.map((update) => update.notifiedAt)}::timestamptz[],
      ${updates.map((update) => update.notifiedSeverity)}::text[], ${updates.map((update) => update.clearAcknowledgement)}::boolean[],
      ${updates.map((update) => update.rule)}::text[]
    ) as u(id, severity, summary, details, notified_at, notified_severity, clear_acknowledgement, rule)
    where alerts.id = u.id`.execute(db)
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

async function queueNotifications(db: Db, runId: string, notifications: ReadonlyArray<{channel: string; message: AlertMessage}>, now: Date): Promise<void> {
  for (let offset = 0; offset < notifications.length; offset += 10_000) {
    const slice = notifications.slice(offset, offset + 10_000)
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
}

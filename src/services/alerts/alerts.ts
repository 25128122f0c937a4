import {sql} from 'kysely'

import type {AlertRow, Db} from '../../db/schema.js'
import {NotFoundError} from '../../errors/input-errors.js'
import {REACH_ALL, type Reach} from '../access/reach.js'
import {type Audit, recordEvents} from '../events/events.js'
import {bySeverityDescending, type Severity} from '../../domain/severity.js'

/**
 * Whether anyone was told, from the outbox: `sent` once a notification of the alert (or a
 * digest covering it) was delivered; `pending` while one waits (queued, or retried);
 * `failed` when its notifications failed for good; `silenced` when a silence kept it from
 * being sent; `none` when no channel takes its severity, or the resolve superseded it.
 */
export type NotificationStatus = 'failed' | 'none' | 'pending' | 'sent' | 'silenced'

export interface Alert {
  readonly acknowledgedAt: Date | null
  readonly acknowledgedBy: string | null
  readonly details: Record<string, unknown>
  readonly fingerprint: string
  readonly id: number
  /** When a notification of it was last delivered; null if none was (see `notification`). */
  readonly notifiedAt: Date | null
  readonly notification: NotificationStatus
  readonly resolvedAt: Date | null
  readonly rule: string
  readonly severity: Severity
  readonly startedAt: Date
  readonly state: 'firing' | 'resolved'
  readonly summary: string
  readonly tenantId: string
  readonly workspace: string
}

export interface AlertRun {
  readonly dryRun: boolean
  readonly finishedAt: Date
  readonly id: string
  readonly startedAt: Date
  readonly summary: Record<string, unknown>
}

interface Delivered {
  readonly failed: boolean
  readonly pending: boolean
  readonly sentAt: Date | null
}

function toAlert(row: AlertRow & {slug: string}, delivered: Delivered | undefined): Alert {
  let notification: NotificationStatus = 'none'
  if (delivered?.sentAt) notification = 'sent'
  else if (delivered?.pending) notification = 'pending'
  else if (delivered?.failed) notification = 'failed'
  else if (row.notified_at === null && row.state === 'firing') notification = 'silenced'
  return {
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    details: row.details,
    fingerprint: row.fingerprint,
    id: Number(row.id),
    notification,
    notifiedAt: delivered?.sentAt ?? null,
    resolvedAt: row.resolved_at,
    rule: row.rule,
    severity: row.severity,
    startedAt: row.started_at,
    state: row.state,
    summary: row.summary,
    tenantId: row.tenant_id,
    workspace: row.slug,
  }
}

export async function listAlerts(db: Db, options: {limit: number; reach?: Reach; severity?: Severity; state?: 'all' | 'firing' | 'resolved'; workspaceId?: string}): Promise<Alert[]> {
  let select = db.selectFrom('alerts').innerJoin('workspaces', 'workspaces.id', 'alerts.workspace_id').selectAll('alerts').select('workspaces.slug')
  if (options.workspaceId !== undefined) select = select.where('alerts.workspace_id', '=', options.workspaceId)
  const reach = options.reach ?? REACH_ALL
  if (reach.kind === 'workspaces') select = reach.workspaceIds.size === 0 ? select.where(sql<boolean>`false`) : select.where('alerts.workspace_id', 'in', [...reach.workspaceIds])
  if (reach.kind === 'tenants') {
    const {tenants} = reach
    // An empty or() is false: a client with no tenant sees no alert.
    select = select.where((eb) => eb.or(tenants.map((tenant) => eb.and([eb('alerts.workspace_id', '=', tenant.workspaceId), eb('alerts.tenant_id', '=', tenant.tenantId)]))))
  }

  const state = options.state ?? 'firing'
  if (state !== 'all') select = select.where('alerts.state', '=', state)
  if (options.severity) select = select.where('alerts.severity', '=', options.severity)
  const rows = await select.orderBy('alerts.id', 'desc').limit(options.limit).execute()
  const delivered = await deliveries(db, rows.map((row) => Number(row.id)))
  return rows.map((row) => toAlert(row, delivered.get(Number(row.id)))).sort((a, b) => bySeverityDescending(a.severity, b.severity) || b.id - a.id)
}

/** What the outbox holds for these alerts, their own notifications and the digests that cover them. */
async function deliveries(db: Db, ids: readonly number[]): Promise<Map<number, Delivered>> {
  if (ids.length === 0) return new Map()
  const {rows} = await sql<{failed: boolean; id: number; pending: boolean; sent_at: Date | null}>`
    select id, max(sent_at) filter (where state = 'sent') as sent_at, bool_or(state = 'pending') as pending, bool_or(state = 'failed') as failed
    from (
      select alert_id as id, state, sent_at from alert_notifications where alert_id = any(${ids}::bigint[])
      union all
      select covered.id, n.state, n.sent_at from alert_notifications as n cross join lateral unnest(n.alert_ids) as covered(id)
      where n.alert_ids && ${ids}::bigint[] and covered.id = any(${ids}::bigint[])
    ) as outbox
    group by id`.execute(db)
  return new Map(rows.map((row) => [Number(row.id), {failed: Boolean(row.failed), pending: Boolean(row.pending), sentAt: row.sent_at === null ? null : new Date(row.sent_at)}]))
}

/** Acknowledges a firing alert: no more reminders about it, until it escalates or resolves. */
export async function acknowledgeAlert(db: Db, audit: Audit, id: number, now = new Date()): Promise<Alert> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('alerts')
      .set({acknowledged_at: now, acknowledged_by: audit.actor})
      .where('id', '=', id)
      .where('state', '=', 'firing')
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new NotFoundError(`There is no firing alert ${id}.`, 'List firing alerts with `synthex alerts list`.')
    const workspace = await trx.selectFrom('workspaces').select('slug').where('id', '=', row.workspace_id).executeTakeFirstOrThrow()
    await recordEvents(trx, audit, [{aggregateId: row.tenant_id, aggregateType: 'tenant', data: {alert: Number(row.id), rule: row.rule, summary: row.summary}, type: 'alert.acknowledged', workspaceId: row.workspace_id}])
    return toAlert({...row, slug: workspace.slug}, (await deliveries(trx, [Number(row.id)])).get(Number(row.id)))
  })
}

export async function recordAlertRun(db: Db, run: {dryRun: boolean; finishedAt: Date; id: string; startedAt: Date; summary: Record<string, unknown>}): Promise<void> {
  await db
    .insertInto('alert_runs')
    .values({dry_run: run.dryRun, finished_at: run.finishedAt, id: run.id, started_at: run.startedAt, summary: JSON.stringify(run.summary)})
    .execute()
}

/** The last real (not dry) run of `alerts check-now`: `health check`'s dead-man's switch. */
export async function lastAlertRun(db: Db): Promise<AlertRun | undefined> {
  const row = await db.selectFrom('alert_runs').selectAll().where('dry_run', '=', false).orderBy('started_at', 'desc').limit(1).executeTakeFirst()
  return row ? {dryRun: row.dry_run, finishedAt: row.finished_at, id: row.id, startedAt: row.started_at, summary: row.summary} : undefined
}

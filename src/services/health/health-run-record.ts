import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {queueWebhookEvents} from '../webhooks/webhook-queue.js'
import type {HealthReport} from './health.js'

/** Serialises the recording of health runs across processes (an arbitrary, fixed 64-bit key). */
const HEALTH_RUN_LOCK = 7_318_273_645_210_002n

/**
 * Records a `health check` run in `health_runs` (read by the health_failing rule and the
 * metrics) and, in the same transaction, queues `health.status_changed` when its overall
 * status differs from the previous recorded run's. Runs are recorded one at a time (an
 * advisory lock), so two checks at once never both announce the same change nor both miss
 * it. The first run ever recorded has nothing to differ from, and announces nothing. The
 * event is about the installation: only subscriptions of every workspace get it. Its
 * reasons are those `health check` prints and `health_runs` keeps, which the health_failing
 * alert already sends to channels: written to hold no secret (channel problems name the
 * channel and the setting, never its URL or key: src/services/alerts/channels.ts).
 */
export async function recordHealthRun(db: Db, report: HealthReport, workspaceId: null | string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${HEALTH_RUN_LOCK.toString()}::bigint)`.execute(trx)
    const previous = await trx.selectFrom('health_runs').select('status').orderBy('id', 'desc').limit(1).executeTakeFirst()
    await trx
      .insertInto('health_runs')
      .values({checks: JSON.stringify(report.checks), duration_ms: report.durationMs, started_at: report.startedAt, status: report.status, workspace_id: workspaceId})
      .execute()
    if (!previous || previous.status === report.status) return
    await queueWebhookEvents(trx, [
      {
        at: report.startedAt,
        data: {
          checks: report.checks.filter((check) => check.status !== 'healthy').map((check) => ({name: check.name, reason: check.reason, status: check.status})),
          from: previous.status,
          startedAt: report.startedAt.toISOString(),
          to: report.status,
        },
        type: 'health.status_changed',
        workspaceId: null,
      },
    ])
  })
}

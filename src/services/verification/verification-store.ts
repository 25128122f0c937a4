import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import type {RecordedVerification} from './verification-result.js'

/** How long answers are kept: tenant_api_* read the last hour, reports the last month. */
export const VERIFICATION_RETENTION_DAYS = 30

/**
 * Stores answers: each in the history, and as its credential's latest, in one transaction
 * (a run flushes them in batches, so an interrupted run keeps every answer it flushed).
 */
export async function recordVerifications(db: Db, runId: null | string, results: readonly RecordedVerification[]): Promise<void> {
  if (results.length === 0) return
  await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('credential_verifications')
      .values(
        results.map((result) => ({
          credential_id: result.credentialId,
          http_status: result.httpStatus,
          latency_ms: Math.max(0, Math.round(result.latencyMs)),
          message: result.message === null ? null : result.message.slice(0, 500),
          outcome: result.outcome,
          reason: result.reason,
          run_id: runId,
          scopes_granted: result.scopesGranted === null ? null : [...result.scopesGranted],
          scopes_missing: [...result.scopesMissing],
          scopes_required: [...result.scopesRequired],
          service: result.service,
          tenant_id: result.tenantUuid,
          ...(result.verifiedAt ? {verified_at: result.verifiedAt} : {}),
        })),
      )
      .returning(['id', 'credential_id', 'tenant_id', 'outcome', 'verified_at'])
      .execute()
    // The same credential twice in one batch: the later answer is its latest.
    const latest = new Map(inserted.map((row) => [row.credential_id, row]))
    await trx
      .insertInto('credential_verification_latest')
      .values([...latest.values()].map((row) => ({credential_id: row.credential_id, outcome: row.outcome, tenant_id: row.tenant_id, verification_id: row.id, verified_at: row.verified_at})))
      .onConflict((oc) =>
        oc.column('credential_id').doUpdateSet({
          outcome: (eb) => eb.ref('excluded.outcome'),
          verification_id: (eb) => eb.ref('excluded.verification_id'),
          verified_at: (eb) => eb.ref('excluded.verified_at'),
        }),
      )
      .execute()
  })
}

/** Forgets answers older than the retention, except each credential's latest. */
export async function pruneVerifications(db: Db, now: Date): Promise<number> {
  const result = await sql`
    delete from credential_verifications as v
    where v.verified_at < ${new Date(now.getTime() - VERIFICATION_RETENTION_DAYS * 86_400_000)}
      and not exists (select from credential_verification_latest as l where l.verification_id = v.id)`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

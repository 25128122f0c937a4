import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'

/**
 * A tenant's last sign of life: what the `tenant_inactive` rule measures. A sign of life is
 * something the shop did or something that proved its connection works: a credential set,
 * rotated or verified, a webhook or API call received. Editing the tenant's row is not one,
 * and a tenant that never showed a sign of life is never "inactive": the rule has nothing
 * to measure it by (issue 13: a stable fleet backdated by 40 days must not all fire).
 */

/**
 * Records a sign of life of the tenant whose row id (`tenants.id`) is given, at `at`. The
 * time only moves forward: a late, older signal leaves a newer one in place. Call it in the
 * transaction that records the signal itself.
 */
export async function recordTenantActivity(db: Db, tenantId: string, at: Date): Promise<void> {
  await db
    .updateTable('tenants')
    .set({last_activity_at: sql<Date>`greatest(coalesce(last_activity_at, ${at}::timestamptz), ${at}::timestamptz)`})
    .where('id', '=', tenantId)
    .execute()
}

import {sql} from 'kysely'

import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import {addChannel} from '../../src/services/alerts/channels.js'
import type {CliTarget} from './cli-backends.js'
import {withDatabase} from './inspect-database.js'

/**
 * Starts a CLI target's alerting afresh in one opening of its database, where setting it up
 * through the CLI would cost a process (seconds, on the embedded database) per step: no
 * alerts, runs or notifications; these Slack channels, sealed with the key the CLI gets as
 * SYNTHEX_ENCRYPTION_KEY; and tenants whose last sign of life was 90 days ago, each of which raises a
 * tenant_inactive alert on the next `alerts check-now`.
 */
export async function seedAlerting(target: CliTarget, encryptionKey: string, seed: {idleTenants: readonly string[]; slack: Readonly<Record<string, string>>}): Promise<void> {
  const key = Buffer.from(encryptionKey, 'base64')
  const keyring = new Keyring({id: derivedKeyId(key), key})
  await withDatabase(target, async (db) => {
    await sql`truncate alert_notifications, alerts, channels, alert_runs, tenants cascade`.execute(db)
    for (const [name, url] of Object.entries(seed.slack)) await addChannel(db, keyring, {actor: 'e2e', source: 'test'}, {name, options: {allowHttp: true, allowPrivateNetwork: true}, secret: url, type: 'slack'})
    const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
    const old = new Date(Date.now() - 90 * 86_400_000)
    if (seed.idleTenants.length === 0) return
    await db
      .insertInto('tenants')
      .values(seed.idleTenants.map((id) => ({created_at: old, last_activity_at: old, metadata: '{}', name: `Idle ${id}`, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify' as const, workspace_id: workspace.id})))
      .execute()
  })
}

import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {INTERNAL_POLICY} from '../../src/net/address-policy.js'
import {changeTenantStatus, createTenant} from '../../src/services/tenants/tenants.js'
import {openSubscription, addSubscription} from '../../src/services/webhooks/subscriptions.js'
import {queueWebhookEvents} from '../../src/services/webhooks/webhook-queue.js'
import {createWorkspace, findWorkspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'alice', source: 'cli'}
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const local = {allowHttp: INTERNAL_POLICY.allowHttp, allowPrivateNetwork: INTERNAL_POLICY.allowPrivateNetwork}

/** Events are queued in the transaction of the change: a rollback queues nothing, a commit queues each once per subscription that wants it. */
describeEachBackend('webhook queue', (database) => {
  beforeEach(async () => {
    await sql`truncate webhook_deliveries, webhook_subscriptions, tenants cascade`.execute(database().db)
  })

  it('queues the public events a subscription wants, with the body fixed, and nothing from a rolled-back change', async () => {
    const {db} = database()
    const {secret, subscription} = await addSubscription(db, keyring, audit, {...local, events: ['tenant.*'], name: 'crm', url: 'http://127.0.0.1:9/hook'})
    await addSubscription(db, keyring, audit, {...local, events: ['credential.expiring'], name: 'jira', url: 'http://127.0.0.1:9/jira'})
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const row = await db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', subscription.id).executeTakeFirstOrThrow()
    expect(openSubscription(keyring, row)).toEqual({secrets: [secret], url: 'http://127.0.0.1:9/hook'})
    expect(JSON.stringify(row)).not.toContain(secret)

    const workspace = await findWorkspace(db, 'default')
    await createTenant(db, workspace, audit, {name: 'Acme', shopify_shop: 'acme.myshopify.com', tenant_id: 'acme', type: 'shopify'})
    await changeTenantStatus(db, workspace, audit, 'acme', 'suspended')
    await db
      .transaction()
      .execute(async (trx) => {
        await createTenant(trx, workspace, audit, {name: 'Ghost', shopify_shop: 'ghost.myshopify.com', tenant_id: 'ghost', type: 'shopify'})
        throw new Error('rolled back')
      })
      .catch(() => {})
    await queueWebhookEvents(db, [{data: {tenantId: 'acme'}, type: 'credential.expiring', workspaceId: workspace.id}])

    const queued = await db.selectFrom('webhook_deliveries').innerJoin('webhook_subscriptions', 'webhook_subscriptions.id', 'webhook_deliveries.subscription_id').select(['name', 'event_type', 'payload', 'message_id']).orderBy('webhook_deliveries.id').execute()
    expect(queued.map((delivery) => `${delivery.name} ${delivery.event_type}`)).toEqual(['crm tenant.created', 'crm tenant.status_changed', 'jira credential.expiring'])
    expect(queued[0]?.payload).toMatchObject({data: {id: 'acme', workspace: 'default'}, type: 'tenant.created'})
    expect(String(queued[0]?.payload.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(new Set(queued.map((delivery) => delivery.message_id)).size).toBe(3)
  })

  it('queues a workspace-limited subscription only its workspace\'s events', async () => {
    const {db} = database()
    const eu = await createWorkspace(db, audit, {slug: `eu-${randomBytes(3).toString('hex')}`})
    await addSubscription(db, keyring, audit, {...local, events: ['*'], name: 'eu-only', url: 'http://127.0.0.1:9/eu', workspace: eu})
    await createTenant(db, await findWorkspace(db, 'default'), audit, {name: 'US', shopify_shop: 'us.myshopify.com', tenant_id: 'us', type: 'shopify'})
    await createTenant(db, eu, audit, {name: 'DE', shopify_shop: 'de.myshopify.com', tenant_id: 'de', type: 'shopify'})
    const queued = await db.selectFrom('webhook_deliveries').select(['event_type', 'payload']).execute()
    expect(queued.map((delivery) => (delivery.payload.data as {id: string}).id)).toEqual(['de'])
  })
})

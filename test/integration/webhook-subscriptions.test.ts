import {randomBytes, randomUUID} from 'node:crypto'

import {sql} from 'kysely'
import {beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../src/errors/input-errors.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {
  addSubscription,
  enableSubscription,
  listSubscriptions,
  openSubscription,
  rekeySubscriptions,
  removeSubscription,
  rotateSubscriptionSecret,
} from '../../src/services/webhooks/subscriptions.js'
import {queueWebhookEvents} from '../../src/services/webhooks/webhook-queue.js'
import {createWorkspace, findWorkspace} from '../../src/services/workspaces/workspaces.js'
import {// Receivers are literal addresses of TEST-NET-3 (203.0.113.0/24, RFC 5737): public to the
// address policy, and never resolved, so no test asks a DNS server beyond this machine.
describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'alice', source: 'cli'}
const keyA = {id: 'a', key: randomBytes(32)}
const keyB = {id: 'b', key: randomBytes(32)}
const keyring = new Keyring(keyA)
const HOUR = 3_600_000

/** Managing subscriptions: what is refused at add time, what lists show, rotation, removal, re-enabling, rekey. */
describeEachBackend('webhook subscriptions', (database) => {
  // A URL that is itself a secret (as Zapier's and n8n's are): it must never come back out.
  const canary = `canary${randomUUID().replaceAll('-', '')}`
  const url = `https://203.0.113.14/${canary}`

  beforeEach(async () => {
    await sql`truncate webhook_deliveries, webhook_subscriptions, tenants cascade`.execute(database().db)
    await sql`delete from workspaces where slug <> 'default'`.execute(database().db)
  })

  const rowOf = (name: string) => database().db.selectFrom('webhook_subscriptions').selectAll().where('name', '=', name).executeTakeFirstOrThrow()

  it('refuses a bad name, an unknown event (listing the known ones), http, inside addresses and credentials in the URL, never quoting the URL', async () => {
    const {db} = database()
    const refusal = async (input: Partial<Parameters<typeof addSubscription>[3]>): Promise<InvalidInputError> => {
      const error = await addSubscription(db, keyring, audit, {events: ['tenant.created'], name: 'crm', url, ...input}).catch((error_: unknown) => error_)
      expect(error).toBeInstanceOf(InvalidInputError)
      expect(JSON.stringify({details: (error as InvalidInputError).details, hint: (error as InvalidInputError).hint, message: (error as Error).message})).not.toContain(canary)
      return error as InvalidInputError
    }

    expect((await refusal({name: 'Bad Name!'})).issues).toEqual([{field: 'name', message: 'must be 1-63 lower-case letters, digits, "-" or "_"'}])
    const unknown = await refusal({events: ['tenant.created', 'tenant.made', 'nothing.*']})
    expect(unknown.issues[0]?.message).toMatch(/^"tenant\.made", "nothing\.\*" are not an event type or pattern; known: tenant\.created, tenant\.updated, .*health\.status_changed$/)
    expect((await refusal({url: `http://203.0.113.14/${canary}`})).issues).toEqual([{field: 'url', message: 'must be an https:// URL: plain http:// would send it unencrypted'}])
    for (const [host, range] of [['127.0.0.1', 'loopback'], ['10.1.2.3', 'private'], ['169.254.169.254', 'link-local'], ['[::1]', 'loopback']]) {
      const error = await refusal({url: `https://${host}/${canary}`})
      expect(error.issues[0]?.field).toBe('url')
      expect(error.issues[0]?.message).toContain(range)
    }

    // A name is judged by what it resolves to.
    expect((await refusal({url: `https://localhost:8443/${canary}`})).issues[0]?.message).toMatch(/^address (127\.0\.0\.1|::1) is loopback; refused$/)
    expect((await refusal({url: `https://user:${canary}@203.0.113.14/x`})).issues).toEqual([{field: 'url', message: 'must not hold a user name or password (user:password@)'}])
    expect(await db.selectFrom('webhook_subscriptions').select('id').execute()).toEqual([])

    // Opted in, inside addresses and http are allowed.
    const local = await addSubscription(db, keyring, audit, {allowHttp: true, allowPrivateNetwork: true, events: ['*'], name: 'local', url: `http://localhost:9/${canary}`})
    expect(local.subscription).toMatchObject({allowHttp: true, allowPrivateNetwork: true, urlHost: 'localhost:9'})
    await addSubscription(db, keyring, audit, {allowPrivateNetwork: true, events: ['*'], name: 'metadata', url: `https://169.254.169.254/${canary}`})
    const taken = await addSubscription(db, keyring, audit, {events: ['*'], name: 'local', url}).catch((error_: unknown) => error_)
    expect(taken).toBeInstanceOf(ConflictError)
  })

  it('lists hosts, events, workspace, state and delivery counts, never the URL or a secret', async () => {
    const {db} = database()
    const eu = await createWorkspace(db, audit, {slug: 'eu'})
    const {secret} = await addSubscription(db, keyring, audit, {events: ['tenant.*'], name: 'crm', url})
    await addSubscription(db, keyring, audit, {events: ['credential.expiring'], name: 'eu-jira', url: 'https://203.0.113.11/hook', workspace: eu})
    const home = await findWorkspace(db, 'default')
    for (const id of ['t1', 't2', 't3', 't4']) await createTenant(db, home, audit, {name: id, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify'})
    const crm = await rowOf('crm')
    const ids = (await db.selectFrom('webhook_deliveries').select('id').where('subscription_id', '=', crm.id).orderBy('id').execute()).map((row) => row.id)
    expect(ids).toHaveLength(4)
    await db.updateTable('webhook_deliveries').set({attempts: 1, finished_at: new Date('2030-01-01T00:00:00Z'), last_status: 200, sent_at: new Date('2030-01-01T00:00:00Z'), state: 'sent'}).where('id', '=', ids[0] as number).execute()
    await db.updateTable('webhook_deliveries').set({attempts: 9, finished_at: new Date('2030-01-02T00:00:00Z'), last_status: 503, state: 'failed'}).where('id', '=', ids[1] as number).execute()
    await db.updateTable('webhook_subscriptions').set({disabled_at: new Date(), disabled_reason: 'the receiver answered 410 Gone'}).where('name', '=', 'eu-jira').execute()

    const listed = await listSubscriptions(db)
    expect(listed.map((subscription) => [subscription.name, subscription.urlHost, subscription.events, subscription.workspace, subscription.disabledReason, subscription.deliveries])).toEqual([
      ['crm', '203.0.113.14', ['tenant.*'], null, null, {failed: 1, last: {at: new Date('2030-01-02T00:00:00Z'), state: 'failed', status: 503}, pending: 2}],
      ['eu-jira', '203.0.113.11', ['credential.expiring'], 'eu', 'the receiver answered 410 Gone', {failed: 0, last: null, pending: 0}],
    ])
    // A key limited to a workspace sees only that workspace's subscriptions.
    expect((await listSubscriptions(db, {workspaceId: eu.id})).map((subscription) => subscription.name)).toEqual(['eu-jira'])
    const everything = JSON.stringify([listed, await db.selectFrom('events').selectAll().execute(), await db.selectFrom('webhook_deliveries').select('payload').execute()])
    expect(everything).not.toContain(canary)
    expect(everything).not.toContain(secret)
    expect(JSON.stringify(await db.selectFrom('webhook_subscriptions').selectAll().execute())).not.toContain(canary)
  })

  it('rotates the secret: both sign during the overlap, only the new one after it; the old one goes at once with no overlap', async () => {
    const {db} = database()
    const now = new Date('2031-05-01T12:00:00Z')
    const {secret: first} = await addSubscription(db, keyring, audit, {events: ['*'], name: 'crm', url})
    const rotated = await rotateSubscriptionSecret(db, keyring, audit, 'crm', {now, overlapMs: 2 * HOUR})
    expect(rotated.secret).toMatch(/^whsec_/)
    expect(rotated.secret).not.toBe(first)
    expect(rotated.previousSecretUntil).toEqual(new Date(now.getTime() + 2 * HOUR))
    const row = await rowOf('crm')
    expect(openSubscription(keyring, row, new Date(now.getTime() + HOUR))).toEqual({secrets: [rotated.secret, first], url})
    expect(openSubscription(keyring, row, new Date(now.getTime() + 2 * HOUR + 1))).toEqual({secrets: [rotated.secret], url})
    expect((await listSubscriptions(db, {workspaceId: null}, new Date(now.getTime() + HOUR)))[0]?.previousSecretUntil).toEqual(rotated.previousSecretUntil)

    // The default overlap is a day; 0 drops the previous secret at once; over a week is refused.
    const daily = await rotateSubscriptionSecret(db, keyring, audit, 'crm', {now})
    expect(daily.previousSecretUntil).toEqual(new Date(now.getTime() + 24 * HOUR))
    const leaked = await rotateSubscriptionSecret(db, keyring, audit, 'crm', {now, overlapMs: 0})
    expect(openSubscription(keyring, await rowOf('crm'), now)).toEqual({secrets: [leaked.secret], url})
    expect(await rotateSubscriptionSecret(db, keyring, audit, 'crm', {overlapMs: 8 * 24 * HOUR}).catch((error: unknown) => error)).toBeInstanceOf(InvalidInputError)
    expect(await rotateSubscriptionSecret(db, keyring, audit, 'nobody').catch((error: unknown) => error)).toBeInstanceOf(NotFoundError)

    const events = await db.selectFrom('events').select(['type', 'data']).where('type', '=', 'webhook.secret_rotated').execute()
    expect(events).toHaveLength(3)
    const trail = JSON.stringify(events)
    for (const secret of [first, rotated.secret, daily.secret, leaked.secret]) expect(trail).not.toContain(secret)
  })

  it('removes a subscription with its pending deliveries, audited; a key of another workspace cannot', async () => {
    const {db} = database()
    const eu = await createWorkspace(db, audit, {slug: 'eu'})
    await addSubscription(db, keyring, audit, {events: ['*'], name: 'crm', url})
    await addSubscription(db, keyring, audit, {events: ['*'], name: 'keep', url: 'https://203.0.113.15/'})
    await queueWebhookEvents(db, [{data: {n: 1}, type: 'health.status_changed', workspaceId: null}, {data: {n: 2}, type: 'health.status_changed', workspaceId: null}])
    expect(await removeSubscription(db, audit, 'crm', {workspaceId: eu.id}).catch((error: unknown) => error)).toBeInstanceOf(NotFoundError)
    expect(await removeSubscription(db, audit, 'crm')).toEqual({name: 'crm', pendingDropped: 2})
    const left = await db.selectFrom('webhook_deliveries').innerJoin('webhook_subscriptions', 'webhook_subscriptions.id', 'webhook_deliveries.subscription_id').select('name').execute()
    expect(left.map((row) => row.name)).toEqual(['keep', 'keep'])
    expect(await removeSubscription(db, audit, 'crm').catch((error: unknown) => error)).toBeInstanceOf(NotFoundError)
    const removed = await db.selectFrom('events').select(['actor', 'data']).where('type', '=', 'webhook.removed').executeTakeFirstOrThrow()
    expect(removed).toEqual({actor: 'alice', data: {name: 'crm', pendingDropped: 2, urlHost: '203.0.113.14'}})
  })

  it('re-enables a subscription disabled by a 410: events queue again and its pending deliveries are due', async () => {
    const {db} = database()
    await addSubscription(db, keyring, audit, {events: ['health.*'], name: 'crm', url})
    await queueWebhookEvents(db, [{data: {n: 1}, type: 'health.status_changed', workspaceId: null}])
    await db.updateTable('webhook_subscriptions').set({disabled_at: new Date(), disabled_reason: 'the receiver answered 410 Gone'}).execute()
    await db.updateTable('webhook_deliveries').set({next_attempt_at: new Date('2099-01-01T00:00:00Z')}).execute()
    await queueWebhookEvents(db, [{data: {n: 2}, type: 'health.status_changed', workspaceId: null}])
    expect(await db.selectFrom('webhook_deliveries').select('id').execute()).toHaveLength(1)

    const enabled = await enableSubscription(db, audit, 'crm')
    expect([enabled.wasDisabled, enabled.resumed, enabled.subscription.disabledAt, enabled.subscription.disabledReason]).toEqual([true, 1, null, null])
    const due = await db.selectFrom('webhook_deliveries').select(sql<boolean>`next_attempt_at <= now()`.as('due')).executeTakeFirstOrThrow()
    expect(due.due).toBe(true)
    await queueWebhookEvents(db, [{data: {n: 3}, type: 'health.status_changed', workspaceId: null}])
    expect(await db.selectFrom('webhook_deliveries').select('id').execute()).toHaveLength(2)
    expect((await enableSubscription(db, audit, 'crm')).wasDisabled).toBe(false)
    expect(await db.selectFrom('events').select('type').where('type', '=', 'webhook.enabled').execute()).toHaveLength(1)
  })

  it('re-seals subscriptions under the new key with credentials rekey, reporting one that does not open', async () => {
    const {db} = database()
    const {secret} = await addSubscription(db, keyring, audit, {events: ['*'], name: 'crm', url})
    await addSubscription(db, keyring, audit, {events: ['*'], name: 'tampered', url: 'https://203.0.113.17/'})
    // Another row's sealed value does not open here (its additional data names the row).
    await sql`update webhook_subscriptions set secrets_ciphertext = (select secrets_ciphertext from webhook_subscriptions where name = 'crm') where name = 'tampered'`.execute(db)
    const both = new Keyring(keyB, [keyA])
    expect(await rekeySubscriptions(db, both, audit, {dryRun: true})).toEqual({failed: [], moved: 0, remaining: 2})
    const result = await rekeySubscriptions(db, both, audit)
    expect([result.moved, result.remaining, result.failed.map((failure) => failure.name)]).toEqual([1, 1, ['tampered']])
    const row = await rowOf('crm')
    expect(row.secrets_ciphertext).toMatch(/^v1:b:/)
    expect(openSubscription(new Keyring(keyB), row)).toEqual({secrets: [secret], url})
    expect(JSON.stringify(result)).not.toContain(canary)
    expect((await rekeySubscriptions(db, both, audit)).moved).toBe(0)
  })
})

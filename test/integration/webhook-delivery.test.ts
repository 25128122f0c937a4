import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import type {Db} from '../../src/db/schema.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {addSubscription, newSigningSecret, sealSubscription} from '../../src/services/webhooks/subscriptions.js'
import {deliverWebhooks, type WebhookDeliveryOptions, webhookBody} from '../../src/services/webhooks/webhook-delivery.js'
import {queueWebhookEvents} from '../../src/services/webhooks/webhook-queue.js'
import {RETRY_WINDOW_MS} from '../../src/services/webhooks/webhook-retry-policy.js'
import {WEBHOOK_USER_AGENT} from '../../src/services/webhooks/webhook-sender.js'
import {findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {WebhookReceiverFake} from '../fakes/webhook-receiver-fake.js'
import {describeEachBackend} from '../helpers/backends.js'
import {waitFor} from '../helpers/wait.js'

const audit = {actor: 'alice', source: 'cli'}
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
/** Receivers on 127.0.0.1, over plain http: allowed explicitly, as a subscriber inside the network would be. */
const local = {allowHttp: true, allowPrivateNetwork: true}
/** The path of a receiver's URL may be its secret (Zapier's, n8n's): a canary, to be found nowhere but in the requests. */
const URL_TOKEN = 'canary-path-token-3f9a1c7e'

/**
 * Delivers the outbox, on a fixed clock unless told otherwise, so that nothing retried falls
 * due by itself; with the longest backoff of each step (30 s at first, beyond the run's 10 s),
 * so that a run does not wait for a retry.
 */
function deliver(db: Db, options: WebhookDeliveryOptions & {at?: Date} = {}) {
  const at = options.at ?? new Date()
  return deliverWebhooks(db, keyring, {maxWaitMs: 10_000, now: () => at, random: () => 1, ...options})
}

async function deliveryRows(db: Db) {
  return db.selectFrom('webhook_deliveries').selectAll().orderBy('id').execute()
}

describeEachBackend('webhook delivery', (database) => {
  const receiver = new WebhookReceiverFake()
  const other = new WebhookReceiverFake()
  let workspace: Workspace
  let tenants = 0

  /** A tenant created: one tenant.created event for every subscription that wants it. */
  const tenantCreated = async (db: Db = database().db) => {
    const id = `t${++tenants}`
    await createTenant(db, workspace, audit, {name: `Tenant ${id}`, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify'})
    return id
  }

  const subscribe = async (name: string, url: string, extra: Partial<Parameters<typeof addSubscription>[3]> = {}) => addSubscription(database().db, keyring, audit, {...local, events: ['tenant.*'], name, url, ...extra})

  beforeAll(async () => {
    await receiver.listen()
    await other.listen()
    workspace = await findWorkspace(database().db, 'default')
  })
  afterAll(async () => {
    await receiver.close()
    await other.close()
  })
  beforeEach(async () => {
    receiver.reset()
    receiver.secret = undefined
    receiver.latency(0)
    other.reset()
    other.secret = undefined
    await sql`truncate webhook_deliveries, webhook_subscriptions, tenants cascade`.execute(database().db)
  })

  it('sends the stored body, signed so that the standardwebhooks package and the sha256= scheme both verify it, and records it sent', async () => {
    const {db} = database()
    const {secret} = await subscribe('crm', `${receiver.url}/hooks/${URL_TOKEN}`)
    receiver.secret = secret
    await tenantCreated()
    const result = await deliver(db)
    expect(result).toMatchObject({disabled: [], failed: 0, pending: 0, retried: 0, sent: 1, unrecorded: 0})

    const [request] = receiver.accepted
    const [row] = await deliveryRows(db)
    expect(receiver.received).toHaveLength(1)
    expect(request?.path).toBe(`/hooks/${URL_TOKEN}`)
    expect(request?.body).toBe(webhookBody(row?.payload))
    expect(request?.body.startsWith('{"type":"tenant.created","timestamp":')).toBe(true)
    expect(request?.json).toMatchObject({data: {id: 't1', workspace: 'default'}, type: 'tenant.created'})
    expect(request?.headers).toMatchObject({'content-type': 'application/json', 'user-agent': WEBHOOK_USER_AGENT, 'webhook-id': row?.message_id})
    expect(Math.abs(Number(request?.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300)
    expect(WebhookReceiverFake.verifies(request!, secret)).toEqual({legacy: true, standard: true})
    expect(WebhookReceiverFake.verifies(request!, newSigningSecret())).toEqual({legacy: false, standard: false})
    expect(row).toMatchObject({attempts: 1, claimed_by: null, claimed_until: null, last_error: null, last_status: 204, state: 'sent'})
    expect(row?.sent_at).toBeInstanceOf(Date)

    // Sent is sent: another run sends nothing.
    expect(await deliver(db)).toMatchObject({sent: 0})
    expect(receiver.received).toHaveLength(1)
    // The secret and the URL's path are nowhere in the database but sealed.
    const stored = JSON.stringify([await deliveryRows(db), await db.selectFrom('events').selectAll().execute(), await db.selectFrom('webhook_subscriptions').select(['name', 'url_host', 'events']).execute()])
    expect(stored).not.toContain(secret)
    expect(stored).not.toContain(URL_TOKEN)
  })

  it('sends nothing for a change that rolled back', async () => {
    const {db} = database()
    await subscribe('crm', receiver.url)
    await db
      .transaction()
      .execute(async (trx) => {
        await tenantCreated(trx)
        throw new Error('rolled back')
      })
      .catch(() => {})
    expect(await deliver(db)).toMatchObject({pending: 0, sent: 0})
    expect(receiver.received).toHaveLength(0)
  })

  it('retries a receiver that answered 500, and it gets the event exactly once, under the same webhook-id', async () => {
    const {db} = database()
    const {secret} = await subscribe('crm', receiver.url)
    receiver.secret = secret
    await tenantCreated()
    receiver.failNext({body: 'upstream down', status: 500})
    const t0 = new Date()
    expect(await deliver(db, {at: t0})).toMatchObject({failed: 0, pending: 1, retried: 1, sent: 0})
    const [waiting] = await deliveryRows(db)
    expect(waiting).toMatchObject({attempts: 1, last_error: 'HTTP 500: upstream down', last_status: 500, state: 'pending'})
    expect(waiting!.next_attempt_at.getTime()).toBeGreaterThan(t0.getTime())

    // Not due yet: nothing is sent.
    expect(await deliver(db, {at: t0})).toMatchObject({sent: 0})
    expect(receiver.received).toHaveLength(1)

    expect(await deliver(db, {at: new Date(t0.getTime() + 3_600_000)})).toMatchObject({pending: 0, retried: 0, sent: 1})
    expect(await deliver(db, {at: new Date(t0.getTime() + 7_200_000)})).toMatchObject({sent: 0})
    expect(receiver.acceptedIds).toEqual([waiting!.message_id])
    expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual([waiting!.message_id, waiting!.message_id])
    expect(receiver.received[0]?.body).toBe(receiver.received[1]?.body)
    expect((await deliveryRows(db))[0]).toMatchObject({attempts: 2, last_error: null, last_status: 204, state: 'sent'})
  })

  it('delivers each event once when four runs deliver at once', async () => {
    const {db} = database()
    await subscribe('crm', receiver.url)
    await subscribe('erp', other.url)
    receiver.latency(2)
    for (let index = 0; index < 30; index++) await tenantCreated()
    const results = await Promise.all(Array.from({length: 4}, () => deliver(db, {concurrency: 3})))
    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(60)
    for (const fake of [receiver, other]) {
      expect(fake.received).toHaveLength(30)
      expect(new Set(fake.acceptedIds).size).toBe(30)
    }

    expect((await deliveryRows(db)).every((row) => row.state === 'sent' && row.attempts === 1)).toBe(true)
  })

  it('honours a 429\'s Retry-After: the next attempt is not due before it', async () => {
    const {db} = database()
    await subscribe('crm', receiver.url)
    await tenantCreated()
    receiver.failNext({body: 'slow down', headers: {'retry-after': '120'}, status: 429})
    const t0 = new Date()
    expect(await deliver(db, {at: t0, random: () => 0})).toMatchObject({retried: 1})
    const [row] = await deliveryRows(db)
    expect(row).toMatchObject({last_status: 429, state: 'pending'})
    expect(row!.next_attempt_at.getTime()).toBeGreaterThanOrEqual(t0.getTime() + 120_000)
    expect(await deliver(db, {at: new Date(t0.getTime() + 119_000)})).toMatchObject({sent: 0})
    expect(await deliver(db, {at: new Date(t0.getTime() + 120_000)})).toMatchObject({sent: 1})
  })

  it('gives up three days after the event: the delivery is failed', async () => {
    const {db} = database()
    await subscribe('crm', receiver.url)
    await tenantCreated()
    const [row] = await deliveryRows(db)
    const createdAt = row!.created_at.getTime()
    receiver.failNext({status: 503}, {status: 503})
    // A day in: retried.
    expect(await deliver(db, {at: new Date(createdAt + 86_400_000)})).toMatchObject({failed: 0, retried: 1})
    // Just before three days: the next attempt would come after them.
    expect(await deliver(db, {at: new Date(createdAt + RETRY_WINDOW_MS - 500), random: () => 0})).toMatchObject({failed: 1, pending: 0, retried: 0})
    const [failed] = await deliveryRows(db)
    expect(failed).toMatchObject({attempts: 2, last_status: 503, state: 'failed'})
    expect(failed?.last_error).toBe('HTTP 503 (gave up after 2 attempts over 3 days)')
    expect(failed?.finished_at).toBeInstanceOf(Date)
    expect(await deliver(db, {at: new Date(createdAt + 4 * 86_400_000)})).toMatchObject({sent: 0})
    expect(receiver.received).toHaveLength(2)
  })

  it('disables a subscription whose receiver answers 410, sends it nothing more, and resumes if it is enabled again', async () => {
    const {db} = database()
    await subscribe('gone', receiver.url)
    await subscribe('crm', other.url)
    await tenantCreated()
    await tenantCreated()
    receiver.failNext({body: 'no such hook', status: 410})
    const result = await deliver(db, {concurrency: 1})
    expect(result).toMatchObject({disabled: ['gone'], failed: 0, sent: 2})
    expect(receiver.received).toHaveLength(1)
    expect(other.accepted).toHaveLength(2)
    const subscription = await db.selectFrom('webhook_subscriptions').selectAll().where('name', '=', 'gone').executeTakeFirstOrThrow()
    expect(subscription).toMatchObject({disabled_reason: 'gone (410)'})
    expect(subscription.disabled_at).toBeInstanceOf(Date)
    const disabled = await db.selectFrom('events').select(['type', 'actor', 'data']).where('type', '=', 'webhook.disabled').execute()
    expect(disabled).toEqual([{actor: 'synthex', data: {name: 'gone', reason: 'gone (410)'}, type: 'webhook.disabled'}])

    // Its deliveries wait; new events are not queued for it; nothing is sent to it.
    await tenantCreated()
    expect(await deliver(db, {at: new Date(Date.now() + 86_400_000)})).toMatchObject({pending: 0, sent: 1})
    expect(receiver.received).toHaveLength(1)
    const waiting = await db.selectFrom('webhook_deliveries').select(['state', 'attempts', 'last_status']).where('subscription_id', '=', subscription.id).orderBy('id').execute()
    expect(waiting).toEqual([
      {attempts: 1, last_status: 410, state: 'pending'},
      {attempts: 0, last_status: null, state: 'pending'},
    ])

    await db.updateTable('webhook_subscriptions').set({disabled_at: null, disabled_reason: null}).where('id', '=', subscription.id).execute()
    expect(await deliver(db)).toMatchObject({sent: 2})
    expect(receiver.accepted).toHaveLength(2)
  })

  it('refuses at send time an address the subscription no longer allows, by name (resolved) or by literal IP, and records why', async () => {
    const {db} = database()
    // Added while private addresses were allowed; then not (as a name that starts resolving
    // to a private address would be, DNS rebinding): refused when connecting, not sent.
    await subscribe('by-name', `http://localhost:${new URL(receiver.url).port}/hook`)
    await subscribe('by-ip', `${receiver.url}/hook`)
    await db.updateTable('webhook_subscriptions').set({allow_private_network: false}).execute()
    await tenantCreated()
    expect(await deliver(db)).toMatchObject({failed: 2, retried: 0, sent: 0})
    expect(receiver.received).toHaveLength(0)
    const rows = await db.selectFrom('webhook_deliveries').innerJoin('webhook_subscriptions', 'webhook_subscriptions.id', 'subscription_id').select(['name', 'state', 'last_error', 'last_status']).orderBy('name').execute()
    expect(rows).toMatchObject([
      {last_status: null, name: 'by-ip', state: 'failed'},
      {last_status: null, name: 'by-name', state: 'failed'},
    ])
    expect(rows[0]?.last_error).toBe('refused: the URL points to a loopback address, inside the network')
    expect(rows[1]?.last_error).toMatch(/^address (127\.0\.0\.1|::1) is loopback; refused$/)
  })

  it('does not follow a redirect: a 302 is a failure, and its target gets nothing', async () => {
    const {db} = database()
    await subscribe('crm', receiver.url)
    await tenantCreated()
    receiver.failNext({headers: {location: `${other.url}/elsewhere/${URL_TOKEN}`}, status: 302})
    expect(await deliver(db)).toMatchObject({failed: 1, sent: 0})
    expect(other.received).toHaveLength(0)
    const [row] = await deliveryRows(db)
    expect(row).toMatchObject({last_error: `HTTP 302: redirect to ${new URL(other.url).host} not followed`, last_status: 302, state: 'failed'})
  })

  it('signs with both secrets during a rotation\'s overlap, and with the new one only after it', async () => {
    const {db} = database()
    const {secret: old, subscription} = await subscribe('crm', receiver.url)
    const rotated = newSigningSecret()
    await db
      .updateTable('webhook_subscriptions')
      .set({previous_secret_until: new Date(Date.now() + 3_600_000), secrets_ciphertext: sealSubscription(keyring, subscription.id, {previousSecret: old, secret: rotated, url: receiver.url})})
      .where('id', '=', subscription.id)
      .execute()
    await tenantCreated()
    await deliver(db)
    const [during] = receiver.accepted
    expect(String(during?.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(WebhookReceiverFake.verifies(during!, old).standard).toBe(true)
    expect(WebhookReceiverFake.verifies(during!, rotated)).toEqual({legacy: true, standard: true})

    await db.updateTable('webhook_subscriptions').set({previous_secret_until: new Date(Date.now() - 1000)}).where('id', '=', subscription.id).execute()
    await tenantCreated()
    await deliver(db)
    const after = receiver.accepted[1]
    expect(String(after?.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(WebhookReceiverFake.verifies(after!, old).standard).toBe(false)
    expect(WebhookReceiverFake.verifies(after!, rotated).standard).toBe(true)
  })

  it('keeps a receiver\'s answer as a short excerpt without the URL or a secret it echoes', async () => {
    const {db} = database()
    const {secret} = await subscribe('crm', `${receiver.url}/hooks/${URL_TOKEN}`)
    await tenantCreated()
    receiver.failNext({body: `bad request for ${receiver.url}/hooks/${URL_TOKEN} signed with ${secret} ${'x'.repeat(20_000)}`, status: 400})
    expect(await deliver(db)).toMatchObject({failed: 1})
    const [row] = await deliveryRows(db)
    expect(row?.last_status).toBe(400)
    expect(row?.last_error).toMatch(/^HTTP 400: bad request for \[redacted\] signed with \[redacted\] x+\.\.\.$/)
    expect(row?.last_error?.length).toBeLessThan(600)
    expect(row?.last_error).not.toContain(URL_TOKEN)
  })

  it('never lets a subscriber that does not answer delay the others', async () => {
    const {db} = database()
    await subscribe('stuck', receiver.url)
    await subscribe('crm', other.url)
    receiver.hold()
    for (let index = 0; index < 10; index++) await tenantCreated()
    const running = deliver(db, {concurrency: 1, maxWaitMs: 60_000, requestTimeoutMs: 60_000})
    // The stuck receiver holds its one request while the other gets all ten.
    await waitFor(() => (other.accepted.length === 10 && receiver.waiting === 1 ? true : undefined), 20_000, 'the healthy subscriber to get every event')
    receiver.release()
    expect(await running).toMatchObject({sent: 20})
  })

  it('sends the events of non-audit kinds queued through queueWebhookEvents', async () => {
    const {db} = database()
    await subscribe('jira', receiver.url, {events: ['credential.expiring']})
    await queueWebhookEvents(db, [{data: {tenantId: 'acme', daysLeft: 6}, type: 'credential.expiring', workspaceId: workspace.id}])
    expect(await deliver(db)).toMatchObject({sent: 1})
    expect(receiver.accepted[0]?.json).toMatchObject({data: {daysLeft: 6, tenantId: 'acme'}, type: 'credential.expiring'})
  })
})

import {randomBytes} from 'node:crypto'

import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import {addSubscription} from '../../src/services/webhooks/subscriptions.js'
import {WebhookReceiverFake} from '../fakes/webhook-receiver-fake.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {type CliTarget, describeEachCliBackend, ownTarget} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'

const KEY = randomBytes(32)
const keyring = new Keyring({id: derivedKeyId(KEY), key: KEY})
/** The receiver's URL path stands in for a URL that is itself a secret (Zapier's, n8n's). */
const URL_TOKEN = 'canary-hook-path-71c2e9'

interface DeliveryView {
  attempts: number
  eventType: string
  id: number
  lastError: null | string
  lastStatus: null | number
  messageId: string
  state: string
  subscription: string
}

/** `webhooks deliver`, `deliveries`, `redeliver` and `test` as a user runs them, and `alerts check-now` delivering webhooks too. */
describeEachCliBackend('webhooks delivery commands', (suiteTarget) => {
  const receiver = new WebhookReceiverFake()
  let target: CliTarget
  let secret: string
  const run = (args: string[]) => runCli(args, {env: {...target.env, SYNTHEX_ENCRYPTION_KEY: KEY.toString('base64'), SYNTHEX_LOCK_TIMEOUT: '60s'}})
  const ok = async (args: string[]) => {
    const result = await run(args)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    return result
  }

  const tenant = (id: string) => ok(['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', 'shopify', '--shopify-shop', `${id}.myshopify.com`])
  const deliveries = async (...args: string[]) => parseJson<{deliveries: DeliveryView[]}>(await ok(['webhooks', 'deliveries', '--json', ...args])).deliveries

  beforeAll(async () => {
    await receiver.listen()
  })
  afterAll(() => receiver.close())
  beforeEach(async () => {
    receiver.reset()
    target = await ownTarget(suiteTarget())
    secret = await withDatabase(target, async (db) => {
      const added = await addSubscription(db, keyring, {actor: 'test', source: 'cli'}, {allowHttp: true, allowPrivateNetwork: true, events: ['tenant.created'], name: 'crm', url: `${receiver.url}/hooks/${URL_TOKEN}`})
      return added.secret
    })
    receiver.secret = secret
  })

  it('delivers, lists, redelivers under the same webhook-id, and never shows the secret or the URL', async () => {
    await tenant('w1')
    await tenant('w2')
    const delivered = await ok(['webhooks', 'deliver'])
    expect(delivered.stdout).toBe('sent 2 · retried 0 · failed 0 · disabled 0 · pending 0\n')
    expect(receiver.accepted).toHaveLength(2)

    const listed = await deliveries()
    expect(listed.map((row) => [row.subscription, row.eventType, row.state, row.attempts, row.lastStatus])).toEqual([
      ['crm', 'tenant.created', 'sent', 1, 204],
      ['crm', 'tenant.created', 'sent', 1, 204],
    ])
    const table = await ok(['webhooks', 'deliveries'])
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+SUBSCRIPTION\s+EVENT\s+STATE\s+ATTEMPTS\s+STATUS\s+NEXT ATTEMPT\s+CREATED\s+SENT\s+LAST ERROR$/)
    const csv = await ok(['webhooks', 'deliveries', '--csv', '--state', 'sent', '--subscription', 'crm'])
    expect(csv.stdout.split('\n')[0]).toBe('id,subscription,event_type,state,attempts,last_status,next_attempt_at,created_at,sent_at,last_error')
    expect(csv.stdout.trim().split('\n')).toHaveLength(3)
    expect((await run(['webhooks', 'deliveries', '--subscription', 'nope'])).code).toBe(1)

    // Sent again by hand: pending, attempts afresh, the same webhook-id; audited.
    const [first] = listed
    const redelivered = await ok(['webhooks', 'redeliver', String(first?.id), '--json'])
    expect(parseJson<DeliveryView>(redelivered)).toMatchObject({attempts: 0, id: first?.id, messageId: first?.messageId, state: 'pending'})
    expect((await run(['webhooks', 'redeliver', String(first?.id)])).code).toBe(1)
    expect((await run(['webhooks', 'redeliver', '999999'])).code).toBe(1)
    expect((await ok(['webhooks', 'deliver', '--json'])).stdout).toContain('"sent": 1')
    expect(receiver.acceptedIds.filter((id) => id === first?.messageId)).toHaveLength(2)
    const events = parseJson<{events: Array<{data: Record<string, unknown>; type: string}>}>(await ok(['events', 'list', '--json']))
    expect(events.events.find((event) => event.type === 'webhook.redelivered')?.data).toMatchObject({delivery: first?.id, messageId: first?.messageId, previousState: 'sent', subscription: 'crm'})

    // Everything the commands printed: no secret, no URL path.
    const printed = [delivered, table, csv, redelivered].map((result) => result.stdout + result.stderr).join('\n')
    expect(printed).not.toContain(secret)
    expect(printed).not.toContain(URL_TOKEN)
  })

  it('exits 3 when a delivery failed for good, and shows why', async () => {
    await tenant('w3')
    receiver.failNext({body: 'unknown tenant', status: 422})
    const result = await run(['webhooks', 'deliver'])
    expect(result.code).toBe(3)
    expect(result.stdout).toBe('sent 0 · retried 0 · failed 1 · disabled 0 · pending 0\n')
    expect(result.stderr).toContain('1 delivery failed for good: exit 3.')
    expect(await deliveries('--state', 'failed')).toMatchObject([{lastError: 'HTTP 422: unknown tenant', lastStatus: 422, state: 'failed'}])
  })

  it('pings a subscription with a signed ping event, and exits 1 when the receiver refuses it', async () => {
    const pinged = await ok(['webhooks', 'test', 'crm', '--json'])
    expect(parseJson(pinged)).toMatchObject({ok: true, status: 204, subscription: 'crm', urlHost: new URL(receiver.url).host})
    const [ping] = receiver.accepted
    expect(ping?.json).toMatchObject({data: {subscription: 'crm'}, type: 'ping'})
    expect(WebhookReceiverFake.verifies(ping!, secret)).toEqual({legacy: true, standard: true})
    // Not stored: nothing to list, nothing to deliver.
    expect(await deliveries()).toEqual([])

    receiver.failNext({body: 'nope', status: 500})
    const refused = await run(['webhooks', 'test', 'crm'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/^Status\s+500$/m)
    expect(refused.stdout).toMatch(/^Answer\s+HTTP 500: nope$/m)
    expect((await run(['webhooks', 'test', 'missing'])).code).toBe(1)
  })

  it('is delivered by alerts check-now too, with the figures in its JSON and its line', async () => {
    await tenant('w4')
    const checked = parseJson<{webhooks: Record<string, unknown>}>(await ok(['alerts', 'check-now', '--json']))
    expect(checked.webhooks).toEqual({disabled: [], failed: 0, pending: 0, retried: 0, sent: 1, unopened: []})
    expect(receiver.accepted).toHaveLength(1)
    await tenant('w5')
    const line = await ok(['alerts', 'check-now'])
    expect(line.stdout).toMatch(/ · webhooks sent 1, retried 0, failed 0, pending 0\n$/)
  })
})

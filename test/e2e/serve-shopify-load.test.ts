import {createHmac, randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {beforeAll, expect, it} from 'vitest'

import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {type ServeProcess, startServe} from '../helpers/serve-process.js'

const SECRET = randomBytes(24).toString('base64')
const SHOPS = 120
/** Shops 0-99 have a tenant; 100-119 are unknown to synthex (the webhook is recorded against the shop). */
const TENANT_SHOPS = 100
const UNIQUE = 900
const DUPLICATES = 100
const AT_ONCE = 50
const TOPICS = ['products/update', 'customers/data_request', 'app/uninstalled', 'customers/redact', 'shop/redact', 'products/create'] as const

interface Delivery {
  readonly body: string
  readonly id: string
  readonly shop: string
  readonly topic: string
}

/**
 * A Shopify app's webhooks arriving as they do from a busy store fleet: 1,000 deliveries,
 * 50 in flight at once, a tenth of them a second delivery of a webhook id (Shopify retries
 * a delivery it did not see answered, sometimes while the first is still in flight).
 * Every one is answered 2xx, and each webhook id is applied once.
 */
describeEachCliBackend('serve under a load of Shopify webhooks', (target) => {
  beforeAll(async () => {
    await withDatabase(target(), async (db) => {
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      await db
        .insertInto('tenants')
        .values(Array.from({length: TENANT_SHOPS}, (_, index) => ({metadata: '{}', name: `Shop ${index}`, shopify_shop: `shop-${index}.myshopify.com`, tenant_id: `shop-${index}`, type: 'shopify' as const, workspace_id: workspace.id})))
        .execute()
    })
  })

  it('answers 1,000 webhooks 50 at a time, all 2xx, and applies none twice', async () => {
    const unique: Delivery[] = Array.from({length: UNIQUE}, (_, index) => {
      const shop = `shop-${index % SHOPS}.myshopify.com`
      const topic = TOPICS[index % TOPICS.length] as string
      return {body: JSON.stringify({domain: shop, id: index, topic}), id: `load-${index}-${randomBytes(4).toString('hex')}`, shop, topic}
    })
    // Every ninth webhook is delivered twice, the second right behind the first: both in flight at once.
    const deliveries: Delivery[] = []
    for (const [index, delivery] of unique.entries()) {
      deliveries.push(delivery)
      if (index % 9 === 0 && deliveries.length < UNIQUE + DUPLICATES) deliveries.push(delivery)
    }

    expect(deliveries).toHaveLength(UNIQUE + DUPLICATES)

    const answers: Array<{applied?: boolean; status: number}> = []
    let next = 0
    const worker = async (url: string): Promise<void> => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++] as Delivery
        const response = await fetch(`${url}/api/webhooks/shopify`, {
          body: delivery.body,
          headers: {
            'content-type': 'application/json',
            'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(delivery.body).digest('base64'),
            'x-shopify-shop-domain': delivery.shop,
            'x-shopify-topic': delivery.topic,
            'x-shopify-webhook-id': delivery.id,
          },
          method: 'POST',
        })
        const json = (await response.json().catch(() => ({}))) as {applied?: boolean}
        answers.push({applied: json.applied, status: response.status})
      }
    }

    const serve: ServeProcess = await startServe({...target().env, SHOPIFY_WEBHOOK_SECRET: SECRET})
    try {
      await Promise.all(Array.from({length: AT_ONCE}, () => worker(serve.url)))
    } finally {
      // Stopped before the database is looked at: the embedded one has one holder at a time.
      expect((await serve.stop()).code).toBe(0)
    }

    expect(answers.filter((answer) => answer.status < 200 || answer.status > 299)).toEqual([])
    expect(answers.filter((answer) => answer.applied === true)).toHaveLength(UNIQUE)
    expect(answers.filter((answer) => answer.applied === false)).toHaveLength(DUPLICATES)

    await withDatabase(target(), async (db) => {
      const received = await db.selectFrom('shopify_webhooks').select(db.fn.countAll<string>().as('count')).executeTakeFirstOrThrow()
      expect(Number(received.count)).toBe(UNIQUE)
      // One audit event per webhook id (each shop has at most one tenant): none applied twice.
      const {rows} = await sql<{count: string; ids: string}>`
        select count(*) as count, count(distinct data->>'webhookId') as ids from events where type = 'shopify.webhook'`.execute(db)
      expect([Number(rows[0]?.count), Number(rows[0]?.ids)]).toEqual([UNIQUE, UNIQUE])
      // Each tenant whose shop uninstalled the app was deactivated once, whichever of its uninstalls came first.
      const uninstalled = new Set(unique.filter((delivery) => delivery.topic === 'app/uninstalled' && Number(/\d+/.exec(delivery.shop)?.[0]) < TENANT_SHOPS).map((delivery) => delivery.shop))
      const deactivated = await db.selectFrom('events').select('aggregate_id').where('type', '=', 'tenant.deactivated').execute()
      expect(deactivated.map((event) => event.aggregate_id).sort()).toEqual([...uninstalled].map((shop) => shop.replace('.myshopify.com', '')).sort())
      const inactive = await db.selectFrom('tenants').select(db.fn.countAll<string>().as('count')).where('status', '=', 'inactive').executeTakeFirstOrThrow()
      expect(Number(inactive.count)).toBe(uninstalled.size)
    })
  })
})

import {randomBytes, randomUUID} from 'node:crypto'
import {createSocket, type Socket} from 'node:dgram'

import {sql} from 'kysely'
import {afterAll, beforeAll, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {addSubscription} from '../../src/services/webhooks/subscriptions.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend, ownTarget} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {seedFleet} from '../helpers/seed-fleet.js'
import {waitFor} from '../helpers/wait.js'

const KEY = randomBytes(32).toString('base64')

/** A UDP socket on 127.0.0.1, as a Datadog agent listens for DogStatsD. */
async function udpListener(): Promise<{close(): Promise<void>; datagrams: string[]; port: number}> {
  const socket: Socket = createSocket('udp4')
  const datagrams: string[] = []
  socket.on('message', (message) => datagrams.push(message.toString('utf8')))
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {close: () => new Promise<void>((resolve) => socket.close(() => resolve())), datagrams, port: socket.address().port}
}

/**
 * What a cron line of `alerts check-now` does for subscribers and Datadog: the events are
 * queued by the process's reconcile, and a credential reaching a threshold is one Datadog
 * event, sent once (the next run, with nothing new, sends only the command's metrics).
 */
describeEachCliBackend('webhook and Datadog events from alerts check-now', (target) => {
  let agent: Awaited<ReturnType<typeof udpListener>>

  beforeAll(async () => {
    agent = await udpListener()
  })

  afterAll(async () => {
    await agent.close()
  })

  it('queues alert.fired and credential.expiring and sends one Datadog warning event for a credential expiring in 5 days', async () => {
    const own = await ownTarget(target())
    const canary = `canary-${randomUUID()}`
    const env = {...own.env, DATADOG_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(agent.port), SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s'}
    const run = (args: string[], input?: string) => runCli(args, {env, input})
    await withDatabase(own, async (db) => {
      await sql`truncate webhook_deliveries, webhook_subscriptions`.execute(db)
      await addSubscription(db, new Keyring({id: 'test', key: randomBytes(32)}), {actor: 'e2e', source: 'test'}, {allowHttp: true, allowPrivateNetwork: true, events: ['alert.*', 'credential.expiring'], name: 'ops', url: 'http://127.0.0.1:9/ops'})
    })
    await seedFleet(own, {
      credentials: [{expiresAt: new Date(Date.now() + 5 * 86_400_000), service: 'shopify', tenantId: 'dd', value: canary}],
      encryptionKey: KEY,
      tenants: [{name: 'DD', shopify_shop: 'dd.myshopify.com', tenant_id: 'dd', type: 'shopify'}],
    })

    agent.datagrams.length = 0
    const first = await run(['alerts', 'check-now', '--json'])
    expect(first.code).toBe(0)
    expect(parseJson<{new: number}>(first)).toMatchObject({new: 1})
    const events = await waitFor(() => {
      const found = agent.datagrams.filter((datagram) => datagram.startsWith('_e{'))
      return found.length > 0 && agent.datagrams.some((datagram) => datagram.startsWith('synthex.command.runs:')) ? found : undefined
    }, 10_000, 'a Datadog event and the command metrics')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatch(/^_e\{\d+,\d+\}:Shopify credential of dd expiring\|Shopify credential of DD \(dd\) expires in 5 days\\nExpires at .+\|d:\d+\|k:[\da-f]{32}\|p:normal\|t:warning\|s:synthex\|#label:default,rule:credential_expiring,service:shopify,severity:warning,tenant:dd,workspace:default$/)

    agent.datagrams.length = 0
    expect((await run(['alerts', 'check-now'])).code).toBe(0)
    await waitFor(() => (agent.datagrams.some((datagram) => datagram.startsWith('synthex.command.runs:')) ? true : undefined), 10_000, 'the command metrics')
    expect(agent.datagrams.filter((datagram) => datagram.startsWith('_e{'))).toEqual([])

    await withDatabase(own, async (db) => {
      const queued = await db.selectFrom('webhook_deliveries').select(['event_type', 'payload']).orderBy('id').execute()
      expect(queued.map((row) => row.event_type)).toEqual(['alert.fired', 'credential.expiring'])
      expect(queued[1]?.payload).toMatchObject({data: {daysLeft: 5, service: 'shopify', severity: 'warning', tenantId: 'dd', withinDays: 7}, type: 'credential.expiring'})
      expect(JSON.stringify(queued)).not.toContain(canary)
    })
  })
})

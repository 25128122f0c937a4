import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {afterAll, beforeAll, expect, it} from 'vitest'

import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import {addChannel} from '../../src/services/alerts/channels.js'
import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {type CliTarget, describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {type ServeProcess, startServe} from '../helpers/serve-process.js'
import {waitFor} from '../helpers/wait.js'

const KEY = randomBytes(32).toString('base64')
/** Fewer than the storm threshold (20), so that each alert is notified on its own, not in a digest. */
const IDLE = 15
const LOCAL = {allowHttp: true, allowPrivateNetwork: true}

/**
 * `serve --check-every` in several processes on one database, as a fleet of replicas behind
 * a load balancer would run it: every process runs the alert pipeline when it starts (and
 * then every 10 s), and between them each alert reaches each channel exactly once.
 */
describeEachCliBackend('serve --check-every in three processes on one database', (target) => {
  const slack = new SlackFake()
  const pagerduty = new PagerDutyFake()

  beforeAll(async () => {
    await Promise.all([slack.listen(), pagerduty.listen()])
    // Providers a little away: deliveries are still in flight while the other processes'
    // runs look at the outbox.
    slack.latency(100)
    pagerduty.latency(100)
  })

  afterAll(async () => {
    await Promise.all([slack.close(), pagerduty.close()])
  })

  /** Tenants idle for 90 days (each raises tenant_inactive) and a Slack and a PagerDuty channel, sealed with KEY. */
  const seed = async (on: CliTarget): Promise<void> => {
    const key = Buffer.from(KEY, 'base64')
    const keyring = new Keyring({id: derivedKeyId(key), key})
    await withDatabase(on, async (db) => {
      await sql`truncate alert_notifications, alerts, channels, alert_runs, tenants cascade`.execute(db)
      const audit = {actor: 'e2e', source: 'test'}
      // Generous limits: the test is about how many deliveries, not how fast.
      const limits = {concurrency: 4, perMinute: 600_000}
      await addChannel(db, keyring, audit, {limits, name: 'ops-slack', options: LOCAL, secret: slack.webhookUrl, type: 'slack'})
      await addChannel(db, keyring, audit, {limits, name: 'oncall', options: {...LOCAL, eventsUrl: pagerduty.eventsUrl}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'})
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      const old = new Date(Date.now() - 90 * 86_400_000)
      await db
        .insertInto('tenants')
        .values(Array.from({length: IDLE}, (_, index) => ({created_at: old, last_activity_at: old, metadata: '{}', name: `Idle ${index}`, shopify_shop: `idle-${index}.myshopify.com`, tenant_id: `idle-${index}`, type: 'shopify' as const, workspace_id: workspace.id})))
        .execute()
    })
  }

  it('never delivers a notification twice', async () => {
    await seed(target())
    const env = {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s'}
    // Started together: on the embedded database one of them holds it as the shared server
    // and the other two, finding it served, are its clients.
    const serves: ServeProcess[] = await Promise.all([0, 1, 2].map(() => startServe(env, ['--check-every', '10s'])))
    const checks = (serve: ServeProcess) => serve.accessLog().filter((line) => line.event === 'alerts.check')
    try {
      // Each process has finished its first run (the one at start): nothing is left to send.
      await waitFor(() => (serves.every((serve) => checks(serve).length > 0) ? true : undefined), 120_000, 'every serve to run the alert pipeline')
    } finally {
      const stopped = await Promise.all(serves.map((serve) => serve.stop()))
      expect(stopped.map((result) => result.code)).toEqual([0, 0, 0])
    }

    const runs = serves.flatMap(checks)
    expect(runs.filter((line) => 'error' in line)).toEqual([])
    expect(runs.reduce((sum, line) => sum + Number(line.new), 0)).toBe(IDLE)
    expect(runs.reduce((sum, line) => sum + Number(line.sent), 0)).toBe(2 * IDLE)
    expect(runs.reduce((sum, line) => sum + Number(line.failed), 0)).toBe(0)

    const dedupKeys = pagerduty.events.map((event) => event.dedup_key)
    expect(dedupKeys).toHaveLength(IDLE)
    expect(new Set(dedupKeys).size).toBe(IDLE)
    // Slack gets several alerts of one run in a message, one section block each.
    const tenants = slack.messages.flatMap((message) => message.blocks.filter((block) => block.type === 'section').map((block) => /\(`(idle-\d+)`/.exec(block.text?.text ?? '')?.[1]))
    expect(tenants.sort()).toEqual(Array.from({length: IDLE}, (_, index) => `idle-${index}`).sort())
    expect(pagerduty.received).toHaveLength(IDLE)
    expect(slack.received).toHaveLength(slack.messages.length)

    await withDatabase(target(), async (db) => {
      const states = await db.selectFrom('alert_notifications').select(['state', db.fn.countAll<string>().as('count')]).groupBy('state').execute()
      expect(states.map((row) => `${row.state}:${Number(row.count)}`)).toEqual([`sent:${2 * IDLE}`])
      const alerts = await db.selectFrom('alerts').select(db.fn.countAll<string>().as('count')).executeTakeFirstOrThrow()
      expect(Number(alerts.count)).toBe(IDLE)
    })
  })
})

import {randomBytes, randomUUID} from 'node:crypto'
import {createSocket, type Socket} from 'node:dgram'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {channelEnvironment} from '../../src/config/environment.js'
import {Keyring} from '../../src/crypto/keyring.js'
import type {Db} from '../../src/db/schema.js'
import {INTERNAL_POLICY} from '../../src/net/address-policy.js'
import {checkAlerts} from '../../src/services/alerts/alert-check.js'
import {reconcileAlerts} from '../../src/services/alerts/alert-reconcile.js'
import {addChannel} from '../../src/services/alerts/channels.js'
import {createSilence} from '../../src/services/alerts/silences.js'
import {rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {addSubscription} from '../../src/services/webhooks/subscriptions.js'
import {createWorkspace, findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {describeEachBackend} from '../helpers/backends.js'
import {waitFor} from '../helpers/wait.js'

const audit = {actor: 'alice', source: 'cli'}
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const local = {allowHttp: INTERNAL_POLICY.allowHttp, allowPrivateNetwork: INTERNAL_POLICY.allowPrivateNetwork}
const HOUR = 3_600_000
const DAY = 24 * HOUR

export interface QueuedRow {
  readonly event_type: string
  readonly name: string
  readonly payload: {data: Record<string, unknown>; timestamp: string; type: string}
}

/** What is queued, oldest first, per subscription name; and nothing read twice. */
export async function queuedSince(db: Db, after = 0): Promise<{last: number; rows: QueuedRow[]}> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhook_subscriptions', 'webhook_subscriptions.id', 'webhook_deliveries.subscription_id')
    .select(['webhook_deliveries.id', 'name', 'event_type', 'payload'])
    .where('webhook_deliveries.id', '>', after)
    .orderBy('webhook_deliveries.id')
    .execute()
  return {last: Math.max(after, ...rows.map((row) => Number(row.id))), rows: rows as unknown as QueuedRow[]}
}

/** A UDP socket on 127.0.0.1, as a Datadog agent listens for DogStatsD. */
async function udpListener(): Promise<{close(): Promise<void>; datagrams: string[]; port: number}> {
  const socket: Socket = createSocket('udp4')
  const datagrams: string[] = []
  socket.on('message', (message) => datagrams.push(message.toString('utf8')))
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {close: () => new Promise<void>((resolve) => socket.close(() => resolve())), datagrams, port: socket.address().port}
}

/** The parts of a DogStatsD event datagram, its declared lengths checked against the UTF-8 bytes. */
function parseEvent(datagram: string): {fields: Record<string, string>; tags: string[]; text: string; title: string} {
  const head = /^_e\{(\d+),(\d+)\}:/.exec(datagram)
  if (!head) throw new Error(`not an event datagram: ${datagram}`)
  const bytes = Buffer.from(datagram.slice(head[0].length))
  const titleBytes = Number(head[1])
  const textBytes = Number(head[2])
  const title = bytes.subarray(0, titleBytes).toString('utf8')
  expect(bytes[titleBytes]).toBe('|'.charCodeAt(0))
  const text = bytes.subarray(titleBytes + 1, titleBytes + 1 + textBytes).toString('utf8')
  const rest = bytes.subarray(titleBytes + 1 + textBytes).toString('utf8')
  expect(rest.startsWith('|')).toBe(true)
  const fields: Record<string, string> = {}
  let tags: string[] = []
  for (const part of rest.slice(1).split('|')) {
    if (part.startsWith('#')) tags = part.slice(1).split(',')
    else fields[part.slice(0, part.indexOf(':'))] = part.slice(part.indexOf(':') + 1)
  }

  return {fields, tags, text, title}
}

describeEachBackend('webhook events', (database) => {
  let workspace: Workspace
  const canary = `canary-${randomUUID()}`
  const slack = new SlackFake()
  let agent: Awaited<ReturnType<typeof udpListener>>

  const reconcile = (at: Date, dryRun = false) => reconcileAlerts(database().db, {channels: [], dryRun, now: at})
  const shop = async (tenantId: string, expiresAt: Date, now: Date, into = workspace): Promise<void> => {
    await createTenant(database().db, into, audit, {name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
    await setCredential(database().db, keyring, into, audit, {service: 'shopify', tenantId}, {expiresAt, value: `${canary}-${tenantId}`}, now)
  }

  /** No queued event carries a secret: the credential values, the Slack channel's URL. */
  const expectNoSecret = async (): Promise<void> => {
    const all = JSON.stringify((await queuedSince(database().db)).rows)
    expect(all).not.toContain(canary)
    expect(all).not.toContain(slack.webhookUrl)
  }

  beforeAll(async () => {
    await slack.listen()
    agent = await udpListener()
    workspace = await findWorkspace(database().db, 'default')
  })

  afterAll(async () => {
    await Promise.all([slack.close(), agent.close()])
  })

  beforeEach(async () => {
    await sql`truncate webhook_deliveries, webhook_subscriptions, alert_notifications, alerts, silences, channels, alert_runs, alert_evaluation, alert_input_changes, health_runs, tenants cascade`.execute(database().db)
    await addChannel(database().db, keyring, audit, {name: 'slack', options: local, secret: slack.webhookUrl, type: 'slack'})
    slack.reset()
    agent.datagrams.length = 0
  })

  it('queues alert.fired, escalated and resolved, and credential.expiring at each threshold then credential.expired, in the reconcile\'s transaction', async () => {
    const {db} = database()
    await addSubscription(db, keyring, audit, {...local, events: ['alert.*', 'credential.expiring', 'credential.expired'], name: 'ops', url: 'http://127.0.0.1:9/ops'})
    const t0 = new Date()
    const at = (ms: number) => new Date(t0.getTime() + ms)
    await shop('life', at(10 * DAY + HOUR), t0)

    let seen = 0
    const step = async (when: Date): Promise<QueuedRow[]> => {
      await reconcile(when)
      const {last, rows} = await queuedSince(db, seen)
      seen = last
      return rows
    }

    const fired = await step(t0)
    expect(fired.map((row) => row.event_type)).toEqual(['alert.fired', 'credential.expiring'])
    const alertId = (fired[0]?.payload.data as {alertId: number}).alertId
    expect(fired[0]?.payload).toEqual({
      data: {
        alertId,
        details: {daysLeft: 10, expiresAt: at(10 * DAY + HOUR).toISOString(), label: 'default', service: 'shopify', withinDays: 30},
        fingerprint: expect.stringMatching(/^[\da-f]{32}$/),
        rule: 'credential_expiring',
        severity: 'info',
        silenced: false,
        startedAt: t0.toISOString(),
        summary: 'Shopify credential of Shop life (life) expires in 10 days',
        tenantId: 'life',
        workspace: 'default',
      },
      timestamp: t0.toISOString(),
      type: 'alert.fired',
    })
    expect(fired[1]?.payload.data).toEqual({daysLeft: 10, expiresAt: at(10 * DAY + HOUR).toISOString(), label: 'default', service: 'shopify', severity: 'info', tenantId: 'life', withinDays: 30, workspace: 'default'})

    // Nothing new: nothing queued, and a dry run queues nothing even when something is new.
    expect(await step(at(HOUR))).toEqual([])
    await reconcile(at(4 * DAY), true)
    expect((await queuedSince(db, seen)).rows).toEqual([])

    // Each of the rule's thresholds crossed: an escalation, and the credential's expiring event.
    const warning = await step(at(4 * DAY))
    expect(warning.map((row) => row.event_type)).toEqual(['alert.escalated', 'credential.expiring'])
    expect(warning[0]?.payload.data).toMatchObject({alertId, previousRule: 'credential_expiring', previousSeverity: 'info', rule: 'credential_expiring', severity: 'warning', startedAt: t0.toISOString()})
    expect(warning[1]?.payload.data).toMatchObject({daysLeft: 6, severity: 'warning', withinDays: 7})
    const critical = await step(at(9.5 * DAY))
    expect(critical.map((row) => row.event_type)).toEqual(['alert.escalated', 'credential.expiring'])
    expect(critical[1]?.payload.data).toMatchObject({severity: 'critical', withinDays: 1})
    // The same alert gets worse: credential_expired, at the same severity.
    const expired = await step(at(10 * DAY + 2 * HOUR))
    expect(expired.map((row) => row.event_type)).toEqual(['alert.escalated', 'credential.expired'])
    expect(expired[0]?.payload.data).toMatchObject({alertId, previousRule: 'credential_expiring', previousSeverity: 'critical', rule: 'credential_expired', severity: 'critical'})
    expect(expired[1]?.payload.data).toEqual({daysLeft: 0, expiresAt: at(10 * DAY + HOUR).toISOString(), label: 'default', service: 'shopify', tenantId: 'life', workspace: 'default'})
    expect(await step(at(10 * DAY + 3 * HOUR))).toEqual([])

    // Rotated: the alert resolves.
    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'life'}, {expiresAt: at(400 * DAY), value: `${canary}-new`}, at(10 * DAY + 4 * HOUR))
    const resolved = await step(at(10 * DAY + 4 * HOUR))
    expect(resolved.map((row) => row.event_type)).toEqual(['alert.resolved'])
    expect(resolved[0]?.payload.data).toEqual({
      alertId,
      fingerprint: (fired[0]?.payload.data as {fingerprint: string}).fingerprint,
      resolvedAt: at(10 * DAY + 4 * HOUR).toISOString(),
      rule: 'credential_expired',
      severity: 'critical',
      startedAt: t0.toISOString(),
      summary: 'Shopify credential of Shop life (life) expired 2 hours ago',
      tenantId: 'life',
      workspace: 'default',
    })
    await expectNoSecret()
  })

  it('queues the events of silenced alerts, marked silenced: a silence mutes channels, not subscribers', async () => {
    const {db} = database()
    await addSubscription(db, keyring, audit, {...local, events: ['alert.fired', 'credential.*'], name: 'ops', url: 'http://127.0.0.1:9/ops'})
    const t0 = new Date()
    await createSilence(db, audit, {comment: 'migrating', durationMs: 2 * HOUR, matchers: {tenant: 'quiet'}, now: t0})
    await shop('quiet', new Date(t0.getTime() + 5 * DAY), t0)
    const result = await reconcile(t0)
    expect(result).toMatchObject({new: 1, silenced: 1})
    const {rows} = await queuedSince(db)
    expect(rows.filter((row) => row.event_type !== 'credential.set').map((row) => [row.event_type, row.payload.data.silenced])).toEqual([
      ['alert.fired', true],
      ['credential.expiring', undefined],
    ])
  })

  it('gives a workspace-limited subscription only its workspace\'s alert events, and queues nothing when no subscription wants them', async () => {
    const {db} = database()
    const t0 = new Date()
    const eu = await createWorkspace(db, audit, {slug: `eu-${randomBytes(3).toString('hex')}`})
    await addSubscription(db, keyring, audit, {...local, events: ['alert.fired'], name: 'eu-only', url: 'http://127.0.0.1:9/eu', workspace: eu})
    await addSubscription(db, keyring, audit, {...local, events: ['health.status_changed'], name: 'other', url: 'http://127.0.0.1:9/other'})
    await shop('us', new Date(t0.getTime() + 5 * DAY), t0)
    await shop('de', new Date(t0.getTime() + 5 * DAY), t0, eu)
    expect(await reconcile(t0)).toMatchObject({new: 2, webhookEvents: 1})
    const {rows} = await queuedSince(db)
    expect(rows.map((row) => `${row.name} ${row.event_type} ${row.payload.data.tenantId}`)).toEqual(['eu-only alert.fired de'])
  })

  it('sends a Datadog event when an expiring credential reaches warning, error, and expiry; not on a quiet run, not on a dry run', async () => {
    const {db} = database()
    const t0 = new Date()
    const at = (ms: number) => new Date(t0.getTime() + ms)
    const check = (when: Date, dryRun = false) =>
      checkAlerts(db, {channelEnvironment: channelEnvironment({}), dogstatsd: {host: '127.0.0.1', port: agent.port}, dryRun, keyring, maxWaitMs: 2000, now: () => when})
    // Info (20 days): no Datadog event; a name with a newline and a pipe, and more than ASCII.
    await createTenant(db, workspace, audit, {name: 'Zoë | Müller', shopify_shop: 'dd.myshopify.com', tenant_id: 'dd', type: 'shopify'})
    await setCredential(db, keyring, workspace, audit, {label: 'backup', service: 'shopify', tenantId: 'dd'}, {expiresAt: at(5 * DAY + HOUR), value: `${canary}-dd`}, t0)
    await shop('later', at(20 * DAY), t0)

    await check(t0, true)
    await check(t0)
    const [warning] = await waitFor(() => (agent.datagrams.length >= 1 ? agent.datagrams : undefined), 5000, 'a Datadog event')
    const event = parseEvent(warning as string)
    expect(event.title).toBe('Shopify credential "backup" of dd expiring')
    expect(event.text).toBe(
      'Shopify credential "backup" of Zoë | Müller (dd) expires in 5 days\\nExpires at ' +
        `${at(5 * DAY + HOUR).toISOString()} (5 days left, within 7).\\nTenant dd (Zoë | Müller), workspace default. Rotate it: synthex credentials rotate dd --service shopify --label backup`,
    )
    expect(event.fields).toMatchObject({d: String(Math.floor(t0.getTime() / 1000)), p: 'normal', s: 'synthex', t: 'warning'})
    expect(event.fields.k).toMatch(/^[\da-f]{32}$/)
    expect(event.tags).toEqual(['label:backup', 'rule:credential_expiring', 'service:shopify', 'severity:warning', 'tenant:dd', 'workspace:default'])

    // Quiet runs send nothing; within a day: error, with the same aggregation key; expired: error again.
    await check(at(HOUR))
    await check(at(4.5 * DAY))
    await check(at(5 * DAY + 2 * HOUR))
    await waitFor(() => (agent.datagrams.length >= 3 ? true : undefined), 5000, 'three Datadog events')
    const events = agent.datagrams.map(parseEvent)
    expect(events.map((parsed) => [parsed.fields.t, parsed.fields.k, parsed.title])).toEqual([
      ['warning', event.fields.k, 'Shopify credential "backup" of dd expiring'],
      ['error', event.fields.k, 'Shopify credential "backup" of dd expiring'],
      ['error', event.fields.k, 'Shopify credential "backup" of dd expired'],
    ])
    expect(agent.datagrams.join('\n')).not.toContain(canary)
  })
})

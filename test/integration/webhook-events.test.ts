import {randomBytes, randomUUID} from 'node:crypto'
import {createSocket, type Socket} from 'node:dgram'
import {Readable} from 'node:stream'

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
import {revokeCredential, rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {checkHealth} from '../../src/services/health/health.js'
import {importCredentials} from '../../src/services/import/credential-import.js'
import {changeTenantsFromCsv} from '../../src/services/import/tenant-changes.js'
import {importTenantsCsv} from '../../src/services/import/tenant-import.js'
import {applyShopifyWebhook} from '../../src/services/integrations/shopify-webhooks.js'
import {changeTenantStatus, createTenant, deleteTenant, updateTenant} from '../../src/services/tenants/tenants.js'
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

  it('queues the audited changes as public events: tenant created, updated, status changed, app uninstalled, deleted; credential set, rotated, revoked', async () => {
    const {db} = database()
    await addSubscription(db, keyring, audit, {...local, events: ['tenant.*', 'credential.*'], name: 'crm', url: 'http://127.0.0.1:9/crm'})
    const t0 = new Date()
    await createTenant(db, workspace, audit, {name: 'Acme', shopify_shop: 'acme.myshopify.com', tenant_id: 'acme', type: 'shopify'})
    await updateTenant(db, workspace, audit, 'acme', {name: 'Acme Inc'})
    await changeTenantStatus(db, workspace, audit, 'acme', 'suspended')
    await changeTenantStatus(db, workspace, audit, 'acme', 'active')
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'acme'}, {expiresAt: new Date(t0.getTime() + 90 * DAY), value: `${canary}-1`}, t0)
    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'acme'}, {expiresAt: new Date(t0.getTime() + 180 * DAY), value: `${canary}-2`}, t0)
    await revokeCredential(db, workspace, audit, {service: 'shopify', tenantId: 'acme'}, t0)
    await applyShopifyWebhook(db, {actor: 'shopify', source: 'webhook'}, {shop: 'acme.myshopify.com', topic: 'app/uninstalled', webhookId: randomUUID()})
    await deleteTenant(db, workspace, audit, 'acme')
    // A rolled-back change queues nothing.
    await db
      .transaction()
      .execute(async (trx) => {
        await createTenant(trx, workspace, audit, {name: 'Ghost', shopify_shop: 'ghost.myshopify.com', tenant_id: 'ghost', type: 'shopify'})
        throw new Error('rolled back')
      })
      .catch(() => {})

    const {rows} = await queuedSince(db)
    expect(rows.map((row) => row.event_type)).toEqual([
      'tenant.created',
      'tenant.updated',
      'tenant.status_changed',
      'tenant.status_changed',
      'credential.set',
      'credential.rotated',
      'credential.revoked',
      'tenant.app_uninstalled',
      'tenant.deleted',
    ])
    const data = rows.map((row) => row.payload.data)
    expect(data[0]).toMatchObject({actor: 'alice', fields: {name: 'Acme', tenant_id: 'acme', type: 'shopify'}, id: 'acme', source: 'cli', workspace: 'default'})
    expect(data[1]).toMatchObject({changes: {name: {from: 'Acme', to: 'Acme Inc'}}, id: 'acme'})
    expect(data[2]).toMatchObject({changes: {status: {from: 'active', to: 'suspended'}}, id: 'acme'})
    expect(data[4]).toMatchObject({id: 'acme', label: 'default', service: 'shopify', version: 1})
    expect(data[5]).toMatchObject({id: 'acme', service: 'shopify', version: 2})
    expect(data[7]).toMatchObject({actor: 'shopify', changes: {status: {from: 'active', to: 'inactive'}}, id: 'acme', shop: 'acme.myshopify.com', topic: 'app/uninstalled'})
    expect(data[8]).toMatchObject({id: 'acme', workspace: 'default'})
    await expectNoSecret()
  })

  it('queues one batch.completed per run, with counts and no rows: a large import is one event, a dry run none', async () => {
    const {db} = database()
    await addSubscription(db, keyring, audit, {...local, events: ['tenant.*', 'batch.*'], name: 'crm', url: 'http://127.0.0.1:9/crm'})
    // 25 chunks of 1,000: 25 `tenants.imported` audit events, none of them 1,000 tenant.created events.
    const rows = 25_000
    const lines = ['tenant_id,name,type,shopify_shop']
    for (let index = 0; index < rows; index++) lines.push(`t${index},Tenant ${index},shopify,t${index}.myshopify.com`)
    lines.push('bad id!,Nope,shopify,nope.myshopify.com')
    const csv = `${lines.join('\n')}\n`
    const run = (text: string, options: {atomic?: boolean; dryRun?: boolean} = {}) =>
      database().bulk((session) => importTenantsCsv(session, audit, Readable.from([text]), {chunkSize: 1000, source: 'fleet.csv', workspace, ...options}))

    await run('tenant_id,name,type,shopify_shop\nd1,D,shopify,d1.myshopify.com\n', {dryRun: true})
    expect((await queuedSince(db)).rows).toEqual([])
    const imported = await run(csv)
    expect(imported).toMatchObject({created: rows, rejected: 1})
    const {rows: queued} = await queuedSince(db)
    expect(queued.map((row) => row.event_type)).toEqual(['batch.completed'])
    expect(Number((await sql<{n: number}>`select count(*) as n from events where type = 'tenants.imported' and data->>'run' = ${imported.run}`.execute(db)).rows[0]?.n)).toBe(25)
    expect(queued[0]?.payload.data).toEqual({
      atomic: false,
      batch: 'tenants create',
      committed: true,
      counts: {created: rows, read: rows + 1, rejected: 1, skipped: 0, updated: 0},
      runId: imported.run,
      source: 'fleet.csv',
      workspace: 'default',
    })

    // Atomic and refused: one event, committed false (nothing kept); atomic and clean: committed true.
    await sql`truncate webhook_deliveries`.execute(db)
    await run('tenant_id,name,type,shopify_shop\nx1,X,shopify,x1.myshopify.com\nbad id!,Nope,shopify,nope.myshopify.com\n', {atomic: true})
    await run('tenant_id,name,type,shopify_shop\nx2,X,shopify,x2.myshopify.com\n', {atomic: true})
    const atomic = (await queuedSince(db)).rows.filter((row) => row.event_type === 'batch.completed').map((row) => row.payload.data)
    expect(atomic).toMatchObject([
      {atomic: true, committed: false, counts: {created: 1, rejected: 1}},
      {atomic: true, committed: true, counts: {created: 1, rejected: 0}},
    ])
  })

  it('queues batch.completed for the other batch commands: tenant changes and credentials', async () => {
    const {db} = database()
    await addSubscription(db, keyring, audit, {...local, events: ['batch.completed'], name: 'ops', url: 'http://127.0.0.1:9/ops'})
    for (const id of ['b1', 'b2']) await createTenant(db, workspace, audit, {name: id, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify'})
    await changeTenantsFromCsv(db, audit, Readable.from(['tenant_id\nb1\nb2\nmissing\n']), {kind: 'status', status: 'suspended'}, {source: 'suspend.csv', workspace})
    await importCredentials(db, keyring, audit, Readable.from([`tenant_id,service,value\nb1,shopify,${canary}-b1\n`]), {workspace})
    const data = (await queuedSince(db)).rows.map((row) => row.payload.data)
    expect(data).toMatchObject([
      {batch: 'tenants set-status', committed: true, counts: {changed: 2, read: 3, rejected: 1, unchanged: 0}, source: 'suspend.csv', workspace: 'default'},
      {batch: 'credentials set', committed: true, counts: {created: 1, read: 1, rejected: 0}, workspace: 'default'},
    ])
    expect(String((data[1] as {runId: string}).runId)).toMatch(/^[\da-f-]{36}$/)
    await expectNoSecret()
  })

  it('queues health.status_changed when a recorded health check differs from the previous one, with the checks not healthy', async () => {
    const {db} = database()
    const eu = await createWorkspace(db, audit, {slug: `eu-${randomBytes(3).toString('hex')}`})
    await addSubscription(db, keyring, audit, {...local, events: ['health.*'], name: 'status', url: 'http://127.0.0.1:9/status'})
    await addSubscription(db, keyring, audit, {...local, events: ['*'], name: 'eu-only', url: 'http://127.0.0.1:9/eu', workspace: eu})
    const health = (now: Date) =>
      checkHealth({
        channelEnvironment: channelEnvironment({}),
        cronMaxAgeMs: 15 * 60_000,
        deep: false,
        keyring: () => keyring,
        latencyThresholdMs: 5000,
        now: () => now,
        open: async () => db,
        record: true,
        timeoutMs: 5000,
        workspaceId: async () => workspace.id,
      })
    const t0 = new Date()
    // The first run has nothing to differ from; cron has never run: degraded.
    const first = await health(t0)
    expect(first.status).toBe('degraded')
    expect((await queuedSince(db)).rows).toEqual([])
    expect((await health(t0)).status).toBe('degraded')
    expect((await queuedSince(db)).rows).toEqual([])
    // An expired credential makes it unhealthy.
    await shop('late', new Date(t0.getTime() + HOUR), t0)
    const worse = await health(new Date(t0.getTime() + 2 * HOUR))
    expect(worse.status).toBe('unhealthy')
    const {rows} = await queuedSince(db)
    const changed = rows.filter((row) => row.event_type === 'health.status_changed')
    expect(changed.map((row) => row.name)).toEqual(['status'])
    expect(changed[0]?.payload).toEqual({
      data: {
        checks: worse.checks.filter((check) => check.status !== 'healthy').map(({name, reason, status}) => ({name, reason, status})),
        from: 'degraded',
        startedAt: new Date(t0.getTime() + 2 * HOUR).toISOString(),
        to: 'unhealthy',
      },
      timestamp: new Date(t0.getTime() + 2 * HOUR).toISOString(),
      type: 'health.status_changed',
    })
    expect(changed[0]?.payload.data.checks).toContainEqual({name: 'credentials', reason: expect.stringContaining('1 expired'), status: 'unhealthy'})
    await expectNoSecret()
  })
})

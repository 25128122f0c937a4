import {randomBytes, randomUUID} from 'node:crypto'
import {createServer, type Server} from 'node:net'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import type {Db} from '../../src/db/schema.js'
import {reconcileAlerts} from '../../src/services/alerts/alert-reconcile.js'
import {listAlerts, recordAlertRun} from '../../src/services/alerts/alerts.js'
import {addChannel} from '../../src/services/alerts/channels.js'
import {rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {type CheckOutcome, checkHealth, type HealthOptions, type HealthReport} from '../../src/services/health/health.js'
import {changeTenantStatus, createTenant} from '../../src/services/tenants/tenants.js'
import type {VerificationOutcome} from '../../src/services/verification/verification-result.js'
import {recordVerifications} from '../../src/services/verification/verification-store.js'
import {addSubscription} from '../../src/services/webhooks/subscriptions.js'
import {findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'
import {channelEnvironment, type Environment, providerEnvironment} from '../../src/config/environment.js'

const audit = {actor: 'oncall', source: 'cli'}
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const keyA = {id: 'a', key: randomBytes(32)}
const keyB = {id: 'b', key: randomBytes(32)}
const keyring = new Keyring(keyA)
/** A Slack webhook on 127.0.0.1: the channels check only needs it set; nothing is sent. */
// A stand-in on http://127.0.0.1 needs the address policy's opt-outs.
const SLACK_ENV = {SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/services/T000/B000/XXXX', SYNTHEX_ALLOW_HTTP: '1', SYNTHEX_ALLOW_PRIVATE_NETWORK: '1'}

type CheckName = 'channel env-slack' | 'channels' | 'credential_verification' | 'credentials' | 'cron' | 'database' | 'deliveries' | 'encryption' | 'google api' | 'migrations' | 'shopify api' | 'webhooks'
/** The report's checks by name (a missing one is undefined, and fails the assertion on it). */
const byName = (report: HealthReport) => Object.fromEntries(report.checks.map((check) => [check.name, check])) as Record<CheckName, CheckOutcome>

/** A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describeEachBackend('health check', (database) => {
  let workspace: Workspace
  let listener: Server

  /** `env`: the environment the command would read its channels and provider APIs from. */
  const health = ({env = {}, ...options}: Partial<HealthOptions> & {env?: Environment} = {}): Promise<HealthReport> =>
    checkHealth({
      channelEnvironment: channelEnvironment(env),
      cronMaxAgeMs: 15 * MINUTE,
      deep: false,
      providers: providerEnvironment(env),
      keyring: () => keyring,
      latencyThresholdMs: 5000,
      open: async () => database().db,
      record: true,
      timeoutMs: 5000,
      workspaceId: async () => workspace.id,
      ...options,
    })

  const healthRuns = (db: Db) => db.selectFrom('health_runs').selectAll().orderBy('id').execute()

  const shop = async (tenantId: string, expiresAt: Date, now = new Date()): Promise<void> => {
    await createTenant(database().db, workspace, audit, {name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
    await setCredential(database().db, keyring, workspace, audit, {service: 'shopify', tenantId}, {expiresAt, value: `token-${tenantId}`}, now)
  }

  const heartbeat = (startedAt: Date, dryRun = false) => recordAlertRun(database().db, {dryRun, finishedAt: startedAt, id: randomUUID(), startedAt, summary: {}})

  const notification = (state: 'failed' | 'pending', createdAt: Date, options: {attempts?: number; channel?: string; nextAttemptAt?: Date} = {}) =>
    database()
      .db.insertInto('alert_notifications')
      .values({
        attempts: options.attempts ?? 0,
        channel: options.channel ?? 'ops',
        created_at: createdAt,
        kind: 'firing',
        next_attempt_at: options.nextAttemptAt ?? createdAt,
        payload: '{}',
        run_id: randomUUID(),
        severity: 'warning',
        state,
      })
      .execute()

  beforeAll(async () => {
    workspace = await findWorkspace(database().db, 'default')
    listener = createServer((socket) => socket.end())
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => listener.close(() => resolve()))
  })

  beforeEach(async () => {
    await sql`truncate health_runs, alert_notifications, alerts, alert_runs, channels, tenants, webhook_deliveries, webhook_subscriptions cascade`.execute(database().db)
  })

  it('finds a fresh setup degraded (no channel, cron never ran), records the run, and healthy once both are there', async () => {
    const {db} = database()
    const fresh = await health()
    expect(fresh.status).toBe('degraded')
    expect(fresh.checks.map((check) => check.name)).toEqual(['database', 'migrations', 'encryption', 'credentials', 'credential_verification', 'channels', 'deliveries', 'webhooks', 'cron'])
    expect(byName(fresh)).toMatchObject({
      channels: {reason: 'no channel configured: alerts only go to stderr (synthex alerts channels add)', status: 'degraded'},
      credentials: {reason: 'none expiring', status: 'healthy'},
      cron: {reason: 'alerts check-now has never run: schedule it (see https://github.com/synthex-dev/synthex/blob/main/examples/crontab)', status: 'degraded'},
      database: {status: 'healthy'},
      deliveries: {status: 'healthy'},
      encryption: {reason: 'key present; no credential stored yet', status: 'healthy'},
      migrations: {reason: 'up to date', status: 'healthy'},
      webhooks: {reason: 'no failed or waiting webhook deliveries', status: 'healthy'},
    })
    for (const check of fresh.checks) expect(check.durationMs, check.name).toBeGreaterThanOrEqual(0)

    const [recorded, ...more] = await healthRuns(db)
    expect(more).toEqual([])
    expect(recorded).toMatchObject({status: 'degraded', workspace_id: workspace.id})
    expect((recorded?.checks as Array<{name: string; status: string}>).filter((check) => check.status === 'degraded').map((check) => check.name)).toEqual(['channels', 'cron'])

    await heartbeat(new Date(Date.now() - 5 * MINUTE))
    const healthy = await health({env: SLACK_ENV})
    expect(healthy.status).toBe('healthy')
    expect(byName(healthy).channels).toMatchObject({reason: '1 configured (SLACK_WEBHOOK_URL from the environment)', status: 'healthy'})
    expect(byName(healthy).cron).toMatchObject({reason: 'last alerts check-now 5m ago', status: 'healthy'})
    expect((await healthRuns(db)).map((run) => run.status)).toEqual(['degraded', 'healthy'])

    // A dry run of check-now is not cron running.
    await sql`truncate alert_runs`.execute(db)
    await heartbeat(new Date(), true)
    expect(byName(await health({env: SLACK_ENV})).cron.status).toBe('degraded')
  })

  it('is degraded when a database round trip exceeds the latency threshold', async () => {
    const report = await health({env: SLACK_ENV, latencyThresholdMs: 0})
    expect(byName(report).database).toMatchObject({reason: expect.stringMatching(/^round trip [\d.]+ ms, over 0 ms$/), status: 'degraded'})
    expect(byName(report).database.value?.unit).toBe('ms')
  })

  it('judges credentials by expiry: 3 days left is degraded, expired is unhealthy, a suspended tenant\'s do not count', async () => {
    const t0 = new Date()
    await heartbeat(t0)
    await shop('soon', new Date(t0.getTime() + 3 * DAY + HOUR), t0)
    await shop('later', new Date(t0.getTime() + 60 * DAY + HOUR), t0)

    const expiring = await health({env: SLACK_ENV, now: () => t0})
    expect(byName(expiring).credentials).toMatchObject({reason: '1 expiring within 7 days: see synthex credentials expiring', status: 'degraded', value: {unit: '', value: 3}})
    expect(expiring.status).toBe('degraded')

    // Four days on, that credential has expired: unhealthy, and so is the whole report.
    const later = new Date(t0.getTime() + 4 * DAY)
    await heartbeat(later)
    const expired = await health({env: SLACK_ENV, now: () => later})
    expect(byName(expired).credentials).toMatchObject({reason: '1 expired: see synthex credentials expiring', status: 'unhealthy'})
    expect(expired.status).toBe('unhealthy')
    expect(expired.checks.filter((check) => check.status !== 'healthy').map((check) => check.name)).toEqual(['credentials'])

    // Expired and expiring together: unhealthy, naming both.
    await shop('next', new Date(later.getTime() + 2 * DAY), t0)
    expect(byName(await health({env: SLACK_ENV, now: () => later})).credentials.reason).toBe('1 expired, 1 expiring within 7 days: see synthex credentials expiring')

    // Rotating replaces the expired version: the old one no longer counts.
    await rotateCredential(database().db, keyring, workspace, audit, {service: 'shopify', tenantId: 'soon'}, {expiresAt: new Date(later.getTime() + 90 * DAY), value: 'new'}, later)
    expect(byName(await health({env: SLACK_ENV, now: () => later})).credentials).toMatchObject({reason: '1 expiring within 7 days: see synthex credentials expiring', status: 'degraded'})

    await changeTenantStatus(database().db, workspace, audit, 'next', 'suspended')
    expect(byName(await health({env: SLACK_ENV, now: () => later})).credentials).toMatchObject({reason: 'none expiring within 7 days (next in 56 days)', status: 'healthy'})
  })

  it('counts tenants whose credentials the providers reject or that lack scopes (degraded), and credentials never verified (not held against health)', async () => {
    const {db} = database()
    const t0 = new Date()
    await heartbeat(t0)
    expect(byName(await health({env: SLACK_ENV})).credential_verification).toMatchObject({reason: 'no credential to verify', status: 'healthy', value: {unit: '', value: 0}})
    for (const tenantId of ['v1', 'v2', 'v3', 'v4']) await shop(tenantId, new Date(t0.getTime() + 90 * DAY), t0)
    await setCredential(db, keyring, workspace, audit, {label: 'backup', service: 'shopify', tenantId: 'v2'}, {value: 'token-v2-backup'}, t0)
    const verify = async (tenantId: string, outcome: VerificationOutcome, label = 'default'): Promise<void> => {
      const credential = await db
        .selectFrom('credentials')
        .innerJoin('tenants', 'tenants.id', 'credentials.tenant_id')
        .select(['credentials.id', 'credentials.tenant_id'])
        .where('tenants.tenant_id', '=', tenantId)
        .where('credentials.label', '=', label)
        .where('credentials.rotated_at', 'is', null)
        .executeTakeFirstOrThrow()
      const missing = outcome === 'scopes_missing' ? ['read_orders'] : []
      await recordVerifications(db, null, [
        {
          credentialId: credential.id,
          httpStatus: outcome === 'rejected' ? 401 : 200,
          latencyMs: 80,
          message: null,
          outcome,
          reason: outcome === 'rejected' ? 'revoked_or_invalid' : outcome,
          scopesGranted: [],
          scopesMissing: missing,
          scopesRequired: missing,
          service: 'shopify',
          tenantUuid: credential.tenant_id,
        },
      ])
    }

    expect(byName(await health({env: SLACK_ENV})).credential_verification).toMatchObject({reason: 'none verified yet; 5 never verified (synthex credentials verify)', status: 'healthy'})
    await verify('v1', 'valid')
    await verify('v2', 'valid')
    expect(byName(await health({env: SLACK_ENV})).credential_verification).toMatchObject({reason: '2 verified, none rejected or missing scopes; 3 never verified (synthex credentials verify)', status: 'healthy'})

    // Two credentials of v2 fail, and one of v3: two tenants.
    await verify('v2', 'rejected')
    await verify('v2', 'scopes_missing', 'backup')
    await verify('v3', 'rejected')
    const failing = await health({env: SLACK_ENV})
    expect(byName(failing).credential_verification).toMatchObject({
      reason: '2 tenants with a failing credential (2 rejected by the provider, 1 missing scopes); 1 never verified (synthex credentials verify): see synthex alerts list',
      status: 'degraded',
      value: {unit: '', value: 2},
    })
    expect(failing.status).toBe('degraded')

    // A later valid answer, a rotation and a suspension each take one away.
    await verify('v2', 'valid')
    await rotateCredential(db, keyring, workspace, audit, {label: 'backup', service: 'shopify', tenantId: 'v2'}, {value: 'new'}, t0)
    expect(byName(await health({env: SLACK_ENV})).credential_verification).toMatchObject({status: 'degraded', value: {unit: '', value: 1}})
    await changeTenantStatus(db, workspace, audit, 'v3', 'suspended')
    const healthy = await health({env: SLACK_ENV})
    expect(byName(healthy).credential_verification).toMatchObject({reason: '2 verified, none rejected or missing scopes; 2 never verified (synthex credentials verify)', status: 'healthy', value: {unit: '', value: 0}})
    expect(healthy.status).toBe('healthy')
  })

  it('is unhealthy when the key does not open the newest credential, degraded when only an older key opens it', async () => {
    await shop('sealed', new Date(Date.now() + 90 * DAY))
    expect(byName(await health()).encryption).toMatchObject({reason: 'key present; opened a stored credential', status: 'healthy'})

    const wrong = await health({keyring: () => new Keyring(keyB)})
    expect(byName(wrong).encryption).toMatchObject({reason: expect.stringMatching(/^cannot open a stored credential: /), status: 'unhealthy'})
    expect(byName(wrong).encryption.reason).toContain('tenant sealed')
    expect(wrong.status).toBe('unhealthy')
    expect(byName(await health({keyring: () => new Keyring(undefined)})).encryption.status).toBe('unhealthy')

    const retiring = await health({keyring: () => new Keyring(undefined, [keyA])})
    expect(byName(retiring).encryption).toMatchObject({reason: 'opened a stored credential, but no active key is set to seal new ones (SYNTHEX_ENCRYPTION_KEY)', status: 'degraded'})
  })

  it('is unhealthy when a stored channel\'s secret does not open with the key (alerts could not be sent)', async () => {
    await heartbeat(new Date())
    await addChannel(database().db, keyring, audit, {name: 'ops-slack', options: {allowHttp: true, allowPrivateNetwork: true}, secret: 'http://127.0.0.1:9/services/T/B/X', type: 'slack'})
    expect((await health()).status).toBe('healthy')
    const wrong = await health({keyring: () => new Keyring(keyB)})
    expect(wrong.status).toBe('unhealthy')
    expect(wrong.checks.filter((check) => check.status === 'unhealthy').map((check) => check.reason).join('\n')).toContain('ops-slack')
  })

  it('is degraded by a notification failed in the last day or pending for over an hour, not by older or fresher ones', async () => {
    const now = new Date('2025-06-01T12:00:00.000Z')
    await notification('failed', new Date(now.getTime() - 25 * HOUR))
    await notification('pending', new Date(now.getTime() - 10 * MINUTE))
    expect(byName(await health({now: () => now})).deliveries).toMatchObject({reason: 'no failed or waiting notifications', status: 'healthy', value: {value: 0}})

    await notification('failed', new Date(now.getTime() - HOUR))
    expect(byName(await health({now: () => now})).deliveries).toMatchObject({reason: '1 failed in the last 24 h: see synthex alerts deliveries', status: 'degraded', value: {value: 1}})

    await notification('pending', new Date(now.getTime() - 2 * HOUR))
    expect(byName(await health({now: () => now})).deliveries).toMatchObject({
      reason: '1 failed in the last 24 h, 1 pending on ops since 2025-06-01T10:00:00Z (2h ago, not yet attempted, next attempt due now): see synthex alerts deliveries',
      status: 'degraded',
      value: {value: 2},
    })
  })

  it('is degraded by notifications waiting on their provider, naming the channel, how many, since when and the next attempt', async () => {
    const now = new Date('2025-06-01T12:00:00.000Z')
    // A provider that refused twice and asked to wait (capped at an hour): minutes old, but not healthy.
    await notification('pending', new Date(now.getTime() - 3 * MINUTE), {attempts: 2, channel: 'oncall', nextAttemptAt: new Date(now.getTime() + 55 * MINUTE)})
    await notification('pending', new Date(now.getTime() - 2 * MINUTE), {attempts: 1, channel: 'oncall', nextAttemptAt: new Date(now.getTime() + 58 * MINUTE)})
    // Waiting behind them (an alert's notifications go in order), not yet attempted and fresh: counted once old.
    await notification('pending', new Date(now.getTime() - MINUTE), {channel: 'oncall'})
    const report = await health({env: SLACK_ENV, now: () => now})
    expect(byName(report).deliveries).toMatchObject({
      reason: '2 pending on oncall since 2025-06-01T11:57:00Z (3m ago, 2 attempts failed, next attempt in 55m): see synthex alerts deliveries',
      status: 'degraded',
      value: {unit: '', value: 2},
    })

    for (const channel of ['b', 'c', 'd']) await notification('pending', new Date(now.getTime() - MINUTE), {attempts: 1, channel, nextAttemptAt: new Date(now.getTime() + 90_000)})
    expect(byName(await health({now: () => now})).deliveries.reason).toBe(
      '2 pending on oncall since 2025-06-01T11:57:00Z (3m ago, 2 attempts failed, next attempt in 55m), ' +
        '1 pending on b since 2025-06-01T11:59:00Z (60s ago, 1 attempt failed, next attempt in 90s), ' +
        '1 pending on c since 2025-06-01T11:59:00Z (60s ago, 1 attempt failed, next attempt in 90s), and 1 more channel: see synthex alerts deliveries',
    )
  })

  it('is degraded by webhook deliveries failed in the last day, waiting on their receiver, or held by a subscription a 410 disabled, naming each', async () => {
    const {db} = database()
    const now = new Date('2025-06-01T12:00:00.000Z')
    const subscription = async (name: string) => (await addSubscription(db, keyring, audit, {allowHttp: true, allowPrivateNetwork: true, events: ['*'], name, url: 'http://127.0.0.1:9/hook'})).subscription.id
    const delivery = (subscriptionId: string, state: 'failed' | 'pending' | 'sent', values: {attempts?: number; createdAt: Date; finishedAt?: Date; nextAttemptAt?: Date}) =>
      db
        .insertInto('webhook_deliveries')
        .values({attempts: values.attempts ?? 0, created_at: values.createdAt, event_type: 'tenant.created', finished_at: values.finishedAt ?? null, next_attempt_at: values.nextAttemptAt ?? values.createdAt, payload: '{}', state, subscription_id: subscriptionId})
        .execute()
    const crm = await subscription('crm')
    const erp = await subscription('erp')
    const gone = await subscription('gone')
    // Healthy: sent, failed over a day ago, pending and fresh.
    await delivery(crm, 'sent', {attempts: 1, createdAt: new Date(now.getTime() - HOUR)})
    await delivery(crm, 'failed', {attempts: 9, createdAt: new Date(now.getTime() - 4 * DAY), finishedAt: new Date(now.getTime() - 25 * HOUR)})
    await delivery(erp, 'pending', {createdAt: new Date(now.getTime() - MINUTE)})
    expect(byName(await health({now: () => now})).webhooks).toMatchObject({reason: 'no failed or waiting webhook deliveries', status: 'healthy', value: {value: 0}})

    await delivery(crm, 'failed', {attempts: 12, createdAt: new Date(now.getTime() - 3 * DAY), finishedAt: new Date(now.getTime() - HOUR)})
    await delivery(erp, 'pending', {attempts: 2, createdAt: new Date(now.getTime() - 3 * MINUTE), nextAttemptAt: new Date(now.getTime() + 2 * MINUTE)})
    await delivery(gone, 'pending', {attempts: 1, createdAt: new Date(now.getTime() - 3 * MINUTE)})
    await db.updateTable('webhook_subscriptions').set({disabled_at: now, disabled_reason: 'gone (410)'}).where('id', '=', gone).execute()
    expect(byName(await health({now: () => now})).webhooks).toMatchObject({
      reason:
        '1 failed on crm in the last 24 h, 1 pending on erp since 2025-06-01T11:57:00Z (3m ago, 2 attempts failed, next attempt in 2m), ' +
        'gone disabled (its receiver answered 410 Gone) with 1 waiting: see synthex webhooks deliveries',
      status: 'degraded',
      value: {unit: '', value: 3},
    })
  })

  it('is degraded when the last check-now is older than the cron maximum age (a dead man\'s switch)', async () => {
    const now = new Date()
    await heartbeat(new Date(now.getTime() - 20 * MINUTE))
    expect(byName(await health({now: () => now})).cron).toMatchObject({reason: 'last alerts check-now 20m ago, over 15m: is its cron job running?', status: 'degraded', value: {unit: 's', value: 1200}})
    expect(byName(await health({cronMaxAgeMs: 30 * MINUTE, now: () => now})).cron).toMatchObject({reason: 'last alerts check-now 20m ago', status: 'healthy'})
    await heartbeat(new Date(now.getTime() - MINUTE))
    expect(byName(await health({now: () => now})).cron).toMatchObject({reason: 'last alerts check-now 60s ago', status: 'healthy'})
  })

  it('is unhealthy while a migration is pending, naming it', async () => {
    const {db} = database()
    const last = await sql<{name: string; timestamp: string}>`select name, timestamp from kysely_migration order by name desc limit 1`.execute(db)
    const row = last.rows[0]
    if (!row) throw new Error('no migration applied')
    await sql`delete from kysely_migration where name = ${row.name}`.execute(db)
    try {
      const report = await health({env: SLACK_ENV})
      expect(byName(report).migrations).toMatchObject({reason: `1 pending (${row.name}): run synthex db migrate`, status: 'unhealthy', value: {value: 1}})
      expect(report.status).toBe('unhealthy')
    } finally {
      await sql`insert into kysely_migration (name, timestamp) values (${row.name}, ${row.timestamp})`.execute(db)
    }

    expect(byName(await health()).migrations.status).toBe('healthy')
  })

  it('reports a database that cannot be opened as unhealthy and the other checks as not checked, at once', async () => {
    const before = (await healthRuns(database().db)).length
    const started = performance.now()
    const report = await health({open: () => Promise.reject(new Error('Cannot connect to the database at postgres://127.0.0.1:1/x: connection refused.\nhint'))})
    expect(performance.now() - started).toBeLessThan(1000)
    expect(report.status).toBe('unhealthy')
    const [first, ...rest] = report.checks
    expect(first).toMatchObject({name: 'database', reason: 'Cannot connect to the database at postgres://127.0.0.1:1/x: connection refused.', status: 'unhealthy'})
    expect(rest.map((check) => [check.name, check.status, check.reason])).toEqual(
      ['migrations', 'encryption', 'credentials', 'credential_verification', 'channels', 'deliveries', 'webhooks', 'cron'].map((name) => [name, 'unhealthy', 'not checked: the database is unreachable']),
    )
    expect(await healthRuns(database().db)).toHaveLength(before)
  })

  it('gives up on a database that never opens after the timeout, instead of hanging', async () => {
    const timeoutMs = 800
    const started = performance.now()
    // The CLI records every run (record: true); the whole call must still end in time.
    const report = await Promise.race([
      health({open: () => new Promise<Db>(() => {}), timeoutMs}),
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), timeoutMs + 2000)),
    ])
    const elapsed = performance.now() - started
    if (report === 'still running') throw new Error(`checkHealth had not returned ${Math.round(elapsed)} ms after it started, with a ${timeoutMs} ms timeout`)
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50)
    expect(report.status).toBe('unhealthy')
    expect(byName(report).database).toMatchObject({reason: 'no answer within 0.8 s', status: 'unhealthy'})
    expect(report.checks.slice(1).every((check) => check.reason === 'not checked: the database is unreachable')).toBe(true)
  })

  it('with deep, connects to each channel endpoint and the APIs: a listener is healthy, a closed port unhealthy', async () => {
    const {port} = listener.address() as {port: number}
    const closed = await closedPort()
    await heartbeat(new Date())
    const env = {...SLACK_ENV, SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T/B/X`, SYNTHEX_GOOGLE_API_URL: `http://127.0.0.1:${closed}`, SYNTHEX_SHOPIFY_API_URL: `http://127.0.0.1:${port}`}
    const report = await health({deep: true, env, timeoutMs: 2000})
    expect(report.checks.map((check) => check.name)).toEqual(['database', 'migrations', 'encryption', 'credentials', 'credential_verification', 'channels', 'deliveries', 'webhooks', 'cron', 'channel env-slack', 'shopify api', 'google api'])
    expect(byName(report)['channel env-slack']).toMatchObject({reason: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${port} reachable in [\\d.]+ ms$`)), status: 'healthy'})
    expect(byName(report)['shopify api']).toMatchObject({reason: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${port} reachable in `)), status: 'healthy', value: {unit: 'ms'}})
    expect(byName(report)['google api']).toMatchObject({reason: `127.0.0.1:${closed}: network error: ECONNREFUSED`, status: 'unhealthy'})
    expect(report.status).toBe('unhealthy')

    // Without --deep nothing is probed.
    expect((await health({env})).checks).toHaveLength(9)
  })

  it('raises a critical health_failing alert after 3 unhealthy runs in a row, and resolves it after a healthy one', async () => {
    const {db} = database()
    const t0 = new Date()
    const reconcile = (at: Date) => reconcileAlerts(db, {channels: [], now: at})
    const failing = async () => (await listAlerts(db, {limit: 50})).filter((alert) => alert.rule === 'health_failing')
    await shop('lapsed', new Date(t0.getTime() + DAY), t0)
    const later = new Date(t0.getTime() + 2 * DAY)
    await heartbeat(later)

    for (let run = 1; run <= 3; run++) {
      expect((await health({env: SLACK_ENV, now: () => later})).status).toBe('unhealthy')
      await reconcile(later)
      expect(await failing(), `after ${run} unhealthy runs`).toHaveLength(run < 3 ? 0 : 1)
    }

    const [alert] = await failing()
    expect(alert).toMatchObject({severity: 'critical', state: 'firing', summary: 'health check unhealthy on 3 runs in a row: credentials'})

    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'lapsed'}, {expiresAt: new Date(later.getTime() + 90 * DAY), value: 'renewed'}, later)
    expect((await health({env: SLACK_ENV, now: () => later})).status).toBe('healthy')
    const resolved = await reconcile(later)
    expect(resolved.resolved).toBeGreaterThanOrEqual(1)
    expect(await failing()).toEqual([])
    expect((await listAlerts(db, {limit: 50, state: 'resolved'})).map((row) => row.rule)).toContain('health_failing')
  })
})

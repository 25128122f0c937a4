import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

import {sql} from 'kysely'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {silentServer} from '../fakes/silent-server.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {acquireEmbeddedLock} from '../../src/db/embedded-lock.js'
import {makeHome, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {seedAlerting} from '../helpers/seed-alerting.js'
import {seedFleet} from '../helpers/seed-fleet.js'
import {recordVerifications} from '../../src/services/verification/verification-store.js'

const KEY = randomBytes(32).toString('base64')
const CHECKS = ['database', 'migrations', 'encryption', 'credentials', 'credential_verification', 'channels', 'deliveries', 'webhooks', 'cron']

interface Report {
  checks: Array<{durationMs: number; name: string; reason: string; status: string; value?: {unit: string; value: number}}>
  durationMs: number
  startedAt: string
  status: string
}

const statusOf = (report: Report, name: string): string | undefined => report.checks.find((check) => check.name === name)?.status

describeEachCliBackend('health check from the command line', (target) => {
  // A generous latency threshold and timeout: a busy 2-core CI machine must not turn a
  // reachable database into a degraded one, which these tests do not mean to assert.
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(['health', 'check', '--max-latency', '10s', '--timeout', '20s', ...args], {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s', ...env}})
  const synthex = (args: string[], input?: string) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s'}, input})

  it('passes a fresh setup as degraded with a warning, gates on it with --fail-on degraded, in every format, recording each run', async () => {
    const text = await run([])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^!\s+channels\s+degraded\s+\d+ ms\s+no channel configured/m)
    expect(text.stdout).toMatch(/^!\s+cron\s+degraded\s+\d+ ms\s+alerts check-now has never run/m)
    expect(text.stdout).toMatch(/^✓\s+database\s+healthy\s+/m)
    expect(text.stdout).toMatch(/\n! degraded \(9 checks in \d+ ms\)\n$/)
    expect(text.stderr).toContain('Degraded: channels, cron.')

    const json = await run(['--json'])
    expect(json.code).toBe(0)
    const report = parseJson<Report>(json)
    expect(report.status).toBe('degraded')
    expect(report.checks.map((check) => check.name)).toEqual(CHECKS)
    expect(report.checks.map((check) => check.status)).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'degraded', 'healthy', 'healthy', 'degraded'])
    expect(json.stderr).not.toContain('Degraded')
    const formatted = await run(['--format', 'json', '--fail-on', 'degraded'])
    expect(formatted.code).toBe(3)
    expect(parseJson<Report>(formatted)).toMatchObject({checks: expect.any(Array), status: 'degraded'})

    const prometheus = await run(['--format', 'prometheus'])
    expect(prometheus.code).toBe(0)
    expect(prometheus.stdout).toMatch(/^synthex_health_status 0\.5$/m)
    expect(prometheus.stdout).toMatch(/^synthex_health_check_status\{check="channels"\} 0\.5$/m)
    expect(prometheus.stdout).toMatch(/^synthex_health_check_status\{check="database"\} 1$/m)

    const nagios = await run(['--format', 'nagios'])
    expect(nagios.code).toBe(1)
    expect(nagios.stdout).toMatch(/^SYNTHEX WARNING - channels: no channel configured[^|\n]*; cron: alerts check-now has never run[^|\n]* \| 'database'=[\d.]+ms 'migrations'=0 [^\n]*\n$/)

    const recorded = await withDatabase(target(), (db) => db.selectFrom('health_runs').select(['status', 'workspace_id']).orderBy('id').execute())
    expect(recorded.map((row) => row.status)).toEqual(Array.from({length: 5}, () => 'degraded'))
    expect(recorded.every((row) => row.workspace_id !== null)).toBe(true)
  })

  it('watches cron: healthy right after alerts check-now, degraded once it is older than --cron-max-age', async () => {
    const slack = {SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/services/T000/B000/XXXX'}
    expect((await synthex(['alerts', 'check-now'])).code).toBe(0)
    const ranAt = Date.now()

    const fresh = await run(['--json'], slack)
    const report = parseJson<Report>(fresh)
    expect(report.checks.find((check) => check.name === 'cron')).toMatchObject({reason: expect.stringMatching(/^last alerts check-now \d+s ago$/), status: 'healthy'})
    expect(report.status).toBe('healthy')
    const ok = await run(['--format', 'nagios'], slack)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^SYNTHEX OK - 9 checks healthy \| 'database'=[\d.]+ms [^\n]*'cron'=\d+s\n$/)

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, ranAt + 1500 - Date.now())))
    const warning = await run(['--format', 'nagios', '--cron-max-age', '1s'], slack)
    expect(warning.code).toBe(1)
    expect(warning.stdout).toMatch(/^SYNTHEX WARNING - cron: last alerts check-now \d+s ago, over 1s: is its cron job running\? \| /)
  })

  it('fails on an expired credential: exit 3, and CRITICAL with exit 2 for nagios', async () => {
    await seedFleet(target(), {
      credentials: [{expiresAt: new Date(Date.now() + 3 * 86_400_000), service: 'shopify', tenantId: 'lapsed', value: 'shpat_lapsed'}],
      encryptionKey: KEY,
      tenants: [{name: 'Lapsed', shopify_shop: 'lapsed.myshopify.com', tenant_id: 'lapsed', type: 'shopify'}],
    })

    // Three days left: degraded.
    const expiring = await run(['--json'])
    expect(expiring.code).toBe(0)
    expect(statusOf(parseJson<Report>(expiring), 'credentials')).toBe('degraded')

    await withDatabase(target(), (db) => sql`update credentials set expires_at = now() - interval '1 day'`.execute(db))
    const text = await run([])
    expect(text.code).toBe(3)
    expect(text.stdout).toMatch(/^✗\s+credentials\s+unhealthy\s+\d+ ms\s+1 expired: see synthex credentials expiring$/m)
    expect(text.stdout).toMatch(/\n✗ unhealthy \(9 checks in \d+ ms\)\n$/)
    expect((await run(['--format', 'prometheus'])).code).toBe(3)

    const nagios = await run(['--format', 'nagios'])
    expect(nagios.code).toBe(2)
    expect(nagios.stdout).toMatch(/^SYNTHEX CRITICAL - credentials: 1 expired: see synthex credentials expiring; channels: no channel configured[^|\n]* \| [^\n]*\n$/)
  })

  it('is degraded by a credential the provider rejects, in every format, naming how many tenants; never verified is no failure', async () => {
    const slack = {SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/services/T000/B000/XXXX'}
    // No tenant or alert of another test here: this one counts them.
    await withDatabase(target(), (db) => sql`truncate tenants, alerts cascade`.execute(db))
    await seedFleet(target(), {
      credentials: [{service: 'shopify', tenantId: 'gone', value: 'shpat_gone_canary'}],
      encryptionKey: KEY,
      tenants: [{name: 'Gone', shopify_shop: 'gone.myshopify.com', tenant_id: 'gone', type: 'shopify'}],
    })
    expect((await synthex(['alerts', 'check-now'])).code).toBe(0)
    const unverified = parseJson<Report>(await run(['--json'], slack))
    expect(unverified.checks.find((check) => check.name === 'credential_verification')).toMatchObject({reason: 'none verified yet; 1 never verified (synthex credentials verify)', status: 'healthy'})
    expect(unverified.status).toBe('healthy')

    // What `credentials verify` records of a 401.
    await withDatabase(target(), async (db) => {
      const credential = await db.selectFrom('credentials').select(['id', 'tenant_id']).executeTakeFirstOrThrow()
      await recordVerifications(db, null, [
        {credentialId: credential.id, httpStatus: 401, latencyMs: 95, message: '[API] Invalid API key or access token', outcome: 'rejected', reason: 'revoked_or_invalid', scopesGranted: null, scopesMissing: [], scopesRequired: ['read_products'], service: 'shopify', tenantUuid: credential.tenant_id},
      ])
    })
    const reason = '1 tenant with a failing credential (1 rejected by the provider): see synthex alerts list'
    const text = await run([], slack)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^!\s+credential_verification\s+degraded\s+\d+ ms\s+1 tenant with a failing credential \(1 rejected by the provider\): see synthex alerts list$/m)
    expect(text.stderr).toContain('Degraded: credential_verification.')
    expect((await run(['--fail-on', 'degraded'], slack)).code).toBe(3)
    const json = parseJson<Report>(await run(['--json'], slack))
    expect(json.checks.find((check) => check.name === 'credential_verification')).toMatchObject({reason, status: 'degraded', value: {unit: '', value: 1}})
    const prometheus = await run(['--format', 'prometheus'], slack)
    expect(prometheus.stdout).toMatch(/^synthex_health_check_status\{check="credential_verification"\} 0\.5$/m)
    const nagios = await run(['--format', 'nagios'], slack)
    expect(nagios.code).toBe(1)
    expect(nagios.stdout).toMatch(/^SYNTHEX WARNING - credential_verification: 1 tenant with a failing credential \(1 rejected by the provider\): see synthex alerts list \| [^\n]*'credential_verification'=1 [^\n]*\n$/)
    for (const output of [text.stdout, text.stderr, JSON.stringify(json), prometheus.stdout, nagios.stdout]) expect(output).not.toContain('shpat_gone_canary')
  })

  it('says UNKNOWN with exit 3 for nagios when it cannot check at all, here a bad flag value', async () => {
    for (const format of [['--format', 'nagios'], ['--format=nagios']]) {
      const unknown = await run([...format, '--timeout', 'soon'])
      expect(unknown.code).toBe(3)
      expect(unknown.stdout).toMatch(/^SYNTHEX UNKNOWN - .*--timeout.*\n$/)
    }

    expect((await run(['--timeout', 'soon'])).code).toBe(2)
  })
})

describe('health check against a database that does not answer', () => {
  it('is unhealthy at once when nothing listens on the server\'s port', async () => {
    const home = await makeHome({fresh: true})
    const started = Date.now()
    const result = await runCli(['health', 'check', '--json', '--database-url', 'postgres://synthex@127.0.0.1:1/none'], {env: {SYNTHEX_HOME: home}})
    const elapsed = Date.now() - started
    expect(result.code).toBe(3)
    const report = parseJson<Report>(result)
    expect(report.status).toBe('unhealthy')
    expect(report.checks[0]).toMatchObject({name: 'database', reason: expect.stringContaining('connection refused'), status: 'unhealthy'})
    expect(report.checks.slice(1).map((check) => check.reason)).toEqual(Array.from({length: 8}, () => 'not checked: the database is unreachable'))
    expect(elapsed).toBeLessThan(8000)

    const nagios = await runCli(['health', 'check', '--format', 'nagios'], {env: {DATABASE_URL: 'postgres://synthex@127.0.0.1:1/none', SYNTHEX_HOME: home}})
    expect(nagios.code).toBe(2)
    expect(nagios.stdout).toMatch(/^SYNTHEX CRITICAL - database: Cannot connect to the database at postgres:\/\/synthex@127\.0\.0\.1:1\/none: connection refused[^\n|]*\n$/)
  })

  it('gives up after --timeout on a server that accepts connections and never answers', async () => {
    const silent = await silentServer()
    const {port} = silent
    try {
      const started = Date.now()
      const result = await runCli(['health', 'check', '--timeout', '2s'], {env: {DATABASE_URL: `postgres://synthex@127.0.0.1:${port}/none`, SYNTHEX_HOME: await makeHome({fresh: true})}, timeoutMs: 30_000})
      const elapsed = Date.now() - started
      expect(result.signal).toBeNull()
      expect(result.code).toBe(3)
      expect(result.stdout).toMatch(/^✗\s+database\s+unhealthy\s+\d+ ms\s+(no answer within 2 s|Cannot connect to the database at .*: connection timed out\.)$/m)
      expect(result.stdout).toMatch(/^✗\s+cron\s+unhealthy\s+\d+ ms\s+not checked: the database is unreachable$/m)
      expect(elapsed).toBeGreaterThanOrEqual(2000)
      expect(elapsed).toBeLessThan(8000)
    } finally {
      await silent.close()
    }
  })

  it('gives up after --timeout when another process holds the embedded database', async () => {
    const home = await makeHome()
    const lock = await acquireEmbeddedLock(join(home, 'pgdata'), {command: 'credentials rekey', timeoutMs: 1000})
    try {
      const started = Date.now()
      // The lock wait (10 s by default) is longer than the check's timeout: the probe must not wait for it.
      const result = await runCli(['health', 'check', '--format', 'nagios', '--timeout', '2s'], {env: {SYNTHEX_HOME: home}, timeoutMs: 30_000})
      const elapsed = Date.now() - started
      expect(result.code).toBe(2)
      // It names who holds the database, rather than only that nothing answered.
      expect(result.stdout).toMatch(/^SYNTHEX CRITICAL - database: The embedded database [^\n]*in use by[^\n]*\n$/)
      expect(elapsed, `health check --timeout 2s took ${elapsed} ms`).toBeLessThan(8000)
    } finally {
      lock.release()
    }
  })
})

describeEachCliBackend('health check of notifications parked by their provider', (target) => {
  const slack = new SlackFake()
  const synthex = (args: string[]) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s'}})

  beforeAll(async () => {
    await slack.listen()
  })

  afterAll(async () => {
    await slack.close()
  })

  it('reports a notification a provider parked with Retry-After: 999999 or a date in 9999 (waiting an hour at most), and sends the resolve at once', async () => {
    await seedAlerting(target(), KEY, {idleTenants: ['idle'], slack: {'oncall-slack': slack.webhookUrl, 'ops-slack': slack.webhookUrl}})
    slack.failNext({body: 'rate_limited', headers: {'retry-after': '999999'}, status: 429}, {body: 'busy', headers: {'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT'}, status: 503})
    const checked = await synthex(['alerts', 'check-now', '--json', '--max-wait', '2s'])
    expect(checked.code, checked.stderr).toBe(0)
    expect(parseJson<{pendingRetry: number; sent: number}>(checked)).toMatchObject({pendingRetry: 2, sent: 0})

    const health = await synthex(['health', 'check', '--json', '--max-latency', '10s', '--timeout', '20s'])
    const parked = parseJson<Report>(health).checks.find((check) => check.name === 'deliveries')
    expect(parked?.status).toBe('degraded')
    const since = String.raw`since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s ago, 1 attempt failed, next attempt in (59|60)m\)`
    expect(parked?.reason).toMatch(new RegExp(`^1 pending on oncall-slack ${since}, 1 pending on ops-slack ${since}: see synthex alerts deliveries$`))

    // The alert resolves while its trigger is parked: the trigger is superseded and the resolve goes now, not in an hour.
    await withDatabase(target(), (db) => sql`update alert_rules set params = '{"days": 120}' where name = 'tenant_inactive'`.execute(db))
    const resolved = await synthex(['alerts', 'check-now', '--json', '--max-wait', '2s'])
    expect(parseJson<{pendingRetry: number; resolved: number; sent: number}>(resolved)).toMatchObject({pendingRetry: 0, resolved: 1, sent: 2})
    expect(slack.messages.map((message) => message.text.split('\n')[0])).toEqual([expect.stringMatching(/resolved/i), expect.stringMatching(/resolved/i)])
  })
})

import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {createServer as createHttpServer, type IncomingHttpHeaders} from 'node:http'
import {join} from 'node:path'

import {afterAll, beforeAll, expect, inject, it} from 'vitest'

import {PushgatewayFake} from '../fakes/pushgateway-fake.js'
import {runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {parseExposition} from '../helpers/exposition.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {recordVerifications} from '../../src/services/verification/verification-store.js'
import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import {addSubscription} from '../../src/services/webhooks/subscriptions.js'
import {WebhookReceiverFake} from '../fakes/webhook-receiver-fake.js'

const KEY = randomBytes(32).toString('base64')

/**
 * What Prometheus would refuse or `promtool check metrics` would lint in an exposition
 * (test/helpers/exposition.ts): empty when the text is clean.
 */
function problems(text: string): string[] {
  return parseExposition(text).problems
}

/** Every family's `# TYPE` line and how many samples follow it. */
function samplesPerFamily(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  let current: string | undefined
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\w+) /.exec(line)
    if (type?.[1]) {
      current = type[1]
      counts.set(current, 0)
    } else if (current && line && !line.startsWith('#')) {
      counts.set(current, (counts.get(current) ?? 0) + 1)
    }
  }

  return counts
}

/** The value of the sample of `name` whose labels include all of `labels` (in any order, among others). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }

  return undefined
}

describeEachCliBackend('metrics', (target) => {
  const run = (args: string[], input?: string) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s'}, input})
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await run(args, input)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    return result.stdout
  }

  const receiver = new WebhookReceiverFake()
  afterAll(() => receiver.close())

  beforeAll(async () => {
    // Figures in every family: tenants of two types, credentials (one expiring soon, so an
    // alert fires), a check-now run (the heartbeat), a health check, and the commands themselves.
    const tenant = (id: string, type: string, extra: string[]) => ok(['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', type, ...extra])
    await tenant('m1', 'shopify', ['--shopify-shop', 'm1.myshopify.com'])
    // A webhook subscription whose receiver refuses the first delivery for an hour: one sent, one pending.
    await receiver.listen()
    receiver.failNext({headers: {'retry-after': '3600'}, status: 503})
    const key = Buffer.from(KEY, 'base64')
    await withDatabase(target(), (db) =>
      addSubscription(db, new Keyring({id: derivedKeyId(key), key}), {actor: 'test', source: 'cli'}, {allowHttp: true, allowPrivateNetwork: true, events: ['tenant.created'], name: 'crm', url: `${receiver.url}/hook`}),
    )
    await tenant('m2', 'shopify', ['--shopify-shop', 'm2.myshopify.com'])
    await tenant('m3', 'google_merchant', ['--gmc-merchant-id', '123456'])
    await ok(['credentials', 'set', 'm1', '--service', 'shopify', '--value-stdin', '--expires-in', '5d'], 'shpat_m1')
    await ok(['credentials', 'set', 'm2', '--service', 'shopify', '--value-stdin', '--expires-in', '90d'], 'shpat_m2')
    await ok(['alerts', 'check-now'])
    expect((await run(['health', 'check', '--max-latency', '10s', '--timeout', '20s'])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'get', 'missing'])).code).toBe(1)
    // What `credentials verify` records: m1's token rejected (after a fast valid answer
    // earlier), m2's valid after a timeout; m3's Merchant Center key never verified.
    await ok(['credentials', 'set', 'm3', '--service', 'gmc', '--value-stdin'], '{"type":"service_account"}')
    await withDatabase(target(), async (db) => {
      const credentials = await db.selectFrom('credentials').innerJoin('tenants', 'tenants.id', 'credentials.tenant_id').select(['credentials.id', 'credentials.tenant_id', 'tenants.tenant_id as tenant']).execute()
      const of = (tenant: string) => credentials.find((row) => row.tenant === tenant) as {id: string; tenant_id: string}
      const answer = (tenant: string, outcome: 'rejected' | 'timeout' | 'valid', latencyMs: number, minutesAgo: number) => ({
        credentialId: of(tenant).id,
        httpStatus: outcome === 'timeout' ? null : outcome === 'valid' ? 200 : 401,
        latencyMs,
        message: outcome === 'rejected' ? '[API] Invalid API key or access token (shpat_m1)' : null,
        outcome,
        reason: outcome === 'rejected' ? 'revoked_or_invalid' : outcome === 'valid' ? 'ok' : 'timeout',
        scopesGranted: null,
        scopesMissing: [],
        scopesRequired: ['read_products'],
        service: 'shopify',
        tenantUuid: of(tenant).tenant_id,
        verifiedAt: new Date(Date.now() - minutesAgo * 60_000),
      })
      await recordVerifications(db, null, [answer('m1', 'valid', 40, 30), answer('m2', 'timeout', 10_000, 30)])
      await recordVerifications(db, null, [answer('m1', 'rejected', 300, 1), answer('m2', 'valid', 700, 1)])
    })
  })

  it('prints an exposition Prometheus accepts, with a sample in every family and the right figures', async () => {
    const text = await ok(['metrics'])
    expect(problems(text)).toEqual([])

    const families = samplesPerFamily(text)
    expect([...families.keys()]).toEqual([
      'synthex_tenants',
      'synthex_credentials',
      'synthex_credential_next_expiry_seconds',
      'synthex_alerts_firing',
      'synthex_alert_deliveries',
      'synthex_webhook_deliveries',
      'synthex_api_denied_requests_total',
      'synthex_alerts_last_run_timestamp_seconds',
      'synthex_command_runs_total',
      'synthex_command_errors_total',
      'synthex_command_duration_seconds',
      'synthex_health_status',
      'synthex_health_check_status',
      'synthex_credential_verifications',
      'synthex_credential_verification_latency_seconds',
      'synthex_tenants_verification_failing',
    ])
    expect([...families].filter(([, count]) => count === 0).map(([name]) => name)).toEqual([])

    expect(sample(text, 'synthex_tenants', {status: 'active', type: 'shopify', workspace: 'default'})).toBe(2)
    expect(sample(text, 'synthex_tenants', {status: 'active', type: 'google_merchant', workspace: 'default'})).toBe(1)
    expect(sample(text, 'synthex_credentials', {status: 'expiring', workspace: 'default'})).toBe(1)
    expect(sample(text, 'synthex_credentials', {status: 'ok', workspace: 'default'})).toBe(2)
    const nextExpiry = sample(text, 'synthex_credential_next_expiry_seconds')
    expect(nextExpiry).toBeGreaterThan(4.9 * 86_400)
    expect(nextExpiry).toBeLessThanOrEqual(5 * 86_400)
    expect(sample(text, 'synthex_alerts_firing', {severity: 'warning'})).toBe(1)
    expect(sample(text, 'synthex_alerts_firing', {severity: 'critical'})).toBe(0)
    expect(['pending', 'sent', 'failed'].map((state) => sample(text, 'synthex_webhook_deliveries', {state, subscription: 'crm'}))).toEqual([1, 1, 0])
    expect(receiver.received).toHaveLength(2)
    const lastRun = sample(text, 'synthex_alerts_last_run_timestamp_seconds') ?? 0
    expect(Math.abs(lastRun - Date.now() / 1000)).toBeLessThan(600)
    expect(sample(text, 'synthex_command_runs_total', {command: 'tenant tenants create'})).toBe(3)
    expect(sample(text, 'synthex_command_errors_total', {command: 'tenant tenants create'})).toBe(0)
    expect(sample(text, 'synthex_command_runs_total', {command: 'tenant tenants get'})).toBe(1)
    expect(sample(text, 'synthex_command_errors_total', {command: 'tenant tenants get'})).toBe(1)
    expect(sample(text, 'synthex_command_duration_seconds_count', {command: 'tenant tenants create'})).toBe(3)
    expect(sample(text, 'synthex_command_duration_seconds_bucket', {command: 'tenant tenants create', le: '+Inf'})).toBe(3)
    expect(sample(text, 'synthex_command_duration_seconds_sum', {command: 'tenant tenants create'})).toBeGreaterThan(0)
    // The health check: no channel configured, so degraded.
    expect(sample(text, 'synthex_health_status')).toBe(0.5)
    expect(sample(text, 'synthex_health_check_status', {check: 'channels'})).toBe(0.5)
    expect(sample(text, 'synthex_health_check_status', {check: 'database'})).toBe(1)

    // Verification: each active credential by its latest outcome, every outcome present.
    const verifications = (service: string) =>
      Object.fromEntries(['valid', 'scopes_missing', 'rejected', 'throttled', 'timeout', 'error', 'unverified'].map((outcome) => [outcome, sample(text, 'synthex_credential_verifications', {outcome, service, workspace: 'default'})]))
    expect(verifications('shopify')).toEqual({error: 0, rejected: 1, scopes_missing: 0, throttled: 0, timeout: 0, unverified: 0, valid: 1})
    expect(verifications('gmc')).toEqual({error: 0, rejected: 0, scopes_missing: 0, throttled: 0, timeout: 0, unverified: 1, valid: 0})
    // Latencies of all four answers stored, by outcome: valid 40 ms and 700 ms.
    const valid = {outcome: 'valid', service: 'shopify'}
    expect(['0.05', '0.1', '0.25', '0.5', '1', '2', '5', '10', '+Inf'].map((le) => sample(text, 'synthex_credential_verification_latency_seconds_bucket', {...valid, le}))).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 2])
    expect(sample(text, 'synthex_credential_verification_latency_seconds_sum', valid)).toBeCloseTo(0.74, 6)
    expect(sample(text, 'synthex_credential_verification_latency_seconds_count', valid)).toBe(2)
    expect(sample(text, 'synthex_credential_verification_latency_seconds_bucket', {le: '5', outcome: 'timeout', service: 'shopify'})).toBe(0)
    expect(sample(text, 'synthex_credential_verification_latency_seconds_bucket', {le: '10', outcome: 'timeout', service: 'shopify'})).toBe(1)
    expect(sample(text, 'synthex_credential_verification_latency_seconds_count', {outcome: 'rejected', service: 'shopify'})).toBe(1)
    expect(sample(text, 'synthex_tenants_verification_failing', {workspace: 'default'})).toBe(1)
    // Neither a credential nor a provider's message is ever a label or a value.
    expect(text).not.toContain('shpat_m1')
    expect(text).not.toContain('Invalid API key')
  })

  it('prints health as metrics Prometheus accepts', async () => {
    const result = await run(['health', 'check', '--format', 'prometheus', '--max-latency', '10s', '--timeout', '20s'])
    expect(result.code, result.stderr).toBe(0)
    expect(problems(result.stdout)).toEqual([])
    expect(sample(result.stdout, 'synthex_health_check_status', {check: 'credentials'})).toBe(0.5)
    expect(sample(result.stdout, 'synthex_health_check_duration_seconds', {check: 'database'})).toBeGreaterThanOrEqual(0)
  })

  it('writes a textfile atomically: a file Prometheus accepts, and no temporary file left', async () => {
    const directory = mkdtempSync(join(inject('scratch'), 'textfile-'))
    const path = join(directory, 'synthex.prom')
    const result = await run(['metrics', '--textfile', path])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`Wrote 16 metrics to ${path}.`)
    expect(readdirSync(directory)).toEqual(['synthex.prom'])
    const text = readFileSync(path, 'utf8')
    expect(problems(text)).toEqual([])
    expect(sample(text, 'synthex_tenants', {status: 'active', type: 'shopify', workspace: 'default'})).toBe(2)

  })

  it('leaves no temporary file beside the textfile when it cannot be written', async () => {
    const directory = mkdtempSync(join(inject('scratch'), 'textfile-'))
    // The path is taken by a directory: the temporary file can be written, the rename cannot.
    const path = join(directory, 'synthex.prom')
    mkdirSync(path)
    const refused = await run(['metrics', '--textfile', path])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`Cannot write ${path}`)
    expect(readdirSync(directory)).toEqual(['synthex.prom'])
  })

  it('pushes to a Pushgateway, which then serves the figures under job "synthex"', async () => {
    const gateway = await new PushgatewayFake().listen()
    const gatewayUrl = gateway.url
    const pushed = await run(['metrics', '--push', gatewayUrl, '--json'])
    expect(pushed.code, pushed.stderr).toBe(0)
    expect(JSON.parse(pushed.stdout)).toMatchObject({pushed: gatewayUrl})
    const served = await (await fetch(`${gatewayUrl}/metrics`)).text()
    expect(sample(served, 'synthex_tenants', {job: 'synthex', status: 'active', type: 'shopify', workspace: 'default'})).toBe(2)
    expect(sample(served, 'synthex_tenants', {job: 'synthex', status: 'active', type: 'google_merchant', workspace: 'default'})).toBe(1)
    expect(sample(served, 'synthex_alerts_firing', {job: 'synthex', severity: 'warning'})).toBe(1)
    expect(sample(served, 'synthex_health_status', {job: 'synthex'})).toBe(0.5)
    expect(sample(served, 'push_failure_time_seconds', {job: 'synthex'})).toBe(0)

    // A URL naming its own job keeps it; a push replaces the group's figures (PUT).
    const nightly = await run(['metrics', '--push', `${gatewayUrl}/metrics/job/nightly`])
    expect(nightly.code, nightly.stderr).toBe(0)
    expect(nightly.stderr).toContain(`Pushed 16 metrics to the Pushgateway at ${gatewayUrl}/metrics/job/nightly.`)
    await ok(['tenant', 'tenants', 'create', '--tenant-id', 'm4', '--name', 'Tenant m4', '--type', 'shopify', '--shopify-shop', 'm4.myshopify.com'])
    expect((await run(['metrics', '--push', `${gatewayUrl}/`])).code).toBe(0)
    const after = await (await fetch(`${gatewayUrl}/metrics`)).text()
    expect(sample(after, 'synthex_tenants', {job: 'synthex', status: 'active', type: 'shopify'})).toBe(3)
    expect(sample(after, 'synthex_tenants', {job: 'nightly', status: 'active', type: 'shopify'})).toBe(2)

    await gateway.close()
    const unreachable = await run(['metrics', '--push', gatewayUrl])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain(`Cannot reach the Pushgateway at ${gatewayUrl}/metrics/job/synthex`)
  })

  it('pushes to a Pushgateway behind basic auth given in the URL, never printing the password', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`
    const received: Array<{headers: IncomingHttpHeaders; method: string | undefined; url: string | undefined}> = []
    // A Pushgateway's answers behind a proxy that asks for basic auth (401 without it).
    const proxy = createHttpServer((request, response) => {
      received.push({headers: request.headers, method: request.method, url: request.url})
      request.resume()
      request.on('end', () => {
        const authorised = request.headers.authorization === `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`
        response.writeHead(authorised ? 200 : 401, authorised ? {} : {'www-authenticate': 'Basic realm="pushgateway"'})
        response.end(authorised ? '' : 'Unauthorized\n')
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const {port} = proxy.address() as {port: number}
    try {
      const pushed = await run(['metrics', '--push', `http://ops:${password}@127.0.0.1:${port}`, '--json'])
      expect(pushed.stdout + pushed.stderr).not.toContain(password)
      expect(pushed.code, pushed.stdout).toBe(0)
      expect(received.map((request) => [request.method, request.url])).toEqual([['PUT', '/metrics/job/synthex']])
      expect(JSON.parse(pushed.stdout)).toMatchObject({pushed: `http://127.0.0.1:${port}`})
      // The password was on the command line, for every local user to see: said, never shown.
      expect(pushed.stderr).toContain('Warning: --push holds a password, which other users can see in the process list; set SYNTHEX_PUSHGATEWAY_USER and SYNTHEX_PUSHGATEWAY_PASSWORD instead.')

      // From the environment instead: the same push, and nothing to warn about.
      const fromEnvironment = await runCli(['metrics', '--push', `http://127.0.0.1:${port}`], {
        env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s', SYNTHEX_PUSHGATEWAY_PASSWORD: password, SYNTHEX_PUSHGATEWAY_USER: 'ops'},
      })
      expect(fromEnvironment.code, fromEnvironment.stderr).toBe(0)
      expect(fromEnvironment.stderr).not.toContain('Warning')
      expect(fromEnvironment.stdout + fromEnvironment.stderr).not.toContain(password)
      expect(received.map((request) => request.headers.authorization)).toEqual([expect.stringMatching(/^Basic /), expect.stringMatching(/^Basic /)])
    } finally {
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})

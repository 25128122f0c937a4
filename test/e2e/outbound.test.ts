import {randomBytes, randomUUID} from 'node:crypto'

import {sql} from 'kysely'
import {afterEach, beforeAll, beforeEach, expect, it} from 'vitest'

import type {DatabaseTarget} from '../../src/config/settings.js'
import {loadKeyring} from '../../src/crypto/load-keyring.js'
import type {Db} from '../../src/db/schema.js'
import {addChannel, type ChannelInput} from '../../src/services/alerts/channels.js'
import {FloodServer} from '../fakes/flood-server.js'
import {type Answer, HttpFake} from '../fakes/http-fake.js'
import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SendGridFake} from '../fakes/sendgrid-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {type CliResult, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {columnsContaining, withDatabase} from '../helpers/inspect-database.js'

const KEY = randomBytes(32).toString('base64')
/** A spawned CLI's environment without the test helpers' opt-outs: the policy as users get it. */
const STRICT = {SYNTHEX_ALLOW_HTTP: undefined, SYNTHEX_ALLOW_PRIVATE_NETWORK: undefined}
const HOUR = 3_600_000
/** The key the spawned CLI has, for channels set up from the test. */
const {keyring} = loadKeyring({encryptionKey: KEY}, {kind: 'server', setting: 'DATABASE_URL', url: ''} satisfies DatabaseTarget, {createKeyFile: false})
/** The stand-in providers listen on http://127.0.0.1. */
const local = {allowHttp: true, allowPrivateNetwork: true}

/** Anything that answers 200: a webhook receiver, or the host a redirect points to. */
class Receiver extends HttpFake {
  protected answer(): Answer {
    return {body: 'ok', status: 200}
  }
}

interface Delivery {
  attempts: number
  channel: string
  lastError: null | string
  nextAttemptAt: string
  providerResponse: null | string
  state: string
}

interface CheckResult {
  failed: number
  pendingRetry: number
  sent: number
}

/**
 * Alerts delivered to hostile providers and channel URLs that point where they should not,
 * through the built CLI on both backends: redirects, floods, absurd Retry-After values,
 * addresses inside the network, user:password@ URLs. Every output and every stored row is
 * scanned for the test's secrets.
 */
describeEachCliBackend('outbound delivery against hostile providers', (target) => {
  const outputs: CliResult[] = []
  const fakes: Array<{close(): Promise<void>}> = []
  const run = async (args: string[], options: {env?: Record<string, string | undefined>; input?: string} = {}): Promise<CliResult> => {
    const result = await runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s', ...options.env}, input: options.input})
    outputs.push(result)
    return result
  }

  const started = async <T extends {close(): Promise<void>; listen(): Promise<T>}>(fake: T): Promise<T> => {
    fakes.push(fake)
    return fake.listen()
  }

  /**
   * Channels as `alerts channels add` stores them, added from the test (one database
   * opening rather than a CLI run each: what is under test is their delivery); `then`
   * changes the database further in the same opening.
   */
  const addChannels = async (inputs: ChannelInput[], then?: (db: Db) => Promise<unknown>): Promise<void> => {
    await withDatabase(target(), async (db) => {
      for (const input of inputs) await addChannel(db, keyring, {actor: 'test', source: 'cli'}, input)
      await then?.(db)
    })
  }

  const checkNow = async (env: Record<string, string | undefined> = {}): Promise<CheckResult> => {
    const result = await run(['alerts', 'check-now', '--max-wait', '2s', '--json'], {env})
    expect(result.code, result.stderr).toBe(0)
    return parseJson<CheckResult>(result)
  }

  const deliveries = async (): Promise<Map<string, Delivery>> => {
    const listed = await run(['alerts', 'deliveries', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    return new Map(parseJson<{deliveries: Delivery[]}>(listed).deliveries.map((delivery) => [delivery.channel, delivery]))
  }

  /** No output of this test, and no column of any row, holds one of these. */
  const expectNowhere = async (secrets: string[]): Promise<void> => {
    for (const secret of secrets) {
      for (const output of outputs) expect(output.stdout + output.stderr).not.toContain(secret)
    }

    const stored = await withDatabase(target(), async (db) => {
      const found: string[] = []
      for (const secret of secrets) found.push(...(await columnsContaining(db, secret)).map((column) => `${column} holds ${secret}`))
      return found
    })
    expect(stored).toEqual([])
  }

  beforeAll(async () => {
    // One tenant idle for 90 days: one tenant_inactive alert (info) for every channel.
    await withDatabase(target(), async (db) => {
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      await db
        .insertInto('tenants')
        .values({created_at: new Date(Date.now() - 90 * 86_400_000), last_activity_at: new Date(Date.now() - 90 * 86_400_000), metadata: '{}', name: 'Idle shop', shopify_shop: 'idle.myshopify.com', tenant_id: 'idle', type: 'shopify', workspace_id: workspace.id})
        .execute()
    })
  })

  beforeEach(async () => {
    outputs.length = 0
    await withDatabase(target(), (db) => sql`truncate alert_notifications, alerts, channels, alert_runs cascade`.execute(db))
  })

  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.close()))
  })

  it('fails a notification permanently when the provider redirects, and the host redirected to gets nothing (PagerDuty 307, SendGrid 308, webhook 302)', async () => {
    const elsewhere = await started(new Receiver())
    const pagerduty = await started(new PagerDutyFake())
    const sendgrid = await started(new SendGridFake())
    const webhook = await started(new Receiver())
    const signingSecret = `canary-signing-${randomUUID()}`
    const to = new URL(elsewhere.url).host
    pagerduty.failNext({headers: {location: `${elsewhere.url}/v2/enqueue`}, status: 307})
    sendgrid.failNext({headers: {location: `${elsewhere.url}/v3/mail/send`}, status: 308})
    webhook.failNext({headers: {location: `${elsewhere.url}/hook`}, status: 302})

    await addChannels([
      {name: 'pd', options: {...local, eventsUrl: pagerduty.eventsUrl}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'},
      {name: 'sg', options: {...local, apiUrl: sendgrid.url, from: 'alerts@example.com', to: ['ops@example.com']}, secret: SendGridFake.API_KEY, type: 'sendgrid'},
      {name: 'hook', options: local, secret: `${webhook.url}/hook/canary-path`, secretOptions: {signingSecret}, type: 'webhook'},
    ])

    expect(await checkNow()).toMatchObject({failed: 3, pendingRetry: 0, sent: 0})
    const outcome = await deliveries()
    expect(outcome.get('pd')).toMatchObject({attempts: 1, lastError: `HTTP 307: redirect to ${to} not followed`, state: 'failed'})
    expect(outcome.get('sg')).toMatchObject({attempts: 1, lastError: `HTTP 308: redirect to ${to} not followed`, state: 'failed'})
    expect(outcome.get('hook')).toMatchObject({attempts: 1, lastError: `HTTP 302: redirect to ${to} not followed`, state: 'failed'})
    expect([pagerduty.received.length, sendgrid.received.length, webhook.received.length]).toEqual([1, 1, 1])
    expect(elsewhere.received).toEqual([])

    // Nothing is sent again: the failure is permanent.
    expect(await checkNow()).toMatchObject({failed: 0, sent: 0})
    expect(elsewhere.received).toEqual([])
    await expectNowhere([PagerDutyFake.ROUTING_KEY, SendGridFake.API_KEY, signingSecret, 'canary-path'])
  })

  it('reads a few KiB of a 200 MB answer, stores and shows a short excerpt, and finishes', async () => {
    const refusing = await started(new FloodServer(500))
    const accepting = await started(new FloodServer(200))
    await addChannels([
      {name: 'flooded-500', options: local, secret: `${refusing.url}/services/T/B/X`, type: 'slack'},
      {name: 'flooded-200', options: local, secret: `${accepting.url}/services/T/B/X`, type: 'slack'},
    ])

    expect(await checkNow()).toMatchObject({pendingRetry: 1, sent: 1})
    const outcome = await deliveries()
    expect(outcome.get('flooded-500')).toMatchObject({lastError: `HTTP 500: ${'A'.repeat(500)}...`, state: 'pending'})
    expect(outcome.get('flooded-200')).toMatchObject({providerResponse: `200 ${'A'.repeat(500)}...`, state: 'sent'})
    // What `alerts deliveries --json` printed: two short excerpts, not 400 MB.
    expect(outputs.at(-1)?.stdout.length).toBeLessThan(4000)
    await withDatabase(target(), async (db) => {
      const {rows} = await sql<{longest: number}>`select max(greatest(length(coalesce(last_error, '')), length(coalesce(provider_response, ''))))::int as longest from alert_notifications`.execute(db)
      expect(rows[0]?.longest).toBeLessThanOrEqual(520)
    })
    // Each server stopped long before 200 MB: synthex closed the connection after 8 KiB.
    expect(refusing.written + accepting.written).toBeLessThan(64 * 1024 * 1024)
  })

  it('caps an absurd Retry-After at an hour and says so, while the other channels\' success is recorded once', async () => {
    const limited = await started(new SlackFake())
    const healthy = await started(new SlackFake())
    const pagerduty = await started(new PagerDutyFake())
    limited.failNext({headers: {'retry-after': '99999999999999999'}, status: 429})
    pagerduty.failNext({headers: {'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT'}, status: 503})
    await addChannels([
      {name: 'slack-a', options: local, secret: limited.webhookUrl, type: 'slack'},
      {name: 'slack-b', options: local, secret: healthy.webhookUrl, type: 'slack'},
      {name: 'pd', options: {...local, eventsUrl: pagerduty.eventsUrl}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'},
    ])

    const before = Date.now()
    expect(await checkNow()).toMatchObject({failed: 0, pendingRetry: 2, sent: 1})
    const after = Date.now()
    const outcome = await deliveries()
    expect(outcome.get('slack-b')).toMatchObject({providerResponse: '200 ok', state: 'sent'})
    expect(outcome.get('slack-a')).toMatchObject({lastError: 'HTTP 429 (Retry-After 99999999999999999s capped at 1h)', state: 'pending'})
    expect(outcome.get('pd')).toMatchObject({lastError: 'HTTP 503 (Retry-After Fri, 31 Dec 9999 23:59:59 GMT capped at 1h)', state: 'pending'})
    for (const name of ['slack-a', 'pd']) {
      const next = Date.parse(outcome.get(name)?.nextAttemptAt ?? '')
      expect(next).toBeGreaterThanOrEqual(before + HOUR - 1000)
      expect(next).toBeLessThanOrEqual(after + HOUR + 1000)
    }

    // The next run sends nothing again: B had its message, A and PagerDuty wait their hour.
    expect(await checkNow()).toMatchObject({failed: 0, sent: 0})
    expect([limited.received.length, healthy.received.length, pagerduty.received.length]).toEqual([1, 1, 1])
  })

  it('refuses channel URLs inside the network, in clear or with user:password@ when added, naming the field and echoing nothing', async () => {
    // The full range of refusals is test/integration/channel-policy.test.ts; here, as a user meets them.
    const canary = `canary-${randomUUID()}`
    const metadata = await run(['alerts', 'channels', 'add', 'refused', '--type', 'slack', '--value-stdin', '--json'], {input: `https://[::ffff:169.254.169.254]/services/T/B/${canary}`})
    expect(metadata.code).toBe(2)
    expect(parseJson<{error: {code: string; message: string}}>(metadata).error).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'Invalid input: url: points to a link-local/metadata address, inside the network.',
    })
    const loopback = await run(['alerts', 'channels', 'add', 'refused', '--type', 'webhook', '--value-stdin', '--signing-secret-env', 'HOOK_SECRET'], {
      env: {HOOK_SECRET: 'h'.repeat(20)},
      input: `https://localhost:6379/${canary}`,
    })
    expect(loopback.code).toBe(2)
    expect(loopback.stderr).toMatch(/^Error: Invalid input: url: its host resolves to (127\.0\.0\.1|::1), a loopback address, inside the network\.\nHint: If that is intended: --allow-private-network allows addresses inside the network \(loopback, private, link-local\)\.$/m)
    const inClear = await run(['alerts', 'channels', 'add', 'refused', '--type', 'slack', '--value-stdin'], {input: `http://hooks.slack.com/services/T/B/${canary}`})
    expect(inClear.stderr).toContain('url: must be an https:// URL: plain http:// would send it unencrypted')
    const withPassword = await run(['alerts', 'channels', 'add', 'refused', '--type', 'slack', '--value-stdin'], {input: `https://ops:${canary}@hooks.slack.com/services/T/B/X`})
    expect(withPassword.stderr).toContain('url: must not hold a user name or password (user:password@)')

    // Explicitly allowed, the same kind of URL is taken, and the listing says what was allowed.
    await addChannels([{name: 'inside', options: local, secret: `http://127.0.0.1:9/services/T/B/${canary}`, type: 'slack'}])
    const listed = await run(['alerts', 'channels', 'list'])
    expect(listed.stdout).toMatch(/^inside\s+slack\s+stored\s.*allowHttp=true allowPrivateNetwork=true/m)
    expect(listed.stdout).not.toMatch(/^refused/m)
    await expectNowhere([canary, '169.254.169.254', 'hooks.slack.com'])
  })

  it('refuses at send time an environment channel, or a stored one, whose host now resolves inside the network', async () => {
    const slack = await started(new SlackFake())
    const pagerduty = await started(new PagerDutyFake())
    const slackPort = new URL(slack.url).port
    const pdPort = new URL(pagerduty.url).port
    // Stored while its name did not resolve (the name is checked again at every connection),
    // and now it resolves to loopback, as a DNS change (or rebinding) would have it.
    await addChannels([{name: 'pd', options: {allowHttp: true, eventsUrl: `http://pd.invalid:${pdPort}/v2/enqueue`}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'}], (db) =>
      sql`update channels set config = jsonb_set(config, '{options,eventsUrl}', to_jsonb(${`http://localhost:${pdPort}/v2/enqueue`}::text)) where name = 'pd'`.execute(db),
    )
    const environment = {...STRICT, SLACK_WEBHOOK_URL: `http://localhost:${slackPort}${SlackFake.PATH}`, SYNTHEX_ALLOW_HTTP: '1'}

    expect(await checkNow(environment)).toMatchObject({failed: 2, pendingRetry: 0, sent: 0})
    const outcome = await deliveries()
    for (const name of ['env-slack', 'pd']) expect(outcome.get(name), name).toMatchObject({attempts: 1, lastError: expect.stringMatching(/^address (127\.0\.0\.1|::1) is loopback; refused$/), state: 'failed'})
    const tested = await run(['alerts', 'channels', 'test', 'env-slack', '--json'], {env: environment})
    expect(tested.code).toBe(1)
    expect(parseJson<{error: {message: string}}>(tested).error.message).toMatch(/^env-slack \(slack\) refused the test notification: address (127\.0\.0\.1|::1) is loopback; refused$/)
    expect(slack.received).toEqual([])
    expect(pagerduty.received).toEqual([])

    // With SYNTHEX_ALLOW_PRIVATE_NETWORK=1 the environment's channel is let through.
    const allowed = await run(['alerts', 'channels', 'test', 'env-slack'], {env: {...environment, SYNTHEX_ALLOW_PRIVATE_NETWORK: '1'}})
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(slack.received).toHaveLength(1)
    await expectNowhere([SlackFake.PATH, PagerDutyFake.ROUTING_KEY])
  })

  it('never lets a URL with user:password@ from the environment reach a request, nor be printed', async () => {
    const slack = await started(new SlackFake())
    const canary = `canary-${randomUUID()}`
    const withPassword = slack.webhookUrl.replace('http://', `http://ops:${canary}@`)
    const checked = await run(['alerts', 'check-now'], {env: {SLACK_WEBHOOK_URL: withPassword}})
    expect(checked.code).toBe(2)
    expect(checked.stderr).toContain('env-slack.url: must not hold a user name or password (user:password@)')
    const plain = await run(['alerts', 'channels', 'add', 'plain', '--type', 'slack', '--value-stdin', '--allow-http', '--allow-private-network'], {input: withPassword})
    expect(plain.code).toBe(2)
    const tested = await run(['alerts', 'channels', 'test', 'env-slack'], {env: {SLACK_WEBHOOK_URL: withPassword}})
    expect(tested.code).toBe(2)
    expect(slack.received).toEqual([])
    for (const output of outputs) expect(output.stderr).not.toContain('Request cannot be constructed')
    await expectNowhere([canary, SlackFake.PATH])
  })
})

import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import {addChannel} from '../../src/services/alerts/channels.js'
import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {type CliTarget, describeEachCliBackend, ownTarget} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {seedAlerting} from '../helpers/seed-alerting.js'

const KEY = randomBytes(32).toString('base64')
/** The stand-in providers listen on http://127.0.0.1. */
const LOCAL = ['--allow-http', '--allow-private-network']

interface CheckResult {
  failed: number
  firing: number
  new: number
  pendingRetry: number
  sent: number
}

describeEachCliBackend('alerts from the command line', (target) => {
  const slack = new SlackFake()
  const pagerduty = new PagerDutyFake()
  const run = (args: string[], options: {env?: Record<string, string>; input?: string; on?: CliTarget} = {}) =>
    runCli(args, {env: {...(options.on ?? target()).env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s', ...options.env}, input: options.input})
  const key = Buffer.from(KEY, 'base64')
  const keyring = new Keyring({id: derivedKeyId(key), key})

  /** A database of this test's own with `count` tenants idle for 90 days, and a Slack and a PagerDuty channel. */
  const idleFleet = async (count: number): Promise<CliTarget> => {
    const own = await ownTarget(target())
    await withDatabase(own, async (db) => {
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      const old = new Date(Date.now() - 90 * 86_400_000)
      const rows = Array.from({length: count}, (_, index) => ({created_at: old, last_activity_at: old, metadata: '{}', name: `Idle ${index}`, shopify_shop: `idle-${index}.myshopify.com`, tenant_id: `idle-${index}`, type: 'shopify' as const, workspace_id: workspace.id}))
      for (let offset = 0; offset < count; offset += 500) await db.insertInto('tenants').values(rows.slice(offset, offset + 500)).execute()
      // What `alerts channels add ... --rate-per-minute 600000 --concurrency 4 --allow-http --allow-private-network`
      // stores; adding channels is the first test's subject, here it is setup.
      const audit = {actor: 'e2e', source: 'cli'}
      const limits = {concurrency: 4, perMinute: 600_000}
      const local = {allowHttp: true, allowPrivateNetwork: true}
      await addChannel(db, keyring, audit, {limits, name: 'all-slack', options: local, secret: slack.webhookUrl, type: 'slack'})
      await addChannel(db, keyring, audit, {limits, name: 'all-pd', options: {...local, eventsUrl: pagerduty.eventsUrl}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'})
    })
    return own
  }

  beforeAll(async () => {
    await Promise.all([slack.listen(), pagerduty.listen()])
  })

  afterAll(async () => {
    await Promise.all([slack.close(), pagerduty.close()])
  })

  beforeEach(() => {
    slack.reset()
    pagerduty.reset()
  })

  it('adds channels with hidden secrets, tests them against the provider, and removes them', async () => {
    const added = await run(['alerts', 'channels', 'add', 'ops-slack', '--type', 'slack', '--value-stdin', '--json', ...LOCAL], {input: `${slack.webhookUrl}\n`})
    expect(added.code, added.stderr).toBe(0)
    const pd = await run(['alerts', 'channels', 'add', 'oncall', '--type', 'pagerduty', '--from-env', 'PD_KEY', '--events-url', pagerduty.eventsUrl, '--min-severity', 'critical', ...LOCAL], {env: {PD_KEY: PagerDutyFake.ROUTING_KEY}})
    expect(pd.code, pd.stderr).toBe(0)

    const listed = await run(['alerts', 'channels', 'list'])
    expect(listed.stdout).toMatch(/^ops-slack\s+slack\s+stored\s+info/m)
    expect(listed.stdout).toMatch(/^oncall\s+pagerduty\s+stored\s+critical/m)
    for (const secret of [SlackFake.PATH, PagerDutyFake.ROUTING_KEY]) expect(listed.stdout + listed.stderr).not.toContain(secret)

    const tested = await run(['alerts', 'channels', 'test', 'ops-slack'])
    expect(tested.code).toBe(0)
    expect(tested.stderr).toContain('ops-slack (slack) answered: 200 ok')
    expect(slack.messages[0]?.text).toContain('Test notification from synthex')
    const paged = await run(['alerts', 'channels', 'test', 'oncall', '--json'])
    expect(parseJson<{response: string}>(paged).response).toBe('202 Event processed; 202 Event processed')
    expect(pagerduty.events.map((event) => event.event_action)).toEqual(['trigger', 'resolve'])

    slack.failNext({body: 'no_service', status: 404})
    const refused = await run(['alerts', 'channels', 'test', 'ops-slack', '--json'])
    expect(refused.code).toBe(1)
    expect(parseJson<{error: {code: string; message: string}}>(refused).error).toMatchObject({code: 'DELIVERY_FAILED', message: 'ops-slack (slack) refused the test notification: HTTP 404: no_service'})

    expect((await run(['alerts', 'channels', 'remove', 'oncall'])).code).toBe(2)
    expect((await run(['alerts', 'channels', 'remove', 'oncall', '--yes'])).code).toBe(0)
    expect((await run(['alerts', 'channels', 'list', '--json'])).stdout).not.toContain('oncall')
  })

  it('delivers each of 1,000 notifications exactly once when four check-now runs start at once', async () => {
    const count = 1000
    const own = await idleFleet(count)

    // One by one, not as a storm's digest: the exactly-once invariant at scale.
    const runs = await Promise.all(Array.from({length: 4}, () => run(['alerts', 'check-now', '--json', '--digest-over', '1000'], {on: own})))
    expect(runs.map((result) => result.code)).toEqual([0, 0, 0, 0])
    const results = runs.map((result) => parseJson<CheckResult>(result))
    expect(results.reduce((sum, result) => sum + result.new, 0)).toBe(count)
    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(2 * count)
    expect(results.every((result) => result.failed === 0 && result.pendingRetry === 0)).toBe(true)

    const dedupKeys = pagerduty.events.map((event) => event.dedup_key)
    expect(dedupKeys).toHaveLength(count)
    expect(new Set(dedupKeys).size).toBe(count)
    const tenants = slack.messages.flatMap((message) => message.blocks.filter((block) => block.type === 'section').map((block) => /\(`(idle-\d+)`/.exec(block.text?.text ?? '')?.[1]))
    expect(tenants).toHaveLength(count)
    expect(new Set(tenants).size).toBe(count)
    expect(slack.messages.every((message) => message.blocks.length <= 50)).toBe(true)

    // Nothing new: nothing more is sent.
    const again = await run(['alerts', 'check-now'], {on: own})
    expect(again.stdout).toMatch(/^evaluated [\d,]+ · firing 1,000 \(new 0, escalated 0, reminded 0, resolved 0, silenced 0\) · sent 0 · failed 0 · pending retry 0\n$/)
    expect(pagerduty.received).toHaveLength(count)
  })

  it('gates on severity with --fail-on, and lists alerts, rules and deliveries', async () => {
    const own = await idleFleet(25)
    const on = {on: own}
    // 25 new alerts at once are a storm: one digest per channel.
    const fail = await run(['alerts', 'check-now', '--fail-on', 'info', '--json'], on)
    expect(fail.code).toBe(3)
    expect(parseJson<{digests: number; new: number; sent: number}>(fail)).toMatchObject({digests: 1, new: 25, sent: 2})
    expect((await run(['alerts', 'check-now', '--fail-on', 'warning'], on)).code).toBe(0)
    const listed = await run(['alerts', 'list', '--json', '--limit', '5000'], on)
    expect(parseJson<{alerts: unknown[]}>(listed).alerts).toHaveLength(25)
    expect((await run(['alerts', 'rules'], on)).stdout).toMatch(/^tenant_inactive\s+yes\s+days=30d\s+1d/m)
    const changed = await run(['alerts', 'rules', 'set', 'tenant_inactive', '--days', '120'], on)
    expect(changed.code).toBe(0)
    // 25 resolves at once are a storm too.
    pagerduty.reset()
    slack.reset()
    const resolved = parseJson<{digests: number; resolved: number; sent: number}>(await run(['alerts', 'check-now', '--json'], on))
    expect(resolved).toMatchObject({digests: 1, resolved: 25, sent: 2})
    expect(pagerduty.events.map((event) => event.event_action)).toEqual(['resolve'])
    expect(slack.messages.map((message) => message.text.split('\n')[0])).toEqual(['[INFO] 25 alerts resolved'])
    const deliveries = parseJson<{deliveries: Array<{state: string}>}>(await run(['alerts', 'deliveries', '--json', '--limit', '10'], on))
    expect(deliveries.deliveries.every((delivery) => delivery.state === 'sent')).toBe(true)
    const invalid = await run(['alerts', 'rules', 'set', 'credential_expiring', '--warning', '40'], on)
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain('must satisfy info >= warning >= critical (got 30 / 40 / 1)')
  })
})

interface DeliveryView {
  attempts: number
  channel: string
  lastError: null | string
  nextAttemptAt: string
  providerResponse: null | string
  state: string
}

describeEachCliBackend('alerts from the command line, against providers that answer absurdly', (target) => {
  const refusing = new SlackFake()
  const accepting = new SlackFake()
  const run = (args: string[]) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s'}})

  /**
   * What a few minutes and an hour do between cron runs, without waiting for them: every
   * claim's lease has ended (as when a run died), and every retry is due.
   */
  const timePasses = () =>
    withDatabase(target(), (db) =>
      sql`update alert_notifications set claimed_until = case when claimed_until is null then null else now() - interval '1 second' end,
                                         next_attempt_at = least(next_attempt_at, now())
          where state = 'pending'`.execute(db),
    )

  beforeAll(async () => {
    await Promise.all([refusing.listen(), accepting.listen()])
  })

  afterAll(async () => {
    await Promise.all([refusing.close(), accepting.close()])
  })

  beforeEach(() => {
    refusing.reset()
    accepting.reset()
  })

  it('sends channel B each message exactly once, run after run, while channel A answers 503 and 429 with Retry-After: 99999999999999999', async () => {
    await seedAlerting(target(), KEY, {idleTenants: ['absurd-1', 'absurd-2'], slack: {'a-slack': refusing.webhookUrl, 'b-slack': accepting.webhookUrl}})
    const absurd = {headers: {'retry-after': '99999999999999999'}}
    refusing.failNext({...absurd, body: 'busy', status: 503}, {...absurd, body: 'rate_limited', status: 429})

    // Before the fix, the first run failed to record B's success, and each run after its lease ended sent B again.
    const results: CheckResult[] = []
    for (let round = 0; round < 2; round++) {
      if (round > 0) await timePasses()
      const checked = await run(['alerts', 'check-now', '--json', '--max-wait', '2s'])
      expect(checked.code, checked.stderr).toBe(0)
      results.push(parseJson<CheckResult>(checked))
    }

    // B got each alert once, in the first run; A was asked once a run and refused each time.
    expect(results.map((result) => result.sent)).toEqual([2, 0])
    const tenants = accepting.messages.flatMap((message) => message.blocks.filter((block) => block.type === 'section').map((block) => /\(`(absurd-\d)`/.exec(block.text?.text ?? '')?.[1]))
    expect(tenants.sort()).toEqual(['absurd-1', 'absurd-2'])
    expect(accepting.received).toHaveLength(1)
    expect(refusing.received).toHaveLength(2)

    // A's notifications wait at most an hour, and say why.
    const listed = parseJson<{deliveries: DeliveryView[]}>(await run(['alerts', 'deliveries', '--json'])).deliveries
    expect(listed.filter((delivery) => delivery.channel === 'b-slack').map((delivery) => delivery.state)).toEqual(['sent', 'sent'])
    const waiting = listed.filter((delivery) => delivery.channel === 'a-slack')
    expect(waiting).toHaveLength(2)
    for (const delivery of waiting) {
      expect(delivery).toMatchObject({attempts: 2, state: 'pending'})
      expect(delivery.lastError).toMatch(/^HTTP 429: rate_limited\b.*\bcapped at 1h\b/)
      expect(new Date(delivery.nextAttemptAt).getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000)
    }
  })

  it('stores and shows a bounded excerpt of a provider\'s 5 MB answer', async () => {
    await seedAlerting(target(), KEY, {idleTenants: ['flooded'], slack: {flood: accepting.webhookUrl}})
    accepting.failNext({body: `ok${'x'.repeat(5 * 1024 * 1024)}`, headers: {'content-type': 'text/plain'}, status: 200})
    const checked = await run(['alerts', 'check-now', '--json'])
    expect(checked.code, checked.stderr).toBe(0)
    expect(parseJson<CheckResult>(checked).sent).toBe(1)

    const listed = await run(['alerts', 'deliveries', '--json'])
    expect(listed.stdout.length).toBeLessThan(8192)
    const shown = parseJson<{deliveries: DeliveryView[]}>(listed).deliveries[0]?.providerResponse
    // The HTTP layer reads a few KiB and marks the cut; the engine stores at most 2 KiB of that.
    expect(shown).toMatch(/^200 okx+(\.\.\.| … \[cut: [\d,]+ bytes in all\])$/)
    expect(Buffer.byteLength(shown ?? '')).toBeLessThanOrEqual(2048)
    const table = await run(['alerts', 'deliveries'])
    expect(table.code).toBe(0)
    expect(table.stdout.length).toBeLessThan(8192)
    expect(table.stdout).toMatch(/200 okx+(\.\.\.| … \[cut)/)
  })
})

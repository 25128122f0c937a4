import {randomBytes} from 'node:crypto'

import {afterAll, beforeAll, expect, it} from 'vitest'

import {HeartbeatFake} from '../fakes/heartbeat-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {LOCAL_PROVIDERS_ENV, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {seedAlerting} from '../helpers/seed-alerting.js'

const KEY = randomBytes(32).toString('base64')

describeEachCliBackend('alerts say what is true', (target) => {
  const slack = new SlackFake()
  const heartbeat = new HeartbeatFake()
  const run = (args: string[], options: {env?: Record<string, string>; input?: string} = {}) =>
    runCli(args, {env: {...target().env, ...LOCAL_PROVIDERS_ENV, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s', ...options.env}, input: options.input})

  beforeAll(async () => {
    await Promise.all([slack.listen(), heartbeat.listen()])
    await seedAlerting(target(), KEY, {idleTenants: [], slack: {ops: slack.webhookUrl}})
    await withDatabase(target(), async (db) => {
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      await db
        .insertInto('tenants')
        .values(['soon', 'later'].map((id) => ({metadata: '{}', name: `Shop ${id}`, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify' as const, workspace_id: workspace.id})))
        .execute()
    })
  })

  afterAll(async () => {
    await Promise.all([slack.close(), heartbeat.close()])
  })

  it('shows 90 days left right after --expires-in 90d, and warns (not pages) "in 2 days" for --expires-in 2d; pings the heartbeat after the run', async () => {
    for (const [tenant, expiresIn] of [['soon', '2d'], ['later', '90d']]) {
      const set = await run(['credentials', 'set', tenant as string, '--service', 'shopify', '--value-stdin', '--expires-in', expiresIn as string], {input: `token-${tenant}`})
      expect(set.code, set.stderr).toBe(0)
    }

    const listed = parseJson<{credentials: Array<{daysLeft: number; tenantId: string; timeLeft: string}>}>(await run(['credentials', 'list', '--json']))
    expect(listed.credentials.map(({daysLeft, tenantId, timeLeft}) => [tenantId, daysLeft, timeLeft]).sort()).toEqual([
      ['later', 90, '90 days'],
      ['soon', 2, '2 days'],
    ])

    const checked = await run(['alerts', 'check-now', '--json', '--heartbeat-url', heartbeat.pingUrl])
    expect(checked.code, checked.stderr).toBe(0)
    expect(parseJson<{heartbeat: string; highestFiring: string; new: number; sent: number}>(checked)).toMatchObject({heartbeat: 'pinged', highestFiring: 'warning', new: 1, sent: 1})
    expect(slack.messages).toHaveLength(1)
    expect(slack.messages[0]?.text).toBe('[WARNING] 1 credential expires within 7 days\n• Shopify credential of Shop soon (soon) expires in 2 days')
    expect(heartbeat.pings).toEqual(['success'])
    expect(checked.stdout + checked.stderr).not.toContain(HeartbeatFake.CHECK)

    // Delivered, so listed as notified.
    const alerts = parseJson<{alerts: Array<{notification: string; notifiedAt: null | string; severity: string}>}>(await run(['alerts', 'list', '--json']))
    expect(alerts.alerts).toEqual([expect.objectContaining({notification: 'sent', severity: 'warning'})])
    expect(alerts.alerts[0]?.notifiedAt).not.toBeNull()
  })

  it('pings /fail after a failed run, warns when the ping fails without failing the run, and never prints the URL', async () => {
    heartbeat.reset()
    const failed = await run(['alerts', 'check-now'], {env: {DATABASE_URL: 'postgres://synthex@127.0.0.1:1/nowhere', SYNTHEX_HEARTBEAT_URL: heartbeat.pingUrl}})
    expect(failed.code).toBe(1)
    expect(heartbeat.pings).toEqual(['fail'])

    const unreachable = `${heartbeat.url}/ping/not-${HeartbeatFake.CHECK}`
    const warned = await run(['alerts', 'check-now', '--heartbeat-url', unreachable])
    expect(warned.code, warned.stderr).toBe(0)
    expect(warned.stderr).toContain('The heartbeat ping failed: HTTP 404. The run itself is not affected.')
    expect(heartbeat.pings).toEqual(['fail'])

    const invalid = await run(['alerts', 'check-now', '--heartbeat-url', 'hc-ping.com/secret-check'])
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain('Invalid --heartbeat-url')
    for (const result of [failed, warned, invalid]) {
      for (const secret of [HeartbeatFake.CHECK, 'secret-check']) expect(result.stdout + result.stderr).not.toContain(secret)
    }
  })

  it('shows rule settings and repeats in the units flags take, and names the test notification\'s run', async () => {
    const changed = await run(['alerts', 'rules', 'set', 'health_failing', '--runs', '4', '--repeat', '90m'])
    expect(changed.code, changed.stderr).toBe(0)
    expect(changed.stderr + changed.stdout).toContain('Rule health_failing: enabled, runs=4, repeat every 90m.')
    const rules = await run(['alerts', 'rules'])
    expect(rules.stdout).toMatch(/^health_failing\s+yes\s+runs=4\s+90m\s/m)
    expect(rules.stdout).toMatch(/^tenant_inactive\s+yes\s+days=30d\s+1d\s/m)

    slack.reset()
    const tested = parseJson<{runId: string}>(await run(['alerts', 'channels', 'test', 'ops', '--json']))
    const run8 = tested.runId.slice(0, 8)
    expect(slack.messages[0]?.text).toContain(`(run ${run8}): this channel works.`)
    expect(JSON.stringify(slack.messages[0]?.blocks)).toContain(`synthex · run ${run8}`)
  })
})

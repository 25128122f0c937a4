import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {channelEnvironment} from '../../src/config/environment.js'
import {Keyring} from '../../src/crypto/keyring.js'
import {checkAlerts} from '../../src/services/alerts/alert-check.js'
import {listAlerts} from '../../src/services/alerts/alerts.js'
import {addChannel} from '../../src/services/alerts/channels.js'
import {setCredential} from '../../src/services/credentials/credentials.js'
import {recordTenantActivity} from '../../src/services/tenants/tenant-activity.js'
import {findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'oncall', source: 'cli'}
const HOUR = 3_600_000
const DAY = 24 * HOUR
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const fast = {concurrency: 4, perMinute: 600_000}
const local = {allowHttp: true, allowPrivateNetwork: true}

describeEachBackend('tenant_inactive and the storm guard', (database) => {
  let workspace: Workspace
  const slack = new SlackFake()
  const pagerduty = new PagerDutyFake()

  const check = (at: Date) => checkAlerts(database().db, {channelEnvironment: channelEnvironment({}), keyring, maxWaitMs: 2000, now: () => at})
  const sections = (): string[] => slack.messages.flatMap((message) => message.blocks.filter((block) => block.type === 'section').map((block) => block.text?.text ?? ''))

  /** Tenants created `createdDaysAgo` days ago, with their last sign of life `activeDaysAgo` days ago (null: none ever). */
  const tenants = async (prefix: string, count: number, createdDaysAgo: number, activeDaysAgo: null | number): Promise<void> => {
    const created = new Date(Date.now() - createdDaysAgo * DAY)
    const active = activeDaysAgo === null ? null : new Date(Date.now() - activeDaysAgo * DAY)
    const rows = Array.from({length: count}, (_, index) => ({
      created_at: created,
      last_activity_at: active,
      metadata: '{}',
      name: `Shop ${prefix}-${index}`,
      shopify_shop: `${prefix}-${index}.myshopify.com`,
      tenant_id: `${prefix}-${index}`,
      type: 'shopify' as const,
      updated_at: created,
      workspace_id: workspace.id,
    }))
    for (let offset = 0; offset < rows.length; offset += 500) await database().db.insertInto('tenants').values(rows.slice(offset, offset + 500)).execute()
  }

  beforeAll(async () => {
    await Promise.all([slack.listen(), pagerduty.listen()])
    workspace = await findWorkspace(database().db, 'default')
  })

  afterAll(async () => {
    await Promise.all([slack.close(), pagerduty.close()])
  })

  beforeEach(async () => {
    const {db} = database()
    await sql`truncate alert_notifications, alerts, silences, channels, alert_runs, tenants cascade`.execute(db)
    slack.reset()
    pagerduty.reset()
    await addChannel(db, keyring, audit, {limits: fast, name: 'slack', options: local, secret: slack.webhookUrl, type: 'slack'})
    await addChannel(db, keyring, audit, {limits: fast, name: 'pd', options: {...local, eventsUrl: pagerduty.eventsUrl}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'})
  })

  it('never fires for tenants that showed no sign of life, however old; fires for those whose last one is old', async () => {
    const {db} = database()
    await tenants('stable', 1000, 40, null)
    await tenants('quiet', 3, 90, 40)
    await tenants('alive', 2, 90, 2)
    // A credential set 40 days ago is a sign of life then; one set today is one now.
    await tenants('keyed', 2, 90, null)
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'keyed-0'}, {value: 'token-0'}, new Date(Date.now() - 40 * DAY))
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'keyed-1'}, {value: 'token-1'})

    const result = await check(new Date())
    expect(result).toMatchObject({digests: 0, firing: 4, new: 4, sent: 8})
    const firing = await listAlerts(db, {limit: 100})
    expect(firing.map((alert) => alert.tenantId).sort()).toEqual(['keyed-0', 'quiet-0', 'quiet-1', 'quiet-2'])
    expect(firing.every((alert) => alert.rule === 'tenant_inactive' && alert.summary.endsWith('has had no activity for 40 days'))).toBe(true)
    expect(pagerduty.events).toHaveLength(4)

    // A sign of life resolves it; an older signal arriving late does not move it back.
    const tenant = await db.selectFrom('tenants').select('id').where('tenant_id', '=', 'quiet-0').executeTakeFirstOrThrow()
    await recordTenantActivity(db, tenant.id, new Date())
    await recordTenantActivity(db, tenant.id, new Date(Date.now() - 60 * DAY))
    expect(await check(new Date())).toMatchObject({firing: 3, resolved: 1})
  })

  it('sends a storm of 30 new alerts as one digest per channel, records each alert as notified, and resolves the storm with one digest', async () => {
    const {db} = database()
    await tenants('storm', 30, 90, 40)
    const fired = await check(new Date())
    expect(fired).toMatchObject({digests: 1, firing: 30, new: 30, queued: 2, sent: 2})

    expect(slack.messages).toHaveLength(1)
    expect(slack.messages[0]?.text).toMatch(/^\[INFO\] 30 tenants inactive\n/)
    expect(sections()).toEqual([expect.stringContaining('30 tenant_inactive alerts at once: Shop storm-0 (storm-0), Shop storm-1 (storm-1), Shop storm-2 (storm-2), Shop storm-3 (storm-3), Shop storm-4 (storm-4) and 25 more')])
    expect(pagerduty.events).toHaveLength(1)
    const [trigger] = pagerduty.events
    expect(trigger).toMatchObject({event_action: 'trigger', payload: {severity: 'info'}})

    const alerts = await listAlerts(db, {limit: 100})
    expect(alerts).toHaveLength(30)
    expect(alerts.every((alert) => alert.notification === 'sent' && alert.notifiedAt !== null)).toBe(true)

    // Nothing new: nothing sent. A day later: one reminder digest, not 30 reminders.
    expect(await check(new Date())).toMatchObject({sent: 0})
    const reminded = await check(new Date(Date.now() + 25 * HOUR))
    expect(reminded).toMatchObject({digests: 1, reminded: 30, sent: 2})
    expect(sections().at(-1)).toContain('Still firing: 30 tenant_inactive alerts at once')

    // All come back to life: one resolve per channel, closing the incident the trigger opened.
    await sql`update tenants set last_activity_at = now()`.execute(db)
    const resolved = await check(new Date(Date.now() + 26 * HOUR))
    expect(resolved).toMatchObject({digests: 1, resolved: 30, sent: 2})
    expect(pagerduty.events.at(-1)).toMatchObject({dedup_key: trigger?.dedup_key, event_action: 'resolve'})
    expect(slack.messages.at(-1)?.text).toMatch(/^\[INFO\] 30 alerts resolved\n/)
  })

  it('sends exactly one digest per channel when three runs meet the same storm at once', async () => {
    await tenants('rush', 100, 90, 40)
    const results = await Promise.all([check(new Date()), check(new Date()), check(new Date())])
    expect(results.reduce((sum, result) => sum + result.new, 0)).toBe(100)
    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(2)
    expect(results.reduce((sum, result) => sum + result.digests, 0)).toBe(1)
    expect(slack.received).toHaveLength(1)
    expect(pagerduty.received).toHaveLength(1)
    expect(sections()[0]).toContain('100 tenant_inactive alerts at once')
  })

  it('says an alert was notified only once a notification of it was delivered, not while it is queued or after it failed', async () => {
    const {db} = database()
    await tenants('told', 1, 90, 40)
    slack.failNext({body: 'busy', status: 503})
    pagerduty.failNext({body: '{"status":"invalid event"}', status: 400})
    await check(new Date())
    const [waiting] = await listAlerts(db, {limit: 10})
    expect(waiting).toMatchObject({notification: 'pending', notifiedAt: null})

    // Slack answers the retry; PagerDuty refused for good: one delivery is enough.
    // Due a second ago: the run's clock has milliseconds, the database's microseconds.
    await sql`update alert_notifications set next_attempt_at = now() - interval '1 second' where state = 'pending'`.execute(db)
    await check(new Date())
    const [told] = await listAlerts(db, {limit: 10})
    expect(told?.notification).toBe('sent')
    expect(told?.notifiedAt).toBeInstanceOf(Date)

    await sql`truncate alert_notifications`.execute(db)
    await sql`update alerts set notified_at = now()`.execute(db)
    await db.insertInto('alert_notifications').values({alert_id: told?.id ?? 0, channel: 'pd', created_at: new Date(), kind: 'firing', next_attempt_at: new Date(), payload: '{}', run_id: '00000000-0000-4000-8000-000000000000', severity: 'info', state: 'failed'}).execute()
    expect((await listAlerts(db, {limit: 10}))[0]).toMatchObject({notification: 'failed', notifiedAt: null})
  })
})

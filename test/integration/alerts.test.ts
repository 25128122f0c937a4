import {randomBytes, randomUUID} from 'node:crypto'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {readMigrationFiles} from '../../src/db/migrations.js'
import {SynthexError} from '../../src/errors/synthex-error.js'
import {type Delivery, DeliveryError, type DeliveryReceipt, type Notifier} from '../../src/notifiers/notifier.js'
import {PagerDutyNotifier} from '../../src/notifiers/pagerduty.js'
import {SendGridNotifier} from '../../src/notifiers/sendgrid.js'
import {deliverPending, listDeliveries} from '../../src/services/alerts/delivery/alert-delivery.js'
import {checkAlerts} from '../../src/services/alerts/alert-check.js'
import {acknowledgeAlert, lastAlertRun, listAlerts} from '../../src/services/alerts/alerts.js'
import {addChannel, notifierFor, removeChannel, resolveChannels} from '../../src/services/alerts/channels.js'
import {rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {reconcileAlerts} from '../../src/services/alerts/alert-reconcile.js'
import {createSilence, expireSilence} from '../../src/services/alerts/silences.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SendGridFake} from '../fakes/sendgrid-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {SmtpFake} from '../fakes/smtp-fake.js'
import {describeEachBackend} from '../helpers/backends.js'
import {channelEnvironment} from '../../src/config/environment.js'

const audit = {actor: 'oncall', source: 'cli'}
const HOUR = 3_600_000
const DAY = 24 * HOUR
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const fast = {concurrency: 4, perMinute: 600_000}
/** The stand-in providers listen on http://127.0.0.1: channels to them opt out of the address policy. */
const local = {allowHttp: true, allowPrivateNetwork: true}

/** A notifier that answers what `answer` says, and counts what it was asked to send. */
function scripted(answer: (delivery: Delivery, signal: AbortSignal) => Promise<DeliveryReceipt>): Notifier & {readonly deliveries: Delivery[]} {
  const deliveries: Delivery[] = []
  return {
    deliveries,
    groupKey: (_message, runId) => runId,
    limits: fast,
    maxPerRequest: 10,
    send(delivery, signal) {
      deliveries.push(delivery)
      return answer(delivery, signal)
    },
    type: 'scripted',
  }
}

describeEachBackend('alerts', (database) => {
  let workspace: Workspace
  const slack = new SlackFake()
  const pagerduty = new PagerDutyFake()
  const sendgrid = new SendGridFake()
  const smtp = new SmtpFake()

  // A run may wait 2 s of real time: less than the shortest backoff (2.5 s), so a retry is the
  // next run's, and enough that a busy machine does not end a run before it has sent at all.
  const check = (at: Date, options: {dryRun?: boolean; maxWaitMs?: number} = {}) =>
    checkAlerts(database().db, {channelEnvironment: channelEnvironment({}), keyring, maxWaitMs: options.maxWaitMs ?? 2000, now: () => at, ...options})

  const shop = async (tenantId: string, expiresAt: Date, name = `Shop ${tenantId}`): Promise<void> => {
    await createTenant(database().db, workspace, audit, {name, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
    await setCredential(database().db, keyring, workspace, audit, {service: 'shopify', tenantId}, {expiresAt, value: `token-${tenantId}`})
  }

  const slackTexts = (): string[] => slack.messages.flatMap((message) => message.blocks.filter((block) => block.type === 'section').map((block) => block.text?.text ?? ''))

  beforeAll(async () => {
    await Promise.all([slack.listen(), pagerduty.listen(), sendgrid.listen(), smtp.listen()])
    workspace = await findWorkspace(database().db, 'default')
  })

  afterAll(async () => {
    await Promise.all([slack.close(), pagerduty.close(), sendgrid.close(), smtp.close()])
  })

  beforeEach(async () => {
    const {db} = database()
    await sql`truncate alert_notifications, alerts, silences, channels, alert_runs, tenants cascade`.execute(db)
    for (const fake of [slack, pagerduty, sendgrid]) fake.reset()
    smtp.mails.length = 0
    await addChannel(db, keyring, audit, {limits: fast, name: 'slack', options: local, secret: slack.webhookUrl, type: 'slack'})
    await addChannel(db, keyring, audit, {
      limits: fast,
      minSeverity: 'warning',
      name: 'pd',
      options: {...local, eventsUrl: pagerduty.eventsUrl},
      secret: PagerDutyFake.ROUTING_KEY,
      type: 'pagerduty',
    })
  })

  it('goes through a life cycle: fire, reminder, acknowledge, escalate, silence and its end, resolve', async () => {
    const {db} = database()
    const t0 = new Date()
    const at = (ms: number) => new Date(t0.getTime() + ms)
    await shop('life', at(5.5 * DAY))

    const fired = await check(t0)
    expect(fired).toMatchObject({firing: 1, new: 1, sent: 2})
    const [trigger] = pagerduty.events
    expect(trigger).toMatchObject({event_action: 'trigger', payload: {severity: 'warning', summary: 'Shopify credential of Shop life (life) expires in 6 days'}})
    expect(slackTexts()).toEqual([expect.stringContaining('Shopify credential of Shop life (life) expires in 6 days')])

    expect(await check(at(HOUR))).toMatchObject({new: 0, reminded: 0, sent: 0})

    const reminder = await check(at(25 * HOUR))
    expect(reminder).toMatchObject({reminded: 1, sent: 2})
    expect(pagerduty.events.at(-1)).toMatchObject({dedup_key: trigger?.dedup_key, event_action: 'trigger'})
    expect(slackTexts().at(-1)).toContain('Still firing: Shopify credential of Shop life (life) expires in 4 days')

    const [firing] = await listAlerts(db, {limit: 10})
    await acknowledgeAlert(db, audit, firing?.id as number, at(26 * HOUR))
    expect(await check(at(50 * HOUR))).toMatchObject({reminded: 0, sent: 0})

    // Within a day of expiry: critical, sent even though acknowledged, and the ack is cleared.
    const escalated = await check(at(5.1 * DAY))
    expect(escalated).toMatchObject({escalated: 1, sent: 2})
    expect(pagerduty.events.at(-1)).toMatchObject({dedup_key: trigger?.dedup_key, payload: {severity: 'critical'}})
    expect((await listAlerts(db, {limit: 10}))[0]).toMatchObject({acknowledgedAt: null, severity: 'critical'})

    // A silence records a new alert without sending it; when it ends, the alert is sent.
    const silence = await createSilence(db, audit, {comment: 'migrating', durationMs: 2 * HOUR, matchers: {tenant: 'quiet'}, now: at(5.1 * DAY)})
    await shop('quiet', at(5.9 * DAY))
    const muted = await check(at(5.1 * DAY + HOUR))
    expect(muted).toMatchObject({new: 1, sent: 0, silenced: 1})
    expect(pagerduty.events.filter((event) => event.payload?.summary.includes('(quiet)'))).toEqual([])
    await expireSilence(db, audit, silence.id, at(5.1 * DAY + 90 * 60_000))
    const unmuted = await check(at(5.1 * DAY + 2 * HOUR))
    expect(unmuted).toMatchObject({new: 0, sent: 2, silenced: 0})
    expect(pagerduty.events.at(-1)?.payload?.summary).toBe('Shopify credential of Shop quiet (quiet) expires in 17 hours')

    // Rotating the credential resolves the alert: PagerDuty gets a resolve with the same key.
    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'life'}, {expiresAt: at(400 * DAY), value: 'new-token'}, at(5.2 * DAY))
    const resolved = await check(at(5.2 * DAY))
    expect(resolved).toMatchObject({resolved: 1, sent: 2})
    expect(pagerduty.events.at(-1)).toMatchObject({dedup_key: trigger?.dedup_key, event_action: 'resolve'})
    expect(slackTexts().at(-1)).toContain('Resolved: Shopify credential of Shop life (life)')
    expect((await listAlerts(db, {limit: 10, state: 'resolved'})).map((alert) => alert.tenantId)).toEqual(['life'])
  })

  it('treats an expiring credential that expires as the same alert getting worse, not a resolve', async () => {
    const t0 = new Date()
    await shop('lapse', new Date(t0.getTime() + 12 * HOUR))
    await check(t0)
    const [trigger] = pagerduty.events
    const lapsed = await check(new Date(t0.getTime() + 13 * HOUR))
    expect(lapsed).toMatchObject({escalated: 1, new: 0, resolved: 0, sent: 2})
    expect(pagerduty.events.at(-1)).toMatchObject({dedup_key: trigger?.dedup_key, event_action: 'trigger', payload: {summary: 'Shopify credential of Shop lapse (lapse) expired 60 minutes ago'}})
    expect((await listAlerts(database().db, {limit: 10}))[0]).toMatchObject({rule: 'credential_expired', severity: 'critical'})
  })

  it('marks a notification refused with a 400 as failed, listed with the provider\'s answer', async () => {
    const {db} = database()
    await shop('rejected', new Date(Date.now() + 12 * HOUR))
    pagerduty.failNext({body: '{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}', status: 400})
    const result = await check(new Date())
    expect(result).toMatchObject({failed: 1, pendingRetry: 0, sent: 1})
    const [failed] = await listDeliveries(db, {limit: 10, state: 'failed'})
    expect(failed).toMatchObject({attempts: 1, channel: 'pd', state: 'failed'})
    expect(failed?.last_error).toBe('HTTP 400: {"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}')
  })

  it('retries 500s and 429s across runs until each notification arrives exactly once', async () => {
    const {db} = database()
    const t0 = new Date()
    // One worker, so that the same notification meets each failure in turn.
    await removeChannel(db, audit, 'pd')
    await addChannel(db, keyring, audit, {limits: {concurrency: 1, perMinute: 600_000}, minSeverity: 'warning', name: 'pd', options: {...local, eventsUrl: pagerduty.eventsUrl}, secret: PagerDutyFake.ROUTING_KEY, type: 'pagerduty'})
    for (const id of ['r1', 'r2', 'r3']) await shop(id, new Date(t0.getTime() + 12 * HOUR))
    pagerduty.failNext({status: 500}, {status: 503}, {headers: {'retry-after': '120'}, status: 429})
    const runs = []
    for (let hour = 0; hour < 6; hour++) runs.push(await check(new Date(t0.getTime() + hour * HOUR), {maxWaitMs: 2000}))
    expect(runs[0]).toMatchObject({new: 3, pendingRetry: 3})
    // Run 1: the Slack digest (3 notifications); PagerDuty's first meets a 500, then a 503 an hour
    // later, then a 429 asking for 2 minutes; the fourth run delivers all three.
    expect(runs.map((run) => run.sent)).toEqual([3, 0, 0, 3, 0, 0])
    expect(runs.at(-1)).toMatchObject({failed: 0, pendingRetry: 0})
    expect(pagerduty.events.map((event) => event.payload?.summary.match(/\((r\d)\)/)?.[1]).sort()).toEqual(['r1', 'r2', 'r3'])
    expect(pagerduty.received).toHaveLength(6)
    const attempts = (await listDeliveries(db, {channel: 'pd', limit: 10})).map((row) => row.attempts).sort()
    expect(attempts).toEqual([1, 1, 4])
  })

  it('waits as long as Retry-After says before trying again within a run', async () => {
    await shop('patient', new Date(Date.now() + 12 * HOUR))
    pagerduty.failNext({headers: {'retry-after': '2'}, status: 429})
    const result = await checkAlerts(database().db, {channelEnvironment: channelEnvironment({}), keyring, maxWaitMs: 20_000})
    expect(result).toMatchObject({pendingRetry: 0, sent: 2})
    const [refused, accepted] = pagerduty.received
    expect((accepted?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(2000)
  })

  it('supersedes a trigger still unsent when its alert resolves: no page for a problem gone, and the resolve goes at once', async () => {
    const {db} = database()
    const t0 = new Date()
    await shop('order', new Date(t0.getTime() + 12 * HOUR))
    // PagerDuty refuses the trigger for an hour; meanwhile the credential is rotated and the alert resolves.
    pagerduty.failNext({headers: {'retry-after': '3600'}, status: 429})
    expect(await check(t0, {maxWaitMs: 2000})).toMatchObject({new: 1, pendingRetry: 1})
    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'order'}, {expiresAt: new Date(t0.getTime() + 400 * DAY), value: 'new-token'}, new Date(t0.getTime() + 60_000))
    expect(await check(new Date(t0.getTime() + 5 * 60_000), {maxWaitMs: 2000})).toMatchObject({pendingRetry: 0, resolved: 1, sent: 2})

    // PagerDuty never opened an incident, and gets the resolve with the trigger's dedup_key (which it ignores).
    const [refused, resolve] = pagerduty.received.map((request) => request.json as {dedup_key: string; event_action: string})
    expect(pagerduty.received).toHaveLength(2)
    expect(refused?.event_action).toBe('trigger')
    expect(resolve).toMatchObject({dedup_key: refused?.dedup_key, event_action: 'resolve'})
    // Slack, which had the trigger, has its resolve.
    expect(slackTexts().map((text) => text.match(/^\S+ \*Shop order\*/) && (text.includes('Resolved') ? 'resolved' : 'firing'))).toEqual(['firing', 'resolved'])
    const pd = await listDeliveries(db, {channel: 'pd', limit: 10})
    expect(pd.map((row) => [row.kind, row.state, row.last_error])).toEqual([
      ['resolved', 'sent', null],
      ['firing', 'superseded', 'superseded: the alert resolved before this could be sent'],
    ])

    // Nothing more goes out later.
    await check(new Date(t0.getTime() + 2 * HOUR), {maxWaitMs: 2000})
    expect(pagerduty.received).toHaveLength(2)
  })

  it('never lets a resolve overtake a trigger a run holds (it may be on its way), nor supersedes it', async () => {
    const {db} = database()
    const t0 = new Date()
    await shop('inflight', new Date(t0.getTime() + 12 * HOUR))
    // The trigger to PagerDuty is queued, then claimed by a run that dies while sending it.
    await check(t0, {maxWaitMs: -1})
    await sql`update alert_notifications set claimed_by = gen_random_uuid(), claimed_until = now() + interval '2 minutes' where channel = 'pd'`.execute(db)
    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'inflight'}, {expiresAt: new Date(t0.getTime() + 400 * DAY), value: 'new-token'}, new Date(t0.getTime() + 60_000))
    expect(await check(new Date(t0.getTime() + 60_000), {maxWaitMs: 2000})).toMatchObject({resolved: 1})
    expect(pagerduty.received).toHaveLength(0)

    // Once the dead run's claim ends, the trigger goes first, and the resolve right after it.
    await sql`update alert_notifications set claimed_until = now() - interval '1 second' where claimed_by is not null`.execute(db)
    await check(new Date(t0.getTime() + 5 * 60_000), {maxWaitMs: 2000})
    expect(pagerduty.events.map((event) => event.event_action)).toEqual(['trigger', 'resolve'])
    expect((await listDeliveries(db, {channel: 'pd', limit: 10})).map((row) => row.state)).toEqual(['sent', 'sent'])
  })

  it('holds the whole channel for a 429\'s Retry-After, not only the refused request', async () => {
    for (const name of ['h1', 'h2', 'h3']) await shop(name, new Date(Date.now() + 12 * HOUR))
    // PagerDuty runs 2 requests at once here: the other worker must wait too.
    pagerduty.failNext({headers: {'retry-after': '2'}, status: 429})
    const result = await checkAlerts(database().db, {channelEnvironment: channelEnvironment({}), keyring, maxWaitMs: 20_000})
    expect(result).toMatchObject({pendingRetry: 0})
    const [refused, ...after] = pagerduty.received
    expect(after).toHaveLength(3)
    for (const request of after) expect(request.at - (refused?.at ?? 0)).toBeGreaterThanOrEqual(2000)
  })

  it('sends one escaped email digest over SMTP, and through SendGrid', async () => {
    const {db} = database()
    await addChannel(db, keyring, audit, {minSeverity: 'critical', name: 'mail', options: {allowPrivateNetwork: true, from: 'alerts@example.com', to: ['ops@example.com']}, secret: `${smtp.url}?tls=none`, type: 'smtp'})
    await addChannel(db, keyring, audit, {
      minSeverity: 'critical',
      name: 'sg',
      options: {...local, apiUrl: sendgrid.url, from: 'alerts@example.com', to: ['ops@example.com', 'cto@example.com']},
      secret: SendGridFake.API_KEY,
      type: 'sendgrid',
    })
    const soon = new Date(Date.now() + 12 * HOUR)
    await shop('x1', soon, '<b>&"\'')
    await shop('x2', soon)
    await shop('x3', soon)
    await check(new Date())

    expect(smtp.mails).toHaveLength(1)
    const [mail] = smtp.mails
    expect(mail).toMatchObject({from: 'alerts@example.com', subject: '[CRITICAL] 3 credentials expire within 1 day', to: ['ops@example.com']})
    expect(mail?.html).toContain('&lt;b&gt;&amp;&quot;&#39;')
    expect(mail?.html).not.toContain('<b>&')
    expect(mail?.text).toContain('Shopify credential of <b>&"\' (x1) expires in 12 hours')

    expect(sendgrid.mails).toHaveLength(1)
    expect(sendgrid.mails[0]).toMatchObject({personalizations: [{to: [{email: 'ops@example.com'}, {email: 'cto@example.com'}]}], subject: '[CRITICAL] 3 credentials expire within 1 day'})
    expect(slackTexts().find((text) => text.includes('(`x1`'))).toContain('*&lt;b&gt;&amp;"\'*')
  })

  it('reports a provider\'s refusal verbatim (SendGrid errors[], Slack bodies)', async () => {
    const wrongKey = new SendGridNotifier({...local, apiKey: 'SG.wrong-key-000', apiUrl: sendgrid.url, from: 'a@example.com', to: ['b@example.com']}, fast)
    const message = {alertId: 1, details: {}, fingerprint: 'f', kind: 'test' as const, rule: 'test', severity: 'info' as const, startedAt: '', summary: 's', tenantId: 't', tenantName: 't', workspace: 'w'}
    await expect(wrongKey.send({messages: [message], runId: 'r'}, new AbortController().signal)).rejects.toThrow('HTTP 401: The provided authorization grant is invalid, expired, or revoked')
    const channel = (await resolveChannels(database().db, keyring, channelEnvironment({}))).find((spec) => spec.name === 'slack')
    slack.failNext({body: 'channel_not_found', status: 404})
    await expect(notifierFor(channel as never).send({messages: [message], runId: 'r'}, new AbortController().signal)).rejects.toThrow('HTTP 404: channel_not_found')
  })

  it('cuts a 2,000-character summary to PagerDuty\'s 1,024 instead of being refused', async () => {
    const notifier = new PagerDutyNotifier({...local, eventsUrl: pagerduty.eventsUrl, routingKey: PagerDutyFake.ROUTING_KEY}, fast)
    const long = {alertId: 1, details: {}, fingerprint: 'long', kind: 'firing' as const, rule: 'r', severity: 'warning' as const, startedAt: new Date().toISOString(), summary: 'z'.repeat(2000), tenantId: 't', tenantName: 't', workspace: 'w'}
    await notifier.send({messages: [long], runId: 'r'}, new AbortController().signal)
    expect(pagerduty.events[0]?.payload?.summary).toHaveLength(1024)
  })

  it('changes and sends nothing on a dry run, and records each real run', async () => {
    const {db} = database()
    await shop('dry', new Date(Date.now() + 3 * DAY))
    const planned = await check(new Date(), {dryRun: true})
    expect(planned).toMatchObject({dryRun: true, new: 1, queued: 2, sent: 0})
    expect(planned.wouldSend?.map((item) => item.channel).sort()).toEqual(['pd', 'slack'])
    expect(await listAlerts(db, {limit: 10})).toEqual([])
    expect(slack.received).toHaveLength(0)
    expect(await lastAlertRun(db)).toBeUndefined()

    const real = await check(new Date())
    expect(real).toMatchObject({highestFiring: 'warning', new: 1, sent: 2})
    expect(await lastAlertRun(db)).toMatchObject({id: real.runId, summary: {new: 1, sent: 2}})
  })

  it('delivers what earlier runs left before what this run adds', async () => {
    const {db} = database()
    await shop('old', new Date(Date.now() + 12 * HOUR))
    await check(new Date(), {maxWaitMs: -1})
    expect(pagerduty.received).toHaveLength(0)
    await shop('new', new Date(Date.now() + 12 * HOUR))
    const channels = (await resolveChannels(db, keyring, channelEnvironment({}))).map((spec) => ({name: spec.name, notifier: notifierFor(spec)}))
    const {reconcileAlerts} = await import('../../src/services/alerts/alert-reconcile.js')
    await reconcileAlerts(db, {channels: channels.map((channel) => ({minSeverity: channel.name === 'pd' ? 'warning' as const : 'info' as const, name: channel.name})), now: new Date()})
    await deliverPending(db, channels.filter((channel) => channel.name === 'pd'), {maxWaitMs: 2000})
    expect(pagerduty.events.map((event) => event.payload?.summary.match(/\((\w+)\)/)?.[1])).toEqual(['old', 'new'])
  })

  it('records every outcome whatever a notifier answers: NaN, Infinity and 10^20 ms waits, a thrown null or string, a 3 MB receipt with NUL bytes', async () => {
    const {db} = database()
    const t0 = new Date()
    await shop('odd', new Date(t0.getTime() + 12 * HOUR))
    const notifiers = {
      huge: scripted(() => Promise.reject(new DeliveryError('HTTP 429: rate_limited', {retryable: true, retryAfterMs: 1e20, status: 429}))),
      infinite: scripted(() => Promise.reject(new DeliveryError('HTTP 503', {retryable: true, retryAfterMs: Number.POSITIVE_INFINITY, status: 503}))),
      nan: scripted(() => Promise.reject(new DeliveryError('HTTP 503', {retryable: true, retryAfterMs: Number.NaN, status: Number.NaN}))),
      null: scripted(() => Promise.reject(null)),
      ok: scripted(async () => ({response: `200 ${'\u0000x'.repeat(1_500_000)}`})),
      string: scripted(() => Promise.reject('boom')),
      undefinedReceipt: scripted(async () => undefined as unknown as DeliveryReceipt),
    }
    const channels = Object.entries(notifiers).map(([name, notifier]) => ({name, notifier}))
    await reconcileAlerts(db, {channels: channels.map(({name}) => ({minSeverity: 'info' as const, name})), now: t0})

    const result = await deliverPending(db, channels, {maxWaitMs: 2000, now: () => t0})
    expect(result).toMatchObject({failed: 2, pending: 3, sent: 2, unrecorded: []})
    const rows = new Map((await listDeliveries(db, {limit: 20})).map((row) => [row.channel, row]))
    for (const row of rows.values()) expect(row.claimed_by, row.channel).toBeNull()

    // A wait beyond an hour is an hour, and the error says so; an unreadable one is ignored for the backoff (5 s at first).
    for (const name of ['huge', 'infinite']) {
      expect(rows.get(name)).toMatchObject({attempts: 1, next_attempt_at: new Date(t0.getTime() + HOUR), state: 'pending'})
      expect(rows.get(name)?.last_error).toMatch(/ \(Retry-After of over a century capped at 1h\)$/)
    }

    expect(rows.get('nan')).toMatchObject({attempts: 1, last_error: 'HTTP 503 (an unreadable Retry-After was ignored)', state: 'pending'})
    const nanWait = (rows.get('nan')?.next_attempt_at.getTime() ?? 0) - t0.getTime()
    expect(nanWait).toBeGreaterThanOrEqual(2500)
    expect(nanWait).toBeLessThanOrEqual(5000)
    expect(rows.get('null')).toMatchObject({attempts: 1, last_error: 'internal error: null', state: 'failed'})
    expect(rows.get('string')).toMatchObject({attempts: 1, last_error: 'internal error: boom', state: 'failed'})

    // Sent, with a bounded excerpt of the answer (NUL, which Postgres cannot store, replaced).
    expect(rows.get('undefinedReceipt')).toMatchObject({provider_response: '', state: 'sent'})
    const excerpt = rows.get('ok')?.provider_response ?? ''
    expect(rows.get('ok')?.state).toBe('sent')
    expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(2048)
    expect(excerpt).toMatch(/^200 (\uFFFDx)+\uFFFD? … \[cut: 3,000,004 bytes in all\]$/)

    // The next run sends what was sent never again, and what waits an hour not before it.
    await deliverPending(db, channels, {maxWaitMs: 2000, now: () => new Date(t0.getTime() + 30 * 60_000)})
    expect(Object.fromEntries(Object.entries(notifiers).map(([name, notifier]) => [name, notifier.deliveries.length]))).toEqual({
      huge: 1,
      infinite: 1,
      nan: 2,
      null: 1,
      ok: 1,
      string: 1,
      undefinedReceipt: 1,
    })
  })

  it('records the other outcomes when the database refuses one, and reports that one as an error', async () => {
    const {db} = database()
    const soon = new Date(Date.now() + 12 * HOUR)
    await shop('poison', soon)
    await shop('healthy', soon)
    // The database refuses to record one of the two outcomes of Slack's digest, sent as one request and
    // written as one batch (a trigger stands in for whatever a row may meet).
    await sql`create function refuse_outcome() returns trigger language plpgsql as $$
      begin
        if new.channel = 'slack' and new.payload->>'tenantId' = 'poison' and new.claimed_by is null and old.claimed_by is not null then
          raise exception 'outcome refused for the test';
        end if;
        return new;
      end $$`.execute(db)
    await sql`create trigger refuse_outcome before update on alert_notifications for each row execute function refuse_outcome()`.execute(db)
    try {
      const error = await check(new Date()).then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(SynthexError)
      expect(error).toMatchObject({code: 'DELIVERY_NOT_RECORDED', details: {sent: 4, unrecorded: [{channel: 'slack', state: 'sent'}]}, kind: 'runtime'})
      expect((error as Error).message).toMatch(/^1 delivery outcome \(slack\) could not be recorded: outcome refused for the test\. 1 of them had been sent and may be sent again; /)
    } finally {
      await sql`drop trigger refuse_outcome on alert_notifications`.execute(db)
      await sql`drop function refuse_outcome()`.execute(db)
    }

    const rows = await listDeliveries(db, {limit: 10})
    const tenantOf = (row: (typeof rows)[number]) => (row.payload as {tenantId: string}).tenantId
    expect(rows.filter((row) => row.state === 'sent').map((row) => `${row.channel} ${tenantOf(row)}`).sort()).toEqual(['pd healthy', 'pd poison', 'slack healthy'])
    const [refused, ...others] = rows.filter((row) => row.state !== 'sent')
    expect(others).toEqual([])
    expect(refused).toMatchObject({channel: 'slack', state: 'pending'})
    expect(refused?.claimed_by).not.toBeNull()
    expect(await lastAlertRun(db)).toMatchObject({summary: {sent: 4, unrecorded: 1}})

    // Once its claim ends, only the refused one goes again.
    await sql`update alert_notifications set claimed_until = now() - interval '1 second' where claimed_by is not null`.execute(db)
    expect(await check(new Date())).toMatchObject({sent: 1})
    expect(slackTexts().filter((text) => text.includes('(`healthy`'))).toHaveLength(1)
    expect(slackTexts().filter((text) => text.includes('(`poison`'))).toHaveLength(2)
    expect(pagerduty.received).toHaveLength(2)
  })

  it('shows, and on migrating stores, a 2 KiB excerpt of answers an older version stored whole, and brings parked notifications within the hour', async () => {
    const {db} = database()
    const stored = async (response: string, error: string): Promise<void> => {
      await db
        .insertInto('alert_notifications')
        .values({channel: 'old', created_at: new Date(), kind: 'firing', last_error: error, next_attempt_at: new Date(), payload: '{}', provider_response: response, run_id: randomUUID(), severity: 'info', state: 'sent'})
        .execute()
    }

    // Parked 11.6 days ahead by a Retry-After: 999999 before the cap.
    await db
      .insertInto('alert_notifications')
      .values({attempts: 1, channel: 'parked', created_at: new Date(), kind: 'firing', next_attempt_at: new Date(Date.now() + 999_999_000), payload: '{}', run_id: randomUUID(), severity: 'info', state: 'pending'})
      .execute()

    // 100 KB of ASCII, and 6,000 bytes of two-byte characters (a cut must not split one).
    await stored(`200 ${'a'.repeat(100_000)}`, 'é'.repeat(3000))
    const [listed] = await listDeliveries(db, {limit: 1})
    expect(listed?.provider_response).toMatch(/^200 a+ … \[cut: 100,004 bytes in all\]$/)
    expect(listed?.last_error).toMatch(/^é+ … \[cut: 6,000 bytes in all\]$/)
    for (const text of [listed?.provider_response, listed?.last_error]) expect(Buffer.byteLength(text ?? '')).toBeLessThanOrEqual(2048)

    const migration = readMigrationFiles().find((file) => file.name === '0008_outbox_hardening')
    await sql.raw(migration?.up ?? 'missing migration').execute(db)
    const {rows} = await sql<{error: string; error_bytes: number; response: string; response_bytes: number}>`
      select last_error as error, octet_length(last_error) as error_bytes, provider_response as response, octet_length(provider_response) as response_bytes
      from alert_notifications where channel = 'old'`.execute(db)
    expect(rows).toHaveLength(1)
    expect(Number(rows[0]?.response_bytes)).toBeLessThanOrEqual(2048)
    expect(Number(rows[0]?.error_bytes)).toBeLessThanOrEqual(2048)
    expect(rows[0]?.response).toMatch(/^200 a+ … \[cut: 100,004 bytes in all\]$/)
    expect(rows[0]?.error).toMatch(/^é+ … \[cut: 6,000 bytes in all\]$/)
    const [parked] = await listDeliveries(db, {channel: 'parked', limit: 1})
    expect(parked?.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now() + HOUR)
  })

  it('gives up on a request that never ends, aborting it, so that it cannot outlive its lease', async () => {
    const {db} = database()
    const t0 = new Date()
    await shop('hung', new Date(t0.getTime() + 12 * HOUR))
    const signals: AbortSignal[] = []
    const hanging = scripted((_delivery, signal) => {
      signals.push(signal)
      return new Promise<DeliveryReceipt>(() => {})
    })
    await reconcileAlerts(db, {channels: [{minSeverity: 'info', name: 'hung'}], now: t0})
    const result = await deliverPending(db, [{name: 'hung', notifier: hanging}], {maxWaitMs: 100, now: () => t0, requestTimeoutMs: 300})
    // (`pending` counts every channel's waiting rows, other tests' included.)
    expect(result).toMatchObject({failed: 0, sent: 0, unrecorded: []})
    expect(result.pending).toBeGreaterThanOrEqual(1)
    expect(signals.map((signal) => signal.aborted)).toEqual([true])
    const [row] = await listDeliveries(db, {channel: 'hung', limit: 1})
    expect(row).toMatchObject({attempts: 1, claimed_by: null, last_error: 'no answer within 0.3 s', state: 'pending'})
  })
})

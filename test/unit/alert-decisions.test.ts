import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {SEVERITIES, type Severity} from '../../src/domain/severity.js'
import {type ChannelTarget, type DecisionInput, type Decisions, decideAlerts, DEFAULT_REPEAT_INTERVAL_MS, type OpenAlert} from '../../src/services/alerts/alert-decisions.js'
import type {AlertCandidate} from '../../src/services/alerts/alert-evaluation.js'
import type {SilenceWindow} from '../../src/services/alerts/silences.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const T0 = new Date('2026-03-01T12:00:00.000Z')
const at = (ms: number): Date => new Date(T0.getTime() + ms)

/** Slack takes everything, PagerDuty only critical alerts. */
const CHANNELS: readonly ChannelTarget[] = [
  {minSeverity: 'info', name: 'slack'},
  {minSeverity: 'critical', name: 'pd'},
]

function finding(tenant: string, severity: Severity = 'warning', overrides: Partial<AlertCandidate> = {}): AlertCandidate {
  return {
    details: {daysLeft: 5},
    fingerprint: `fp-${tenant}`,
    rule: 'credential_expiring',
    severity,
    summary: `Shopify credential of ${tenant} expires in 5 days`,
    tenantId: tenant,
    tenantName: `Shop ${tenant}`,
    workspace: 'default',
    workspaceId: 'ws-1',
    ...overrides,
  }
}

/** An alert left firing by an earlier run, notified at T0 at its severity unless told otherwise. */
function firing(tenant: string, severity: Severity = 'warning', overrides: Partial<OpenAlert> = {}): OpenAlert {
  return {
    acknowledgedAt: null,
    fingerprint: `fp-${tenant}`,
    id: 7,
    notifiedAt: T0,
    notifiedSeverity: severity,
    rule: 'credential_expiring',
    severity,
    startedAt: T0,
    summary: `Shopify credential of ${tenant} expires in 5 days`,
    tenantId: tenant,
    workspaceId: 'ws-1',
    ...overrides,
  }
}

function decide(input: Partial<DecisionInput> & Pick<DecisionInput, 'now'>): Decisions {
  return decideAlerts({candidates: [], channels: CHANNELS, open: [], repeatIntervalMs: new Map([['credential_expiring', 24 * HOUR]]), silences: [], ...input})
}

/** What each notice is and where it goes, in order. */
const sent = (decisions: Decisions) => decisions.notices.map(({channels, message}) => ({channels, kind: message.kind, severity: message.severity, tenant: message.tenantId}))

/** The open alerts after the database applied `decisions` (what the next run starts from). */
function applied(open: readonly OpenAlert[], decisions: Decisions, now: Date, acknowledged: ReadonlySet<number> = new Set()): OpenAlert[] {
  const gone = new Set(decisions.resolve.map((alert) => alert.id))
  const kept = open
    .filter((alert) => !gone.has(alert.id))
    .map((alert) => {
      const update = decisions.updates.find((change) => change.id === alert.id)
      const changed = update
        ? {
            ...alert,
            acknowledgedAt: update.clearAcknowledgement ? null : alert.acknowledgedAt,
            notifiedAt: update.notifiedAt,
            notifiedSeverity: update.notifiedSeverity,
            rule: update.rule,
            severity: update.severity,
            summary: update.summary,
          }
        : alert
      return acknowledged.has(alert.id) ? {...changed, acknowledgedAt: now} : changed
    })
  const added = decisions.inserts.map(({candidate, notified}, index) => ({
    acknowledgedAt: null,
    fingerprint: candidate.fingerprint,
    id: 1000 + open.length + index,
    notifiedAt: notified ? now : null,
    notifiedSeverity: notified ? candidate.severity : null,
    rule: candidate.rule,
    severity: candidate.severity,
    startedAt: now,
    summary: candidate.summary,
    tenantId: candidate.tenantId,
    workspaceId: candidate.workspaceId,
  }))
  return [...kept, ...added]
}

describe('the alert state machine', () => {
  it('opens a new finding and sends it to every channel its severity reaches', () => {
    const decisions = decide({candidates: [finding('acme', 'warning'), finding('bolt', 'critical')], now: T0})
    expect(decisions.inserts).toEqual([
      {candidate: finding('acme', 'warning'), notified: true},
      {candidate: finding('bolt', 'critical'), notified: true},
    ])
    expect(sent(decisions)).toEqual([
      {channels: ['slack'], kind: 'firing', severity: 'warning', tenant: 'acme'},
      {channels: ['slack', 'pd'], kind: 'firing', severity: 'critical', tenant: 'bolt'},
    ])
    // The id comes from the insert; it started now.
    expect(decisions.notices.map((notice) => [notice.insert, notice.message.alertId, notice.message.startedAt])).toEqual([
      [0, null, T0.toISOString()],
      [1, null, T0.toISOString()],
    ])
    expect(decisions.counts).toEqual({escalated: 0, highestFiring: 'critical', new: 2, reminded: 0, resolved: 0, silenced: 0})
    expect(decisions.updates).toEqual([])
  })

  it('decides nothing when nothing fires and nothing is open', () => {
    expect(decide({now: T0})).toEqual({
      counts: {escalated: 0, highestFiring: null, new: 0, reminded: 0, resolved: 0, silenced: 0},
      inserts: [],
      notices: [],
      resolve: [],
      updates: [],
    })
  })

  it('reminds once the repeat interval has passed exactly, not a millisecond before, and counts from the reminder', () => {
    const open = [firing('acme')]
    const early = decide({candidates: [finding('acme')], now: at(24 * HOUR - 1), open})
    expect(early.notices).toEqual([])
    expect(early.updates).toEqual([])

    const due = decide({candidates: [finding('acme')], now: at(24 * HOUR), open})
    expect(sent(due)).toEqual([{channels: ['slack'], kind: 'reminder', severity: 'warning', tenant: 'acme'}])
    expect(due.counts).toMatchObject({escalated: 0, reminded: 1})
    expect(due.updates).toEqual([expect.objectContaining({clearAcknowledgement: false, id: 7, notifiedAt: at(24 * HOUR), notifiedSeverity: 'warning'})])
    // The reminder keeps the alert's start.
    expect(due.notices[0]?.message).toMatchObject({alertId: 7, startedAt: T0.toISOString()})

    const next = applied(open, due, at(24 * HOUR))
    expect(decide({candidates: [finding('acme')], now: at(48 * HOUR - 1), open: next}).notices).toEqual([])
    expect(sent(decide({candidates: [finding('acme')], now: at(48 * HOUR), open: next}))).toEqual([{channels: ['slack'], kind: 'reminder', severity: 'warning', tenant: 'acme'}])
  })

  it('repeats by the interval of the alert\'s rule, daily for a rule without one', () => {
    const repeatIntervalMs = new Map([['credential_expiring', 10 * MINUTE]])
    expect(decide({candidates: [finding('acme')], now: at(10 * MINUTE), open: [firing('acme')], repeatIntervalMs}).counts.reminded).toBe(1)

    const inactive = {rule: 'tenant_inactive', summary: 'idle'}
    const open = [firing('idle', 'info', inactive)]
    expect(decide({candidates: [finding('idle', 'info', inactive)], now: at(DEFAULT_REPEAT_INTERVAL_MS - 1), open, repeatIntervalMs}).notices).toEqual([])
    expect(decide({candidates: [finding('idle', 'info', inactive)], now: at(DEFAULT_REPEAT_INTERVAL_MS), open, repeatIntervalMs}).counts.reminded).toBe(1)
  })

  it('sends no reminder for an acknowledged alert, however long it fires', () => {
    const open = [firing('acme', 'warning', {acknowledgedAt: at(HOUR)})]
    const decisions = decide({candidates: [finding('acme')], now: at(30 * 24 * HOUR), open})
    expect(decisions.notices).toEqual([])
    expect(decisions.updates).toEqual([])
  })

  it('escalates a higher severity than was sent, even when acknowledged, and clears the acknowledgement', () => {
    const open = [firing('acme', 'warning', {acknowledgedAt: at(HOUR)})]
    const decisions = decide({candidates: [finding('acme', 'critical', {summary: 'expires within a day'})], now: at(2 * HOUR), open})
    expect(sent(decisions)).toEqual([{channels: ['slack', 'pd'], kind: 'escalated', severity: 'critical', tenant: 'acme'}])
    expect(decisions.notices[0]?.message).toMatchObject({escalatedFrom: 'warning', summary: 'expires within a day'})
    expect(decisions.updates).toEqual([
      {
        clearAcknowledgement: true,
        details: {daysLeft: 5},
        id: 7,
        notifiedAt: at(2 * HOUR),
        notifiedSeverity: 'critical',
        rule: 'credential_expiring',
        severity: 'critical',
        summary: 'expires within a day',
      },
    ])
    expect(decisions.counts).toMatchObject({escalated: 1, highestFiring: 'critical', reminded: 0})

    // Unacknowledged now: reminded again a repeat interval after the escalation.
    const next = applied(open, decisions, at(2 * HOUR))
    expect(next[0]?.acknowledgedAt).toBeNull()
    const critical = finding('acme', 'critical', {summary: 'expires within a day'})
    expect(decide({candidates: [critical], now: at(26 * HOUR - 1), open: next}).notices).toEqual([])
    expect(decide({candidates: [critical], now: at(26 * HOUR), open: next}).counts.reminded).toBe(1)
  })

  it('treats another rule at the same severity as worse: an expiring credential that expired escalates, the same alert', () => {
    const open = [firing('acme', 'critical')]
    const expired = finding('acme', 'critical', {rule: 'credential_expired', summary: 'expired today'})
    const decisions = decide({candidates: [expired], now: at(MINUTE), open})
    expect(sent(decisions)).toEqual([{channels: ['slack', 'pd'], kind: 'escalated', severity: 'critical', tenant: 'acme'}])
    expect(decisions.notices[0]?.message).toMatchObject({alertId: 7, escalatedFrom: 'critical', rule: 'credential_expired'})
    expect(decisions.updates[0]).toMatchObject({clearAcknowledgement: true, rule: 'credential_expired'})
    expect(decisions.counts).toMatchObject({escalated: 1, new: 0, resolved: 0})
  })

  it('records a lowered severity without sending, and does not escalate when it rises back to what was sent', () => {
    const open = [firing('acme', 'critical')]
    const lowered = decide({candidates: [finding('acme', 'warning', {summary: 'expires in 2 days'})], now: at(HOUR), open})
    expect(lowered.notices).toEqual([])
    expect(lowered.updates).toEqual([expect.objectContaining({clearAcknowledgement: false, notifiedAt: T0, notifiedSeverity: 'critical', severity: 'warning', summary: 'expires in 2 days'})])
    expect(lowered.counts).toMatchObject({escalated: 0, highestFiring: 'warning'})

    const next = applied(open, lowered, at(HOUR))
    const raised = decide({candidates: [finding('acme', 'critical')], now: at(2 * HOUR), open: next})
    expect(raised.notices).toEqual([])
    expect(raised.counts.escalated).toBe(0)
    expect(raised.updates).toEqual([expect.objectContaining({notifiedAt: T0, severity: 'critical'})])
  })

  it('stores a changed summary without sending it', () => {
    const decisions = decide({candidates: [finding('acme', 'warning', {details: {daysLeft: 4}, summary: 'expires in 4 days'})], now: at(HOUR), open: [firing('acme')]})
    expect(decisions.notices).toEqual([])
    expect(decisions.updates).toEqual([expect.objectContaining({details: {daysLeft: 4}, notifiedAt: T0, summary: 'expires in 4 days'})])
  })

  it('resolves what the rules no longer find, at the severity last sent, and sends the resolve only if anything was sent', () => {
    const open = [firing('sent', 'warning', {id: 1, notifiedSeverity: 'critical'}), firing('muted', 'warning', {id: 2, notifiedAt: null, notifiedSeverity: null})]
    const decisions = decide({now: at(HOUR), open})
    expect(decisions.resolve.map((alert) => alert.id)).toEqual([1, 2])
    expect(sent(decisions)).toEqual([{channels: ['slack', 'pd'], kind: 'resolved', severity: 'critical', tenant: 'sent'}])
    expect(decisions.notices[0]?.message).toMatchObject({alertId: 1, rule: 'credential_expiring', startedAt: T0.toISOString()})
    expect(decisions.counts).toEqual({escalated: 0, highestFiring: null, new: 0, reminded: 0, resolved: 2, silenced: 0})
    expect(decisions.updates).toEqual([])
  })

  it('puts changes to open alerts first, then resolves, then new alerts', () => {
    const open = [firing('gone', 'warning', {id: 1}), firing('due', 'warning', {id: 2})]
    const decisions = decide({candidates: [finding('new'), finding('due')], now: at(24 * HOUR), open})
    expect(sent(decisions).map(({kind, tenant}) => `${kind} ${tenant}`)).toEqual(['reminder due', 'resolved gone', 'firing new'])
  })
})

describe('silences in the state machine', () => {
  const quiet: SilenceWindow = {endsAt: at(2 * HOUR), matchers: {tenant: 'quiet'}, startsAt: T0}

  it('record a new alert without sending it, and send it once the silence has ended', () => {
    const first = decide({candidates: [finding('quiet'), finding('loud')], now: at(HOUR), silences: [quiet]})
    expect(first.inserts).toEqual([
      {candidate: finding('quiet'), notified: false},
      {candidate: finding('loud'), notified: true},
    ])
    expect(sent(first)).toEqual([{channels: ['slack'], kind: 'firing', severity: 'warning', tenant: 'loud'}])
    expect(first.counts).toMatchObject({new: 2, silenced: 1})

    const open = applied([], first, at(HOUR))
    // At its end (exclusive) the silence no longer holds: the alert is sent as firing, not as an escalation.
    const ended = decide({candidates: [finding('quiet'), finding('loud')], now: quiet.endsAt, open, silences: [quiet]})
    expect(sent(ended)).toEqual([{channels: ['slack'], kind: 'firing', severity: 'warning', tenant: 'quiet'}])
    expect(ended.notices[0]?.message).toMatchObject({startedAt: at(HOUR).toISOString()})
    expect(ended.counts).toMatchObject({escalated: 0, new: 0, reminded: 0, silenced: 0})
    expect(ended.updates).toEqual([expect.objectContaining({notifiedAt: quiet.endsAt, notifiedSeverity: 'warning'})])

    // A millisecond before its end it still holds.
    expect(decide({candidates: [finding('quiet')], now: at(2 * HOUR - 1), open: open.filter((alert) => alert.tenantId === 'quiet'), silences: [quiet]}).notices).toEqual([])
  })

  it('hold from their start, and not before it', () => {
    const later: SilenceWindow = {...quiet, startsAt: at(HOUR)}
    expect(decide({candidates: [finding('quiet')], now: at(HOUR - 1), silences: [later]}).inserts[0]?.notified).toBe(true)
    expect(decide({candidates: [finding('quiet')], now: at(HOUR), silences: [later]}).inserts[0]?.notified).toBe(false)
  })

  it('mute reminders and escalations while they hold, then escalate against what was sent', () => {
    const open = [firing('quiet', 'warning')]
    const muted = decide({candidates: [finding('quiet', 'critical')], now: at(25 * HOUR), open, silences: [{...quiet, endsAt: at(30 * HOUR)}]})
    expect(muted.notices).toEqual([])
    expect(muted.counts).toMatchObject({escalated: 0, highestFiring: null, reminded: 0, silenced: 1})
    // The new severity is recorded; what was sent stays as it was.
    expect(muted.updates).toEqual([expect.objectContaining({clearAcknowledgement: false, notifiedAt: T0, notifiedSeverity: 'warning', severity: 'critical'})])

    const after = decide({candidates: [finding('quiet', 'critical')], now: at(30 * HOUR), open: applied(open, muted, at(25 * HOUR)), silences: [{...quiet, endsAt: at(30 * HOUR)}]})
    expect(sent(after)).toEqual([{channels: ['slack', 'pd'], kind: 'escalated', severity: 'critical', tenant: 'quiet'}])
  })

  it('match only when every matcher given matches', () => {
    const candidate = finding('acme', 'warning', {workspace: 'eu'})
    const muted = (matchers: SilenceWindow['matchers']): boolean => decide({candidates: [candidate], now: at(HOUR), silences: [{...quiet, matchers}]}).counts.silenced === 1
    expect(muted({tenant: 'acme'})).toBe(true)
    expect(muted({rule: 'credential_expiring', severity: 'warning', tenant: 'acme', workspace: 'eu'})).toBe(true)
    expect(muted({severity: 'critical', tenant: 'acme'})).toBe(false)
    expect(muted({rule: 'credential_expired'})).toBe(false)
    expect(muted({tenant: 'acme', workspace: 'us'})).toBe(false)
  })

  it('leave the highest severity that fires unsilenced for --fail-on', () => {
    const decisions = decide({candidates: [finding('quiet', 'critical'), finding('acme', 'info')], now: at(HOUR), silences: [quiet]})
    expect(decisions.counts).toMatchObject({highestFiring: 'info', silenced: 1})
  })
})

describe('the state machine, whatever the state', () => {
  const severity = fc.constantFrom(...SEVERITIES)
  const tenant = fc.constantFrom('a', 'b', 'c', 'd', 'e')
  const rule = fc.constantFrom('credential_expiring', 'credential_expired')
  const time = fc.integer({max: 72 * HOUR, min: 0})
  const state = fc.record({
    candidates: fc.uniqueArray(fc.record({rule, severity, tenant}), {selector: (item) => item.tenant}),
    now: time,
    open: fc.uniqueArray(
      fc.record({acknowledged: fc.boolean(), notified: fc.option(fc.record({at: time, severity})), rule, severity, tenant}),
      {selector: (item) => item.tenant},
    ),
    silenced: fc.subarray(['a', 'b', 'c', 'd', 'e']),
  })

  it('keeps or resolves each open alert, never notifies a silenced one, reminds no acknowledged one, and sends each notice where its severity reaches', () => {
    fc.assert(
      fc.property(state, (generated) => {
        const now = at(generated.now)
        const open = generated.open.map((alert, index) => {
          const notified = alert.notified && alert.notified.at <= generated.now ? alert.notified : null
          return firing(alert.tenant, alert.severity, {
            acknowledgedAt: alert.acknowledged ? T0 : null,
            id: index + 1,
            notifiedAt: notified ? at(notified.at) : null,
            notifiedSeverity: notified ? notified.severity : null,
            rule: alert.rule,
          })
        })
        const candidates = generated.candidates.map((item) => finding(item.tenant, item.severity, {rule: item.rule}))
        const silences = generated.silenced.map((name) => ({endsAt: at(100 * HOUR), matchers: {tenant: name}, startsAt: T0}))
        const decisions = decide({candidates, now, open, silences})

        const found = new Set(candidates.map((candidate) => candidate.fingerprint))
        expect(decisions.resolve.map((alert) => alert.fingerprint).sort()).toEqual(open.filter((alert) => !found.has(alert.fingerprint)).map((alert) => alert.fingerprint).sort())
        expect(decisions.inserts.length + open.length - decisions.resolve.length).toBe(candidates.length)
        for (const {channels, message} of decisions.notices) {
          expect(channels).toEqual(message.severity === 'critical' ? ['slack', 'pd'] : ['slack'])
          if (message.kind !== 'resolved') expect(generated.silenced).not.toContain(message.tenantId)
          const before = open.find((alert) => alert.fingerprint === message.fingerprint)
          if (message.kind === 'reminder') expect(before?.acknowledgedAt).toBeNull()
          if (message.kind === 'resolved') expect(before?.notifiedAt).not.toBeNull()
        }

        // Run again at the same moment on the state this left: nothing more to send.
        const again = decide({candidates, now, open: applied(open, decisions, now), silences})
        expect(again.notices).toEqual([])
        expect(again.inserts).toEqual([])
      }),
    )
  })
})

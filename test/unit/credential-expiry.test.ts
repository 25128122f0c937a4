import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {
  credentialStatus,
  DAY_MS,
  daysLeft,
  describeSpan,
  EXPIRING_WITHIN_DAYS,
  expiringCutoff,
  expiringHorizonMs,
  expiringSeverity,
  expiryPhrase,
  remainingMs,
  samePhraseDuring,
  sameSeverityDuring,
  sameSpanWords,
  timeLeft,
} from '../../src/services/credentials/credential-expiry.js'

const NOW = new Date('2026-03-29T01:30:00.000Z')
const HOUR = 3_600_000
const at = (ms: number): Date => new Date(NOW.getTime() + ms)
const active = (expiresAt: Date | null) => ({expires_at: expiresAt, revoked_at: null, rotated_at: null})

describe('a credential\'s status', () => {
  it('is revoked or rotated before anything its expiry says, revoked first', () => {
    expect(credentialStatus({expires_at: at(-DAY_MS), revoked_at: NOW, rotated_at: NOW}, NOW)).toBe('revoked')
    expect(credentialStatus({expires_at: at(-DAY_MS), revoked_at: null, rotated_at: NOW}, NOW)).toBe('rotated')
    expect(credentialStatus({expires_at: null, revoked_at: null, rotated_at: NOW}, NOW)).toBe('rotated')
  })

  it('is ok without an expiry date', () => {
    expect(credentialStatus(active(null), NOW)).toBe('ok')
  })

  it('is expired from the moment of expiry, and expiring within 30 days of it, the 30th day included', () => {
    expect(credentialStatus(active(NOW), NOW)).toBe('expired')
    expect(credentialStatus(active(at(1)), NOW)).toBe('expiring')
    expect(credentialStatus(active(at(EXPIRING_WITHIN_DAYS * DAY_MS)), NOW)).toBe('expiring')
    expect(credentialStatus(active(at(EXPIRING_WITHIN_DAYS * DAY_MS + 1)), NOW)).toBe('ok')
  })
})

describe('days left and how the time left is said', () => {
  it('count days to the nearest whole day, never a day short: 90 right after --expires-in 90d', () => {
    expect(daysLeft(at(90 * DAY_MS - 1000), NOW)).toBe(90)
    expect(daysLeft(at(DAY_MS), NOW)).toBe(1)
    expect(daysLeft(at(DAY_MS / 2 - 1), NOW)).toBe(0)
    expect(daysLeft(at(30.4 * DAY_MS), NOW)).toBe(30)
    expect(daysLeft(at(1), NOW)).toBe(0)
    expect(daysLeft(at(-1), NOW)).toBe(0)
    expect(daysLeft(at(-3 * DAY_MS), NOW)).toBe(-3)
  })

  it('say days from two days on, hours below, then minutes: "in 2 days", "in 47 hours"', () => {
    expect(expiryPhrase(at(90 * DAY_MS - 1000), NOW)).toBe('expires in 90 days')
    expect(expiryPhrase(at(2 * DAY_MS - 1000), NOW)).toBe('expires in 2 days')
    expect(expiryPhrase(at(47 * HOUR), NOW)).toBe('expires in 47 hours')
    expect(expiryPhrase(at(25 * HOUR + 20 * 60_000), NOW)).toBe('expires in 25 hours')
    expect(expiryPhrase(at(2 * HOUR), NOW)).toBe('expires in 2 hours')
    expect(expiryPhrase(at(119 * 60_000), NOW)).toBe('expires in 119 minutes')
    expect(expiryPhrase(at(60_000), NOW)).toBe('expires in 1 minute')
    expect(expiryPhrase(at(1), NOW)).toBe('expires in less than a minute')
    expect(timeLeft(at(47 * HOUR), NOW)).toBe('47 hours')
    expect(timeLeft(NOW, NOW)).toBe('expired')
  })

  it('say how long ago a credential expired, in the same units', () => {
    expect(expiryPhrase(NOW, NOW)).toBe('expired just now')
    expect(expiryPhrase(at(-5 * HOUR), NOW)).toBe('expired 5 hours ago')
    expect(expiryPhrase(at(-10.9 * DAY_MS), NOW)).toBe('expired 11 days ago')
  })

  it('never read a whole day less than is left, and are within half a unit of the truth', () => {
    fc.assert(
      fc.property(fc.integer({max: 400 * DAY_MS, min: 1}), (ms) => {
        const said = describeSpan(ms)
        const [value = 0, unit = ''] = said.split(' ')
        const unitMs = unit.startsWith('day') ? DAY_MS : unit.startsWith('hour') ? HOUR : 60_000
        if (said === 'less than a minute') expect(ms).toBeLessThan(30_000)
        else expect(Math.abs(Number(value) * unitMs - ms)).toBeLessThanOrEqual(unitMs / 2)
        if (unit.startsWith('day')) expect(ms).toBeGreaterThan(47 * HOUR)
      }),
    )
  })

  it('are counted in elapsed time, not calendar days: a daylight-saving night changes nothing', () => {
    // 2026-03-29 is the night European clocks go forward; the arithmetic is in UTC milliseconds.
    expect(expiryPhrase(new Date('2026-03-31T01:30:00.000Z'), NOW)).toBe('expires in 2 days')
    expect(expiryPhrase(new Date('2026-03-30T01:30:00.000Z'), NOW)).toBe('expires in 24 hours')
  })
})

describe('the credential_expiring rule\'s severity', () => {
  it('is the worst threshold whose whole span the time left is within: critical 1 day, warning 7, info 30 by default', () => {
    const levels = [1, DAY_MS, DAY_MS + 1, 47 * HOUR, 7 * DAY_MS, 7 * DAY_MS + 1, 30 * DAY_MS, 30 * DAY_MS + 1].map((left) => expiringSeverity(left, {})?.severity)
    expect(levels).toEqual(['critical', 'critical', 'warning', 'warning', 'warning', 'info', 'info', undefined])
    expect(expiringSeverity(47 * HOUR, {})).toEqual({severity: 'warning', withinDays: 7})
  })

  it('is not critical two days before expiry: --expires-in 2d is a warning', () => {
    expect(expiringSeverity(2 * DAY_MS - 1000, {critical: 1, info: 30, warning: 7})?.severity).toBe('warning')
  })

  it('follows the thresholds set, each defaulting on its own', () => {
    const custom = {critical: 3, info: 60, warning: 14}
    expect([3, 3.1, 14, 14.1, 60, 60.1].map((left) => expiringSeverity(left * DAY_MS, custom)?.severity)).toEqual(['critical', 'warning', 'warning', 'info', 'info', undefined])
    expect([1, 1.5, 10, 10.5, 30].map((left) => expiringSeverity(left * DAY_MS, {warning: 10})?.severity)).toEqual(['critical', 'warning', 'warning', 'info', 'info'])
    // Equal thresholds: the worst wins.
    expect(expiringSeverity(7 * DAY_MS, {critical: 7, info: 7, warning: 7})).toEqual({severity: 'critical', withinDays: 7})
  })

  it('says "within 1 day" for a threshold of 0, never "within 0 days"', () => {
    expect(expiringSeverity(0, {critical: 0})).toEqual({severity: 'critical', withinDays: 1})
    expect(expiringSeverity(1, {critical: 0})).toEqual({severity: 'warning', withinDays: 7})
  })

  it('reads no credential past the cutoff, and the cutoff drops none that could alert', () => {
    expect(expiringCutoff({critical: 1, info: 30, warning: 7}, NOW)).toEqual(at(30 * DAY_MS))
    expect(expiringCutoff({}, NOW)).toEqual(NOW)
    const thresholds = fc
      .tuple(fc.nat({max: 400}), fc.nat({max: 400}), fc.nat({max: 400}))
      .map(([a, b, c]) => [a, b, c].sort((x, y) => x - y))
      .map(([critical = 0, warning = 0, info = 0]) => ({critical, info, warning}))
    fc.assert(
      fc.property(thresholds, fc.integer({max: 500 * DAY_MS, min: 1}), (set, ms) => {
        const expiresAt = at(ms)
        const alerts = expiringSeverity(ms, set) !== undefined
        expect(alerts).toBe(expiresAt <= expiringCutoff(set, NOW))
      }),
    )
  })
})

describe('how long what is said of a credential holds (an alert left alone while it does)', () => {
  const spans = fc.integer({max: 400 * DAY_MS, min: -400 * DAY_MS})

  it('gives the spans said alike: all of them, and none beyond', () => {
    fc.assert(
      fc.property(spans, fc.double({max: 1, min: 0, noNaN: true}), (ms, where) => {
        const {from, to} = sameSpanWords(ms)
        expect(from).toBeLessThanOrEqual(Math.max(ms, 0))
        expect(to).toBeGreaterThan(Math.max(ms, 0))
        const inside = Number.isFinite(from) ? Math.floor(from + where * (to - 1 - from)) : Math.floor(to - 1 - where * 1e9)
        expect(describeSpan(inside)).toBe(describeSpan(ms))
        expect(describeSpan(to - 1)).toBe(describeSpan(ms))
        expect(describeSpan(to)).not.toBe(describeSpan(ms))
        if (Number.isFinite(from)) {
          expect(describeSpan(from)).toBe(describeSpan(ms))
          expect(describeSpan(from - 1)).not.toBe(describeSpan(ms))
        }
      }),
    )
  })

  it('keeps the phrase and the severity for every instant of the span it gives, and changes one of them right after', () => {
    const thresholds = fc.record({critical: fc.integer({max: 3, min: 0}), info: fc.integer({max: 40, min: 10}), warning: fc.integer({max: 9, min: 3})})
    fc.assert(
      fc.property(spans, thresholds, fc.double({max: 1, min: 0, noNaN: true}), (left, chosen, where) => {
        const expiresAt = at(left)
        const said = (now: Date) => [expiryPhrase(expiresAt, now), remainingMs(expiresAt, now) <= 0 ? 'expired' : expiringSeverity(remainingMs(expiresAt, now), chosen)?.severity]
        const phrase = samePhraseDuring(expiresAt, NOW)
        const severity = sameSeverityDuring(expiresAt, NOW, chosen)
        const from = Math.max(phrase.from, severity.from)
        const until = Math.min(phrase.until, severity.until)
        expect(from).toBeLessThanOrEqual(NOW.getTime())
        expect(until).toBeGreaterThan(NOW.getTime())
        const span = Number.isFinite(until) ? until - 1 - NOW.getTime() : 1e12
        expect(said(new Date(NOW.getTime() + Math.floor(where * span)))).toEqual(said(NOW))
        if (Number.isFinite(until)) {
          expect(said(new Date(until - 1))).toEqual(said(NOW))
          expect(said(new Date(until))).not.toEqual(said(NOW))
        }

        if (Number.isFinite(from)) expect(said(new Date(from))).toEqual(said(NOW))
      }),
    )
  })

  it('gives the widest threshold as the horizon: nothing is said beyond it', () => {
    expect(expiringHorizonMs({critical: 1, info: 30, warning: 7})).toBe(30 * DAY_MS)
    expect(expiringHorizonMs({})).toBe(30 * DAY_MS)
    expect(expiringSeverity(expiringHorizonMs({info: 12}), {info: 12})?.severity).toBe('info')
    expect(expiringSeverity(expiringHorizonMs({info: 12}) + 1, {info: 12})).toBeUndefined()
  })
})

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {credentialStatus, DAY_MS, daysLeft, daysSinceExpiry, EXPIRING_WITHIN_DAYS, expiringCutoff, expiringSeverity} from '../../src/services/credentials/credential-expiry.js'

const NOW = new Date('2026-03-29T01:30:00.000Z')
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

describe('days left and days since expiry', () => {
  it('count whole days, rounded down: 0 within the last day', () => {
    expect(daysLeft(at(DAY_MS), NOW)).toBe(1)
    expect(daysLeft(at(DAY_MS - 1), NOW)).toBe(0)
    expect(daysLeft(at(1), NOW)).toBe(0)
    expect(daysLeft(at(30.5 * DAY_MS), NOW)).toBe(30)
  })

  it('go negative once expired, while days since expiry start at 0 on the day it expired', () => {
    expect(daysLeft(NOW, NOW)).toBe(0)
    expect(daysLeft(at(-1), NOW)).toBe(-1)
    expect(daysSinceExpiry(at(-1), NOW)).toBe(0)
    expect(daysSinceExpiry(at(-DAY_MS + 1), NOW)).toBe(0)
    expect(daysSinceExpiry(at(-DAY_MS), NOW)).toBe(1)
    expect(daysSinceExpiry(at(-10.9 * DAY_MS), NOW)).toBe(10)
  })

  it('are counted in elapsed time, not calendar days: a daylight-saving night changes nothing', () => {
    // 2026-03-29 is the night European clocks go forward; the arithmetic is in UTC milliseconds.
    expect(daysLeft(new Date('2026-03-30T01:29:59.999Z'), NOW)).toBe(0)
    expect(daysLeft(new Date('2026-03-30T01:30:00.000Z'), NOW)).toBe(1)
  })
})

describe('the credential_expiring rule\'s severity', () => {
  it('is the worst threshold the days left are at or under: critical 1, warning 7, info 30 by default', () => {
    const levels = [0, 1, 2, 7, 8, 30, 31].map((left) => expiringSeverity(left, {}))
    expect(levels).toEqual([
      {severity: 'critical', withinDays: 1},
      {severity: 'critical', withinDays: 1},
      {severity: 'warning', withinDays: 7},
      {severity: 'warning', withinDays: 7},
      {severity: 'info', withinDays: 30},
      {severity: 'info', withinDays: 30},
      undefined,
    ])
  })

  it('follows the thresholds set, each defaulting on its own', () => {
    const custom = {critical: 3, info: 60, warning: 14}
    expect([3, 4, 14, 15, 60, 61].map((left) => expiringSeverity(left, custom)?.severity)).toEqual(['critical', 'warning', 'warning', 'info', 'info', undefined])
    expect([1, 2, 10, 11, 30].map((left) => expiringSeverity(left, {warning: 10})?.severity)).toEqual(['critical', 'warning', 'warning', 'info', 'info'])
    // Equal thresholds: the worst wins.
    expect(expiringSeverity(7, {critical: 7, info: 7, warning: 7})).toEqual({severity: 'critical', withinDays: 7})
  })

  it('says "within 1 day" for a threshold of 0, never "within 0 days"', () => {
    expect(expiringSeverity(0, {critical: 0})).toEqual({severity: 'critical', withinDays: 1})
    expect(expiringSeverity(1, {critical: 0})).toEqual({severity: 'warning', withinDays: 7})
  })

  it('reads no credential past the cutoff, and the cutoff drops none that could alert', () => {
    expect(expiringCutoff({critical: 1, info: 30, warning: 7}, NOW)).toEqual(at(31 * DAY_MS))
    expect(expiringCutoff({}, NOW)).toEqual(at(DAY_MS))
    const thresholds = fc
      .tuple(fc.nat({max: 400}), fc.nat({max: 400}), fc.nat({max: 400}))
      .map(([a, b, c]) => [a, b, c].sort((x, y) => x - y))
      .map(([critical = 0, warning = 0, info = 0]) => ({critical, info, warning}))
    fc.assert(
      fc.property(thresholds, fc.integer({max: 500 * DAY_MS, min: 1}), (set, ms) => {
        const expiresAt = at(ms)
        const alerts = expiringSeverity(daysLeft(expiresAt, NOW), set) !== undefined
        if (expiresAt > expiringCutoff(set, NOW)) expect(alerts).toBe(false)
      }),
    )
  })
})

import {describe, expect, it} from 'vitest'

import type {AlertMessage} from '../../src/notifiers/notifier.js'
import {DEFAULT_STORM_THRESHOLD, groupStorms, type PlannedNotice} from '../../src/services/alerts/alert-storms.js'
import {digestTitle} from '../../src/notifiers/format.js'

const NOW = new Date('2026-06-01T00:00:00.000Z')

function notice(index: number, overrides: Partial<AlertMessage> = {}, channels = ['slack', 'pd']): PlannedNotice {
  return {
    channels,
    message: {
      alertId: 1000 + index,
      details: {inactiveDays: 40},
      fingerprint: `f${index}`,
      kind: 'firing',
      rule: 'tenant_inactive',
      severity: 'info',
      startedAt: NOW.toISOString(),
      summary: `Idle ${index} (idle-${index}) has had no activity for 40 days`,
      tenantId: `idle-${index}`,
      tenantName: `Idle ${index}`,
      workspace: 'default',
      ...overrides,
    },
  }
}

const many = (count: number, overrides: Partial<AlertMessage> = {}) => Array.from({length: count}, (_, index) => notice(index, overrides))

describe('the storm guard', () => {
  it('leaves up to 20 notifications of one rule, severity and kind as they are', () => {
    expect(DEFAULT_STORM_THRESHOLD).toBe(20)
    const twenty = many(20)
    expect(groupStorms(twenty, 20, NOW)).toEqual(twenty)
  })

  it('sends 30 as one digest for every channel, with the count, the first five and the alerts it covers', () => {
    const [digest, ...rest] = groupStorms(many(30), 20, NOW)
    expect(rest).toEqual([])
    expect(digest?.channels).toEqual(['slack', 'pd'])
    expect(digest?.covers).toEqual(Array.from({length: 30}, (_, index) => 1000 + index))
    expect(digest?.message).toMatchObject({alertId: null, details: {digestOf: 30}, kind: 'firing', rule: 'tenant_inactive', severity: 'info', tenantId: '*', tenantName: '30 tenants', workspace: 'default'})
    expect(digest?.message.summary).toBe('30 tenant_inactive alerts at once: Idle 0 (idle-0), Idle 1 (idle-1), Idle 2 (idle-2), Idle 3 (idle-3), Idle 4 (idle-4) and 25 more (synthex alerts list)')
    expect(digestTitle([digest?.message as AlertMessage])).toBe('[INFO] 30 tenants inactive')
  })

  it('names the first five by workspace and tenant id, whatever order they were found in', () => {
    const [digest] = groupStorms(many(30).reverse(), 20, NOW)
    expect(digest?.message.summary).toContain(': Idle 0 (idle-0), Idle 1 (idle-1), Idle 2 (idle-2), Idle 3 (idle-3), Idle 4 (idle-4) and 25 more')
  })

  it('counts each rule, severity and kind on its own, and keeps everything else in place', () => {
    const critical = notice(99, {details: {withinDays: 1}, rule: 'credential_expiring', severity: 'critical', summary: 'expires in 20 hours'})
    const resolves = many(21, {kind: 'resolved'})
    const warnings = many(21, {severity: 'warning'}).slice(0, 15)
    const queued = groupStorms([critical, ...resolves, ...warnings], 20, NOW)
    expect(queued.map((item) => [item.message.kind, item.message.severity, item.covers?.length])).toEqual([
      ['firing', 'critical', undefined],
      ['resolved', 'info', 21],
      ...warnings.map(() => ['firing', 'warning', undefined]),
    ])
  })

  it('gives a storm of a rule and severity one fingerprint, so a storm of resolves closes the incident a storm of triggers opened', () => {
    const [fired] = groupStorms(many(25), 20, NOW)
    const [resolved] = groupStorms(many(25, {kind: 'resolved'}), 20, NOW)
    const [other] = groupStorms(many(25, {severity: 'warning'}), 20, NOW)
    expect(resolved?.message.fingerprint).toBe(fired?.message.fingerprint)
    expect(other?.message.fingerprint).not.toBe(fired?.message.fingerprint)
  })

  it('names the number of workspaces a storm spans, and keeps a credential storm\'s threshold for its title', () => {
    const spread = many(22, {details: {withinDays: 7}, rule: 'credential_expiring', severity: 'warning'}).map((item, index) => ({...item, message: {...item.message, workspace: `w${index % 3}`}}))
    const [digest] = groupStorms(spread, 20, NOW)
    expect(digest?.message.workspace).toBe('3 workspaces')
    expect(digestTitle([digest?.message as AlertMessage])).toBe('[WARNING] 22 credentials expire within 7 days')
  })
})

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {MAX_BACKOFF_MS, MIN_BACKOFF_MS, RETRY_WINDOW_MS, webhookBackoff, webhookRetryPlan} from '../../src/services/webhooks/webhook-retry-policy.js'

const HOUR = 3_600_000

describe('webhook retries', () => {
  it('back off with full jitter: anywhere from a second to 30 s doubling per attempt, an hour at most', () => {
    expect([webhookBackoff(1, () => 0), webhookBackoff(1, () => 0.5), webhookBackoff(1, () => 1)]).toEqual([MIN_BACKOFF_MS, 15_000, 30_000])
    expect(webhookBackoff(3, () => 1)).toBe(120_000)
    expect(webhookBackoff(8, () => 1)).toBe(MAX_BACKOFF_MS)
    expect(webhookBackoff(10_000, () => 1)).toBe(MAX_BACKOFF_MS)
    fc.assert(
      fc.property(fc.integer({max: 100, min: 1}), fc.double({max: 1, min: 0, noNaN: true}), (attempt, random) => {
        const wait = webhookBackoff(attempt, () => random)
        return Number.isInteger(wait) && wait >= MIN_BACKOFF_MS && wait <= MAX_BACKOFF_MS
      }),
    )
  })

  it('never retry before the receiver\'s Retry-After, and give up once the next attempt would fall three days after the event', () => {
    const createdAt = new Date('2025-06-01T00:00:00Z')
    const now = new Date(createdAt.getTime() + HOUR)
    expect(webhookRetryPlan({attempt: 1, createdAt, now, random: () => 0, retryAfterMs: 120_000})).toEqual({final: false, nextAttemptAt: new Date(now.getTime() + 120_000), waitMs: 120_000})
    expect(webhookRetryPlan({attempt: 1, createdAt, now, random: () => 1, retryAfterMs: 5000}).waitMs).toBe(30_000)
    const late = new Date(createdAt.getTime() + RETRY_WINDOW_MS - 10_000)
    expect(webhookRetryPlan({attempt: 20, createdAt, now: late, random: () => 0}).final).toBe(false)
    expect(webhookRetryPlan({attempt: 20, createdAt, now: late, random: () => 0, retryAfterMs: 20_000}).final).toBe(true)
  })
})

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {parseRetryAfter} from '../../src/net/retry-after.js'
import {backoff, DEFAULT_MAX_ATTEMPTS, retryPlan} from '../../src/services/alerts/delivery/retry-policy.js'

const SECOND = 1000
const HOUR = 3_600_000
const CAP = 30 * 60_000
const lowest = (): number => 0
const highest = (): number => 1

describe('backoff', () => {
  it('backs off exponentially with jitter, capped at 30 minutes', () => {
    expect([backoff(1, lowest), backoff(1, highest)]).toEqual([2500, 5000])
    expect([backoff(3, lowest), backoff(3, highest)]).toEqual([10_000, 20_000])
    expect(backoff(30, highest)).toBe(CAP)
  })

  it('doubles from 5 s until the 10th attempt reaches the cap, and stays there', () => {
    const ceilings = Array.from({length: 12}, (_, index) => backoff(index + 1, highest))
    expect(ceilings).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800, 1800].map((seconds) => seconds * SECOND))
    expect(backoff(10, lowest)).toBe(CAP / 2)
    expect(backoff(1000, highest)).toBe(CAP)
  })

  it('treats an attempt below 1 as the first', () => {
    expect([backoff(0, highest), backoff(-3, highest), backoff(0, lowest)]).toEqual([5000, 5000, 2500])
  })

  it('always waits a whole number of milliseconds between half and all of the ceiling, never less for a later attempt', () => {
    fc.assert(
      fc.property(fc.integer({max: 60, min: 1}), fc.double({max: 1, min: 0, noNaN: true}), (attempt, jitter) => {
        const ceiling = Math.min(CAP, 5000 * 2 ** (attempt - 1))
        const wait = backoff(attempt, () => jitter)
        expect(Number.isInteger(wait)).toBe(true)
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2)
        expect(wait).toBeLessThanOrEqual(ceiling)
        expect(backoff(attempt + 1, () => jitter)).toBeGreaterThanOrEqual(wait)
      }),
    )
  })
})

describe('what follows a failed attempt', () => {
  const retryable = (retryAfterMs?: number) => ({retryable: true, retryAfterMs})

  it('retries a retryable failure after the backoff, until the last attempt', () => {
    expect(retryPlan(retryable(), 1, DEFAULT_MAX_ATTEMPTS, highest)).toEqual({final: false, waitMs: 5000})
    expect(retryPlan(retryable(), DEFAULT_MAX_ATTEMPTS - 1, DEFAULT_MAX_ATTEMPTS, highest)).toEqual({final: false, waitMs: 1_280_000})
    expect(retryPlan(retryable(), DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, highest)).toMatchObject({final: true})
    expect(retryPlan(retryable(), DEFAULT_MAX_ATTEMPTS + 5, DEFAULT_MAX_ATTEMPTS, highest)).toMatchObject({final: true})
    expect(retryPlan(retryable(), 1, 1, highest)).toMatchObject({final: true})
  })

  it('gives up at once on a failure that repeating cannot help', () => {
    expect(retryPlan({retryable: false, retryAfterMs: undefined}, 1, DEFAULT_MAX_ATTEMPTS)).toMatchObject({final: true})
  })

  it('waits at least as long as the provider asked, and at least the backoff', () => {
    expect(retryPlan(retryable(HOUR), 1, DEFAULT_MAX_ATTEMPTS, highest)).toEqual({final: false, waitMs: HOUR})
    expect(retryPlan(retryable(1000), 3, DEFAULT_MAX_ATTEMPTS, highest)).toEqual({final: false, waitMs: 20_000})
    expect(retryPlan(retryable(0), 1, DEFAULT_MAX_ATTEMPTS, lowest)).toEqual({final: false, waitMs: 2500})
    // A provider's Retry-After, read and capped, then planned: never more than an hour.
    expect(retryPlan(retryable(parseRetryAfter('99999999999999999').ms), 10, DEFAULT_MAX_ATTEMPTS + 1, highest).waitMs).toBe(HOUR)
  })
})

describe('Retry-After at its edges', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')

  it('reads leading zeros and surrounding spaces as the number they spell, however many zeros', () => {
    expect(parseRetryAfter('0005', now)).toEqual({ms: 5000, note: undefined})
    expect(parseRetryAfter(`${'0'.repeat(30)}3`, now)).toEqual({ms: 3000, note: undefined})
    expect(parseRetryAfter(' 120 ', now)).toEqual({ms: 120_000, note: undefined})
    // Shopify says `Retry-After: 1.0`; a real fraction is waited in full.
    expect(parseRetryAfter('1.0', now)).toEqual({ms: 1000, note: undefined})
    expect(parseRetryAfter('1.5', now)).toEqual({ms: 2000, note: undefined})
  })

  it('caps from one second over the hour, as delay-seconds or as a date', () => {
    expect(parseRetryAfter('3601', now)).toEqual({ms: HOUR, note: 'Retry-After 3601s capped at 1h'})
    expect(parseRetryAfter('Thu, 01 Jan 2026 01:00:00 GMT', now)).toEqual({ms: HOUR, note: undefined})
    expect(parseRetryAfter('Thu, 01 Jan 2026 01:00:01 GMT', now)).toEqual({ms: HOUR, note: 'Retry-After Thu, 01 Jan 2026 01:00:01 GMT capped at 1h'})
    // Seven digits and eight: both beyond the hour, whether or not a double holds them exactly.
    expect(parseRetryAfter('9999999', now).ms).toBe(HOUR)
    expect(parseRetryAfter('10000000', now).ms).toBe(HOUR)
  })

  it('measures a date from the clock it is given', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now + 10 * SECOND).ms).toBe(20_000)
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now + 30 * SECOND).ms).toBe(0)
  })

  it('takes no other date form: a lower-case or zone-less date is not understood', () => {
    for (const value of ['thu, 01 jan 2026 00:00:30 gmt', 'Thu, 01 Jan 2026 00:00:30', 'Thu, 01 Jan 2026 00:00:30 +0000']) {
      expect(parseRetryAfter(value, now), value).toEqual({ms: undefined, note: `Retry-After "${value}" not understood; ignored`})
    }
  })
})

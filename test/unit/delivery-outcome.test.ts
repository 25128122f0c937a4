import {describe, expect, it} from 'vitest'

import {DeliveryError} from '../../src/notifiers/notifier.js'
import {excerpt, failureOf, MAX_RETRY_AFTER_MS, responseOf, storedError, validDate} from '../../src/services/alerts/delivery/delivery-outcome.js'

const bytes = (text: string): number => Buffer.byteLength(text)

describe('what the delivery engine stores of a provider\'s answer', () => {
  it('keeps a short answer as it is', () => {
    expect(excerpt('200 ok')).toBe('200 ok')
    expect(excerpt('x'.repeat(2048))).toBe('x'.repeat(2048))
  })

  it('cuts a long answer to 2 KiB on a character boundary, marked with the size of the whole', () => {
    const ascii = excerpt('x'.repeat(10_000))
    expect(bytes(ascii)).toBeLessThanOrEqual(2048)
    expect(ascii).toMatch(/^x+ … \[cut: 10,000 bytes in all\]$/)

    // Three-byte and four-byte (surrogate pair) characters: never half of one.
    for (const character of ['€', '😀']) {
      for (let offset = 0; offset < 4; offset++) {
        const cut = excerpt(`${'a'.repeat(offset)}${character.repeat(3000)}`)
        expect(bytes(cut)).toBeLessThanOrEqual(2048)
        expect(cut).not.toContain('\uFFFD')
        expect(cut).toMatch(new RegExp(`^a{${offset}}(${character})+ … \\[cut: [\\d,]+ bytes in all\\]$`, 'u'))
      }
    }
  })

  it('replaces what Postgres cannot store: NUL and lone surrogates', () => {
    expect(excerpt('a\u0000b\uD800c\uDC00d')).toBe('a\uFFFDb\uFFFDc\uFFFDd')
    const cut = excerpt('\u0000'.repeat(5000))
    expect(bytes(cut)).toBeLessThanOrEqual(2048)
    expect(cut).toMatch(/^\uFFFD+ … \[cut: 5,000 bytes in all\]$/)
  })

  it('takes any receipt: a missing one, a number, a getter that throws', () => {
    expect(responseOf(undefined)).toBe('')
    expect(responseOf({response: 202})).toBe('202')
    expect(
      responseOf({
        get response(): string {
          throw new Error('no')
        },
      }),
    ).toBe('')
  })

  it('caps a wait beyond an hour, ignores one that is not a positive number, and says so', () => {
    const failure = (retryAfterMs: number) => failureOf(new DeliveryError('HTTP 429', {retryable: true, retryAfterMs}))
    expect(failure(30_000)).toEqual({message: 'HTTP 429', note: '', retryable: true, retryAfterMs: 30_000})
    expect(failure(MAX_RETRY_AFTER_MS)).toMatchObject({note: '', retryAfterMs: MAX_RETRY_AFTER_MS})
    expect(failure(999_999_000)).toMatchObject({note: ' (Retry-After of 11.6 days capped at 1h)', retryAfterMs: MAX_RETRY_AFTER_MS})
    expect(failure(7_200_000)).toMatchObject({note: ' (Retry-After of 2 h capped at 1h)', retryAfterMs: MAX_RETRY_AFTER_MS})
    for (const absurd of [1e20, Number.POSITIVE_INFINITY]) expect(failure(absurd)).toMatchObject({note: ' (Retry-After of over a century capped at 1h)', retryAfterMs: MAX_RETRY_AFTER_MS})
    expect(failure(Number.NaN)).toMatchObject({note: ' (an unreadable Retry-After was ignored)', retryAfterMs: undefined})
    expect(failure(-5)).toMatchObject({note: '', retryAfterMs: undefined})
  })

  it('treats anything thrown that is not a DeliveryError as a permanent internal error', () => {
    expect(failureOf(null)).toEqual({message: 'internal error: null', note: '', retryable: false, retryAfterMs: undefined})
    expect(failureOf(new TypeError('x is undefined'))).toMatchObject({message: 'internal error: x is undefined', retryable: false})
    expect(failureOf(Object.create(null))).toMatchObject({message: 'internal error: an unprintable object', retryable: false})
  })

  it('keeps what the engine adds to an error whole, cutting the provider\'s part', () => {
    const error = storedError('y'.repeat(5000), ' (gave up after 10 attempts)')
    expect(bytes(error)).toBeLessThanOrEqual(2048)
    expect(error).toMatch(/^y+ … \[cut: 5,000 bytes in all\] \(gave up after 10 attempts\)$/)
  })

  it('turns an invalid time into the fallback, never an Invalid Date', () => {
    expect(validDate(Date.UTC(2025, 0, 1)).toISOString()).toBe('2025-01-01T00:00:00.000Z')
    expect(validDate(Number.NaN, () => 0).toISOString()).toBe('1970-01-01T00:00:00.000Z')
    expect(validDate(1e20, () => 0).getTime()).toBe(0)
  })
})

import {afterEach, describe, expect, it} from 'vitest'

import {durationFlag, expiryFromFlags, parseIsoTime, timeFlag} from '../../src/cli/credential-flags.js'
import {FlagValueError} from '../../src/cli/flag-value-error.js'
import {MAX_ID, parseWhole} from '../../src/cli/integer-flags.js'
import {readEnvSecret} from '../../src/cli/secret-input.js'
import {MAX_DURATION_MS, parseDuration, readDuration} from '../../src/domain/durations.js'

const DAY = 86_400_000

function refusal(work: () => unknown): FlagValueError {
  try {
    work()
  } catch (error) {
    if (error instanceof FlagValueError) return error
    throw error
  }

  throw new Error('expected a FlagValueError')
}

describe('durations', () => {
  it('read human durations up to 36500d, and say whether the text or the size is wrong', () => {
    expect(readDuration('90d')).toEqual({ms: 90 * DAY, ok: true})
    expect(readDuration('36500d')).toEqual({ms: MAX_DURATION_MS, ok: true})
    expect(readDuration('36501d')).toEqual({ok: false, problem: 'range'})
    expect(readDuration('9999999999d')).toEqual({ok: false, problem: 'range'})
    expect(readDuration(`${'9'.repeat(400)}d`)).toEqual({ok: false, problem: 'range'})
    expect(readDuration('10')).toEqual({ok: false, problem: 'format'})
    expect(readDuration('2h', {max: 3_600_000})).toEqual({ok: false, problem: 'range'})
    expect(readDuration('30s', {min: 60_000})).toEqual({ok: false, problem: 'range'})
    expect(parseDuration('9999999999d')).toBeUndefined()
  })

  it('as flags, refuse out-of-range values as usage errors naming the flag and the range', () => {
    const tooLong = refusal(() => durationFlag('for', '99999999d'))
    expect(tooLong.message).toBe('--for: "99999999d" is out of range: give a duration from 0s to 36500d.')
    expect(tooLong.kind).toBe('usage')
    expect(refusal(() => durationFlag('max-wait', '2d', {max: DAY})).message).toBe('--max-wait: "2d" is out of range: give a duration from 0s to 1d.')
    expect(refusal(() => durationFlag('repeat', '10s', {max: 365 * DAY, min: 60_000})).message).toBe('--repeat: "10s" is out of range: give a duration from 1m to 365d.')
    expect(refusal(() => durationFlag('within', 'soon')).message).toBe('--within: "soon" is not a duration such as 30d, 2w or 12h.')
  })

  it('give an expiry that is always a valid date', () => {
    const now = new Date('2026-01-01T00:00:00Z')
    expect(expiryFromFlags({'expires-in': '36500d'}, now)?.toISOString()).toBe('2125-12-08T00:00:00.000Z')
    const refused = refusal(() => expiryFromFlags({'expires-in': '9999999999d'}, now))
    expect(refused.message).toContain('--expires-in: "9999999999d" is out of range: give a duration from 0s to 36500d')
    // In a command that reads a secret, the value is not repeated, but the flag and the range are.
    expect(refused.quietMessage).toBe('--expires-in: the value given (not repeated here, in case it is a secret) is out of range: give a duration from 0s to 36500d.')
  })
})

describe('ISO-8601 times', () => {
  it('are checked field by field, not rolled over to the next month', () => {
    expect(parseIsoTime('2027-03-01')).toEqual({time: new Date('2027-03-01T00:00:00Z')})
    expect(parseIsoTime('2027-03-01T12:30:00+05:30')).toEqual({time: new Date('2027-03-01T07:00:00Z')})
    expect(parseIsoTime('2028-02-29')).toEqual({time: new Date('2028-02-29T00:00:00Z')})
    for (const text of ['2027-02-29', '2027-02-30', '2027-13-01', '2027-00-10', '2027-03-01T24:00', '2027-03-01T12:60', '2027-03-01T12:00+15:00', 'tomorrow', '27-03-01']) {
      expect(parseIsoTime(text), text).toEqual({problem: 'format'})
    }
  })

  it('lie between 1970 and the year 9999', () => {
    expect(parseIsoTime('1969-12-31')).toEqual({problem: 'range'})
    expect(parseIsoTime('9999-12-31T23:59:59-14:00')).toEqual({problem: 'range'})
    expect(parseIsoTime('9999-12-31T23:59:59Z')).toEqual({time: new Date('9999-12-31T23:59:59Z')})
    expect(refusal(() => timeFlag('expires-at', '0001-01-01')).message).toBe('--expires-at: "0001-01-01" is out of range: give a date from 1970-01-01 to 9999-12-31.')
    expect(refusal(() => timeFlag('expires-at', '2027-02-30')).message).toBe('--expires-at: "2027-02-30" is not an ISO-8601 date such as 2027-03-01 or 2027-03-01T12:00:00Z.')
  })
})

describe('whole numbers', () => {
  it('are digits only, within their range, and ids stop where JavaScript numbers stop being exact', () => {
    expect(parseWhole('ALERT-ID', '42', {max: MAX_ID, min: 1})).toBe(42)
    expect(parseWhole('ALERT-ID', String(MAX_ID), {max: MAX_ID, min: 1})).toBe(MAX_ID)
    expect(refusal(() => parseWhole('ALERT-ID', '99999999999999999999999', {max: MAX_ID, min: 1})).message).toBe(
      'ALERT-ID: "99999999999999999999999" is out of range: give a whole number from 1 to 9007199254740991.',
    )
    expect(refusal(() => parseWhole('ALERT-ID', '9007199254740992', {max: MAX_ID, min: 1})).message).toContain('is out of range')
    for (const text of ['-5', '1e5', '0x10', '1.0', '', ' ', '１２']) {
      expect(refusal(() => parseWhole('--days', text, {max: 3650, min: 1})).message, text).toContain('is not a whole number: give a whole number from 1 to 3650')
    }

    expect(refusal(() => parseWhole('--days', '0', {max: 3650, min: 1})).message).toBe('--days: "0" is out of range: give a whole number from 1 to 3650.')
  })
})

describe('--from-env', () => {
  const TOKEN = 'shpat_0123456789abcdef0123456789abcdef'
  afterEach(() => {
    delete process.env.SYNTHEX_TEST_SECRET
  })

  const message = (work: () => unknown): string => {
    try {
      work()
    } catch (error) {
      return `${(error as Error).message} ${(error as {hint?: string}).hint ?? ''}`
    }

    throw new Error('expected an error')
  }

  it('never repeats what was typed when it is not clearly the name of a variable', () => {
    for (const typed of [TOKEN, 'xoxb-1234-5678-abcdef', 'SG.abcdef.ghijkl', 'ABCDEF0123456789ABCDEF0123456789', 'secret value with spaces']) {
      const said = message(() => readEnvSecret('--from-env', typed))
      expect(said, typed).not.toContain(typed)
      expect(said).toContain('--from-env')
    }

    expect(message(() => readEnvSecret('--from-env', 'not a name'))).toContain('--from-env needs the NAME of an environment variable (letters, digits, _), not its value; what was typed is not repeated.')
  })

  it('names a conventional variable that is not set, and reads one that is', () => {
    expect(message(() => readEnvSecret('--from-env', 'SHOPIFY_TOKN'))).toContain('the environment variable SHOPIFY_TOKN is not set or is empty')
    process.env.SYNTHEX_TEST_SECRET = TOKEN
    expect(readEnvSecret('--from-env', 'SYNTHEX_TEST_SECRET')).toBe(TOKEN)
  })
})

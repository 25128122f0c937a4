/**
 * `Retry-After` (RFC 9110, 10.2.3) as a provider sends it: delay-seconds or an HTTP date.
 * Whatever the value, the result is a whole number of milliseconds from 0 to one hour, or
 * undefined: a provider asking for 99999999999999999 seconds, or a date in the year 9999,
 * must not park a notification for ever nor make an invalid date out of it. `note` says
 * what was done with an unusual value, for the delivery's error message.
 */

export const RETRY_AFTER_CAP_MS = 3_600_000

export interface RetryAfter {
  readonly ms: number | undefined
  readonly note: string | undefined
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
const WEEKDAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)'
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)'
/** IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept. */
const HTTP_DATE = new RegExp(
  `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT|${WEEKDAY}, \\d{2}-${MONTH}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT|${DAY} ${MONTH} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4})$`,
)

export function parseRetryAfter(header: string | undefined, now = Date.now()): RetryAfter {
  const value = header?.trim() ?? ''
  if (value === '') return {ms: undefined, note: undefined}
  const seconds = /^(\d+)(?:\.(\d+))?$/.exec(value)
  if (seconds) {
    const whole = (seconds[1] ?? '').replace(/^0+(?=\d)/, '')
    // Compared as text first: 17 digits are beyond what a double holds exactly.
    // A fraction rounds up to the next second; Shopify's `1.0` is one second, not two.
    const ms = whole.length > 7 ? Number.POSITIVE_INFINITY : (Number(whole) + (/[1-9]/.test(seconds[2] ?? '') ? 1 : 0)) * 1000
    return ms > RETRY_AFTER_CAP_MS ? {ms: RETRY_AFTER_CAP_MS, note: `Retry-After ${shown(value)}s capped at 1h`} : {ms, note: undefined}
  }

  const at = HTTP_DATE.test(value) ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(at)) return {ms: undefined, note: `Retry-After "${shown(value)}" not understood; ignored`}
  const ms = Math.max(0, at - now)
  return ms > RETRY_AFTER_CAP_MS ? {ms: RETRY_AFTER_CAP_MS, note: `Retry-After ${shown(value)} capped at 1h`} : {ms, note: undefined}
}

/** A provider's value as it may be quoted: printable ASCII, at most 40 characters. */
function shown(value: string): string {
  const printable = value.replaceAll(/[^\x20-\x7e]/g, '?')
  return printable.length > 40 ? `${printable.slice(0, 40)}...` : printable
}

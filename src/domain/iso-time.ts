/** ISO-8601 dates and times as synthex accepts them, from flags and from files alike. */

/** An ISO-8601 date or time, as flags accept it (2025-06-01, 2025-06-01T12:00:00Z). */
export const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/

/** The times flags accept: none before the Unix epoch, none past what a four-digit year can say. */
const EARLIEST = Date.UTC(1970, 0, 1)
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
export const TIME_RANGE = 'from 1970-01-01 to 9999-12-31'

/**
 * An ISO-8601 time, checked field by field: `Date.parse` quietly takes 2027-02-30 for
 * March 2nd. A date alone is midnight UTC; a time without an offset is local time.
 */
export function parseIsoTime(text: string): {problem: 'format' | 'range'} | {time: Date} {
  const match = ISO_DATE.exec(text.trim())
  if (!match) return {problem: 'format'}
  const [, year, month, day, hour = '0', minute = '0', second = '0', offsetHours = '0', offsetMinutes = '0'] = match
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate()
  const valid =
    Number(month) >= 1 && Number(month) <= 12 && Number(day) >= 1 && Number(day) <= daysInMonth &&
    Number(hour) <= 23 && Number(minute) <= 59 && Number(second) <= 59 && Number(offsetHours) <= 14 && Number(offsetMinutes) <= 59
  const time = valid ? Date.parse(text.trim()) : Number.NaN
  if (Number.isNaN(time)) return {problem: 'format'}
  return time < EARLIEST || time > LATEST ? {problem: 'range'} : {time: new Date(time)}
}

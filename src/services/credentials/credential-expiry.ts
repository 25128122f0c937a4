import type {CredentialRow} from '../../db/schema.js'
import type {Severity} from '../../domain/severity.js'

/**
 * The arithmetic of credential expiry, pure: a credential's status, the time it has left and
 * how that is said, and the severity of the `credential_expiring` rule. How time left is
 * counted and rounded is decided here only, for `credentials list|get|expiring`, `health
 * check` and the alert rules alike.
 *
 * Thresholds compare the exact remaining milliseconds: a credential with 47 hours left is
 * not "within 1 day". What people read is rounded to the nearest unit, never down a whole
 * day: 90 days less a second reads "90 days", and below two days the hours are given
 * ("47 hours"), so a day of rounding never hides a day of time.
 */

export const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const MINUTE_MS = 60_000
/** A credential within this many days of its expiry is "expiring". */
export const EXPIRING_WITHIN_DAYS = 30

export type CredentialStatus = 'expired' | 'expiring' | 'ok' | 'revoked' | 'rotated'

export function credentialStatus(row: Pick<CredentialRow, 'expires_at' | 'revoked_at' | 'rotated_at'>, now: Date): CredentialStatus {
  if (row.revoked_at) return 'revoked'
  if (row.rotated_at) return 'rotated'
  if (!row.expires_at) return 'ok'
  const left = row.expires_at.getTime() - now.getTime()
  if (left <= 0) return 'expired'
  return left <= EXPIRING_WITHIN_DAYS * DAY_MS ? 'expiring' : 'ok'
}

/** Milliseconds until `expiresAt`: 0 or less once expired. */
export function remainingMs(expiresAt: Date, now: Date): number {
  return expiresAt.getTime() - now.getTime()
}

/**
 * Days until `expiresAt`, to the nearest whole day (90 right after `--expires-in 90d`);
 * negative once expired by half a day or more.
 */
export function daysLeft(expiresAt: Date, now: Date): number {
  // `+ 0` turns the -0 of a rounded small negative into 0.
  return Math.round(remainingMs(expiresAt, now) / DAY_MS) + 0
}

const count = (value: number, unit: string): string => `${value} ${unit}${value === 1 ? '' : 's'}`

/**
 * A span of time as a person says it, in the largest unit that reads at least 2 once
 * rounded to the nearest: `90 days`, `2 days` (from 47 h 30 min), `47 hours`, `2 hours`,
 * `119 minutes`, `1 minute`, `less than a minute`.
 */
export function describeSpan(ms: number): string {
  const span = Math.max(ms, 0)
  if (Math.round(span / HOUR_MS) >= 48) return count(Math.round(span / DAY_MS), 'day')
  if (Math.round(span / MINUTE_MS) >= 120) return count(Math.round(span / HOUR_MS), 'hour')
  const minutes = Math.round(span / MINUTE_MS)
  return minutes >= 1 ? count(minutes, 'minute') : 'less than a minute'
}

/**
 * The spans, in milliseconds, that describeSpan says as it says `ms`: [from, to), around
 * `ms`. A span reads alike while each rounding it goes through stays put: the nearest day
 * (above 47.5 hours), hour (above 119.5 minutes) or minute; `from` is -Infinity for what
 * reads "less than a minute" (anything below 30 seconds, negative spans included). The
 * alert rules use it to say how long a summary holds (alert-evaluation.ts).
 */
export function sameSpanWords(ms: number): {from: number; to: number} {
  const span = Math.max(ms, 0)
  const daysFrom = 47.5 * HOUR_MS
  const hoursFrom = 119.5 * MINUTE_MS
  if (Math.round(span / HOUR_MS) >= 48) {
    const days = Math.round(span / DAY_MS)
    return {from: Math.max((days - 0.5) * DAY_MS, daysFrom), to: (days + 0.5) * DAY_MS}
  }

  if (Math.round(span / MINUTE_MS) >= 120) {
    const hours = Math.round(span / HOUR_MS)
    return {from: Math.max((hours - 0.5) * HOUR_MS, hoursFrom), to: Math.min((hours + 0.5) * HOUR_MS, daysFrom)}
  }

  const minutes = Math.round(span / MINUTE_MS)
  return {from: minutes === 0 ? -Infinity : (minutes - 0.5) * MINUTE_MS, to: Math.min((minutes + 0.5) * MINUTE_MS, hoursFrom)}
}

/**
 * The instants (epoch milliseconds, [from, until)) around `now` at which expiryPhrase reads
 * as it does at `now`: "expires in 12 days" holds for a day, "expires in 40 minutes" for a
 * minute, "expired just now" for 30 seconds.
 */
export function samePhraseDuring(expiresAt: Date, now: Date): {from: number; until: number} {
  const expires = expiresAt.getTime()
  const left = remainingMs(expiresAt, now)
  if (left > 0) {
    // Time left shrinks as time passes; the phrase holds while it stays in its span and above 0.
    const {from, to} = sameSpanWords(left)
    return {from: expires - to + 1, until: expires - Math.max(from, 1) + 1}
  }

  const ago = -left
  if (ago < MINUTE_MS / 2) return {from: expires, until: expires + MINUTE_MS / 2}
  const {from, to} = sameSpanWords(ago)
  return {from: expires + from, until: expires + to}
}

/** `90 days`, `47 hours`... or `expired`: the time left column. */
export function timeLeft(expiresAt: Date, now: Date): string {
  const left = remainingMs(expiresAt, now)
  return left > 0 ? describeSpan(left) : 'expired'
}

/** `expires in 2 days`, `expires in 47 hours`, or `expired 3 days ago`, `expired 5 hours ago`. */
export function expiryPhrase(expiresAt: Date, now: Date): string {
  const left = remainingMs(expiresAt, now)
  if (left > 0) return `expires in ${describeSpan(left)}`
  const ago = -left
  return ago < MINUTE_MS / 2 ? 'expired just now' : `expired ${describeSpan(ago)} ago`
}

/** The thresholds of the `credential_expiring` rule, in days left (`alerts rules set`). */
export interface ExpiringThresholds {
  readonly critical?: number
  readonly info?: number
  readonly warning?: number
}

/**
 * How bad `leftMs` milliseconds before expiry is: the worst threshold whose whole span it is
 * within (critical 1 day, warning 7, info 30 unless set), and that threshold (at least 1) as
 * the days it is within; undefined above them all. 47 hours is within 7 days, not within 1.
 */
export function expiringSeverity(leftMs: number, thresholds: ExpiringThresholds): undefined | {severity: Severity; withinDays: number} {
  const {critical = 1, info = 30, warning = 7} = thresholds
  const within = (days: number): boolean => leftMs <= days * DAY_MS
  const severity: Severity | undefined = within(critical) ? 'critical' : within(warning) ? 'warning' : within(info) ? 'info' : undefined
  if (!severity) return undefined
  const days = severity === 'critical' ? critical : severity === 'warning' ? warning : info
  return {severity, withinDays: Math.max(days, 1)}
}

/**
 * The thresholds' instants around `now`, [from, until) in epoch milliseconds, between which
 * expiringSeverity says the same of a credential expiring at `expiresAt`: it changes only
 * when the time left reaches a threshold, or nothing (the credential expires).
 */
export function sameSeverityDuring(expiresAt: Date, now: Date, thresholds: ExpiringThresholds): {from: number; until: number} {
  const {critical = 1, info = 30, warning = 7} = thresholds
  const expires = expiresAt.getTime()
  // Within d days from expires - d days on (leftMs <= d days), and the rule changes at expiry.
  const changes = [critical, warning, info].map((days) => expires - days * DAY_MS).concat(expires)
  const at = now.getTime()
  return {
    from: Math.max(-Infinity, ...changes.filter((instant) => instant <= at)),
    until: Math.min(Infinity, ...changes.filter((instant) => instant > at)),
  }
}

/** How long before expiry the `credential_expiring` rule says anything at all: its widest threshold. */
export function expiringHorizonMs(thresholds: ExpiringThresholds): number {
  const {critical = 1, info = 30, warning = 7} = thresholds
  return Math.max(critical, warning, info) * DAY_MS
}

/**
 * The latest expiry the `credential_expiring` rule can alert on at `now`: its largest
 * threshold set. Credentials expiring after it are not read at all.
 */
export function expiringCutoff(thresholds: ExpiringThresholds, now: Date): Date {
  const horizon = Math.max(thresholds.info ?? 0, thresholds.warning ?? 0, thresholds.critical ?? 0)
  return new Date(now.getTime() + horizon * DAY_MS)
}

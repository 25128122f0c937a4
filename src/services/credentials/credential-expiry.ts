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
 * The latest expiry the `credential_expiring` rule can alert on at `now`: its largest
 * threshold set. Credentials expiring after it are not read at all.
 */
export function expiringCutoff(thresholds: ExpiringThresholds, now: Date): Date {
  const horizon = Math.max(thresholds.info ?? 0, thresholds.warning ?? 0, thresholds.critical ?? 0)
  return new Date(now.getTime() + horizon * DAY_MS)
}

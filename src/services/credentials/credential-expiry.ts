import type {CredentialRow} from '../../db/schema.js'
import type {Severity} from '../../domain/severity.js'

/**
 * The arithmetic of credential expiry, pure: a credential's status, its whole days left, and
 * the severity of the `credential_expiring` rule. How days are counted is decided here only
 * (daysLeft), for `credentials list|get|expiring` and for the alert rules alike.
 */

export const DAY_MS = 86_400_000
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

/** Whole days until `expiresAt`, rounded down: 0 within the last day, negative once expired. */
export function daysLeft(expiresAt: Date, now: Date): number {
  return Math.floor((expiresAt.getTime() - now.getTime()) / DAY_MS)
}

/** Whole days since `expiresAt`, rounded down: 0 on the day it expired. */
export function daysSinceExpiry(expiresAt: Date, now: Date): number {
  return Math.floor((now.getTime() - expiresAt.getTime()) / DAY_MS)
}

/** The thresholds of the `credential_expiring` rule, in days left (`alerts rules set`). */
export interface ExpiringThresholds {
  readonly critical?: number
  readonly info?: number
  readonly warning?: number
}

/**
 * How bad `left` days before expiry is: the worst threshold it is at or under (critical 1,
 * warning 7, info 30 unless set), and that threshold (at least 1) as the days it is within;
 * undefined above them all.
 */
export function expiringSeverity(left: number, thresholds: ExpiringThresholds): undefined | {severity: Severity; withinDays: number} {
  const {critical = 1, info = 30, warning = 7} = thresholds
  const severity: Severity | undefined = left <= critical ? 'critical' : left <= warning ? 'warning' : left <= info ? 'info' : undefined
  if (!severity) return undefined
  const within = severity === 'critical' ? critical : severity === 'warning' ? warning : info
  return {severity, withinDays: Math.max(within, 1)}
}

/**
 * The latest expiry the `credential_expiring` rule can alert on at `now`: one day past its
 * largest threshold set, as days left are rounded down. Credentials expiring after it are not
 * read at all.
 */
export function expiringCutoff(thresholds: ExpiringThresholds, now: Date): Date {
  const horizon = Math.max(thresholds.info ?? 0, thresholds.warning ?? 0, thresholds.critical ?? 0)
  return new Date(now.getTime() + (horizon + 1) * DAY_MS)
}

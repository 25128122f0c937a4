/**
 * The events a webhook subscription may receive (README "Outbound webhooks" shows each with
 * an example). Audit events become public ones in the database, in the transaction that
 * records them (webhook_event_type in migrations/0015_webhooks.sql); the others are queued
 * by the service that decides them (webhook-queue.ts). No event carries a secret.
 */
export const WEBHOOK_EVENT_TYPES = [
  'tenant.created',
  'tenant.updated',
  'tenant.status_changed',
  'tenant.deleted',
  'tenant.app_uninstalled',
  'credential.set',
  'credential.rotated',
  'credential.revoked',
  'credential.expiring',
  'credential.expired',
  'alert.fired',
  'alert.escalated',
  'alert.resolved',
  'batch.completed',
  'health.status_changed',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** Sent by `webhooks test`: never queued, never matched by a pattern. */
export const PING = 'ping'

/** Whether `pattern` (an exact type, `family.*` or `*`) names a known event; as webhook_matches in SQL. */
export function isEventPattern(pattern: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('.*')) return WEBHOOK_EVENT_TYPES.some((type) => type.startsWith(pattern.slice(0, -1)))
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(pattern)
}

/** Whether an event of `type` goes to a subscription with these patterns (webhook_matches in SQL). */
export function matchesPatterns(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))))
}

/**
 * When a webhook delivery that did not get through is tried again, and when it is given up
 * (README "Outbound webhooks", "Delivery"): exponential backoff with full jitter, 30 s
 * doubling to an hour, never sooner than the receiver's Retry-After (capped at an hour by
 * src/net/retry-after.ts), for up to three days after the event; after that, `failed`.
 * Full jitter spreads the retries of a receiver that was down for everyone at once, so
 * that it is not met by all of them together when it comes back.
 */

export const BASE_BACKOFF_MS = 30_000
export const MAX_BACKOFF_MS = 3_600_000
/** A retry is never sooner than this, however the jitter falls: a receiver that is down is not hammered. */
export const MIN_BACKOFF_MS = 1000
/** How long after its event a delivery is still retried. */
export const RETRY_WINDOW_MS = 3 * 86_400_000

/** The wait after the `attempt`th failed attempt (1 for the first): uniform between MIN_BACKOFF_MS and 30 s x 2^(attempt-1), at most an hour. */
export function webhookBackoff(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(30, Math.max(0, attempt - 1)))
  return Math.max(MIN_BACKOFF_MS, Math.round(random() * ceiling))
}

export interface WebhookRetryPlan {
  /** Given up: the next attempt would fall beyond the retry window. */
  readonly final: boolean
  /** When the next attempt is due (meaningless when final). */
  readonly nextAttemptAt: Date
  readonly waitMs: number
}

/** After the `attempt`th attempt of a delivery of an event created at `createdAt` failed, at `now`, with a receiver that asked to wait `retryAfterMs`. */
export function webhookRetryPlan(options: {attempt: number; createdAt: Date; now: Date; random?: () => number; retryAfterMs?: number}): WebhookRetryPlan {
  const waitMs = Math.max(options.retryAfterMs ?? 0, webhookBackoff(options.attempt, options.random))
  const nextAttemptAt = new Date(options.now.getTime() + waitMs)
  return {final: nextAttemptAt.getTime() > options.createdAt.getTime() + RETRY_WINDOW_MS, nextAttemptAt, waitMs}
}

/**
 * When a failed delivery is tried again, and when it is given up: exponential backoff with
 * jitter, at least as long as the provider's Retry-After (already capped at an hour by
 * delivery-outcome.ts); retried on retryable failures until the last attempt.
 */

const BASE_BACKOFF_MS = 5000
const MAX_BACKOFF_MS = 30 * 60_000
export const DEFAULT_MAX_ATTEMPTS = 10

/** Exponential backoff with jitter: 5 s, 10 s, 20 s ... capped at 30 min, each between half and all of it. */
export function backoff(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

export interface RetryPlan {
  /** No more attempts: the failure is permanent, or this was the last attempt. */
  readonly final: boolean
  /** How long to wait before the next attempt. */
  readonly waitMs: number
}

/** After the `attempt`th attempt (1 for the first) failed with `failure`. */
export function retryPlan(failure: {readonly retryable: boolean; readonly retryAfterMs: number | undefined}, attempt: number, maxAttempts: number, random = Math.random): RetryPlan {
  return {final: !failure.retryable || attempt >= maxAttempts, waitMs: Math.max(failure.retryAfterMs ?? 0, backoff(attempt, random))}
}

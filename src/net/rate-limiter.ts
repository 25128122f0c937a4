import {setTimeout as sleep} from 'node:timers/promises'

/** The time and the waiting a RateLimiter uses: the system's, or a test's. */
export interface LimiterClock {
  now(): number
  /** Resolves after `ms`; rejects if `signal` aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<unknown>
}

const SYSTEM_CLOCK: LimiterClock = {now: () => Date.now(), sleep: (ms, signal) => sleep(ms, undefined, {signal})}

/**
 * Spaces requests to one channel: at most `perMinute`, and none before a time the provider
 * asked for (Retry-After). Shared by the channel's workers in this process.
 */
export class RateLimiter {
  readonly #clock: LimiterClock
  readonly #interval: number
  #next = 0

  constructor(perMinute: number, clock: LimiterClock = SYSTEM_CLOCK) {
    this.#clock = clock
    this.#interval = 60_000 / Math.max(1, perMinute)
  }

  /** Nothing may be sent before `time` (epoch ms): a 429 with Retry-After holds the whole channel. */
  holdUntil(time: number): void {
    this.#next = Math.max(this.#next, time)
  }

  /** Waits for this request's turn; returns false if `signal` aborts or `deadline` passes first. */
  async take(signal: AbortSignal, deadline: number): Promise<boolean> {
    const now = this.#clock.now()
    const at = Math.max(now, this.#next)
    if (at > deadline) return false
    this.#next = at + this.#interval
    if (at > now) {
      try {
        await this.#clock.sleep(at - now, signal)
      } catch {
        return false
      }
    }

    return !signal.aborted
  }

  /** When the next request could go. */
  get nextAt(): number {
    return this.#next
  }
}

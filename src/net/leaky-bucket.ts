/**
 * A provider's leaky bucket, per key, as a client keeps it to never be refused: Shopify's
 * REST Admin API gives each shop a bucket of 40 requests that leaks 2 a second, and answers
 * 429 to a request that would overflow it. Unlike RateLimiter (rate-limiter.ts), which
 * spaces every request evenly, this lets a burst up to the bucket through at once, then
 * paces at the leak rate.
 *
 * `reserve` books requests and says when they may go: the booking is made at once, so
 * callers that wait for their time never overflow the bucket between them. The bucket is
 * counted when a request is sent; the provider counts it when it arrives, later, so the
 * provider's bucket is never fuller than this one.
 */
export class LeakyBuckets {
  readonly #buckets = new Map<string, {at: number; level: number}>()
  readonly #capacity: number
  readonly #perMs: number
  readonly #now: () => number

  constructor(options: {capacity: number; leakPerSecond: number; now?: () => number}) {
    this.#capacity = Math.max(1, options.capacity)
    this.#perMs = Math.max(1e-6, options.leakPerSecond / 1000)
    this.#now = options.now ?? Date.now
  }

  /** Keys with a booking not yet drained (for tests: memory stays bounded by what is active). */
  get size(): number {
    return this.#buckets.size
  }

  /** Nothing for `key` may go before `time` (epoch ms): a 429 with Retry-After holds the key. */
  holdUntil(key: string, time: number): void {
    const bucket = this.#buckets.get(key)
    const now = this.#now()
    if (bucket) bucket.at = Math.max(bucket.at, time)
    else this.#buckets.set(key, {at: Math.max(now, time), level: 0})
  }

  /**
   * Books `cost` requests for `key` and returns the epoch ms at which they may be sent (now,
   * or later when the bucket is full).
   */
  reserve(key: string, cost = 1): number {
    const now = this.#now()
    if (this.#buckets.size > 1024) this.#sweep(now)
    const bucket = this.#buckets.get(key) ?? {at: now, level: 0}
    const from = Math.max(now, bucket.at)
    const level = Math.max(0, bucket.level - Math.max(0, now - bucket.at) * this.#perMs)
    const overflow = level + cost - this.#capacity
    const sendAt = overflow > 0 ? from + overflow / this.#perMs : from
    bucket.level = Math.min(this.#capacity, level - Math.max(0, sendAt - from) * this.#perMs + cost)
    bucket.at = sendAt
    this.#buckets.set(key, bucket)
    return sendAt
  }

  /** Forgets buckets that have drained: their next request goes at once anyway. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.at <= now && bucket.level - (now - bucket.at) * this.#perMs <= 0) this.#buckets.delete(key)
    }
  }
}

import {describe, expect, it} from 'vitest'

import {type LimiterClock, RateLimiter} from '../../src/net/rate-limiter.js'

const T0 = 1_000_000

/** A clock that waits for nothing: each sleep moves time on, and is recorded. */
function fakeClock(start = T0): LimiterClock & {time: number; waits: number[]} {
  const clock = {
    now: () => clock.time,
    async sleep(ms: number, signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw signal.reason
      clock.waits.push(ms)
      clock.time += ms
    },
    time: start,
    waits: [] as number[],
  }
  return clock
}

const NO_DEADLINE = Number.POSITIVE_INFINITY
const live = (): AbortSignal => new AbortController().signal

describe('the rate limiter', () => {
  it('lets the first request go at once and spaces the next ones evenly, at most perMinute a minute', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter(120, clock)
    for (let index = 0; index < 4; index++) expect(await limiter.take(live(), NO_DEADLINE)).toBe(true)
    expect(clock.waits).toEqual([500, 500, 500])
    expect(clock.time).toBe(T0 + 1500)
    expect(limiter.nextAt).toBe(T0 + 2000)
  })

  it('queues concurrent takers one interval apart, in order', async () => {
    // Taken at the same moment: each reserves its turn before waiting.
    const waits: number[] = []
    const limiter = new RateLimiter(60, {now: () => T0, sleep: async (ms) => waits.push(ms)})

    expect(await Promise.all([limiter.take(live(), NO_DEADLINE), limiter.take(live(), NO_DEADLINE), limiter.take(live(), NO_DEADLINE)])).toEqual([true, true, true])
    expect(waits).toEqual([1000, 2000])
  })

  it('does not save up turns while idle: after a pause, one goes at once and the next waits again', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter(60, clock)
    await limiter.take(live(), NO_DEADLINE)
    clock.time += 60_000
    await limiter.take(live(), NO_DEADLINE)
    await limiter.take(live(), NO_DEADLINE)
    expect(clock.waits).toEqual([1000])
  })

  it('allows at least one request a minute, whatever rate it is given', async () => {
    for (const perMinute of [0, -5, 0.5]) {
      const clock = fakeClock()
      const limiter = new RateLimiter(perMinute, clock)
      await limiter.take(live(), NO_DEADLINE)
      await limiter.take(live(), NO_DEADLINE)
      expect(clock.waits, String(perMinute)).toEqual([60_000])
    }
  })

  it('holds every request until the time a provider asked for, and never shortens a hold', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter(600, clock)
    limiter.holdUntil(T0 + 30_000)
    limiter.holdUntil(T0 + 5000)
    expect(limiter.nextAt).toBe(T0 + 30_000)
    expect(await limiter.take(live(), NO_DEADLINE)).toBe(true)
    expect(clock.time).toBe(T0 + 30_000)
    // A hold already past changes nothing.
    limiter.holdUntil(T0)
    await limiter.take(live(), NO_DEADLINE)
    expect(clock.waits).toEqual([30_000, 100])
  })

  it('refuses a turn that would come after the deadline, without taking it from the next request', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter(60, clock)
    await limiter.take(live(), NO_DEADLINE)
    expect(await limiter.take(live(), T0 + 999)).toBe(false)
    expect(limiter.nextAt).toBe(T0 + 1000)
    // A turn exactly at the deadline is still in time.
    expect(await limiter.take(live(), T0 + 1000)).toBe(true)
    expect(clock.waits).toEqual([1000])
  })

  it('gives up when the run is interrupted, before or during the wait', async () => {
    const stopped = new AbortController()
    stopped.abort()
    const clock = fakeClock()
    const limiter = new RateLimiter(60, clock)
    expect(await limiter.take(stopped.signal, NO_DEADLINE)).toBe(false)
    expect(await limiter.take(stopped.signal, NO_DEADLINE)).toBe(false)

    const interrupted = new AbortController()
    const waiting = new RateLimiter(60, {
      now: () => T0,
      sleep: (_ms, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), {once: true})),
    })
    await waiting.take(live(), NO_DEADLINE)
    const turn = waiting.take(interrupted.signal, NO_DEADLINE)
    interrupted.abort()
    expect(await turn).toBe(false)
  })
})

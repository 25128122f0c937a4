import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {LeakyBuckets} from '../../src/net/leaky-bucket.js'

const T0 = 1_000_000

/** Shopify's bucket as Shopify keeps it: a request that would overflow it is refused. */
function providerBucket(capacity: number, leakPerSecond: number) {
  let level = 0
  let at = T0
  return (time: number): boolean => {
    level = Math.max(0, level - ((time - at) / 1000) * leakPerSecond)
    at = time
    if (level + 1 > capacity + 1e-9) return false
    level += 1
    return true
  }
}

describe('the leaky buckets', () => {
  it('lets a burst up to the bucket through at once, then paces at the leak rate', () => {
    let time = T0
    const buckets = new LeakyBuckets({capacity: 40, leakPerSecond: 2, now: () => time})
    const burst = Array.from({length: 20}, () => buckets.reserve('shop-a', 2))
    expect(burst.every((at) => at === T0)).toBe(true)
    // Full: the next two requests wait for two to leak, one second; the next ones a second each.
    expect(buckets.reserve('shop-a', 2)).toBe(T0 + 1000)
    expect(buckets.reserve('shop-a', 2)).toBe(T0 + 2000)
    // Another shop has a bucket of its own.
    expect(buckets.reserve('shop-b', 2)).toBe(T0)
    time = T0 + 60_000
    expect(buckets.reserve('shop-a', 2)).toBe(time)
  })

  it('holds a shop until the time a 429 asked for', () => {
    const time = T0
    const buckets = new LeakyBuckets({capacity: 40, leakPerSecond: 2, now: () => time})
    buckets.holdUntil('shop-a', T0 + 1500)
    expect(buckets.reserve('shop-a', 1)).toBe(T0 + 1500)
    expect(buckets.reserve('shop-b', 1)).toBe(T0)
  })

  it('never lets the provider refuse a request, whatever the arrivals', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({max: 2000, min: 0}), fc.integer({max: 3, min: 1})), {maxLength: 200, minLength: 1}), (steps) => {
        let time = T0
        const buckets = new LeakyBuckets({capacity: 40, leakPerSecond: 2, now: () => time})
        const sends: number[] = []
        for (const [gap, cost] of steps) {
          time += gap
          const at = buckets.reserve('shop', cost)
          expect(at).toBeGreaterThanOrEqual(time)
          for (let request = 0; request < cost; request++) sends.push(at)
        }

        const provider = providerBucket(40, 2)
        for (const at of sends.sort((a, b) => a - b)) expect(provider(at)).toBe(true)
      }),
    )
  })

  it('forgets drained buckets, so a fleet of shops costs no memory per shop', () => {
    let time = T0
    const buckets = new LeakyBuckets({capacity: 40, leakPerSecond: 2, now: () => time})
    for (let shop = 0; shop < 5000; shop++) {
      buckets.reserve(`shop-${shop}`, 2)
      time += 10
    }

    expect(buckets.size).toBeLessThan(1200)
  })
})

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {thousands} from '../../src/text/thousands.js'

describe('thousands', () => {
  it('groups digits as toLocaleString(\'en-US\') does', () => {
    for (const value of [0, 7, 999, 1000, 12_345, 100_000, 1_000_000, -1, -1234, Number.MAX_SAFE_INTEGER, 1.5, Number.NaN]) expect(thousands(value), String(value)).toBe(value.toLocaleString('en-US'))
    fc.assert(fc.property(fc.integer({max: Number.MAX_SAFE_INTEGER, min: Number.MIN_SAFE_INTEGER}), (value) => thousands(value) === value.toLocaleString('en-US')))
  })
})

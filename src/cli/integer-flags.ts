import {Args, Flags, type Interfaces} from '@oclif/core'

import {FlagValueError} from './flag-value-error.js'

/**
 * Whole-number flags and arguments with a range that is always checked. Ids are bigint in
 * the database but read as JavaScript numbers, exact up to 2^53 - 1: anything larger would
 * reach SQL as `1e+23` or be silently rounded, so it is refused where it is typed.
 */
export const MAX_ID = Number.MAX_SAFE_INTEGER

const WHOLE = /^\d+$/

/** The number in `input`, or a usage error naming `name` and the range. */
export function parseWhole(name: string, input: string, range: {max: number; min: number}): number {
  const text = input.trim()
  const value = WHOLE.test(text) ? Number(text) : Number.NaN
  const accepted = `give a whole number from ${range.min} to ${range.max}`
  if (Number.isNaN(value)) throw new FlagValueError(name, input, `is not a whole number: ${accepted}`)
  if (value < range.min || value > range.max) throw new FlagValueError(name, input, `is out of range: ${accepted}`)
  return value
}

interface IntegerOptions {
  readonly default?: number
  readonly description: string
  readonly helpValue?: string
  readonly hidden?: boolean
  readonly max: number
  readonly min: number
}

/** A whole-number flag; `max` is required, so no flag takes a number the code or the database cannot hold. */
export function integerFlag(options: IntegerOptions & {default: number}): Interfaces.OptionFlag<number>
export function integerFlag(options: IntegerOptions): Interfaces.OptionFlag<number | undefined>
export function integerFlag(options: IntegerOptions): Interfaces.OptionFlag<number | undefined> {
  const {max, min, ...rest} = options
  return Flags.custom<number>({
    ...rest,
    parse: async (input, _context, flag) => parseWhole(`--${flag.name}`, input, {max, min}),
  })()
}

/** A required id argument, such as an alert's or a silence's; errors name it as the usage line does (ALERT-ID). */
export function idArg(options: {description: string}) {
  return Args.custom<number>({
    description: options.description,
    parse: async (input, _context, arg) => parseWhole(arg.name.toUpperCase(), input, {max: MAX_ID, min: 1}),
  })({required: true})
}

/** An id flag, such as `--after <event id>` (0 for "from the start"). */
export function idFlag(options: {description: string; helpValue?: string}) {
  return integerFlag({...options, max: MAX_ID, min: 0})
}

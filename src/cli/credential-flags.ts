import {Flags} from '@oclif/core'

import {describeDurationRange, type DurationRange, readDuration} from '../domain/durations.js'
import type {CredentialService} from '../db/schema.js'
import {CREDENTIAL_SERVICES, type CredentialRef, DEFAULT_LABEL} from '../services/credentials/credentials.js'
import {FlagValueError} from './flag-value-error.js'
import {parseIsoTime, TIME_RANGE} from '../domain/iso-time.js'

/** Which credential: `--service` and `--label`, shared by every credentials command. */
export const credentialRefFlags = {
  label: Flags.string({default: DEFAULT_LABEL, description: 'Tells apart several credentials of one service (e.g. storefront, admin).', helpValue: '<label>'}),
  service: Flags.string({description: 'The API the credential is for.', options: [...CREDENTIAL_SERVICES], required: true}),
}

/** Where the secret comes from. There is no flag that takes a secret as its value. */
export const secretSourceFlags = {
  'from-env': Flags.string({description: 'Read the secret from this environment variable.', exclusive: ['value-stdin', 'from-file'], helpValue: '<NAME>'}),
  'from-file': Flags.string({description: 'Read the secret from this file (e.g. a service account JSON).', exclusive: ['value-stdin', 'from-env'], helpValue: '<path>'}),
  'value-stdin': Flags.boolean({description: 'Read the secret from standard input.', exclusive: ['from-file', 'from-env']}),
}

export const expiryFlags = {
  'expires-at': Flags.string({description: 'When it expires, ISO-8601 (2027-03-01 or 2027-03-01T12:00:00Z).', exclusive: ['expires-in'], helpValue: '<date>'}),
  'expires-in': Flags.string({description: 'When it expires, from now (90d, 12w, 36h).', exclusive: ['expires-at'], helpValue: '<duration>'}),
}

export function credentialRef(tenantId: string, flags: {label: string; service: string}): CredentialRef {
  return {label: flags.label, service: flags.service as CredentialService, tenantId}
}

// The ISO-8601 reading is shared with `batch credentials set`, whose rows carry the same dates.
export {ISO_DATE, parseIsoTime, TIME_RANGE} from '../domain/iso-time.js'

const DURATION_EXAMPLES = 'such as 30d, 2w or 12h'

/** A duration flag's value in milliseconds, within `range` (0s to 36500d unless narrowed). */
export function durationFlag(name: string, value: string, range: DurationRange = {}, examples = DURATION_EXAMPLES): number {
  const reading = readDuration(value, range)
  if (reading.ok) return reading.ms
  // A bare number is a duration without its unit; a few digits are no secret to repeat.
  const bare = /^\s*(\d{1,6})\s*$/.exec(value)?.[1]
  if (bare !== undefined) {
    const said = withUnits(Number(bare), range).map((unit) => `${bare}${unit} (${UNIT_WORDS[unit]})`)
    const options = said.length > 1 ? `${said.slice(0, -1).join(', ')} or ${said.at(-1)}` : (said[0] ?? describeDurationRange(range))
    throw new FlagValueError(`--${name}`, value, 'needs a unit', `--${name} needs a unit: ${options}.`)
  }

  throw new FlagValueError(
    `--${name}`,
    value,
    reading.problem === 'format' ? `is not a duration ${examples}` : `is out of range: give a duration ${describeDurationRange(range)}`,
  )
}

const UNIT_MS = {d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, w: 604_800_000} as const
const UNIT_WORDS = {d: 'days', h: 'hours', m: 'minutes', s: 'seconds', w: 'weeks'} as const

/** The units that make `count` a duration within `range`: long ones for long ranges (expiries), short ones for timeouts. */
function withUnits(count: number, range: DurationRange): Array<keyof typeof UNIT_MS> {
  const short = (range.max ?? Number.POSITIVE_INFINITY) <= UNIT_MS.d
  const order = short ? (['s', 'm', 'h'] as const) : (['d', 'h', 'w', 'm'] as const)
  return order.filter((unit) => readDuration(`${count}${unit}`, range).ok).slice(0, 3)
}

/** A time flag: an ISO-8601 date or time. */
export function timeFlag(name: string, value: string): Date {
  const parsed = parseIsoTime(value)
  if ('time' in parsed) return parsed.time
  throw new FlagValueError(
    `--${name}`,
    value,
    parsed.problem === 'format' ? 'is not an ISO-8601 date such as 2027-03-01 or 2027-03-01T12:00:00Z' : `is out of range: give a date ${TIME_RANGE}`,
  )
}

/** The expiry the flags give, or null for none. */
export function expiryFromFlags(flags: {'expires-at'?: string; 'expires-in'?: string}, now = new Date()): Date | null {
  const at = flags['expires-at']
  if (at !== undefined) return timeFlag('expires-at', at)
  const within = flags['expires-in']
  if (within !== undefined) return new Date(now.getTime() + durationFlag('expires-in', within, {}, 'such as 90d, 12w or 36h'))
  return null
}

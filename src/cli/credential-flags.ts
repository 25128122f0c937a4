import {Flags} from '@oclif/core'

import {parseDuration} from '../config/duration.js'
import type {CredentialService} from '../db/schema.js'
import {SynthexError} from '../errors/synthex-error.js'
import {CREDENTIAL_SERVICES, type CredentialRef, DEFAULT_LABEL} from '../services/credentials.js'

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

/** An ISO-8601 date or time, as flags accept it (2025-06-01, 2025-06-01T12:00:00Z). */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

/** The expiry the flags give, or null for none. */
export function expiryFromFlags(flags: {'expires-at'?: string; 'expires-in'?: string}, now = new Date()): Date | null {
  const at = flags['expires-at']
  if (at !== undefined) {
    const time = ISO_DATE.test(at.trim()) ? Date.parse(at.trim()) : Number.NaN
    if (Number.isNaN(time)) throw new SynthexError(`--expires-at: "${at}" is not an ISO-8601 date such as 2027-03-01 or 2027-03-01T12:00:00Z.`, {code: 'USAGE', kind: 'usage'})
    return new Date(time)
  }

  const within = flags['expires-in']
  if (within !== undefined) {
    const ms = parseDuration(within)
    if (ms === undefined) throw new SynthexError(`--expires-in: "${within}" is not a duration such as 90d, 12w or 36h.`, {code: 'USAGE', kind: 'usage'})
    return new Date(now.getTime() + ms)
  }

  return null
}

/** A `--within 30d` style flag's value in milliseconds. */
export function durationFlag(name: string, value: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) throw new SynthexError(`--${name}: "${value}" is not a duration such as 30d, 2w or 12h.`, {code: 'USAGE', kind: 'usage'})
  return ms
}

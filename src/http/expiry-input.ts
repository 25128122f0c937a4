import {parseDuration} from '../domain/durations.js'
import {parseIsoTime} from '../domain/iso-time.js'
import {InvalidInputError} from '../errors/input-errors.js'

/**
 * An expiry as a request body gives it: `expiresAt` (ISO 8601) or `expiresIn` (a duration
 * from now, e.g. 90d), not both; null when neither is given. For credentials and API keys.
 */
export function expiryOf(body: {expiresAt?: string; expiresIn?: string}, now: Date): Date | null {
  if (body.expiresAt !== undefined && body.expiresIn !== undefined) throw new InvalidInputError([{field: 'expiresIn', message: 'give expiresAt or expiresIn, not both'}])
  if (body.expiresIn !== undefined) {
    const ms = parseDuration(body.expiresIn, {min: 60_000})
    if (ms === undefined) throw new InvalidInputError([{field: 'expiresIn', message: 'must be a duration such as 90d, 12w or 36h'}])
    return new Date(now.getTime() + ms)
  }

  if (body.expiresAt !== undefined) {
    const at = parseIsoTime(body.expiresAt)
    if ('problem' in at) throw new InvalidInputError([{field: 'expiresAt', message: 'must be an ISO 8601 date or time, e.g. 2027-06-30'}])
    return at.time
  }

  return null
}

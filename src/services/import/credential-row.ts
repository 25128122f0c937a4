import type {CredentialService} from '../../db/schema.js'
import {readDuration} from '../../domain/durations.js'
import {parseIsoTime, TIME_RANGE} from '../../domain/iso-time.js'
import {TENANT_FIELD_SPECS} from '../../domain/tenant-fields.js'
import type {FieldIssue} from '../../errors/input-errors.js'
import {CREDENTIAL_SERVICES, DEFAULT_LABEL, LABEL, LABEL_RULE, MAX_SECRET_BYTES} from '../credentials/credentials.js'
import type {CredentialColumn} from './credential-file.js'
import type {CsvRow} from './tenant-csv.js'
import {type Rejection, rejectionOf} from './tenant-row.js'

/**
 * One row of a `batch credentials set` file, checked by the rules of `credentials set`:
 * which credential, its value and its expiry, or every reason it is refused at once. Pure.
 * No reason ever quotes the value.
 */

export interface CredentialCandidate {
  /** null: no expiry. */
  readonly expiresAt: Date | null
  /** The expiry was given as a date (not relative to now): a stored credential with the same value and another date is a change. */
  readonly expiryIsDate: boolean
  readonly label: string
  readonly line: number
  readonly raw: readonly string[]
  readonly service: CredentialService
  readonly tenantId: string
  readonly value: string
}

export type CheckedCredentialRow = {readonly candidate: CredentialCandidate; readonly ok: true} | {readonly ok: false; readonly rejection: Rejection}

export function checkCredentialRow(row: CsvRow<CredentialColumn>, raw: readonly string[], now: Date): CheckedCredentialRow {
  if (row.problem) return {ok: false, rejection: {column: row.problem.column, line: row.line, raw, reason: row.problem.reason}}
  const {values} = row
  const issues: FieldIssue[] = []
  const tenant = TENANT_FIELD_SPECS.tenant_id.schema.safeParse(values.tenant_id)
  if (!tenant.success) issues.push({field: 'tenant_id', message: tenant.error.issues[0]?.message ?? 'is invalid'})
  const service = (values.service ?? '').trim().toLowerCase()
  if (service === '') issues.push({field: 'service', message: 'is required'})
  else if (!(CREDENTIAL_SERVICES as readonly string[]).includes(service)) issues.push({field: 'service', message: `must be one of ${CREDENTIAL_SERVICES.join(', ')}`})
  const label = (values.label ?? '').trim() || DEFAULT_LABEL
  if (!LABEL.test(label)) issues.push({field: 'label', message: LABEL_RULE})
  const value = values.value ?? ''
  if (value === '') issues.push({field: 'value', message: 'is required (the secret itself)'})
  else if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) issues.push({field: 'value', message: `is larger than ${MAX_SECRET_BYTES / 1024} KiB`})
  const expiry = readExpiry(values.expires_at?.trim() ?? '', values.expires_in?.trim() ?? '', now, issues)
  if (issues.length > 0 || !tenant.success) return {ok: false, rejection: rejectionOf(row.line, raw, issues)}
  return {
    candidate: {...expiry, label, line: row.line, raw, service: service as CredentialService, tenantId: tenant.data as string, value},
    ok: true,
  }
}

function readExpiry(at: string, within: string, now: Date, issues: FieldIssue[]): {expiresAt: Date | null; expiryIsDate: boolean} {
  if (at !== '' && within !== '') {
    issues.push({field: 'expires_at', message: 'and expires_in are both given; give one of them'})
    return {expiresAt: null, expiryIsDate: false}
  }

  if (at !== '') {
    const parsed = parseIsoTime(at)
    if (!('time' in parsed)) {
      issues.push({field: 'expires_at', message: parsed.problem === 'format' ? 'is not an ISO-8601 date such as 2027-03-01 or 2027-03-01T12:00:00Z' : `is out of range: give a date ${TIME_RANGE}`})
      return {expiresAt: null, expiryIsDate: true}
    }

    if (parsed.time.getTime() <= now.getTime()) issues.push({field: 'expires_at', message: `is in the past (${parsed.time.toISOString()})`})
    return {expiresAt: parsed.time, expiryIsDate: true}
  }

  if (within !== '') {
    const reading = readDuration(within, {min: 1000})
    if (!reading.ok) {
      issues.push({field: 'expires_in', message: reading.problem === 'format' ? 'is not a duration such as 90d, 12w or 36h (a unit is required)' : 'is out of range: give a duration from 1s to 36500d'})
      return {expiresAt: null, expiryIsDate: false}
    }

    return {expiresAt: new Date(now.getTime() + reading.ms), expiryIsDate: false}
  }

  return {expiresAt: null, expiryIsDate: false}
}

/** The key of a credential in a file: a second row with it is a duplicate. */
export function credentialKey(candidate: Pick<CredentialCandidate, 'label' | 'service' | 'tenantId'>): string {
  return `${candidate.tenantId}\u0000${candidate.service}\u0000${candidate.label}`
}

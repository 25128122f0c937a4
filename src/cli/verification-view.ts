import type {VerificationFailure, VerificationProgress} from '../services/verification/verification-run.js'
import {VERIFICATION_OUTCOMES} from '../services/verification/verification-result.js'
import type {VerificationOutcome} from '../db/schema.js'
import {thousands} from '../text/thousands.js'
import type {Column} from './output.js'
import {rowsPerSecond} from './progress.js'

/** The credentials a verification run found not valid, as `credentials verify` lists them. */
export const VERIFICATION_FAILURE_COLUMNS: ReadonlyArray<Column<VerificationFailure>> = [
  {header: 'Workspace', key: 'workspace', value: (failure) => failure.workspace},
  {header: 'Tenant', key: 'tenant_id', value: (failure) => failure.tenantId},
  {header: 'Service', key: 'service', value: (failure) => failure.service},
  {header: 'Label', key: 'label', value: (failure) => failure.label},
  {header: 'Outcome', key: 'outcome', style: (failure) => (failure.outcome === 'rejected' || failure.outcome === 'scopes_missing' ? 'red' : 'yellow'), value: (failure) => failure.outcome},
  {header: 'Reason', key: 'reason', value: (failure) => failure.reason},
  {header: 'HTTP', key: 'http_status', value: (failure) => failure.httpStatus},
  {header: 'Message', key: 'message', value: (failure) => failure.message},
]

/** `12 valid, 1 rejected, 0 scopes_missing, ...`: every outcome, in the report order. */
export function outcomeCounts(counts: Readonly<Record<VerificationOutcome, number>>): string {
  return VERIFICATION_OUTCOMES.map((outcome) => `${thousands(counts[outcome])} ${outcome}`).join(', ')
}

export function describeVerificationProgress(progress: Readonly<VerificationProgress>, milliseconds: number): string {
  const retried = progress.retried > 0 ? `, ${thousands(progress.retried)} retried after 429` : ''
  return `Verifying: ${thousands(progress.read)} of ${thousands(progress.total)} (${outcomeCounts(progress.byOutcome)}${retried}; ${thousands(rowsPerSecond(progress.read, milliseconds))}/s)`
}

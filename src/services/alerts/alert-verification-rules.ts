import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import type {AlertCandidate} from './alert-evaluation.js'
import type {AlertRule} from './alert-rules.js'
import {FAILED_CALL_OUTCOMES, REJECTED_OUTCOMES} from '../verification/verification-result.js'
import {thousands} from '../../text/thousands.js'
import {alertFingerprint, credentialName} from './alert-naming.js'

/**
 * The rules on what `credentials verify` found (migrations/0013_credential_verification.sql):
 *
 * - credential_invalid: an active credential whose latest answer says the provider refuses it.
 * - credential_scopes_missing: an active credential whose latest answer lacks a required scope.
 * - tenant_api_errors / tenant_api_slow: the share of failed calls, and the p95 latency, of a
 *   tenant's answers in the hour up to its latest answer.
 *
 * None of them reads the clock: what they say changes only when an answer is recorded, a
 * credential is rotated or revoked, a tenant is renamed or suspended, or a rule changes, and
 * each of those marks a change for quietSince (alert-evaluation.ts) through the triggers of
 * migrations 0011 and 0013. So a run with nothing new leaves their alerts alone, and a run
 * after a change finds them all afresh and re-decides every open one of them. Their alerts
 * carry a subject (the credential or the tenant) and a steady state that holds for ever, so
 * that a quiet run neither reads nor resolves them, and recordEvaluation counts them.
 */

export const VERIFICATION_RULES = ['credential_invalid', 'credential_scopes_missing', 'tenant_api_errors', 'tenant_api_slow'] as const
export type VerificationRuleName = (typeof VERIFICATION_RULES)[number]

/** The hour of answers tenant_api_errors and tenant_api_slow read, up to the tenant's latest answer. */
export const API_WINDOW_MS = 3_600_000

/** A credential whose latest answer is rejected or scopes_missing, as the database returns it. */
export interface VerifiedCredential {
  readonly credentialId: string
  readonly httpStatus: null | number
  readonly label: string
  readonly message: null | string
  readonly name: string
  readonly outcome: string
  readonly reason: string
  readonly scopesMissing: readonly string[]
  readonly service: string
  readonly slug: string
  readonly tenantId: string
  readonly tenantUuid: string
  readonly verifiedMs: number
  readonly workspaceId: string
}

/** A tenant's answers in the hour up to its latest one, as the database returns them. */
export interface TenantCalls {
  readonly calls: number
  readonly failed: number
  /** Epoch milliseconds of the tenant's latest answer: the end of the window. */
  readonly lastMs: number
  readonly name: string
  /** The 95th percentile of the answers' latencies (percentile_cont), in milliseconds. */
  readonly p95Ms: number
  readonly slug: string
  readonly tenantId: string
  readonly tenantUuid: string
  readonly workspaceId: string
}

/** Nothing these rules say changes with the clock: from always, until never (see the top of this file). */
const steadyOf = (subject: string) => ({basis: [], from: Number.NEGATIVE_INFINITY, subject, until: Number.POSITIVE_INFINITY})

function whoOf(row: Pick<VerifiedCredential, 'name' | 'slug' | 'tenantId' | 'workspaceId'>) {
  return {tenantId: row.tenantId, tenantName: row.name, workspace: row.slug, workspaceId: row.workspaceId}
}

/** credential_invalid or credential_scopes_missing of one credential, by its latest answer; one fingerprint per rule and credential slot. */
export function verifiedCredentialFinding(row: VerifiedCredential): AlertCandidate | undefined {
  const what = `${credentialName(row.service, row.label)} of ${row.name} (${row.tenantId})`
  const base = {httpStatus: row.httpStatus, label: row.label, message: row.message, reason: row.reason, service: row.service, verifiedAt: new Date(row.verifiedMs).toISOString()}
  const slot = [row.workspaceId, row.tenantUuid, row.service, row.label]
  if ((REJECTED_OUTCOMES as readonly string[]).includes(row.outcome)) {
    return {
      ...whoOf(row),
      details: base,
      fingerprint: alertFingerprint(['credential_invalid', ...slot]),
      rule: 'credential_invalid',
      severity: 'critical',
      steady: steadyOf(row.credentialId),
      summary: `${what} is rejected by the provider: ${row.reason}${row.httpStatus === null ? '' : ` (${row.httpStatus})`}`,
    }
  }

  if (row.outcome !== 'scopes_missing') return undefined
  const missing = row.scopesMissing.length > 0 ? row.scopesMissing.join(', ') : `none named (${row.reason}${row.httpStatus === null ? '' : `, ${row.httpStatus}`})`
  return {
    ...whoOf(row),
    details: {...base, scopesMissing: [...row.scopesMissing]},
    fingerprint: alertFingerprint(['credential_scopes_missing', ...slot]),
    rule: 'credential_scopes_missing',
    severity: 'warning',
    steady: steadyOf(row.credentialId),
    summary: `${what} lacks required scopes: ${missing}`,
  }
}

/** tenant_api_errors and tenant_api_slow of one tenant, by its answers in the hour up to its latest one. */
export function tenantCallsFindings(row: TenantCalls, rules: {errors?: AlertRule; slow?: AlertRule}): AlertCandidate[] {
  const findings: AlertCandidate[] = []
  const who = `${row.name} (${row.tenantId})`
  const window = {calls: row.calls, windowEnd: new Date(row.lastMs).toISOString(), windowStart: new Date(row.lastMs - API_WINDOW_MS).toISOString()}
  if (rules.errors) {
    const {min_calls: minCalls = 1, percent = 5} = rules.errors.params
    // Exact: failed / calls > percent / 100, in whole numbers.
    if (row.calls >= minCalls && row.failed * 100 > percent * row.calls) {
      const share = Math.round((1000 * row.failed) / row.calls) / 10
      findings.push({
        ...whoOf(row),
        details: {...window, failed: row.failed, failedPercent: share, thresholdPercent: percent},
        fingerprint: alertFingerprint(['tenant_api_errors', row.workspaceId, row.tenantUuid]),
        rule: 'tenant_api_errors',
        severity: 'warning',
        steady: steadyOf(row.tenantUuid),
        summary: `${who}: ${thousands(row.failed)} of ${thousands(row.calls)} API calls failed (${share}%, over ${percent}%) in the hour up to its last verification`,
      })
    }
  }

  if (rules.slow) {
    const {min_calls: minCalls = 1, p95_ms: p95Ms = 2000} = rules.slow.params
    if (row.calls >= minCalls && row.p95Ms > p95Ms) {
      const p95 = Math.round(row.p95Ms)
      findings.push({
        ...whoOf(row),
        details: {...window, p95Ms: p95, thresholdMs: p95Ms},
        fingerprint: alertFingerprint(['tenant_api_slow', row.workspaceId, row.tenantUuid]),
        rule: 'tenant_api_slow',
        severity: 'warning',
        steady: steadyOf(row.tenantUuid),
        summary: `${who}: API calls took ${thousands(p95)} ms at p95 (over ${thousands(p95Ms)} ms) in the hour up to its last verification`,
      })
    }
  }

  return findings
}

interface CredentialRow {
  readonly credential_id: string
  readonly http_status: null | number
  readonly label: string
  readonly message: null | string
  readonly name: string
  readonly outcome: string
  readonly reason: string
  readonly scopes_missing: string[]
  readonly service: string
  readonly slug: string
  readonly tenant_id: string
  readonly tenant_uuid: string
  readonly verified_ms: number | string
  readonly workspace_id: string
}

interface TenantRow {
  readonly calls: number
  readonly failed: number
  readonly last_ms: number | string
  readonly name: string
  readonly p95_ms: number
  readonly slug: string
  readonly tenant_id: string
  readonly tenant_uuid: string
  readonly workspace_id: string
}

const ms = (column: string) => sql`trunc(extract(epoch from ${sql.ref(column)}) * 1000)::bigint`
/** Outcomes as literals, so that the planner can match credential_verification_latest_failing's predicate. */
const literals = (outcomes: readonly string[]) => sql.join(outcomes.map((outcome) => sql.lit(outcome)))

/**
 * What the verification rules find now, for the rules enabled: every finding, read afresh
 * (a run after a change re-decides all their open alerts; a quiet run calls nothing here).
 * Suspended tenants never alert; only active credentials (neither rotated nor revoked) do.
 */
export async function verificationFindings(db: Db, byName: ReadonlyMap<string, AlertRule>): Promise<AlertCandidate[]> {
  const invalid = byName.get('credential_invalid')
  const scopes = byName.get('credential_scopes_missing')
  const errors = byName.get('tenant_api_errors')
  const slow = byName.get('tenant_api_slow')
  const outcomes = [...(invalid ? REJECTED_OUTCOMES : []), ...(scopes ? ['scopes_missing'] : [])]
  // One after the other: this runs inside the reconcile's transaction, on one connection.
  const credentials =
    outcomes.length === 0
      ? {rows: [] as CredentialRow[]}
      : await sql<CredentialRow>`
          select c.id as credential_id, c.service, c.label, t.id as tenant_uuid, t.tenant_id, t.name, t.workspace_id, w.slug,
                 v.outcome, v.reason, v.http_status, v.message, v.scopes_missing, ${ms('v.verified_at')} as verified_ms
          from credential_verification_latest as l
          join credentials as c on c.id = l.credential_id
          join tenants as t on t.id = c.tenant_id
          join workspaces as w on w.id = t.workspace_id
          join credential_verifications as v on v.id = l.verification_id
          where l.outcome in (${literals(outcomes)}) and l.outcome <> 'valid'
            and c.rotated_at is null and c.revoked_at is null and t.status <> 'suspended'`.execute(db)
  const tenants =
    !errors && !slow
      ? {rows: [] as TenantRow[]}
      : await sql<TenantRow>`
          select t.id as tenant_uuid, t.tenant_id, t.name, t.workspace_id, w.slug, ${ms('last.last_at')} as last_ms, s.calls, s.failed, s.p95_ms
          from (select tenant_id, max(verified_at) as last_at from credential_verification_latest group by tenant_id) as last
          join tenants as t on t.id = last.tenant_id
          join workspaces as w on w.id = t.workspace_id
          cross join lateral (
            select count(*)::int as calls, (count(*) filter (where v.outcome in (${literals(FAILED_CALL_OUTCOMES)})))::int as failed,
                   percentile_cont(0.95) within group (order by v.latency_ms)::float8 as p95_ms
            from credential_verifications as v
            where v.tenant_id = last.tenant_id and v.verified_at > last.last_at - make_interval(secs => ${API_WINDOW_MS / 1000}) and v.verified_at <= last.last_at) as s
          where t.status <> 'suspended' and s.calls >= least(${errors?.params.min_calls ?? 1}::int, ${slow?.params.min_calls ?? 1}::int)`.execute(db)
  const candidates: AlertCandidate[] = []
  for (const row of credentials.rows) {
    const candidate = verifiedCredentialFinding({
      credentialId: row.credential_id,
      httpStatus: row.http_status === null ? null : Number(row.http_status),
      label: row.label,
      message: row.message,
      name: row.name,
      outcome: row.outcome,
      reason: row.reason,
      scopesMissing: row.scopes_missing,
      service: row.service,
      slug: row.slug,
      tenantId: row.tenant_id,
      tenantUuid: row.tenant_uuid,
      verifiedMs: Number(row.verified_ms),
      workspaceId: row.workspace_id,
    })
    if (candidate) candidates.push(candidate)
  }

  for (const row of tenants.rows) {
    const calls = {
      calls: Number(row.calls),
      failed: Number(row.failed),
      lastMs: Number(row.last_ms),
      name: row.name,
      p95Ms: Number(row.p95_ms),
      slug: row.slug,
      tenantId: row.tenant_id,
      tenantUuid: row.tenant_uuid,
      workspaceId: row.workspace_id,
    }
    candidates.push(...tenantCallsFindings(calls, {errors, slow}))
  }

  return candidates
}

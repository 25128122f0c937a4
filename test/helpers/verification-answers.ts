import {sql} from 'kysely'

import type {Db} from '../../src/db/schema.js'
import type {VerificationOutcome} from '../../src/services/verification/verification-result.js'
import {recordVerifications} from '../../src/services/verification/verification-store.js'

/** The rules as migrations ship them: enabled, their thresholds and repeat intervals. */
export async function rulesAsShipped(db: Db): Promise<void> {
  await sql`
    update alert_rules set enabled = true,
      repeat_interval_seconds = case when name in ('health_failing', 'credential_invalid', 'tenant_api_errors', 'tenant_api_slow') then 3600 else 86400 end,
      params = case name when 'credential_expiring' then '{"info": 30, "warning": 7, "critical": 1}'::jsonb
                         when 'tenant_inactive' then '{"days": 30}'::jsonb when 'health_failing' then '{"runs": 3}'::jsonb
                         when 'tenant_api_errors' then '{"percent": 5, "min_calls": 1}'::jsonb
                         when 'tenant_api_slow' then '{"p95_ms": 2000, "min_calls": 1}'::jsonb else '{}'::jsonb end`.execute(db)
}

export interface Answer {
  readonly httpStatus?: null | number
  readonly latencyMs?: number
  readonly message?: null | string
  readonly reason?: string
  readonly scopesMissing?: readonly string[]
  readonly service?: 'gmc' | 'google' | 'shopify'
  readonly verifiedAt: Date
}

const REASONS: Record<VerificationOutcome, string> = {
  error: 'server_error',
  rejected: 'revoked_or_invalid',
  scopes_missing: 'scopes_missing',
  throttled: 'rate_limited',
  timeout: 'timeout',
  valid: 'ok',
}
const STATUSES: Record<VerificationOutcome, null | number> = {error: 503, rejected: 401, scopes_missing: 200, throttled: 429, timeout: null, valid: 200}

/**
 * Records one answer of `credentials verify` for a tenant's active credential of a service
 * (Shopify unless said), as a run records it (recordVerifications); false when the tenant
 * has no such credential.
 */
export async function recordAnswer(db: Db, tenantId: string, outcome: VerificationOutcome, options: Answer): Promise<boolean> {
  const service = options.service ?? 'shopify'
  const credential = await db
    .selectFrom('credentials')
    .innerJoin('tenants', 'tenants.id', 'credentials.tenant_id')
    .select(['credentials.id', 'credentials.tenant_id'])
    .where('tenants.tenant_id', '=', tenantId)
    .where('credentials.service', '=', service)
    .where('credentials.rotated_at', 'is', null)
    .where('credentials.revoked_at', 'is', null)
    .executeTakeFirst()
  if (!credential) return false
  const scopesMissing = options.scopesMissing ?? (outcome === 'scopes_missing' ? ['read_orders'] : [])
  await recordVerifications(db, null, [
    {
      credentialId: credential.id,
      httpStatus: options.httpStatus === undefined ? STATUSES[outcome] : options.httpStatus,
      latencyMs: options.latencyMs ?? 120,
      message: options.message === undefined ? (outcome === 'valid' ? null : `[API] ${REASONS[outcome]}`) : options.message,
      outcome,
      reason: options.reason ?? REASONS[outcome],
      scopesGranted: ['read_products'],
      scopesMissing,
      scopesRequired: ['read_products', ...scopesMissing],
      service,
      tenantUuid: credential.tenant_id,
      verifiedAt: options.verifiedAt,
    },
  ])
  return true
}

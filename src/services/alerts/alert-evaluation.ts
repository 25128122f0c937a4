import {createHash} from 'node:crypto'

import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import type {AlertRule} from './alert-rules.js'
import {type Severity} from '../../domain/severity.js'
import {daysLeft, describeSpan, expiringCutoff, expiringSeverity, expiryPhrase, remainingMs} from '../credentials/credential-expiry.js'

/**
 * What should be firing now, rule by rule, computed with one query per rule (a fleet of
 * 200,000 credentials is one indexed range scan, not 200,000 lookups). Suspended tenants
 * never alert, whatever the rule.
 */

export interface AlertCandidate {
  readonly details: Record<string, unknown>
  readonly fingerprint: string
  readonly rule: string
  readonly severity: Severity
  readonly summary: string
  readonly tenantId: string
  readonly tenantName: string
  readonly workspace: string
  readonly workspaceId: string
}

const DAY_MS = 86_400_000
const SERVICE_NAMES: Record<string, string> = {gmc: 'Merchant Center', google: 'Google', shopify: 'Shopify'}

/** Stable across runs and episodes: the same thing going wrong has the same fingerprint. */
export function alertFingerprint(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)
}

/**
 * One fingerprint per credential for both credential rules: an expiring credential that
 * expires is the same alert getting worse (the same PagerDuty incident), not one alert
 * resolving and another firing.
 */
function credentialFingerprint(row: {label: string; service: string; tenant_uuid: string; workspace_id: string}): string {
  return alertFingerprint(['credential', row.workspace_id, row.tenant_uuid, row.service, row.label])
}

function credentialName(service: string, label: string): string {
  return `${SERVICE_NAMES[service] ?? service} credential${label === 'default' ? '' : ` "${label}"`}`
}

export async function evaluateAlerts(db: Db, rules: readonly AlertRule[], now: Date): Promise<AlertCandidate[]> {
  const byName = new Map(rules.filter((rule) => rule.enabled).map((rule) => [rule.name, rule]))
  const candidates: AlertCandidate[] = []
  const expiring = byName.get('credential_expiring')
  const expired = byName.get('credential_expired')
  if (expiring || expired) {
    const rows = await db
      .selectFrom('credentials')
      .innerJoin('tenants', 'tenants.id', 'credentials.tenant_id')
      .innerJoin('workspaces', 'workspaces.id', 'tenants.workspace_id')
      .select([
        'credentials.service',
        'credentials.label',
        // Epoch milliseconds: a number is much cheaper to read than a timestamp, 20,000 times a run.
        sql<number>`extract(epoch from credentials.expires_at) * 1000`.as('expires_ms'),
        'tenants.id as tenant_uuid',
        'tenants.tenant_id',
        'tenants.name',
        'tenants.workspace_id',
        'workspaces.slug',
      ])
      .where('credentials.rotated_at', 'is', null)
      .where('credentials.revoked_at', 'is', null)
      .where('credentials.expires_at', '<=', expiringCutoff(expiring ? expiring.params : {}, now))
      .where('tenants.status', '<>', 'suspended')
      .execute()
    for (const row of rows) {
      const expiresAt = new Date(Number(row.expires_ms))
      const what = credentialName(row.service, row.label)
      const base = {service: row.service, label: row.label, expiresAt: expiresAt.toISOString(), daysLeft: daysLeft(expiresAt, now)}
      const who = {tenantId: row.tenant_id, tenantName: row.name, workspace: row.slug, workspaceId: row.workspace_id}
      if (expiresAt.getTime() <= now.getTime()) {
        if (!expired) continue
        candidates.push({
          ...who,
          details: base,
          fingerprint: credentialFingerprint(row),
          rule: 'credential_expired',
          severity: 'critical',
          summary: `${what} of ${row.name} (${row.tenant_id}) ${expiryPhrase(expiresAt, now)}`,
        })
        continue
      }

      if (!expiring) continue
      const level = expiringSeverity(remainingMs(expiresAt, now), expiring.params)
      if (!level) continue
      candidates.push({
        ...who,
        details: {...base, withinDays: level.withinDays},
        fingerprint: credentialFingerprint(row),
        rule: 'credential_expiring',
        severity: level.severity,
        summary: `${what} of ${row.name} (${row.tenant_id}) ${expiryPhrase(expiresAt, now)}`,
      })
    }
  }

  const inactive = byName.get('tenant_inactive')
  if (inactive) {
    const threshold = inactive.params.days ?? 30
    // Only tenants that showed a sign of life and then stopped (tenant-activity.ts): a tenant
    // with none yet has nothing to be measured by, however old its row.
    const rows = await db
      .selectFrom('tenants')
      .innerJoin('workspaces', 'workspaces.id', 'tenants.workspace_id')
      .select(['tenants.id as tenant_uuid', 'tenants.tenant_id', 'tenants.name', 'tenants.workspace_id', 'workspaces.slug', 'tenants.last_activity_at'])
      .where('tenants.status', '=', 'active')
      .where('tenants.last_activity_at', 'is not', null)
      .where('tenants.last_activity_at', '<=', new Date(now.getTime() - threshold * DAY_MS))
      .execute()
    for (const row of rows) {
      const since = row.last_activity_at as Date
      const idleMs = now.getTime() - since.getTime()
      candidates.push({
        details: {inactiveDays: Math.floor(idleMs / DAY_MS), lastActivityAt: since.toISOString(), thresholdDays: threshold},
        fingerprint: alertFingerprint(['tenant_inactive', row.workspace_id, row.tenant_uuid]),
        rule: 'tenant_inactive',
        severity: 'info',
        summary: `${row.name} (${row.tenant_id}) has had no activity for ${describeSpan(idleMs)}`,
        tenantId: row.tenant_id,
        tenantName: row.name,
        workspace: row.slug,
        workspaceId: row.workspace_id,
      })
    }
  }

  const failing = byName.get('health_failing')
  if (failing) {
    const runs = failing.params.runs ?? 3
    const latest = await db
      .selectFrom('health_runs')
      .leftJoin('workspaces', 'workspaces.id', 'health_runs.workspace_id')
      .select(['health_runs.status', 'health_runs.checks', 'health_runs.started_at', 'health_runs.workspace_id', 'workspaces.slug'])
      .orderBy('health_runs.id', 'desc')
      .limit(runs)
      .execute()
    const last = latest[0]
    if (last && latest.length === runs && latest.every((run) => run.status === 'unhealthy') && last.workspace_id && last.slug) {
      const unhealthy = (last.checks as Array<{name: string; reason: string; status: string}>).filter((check) => check.status === 'unhealthy')
      candidates.push({
        details: {checks: unhealthy.map((check) => `${check.name}: ${check.reason}`), lastRunAt: last.started_at.toISOString(), runs},
        // One alert for the whole installation, whichever workspace ran the checks.
        fingerprint: alertFingerprint(['health_failing']),
        rule: 'health_failing',
        severity: 'critical',
        summary: `health check unhealthy on ${runs} run${runs === 1 ? '' : 's'} in a row: ${unhealthy.map((check) => check.name).join(', ') || 'see synthex health check'}`,
        tenantId: '-',
        tenantName: 'synthex',
        workspace: last.slug,
        workspaceId: last.workspace_id,
      })
    }
  }

  return candidates
}

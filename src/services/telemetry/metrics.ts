import {rename, rm, writeFile} from 'node:fs/promises'

import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {INTERNAL_POLICY} from '../../net/address-policy.js'
import {outboundRequest} from '../../net/outbound-request.js'
import {type HealthReport, type HealthStatus} from '../health/health.js'
import {exposition, type MetricFamily} from '../../exporters/prometheus-text.js'
import {SEVERITIES} from '../../domain/severity.js'
import {VERIFICATION_OUTCOMES} from '../verification/verification-result.js'
import {webhookDeliveryCounts} from '../webhooks/webhook-deliveries.js'
import {accessDenialCounts, DENIAL_REASONS} from '../access/access-denials.js'
import {USER_ROLES} from '../access/roles.js'

/**
 * Fleet figures for Prometheus (`metrics`): tenants, credentials, the next expiry, firing
 * alerts, the outbox, command runs and durations, the latest health status, and what
 * `credentials verify` found (outcomes, latencies, tenants failing). Everything is read from
 * the database, so any machine sharing it reports the same numbers. No label carries a
 * secret or a provider's message: outcomes and services are closed sets.
 */

/** Seconds: a CLI command takes from a tenth of a second to minutes (a million-row import). */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const

/** Seconds: a provider answers a verification in tens of milliseconds to its timeout. */
export const VERIFICATION_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10] as const

/** The outcome of an active credential never verified (synthex_credential_verifications). */
const UNVERIFIED = 'unverified'

export const HEALTH_VALUE: Record<HealthStatus, number> = {degraded: 0.5, healthy: 1, unhealthy: 0}

export async function fleetMetrics(db: Db, now = new Date()): Promise<MetricFamily[]> {
  const [tenants, credentials, alerts, deliveries, commands, health, lastRun, verification, webhooks, denials] = await Promise.all([
    sql<{n: number; status: string; type: string; workspace: string}>`
      select w.slug as workspace, t.type, t.status, count(*)::int as n
      from tenants t join workspaces w on w.id = t.workspace_id group by 1, 2, 3 order by 1, 2, 3`.execute(db),
    sql<{n: number; next_days: null | number; status: string; workspace: string}>`
      select w.slug as workspace, s.status, count(*)::int as n,
             min(extract(epoch from c.expires_at - ${now}::timestamptz) / 86400) filter (where s.status in ('ok', 'expiring')) as next_days
      from credentials c
      join tenants t on t.id = c.tenant_id
      join workspaces w on w.id = t.workspace_id
      cross join lateral (select case
        when c.revoked_at is not null then 'revoked'
        when c.rotated_at is not null then 'rotated'
        when c.expires_at is not null and c.expires_at <= ${now} then 'expired'
        when c.expires_at is not null and c.expires_at <= ${now}::timestamptz + interval '30 days' then 'expiring'
        else 'ok' end as status) s
      group by 1, 2 order by 1, 2`.execute(db),
    sql<{n: number; severity: string}>`select severity, count(*)::int as n from alerts where state = 'firing' group by 1`.execute(db),
    sql<{n: number; state: string}>`select state, count(*)::int as n from alert_notifications group by 1`.execute(db),
    sql<{buckets: number[]; command: string; errors: number; runs: number; sum_ms: number}>`
      select command, count(*)::int as runs, count(*) filter (where exit_code <> 0)::int as errors, sum(duration_ms) as sum_ms,
             array[${sql.join(DURATION_BUCKETS.map((bucket) => sql`count(*) filter (where duration_ms <= ${bucket * 1000})::int`))}] as buckets
      from command_runs group by 1 order by 1`.execute(db),
    db.selectFrom('health_runs').select(['status', 'started_at', 'checks']).orderBy('id', 'desc').limit(1).executeTakeFirst(),
    db.selectFrom('alert_runs').select('started_at').where('dry_run', '=', false).orderBy('started_at', 'desc').limit(1).executeTakeFirst(),
    verificationMetrics(db),
    webhookDeliveryCounts(db),
    accessDenialCounts(db),
  ])

  const nextDays = credentials.rows.map((row) => row.next_days).filter((value): value is number => value !== null).map(Number)
  const firing = new Map(alerts.rows.map((row) => [row.severity, Number(row.n)]))
  const states = new Map(deliveries.rows.map((row) => [row.state, Number(row.n)]))
  const families: MetricFamily[] = [
    {
      help: 'Tenants by workspace, type and status.',
      name: 'synthex_tenants',
      samples: tenants.rows.map((row) => ({labels: {status: row.status, type: row.type, workspace: row.workspace}, value: Number(row.n)})),
      type: 'gauge',
    },
    {
      help: 'Credential versions by workspace and status (ok, expiring within 30 days, expired, rotated, revoked).',
      name: 'synthex_credentials',
      samples: credentials.rows.map((row) => ({labels: {status: row.status, workspace: row.workspace}, value: Number(row.n)})),
      type: 'gauge',
    },
    {
      help: 'Seconds until the next active credential expires (absent when none has an expiry ahead).',
      name: 'synthex_credential_next_expiry_seconds',
      samples: nextDays.length > 0 ? [{value: Math.round(Math.min(...nextDays) * 86_400)}] : [],
      type: 'gauge',
    },
    {
      help: 'Alerts firing, by severity.',
      name: 'synthex_alerts_firing',
      samples: SEVERITIES.map((severity) => ({labels: {severity}, value: firing.get(severity) ?? 0})),
      type: 'gauge',
    },
    {
      help: 'Notifications in the outbox, by state.',
      name: 'synthex_alert_deliveries',
      samples: (['pending', 'sent', 'failed', 'superseded'] as const).map((state) => ({labels: {state}, value: states.get(state) ?? 0})),
      type: 'gauge',
    },
    {
      help: 'Webhook deliveries by subscription and state (pending, sent, failed); every state of every subscription.',
      name: 'synthex_webhook_deliveries',
      samples: webhooks.flatMap(({counts, subscription}) => (['pending', 'sent', 'failed'] as const).map((state) => ({labels: {state, subscription}, value: counts[state]}))),
      type: 'gauge',
    },
    {
      help: 'Requests serve refused to a known key, by reason (scope, role, reach, revoked, expired, deactivated) and the key\'s role; every pair, from 0.',
      name: 'synthex_api_denied_requests_total',
      // Every pair from 0, so that rate() sees the first refusal of each.
      samples: DENIAL_REASONS.flatMap((reason) => USER_ROLES.map((role) => ({labels: {reason, role}, value: denials.find((row) => row.reason === reason && row.role === role)?.count ?? 0}))),
      type: 'counter',
    },
    {
      help: 'Unix time of the last alerts check-now run (the cron heartbeat).',
      name: 'synthex_alerts_last_run_timestamp_seconds',
      samples: lastRun ? [{value: Math.floor(lastRun.started_at.getTime() / 1000)}] : [],
      type: 'gauge',
    },
    {
      help: 'synthex commands run against this database, by command.',
      name: 'synthex_command_runs_total',
      samples: commands.rows.map((row) => ({labels: {command: row.command}, value: Number(row.runs)})),
      type: 'counter',
    },
    {
      help: 'synthex commands that exited non-zero, by command.',
      name: 'synthex_command_errors_total',
      samples: commands.rows.map((row) => ({labels: {command: row.command}, value: Number(row.errors)})),
      type: 'counter',
    },
    {
      help: 'How long synthex commands took, in seconds.',
      name: 'synthex_command_duration_seconds',
      samples: commands.rows.flatMap((row) => [
        ...DURATION_BUCKETS.map((bucket, index) => ({labels: {command: row.command, le: String(bucket)}, suffix: '_bucket', value: Number(row.buckets[index])})),
        {labels: {command: row.command, le: '+Inf'}, suffix: '_bucket', value: Number(row.runs)},
        {labels: {command: row.command}, suffix: '_sum', value: Number(row.sum_ms) / 1000},
        {labels: {command: row.command}, suffix: '_count', value: Number(row.runs)},
      ]),
      type: 'histogram',
    },
    {
      help: 'The latest health check: 1 healthy, 0.5 degraded, 0 unhealthy (absent before the first).',
      name: 'synthex_health_status',
      samples: health ? [{value: HEALTH_VALUE[health.status]}] : [],
      type: 'gauge',
    },
    {
      // As `health check --format prometheus` names them, so one Grafana panel reads either.
      help: 'Each check of the latest health check: 1 healthy, 0.5 degraded, 0 unhealthy (absent before the first).',
      name: 'synthex_health_check_status',
      samples: recordedChecks(health?.checks).map((check) => ({labels: {check: check.name}, value: HEALTH_VALUE[check.status]})),
      type: 'gauge',
    },
    ...verification,
  ]
  return families
}

/** The checks a health run recorded (health_runs.checks), those with a name and a status only. */
function recordedChecks(checks: unknown): Array<{name: string; status: HealthStatus}> {
  if (!Array.isArray(checks)) return []
  return checks.filter(
    (check): check is {name: string; status: HealthStatus} => typeof check?.name === 'string' && typeof check?.status === 'string' && Object.hasOwn(HEALTH_VALUE, check.status),
  )
}

/**
 * What `credentials verify` found (migrations/0013_credential_verification.sql): the active
 * credentials (of tenants not suspended) by their latest outcome, `unverified` for those
 * never verified, every outcome present for each workspace and service that has any; the
 * stored answers' latencies (the last 30 days: verification-store.ts prunes older ones);
 * and per workspace, the tenants failing as `health check` counts them (a credential
 * rejected or missing scopes).
 */
async function verificationMetrics(db: Db): Promise<MetricFamily[]> {
  const [latest, latencies, failing] = await Promise.all([
    sql<{n: number; outcome: null | string; service: string; workspace: string}>`
      select w.slug as workspace, c.service, l.outcome, count(*)::int as n
      from credentials c
      join tenants t on t.id = c.tenant_id
      join workspaces w on w.id = t.workspace_id
      left join credential_verification_latest l on l.credential_id = c.id
      where c.rotated_at is null and c.revoked_at is null and t.status <> 'suspended'
      group by 1, 2, 3 order by 1, 2, 3`.execute(db),
    sql<{buckets: number[]; n: number; outcome: string; service: string; sum_ms: number}>`
      select service, outcome, count(*)::int as n, sum(latency_ms)::float8 as sum_ms,
             array[${sql.join(VERIFICATION_LATENCY_BUCKETS.map((bucket) => sql`count(*) filter (where latency_ms <= ${bucket * 1000})::int`))}] as buckets
      from credential_verifications group by 1, 2 order by 1, 2`.execute(db),
    sql<{n: number; workspace: string}>`
      select w.slug as workspace, count(distinct f.tenant_id)::int as n
      from workspaces w
      left join (
        select t.workspace_id, t.id as tenant_id
        from credential_verification_latest l
        join credentials c on c.id = l.credential_id
        join tenants t on t.id = c.tenant_id
        where l.outcome in ('rejected', 'scopes_missing') and c.rotated_at is null and c.revoked_at is null and t.status <> 'suspended') as f on f.workspace_id = w.id
      group by 1 order by 1`.execute(db),
  ])

  const counts = new Map<string, Map<string, number>>()
  for (const row of latest.rows) {
    const key = `${row.workspace}\u0000${row.service}`
    const byOutcome = counts.get(key) ?? new Map<string, number>()
    byOutcome.set(row.outcome ?? UNVERIFIED, Number(row.n))
    counts.set(key, byOutcome)
  }

  const outcomes = [...VERIFICATION_OUTCOMES, UNVERIFIED]
  return [
    {
      help: 'Active credentials by workspace, service and the outcome of their latest verification (unverified: never verified).',
      name: 'synthex_credential_verifications',
      samples: [...counts].flatMap(([key, byOutcome]) => {
        const [workspace, service] = key.split('\u0000') as [string, string]
        return outcomes.map((outcome) => ({labels: {outcome, service, workspace}, value: byOutcome.get(outcome) ?? 0}))
      }),
      type: 'gauge',
    },
    {
      help: 'How long verifying a credential took, in seconds, by service and outcome, over the stored answers (the last 30 days).',
      name: 'synthex_credential_verification_latency_seconds',
      samples: latencies.rows.flatMap((row) => {
        const labels = {outcome: row.outcome, service: row.service}
        return [
          ...VERIFICATION_LATENCY_BUCKETS.map((bucket, index) => ({labels: {...labels, le: String(bucket)}, suffix: '_bucket', value: Number(row.buckets[index])})),
          {labels: {...labels, le: '+Inf'}, suffix: '_bucket', value: Number(row.n)},
          {labels, suffix: '_sum', value: Number(row.sum_ms) / 1000},
          {labels, suffix: '_count', value: Number(row.n)},
        ]
      }),
      type: 'histogram',
    },
    {
      help: 'Tenants with an active credential whose latest verification is rejected or missing scopes, by workspace.',
      name: 'synthex_tenants_verification_failing',
      samples: failing.rows.map((row) => ({labels: {workspace: row.workspace}, value: Number(row.n)})),
      type: 'gauge',
    },
  ]
}

/** A health report as metrics: overall and per check, with each check's duration. */
export function healthMetrics(report: HealthReport): MetricFamily[] {
  return [
    {help: 'Overall health: 1 healthy, 0.5 degraded, 0 unhealthy.', name: 'synthex_health_status', samples: [{value: HEALTH_VALUE[report.status]}], type: 'gauge'},
    {
      help: 'Each health check: 1 healthy, 0.5 degraded, 0 unhealthy.',
      name: 'synthex_health_check_status',
      samples: report.checks.map((check) => ({labels: {check: check.name}, value: HEALTH_VALUE[check.status]})),
      type: 'gauge',
    },
    {
      help: 'How long each health check took, in seconds.',
      name: 'synthex_health_check_duration_seconds',
      samples: report.checks.map((check) => ({labels: {check: check.name}, value: Math.round(check.durationMs) / 1000})),
      type: 'gauge',
    },
  ]
}

export const renderMetrics = exposition

/**
 * Writes the exposition for node_exporter's textfile collector atomically: to a temporary
 * file beside it, then renamed, so the collector never reads half a file.
 */
export async function writeTextfile(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  try {
    await writeFile(temporary, text, {mode: 0o644})
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, {force: true}).catch(() => {})
    throw new SynthexError(`Cannot write ${path}: ${(error as Error).message}.`, {cause: error, code: 'IO', kind: 'runtime'})
  }
}

/**
 * Sends the exposition to a Prometheus Pushgateway, replacing this job's group (PUT). A URL
 * without a `/metrics/job/...` path gets `/metrics/job/synthex`. Basic-auth credentials come
 * from the URL's user information or from `credentials` (SYNTHEX_PUSHGATEWAY_USER /
 * _PASSWORD, which keep them out of argv); they travel only in the Authorization header and
 * are never echoed. A redirect is not followed, and at most 8 KiB of the answer is read.
 */
export async function pushMetrics(url: string, text: string, options: {credentials?: {password?: string; user?: string}; signal?: AbortSignal} = {}): Promise<{status: number; url: string}> {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new SynthexError('--push: that is not a URL such as http://pushgateway:9091.', {code: 'USAGE', kind: 'usage'})
  }

  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text)
    } catch {
      throw new SynthexError('--push: the user name or password in the URL has a malformed %-escape.', {code: 'USAGE', kind: 'usage'})
    }
  }

  const user = decode(target.username) || options.credentials?.user || ''
  const password = decode(target.password) || options.credentials?.password || ''
  target.username = ''
  target.password = ''
  const given = `${target.protocol}//${target.host}${target.pathname.replace(/\/+$/, '')}`
  if (!/\/metrics\/job\/[^/]+/.test(target.pathname)) target.pathname = `${target.pathname.replace(/\/+$/, '')}/metrics/job/synthex`
  const where = `${target.protocol}//${target.host}${target.pathname}`
  const headers: Record<string, string> = {'content-type': 'text/plain; version=0.0.4'}
  if (user || password) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  let response
  try {
    // The Pushgateway is the operator's own service, inside the network, often on plain http.
    response = await outboundRequest(target, {body: text, headers, method: 'PUT', policy: INTERNAL_POLICY, signal: options.signal, timeoutMs: 10_000})
  } catch (error) {
    throw new SynthexError(`Cannot reach the Pushgateway at ${where}: ${(error as Error).message}.`, {cause: error, code: 'REMOTE', kind: 'runtime'})
  }

  const body = response.body.trim()
  if (response.status < 200 || response.status >= 300) {
    const hint = response.status === 401 || response.status === 403 ? ' Check the credentials (user:password@ in the URL, or SYNTHEX_PUSHGATEWAY_USER and SYNTHEX_PUSHGATEWAY_PASSWORD).' : ''
    const said = response.status >= 300 && response.status < 400 ? ' (a redirect, not followed)' : body ? `: ${body.slice(0, 300)}` : ''
    throw new SynthexError(`The Pushgateway at ${where} answered ${response.status}${said}.${hint}`, {code: 'REMOTE', kind: 'runtime'})
  }

  return {status: response.status, url: given}
}

import {type RawBuilder, sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import type {OpenAlert} from './alert-decisions.js'
import type {AlertRule} from './alert-rules.js'
import {SEVERITIES, type Severity} from '../../domain/severity.js'
import {
  daysLeft,
  describeSpan,
  expiringCutoff,
  expiringHorizonMs,
  expiringSeverity,
  expiryPhrase,
  remainingMs,
  samePhraseDuring,
  sameSeverityDuring,
  sameSpanWords,
} from '../credentials/credential-expiry.js'
import {DEFAULT_REPEAT_INTERVAL_MS} from './alert-decisions.js'
import {alertFingerprint, credentialName} from './alert-naming.js'
import {VERIFICATION_RULES, verificationFindings} from './alert-verification-rules.js'

/**
 * Step 1 of the alert pipeline (docs/architecture.md): what should be firing now, compared
 * with what is firing, in ONE statement, so that a run reads into synthex only what is new or
 * may have changed; and no comparison at all while nothing can have changed since the last
 * one (quietSince, recordEvaluation). A fleet of 200,000 credentials with 20,000 alerts
 * firing is, after a change, one indexed range scan joined with the open alerts, and with
 * nothing new a look at one row.
 *
 * The database finds the subjects of the credential and tenant rules (which credentials and
 * tenants each rule fires for, the rules' thresholds applied to exact milliseconds) and joins
 * them with the open alerts on `subject`. An open alert found again is left alone when
 * nothing about it can have changed: what it was computed from (`basis`: the credential row,
 * its expiry, the tenant's id and name, the rule's thresholds) is the same, the clock is
 * still within the span its rule, severity and summary hold for (`stable_during`, computed
 * here with the same functions that write them: credential-expiry.ts), and nothing is due to
 * be sent (never notified, worse than notified, or a reminder due, unless a silence mutes it).
 * Everything else (new subjects, alerts no longer found, alerts that may have changed, alerts
 * of other rules) is read and re-decided by decideAlerts (alert-decisions.ts) exactly as
 * before; the alerts left alone are only counted (firing, silenced, the highest severity).
 * Suspended tenants never alert, whatever the rule.
 *
 * The verification rules (alert-verification-rules.ts) read no clock: their findings change
 * only with a change quietSince sees. A run with nothing new leaves their alerts alone; any
 * other run finds them afresh and reads back every open alert of theirs (they never pair
 * with a subject found here), which decideAlerts re-decides.
 */

export interface AlertCandidate {
  readonly details: Record<string, unknown>
  readonly fingerprint: string
  readonly rule: string
  readonly severity: Severity
  /** For the rules compared in the database: what to store so that a later run can leave the alert alone. */
  readonly steady?: SteadyState
  readonly summary: string
  readonly tenantId: string
  readonly tenantName: string
  readonly workspace: string
  readonly workspaceId: string
}

/** What an open alert keeps (migrations/0011_alert_steady_state.sql) to be left alone while nothing changes. */
export interface SteadyState {
  readonly basis: readonly string[]
  /** The first instant (epoch ms) from which its rule, severity and summary read as now; -Infinity for always. */
  readonly from: number
  readonly subject: string
  /** The first instant (epoch ms) at which they may read otherwise; Infinity for never. */
  readonly until: number
}

export interface Evaluation {
  /** What the rules find that is new or may have changed, for decideAlerts. */
  readonly candidates: AlertCandidate[]
  /** Active credentials and tenants the rules looked at. */
  readonly evaluated: number
  /** The open alerts that may have changed or may resolve, for decideAlerts. */
  readonly open: OpenAlert[]
  /** The snapshot the comparison saw (pg_snapshot), for recordEvaluation; null when nothing could have changed and nothing was compared. */
  readonly snapshot: null | string
  /** The open alerts found again and unchanged: nothing to decide, only to count. */
  readonly steady: SteadyCounts
}

export interface SteadyCounts {
  readonly firing: number
  readonly highest: Severity | null
  readonly silenced: number
}

/** What the last comparison counted, when nothing can have changed since (quietSince). */
export interface QuietState {
  readonly evaluated: number
  readonly steady: SteadyCounts
}

/** The rules compared in the database; others' alerts (health_failing's) are decided on every run. */
const COMPARED_RULES = ['credential_expiring', 'credential_expired', 'tenant_inactive']
/** The rules whose alerts a run with nothing new leaves alone: the compared ones and the verification rules (re-decided whole on any change). */
const LEFT_ALONE_WHEN_QUIET = [...COMPARED_RULES, ...VERIFICATION_RULES]
/** Milliseconds as a JavaScript Date holds them (truncated). */
const ms = (column: string) => sql`trunc(extract(epoch from ${sql.ref(column)}) * 1000)::bigint`
/** silences.ts's silences() in SQL, over `muting` (the silences in force): every matcher given matches. */
const mutedBy = (rule: RawBuilder<unknown>, severity: RawBuilder<unknown>, tenant: RawBuilder<unknown>, workspaceId: RawBuilder<unknown>) => sql`
  case when (select exists (select from muting)) then exists (
    select from muting as s
    where (s.rule is null or s.rule = ${rule}) and (s.severity is null or s.severity = ${severity})
      and (s.tenant is null or s.tenant = ${tenant}) and (s.workspace is null or s.workspace = (select slug from workspaces where id = ${workspaceId})))
  else false end`
const mutingAt = (now: Date) => sql`
  muting as materialized (
    select matchers->>'rule' as rule, matchers->>'severity' as severity, matchers->>'tenant' as tenant, matchers->>'workspace' as workspace
    from silences where starts_at <= ${now} and ends_at > ${now})`
/** When a notified alert's reminder is due, by its rule's repeat interval (a rule without one repeats daily). */
const reminderDue = (rules: readonly AlertRule[], alert: string) => {
  const seconds = rules.map((rule) => sql`when ${rule.name as string} then ${rule.repeatIntervalMs / 1000}::float8`)
  return sql`${sql.ref(`${alert}.notified_at`)} + make_interval(secs => case ${sql.ref(`${alert}.rule`)} ${seconds.length > 0 ? sql.join(seconds, sql` `) : sql``} else ${DEFAULT_REPEAT_INTERVAL_MS / 1000}::float8 end)`
}

const DAY_MS = 86_400_000

/** A subject of the credential rules as the database returns it. */
export interface CredentialSubject {
  readonly basis: readonly string[]
  /** Epoch milliseconds, truncated as a JavaScript Date truncates. */
  readonly expiresMs: number
  readonly label: string
  readonly name: string
  readonly service: string
  readonly slug: string
  readonly subject: string
  readonly tenantId: string
  readonly tenantUuid: string
  readonly workspaceId: string
}

/**
 * What the credential rules say of one active credential at `now`, if anything, and for how
 * long that holds. One fingerprint per credential for both rules: an expiring credential
 * that expires is the same alert getting worse (the same PagerDuty incident), not one alert
 * resolving and another firing.
 */
export function credentialFinding(row: CredentialSubject, rules: {expired?: AlertRule; expiring?: AlertRule}, now: Date): AlertCandidate | undefined {
  const expiresAt = new Date(row.expiresMs)
  const what = credentialName(row.service, row.label)
  const base = {service: row.service, label: row.label, expiresAt: expiresAt.toISOString(), daysLeft: daysLeft(expiresAt, now)}
  const who = {tenantId: row.tenantId, tenantName: row.name, workspace: row.slug, workspaceId: row.workspaceId}
  const fingerprint = alertFingerprint(['credential', row.workspaceId, row.tenantUuid, row.service, row.label])
  const summary = `${what} of ${row.name} (${row.tenantId}) ${expiryPhrase(expiresAt, now)}`
  const phrase = samePhraseDuring(expiresAt, now)
  if (expiresAt.getTime() <= now.getTime()) {
    if (!rules.expired) return undefined
    // Expired for good: the rule and severity hold from expiry on, the summary for its span.
    const steady = {basis: row.basis, from: Math.max(phrase.from, expiresAt.getTime()), subject: row.subject, until: phrase.until}
    return {...who, details: base, fingerprint, rule: 'credential_expired', severity: 'critical', steady, summary}
  }

  if (!rules.expiring) return undefined
  const level = expiringSeverity(remainingMs(expiresAt, now), rules.expiring.params)
  if (!level) return undefined
  const severity = sameSeverityDuring(expiresAt, now, rules.expiring.params)
  const steady = {basis: row.basis, from: Math.max(phrase.from, severity.from), subject: row.subject, until: Math.min(phrase.until, severity.until)}
  return {...who, details: {...base, withinDays: level.withinDays}, fingerprint, rule: 'credential_expiring', severity: level.severity, steady, summary}
}

/** A subject of tenant_inactive as the database returns it. */
export interface InactiveSubject {
  /** The last sign of life, epoch milliseconds. */
  readonly activeMs: number
  readonly basis: readonly string[]
  readonly name: string
  readonly slug: string
  readonly subject: string
  readonly tenantId: string
  readonly tenantUuid: string
  readonly workspaceId: string
}

/** tenant_inactive of one tenant the database found idle past the threshold, and for how long its summary holds. */
export function inactiveFinding(row: InactiveSubject, rule: AlertRule, now: Date): AlertCandidate {
  const threshold = rule.params.days ?? 30
  const idleMs = now.getTime() - row.activeMs
  const words = sameSpanWords(idleMs)
  return {
    details: {inactiveDays: Math.floor(idleMs / DAY_MS), lastActivityAt: new Date(row.activeMs).toISOString(), thresholdDays: threshold},
    fingerprint: alertFingerprint(['tenant_inactive', row.workspaceId, row.tenantUuid]),
    rule: 'tenant_inactive',
    severity: 'info',
    steady: {basis: row.basis, from: row.activeMs + words.from, subject: row.subject, until: row.activeMs + words.to},
    summary: `${row.name} (${row.tenantId}) has had no activity for ${describeSpan(idleMs)}`,
    tenantId: row.tenantId,
    tenantName: row.name,
    workspace: row.slug,
    workspaceId: row.workspaceId,
  }
}

interface FoundRow {
  readonly active_ms: null | number
  readonly basis: string[]
  readonly expires_ms: null | number
  readonly family: 'credential' | 'tenant_inactive'
  readonly label: null | string
  readonly name: string
  readonly service: null | string
  readonly slug: string
  readonly subject: string
  readonly tenant_id: string
  readonly tenant_uuid: string
  readonly workspace_id: string
}

interface OpenRow {
  readonly acknowledged_ms: null | number
  readonly fingerprint: string
  readonly id: number
  readonly notified_ms: null | number
  readonly notified_severity: null | Severity
  readonly rule: string
  readonly severity: Severity
  readonly started_ms: number
  readonly summary: string
  readonly tenant_id: string
  readonly workspace_id: string
}

interface ComparedRow {
  readonly alerts: ReadonlyArray<number | string>
  readonly credentials: readonly string[]
  readonly evaluated: number | string
  readonly snapshot: string
  readonly steady: number | string
  readonly steady_highest: null | number
  readonly steady_silenced: number | string
  readonly tenants: readonly string[]
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const date = (ms: null | number): Date | null => (ms === null ? null : new Date(Number(ms)))

/**
 * Compares what the rules find with the open alerts (see the top of this file), and
 * evaluates what may have changed. Runs inside the reconcile's transaction.
 */
export async function evaluateAlerts(db: Db, rules: readonly AlertRule[], now: Date, quiet?: QuietState): Promise<Evaluation> {
  const byName = new Map(rules.filter((rule) => rule.enabled).map((rule) => [rule.name, rule]))
  if (quiet) {
    // Nothing the rules read changed and the clock reached nothing: only the alerts of the
    // rules not compared are decided, as on every run. (The verification rules' alerts have a
    // subject, so this reads none of them however many fire.)
    const {rows} = await sql<OpenRow>`
      select id, fingerprint, rule, severity, summary, ${ms('started_at')} as started_ms, ${ms('notified_at')} as notified_ms,
             notified_severity, ${ms('acknowledged_at')} as acknowledged_ms, tenant_id, workspace_id
      from alerts where state = 'firing' and subject is null and rule <> all(${LEFT_ALONE_WHEN_QUIET}::text[])`.execute(db)
    const health = byName.get('health_failing')
    const failing = health ? await healthFinding(db, health) : undefined
    return {candidates: failing ? [failing] : [], evaluated: quiet.evaluated, open: rows.map(toOpenAlert), snapshot: null, steady: quiet.steady}
  }

  const expiring = byName.get('credential_expiring')
  const expired = byName.get('credential_expired')
  const inactive = byName.get('tenant_inactive')
  const nowMs = now.getTime()
  const severities = [...SEVERITIES]
  const expiringParams = JSON.stringify(expiring?.params ?? null)
  const inactiveParams = JSON.stringify(inactive?.params ?? null)
  // What an alert's text and severity are computed from besides the clock, as stored in alerts.basis.
  const basisOf = (row: string) =>
    sql`array_remove(array[${sql.ref(`${row}.tenant_id`)}, ${sql.ref(`${row}.name`)}, ${sql.ref(`${row}.activity`)},
        case ${sql.ref(`${row}.family`)} when 'credential' then ${expiringParams}::text else ${inactiveParams}::text end], null)`
  // The subqueries are kept apart (offset 0) so that each row's verdict is computed once, not
  // once per use; only the rows found changed are read back whole (readChanged).
  const {rows} = await sql<ComparedRow>`
    with
    ${mutingAt(now)},
    found as (
      select 'credential' as family, c.id as subject, t.workspace_id, t.tenant_id, t.name, null::text as activity
      from credentials as c
      join tenants as t on t.id = c.tenant_id
      where ${Boolean(expiring || expired)}::boolean
        and c.rotated_at is null and c.revoked_at is null and t.status <> 'suspended'
        and c.expires_at <= ${expiringCutoff(expiring ? expiring.params : {}, now)}
        -- Expired (its milliseconds at or before now's), else within the widest threshold.
        and case when c.expires_at < ${new Date(nowMs + 1)} then ${Boolean(expired)}::boolean
                 else ${Boolean(expiring)}::boolean and c.expires_at < ${new Date(nowMs + expiringHorizonMs(expiring?.params ?? {}) + 1)} end
      union all
      -- Only tenants that showed a sign of life and then stopped (tenant-activity.ts): a tenant
      -- with none yet has nothing to be measured by, however old its row.
      select 'tenant_inactive', t.id, t.workspace_id, t.tenant_id, t.name, ${ms('t.last_activity_at')}::text
      from tenants as t
      where ${Boolean(inactive)}::boolean
        and t.status = 'active' and t.last_activity_at is not null
        and t.last_activity_at <= ${new Date(nowMs - (inactive?.params.days ?? 30) * DAY_MS)}),
    firing as (
      -- The verification rules' alerts are a family of their own that nothing found pairs
      -- with: each is read back and re-decided with the verification rules' findings.
      select a.id, a.subject,
             case when a.rule = 'tenant_inactive' then 'tenant_inactive' when a.rule = any(${[...VERIFICATION_RULES]}::text[]) then 'verification' else 'credential' end as family,
             a.workspace_id, a.basis, a.rule, a.severity,
             coalesce(a.stable_during @> ${now}::timestamptz, false) as stable,
             -- Something to send, as decideAlerts would see it: never notified (silenced until
             -- now), worse than what was notified, or a reminder due.
             (a.notified_at is null or a.notified_severity is null
              or array_position(${severities}::text[], a.severity) > array_position(${severities}::text[], a.notified_severity)
              or (a.acknowledged_at is null and ${reminderDue(rules, 'a')} <= ${now}::timestamptz)) as due
      from alerts as a
      where a.state = 'firing'),
    compared as (
      select *,
             coalesce(
               subject is null or alert_id is null or not stable or alert_workspace_id <> workspace_id
               or alert_basis is distinct from ${basisOf('pair')}
               or (due and not muted),
               true) as changed
      from (
        select f.family, f.subject, f.workspace_id, f.tenant_id, f.name, f.activity,
               a.id as alert_id, a.severity, a.stable, a.due, a.basis as alert_basis, a.workspace_id as alert_workspace_id,
               ${mutedBy(sql`a.rule`, sql`a.severity`, sql`f.tenant_id`, sql`f.workspace_id`)} as muted
        from found as f
        full join firing as a on a.subject = f.subject and a.family = f.family
        offset 0) as pair
      offset 0)
    select
      count(*) filter (where not changed) as steady,
      count(*) filter (where not changed and muted) as steady_silenced,
      max(array_position(${severities}::text[], severity)) filter (where not changed and not muted) as steady_highest,
      coalesce(array_agg(subject) filter (where changed and family = 'credential'), '{}') as credentials,
      coalesce(array_agg(subject) filter (where changed and family = 'tenant_inactive'), '{}') as tenants,
      coalesce(array_agg(alert_id) filter (where changed and alert_id is not null), '{}') as alerts,
      pg_current_snapshot()::text as snapshot,
      (select count(*) from credentials where rotated_at is null and revoked_at is null)
        + (select count(*) from tenants where status <> 'suspended') as evaluated
    from compared`.execute(db)
  const result = rows[0] as ComparedRow
  const changed = await readChanged(db, result, basisOf)
  const candidates: AlertCandidate[] = []
  for (const row of changed.found) {
    const who = {basis: row.basis, name: row.name, slug: row.slug, subject: row.subject, tenantId: row.tenant_id, tenantUuid: row.tenant_uuid, workspaceId: row.workspace_id}
    const candidate =
      row.family === 'credential'
        ? credentialFinding({...who, expiresMs: Number(row.expires_ms), label: row.label as string, service: row.service as string}, {expired, expiring}, now)
        : inactiveFinding({...who, activeMs: Number(row.active_ms)}, inactive as AlertRule, now)
    if (candidate) candidates.push(candidate)
  }

  candidates.push(...(await verificationFindings(db, byName)))
  const health = byName.get('health_failing')
  if (health) {
    const failing = await healthFinding(db, health)
    if (failing) candidates.push(failing)
  }

  // In one order whatever the plan: what a storm's digest says of its first alert must not
  // depend on which of the others a run read back.
  candidates.sort((a, b) => byText(a.workspace, b.workspace) || byText(a.tenantId, b.tenantId) || byText(a.rule, b.rule) || byText(a.summary, b.summary) || byText(a.fingerprint, b.fingerprint))
  const open = changed.open.map(toOpenAlert)
  open.sort((a, b) => byText(a.tenantId, b.tenantId) || byText(a.rule, b.rule) || byText(a.summary, b.summary) || a.id - b.id)
  const highest = result.steady_highest === null ? null : (SEVERITIES[result.steady_highest - 1] ?? null)
  return {
    candidates,
    evaluated: Number(result.evaluated),
    open,
    snapshot: result.snapshot,
    steady: {firing: Number(result.steady), highest, silenced: Number(result.steady_silenced)},
  }
}

function toOpenAlert(row: OpenRow): OpenAlert {
  return {
    acknowledgedAt: date(row.acknowledged_ms),
    fingerprint: row.fingerprint,
    id: Number(row.id),
    notifiedAt: date(row.notified_ms),
    notifiedSeverity: row.notified_severity,
    rule: row.rule,
    severity: row.severity,
    startedAt: new Date(Number(row.started_ms)),
    summary: row.summary,
    tenantId: row.tenant_id,
    workspaceId: row.workspace_id,
  }
}

/**
 * What the last comparison counted, if nothing can have changed since: no transaction it did
 * not see changed what the rules read or the alerts (alert_input_changes, filled by triggers:
 * migrations/0011_alert_steady_state.sql), and the clock is between that comparison and the
 * first instant at which a rule could say something else of what it read.
 */
export async function quietSince(db: Db, now: Date): Promise<QuietState | undefined> {
  const {rows} = await sql<{counts: QuietState; quiet: boolean}>`
    select counts, not exists (select from alert_input_changes as c where not pg_visible_in_snapshot(c.xid, e.snapshot))
             and evaluated_at <= ${now} and (next_change_at is null or ${now} < next_change_at) as quiet
    from alert_evaluation as e`.execute(db)
  const row = rows[0]
  return row?.quiet ? row.counts : undefined
}

/**
 * After a comparison and what the reconcile wrote of it: what a run may reuse while nothing
 * changes (quietSince). The first instant at which a rule could say something else is the
 * earliest of: an open alert's text or severity changing (its stable_during), a reminder
 * falling due (of an alert notified, not acknowledged and not muted: a muted one's is due
 * when its silence ends), a silence starting or ending, a credential coming within the
 * rules' reach, a tenant's silence growing past tenant_inactive's threshold. The verification
 * rules' alerts are counted and their reminders are among those instants; nothing else of
 * theirs changes with the clock (their steady state holds for ever). An open alert of a
 * compared or verification rule without a steady state leaves no quiet run at all. The
 * changes the comparison saw, and this transaction's own, are forgotten.
 */
export async function recordEvaluation(db: Db, rules: readonly AlertRule[], now: Date, evaluation: Pick<Evaluation, 'evaluated' | 'snapshot'>): Promise<void> {
  if (evaluation.snapshot === null) {
    await sql`delete from alert_input_changes where xid = pg_current_xact_id_if_assigned()`.execute(db)
    return
  }

  const byName = new Map(rules.filter((rule) => rule.enabled).map((rule) => [rule.name, rule]))
  const expiring = byName.get('credential_expiring')
  const expired = byName.get('credential_expired')
  const inactive = byName.get('tenant_inactive')
  const cutoff = expiringCutoff(expiring ? expiring.params : {}, now)
  // How long before its expiry a credential beyond the cutoff can first be found (early is safe).
  const reachMs = expiring ? Math.max(cutoff.getTime() - now.getTime(), expiringHorizonMs(expiring.params)) + 1 : 0
  const inactiveDays = inactive?.params.days ?? 30
  const severities = [...SEVERITIES]
  await sql`
    with
    ${mutingAt(now)},
    firing as (
      select a.*, ${mutedBy(sql`a.rule`, sql`a.severity`, sql`a.tenant_id`, sql`a.workspace_id`)} as muted
      from alerts as a
      where a.state = 'firing' and a.rule = any(${LEFT_ALONE_WHEN_QUIET}::text[])),
    next as (
      select
        count(*) filter (where subject is not null) as firing,
        count(*) filter (where subject is not null and muted) as silenced,
        max(array_position(${severities}::text[], severity)) filter (where subject is not null and not muted) as highest,
        bool_or(subject is null or stable_during is null) as unsteady,
        least(
          min(upper(stable_during)),
          min(${reminderDue(rules, 'firing')}) filter (where notified_at is not null and acknowledged_at is null and not muted),
          (select min(starts_at) from silences where starts_at > ${now}),
          (select min(ends_at) from silences where ends_at > ${now}),
          case when ${Boolean(expiring || expired)}::boolean then
            (select min(expires_at) from credentials where rotated_at is null and revoked_at is null and expires_at > ${cutoff}) - make_interval(secs => ${reachMs / 1000})
          end,
          case when ${Boolean(inactive)}::boolean then
            (select min(last_activity_at) from tenants
             where status = 'active' and last_activity_at is not null and last_activity_at > ${new Date(now.getTime() - inactiveDays * DAY_MS)}) + make_interval(days => ${inactiveDays})
          end) as change_at
      from firing)
    insert into alert_evaluation as e (id, snapshot, evaluated_at, next_change_at, counts)
    select true, ${evaluation.snapshot}::pg_snapshot, ${now},
           case when unsteady then ${now}::timestamptz else change_at end,
           jsonb_build_object('evaluated', ${evaluation.evaluated}::bigint, 'steady', jsonb_build_object(
             'firing', firing, 'silenced', silenced, 'highest', (${severities}::text[])[highest]))
    from next
    on conflict (id) do update set snapshot = excluded.snapshot, evaluated_at = excluded.evaluated_at, next_change_at = excluded.next_change_at, counts = excluded.counts`.execute(db)
  await sql`
    delete from alert_input_changes
    where pg_visible_in_snapshot(xid, ${evaluation.snapshot}::pg_snapshot) or xid = pg_current_xact_id_if_assigned()`.execute(db)
}

/**
 * Reads whole what the comparison found changed: in a statement of its own, made only when
 * something did (the comparison's plan stays cheap, and no correlated lookups are costed for
 * the rows left alone). Rows are read as they are now, whatever changed since the comparison:
 * a credential rotated meanwhile is still read, and its successor is found by the next run.
 */
async function readChanged(db: Db, compared: ComparedRow, basisOf: (row: string) => RawBuilder<unknown>): Promise<{found: FoundRow[]; open: OpenRow[]}> {
  if (compared.credentials.length === 0 && compared.tenants.length === 0 && compared.alerts.length === 0) return {found: [], open: []}
  const ms = (column: string) => sql`trunc(extract(epoch from ${sql.ref(column)}) * 1000)::bigint`
  const {rows} = await sql<{part: 'found' | 'open'; row: FoundRow | OpenRow}>`
    select 'found' as part, jsonb_build_object(
             'family', f.family, 'subject', f.subject, 'basis', ${basisOf('f')}, 'service', f.service, 'label', f.label, 'expires_ms', f.expires_ms,
             'active_ms', f.activity::bigint, 'tenant_uuid', f.tenant_uuid, 'tenant_id', f.tenant_id, 'name', f.name, 'workspace_id', f.workspace_id, 'slug', f.slug) as row
    from (
      select 'credential' as family, c.id as subject, c.service, c.label, ${ms('c.expires_at')} as expires_ms, null::text as activity,
             t.id as tenant_uuid, t.tenant_id, t.name, t.workspace_id, w.slug
      from credentials as c join tenants as t on t.id = c.tenant_id join workspaces as w on w.id = t.workspace_id
      where c.id = any(${[...compared.credentials]}::uuid[])
      union all
      select 'tenant_inactive', t.id, null, null, null, ${ms('t.last_activity_at')}::text, t.id, t.tenant_id, t.name, t.workspace_id, w.slug
      from tenants as t join workspaces as w on w.id = t.workspace_id
      where t.id = any(${[...compared.tenants]}::uuid[])) as f
    union all
    select 'open', jsonb_build_object(
             'id', o.id, 'fingerprint', o.fingerprint, 'rule', o.rule, 'severity', o.severity, 'summary', o.summary,
             'started_ms', ${ms('o.started_at')}, 'notified_ms', ${ms('o.notified_at')}, 'notified_severity', o.notified_severity,
             'acknowledged_ms', ${ms('o.acknowledged_at')}, 'tenant_id', o.tenant_id, 'workspace_id', o.workspace_id)
    from alerts as o
    where o.id = any(${compared.alerts.map(Number)}::bigint[]) and o.state = 'firing'`.execute(db)
  return {
    found: rows.filter((row) => row.part === 'found').map((row) => row.row as FoundRow),
    open: rows.filter((row) => row.part === 'open').map((row) => row.row as OpenRow),
  }
}

/** health_failing: the last N health checks all unhealthy. One alert for the whole installation, always re-decided. */
async function healthFinding(db: Db, rule: AlertRule): Promise<AlertCandidate | undefined> {
  const runs = rule.params.runs ?? 3
  const latest = await db
    .selectFrom('health_runs')
    .leftJoin('workspaces', 'workspaces.id', 'health_runs.workspace_id')
    .select(['health_runs.status', 'health_runs.checks', 'health_runs.started_at', 'health_runs.workspace_id', 'workspaces.slug'])
    .orderBy('health_runs.id', 'desc')
    .limit(runs)
    .execute()
  const last = latest[0]
  if (!(last && latest.length === runs && latest.every((run) => run.status === 'unhealthy') && last.workspace_id && last.slug)) return undefined
  const unhealthy = (last.checks as Array<{name: string; reason: string; status: string}>).filter((check) => check.status === 'unhealthy')
  return {
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
  }
}

import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {type Audit, recordEvents} from '../events/events.js'

/**
 * The built-in alert rules. Their thresholds and repeat intervals live in `alert_rules` so
 * that `alerts rules set` changes them for every machine using the database.
 */

export const RULE_NAMES = [
  'credential_expiring',
  'credential_expired',
  'credential_invalid',
  'credential_scopes_missing',
  'health_failing',
  'tenant_api_errors',
  'tenant_api_slow',
  'tenant_inactive',
] as const
export type RuleName = (typeof RULE_NAMES)[number]

export const RULE_DESCRIPTIONS: Record<RuleName, string> = {
  credential_expired: 'an active credential has expired (critical)',
  credential_expiring: 'an active credential expires within the info / warning / critical number of days',
  credential_invalid: 'the latest `credentials verify` answer for an active credential says the provider rejects it: revoked or invalid, shop frozen, locked or gone (critical); resolves when a later answer is valid or the credential is rotated or revoked',
  credential_scopes_missing: 'the latest `credentials verify` answer for an active credential lacks a required scope (warning)',
  health_failing: '`health check` was unhealthy on its last N runs in a row (critical)',
  tenant_api_errors: 'more than `percent` % of a tenant\'s verification calls failed (throttled, timed out, errored), over at least `min_calls` calls, in the hour up to its latest verification, not the last hour of the clock: verification may run every few hours, and the alert holds until the next one says otherwise (warning)',
  tenant_api_slow: 'the p95 latency of a tenant\'s verification calls is above `p95_ms` milliseconds, over at least `min_calls` calls, in the hour up to its latest verification (as tenant_api_errors; warning)',
  tenant_inactive: 'an active tenant has shown no sign of life (a credential set or rotated) for the given number of days; never one that has shown none yet (info)',
}

export interface AlertRule {
  readonly description: string
  readonly enabled: boolean
  readonly name: RuleName
  readonly params: Readonly<Record<string, number>>
  readonly repeatIntervalMs: number
}

export interface RuleChanges {
  readonly enabled?: boolean
  readonly params?: Readonly<Record<string, number | undefined>>
  readonly repeatIntervalMs?: number
}

export async function loadRules(db: Db): Promise<AlertRule[]> {
  const rows = await db.selectFrom('alert_rules').selectAll().orderBy('name').execute()
  return rows
    .filter((row) => (RULE_NAMES as readonly string[]).includes(row.name))
    .map((row) => ({
      description: RULE_DESCRIPTIONS[row.name as RuleName],
      enabled: row.enabled,
      name: row.name as RuleName,
      params: row.params,
      repeatIntervalMs: row.repeat_interval_seconds * 1000,
    }))
}

/** What each setting counts, for the messages of `alerts rules set` (days unless named here). */
const PARAM_UNITS: Readonly<Record<string, string>> = {min_calls: ' of calls', p95_ms: ' of milliseconds', percent: ' (a percentage)', runs: ''}

function checkParams(name: RuleName, params: Record<string, number>): Array<{field: string; message: string}> {
  const issues: Array<{field: string; message: string}> = []
  for (const [key, value] of Object.entries(params)) {
    if (!Number.isInteger(value) || value < 0) issues.push({field: key, message: `must be a whole number${PARAM_UNITS[key] ?? ' of days'}, 0 or more`})
  }

  if (name === 'credential_expiring') {
    const {critical = 0, info = 0, warning = 0} = params
    if (!(info >= warning && warning >= critical)) issues.push({field: 'thresholds', message: `must satisfy info >= warning >= critical (got ${info} / ${warning} / ${critical})`})
  }

  if (name === 'tenant_inactive' && (params.days ?? 0) < 1) issues.push({field: 'days', message: 'must be at least 1'})
  if (name === 'health_failing' && (params.runs ?? 0) < 1) issues.push({field: 'runs', message: 'must be at least 1'})
  if ('min_calls' in params && (params.min_calls ?? 0) < 1) issues.push({field: 'min_calls', message: 'must be at least 1'})
  if ('percent' in params && (params.percent ?? 0) > 100) issues.push({field: 'percent', message: 'must be at most 100'})
  if ('p95_ms' in params && (params.p95_ms ?? 0) < 1) issues.push({field: 'p95_ms', message: 'must be at least 1'})
  return issues
}

export async function updateRule(db: Db, audit: Audit, name: string, changes: RuleChanges): Promise<AlertRule> {
  if (!(RULE_NAMES as readonly string[]).includes(name)) {
    throw new NotFoundError(`There is no alert rule "${name}".`, `The rules are ${RULE_NAMES.join(', ')}.`)
  }

  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('alert_rules').selectAll().where('name', '=', name).forUpdate().executeTakeFirstOrThrow()
    const params = {...row.params}
    for (const [key, value] of Object.entries(changes.params ?? {})) {
      if (value === undefined) continue
      if (!(key in row.params)) throw new InvalidInputError([{field: key, message: `is not a setting of ${name} (it has ${Object.keys(row.params).join(', ') || 'none'})`}])
      params[key] = value
    }

    const issues = checkParams(name as RuleName, params)
    if (changes.repeatIntervalMs !== undefined && changes.repeatIntervalMs < 60_000) issues.push({field: 'repeat', message: 'must be at least 1 minute'})
    if (issues.length > 0) throw new InvalidInputError(issues)
    const updated = await trx
      .updateTable('alert_rules')
      .set({
        enabled: changes.enabled ?? row.enabled,
        params: JSON.stringify(params),
        repeat_interval_seconds: changes.repeatIntervalMs === undefined ? row.repeat_interval_seconds : Math.round(changes.repeatIntervalMs / 1000),
        updated_at: sql<Date>`now()`,
      })
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordEvents(trx, audit, [
      {
        aggregateId: name,
        aggregateType: 'alert_rule',
        data: {enabled: updated.enabled, params: updated.params, repeatIntervalSeconds: updated.repeat_interval_seconds},
        type: 'alert_rule.updated',
        workspaceId: null,
      },
    ])
    return (await loadRules(trx)).find((rule) => rule.name === name) as AlertRule
  })
}

import type {Db, SilenceRow} from '../../db/schema.js'
import {RULE_NAMES} from './alert-rules.js'
import {InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {type Audit, recordEvents} from '../events/events.js'
import {SEVERITIES} from '../../domain/severity.js'

/**
 * Silences mute matching alerts for a while: they are still recorded, but not sent. When
 * the silence ends and the alert still fires, it is sent then (see decideAlerts in alert-decisions.ts).
 */

export interface SilenceMatchers {
  readonly rule?: string
  readonly severity?: string
  readonly tenant?: string
  readonly workspace?: string
}

export interface Silence {
  readonly active: boolean
  readonly comment: string
  readonly createdBy: string
  readonly endsAt: Date
  readonly id: number
  readonly matchers: SilenceMatchers
  readonly startsAt: Date
}

/** What a silence is matched against. */
export interface Silenceable {
  readonly rule: string
  readonly severity: string
  readonly tenantId: string
  readonly workspace: string
}

function toSilence(row: SilenceRow, now: Date): Silence {
  return {
    active: row.starts_at.getTime() <= now.getTime() && now.getTime() < row.ends_at.getTime(),
    comment: row.comment,
    createdBy: row.created_by,
    endsAt: row.ends_at,
    id: Number(row.id),
    matchers: row.matchers,
    startsAt: row.starts_at,
  }
}

/** What decides whether a silence mutes an alert: its matchers and when it is in force. */
export type SilenceWindow = Pick<Silence, 'endsAt' | 'matchers' | 'startsAt'>

/** Whether `silence` mutes `alert` at `now`: in force from its start until (not at) its end, and every matcher given matches. */
export function silences(silence: SilenceWindow, alert: Silenceable, now: Date): boolean {
  const {rule, severity, tenant, workspace} = silence.matchers
  return (
    silence.startsAt.getTime() <= now.getTime() &&
    now.getTime() < silence.endsAt.getTime() &&
    (rule === undefined || rule === alert.rule) &&
    (severity === undefined || severity === alert.severity) &&
    (tenant === undefined || tenant === alert.tenantId) &&
    (workspace === undefined || workspace === alert.workspace)
  )
}

export async function createSilence(
  db: Db,
  audit: Audit,
  input: {comment: string; durationMs: number; matchers: SilenceMatchers; now?: Date},
): Promise<Silence> {
  const now = input.now ?? new Date()
  const matchers = Object.fromEntries(Object.entries(input.matchers).filter(([, value]) => value !== undefined && value !== '')) as SilenceMatchers
  const issues: Array<{field: string; message: string}> = []
  if (Object.keys(matchers).length === 0) issues.push({field: 'matchers', message: 'give at least one of --tenant, --rule, --severity or --workspace (a silence of everything is not allowed)'})
  if (matchers.rule !== undefined && !(RULE_NAMES as readonly string[]).includes(matchers.rule)) issues.push({field: 'rule', message: `must be one of ${RULE_NAMES.join(', ')}`})
  if (matchers.severity !== undefined && !(SEVERITIES as readonly string[]).includes(matchers.severity)) issues.push({field: 'severity', message: `must be one of ${SEVERITIES.join(', ')}`})
  if (input.durationMs < 60_000) issues.push({field: 'for', message: 'must be at least 1 minute'})
  if (input.comment.trim() === '') issues.push({field: 'comment', message: 'is required: say why, for whoever sees the silence later'})
  if (issues.length > 0) throw new InvalidInputError(issues)

  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('silences')
      .values({comment: input.comment.trim(), created_by: audit.actor, ends_at: new Date(now.getTime() + input.durationMs), matchers: JSON.stringify(matchers), starts_at: now})
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordEvents(trx, audit, [
      {aggregateId: String(row.id), aggregateType: 'silence', data: {comment: row.comment, endsAt: row.ends_at, matchers}, type: 'silence.created', workspaceId: null},
    ])
    return toSilence(row, now)
  })
}

export async function listSilences(db: Db, options: {all?: boolean; now?: Date} = {}): Promise<Silence[]> {
  const now = options.now ?? new Date()
  let select = db.selectFrom('silences').selectAll()
  if (!options.all) select = select.where('ends_at', '>', now)
  const rows = await select.orderBy('ends_at', 'desc').orderBy('id', 'desc').limit(1000).execute()
  return rows.map((row) => toSilence(row, now))
}

/** The silences in force at `now`. */
export async function activeSilences(db: Db, now: Date): Promise<Silence[]> {
  const rows = await db.selectFrom('silences').selectAll().where('starts_at', '<=', now).where('ends_at', '>', now).execute()
  return rows.map((row) => toSilence(row, now))
}

/** Ends a silence now; the alerts it muted are sent on the next check if still firing. */
export async function expireSilence(db: Db, audit: Audit, id: number, now = new Date()): Promise<Silence> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('silences').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError(`There is no silence ${id}.`, 'List them with `synthex alerts silences --all`.')
    const ended = row.ends_at.getTime() <= now.getTime() ? row : await trx.updateTable('silences').set({ends_at: now}).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await recordEvents(trx, audit, [{aggregateId: String(id), aggregateType: 'silence', data: {endsAt: ended.ends_at}, type: 'silence.expired', workspaceId: null}])
    return toSilence(ended, now)
  })
}

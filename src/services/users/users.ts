import {type Expression, sql, type SqlBool} from 'kysely'

import type {Db, UserRole} from '../../db/schema.js'
import {ConflictError, type FieldIssue, InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {USER_ROLES} from '../access/roles.js'
import {type Audit, type NewEvent, recordEvents} from '../events/events.js'
import {tenantNotFound} from '../tenants/tenants.js'
import {findWorkspace, type Workspace} from '../workspaces/workspaces.js'

/**
 * The people (and systems) keys act for, their role and what is assigned to them
 * (migrations/0016_users_roles.sql): an admin is assigned workspaces, a client tenants; a
 * superadmin reaches everything and is assigned nothing. Users are deactivated, never
 * deleted, so the audit trail's actors keep a meaning.
 */

/** A tenant assigned to a client: its workspace (slug) and its tenant id there. */
export interface UserTenant {
  readonly tenantId: string
  readonly workspace: string
}

export interface User {
  /** Its keys that work: neither revoked nor expired, and none once the user is deactivated. */
  readonly activeKeys: number
  readonly createdAt: Date
  readonly createdBy: string
  readonly deactivatedAt: Date | null
  /** As it was given (trimmed); unique whatever its case. */
  readonly email: string
  readonly id: string
  readonly role: UserRole
  /** A client's tenants, by workspace and tenant id. */
  readonly tenants: readonly UserTenant[]
  /** An admin's workspaces (slugs). */
  readonly workspaces: readonly string[]
}

export interface NewUser {
  readonly email: string
  readonly role: string
  /** A client's tenants. */
  readonly tenants?: readonly UserTenant[]
  /** An admin's workspaces (slugs). */
  readonly workspaces?: readonly string[]
}

/** What `assignUser` gives a user: a workspace (admins) or a tenant (clients). */
export type Assignment = {readonly tenant: UserTenant} | {readonly workspace: string}

export interface UserFilter {
  readonly role?: UserRole
  /**
   * Only users whose assignments all lie within these workspaces (ids), as an admin of them
   * may see: admins assigned only these workspaces, clients assigned only tenants in them.
   * A superadmin (it reaches everything) and a user with no assignment at all are never within.
   */
  readonly workspaceIds?: readonly string[]
}

const MAX_EMAIL_LENGTH = 254
/** Control and invisible formatting characters (zero-width, bidi overrides): an address that shows differently from what it is. */
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}]/u

function emailIssue(email: string): string | undefined {
  if (email.length === 0) return 'must not be empty'
  if (email.length > MAX_EMAIL_LENGTH) return `must be at most ${MAX_EMAIL_LENGTH} characters`
  if (HIDDEN_CHARACTERS.test(email)) return 'must not contain control or invisible characters'
  // The same rule as the column's check (users_email_format in migrations/0016_users_roles.sql).
  if (/\s/.test(email)) return 'must not contain spaces'
  const parts = email.split('@')
  if (parts.length !== 2 || !parts[0] || !parts[1]) return 'must be an address such as ops@example.com: one "@" with text on both sides'
  return undefined
}

/** The address as stored (trimmed), or an input error naming what is wrong with it. */
function validEmail(email: string): string {
  const trimmed = email.trim()
  const issue = emailIssue(trimmed)
  if (issue) throw new InvalidInputError([{field: 'email', message: issue}])
  return trimmed
}

function isRole(role: string): role is UserRole {
  return (USER_ROLES as readonly string[]).includes(role)
}

/** The error for an address no user has (or, for serve, one outside the caller's reach: the same answer). */
export function userNotFound(email: string): NotFoundError {
  return new NotFoundError(`No user has the address "${email}".`, 'List them with `synthex users list`.', {email})
}

/** Users with what is assigned to them and how many keys still work, in one statement. */
function selectUsers(db: Db) {
  return db
    .selectFrom('users')
    .selectAll('users')
    .select([
      sql<string[]>`array(select w.slug from user_workspaces uw join workspaces w on w.id = uw.workspace_id where uw.user_id = users.id order by w.slug)`.as('workspace_slugs'),
      sql<UserTenant[]>`(select coalesce(json_agg(json_build_object('workspace', w.slug, 'tenantId', t.tenant_id) order by w.slug, t.tenant_id), '[]'::json)
        from user_tenants ut join tenants t on t.id = ut.tenant_id join workspaces w on w.id = t.workspace_id where ut.user_id = users.id)`.as('tenant_list'),
      sql<number>`(select count(*)::int from api_keys k where k.user_id = users.id and users.deactivated_at is null and k.revoked_at is null and (k.expires_at is null or k.expires_at > now()))`.as('active_keys'),
    ])
}

type UserSelection = Awaited<ReturnType<ReturnType<typeof selectUsers>['executeTakeFirstOrThrow']>>

function toUser(row: UserSelection): User {
  return {
    activeKeys: Number(row.active_keys),
    createdAt: row.created_at,
    createdBy: row.created_by,
    deactivatedAt: row.deactivated_at,
    email: row.email,
    id: row.id,
    role: row.role,
    tenants: row.tenant_list,
    workspaces: row.workspace_slugs,
  }
}

/** The user with this address, whatever its case; not found says how to list them. */
export async function findUser(db: Db, email: string): Promise<User> {
  const row = await selectUsers(db).where(sql<string>`lower(users.email)`, '=', email.trim().toLowerCase()).executeTakeFirst()
  if (!row) throw userNotFound(email.trim())
  return toUser(row)
}

/** Users, by address. */
export async function listUsers(db: Db, filter: UserFilter = {}): Promise<User[]> {
  let select = selectUsers(db)
  if (filter.role !== undefined) select = select.where('users.role', '=', filter.role)
  if (filter.workspaceIds !== undefined) select = select.where(withinWorkspaces(filter.workspaceIds))
  const rows = await select.orderBy(sql`lower(users.email)`).execute()
  return rows.map((row) => toUser(row))
}

/**
 * Users whose every assignment lies within these workspaces. Each tenant assignment must be
 * shown to be within them, not merely not shown to be outside: under row-level security
 * (src/db/reach-scoped-db.ts) a tenant outside the caller's reach is invisible, and "no
 * assigned tenant outside" would then count another admin's client as this admin's.
 */
function withinWorkspaces(ids: readonly string[]): Expression<SqlBool> {
  const within = sql`${[...ids]}::uuid[]`
  return sql<SqlBool>`users.role <> 'superadmin'
    and (exists (select 1 from user_workspaces uw where uw.user_id = users.id) or exists (select 1 from user_tenants ut where ut.user_id = users.id))
    and not exists (select 1 from user_workspaces uw where uw.user_id = users.id and not uw.workspace_id = any(${within}))
    and not exists (
      select 1 from user_tenants ut where ut.user_id = users.id
      and not exists (select 1 from tenants t where t.id = ut.tenant_id and t.workspace_id = any(${within}))
    )`
}

/** The tenant's row id (tenants.id) and its workspace, or not found. */
async function resolveTenant(db: Db, tenant: UserTenant): Promise<{id: string; workspace: Workspace}> {
  const workspace = await findWorkspace(db, tenant.workspace)
  const row = await db.selectFrom('tenants').select('id').where('workspace_id', '=', workspace.id).where('tenant_id', '=', tenant.tenantId).executeTakeFirst()
  if (!row) throw tenantNotFound(workspace, tenant.tenantId)
  return {id: row.id, workspace}
}

/** Why this role may not hold this kind of assignment, or undefined when it may. */
function assignmentIssue(email: string, role: UserRole, kind: 'tenant' | 'workspace'): FieldIssue | undefined {
  if (role === 'superadmin') return {field: kind, message: `"${email}" is a superadmin, who reaches every workspace and tenant and needs no assignment`}
  if (kind === 'workspace' && role === 'client') return {field: 'workspace', message: `"${email}" is a client: a client is assigned tenants, not workspaces; only an admin is assigned workspaces`}
  if (kind === 'tenant' && role === 'admin') return {field: 'tenant', message: `"${email}" is an admin: an admin is assigned workspaces, not tenants; only a client is assigned tenants`}
  return undefined
}

/**
 * Assigns in `trx`, skipping what is already assigned, and returns the audit events of what
 * was new. The workspace or tenant must exist.
 */
async function insertAssignments(trx: Db, audit: Audit, user: {email: string; id: string}, workspaces: readonly string[], tenants: readonly UserTenant[]): Promise<NewEvent[]> {
  const events: NewEvent[] = []
  for (const slug of new Set(workspaces)) {
    const workspace = await findWorkspace(trx, slug)
    const added = await trx
      .insertInto('user_workspaces')
      .values({created_by: audit.actor, user_id: user.id, workspace_id: workspace.id})
      .onConflict((conflict) => conflict.columns(['user_id', 'workspace_id']).doNothing())
      .returning('user_id')
      .executeTakeFirst()
    if (added) events.push({aggregateId: user.email, aggregateType: 'user', data: {email: user.email, workspace: workspace.slug}, type: 'user.assigned', workspaceId: workspace.id})
  }

  const seen = new Set<string>()
  for (const tenant of tenants) {
    const key = `${tenant.workspace}/${tenant.tenantId}`
    if (seen.has(key)) continue
    seen.add(key)
    const {id, workspace} = await resolveTenant(trx, tenant)
    const added = await trx
      .insertInto('user_tenants')
      .values({created_by: audit.actor, tenant_id: id, user_id: user.id})
      .onConflict((conflict) => conflict.columns(['user_id', 'tenant_id']).doNothing())
      .returning('user_id')
      .executeTakeFirst()
    if (added) events.push({aggregateId: user.email, aggregateType: 'user', data: {email: user.email, tenantId: tenant.tenantId, workspace: workspace.slug}, type: 'user.assigned', workspaceId: workspace.id})
  }

  return events
}

/**
 * Creates a user, with an admin's workspaces or a client's tenants assigned at once; audited
 * as `user.created` and one `user.assigned` per assignment, in the same transaction.
 */
export async function createUser(db: Db, audit: Audit, input: NewUser): Promise<User> {
  const email = validEmail(input.email)
  if (!isRole(input.role)) throw new InvalidInputError([{field: 'role', message: `must be one of ${USER_ROLES.join(', ')}`}])
  const {role} = input
  const workspaces = input.workspaces ?? []
  const tenants = input.tenants ?? []
  const issues = [workspaces.length > 0 ? assignmentIssue(email, role, 'workspace') : undefined, tenants.length > 0 ? assignmentIssue(email, role, 'tenant') : undefined].filter(
    (issue) => issue !== undefined,
  )
  if (issues.length > 0) throw new InvalidInputError(issues)

  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('users')
      .values({created_by: audit.actor, email, role})
      .onConflict((conflict) => conflict.expression(sql`lower(email)`).doNothing())
      .returning(['id', 'email'])
      .executeTakeFirst()
    if (!row) {
      throw new ConflictError(`A user with the address "${email}" already exists (addresses are compared whatever their case).`, 'See it with `synthex users list`; change what it is assigned with `synthex users assign`.', {email})
    }

    const assigned = await insertAssignments(trx, audit, row, workspaces, tenants)
    await recordEvents(trx, audit, [{aggregateId: row.email, aggregateType: 'user', data: {email: row.email, role}, type: 'user.created', workspaceId: null}, ...assigned])
    return findUser(trx, row.email)
  })
}

/**
 * Deactivates a user: its keys are refused from their next request on (authenticateApiKeys
 * in src/services/api-keys/api-keys.ts reads users.deactivated_at on every request).
 * Deactivating twice changes nothing and records nothing the second time.
 */
export async function deactivateUser(db: Db, audit: Audit, email: string): Promise<User> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('users')
      .set({deactivated_at: sql<Date>`now()`})
      .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
      .where('deactivated_at', 'is', null)
      .returning(['email', 'role'])
      .executeTakeFirst()
    if (row) await recordEvents(trx, audit, [{aggregateId: row.email, aggregateType: 'user', data: {email: row.email, role: row.role}, type: 'user.deactivated', workspaceId: null}])
    return findUser(trx, email)
  })
}

/**
 * Assigns a workspace to an admin or a tenant to a client; audited as `user.assigned`.
 * Assigning what is already assigned changes nothing and records nothing (`assigned: false`).
 */
export async function assignUser(db: Db, audit: Audit, email: string, assignment: Assignment): Promise<{assigned: boolean; user: User}> {
  return db.transaction().execute(async (trx) => {
    const user = await findUser(trx, email)
    const kind = 'workspace' in assignment ? 'workspace' : 'tenant'
    const issue = assignmentIssue(user.email, user.role, kind)
    if (issue) throw new InvalidInputError([issue])
    const events = await insertAssignments(trx, audit, user, 'workspace' in assignment ? [assignment.workspace] : [], 'tenant' in assignment ? [assignment.tenant] : [])
    await recordEvents(trx, audit, events)
    return {assigned: events.length > 0, user: events.length > 0 ? await findUser(trx, user.email) : user}
  })
}

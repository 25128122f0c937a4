import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {ConflictError} from '../../errors/input-errors.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {type Audit, recordEvents} from '../events/events.js'

/**
 * `db create-readonly-role`: a login for Metabase, Tableau or psql that reads the reporting
 * views (migrations/0014_reporting_views.sql) and nothing else. It gets CONNECT on the
 * database, USAGE on the `reporting` schema and SELECT on each view; never a privilege on a
 * table, so it cannot read a credential's ciphertext, a channel's secret or an API key's
 * hash. The views read the tables with their owner's privileges. Before committing, the
 * database itself is asked whether the role can touch any of synthex's tables (through
 * PUBLIC, or a grant made by hand): if it can, nothing is created or changed.
 *
 * Role names and the database's name are identifiers and go through `sql.id` (quoted); the
 * password never reaches the server, only its SCRAM verifier (src/crypto/scram-verifier.ts).
 */

export const REPORTING_SCHEMA = 'reporting'
/** The views a read-only role may read, as documented in the README ("Grafana and BI"). */
export const REPORTING_VIEWS = ['tenant_stats', 'credential_expiry_report', 'credential_verification_report'] as const

/** What happens to the role's password. `keep`: an existing role keeps whatever it has. */
export type RolePassword = {readonly kind: 'keep'} | {readonly kind: 'none'} | {readonly kind: 'set'; readonly verifier: string}

export interface ReadonlyRole {
  /** False when the role existed: its grants were brought up to date. */
  readonly created: boolean
  readonly database: string
  /** set: given now; none: the role has no password now (--no-password); unchanged: an existing role kept its own. */
  readonly password: 'none' | 'set' | 'unchanged'
  readonly role: string
  readonly schema: typeof REPORTING_SCHEMA
  readonly views: string[]
  /** What the role could do beyond reading the views that synthex does not change (a database-wide default). */
  readonly warnings: string[]
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/
/** Names Postgres keeps for itself in role specifications. */
const RESERVED_ROLE_NAMES = new Set(['current_role', 'current_user', 'none', 'public', 'session_user'])
const MAX_PASSWORD_LENGTH = 1000
/** One run at a time: two creating the same role would otherwise race to a duplicate-key error. */
const LOCK_KEY = 0x5e_ad_01_e5

/** Why `name` cannot be a read-only role's name, or undefined when it can. Never repeats the name. */
export function readonlyRoleNameProblem(name: string): string | undefined {
  if (!ROLE_NAME.test(name)) return 'a role name is 1-63 lower-case letters, digits and _, starting with a letter or _ (e.g. metabase, bi_reader)'
  if (name.startsWith('pg_')) return 'names starting with pg_ are reserved by Postgres'
  if (RESERVED_ROLE_NAMES.has(name)) return 'that name is reserved by Postgres'
  return undefined
}

/**
 * Why `password` cannot be used, or undefined. Printable ASCII only: clients normalise a
 * password with SASLprep before hashing, which leaves printable ASCII as it is, so the
 * verifier computed here matches what libpq, pgjdbc (Metabase, Tableau) and node-postgres send.
 */
export function readonlyRolePasswordProblem(password: string): string | undefined {
  if (!/^[\u0020-\u007E]+$/.test(password)) return 'the password must be printable ASCII (letters, digits, punctuation and spaces)'
  if (password.length > MAX_PASSWORD_LENGTH) return `the password is longer than ${MAX_PASSWORD_LENGTH} characters`
  return undefined
}

/** Whether a role of that name exists on the server (roles are server-wide, not per database). */
export async function readonlyRoleExists(db: Db, name: string): Promise<boolean> {
  const {rows} = await sql<{exists: boolean}>`select exists (select 1 from pg_roles where rolname = ${name}) as exists`.execute(db)
  return rows[0]?.exists === true
}

interface ExistingRole {
  readonly attributes: string[]
  readonly member_of: string[]
  readonly owns: number
  readonly is_me: boolean
}

interface SynthexTable {
  readonly name: string
  readonly schema: string
  /** As text: an oid may exceed a 32-bit integer. */
  readonly oid: string
}

export async function createReadonlyRole(db: Db, audit: Audit, input: {name: string; password: RolePassword}): Promise<ReadonlyRole> {
  const problem = readonlyRoleNameProblem(input.name)
  if (problem) throw new SynthexError(`Invalid role name: ${problem}.`, {code: 'INVALID_ROLE_NAME', kind: 'usage'})
  const role = sql.id(input.name)
  return withPermissionErrors(() =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx)
      const database = (await sql<{name: string}>`select current_database() as name`.execute(trx)).rows[0]?.name as string
      const existing = await existingRole(trx, input.name)
      if (existing) refuseUnlessReadonly(input.name, existing)

      const passwordClause = input.password.kind === 'set' ? sql` password ${sql.lit(input.password.verifier)}` : input.password.kind === 'none' && existing ? sql` password null` : sql``
      await (existing
        ? sql`alter role ${role} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls${passwordClause}`
        : sql`create role ${role} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls${passwordClause}`
      ).execute(trx)

      const tables = await synthexTables(trx)
      // Re-running brings the grants back to exactly these: anything granted by hand on
      // synthex's tables or the views is taken back first.
      if (tables.length > 0) await sql`revoke all on table ${sql.join(tables.map((table) => sql.id(table.schema, table.name)))} from ${role}`.execute(trx)
      const views = REPORTING_VIEWS.map((view) => sql.id(REPORTING_SCHEMA, view))
      await sql`revoke all on table ${sql.join(views)} from ${role}`.execute(trx)
      await sql`grant connect on database ${sql.id(database)} to ${role}`.execute(trx)
      await sql`grant usage on schema ${sql.id(REPORTING_SCHEMA)} to ${role}`.execute(trx)
      await sql`grant select on table ${sql.join(views)} to ${role}`.execute(trx)
      // For people and BI tools: `select * from tenant_stats` finds the view, and nothing is
      // written by accident. Defaults a session may change, not the boundary (the grants are).
      await sql`alter role ${role} in database ${sql.id(database)} set search_path to ${sql.id(REPORTING_SCHEMA)}`.execute(trx)
      await sql`alter role ${role} in database ${sql.id(database)} set default_transaction_read_only to on`.execute(trx)

      await refuseIfTablesReachable(trx, input.name, tables)
      const warnings = await publicDefaults(trx, input.name, tables)
      const password = input.password.kind === 'set' ? 'set' : input.password.kind === 'keep' && existing ? 'unchanged' : 'none'
      await recordEvents(trx, audit, [
        {aggregateId: input.name, aggregateType: 'readonly_role', data: {database, password, role: input.name, views: [...REPORTING_VIEWS]}, type: existing ? 'readonly_role.updated' : 'readonly_role.created', workspaceId: null},
      ])
      return {created: !existing, database, password, role: input.name, schema: REPORTING_SCHEMA, views: REPORTING_VIEWS.map((view) => `${REPORTING_SCHEMA}.${view}`), warnings}
    }),
  )
}

async function existingRole(db: Db, name: string): Promise<ExistingRole | undefined> {
  const {rows} = await sql<ExistingRole>`
    select
      array_remove(array[
        case when r.rolsuper then 'is a superuser' end,
        case when r.rolcreaterole then 'may create roles' end,
        case when r.rolcreatedb then 'may create databases' end,
        case when r.rolreplication then 'may replicate' end,
        case when r.rolbypassrls then 'bypasses row-level security' end
      ], null) as attributes,
      array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid order by 1) as member_of,
      (select count(*)::int from pg_class c where c.relowner = r.oid) + (select count(*)::int from pg_namespace n where n.nspowner = r.oid) as owns,
      r.rolname = current_user or r.rolname = session_user as is_me
    from pg_roles r where r.rolname = ${name}`.execute(db)
  return rows[0]
}

/** An existing role is made read-only only if it was nothing more: synthex never takes powers away from someone else's role. */
function refuseUnlessReadonly(name: string, role: ExistingRole): void {
  const reasons = [
    ...(role.is_me ? ['is the user this command connects as'] : []),
    ...role.attributes,
    ...(role.owns > 0 ? ['owns tables or schemas in this database'] : []),
    ...(role.member_of.length > 0 ? [`belongs to ${role.member_of.join(', ')}`] : []),
  ]
  if (reasons.length === 0) return
  throw new ConflictError(
    `The role ${name} exists and is not a read-only role: it ${reasons.join(', ')}.`,
    'Pick another name: synthex makes a new role, or updates one it made, that reads the reporting views and nothing else.',
    {reasons, role: name},
  )
}

/** synthex's tables: those beside `credentials`, owned by its owner (the user that ran the migrations). */
async function synthexTables(db: Db): Promise<SynthexTable[]> {
  const {rows} = await sql<SynthexTable>`
    select n.nspname as schema, c.relname as name, c.oid::text as oid
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_class anchor on anchor.oid = 'credentials'::regclass
    where c.relnamespace = anchor.relnamespace and c.relowner = anchor.relowner and c.relkind in ('r', 'p', 'v', 'm', 'f')
    order by c.relname`.execute(db)
  return rows
}

/** Asks the database whether the role could read or change any of synthex's tables; if so, nothing is committed. */
async function refuseIfTablesReachable(db: Db, name: string, tables: readonly SynthexTable[]): Promise<void> {
  if (tables.length === 0) return
  const {rows} = await sql<{name: string}>`
    select t.name from unnest(${tables.map((table) => table.oid)}::oid[], ${tables.map((table) => table.name)}::text[]) as t(oid, name)
    where has_table_privilege(${name}, t.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
       or has_any_column_privilege(${name}, t.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
    order by 1`.execute(db)
  if (rows.length === 0) return
  const names = rows.map((row) => row.name)
  throw new ConflictError(
    `The role ${name} could still reach synthex's tables (${names.join(', ')}) through privileges granted to PUBLIC or to a role it belongs to; nothing was changed.`,
    `Revoke them (e.g. REVOKE ALL ON ${names[0]} FROM PUBLIC), then run this command again.`,
    {role: name, tables: names},
  )
}

/** Database-wide defaults that let every role do more than read, which synthex does not change for others. */
async function publicDefaults(db: Db, name: string, tables: readonly SynthexTable[]): Promise<string[]> {
  const schema = tables[0]?.schema
  if (!schema) return []
  const {rows} = await sql<{create: boolean}>`select has_schema_privilege(${name}, ${schema}, 'CREATE') as create`.execute(db)
  return rows[0]?.create
    ? [
        `Every role may create tables in schema ${schema} (the default of Postgres 14 and older); the role's transactions are read-only by default, but it may change that. REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC closes it, as Postgres 15 does.`,
      ]
    : []
}

/** A user without the right to create roles or grant on the views: said plainly, with what it needs. */
async function withPermissionErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if ((error as {code?: string}).code !== '42501') throw error
    throw new SynthexError(`The database user may not do this: ${(error as Error).message}.`, {
      cause: error,
      code: 'PERMISSION_DENIED',
      hint: 'Run it as the user that ran `synthex db migrate` (it owns the views) if it has CREATEROLE, or as a superuser.',
    })
  }
}

import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {ConflictError} from '../../errors/input-errors.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {existingLogin, type ExistingLogin, loginNameProblem, loginStatement, type PasswordOutcome, passwordOutcome, powersOf, type RolePassword} from '../access/database-login.js'
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
 * What every login synthex makes shares is in src/services/access/database-login.ts.
 */

export const REPORTING_SCHEMA = 'reporting'
/** The views a read-only role may read, as documented in the README ("Grafana and BI"). */
export const REPORTING_VIEWS = ['tenant_stats', 'credential_expiry_report', 'credential_verification_report'] as const

export interface ReadonlyRole {
  /** False when the role existed: its grants were brought up to date. */
  readonly created: boolean
  readonly database: string
  /** set: given now; none: the role has no password now (--no-password); unchanged: an existing role kept its own. */
  readonly password: PasswordOutcome
  readonly role: string
  readonly schema: typeof REPORTING_SCHEMA
  readonly views: string[]
  /** What the role could do beyond reading the views that synthex does not change (a database-wide default). */
  readonly warnings: string[]
}

/** One run at a time: two creating the same role would otherwise race to a duplicate-key error. */
const LOCK_KEY = 0x5e_ad_01_e5

interface SynthexTable {
  readonly name: string
  readonly schema: string
  /** As text: an oid may exceed a 32-bit integer. */
  readonly oid: string
}

export async function createReadonlyRole(db: Db, audit: Audit, input: {name: string; password: RolePassword}): Promise<ReadonlyRole> {
  const problem = loginNameProblem(input.name)
  if (problem) throw new SynthexError(`Invalid role name: ${problem}.`, {code: 'INVALID_ROLE_NAME', kind: 'usage'})
  const role = sql.id(input.name)
  return withPermissionErrors(() =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx)
      const database = (await sql<{name: string}>`select current_database() as name`.execute(trx)).rows[0]?.name as string
      const existing = await existingLogin(trx, input.name)
      if (existing) refuseUnlessReadonly(input.name, existing)

      await loginStatement(input.name, existing !== undefined, input.password).execute(trx)

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
      const password = passwordOutcome(input.password, existing !== undefined)
      await recordEvents(trx, audit, [
        {aggregateId: input.name, aggregateType: 'readonly_role', data: {database, password, role: input.name, views: [...REPORTING_VIEWS]}, type: existing ? 'readonly_role.updated' : 'readonly_role.created', workspaceId: null},
      ])
      return {created: !existing, database, password, role: input.name, schema: REPORTING_SCHEMA, views: REPORTING_VIEWS.map((view) => `${REPORTING_SCHEMA}.${view}`), warnings}
    }),
  )
}

/** An existing role is made read-only only if it was nothing more: synthex never takes powers away from someone else's role. */
function refuseUnlessReadonly(name: string, role: ExistingLogin): void {
  const reasons = powersOf(role)
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

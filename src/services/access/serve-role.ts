import {sql} from 'kysely'

import {MIGRATION_TABLE, readMigrationFiles} from '../../db/migrations.js'
import type {Db} from '../../db/schema.js'
import {ConflictError} from '../../errors/input-errors.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {type Audit, recordEvents} from '../events/events.js'
import {existingLogin, loginNameProblem, loginStatement, type PasswordOutcome, passwordOutcome, powersOf, type RolePassword} from './database-login.js'

/**
 * `db create-serve-role`: the login `synthex serve` runs as on a Postgres server so that the
 * row-level security policies of migrations/0016_users_roles.sql bind it, the second line
 * behind serve's own checks (src/db/reach-scoped-db.ts sets each request's reach). Postgres
 * does not apply policies to a superuser, a BYPASSRLS role or the tables' owner, which is
 * who runs `synthex db migrate`; so serve needs a login of its own that is none of those.
 *
 * It gets CONNECT on the database, USAGE on the schema of synthex's tables, SELECT, INSERT,
 * UPDATE and DELETE on each table synthex's migrations create, USAGE and SELECT on their
 * sequences, EXECUTE on the functions they create (the policies' synthex_reach* and those
 * synthex's triggers and services call), and SELECT on the migrations' bookkeeping (serve
 * refuses to start while migrations are pending). It owns nothing and may change no schema.
 * Before committing, the database itself is asked whether the policies bind the role on
 * tenants, credentials, alerts and events: if not, nothing is created or changed.
 */

/** The tables whose policies limit a request to its caller's reach (migrations/0016_users_roles.sql). */
export const ROW_SECURITY_TABLES = ['alerts', 'credentials', 'events', 'tenants'] as const

export interface ServeRole {
  /** False when the role existed: its grants were brought up to date. */
  readonly created: boolean
  readonly database: string
  /** The tables' owner: the user for `synthex db migrate`, which the serve role may not run. */
  readonly owner: string
  readonly password: PasswordOutcome
  readonly role: string
  /** The tables where it sees and changes only the rows within a request's reach. */
  readonly rowSecurity: string[]
  /** synthex's tables, which it may read and change (rows, never the schema). */
  readonly tables: string[]
}

/** One run at a time: two creating the same role would otherwise race to a duplicate-key error. */
const LOCK_KEY = 0x5e_ad_01_e6

const CREATE_TABLE = /\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)\s*\(/gi
const CREATE_FUNCTION = /\bcreate\s+(?:or\s+replace\s+)?function\s+([a-z_][a-z0-9_]*)\s*\(/gi

interface Relation {
  readonly name: string
  /** As text: an oid may exceed a 32-bit integer. */
  readonly oid: string
  readonly schema: string
}

interface SynthexObjects {
  readonly functions: readonly Relation[]
  /** Kysely's migration table and its lock table, where they exist. */
  readonly migrationTables: readonly Relation[]
  readonly owner: string
  readonly sequences: readonly Relation[]
  readonly tables: readonly Relation[]
}

export async function createServeRole(db: Db, audit: Audit, input: {name: string; password: RolePassword}): Promise<ServeRole> {
  const problem = loginNameProblem(input.name)
  if (problem) throw new SynthexError(`Invalid role name: ${problem}.`, {code: 'INVALID_ROLE_NAME', kind: 'usage'})
  const role = sql.id(input.name)
  return withPermissionErrors(() =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx)
      const database = (await sql<{name: string}>`select current_database() as name`.execute(trx)).rows[0]?.name as string
      const existing = await existingLogin(trx, input.name)
      if (existing) {
        const reasons = powersOf(existing)
        if (reasons.length > 0) {
          throw new ConflictError(
            `The role ${input.name} exists and is not a plain login: it ${reasons.join(', ')}.`,
            'Pick another name: synthex makes a new role, or updates one it made, that may change rows of its tables and nothing more, so that row-level security binds it.',
            {reasons, role: input.name},
          )
        }
      }

      await loginStatement(input.name, existing !== undefined, input.password).execute(trx)
      // A role that was a read-only one (`db create-readonly-role`) carries its defaults.
      if (existing) {
        await sql`alter role ${role} in database ${sql.id(database)} reset search_path`.execute(trx)
        await sql`alter role ${role} in database ${sql.id(database)} reset default_transaction_read_only`.execute(trx)
      }

      const objects = await synthexObjects(trx)
      const tables = objects.tables.map((table) => sql.id(table.schema, table.name))
      const migrationTables = objects.migrationTables.map((table) => sql.id(table.schema, table.name))
      const sequences = objects.sequences.map((sequence) => sql.id(sequence.schema, sequence.name))
      const functions = objects.functions.map((fn) => sql.id(fn.schema, fn.name))
      // Re-running brings the grants back to exactly these: anything granted by hand on
      // synthex's tables, sequences and functions is taken back first.
      await sql`revoke all on table ${sql.join([...tables, ...migrationTables])} from ${role}`.execute(trx)
      if (sequences.length > 0) await sql`revoke all on sequence ${sql.join(sequences)} from ${role}`.execute(trx)
      if (functions.length > 0) await sql`revoke all on function ${sql.join(functions)} from ${role}`.execute(trx)

      await sql`grant connect on database ${sql.id(database)} to ${role}`.execute(trx)
      for (const schema of new Set(objects.tables.map((table) => table.schema))) await sql`grant usage on schema ${sql.id(schema)} to ${role}`.execute(trx)
      await sql`grant select, insert, update, delete on table ${sql.join(tables)} to ${role}`.execute(trx)
      const bookkeeping = objects.migrationTables.find((table) => table.name === MIGRATION_TABLE)
      if (bookkeeping) await sql`grant select on table ${sql.id(bookkeeping.schema, bookkeeping.name)} to ${role}`.execute(trx)
      if (sequences.length > 0) await sql`grant usage, select on sequence ${sql.join(sequences)} to ${role}`.execute(trx)
      if (functions.length > 0) await sql`grant execute on function ${sql.join(functions)} to ${role}`.execute(trx)

      await refuseUnlessBound(trx, input.name)
      const password = passwordOutcome(input.password, existing !== undefined)
      const tableNames = objects.tables.map((table) => table.name)
      await recordEvents(trx, audit, [
        {
          aggregateId: input.name,
          aggregateType: 'serve_role',
          data: {database, password, role: input.name, rowSecurity: [...ROW_SECURITY_TABLES], tables: tableNames},
          type: existing ? 'serve_role.updated' : 'serve_role.created',
          workspaceId: null,
        },
      ])
      return {created: !existing, database, owner: objects.owner, password, role: input.name, rowSecurity: [...ROW_SECURITY_TABLES], tables: tableNames}
    }),
  )
}

/** The names of the tables and functions synthex's migrations create, from the migration files themselves. */
function migrationObjectNames(): {functions: string[]; tables: string[]} {
  const tables = new Set<string>()
  const functions = new Set<string>()
  for (const file of readMigrationFiles()) {
    for (const match of file.up.matchAll(CREATE_TABLE)) tables.add((match[1] as string).toLowerCase())
    for (const match of file.up.matchAll(CREATE_FUNCTION)) functions.add((match[1] as string).toLowerCase())
  }

  return {functions: [...functions].sort(), tables: [...tables].sort()}
}

/**
 * synthex's tables (those its migrations create, beside `credentials`), their sequences,
 * its functions, and Kysely's migration tables. Named, not found by owner: on Supabase the
 * `postgres` user may own other applications' tables in the same schema.
 */
async function synthexObjects(db: Db): Promise<SynthexObjects> {
  const names = migrationObjectNames()
  const {rows: tables} = await sql<Relation>`
    select n.nspname as schema, c.relname as name, c.oid::text as oid
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_class anchor on anchor.oid = 'credentials'::regclass
    where c.relnamespace = anchor.relnamespace and c.relkind in ('r', 'p') and c.relname = any(${names.tables}::text[])
    order by c.relname`.execute(db)
  const {rows: migrationTables} = await sql<Relation>`
    select n.nspname as schema, c.relname as name, c.oid::text as oid
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.oid in (to_regclass(${MIGRATION_TABLE}), to_regclass(${`${MIGRATION_TABLE}_lock`}))
    order by c.relname`.execute(db)
  const {rows: sequences} = await sql<Relation>`
    select distinct n.nspname as schema, s.relname as name, s.oid::text as oid
    from pg_depend d
    join pg_class s on s.oid = d.objid and s.relkind = 'S'
    join pg_namespace n on n.oid = s.relnamespace
    where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.refobjid = any(${tables.map((table) => table.oid)}::oid[])
    order by 2`.execute(db)
  const {rows: functions} = await sql<Relation>`
    select n.nspname as schema, p.proname as name, min(p.oid)::text as oid
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_class anchor on anchor.oid = 'credentials'::regclass
    where p.pronamespace = anchor.relnamespace and p.proname = any(${names.functions}::text[])
    group by 1, 2
    order by 2`.execute(db)
  const {rows: owners} = await sql<{owner: string}>`select pg_get_userbyid(relowner)::text as owner from pg_class where oid = 'credentials'::regclass`.execute(db)
  return {functions, migrationTables, owner: owners[0]?.owner ?? '', sequences, tables}
}

interface Binding {
  readonly bypasses: boolean
  readonly enabled: boolean | null
  readonly inherits_bypass: boolean
  readonly owns: boolean | null
  readonly policies: number
  readonly table: string
}

/** Asks the database whether the policies bind the role on each of ROW_SECURITY_TABLES; if not, nothing is committed. */
async function refuseUnlessBound(db: Db, name: string): Promise<void> {
  const {rows} = await sql<Binding>`
    select
      t.name as table,
      c.relrowsecurity as enabled,
      pg_has_role(r.oid, c.relowner, 'MEMBER') as owns,
      (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies,
      r.rolsuper or r.rolbypassrls as bypasses,
      exists (select 1 from pg_roles g where g.oid <> r.oid and (g.rolsuper or g.rolbypassrls) and pg_has_role(r.oid, g.oid, 'MEMBER')) as inherits_bypass
    from unnest(${[...ROW_SECURITY_TABLES]}::text[]) as t(name)
    cross join pg_roles r
    left join pg_class c on c.oid = to_regclass(t.name)
    where r.rolname = ${name}
    order by 1`.execute(db)
  const reasons = new Set<string>()
  for (const row of rows) {
    if (row.enabled === null) reasons.add(`the table ${row.table} does not exist`)
    else if (!row.enabled || row.policies === 0) reasons.add(`row-level security is not on for ${row.table} (run \`synthex db migrate\`)`)
    if (row.owns) reasons.add(`it owns ${row.table}, or belongs to its owner`)
    if (row.bypasses) reasons.add('it bypasses row-level security')
    if (row.inherits_bypass) reasons.add('it belongs to a role that bypasses row-level security')
  }

  if (rows.length !== ROW_SECURITY_TABLES.length) reasons.add('the role cannot be found after creating it')
  if (reasons.size === 0) return
  throw new ConflictError(
    `Row-level security would not bind the role ${name}: ${[...reasons].join('; ')}. Nothing was changed.`,
    'Fix what is named, then run this command again.',
    {reasons: [...reasons], role: name},
  )
}

/** A user without the right to create roles or grant on the tables: said plainly, with what it needs. */
async function withPermissionErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if ((error as {code?: string}).code !== '42501') throw error
    throw new SynthexError(`The database user may not do this: ${(error as Error).message}.`, {
      cause: error,
      code: 'PERMISSION_DENIED',
      hint: 'Run it as the user that ran `synthex db migrate` (it owns the tables; on Supabase, postgres) if it has CREATEROLE, or as a superuser.',
    })
  }
}

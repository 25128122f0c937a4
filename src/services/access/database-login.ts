import {type RawBuilder, sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {SynthexError} from '../../errors/synthex-error.js'

/**
 * What the Postgres logins synthex makes have in common (`db create-readonly-role`,
 * src/services/reporting/readonly-role.ts; `db create-serve-role`, serve-role.ts): the
 * rules for their names and passwords, and what an existing role of that name already is.
 * Role names go through `sql.id` (quoted); a password never reaches the server, only its
 * SCRAM verifier (src/crypto/scram-verifier.ts).
 */

/** What happens to the role's password. `keep`: an existing role keeps whatever it has. */
export type RolePassword = {readonly kind: 'keep'} | {readonly kind: 'none'} | {readonly kind: 'set'; readonly verifier: string}

/** set: given now; none: the role has no password now (--no-password); unchanged: an existing role kept its own. */
export type PasswordOutcome = 'none' | 'set' | 'unchanged'

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/
/** Names Postgres keeps for itself in role specifications. */
const RESERVED_ROLE_NAMES = new Set(['current_role', 'current_user', 'none', 'public', 'session_user'])
const MAX_PASSWORD_LENGTH = 1000

/** Why `name` cannot be a login's name, or undefined when it can. Never repeats the name. */
export function loginNameProblem(name: string): string | undefined {
  if (!ROLE_NAME.test(name)) return 'a role name is 1-63 lower-case letters, digits and _, starting with a letter or _ (e.g. metabase, bi_reader)'
  if (name.startsWith('pg_')) return 'names starting with pg_ are reserved by Postgres'
  if (RESERVED_ROLE_NAMES.has(name)) return 'that name is reserved by Postgres'
  return undefined
}

/** The usage error of a name loginNameProblem refuses. */
export function invalidLoginName(problem: string): SynthexError {
  return new SynthexError(`Invalid role name: ${problem}; what was typed is not repeated.`, {code: 'INVALID_ROLE_NAME', kind: 'usage'})
}

/**
 * Why `password` cannot be used, or undefined. Printable ASCII only: clients normalise a
 * password with SASLprep before hashing, which leaves printable ASCII as it is, so the
 * verifier computed here matches what libpq, pgjdbc (Metabase, Tableau) and node-postgres send.
 */
export function loginPasswordProblem(password: string): string | undefined {
  if (!/^[\u0020-\u007E]+$/.test(password)) return 'the password must be printable ASCII (letters, digits, punctuation and spaces)'
  if (password.length > MAX_PASSWORD_LENGTH) return `the password is longer than ${MAX_PASSWORD_LENGTH} characters`
  return undefined
}

/** Whether a role of that name exists on the server (roles are server-wide, not per database). */
export async function loginExists(db: Db, name: string): Promise<boolean> {
  const {rows} = await sql<{exists: boolean}>`select exists (select 1 from pg_roles where rolname = ${name}) as exists`.execute(db)
  return rows[0]?.exists === true
}

/** An existing role, as far as it matters to making it a login of synthex's. */
export interface ExistingLogin {
  readonly attributes: string[]
  readonly is_me: boolean
  readonly member_of: string[]
  readonly owns: number
}

export async function existingLogin(db: Db, name: string): Promise<ExistingLogin | undefined> {
  const {rows} = await sql<ExistingLogin>`
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

/** Why an existing role is more than a plain login: synthex never takes powers away from someone else's role. */
export function powersOf(role: ExistingLogin): string[] {
  return [
    ...(role.is_me ? ['is the user this command connects as'] : []),
    ...role.attributes,
    ...(role.owns > 0 ? ['owns tables or schemas in this database'] : []),
    ...(role.member_of.length > 0 ? [`belongs to ${role.member_of.join(', ')}`] : []),
  ]
}

/**
 * `create role` or `alter role` for a plain login: it may log in, and nothing else a role
 * attribute can give.
 */
export function loginStatement(name: string, existing: boolean, password: RolePassword): RawBuilder<unknown> {
  const role = sql.id(name)
  const passwordClause = password.kind === 'set' ? sql` password ${sql.lit(password.verifier)}` : password.kind === 'none' && existing ? sql` password null` : sql``
  return existing
    ? sql`alter role ${role} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls${passwordClause}`
    : sql`create role ${role} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls${passwordClause}`
}

export function passwordOutcome(password: RolePassword, existing: boolean): PasswordOutcome {
  return password.kind === 'set' ? 'set' : password.kind === 'keep' && existing ? 'unchanged' : 'none'
}

import {randomBytes} from 'node:crypto'

import pg from 'pg'
import {afterAll, expect, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

/**
 * `synthex db create-serve-role`: the login serve runs as so that row-level security binds
 * it (test/integration/reach-scoped-db.test.ts checks what it then sees). The test server
 * trusts connections from 127.0.0.1, so the role connects without its password; the
 * password is checked where it lands (pg_authid holds only its verifier). Roles are
 * server-wide: each has a name of its own and is dropped after the suite.
 */

const KEY = randomBytes(32).toString('base64')
const PASSWORD_CANARY = `pw-canary-${randomBytes(6).toString('hex')}`

describeEachCliBackend('db create-serve-role', (target) => {
  const run = (args: string[], options: {input?: string} = {}) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s'}, input: options.input})
  const role = `sx_serve_${process.pid}_${randomBytes(3).toString('hex')}`

  const query = async <T extends pg.QueryResultRow>(user: 'owner' | 'role', text: string, values: unknown[] = []): Promise<T[]> => {
    const url = new URL(target().env.DATABASE_URL as string)
    if (user === 'role') url.username = role
    const client = new pg.Client({connectionString: url.toString()})
    await client.connect()
    try {
      return (await client.query<T>(text, values)).rows
    } finally {
      await client.end()
    }
  }

  const refusal = (text: string): Promise<string | undefined> =>
    query('role', text).then(
      () => undefined,
      (error: {code?: string}) => error.code,
    )

  afterAll(async () => {
    if (target().backend !== 'server') return
    if ((await query('owner', 'select 1 from pg_roles where rolname = $1', [role])).length === 0) return
    // Before the suite's database is dropped: DROP OWNED takes back the role's grants there.
    await query('owner', `drop owned by "${role}"`)
    await query('owner', `drop role "${role}"`)
  })

  it('is refused on the embedded database, or makes a login bound by row-level security that cannot change the schema', async () => {
    const created = await run(['db', 'create-serve-role', role, '--password-stdin'], {input: `${PASSWORD_CANARY}\n`})
    expect(created.stdout + created.stderr).not.toContain(PASSWORD_CANARY)
    if (target().backend === 'embedded') {
      expect(created.code).toBe(2)
      expect(created.stderr).toContain('which has no logins or roles')
      expect(created.stderr).toContain('its own checks of each key\'s role and reach are the only line')
      return
    }

    expect(created.code, created.stderr).toBe(0)
    const database = new URL(target().env.DATABASE_URL as string).pathname.slice(1)
    expect(created.stderr).toContain(`Run serve as it: DATABASE_URL='postgres://${role}:<password>@127.0.0.1:5432/${database}' synthex serve`)
    const [stored] = await query<{password: string}>('owner', 'select rolpassword as password from pg_authid where rolname = $1', [role])
    expect(stored?.password).toMatch(/^SCRAM-SHA-256\$4096:/)

    // Postgres itself says the policies bind it; it reads the migrations' bookkeeping, and
    // may change rows but not the schema or that bookkeeping.
    const [bound] = await query<Record<string, boolean>>('role', "select row_security_active('tenants') as tenants, row_security_active('credentials') as credentials, row_security_active('alerts') as alerts, row_security_active('events') as events")
    expect(bound).toEqual({alerts: true, credentials: true, events: true, tenants: true})
    expect((await query('role', 'select name from kysely_migration')).length).toBeGreaterThan(10)
    expect(await refusal("insert into kysely_migration (name, timestamp) values ('9999_x', now())")).toBe('42501')
    expect(await refusal('alter table tenants add column leak text')).toBe('42501')
    expect(await refusal('create table public.leak (x int)')).toBe('42501')
    expect(await refusal('truncate events')).toBe('42501')

    // Run again: idempotent, the password kept, a grant made by hand taken back.
    await query('owner', `grant truncate on tenants to "${role}"`)
    const again = await run(['db', 'create-serve-role', role, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(parseJson(again)).toMatchObject({created: false, database, owner: 'postgres', password: 'unchanged', role, rowSecurity: ['alerts', 'credentials', 'events', 'tenants'], url: `postgres://${role}@127.0.0.1:5432/${database}`})
    expect(parseJson<{tables: string[]}>(again).tables).toEqual(expect.arrayContaining(['alerts', 'api_keys', 'credentials', 'events', 'tenants', 'users', 'workspaces']))
    const [after] = await query<{password: string}>('owner', 'select rolpassword as password from pg_authid where rolname = $1', [role])
    expect(after?.password).toBe(stored?.password)
    expect(await refusal('truncate tenants')).toBe('42501')

    const events = await query<{data: unknown; type: string}>('owner', "select type, data from events where aggregate_type = 'serve_role' order by id")
    expect(events.map((event) => event.type)).toEqual(['serve_role.created', 'serve_role.updated'])
    expect(JSON.stringify(events)).not.toContain(PASSWORD_CANARY)
    expect(JSON.stringify(events)).not.toContain('SCRAM')
  })

  it('refuses a superuser, and a name that is not a plain identifier, changing nothing', async () => {
    const superuser = await run(['db', 'create-serve-role', 'postgres', '--json'])
    const invalid = await run(['db', 'create-serve-role', 'Robert"); drop table tenants; --', '--no-password', '--json'])
    expect(invalid.code).toBe(2)
    expect(invalid.stdout + invalid.stderr).not.toContain('Robert')
    if (target().backend === 'embedded') {
      expect(superuser.code).toBe(2)
      expect(parseJson<{error: {code: string}}>(superuser).error.code).toBe('NOT_SERVER')
      return
    }

    expect(superuser.code).toBe(1)
    expect(parseJson<{error: {code: string; message: string}}>(superuser).error).toMatchObject({code: 'CONFLICT', message: expect.stringContaining('is a superuser')})
    expect(parseJson<{error: {code: string}}>(invalid).error.code).toBe('INVALID_ROLE_NAME')
    expect(await query('owner', "select rolsuper, rolbypassrls from pg_roles where rolname = 'postgres'")).toEqual([{rolbypassrls: true, rolsuper: true}])
  })
})

import {randomBytes} from 'node:crypto'

import pg from 'pg'
import {afterAll, beforeAll, expect, it} from 'vitest'

import {REPORTING_VIEWS} from '../../src/services/reporting/readonly-role.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {seedFleet} from '../helpers/seed-fleet.js'

/**
 * `synthex db create-readonly-role`: a login for BI tools that reads the reporting views and
 * can never read a table (a credential's ciphertext, a channel's secret, an API key's hash).
 * The test server trusts connections from 127.0.0.1, so the role connects without its
 * password; the password is checked where it lands (pg_authid holds only its verifier).
 * Roles are server-wide: each has a name of its own and is dropped after the suite.
 */

const KEY = randomBytes(32).toString('base64')
const CREDENTIAL_CANARY = `shpat_canary_${randomBytes(6).toString('hex')}`
const PASSWORD_CANARY = `pw-canary-${randomBytes(6).toString('hex')}`

describeEachCliBackend('db create-readonly-role', (target) => {
  const run = (args: string[], options: {env?: Record<string, string>; input?: string} = {}) =>
    runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s', ...options.env}, input: options.input})
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await run(args, {input})
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    return result.stdout
  }

  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`
  const roles = new Set<string>()
  const roleName = (what: string): string => {
    const name = `sx_${what}_${suffix}`
    roles.add(name)
    return name
  }

  /** A query as the database's owner (the test server's admin). */
  const asAdmin = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({connectionString: target().env.DATABASE_URL})
    await client.connect()
    try {
      return (await client.query<T>(text, values)).rows
    } finally {
      await client.end()
    }
  }

  /** Connected as `role`, without a password (the test server trusts 127.0.0.1). */
  const asRole = async <T>(role: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const url = new URL(target().env.DATABASE_URL as string)
    url.username = role
    url.password = ''
    const client = new pg.Client({connectionString: url.toString()})
    await client.connect()
    try {
      return await work(client)
    } finally {
      await client.end()
    }
  }

  const refusal = (client: pg.Client, text: string): Promise<string | undefined> =>
    client.query(text).then(
      () => undefined,
      (error: {code?: string}) => error.code,
    )

  afterAll(async () => {
    if (target().backend !== 'server' || roles.size === 0) return
    // Before the suite's database is dropped: DROP OWNED takes back the role's grants there.
    const client = new pg.Client({connectionString: target().env.DATABASE_URL})
    await client.connect()
    try {
      for (const role of roles) {
        const exists = await client.query('select 1 from pg_roles where rolname = $1', [role])
        if (exists.rowCount === 0) continue
        await client.query(`drop owned by "${role}"`)
        await client.query(`drop role "${role}"`)
      }
    } finally {
      await client.end()
    }
  })

  beforeAll(async () => {
    await seedFleet(target(), {
      credentials: [{expiresAt: new Date(Date.now() + 5 * 86_400_000), service: 'shopify', tenantId: 'ro1', value: CREDENTIAL_CANARY}],
      encryptionKey: KEY,
      tenants: [{name: 'Read one', shopify_shop: 'ro1.myshopify.com', tenant_id: 'ro1', type: 'shopify'}],
    })
    await ok(['alerts', 'check-now'])
  })

  it('is refused on the embedded database, or makes a login that reads the views and no table', async () => {
    const role = roleName('metabase')
    const created = await run(['db', 'create-readonly-role', role, '--password-stdin', '--json'], {input: `${PASSWORD_CANARY}\n`})
    expect(created.stdout + created.stderr).not.toContain(PASSWORD_CANARY)
    if (target().backend === 'embedded') {
      expect(created.code).toBe(2)
      expect(parseJson<{error: {code: string; message: string}}>(created).error).toMatchObject({
        code: 'NOT_SERVER',
        message: expect.stringContaining('the embedded database, which has no logins or roles'),
      })
      return
    }

    expect(created.code, created.stderr).toBe(0)
    const database = new URL(target().env.DATABASE_URL as string).pathname.slice(1)
    expect(parseJson(created)).toEqual({
      created: true,
      database,
      password: 'set',
      role,
      schema: 'reporting',
      url: `postgres://${role}@127.0.0.1:5432/${database}`,
      views: REPORTING_VIEWS.map((view) => `reporting.${view}`),
      warnings: [],
    })
    // Only a SCRAM verifier reached the server, never the password.
    const [stored] = await asAdmin<{password: string}>('select rolpassword as password from pg_authid where rolname = $1', [role])
    expect(stored?.password).toMatch(/^SCRAM-SHA-256\$4096:/)
    expect(stored?.password).not.toContain(PASSWORD_CANARY)

    await asRole(role, async (client) => {
      // Its search_path is reporting: the views by their bare names.
      const expiry = await client.query('select tenant_id, service, status, days_left from credential_expiry_report')
      expect(expiry.rows).toEqual([{days_left: 5, service: 'shopify', status: 'expiring', tenant_id: 'ro1'}])
      const verification = await client.query('select tenant_id, outcome from credential_verification_report')
      expect(verification.rows).toEqual([{outcome: 'unverified', tenant_id: 'ro1'}])
      const stats = await client.query("select tenants, credentials_expiring, alerts_firing from tenant_stats where workspace = 'default'")
      expect(stats.rows).toEqual([{alerts_firing: 1, credentials_expiring: 1, tenants: 1}])

      for (const view of REPORTING_VIEWS) {
        const all = await client.query(`select * from reporting.${view}`)
        expect(all.fields.map((field) => field.name).filter((name) => /cipher|secret|hash|fingerprint|key_id/.test(name)), view).toEqual([])
        expect(JSON.stringify(all.rows), view).not.toContain('v1:')
        expect(JSON.stringify(all.rows), view).not.toContain(CREDENTIAL_CANARY)
      }

      for (const table of ['credentials', 'channels', 'api_keys', 'tenants', 'events']) {
        expect(await refusal(client, `select * from public.${table}`), table).toBe('42501')
      }

      // Read-only by default (25006), and no CREATE on public either (42501, Postgres 15+).
      expect(['25006', '42501']).toContain(await refusal(client, 'create table public.leak (x int)'))
    })
    expect(await asAdmin('select 1 from events where type = $1 and aggregate_id = $2', ['readonly_role.created', role])).toHaveLength(1)
  })

  it('run again, keeps the password and takes back a grant made by hand on a table', async () => {
    if (target().backend === 'embedded') {
      const refused = await run(['db', 'create-readonly-role', 'tableau', '--no-password'])
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain('Set DATABASE_URL')
      return
    }

    const role = roleName('tableau')
    const first = await run(['db', 'create-readonly-role', role, '--from-env', 'TABLEAU_PASSWORD', '--json'], {env: {TABLEAU_PASSWORD: PASSWORD_CANARY}})
    expect(first.code, first.stderr).toBe(0)
    const [before] = await asAdmin<{password: string}>('select rolpassword as password from pg_authid where rolname = $1', [role])
    // The credentials policy (migrations/0016_users_roles.sql) reads tenants as the caller.
    await asAdmin(`grant select on credentials, tenants to "${role}"`)
    expect(await asRole(role, (client) => client.query('select ciphertext from public.credentials').then((result) => result.rowCount))).toBe(1)

    const again = await run(['db', 'create-readonly-role', role, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(parseJson(again)).toMatchObject({created: false, password: 'unchanged', role})
    const [after] = await asAdmin<{password: string}>('select rolpassword as password from pg_authid where rolname = $1', [role])
    expect(after?.password).toBe(before?.password)
    expect(await asRole(role, (client) => refusal(client, 'select ciphertext from public.credentials'))).toBe('42501')
    expect(await asRole(role, (client) => refusal(client, 'select id from public.tenants'))).toBe('42501')
    expect(await asRole(role, (client) => client.query('select count(*)::int as n from tenant_stats').then((result) => result.rows[0]?.n))).toBe(1)
  })

  it('refuses a role that is more than a reader, and one PUBLIC lets read a table, changing nothing', async () => {
    if (target().backend === 'embedded') {
      const refused = await run(['db', 'create-readonly-role', 'x', '--json'])
      expect(parseJson<{error: {code: string}}>(refused).error.code).toBe('NOT_SERVER')
      return
    }

    const powerful = roleName('owner')
    await asAdmin(`create role "${powerful}" login createdb`)
    const refused = await run(['db', 'create-readonly-role', powerful, '--json'])
    expect(refused.code).toBe(1)
    expect(parseJson<{error: {code: string; message: string}}>(refused).error).toMatchObject({code: 'CONFLICT', message: expect.stringContaining('may create databases')})
    expect(await asAdmin('select rolcreatedb from pg_roles where rolname = $1', [powerful])).toEqual([{rolcreatedb: true}])

    const leaky = roleName('leaky')
    await asAdmin('grant select on channels to public')
    try {
      const blocked = await run(['db', 'create-readonly-role', leaky, '--no-password', '--json'])
      expect(blocked.code).toBe(1)
      expect(parseJson<{error: {code: string; message: string}}>(blocked).error).toMatchObject({code: 'CONFLICT', message: expect.stringContaining('(channels)')})
      expect(await asAdmin('select 1 from pg_roles where rolname = $1', [leaky])).toEqual([])
    } finally {
      await asAdmin('revoke select on channels from public')
    }
  })

  it('refuses a name that is not a plain identifier, without repeating it, and a new role without a password source', async () => {
    for (const name of ['Robert"); drop table tenants; --', 'pg_reader', 'public', 'x'.repeat(64)]) {
      const refused = await run(['db', 'create-readonly-role', name, '--no-password', '--json'])
      expect(refused.code, name).toBe(2)
      const error = parseJson<{error: {code: string; message: string}}>(refused).error
      expect(error.code, name).toBe(target().backend === 'embedded' ? 'NOT_SERVER' : 'INVALID_ROLE_NAME')
      expect(error.message).not.toContain('Robert')
    }

    if (target().backend === 'server') {
      const role = roleName('nopass')
      const refused = await run(['db', 'create-readonly-role', role, '--json'])
      expect(refused.code).toBe(2)
      expect(parseJson<{error: {code: string}}>(refused).error.code).toBe('SECRET_INPUT')
      expect(await asAdmin('select 1 from pg_roles where rolname = $1', [role])).toEqual([])
    }
  })
})

import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readMigrationFiles} from '../../src/db/migrations.js'
import {createServerDatabase, describeOnServer} from '../helpers/backends.js'
import {makeHome, parseJson, runCli} from '../helpers/cli.js'

const migrations = readMigrationFiles().map((file) => file.name)

// Which database a command uses, and how each gets its tables: the embedded one by itself on
// first use, a server only through `db migrate`.
describe('the embedded database, with no database URL given [embedded]', () => {
  it('is created and migrated on first use, then reused', async () => {
    const home = await makeHome({fresh: true})
    const first = await runCli(['tenant', 'tenants', 'list'], {env: {SYNTHEX_HOME: home}})
    expect(first.code).toBe(0)
    expect(first.stderr).toContain(`Creating the embedded database in ${join(home, 'pgdata')} (first run only)`)
    expect(existsSync(join(home, 'pgdata', 'PG_VERSION'))).toBe(true)
    expect(existsSync(join(home, 'pgdata.lock'))).toBe(false)

    const second = await runCli(['db', 'status', '--json'], {env: {SYNTHEX_HOME: home}})
    expect(second.stderr).not.toContain('Creating')
    expect(parseJson<{backend: string; pending: number}>(second)).toMatchObject({backend: 'embedded', pending: 0})
  })

})

describeOnServer('a server database [server]', () => {
  let url = ''
  let drop: () => Promise<void> = async () => {}

  beforeAll(async () => {
    const server = await createServerDatabase()
    url = server.url
    drop = server.drop
  })

  afterAll(async () => {
    await drop()
  })

  it('is only migrated by `db migrate`; until then other commands stop and say so', async () => {
    const before = await runCli(['tenant', 'tenants', 'list'], {env: {DATABASE_URL: url}})
    expect(before.code).toBe(1)
    expect(before.stderr).toContain('pending migration')
    expect(before.stderr).toContain('Run `synthex db migrate`')

    const status = await runCli(['db', 'status', '--json'], {env: {DATABASE_URL: url}})
    expect(parseJson<{backend: string; pending: number}>(status)).toMatchObject({backend: 'server', pending: migrations.length})

    const migrated = await runCli(['db', 'migrate', '--json'], {env: {DATABASE_URL: url}})
    expect(migrated.code).toBe(0)
    expect(parseJson<{applied: string[]}>(migrated).applied).toEqual(migrations)

    const again = await runCli(['db', 'migrate', '--json'], {env: {DATABASE_URL: url}})
    expect(parseJson<{applied: string[]}>(again).applied).toEqual([])

    const after = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {DATABASE_URL: url}})
    expect(after.code).toBe(0)
    expect(parseJson<{tenants: unknown[]}>(after).tenants).toEqual([])
  })

  it('takes the URL from SYNTHEX_DATABASE_URL and --database-url as well', async () => {
    expect((await runCli(['db', 'status'], {env: {SYNTHEX_DATABASE_URL: url}})).code).toBe(0)
    expect((await runCli(['db', 'status', '--database-url', url])).code).toBe(0)
  })

  it('honours sslmode: prefer falls back to plain on a server without TLS, require refuses', async () => {
    const prefer = await runCli(['db', 'status'], {env: {DATABASE_URL: `${url}?sslmode=prefer`}})
    expect(prefer.code).toBe(0)
    const require = await runCli(['db', 'status'], {env: {DATABASE_URL: `${url}?sslmode=require`}})
    if (require.code === 0) return // this server speaks TLS: require is satisfied
    expect(require.code).toBe(1)
    expect(require.stderr).toContain('does not accept TLS connections')
  })

  it('warns that a password on the command line is visible to other users', async () => {
    const withPassword = new URL(url)
    withPassword.password = 'not-needed'
    const result = await runCli(['db', 'status', '--database-url', withPassword.toString()])
    expect(result.stderr).toContain('--database-url holds a password')
    expect(result.stdout + result.stderr).not.toContain('not-needed')
  })
})

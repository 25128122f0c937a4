import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {sql} from 'kysely'
import pg from 'pg'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it} from 'vitest'

import {tcpProxy, type TcpProxy, upstreamOf} from '../fakes/tcp-proxy.js'
import {createServerDatabase, describeOnServer} from '../helpers/backends.js'
import {acquireEmbeddedLock, readLockHolder} from '../../src/db/embedded-lock.js'
import {type CliResult, makeHome, parseJson, runCli, startCli, startOnTerminal} from '../helpers/cli.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {waitFor} from '../helpers/wait.js'

interface ErrorBody {
  error: {code: string; details?: Record<string, unknown>; exitCode: number; hint?: string; message: string}
}

const KEY = randomBytes(32).toString('base64')
const ROWS = 5000
const CHUNK = 250
const COPY = 'copy "tenants"'

function tenantsCsv(prefix: string): string {
  const path = join(inject('scratch'), `${process.pid}-${prefix}-${randomBytes(4).toString('hex')}.csv`)
  let text = 'tenant_id,name,type,shopify_shop\n'
  for (let index = 0; index < ROWS; index++) text += `${prefix}-${String(index).padStart(5, '0')},Tenant ${index},shopify,${prefix}-${index}.myshopify.com\n`
  writeFileSync(path, text)
  return path
}

/** A command that failed the way this suite wants: exit 1, and a message, with no stack and no crash. */
function expectCleanFailure(result: CliResult): void {
  expect(result.signal, 'the command was killed: it hung').toBeNull()
  expect(result.code, result.stderr).toBe(1)
  expect(result.stderr).not.toMatch(/^\s+at /m)
  expect(result.stderr).not.toContain('Unhandled')
}

const create = (id: string) => ['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', 'shopify', '--shopify-shop', `${id}.myshopify.com`]

/**
 * The embedded database held by a process that does not let go, or that died holding it:
 * the next command waits within its limit and then names the holder, or sees that the
 * holder is gone and goes on with the data intact.
 */
describe('an embedded database held by another process [embedded]', () => {
  it('makes a second process wait for the first, then fail cleanly naming it', async () => {
    const home = await makeHome()
    const lock = await acquireEmbeddedLock(join(home, 'pgdata'), {command: 'batch tenants create', timeoutMs: 1000})
    try {
      const started = Date.now()
      const result = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '1500ms'}})
      const elapsed = Date.now() - started
      expect(result.code).toBe(1)
      expect(elapsed).toBeGreaterThanOrEqual(1500)
      const body = parseJson<{error: {code: string; message: string}}>(result)
      expect(body.error.code).toBe('DATABASE_LOCKED')
      expect(body.error.message).toContain(`in use by process ${process.pid}`)
      expect(body.error.message).toContain('synthex batch tenants create')
      expect(result.stderr).toContain('Waiting for the embedded database')
    } finally {
      lock.release()
    }
  })

  it('recovers from a holder killed with SIGKILL: its lock is recognised as stale and the data is intact', async () => {
    const home = await makeHome()
    expect((await runCli(create('survivor'), {env: {SYNTHEX_HOME: home}})).code).toBe(0)
    const holding = startOnTerminal(['tenant', 'tenants', 'delete', 'survivor'], {SYNTHEX_HOME: home})
    await waitFor(() => (holding.output().includes('Type the tenant id to confirm') ? true : undefined), 30_000, 'the prompt')
    const holder = readLockHolder(join(home, 'pgdata'))
    expect(holder).toBeDefined()
    process.kill(holder?.pid as number, 'SIGKILL')
    await holding.done
    expect(existsSync(join(home, 'pgdata.lock'))).toBe(true)

    const started = Date.now()
    const after = await runCli(['tenant', 'tenants', 'get', 'survivor', '--json'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '30s'}})
    expect(after.code).toBe(0)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(parseJson<{tenantId: string}>(after).tenantId).toBe('survivor')
  })

})

/**
 * A Postgres server behind a proxy that fails as networks and servers do, midway through a
 * command: every command ends with a clear error within its limits, never hangs, and an
 * import says what it kept so that a re-run finishes it exactly.
 */
describeOnServer('a server database that stops answering or drops the connection [server]', () => {
  let url = ''
  let drop: () => Promise<void> = async () => {}
  let proxy: TcpProxy

  beforeAll(async () => {
    const server = await createServerDatabase({migrated: true})
    url = server.url
    drop = server.drop
  })

  afterAll(async () => {
    await drop()
  })

  beforeEach(async () => {
    proxy = await tcpProxy(upstreamOf(url))
  })

  afterEach(async () => {
    await proxy.close()
  })

  // Small limits, so that giving up takes seconds; a hang is killed by runCli after 30 s.
  const throughProxy = (): Record<string, string> => ({
    DATABASE_URL: proxy.through(url),
    SYNTHEX_DB_BULK_STATEMENT_TIMEOUT: '2s',
    SYNTHEX_DB_CONNECT_TIMEOUT: '2s',
    SYNTHEX_DB_STATEMENT_TIMEOUT: '2s',
    SYNTHEX_ENCRYPTION_KEY: KEY,
  })
  const synthex = (args: string[], env: Record<string, string>) => runCli(args, {env, timeoutMs: 30_000})
  const direct = (): Record<string, string> => ({DATABASE_URL: url, SYNTHEX_ENCRYPTION_KEY: KEY})
  /** synthex's sessions on this suite's database in a state (pg_stat_activity). */
  const sessions = async (state: string): Promise<number> => {
    const admin = new pg.Client({connectionString: url})
    await admin.connect()
    try {
      const {rows} = await admin.query<{n: number}>(`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'synthex' and state = $1`, [state])
      return Number(rows[0]?.n)
    } finally {
      await admin.end()
    }
  }

  const count = (prefix: string): Promise<number> =>
    withDatabase({backend: 'server', env: {DATABASE_URL: url}}, async (db) => {
      const {rows} = await sql<{n: number}>`select count(*)::int as n from tenants where tenant_id like ${`${prefix}-%`}`.execute(db)
      return Number(rows[0]?.n)
    })

  it('ends `tenant tenants list` whose query gets no reply with DATABASE_UNAVAILABLE; its connections have TCP keepalive on', async () => {
    const stuck = proxy.when('"tenants"')
    proxy.breakOn('"tenants"', 'blackhole')
    const listing = startCli(['tenant', 'tenants', 'list', '--json'], {env: throughProxy(), timeoutMs: 30_000})
    await stuck
    // The command's sockets to the proxy, as the kernel sees them: a keepalive timer on each
    // (once what was just sent is acknowledged: until then the retransmission timer shows).
    const sockets = (): string[] => execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${proxy.port} )`], {encoding: 'utf8'}).trim().split('\n').filter(Boolean)
    await waitFor(() => (sockets().length > 0 && sockets().every((socket) => socket.includes('timer:(keepalive,')) ? true : undefined), 2000, `keepalive on ${sockets().join('; ')}`)
    const result = await listing.done
    expectCleanFailure(result)
    const {error} = parseJson<ErrorBody>(result)
    expect(error.code).toBe('DATABASE_UNAVAILABLE')
    expect(error.message).toMatch(/^The database stopped answering: no reply from postgres:\/\/postgres@127\.0\.0\.1:\d+\/synthex_test_\w+ within 3s\.$/)
    expect(error.hint).toContain('SYNTHEX_DB_STATEMENT_TIMEOUT')
  })

  it('ends `alerts check-now --max-wait 20s` stuck in its reconcile with DATABASE_UNAVAILABLE, and the server ends the session it left in a transaction', async () => {
    proxy.breakOn('pg_advisory_xact_lock', 'blackhole')
    const result = await synthex(['alerts', 'check-now', '--max-wait', '20s'], throughProxy())
    expectCleanFailure(result)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('The database stopped answering: no reply from postgres://')
    // Its session still looks alive to the server (the proxy holds it open), inside the
    // transaction it began: idle_in_transaction_session_timeout ends it, releasing its locks.
    await waitFor(async () => ((await sessions('idle in transaction')) === 0 ? true : undefined), 20_000, 'the idle transaction to be ended')
  })

  it('has the server cancel a statement that runs past SYNTHEX_DB_STATEMENT_TIMEOUT (here, one waiting for a lock)', async () => {
    const locker = new pg.Client({connectionString: url})
    await locker.connect()
    try {
      await locker.query('begin; lock table tenants in access exclusive mode')
      const result = await synthex(['tenant', 'tenants', 'list', '--json'], {...direct(), SYNTHEX_DB_STATEMENT_TIMEOUT: '1s'})
      expectCleanFailure(result)
      const {error} = parseJson<ErrorBody>(result)
      expect(error.code).toBe('DATABASE_UNAVAILABLE')
      expect(error.message).toMatch(/^The database at postgres:\/\/\S+ did not finish a statement within 1s; the server cancelled it and nothing of it was kept\.$/)
      expect(error.hint).toContain('raise SYNTHEX_DB_STATEMENT_TIMEOUT (now 1s)')
    } finally {
      await locker.query('rollback')
      await locker.end()
    }
  })

  it('gives up on a connection that is accepted and never answered after SYNTHEX_DB_CONNECT_TIMEOUT', async () => {
    proxy.break('blackhole')
    const result = await synthex(['tenant', 'tenants', 'list', '--json'], throughProxy())
    expectCleanFailure(result)
    expect(parseJson<ErrorBody>(result).error).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      hint: 'Check that the server is running and that DATABASE_URL is right; synthex waited 2s (SYNTHEX_DB_CONNECT_TIMEOUT).',
      message: expect.stringMatching(/^Cannot connect to the database at .*: connection timed out\.$/),
    })
  })

  it('ends an import whose server stops answering mid-import with what it kept, and a re-run with skip finishes it exactly', async () => {
    const path = tenantsCsv('silent')
    proxy.breakOn(COPY, 'blackhole', 3)
    const result = await synthex(['batch', 'tenants', 'create', '--from-csv', path, '--chunk-size', String(CHUNK), '--json'], throughProxy())
    expectCleanFailure(result)
    const {error} = parseJson<ErrorBody>(result)
    expect(error.code).toBe('DATABASE_UNAVAILABLE')
    expect(error.message).toContain('The database stopped answering')
    expect(error.message).toContain('The import stopped: 500 rows of the file had been written and committed, in whole chunks, and are kept (500 created, 0 updated); the chunk being written was rolled back.')
    expect(error.details).toEqual({created: 500, inDoubt: 0, kept: 500, updated: 0})
    expect(error.hint).toContain('run the same command again with --on-conflict skip')
    expect(await count('silent')).toBe(500)

    const rerun = await synthex(['batch', 'tenants', 'create', '--from-csv', path, '--chunk-size', String(CHUNK), '--on-conflict', 'skip', '--json'], direct())
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(parseJson(rerun)).toMatchObject({created: ROWS - 500, rejected: 0, skipped: 500})
    expect(await count('silent')).toBe(ROWS)
  })

  it('ends an import whose connections are cut mid-import with one JSON error saying what it kept; a re-run with skip finishes it exactly', async () => {
    const path = tenantsCsv('cut')
    proxy.breakOn(COPY, 'cut', 3)
    const result = await synthex(['batch', 'tenants', 'create', '--from-csv', path, '--chunk-size', String(CHUNK), '--json'], throughProxy())
    expectCleanFailure(result)
    const {error} = parseJson<ErrorBody>(result)
    expect(error).toMatchObject({code: 'DATABASE_UNAVAILABLE', exitCode: 1})
    expect(error.message).toMatch(/^Lost the connection to the database at postgres:\/\/\S+: the connection was reset\. The import stopped: 500 rows /)
    expect(error.details).toEqual({created: 500, inDoubt: 0, kept: 500, updated: 0})
    expect(await count('cut')).toBe(500)

    const rerun = await synthex(['batch', 'tenants', 'create', '--from-csv', path, '--chunk-size', String(CHUNK), '--on-conflict', 'skip', '--json'], direct())
    expect(parseJson(rerun)).toMatchObject({created: ROWS - 500, rejected: 0, skipped: 500})
    expect(await count('cut')).toBe(ROWS)
  })

  it('survives its backend being terminated mid-import (pg_terminate_backend): a clear error, no crash, and a re-run with skip finishes it', async () => {
    const path = tenantsCsv('term')
    const importing = startCli(['batch', 'tenants', 'create', '--from-csv', path, '--chunk-size', String(CHUNK)], {env: throughProxy(), timeoutMs: 30_000})
    await proxy.when(COPY, 3)
    const admin = new pg.Client({connectionString: url})
    await admin.connect()
    try {
      const {rowCount} = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'synthex' and pid <> pg_backend_pid()`)
      expect(rowCount).toBeGreaterThan(0)
    } finally {
      await admin.end()
    }

    const result = await importing.done
    expectCleanFailure(result)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Lost the connection to the database at postgres://')
    expect(result.stderr).toContain('the server ended the session (terminated by an administrator, or shutting down)')
    const kept = /The import stopped: ([\d,]+) rows? of the file had been written and committed/.exec(result.stderr)?.[1]
    expect(kept, result.stderr).toBeDefined()
    const counted = await count('term')
    // The chunk being committed when the backend went may or may not have made it.
    const inDoubt = Number(/the ([\d,]+) rows? of the chunk being committed/.exec(result.stderr)?.[1]?.replaceAll(',', '') ?? 0)
    expect(counted - Number(kept?.replaceAll(',', ''))).toBeGreaterThanOrEqual(0)
    expect(counted - Number(kept?.replaceAll(',', ''))).toBeLessThanOrEqual(inDoubt)
    expect(counted % CHUNK).toBe(0)

    const rerun = await synthex(['batch', 'tenants', 'create', '--from-csv', path, '--chunk-size', String(CHUNK), '--on-conflict', 'skip', '--json'], direct())
    expect(parseJson(rerun)).toMatchObject({created: ROWS - counted, rejected: 0, skipped: counted})
    expect(await count('term')).toBe(ROWS)
  })
})

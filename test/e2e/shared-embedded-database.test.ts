import {randomBytes} from 'node:crypto'
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {cliEnv, makeHome, parseJson, runCli, startCli} from '../helpers/cli.js'
import type {CliTarget} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {waitFor} from '../helpers/wait.js'

const KEY = randomBytes(32).toString('base64')
const LOCAL = ['--allow-http', '--allow-private-network']

/**
 * The embedded database served by `synthex db start` to every synthex process on the same
 * SYNTHEX_HOME (src/db/embedded-server.ts). Each test's commands get a one-second lock
 * timeout: should they not share the server, but queue for the database one by one, the
 * slower ones would give up and the test would fail.
 */
describe('the embedded database shared by concurrent commands (db start)', () => {
  const homes: string[] = []
  const slack = new SlackFake()
  const pagerduty = new PagerDutyFake()
  const env = (home: string, extra: Record<string, string> = {}) => ({SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '1s', ...extra})
  const run = (home: string, args: string[], options: {env?: Record<string, string>; input?: string} = {}) => runCli(args, {env: env(home, options.env), input: options.input})
  const serve = async (): Promise<string> => {
    const home = await makeHome()
    homes.push(home)
    const started = await run(home, ['db', 'start', '--idle-timeout', '10m', '--json'])
    expect(started.code, started.stderr).toBe(0)
    expect(parseJson<{started: boolean}>(started).started).toBe(true)
    return home
  }

  beforeAll(async () => {
    await Promise.all([slack.listen(), pagerduty.listen()])
  })

  afterEach(async () => {
    // Whatever a test left running is stopped, so no server outlives its test.
    await Promise.all(homes.splice(0).map((home) => run(home, ['db', 'stop'])))
    slack.reset()
    pagerduty.reset()
  })

  afterAll(async () => {
    await Promise.all([slack.close(), pagerduty.close()])
  })

  it('runs an import, a check-now and a list at the same time, each with the right result, and says it is shared', async () => {
    const home = await serve()
    const status = parseJson<{location: string; server: {pid: number} | null}>(await run(home, ['db', 'status', '--json']))
    expect(status.server?.pid).toBeGreaterThan(0)
    expect(status.location).toContain('(shared through')

    const csv = join(home, 'tenants.csv')
    writeFileSync(csv, `tenant_id,name,type,shopify_shop\n${Array.from({length: 5000}, (_, index) => `shop-${index},Shop ${index},shopify,shop-${index}.myshopify.com`).join('\n')}\n`)
    const [imported, checked, listed] = await Promise.all([
      run(home, ['batch', 'tenants', 'create', '--from-csv', csv, '--json']),
      run(home, ['alerts', 'check-now', '--json']),
      run(home, ['tenant', 'tenants', 'list', '--json', '--limit', '10']),
    ])
    expect([imported.code, checked.code, listed.code], imported.stderr + checked.stderr + listed.stderr).toEqual([0, 0, 0])
    expect(parseJson<{created: number}>(imported).created).toBe(5000)
    expect(parseJson<{failed: number}>(checked).failed).toBe(0)
    // The list ran between the import's chunks (each a transaction of many rows), never inside one: none, or a full page.
    expect([0, 10]).toContain(parseJson<{tenants: unknown[]}>(listed).tenants.length)
    const all = await run(home, ['tenant', 'tenants', 'list', '--csv', '--all'])
    expect(all.stdout.trim().split('\n')).toHaveLength(5001)

    expect((await run(home, ['db', 'stop'])).code).toBe(0)
    const after = parseJson<{location: string; server: unknown}>(await run(home, ['db', 'status', '--json']))
    expect(after.server).toBeNull()
    expect(after.location).not.toContain('shared')
  })

  it('delivers each of 1,000 notifications exactly once when four check-now runs share the server', async () => {
    const home = await makeHome()
    const target: CliTarget = {backend: 'embedded', env: {SYNTHEX_HOME: home}}
    await withDatabase(target, async (db) => {
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      const old = new Date(Date.now() - 90 * 86_400_000)
      const rows = Array.from({length: 1000}, (_, index) => ({created_at: old, last_activity_at: old, metadata: '{}', name: `Idle ${index}`, shopify_shop: `idle-${index}.myshopify.com`, tenant_id: `idle-${index}`, type: 'shopify' as const, workspace_id: workspace.id}))
      for (let offset = 0; offset < rows.length; offset += 500) await db.insertInto('tenants').values(rows.slice(offset, offset + 500)).execute()
    })
    homes.push(home)
    expect((await run(home, ['db', 'start'])).code).toBe(0)
    const fast = ['--rate-per-minute', '600000', '--concurrency', '4']
    expect((await run(home, ['alerts', 'channels', 'add', 'all-slack', '--type', 'slack', '--value-stdin', ...fast, ...LOCAL], {input: slack.webhookUrl})).code).toBe(0)
    expect((await run(home, ['alerts', 'channels', 'add', 'all-pd', '--type', 'pagerduty', '--from-env', 'PD_KEY', '--events-url', pagerduty.eventsUrl, ...fast, ...LOCAL], {env: {PD_KEY: PagerDutyFake.ROUTING_KEY}})).code).toBe(0)

    const runs = await Promise.all(Array.from({length: 4}, () => run(home, ['alerts', 'check-now', '--json', '--digest-over', '1000'])))
    expect(runs.map((result) => result.code), runs.map((result) => result.stderr).join('\n')).toEqual([0, 0, 0, 0])
    const results = runs.map((result) => parseJson<{failed: number; new: number; pendingRetry: number; sent: number}>(result))
    expect(results.reduce((sum, result) => sum + result.new, 0)).toBe(1000)
    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(2000)
    const dedupKeys = pagerduty.events.map((event) => event.dedup_key)
    expect(dedupKeys).toHaveLength(1000)
    expect(new Set(dedupKeys).size).toBe(1000)
    const tenants = slack.messages.flatMap((message) => message.blocks.filter((block) => block.type === 'section').map((block) => /\(`(idle-\d+)`/.exec(block.text?.text ?? '')?.[1]))
    expect(tenants).toHaveLength(1000)
    expect(new Set(tenants).size).toBe(1000)
  })

  it('rolls back a client SIGKILLed inside a transaction; the next command succeeds within 5 s', async () => {
    const home = await serve()
    // A client of the server that inserts a tenant inside a transaction and then waits, as
    // a command killed mid-chunk would.
    const script = `
      const pg = (await import('pg')).default
      const client = new pg.Client({database: 'postgres', host: process.env.SOCKET_DIR, user: 'postgres'})
      await client.connect()
      await client.query('begin')
      await client.query("insert into tenants (workspace_id, tenant_id, name, type, shopify_shop) select id, 'half-done', 'Half done', 'shopify', 'half-done.myshopify.com' from workspaces where slug = 'default'")
      console.log('inside')
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {cwd: process.cwd(), env: cliEnv({SOCKET_DIR: join(home, 'run')}), stdio: ['ignore', 'pipe', 'pipe']})
    let said = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (said += chunk))
    await waitFor(() => (said.includes('inside') ? true : undefined), 20_000, 'the client inside its transaction')
    child.kill('SIGKILL')
    const started = Date.now()
    const listed = await run(home, ['tenant', 'tenants', 'list', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(listed.stdout).not.toContain('half-done')
    expect((await run(home, ['tenant', 'tenants', 'get', 'half-done'])).code).toBe(1)
  })

  it('db stop while an import runs: the import finishes or fails cleanly, never half-kept, and the next command opens the database itself', async () => {
    const home = await serve()
    const csv = join(home, 'big.csv')
    writeFileSync(csv, `tenant_id,name,type,shopify_shop\n${Array.from({length: 60_000}, (_, index) => `big-${index},Big ${index},shopify,big-${index}.myshopify.com`).join('\n')}\n`)
    const importing = startCli(['batch', 'tenants', 'create', '--from-csv', csv, '--json'], {env: env(home)})
    await waitFor(() => (importing.output().stderr.length > 0 || importing.output().stdout.length > 0 ? true : undefined), 20_000, 'the import to start')
    const stopped = await run(home, ['db', 'stop', '--json'])
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(parseJson<{stopped: boolean}>(stopped).stopped).toBe(true)
    const result = await importing.done
    expect([0, 1]).toContain(result.code)
    if (result.code === 1) expect(parseJson<{error: {code: string}}>(result).error.code).toMatch(/DATABASE_UNAVAILABLE|INTERRUPTED/)
    const count = await run(home, ['tenant', 'tenants', 'list', '--csv', '--all'])
    expect(count.code, count.stderr).toBe(0)
    expect(count.stdout.trim().split('\n').length - 1).toBe(result.code === 0 ? 60_000 : 0)
    expect(parseJson<{server: unknown}>(await run(home, ['db', 'status', '--json'])).server).toBeNull()
  })

  it('starts once: a second db start says it already runs, and db stop with none running says so', async () => {
    const home = await serve()
    const again = await run(home, ['db', 'start', '--json'])
    expect(again.code).toBe(0)
    expect(parseJson<{started: boolean}>(again).started).toBe(false)
    expect((await run(home, ['db', 'stop'])).code).toBe(0)
    const none = await run(home, ['db', 'stop'])
    expect(none.code).toBe(0)
    expect(none.stderr + none.stdout).toContain('No shared embedded database server is running')
    const server = await run(home, ['db', 'start'], {env: {DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none'}})
    expect(server.code).toBe(2)
    expect(server.stderr).toContain('serves the embedded database')
  })

  it('--foreground serves until SIGTERM and exits 0, or stops by itself after --idle-timeout without a command', async () => {
    const home = await makeHome()
    const server = startCli(['db', 'start', '--foreground', '--idle-timeout', '0s'], {env: env(home)})
    await waitFor(() => (server.output().stderr.includes('Serving the embedded database') ? true : undefined), 30_000, 'the server to be ready')
    expect((await run(home, ['tenant', 'tenants', 'list', '--json'])).code).toBe(0)
    server.child.kill('SIGTERM')
    const stopped = await server.done
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(stopped.stderr).toContain('Stopped.')

    const idle = await runCli(['db', 'start', '--foreground', '--idle-timeout', '1s'], {env: env(home)})
    expect(idle.code, idle.stderr).toBe(0)
    expect(idle.stderr).toContain('Stopped after 1s without a command.')
    expect(parseJson<{server: unknown}>(await run(home, ['db', 'status', '--json'])).server).toBeNull()
  })

  it('keeps no session state between commands: two --on-conflict update imports at once each find their own duplicates, and leave nothing behind', async () => {
    const home = await serve()
    // 6,000 rows each (two chunks), the last a repeat of the first: a duplicate found across chunks.
    const files = ['a', 'b'].map((prefix) => {
      const path = join(home, `${prefix}.csv`)
      const lines = Array.from({length: 6000}, (_, index) => `${prefix}-${index},Shop ${index},shopify,${prefix}-${index}.myshopify.com`)
      writeFileSync(path, `tenant_id,name,type,shopify_shop\n${[...lines, lines[0]].join('\n')}\n`)
      return path
    })
    const results = await Promise.all(files.map((file) => run(home, ['batch', 'tenants', 'create', '--from-csv', file, '--on-conflict', 'update', '--json'])))
    for (const result of results) {
      expect(result.code, result.stderr + result.stdout.slice(0, 600)).toBe(3)
      const outcome = parseJson<{created: number; rejected: number; rejections: Array<{line: number; message: string}>}>(result)
      expect([outcome.created, outcome.rejected]).toEqual([6000, 1])
      expect(outcome.rejections[0]?.line).toBe(6002)
    }

    const pg = (await import('pg')).default
    const client = new pg.Client({database: 'postgres', host: join(home, 'run'), user: 'postgres'})
    await client.connect()
    try {
      const {rows} = await client.query(`select
        (select count(*)::int from pg_class where relpersistence = 't') as temporary_tables,
        (select count(*)::int from pg_prepared_statements) as prepared,
        (select count(*)::int from pg_locks where locktype = 'advisory') as advisory_locks,
        current_setting('statement_timeout') as statement_timeout`)
      expect(rows[0]).toEqual({advisory_locks: 0, prepared: 0, statement_timeout: '0', temporary_tables: 0})
    } finally {
      await client.end()
    }
  })
})

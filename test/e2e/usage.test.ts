import {randomUUID} from 'node:crypto'
import {createSocket, type Socket} from 'node:dgram'

import {sql} from 'kysely'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {silentServer} from '../fakes/silent-server.js'
import {createServerDatabase, describeOnServer} from '../helpers/backends.js'
import {makeHome, parseJson, runCli, startCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {columnsContaining, withDatabase} from '../helpers/inspect-database.js'
import {waitFor} from '../helpers/wait.js'

interface CommandUsage {
  averageMs: number
  command: string
  errorRate: number
  errors: number
  lastRunAt: string
  p95Ms: number
  runs: number
}

interface UsageReport {
  commands: CommandUsage[]
  since: string
  totals: Omit<CommandUsage, 'command' | 'lastRunAt'>
}

/** A UDP socket on 127.0.0.1, as a Datadog agent listens for DogStatsD. */
async function udpListener(): Promise<{close(): Promise<void>; datagrams: string[]; port: number}> {
  const socket: Socket = createSocket('udp4')
  const datagrams: string[] = []
  socket.on('message', (message) => datagrams.push(message.toString('utf8')))
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    datagrams,
    port: socket.address().port,
  }
}

describeEachCliBackend('usage analytics', (target) => {
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, {env: {...target().env, SYNTHEX_LOCK_TIMEOUT: '60s', ...env}})
  const create = (id: string) => ['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', 'shopify', '--shopify-shop', `${id}.myshopify.com`]
  let agent: Awaited<ReturnType<typeof udpListener>>

  beforeAll(async () => {
    agent = await udpListener()
  })

  afterAll(async () => {
    await agent.close()
  })

  it('reports runs, errors, error rate and durations per command, recording flag names but never their values', async () => {
    const canary = `canary-${randomUUID()}`
    const argumentCanary = `nope-${randomUUID()}`
    expect((await run(create('u1'))).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'get', 'u1'])).code).toBe(0)
    const missing = await run(['tenant', 'tenants', 'get', argumentCanary])
    expect(missing.code).toBe(1)
    expect((await run(['tenant', 'tenants', 'list', `--search=${canary}`])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'list', '--search', canary, '--limit', '5'])).code).toBe(0)
    // A usage error never reaches the database: it is not in the report.
    expect((await run(['tenant', 'tenants', 'list', '--status', canary])).code).toBe(2)

    const result = await run(['usage', 'report', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = parseJson<UsageReport>(result)
    const usage = (command: string) => report.commands.find((row) => row.command === command)
    expect(usage('tenant tenants create')).toMatchObject({errorRate: 0, errors: 0, runs: 1})
    expect(usage('tenant tenants get')).toMatchObject({errorRate: 0.5, errors: 1, runs: 2})
    expect(usage('tenant tenants list')).toMatchObject({errorRate: 0, errors: 0, runs: 2})
    for (const row of report.commands) {
      expect(row.p95Ms, row.command).toBeGreaterThan(0)
      expect(row.averageMs, row.command).toBeGreaterThan(0)
      expect(row.p95Ms, row.command).toBeGreaterThanOrEqual(row.averageMs * 0.5)
      expect(Date.parse(row.lastRunAt), row.command).toBeGreaterThan(Date.parse(report.since))
    }

    expect(report.totals.runs).toBe(report.commands.reduce((sum, row) => sum + row.runs, 0))
    expect(report.totals.errors).toBe(1)
    expect(report.commands.map((row) => row.command)).not.toContain('usage report')

    const csv = await run(['usage', 'report', '--csv'])
    expect(csv.stdout.split('\n')[0]).toBe('command,runs,errors,error_rate,average_ms,p95_ms,last_run_at')
    expect(csv.stdout).toMatch(/^tenant tenants get,2,1,/m)
    const table = await run(['usage', 'report'])
    expect(table.stdout).toMatch(/^tenant tenants get\s+2\s+1\s+50\.0%\s+\d+\s+\d+\s+\S+$/m)

    const rows = await withDatabase(target(), (db) => db.selectFrom('command_runs').selectAll().where('command', 'like', 'tenant tenants %').orderBy('id').execute())
    expect(rows.map((row) => [row.command, row.flags, row.exit_code, row.error_class])).toEqual([
      ['tenant tenants create', ['--name', '--shopify-shop', '--tenant-id', '--type'], 0, null],
      ['tenant tenants get', [], 0, null],
      ['tenant tenants get', [], 1, 'not_found'],
      ['tenant tenants list', ['--search'], 0, null],
      ['tenant tenants list', ['--limit', '--search'], 0, null],
    ])
    expect(rows.every((row) => row.actor.length > 0 && row.duration_ms > 0)).toBe(true)
    for (const secret of [canary, argumentCanary]) {
      expect(JSON.stringify(rows)).not.toContain(secret)
      expect(await withDatabase(target(), (db) => columnsContaining(db, secret))).toEqual([])
    }
  })

  it('sends each command\'s duration and run to a DogStatsD agent, tagged with its outcome', async () => {
    const env = {DATADOG_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(agent.port)}
    agent.datagrams.length = 0
    expect((await run(['tenant', 'tenants', 'list'], env)).code).toBe(0)
    await waitFor(() => (agent.datagrams.length >= 2 ? true : undefined), 5000, 'two datagrams')
    expect(agent.datagrams).toHaveLength(2)
    expect(agent.datagrams[0]).toMatch(/^synthex\.command\.duration:\d+(\.\d+)?\|ms\|#command:tenant_tenants_list,outcome:success,exit_code:0$/)
    expect(agent.datagrams[1]).toBe('synthex.command.runs:1|c|#command:tenant_tenants_list,outcome:success,exit_code:0')

    agent.datagrams.length = 0
    expect((await run(['tenant', 'tenants', 'get', 'nope'], env)).code).toBe(1)
    await waitFor(() => (agent.datagrams.length >= 2 ? true : undefined), 5000, 'two datagrams')
    expect(agent.datagrams).toEqual([
      expect.stringMatching(/^synthex\.command\.duration:[\d.]+\|ms\|#command:tenant_tenants_get,outcome:error,exit_code:1$/),
      'synthex.command.runs:1|c|#command:tenant_tenants_get,outcome:error,exit_code:1',
    ])
  })

  it('neither fails nor slows a command when no agent listens', async () => {
    const closed = await udpListener()
    const port = closed.port
    await closed.close()
    const timed = async (env: Record<string, string>) => {
      const started = Date.now()
      const result = await run(['tenant', 'tenants', 'list', '--json'], env)
      return {elapsed: Date.now() - started, result}
    }

    // Interleaved, and the quicker of two each: one slow start on a busy machine is not the agent's doing.
    const nobodyEnv = {DATADOG_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(port)}
    const runs = [await timed({}), await timed(nobodyEnv), await timed({}), await timed(nobodyEnv)]
    const [without, nobody] = [runs.filter((_, index) => index % 2 === 0), runs.filter((_, index) => index % 2 === 1)]
    for (const {result} of nobody) {
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toBe(without[0]?.result.stdout)
      expect(result.stderr).toBe('')
    }

    const fastest = (timings: typeof runs) => Math.min(...timings.map((timing) => timing.elapsed))
    expect(fastest(nobody) - fastest(without), 'extra time with DATADOG_AGENT_HOST pointing at nobody').toBeLessThan(2000)
  })

  it('still succeeds when the run cannot be recorded', async () => {
    await withDatabase(target(), (db) => sql`alter table command_runs rename to command_runs_away`.execute(db))
    try {
      const created = await run(create('u2'))
      expect(created.code, created.stderr).toBe(0)
      expect(created.stderr).not.toMatch(/error|command_runs/i)
      const listed = await run(['tenant', 'tenants', 'list', '--json'])
      expect(listed.code, listed.stderr).toBe(0)
      expect(parseJson<{tenants: Array<{tenantId: string}>}>(listed).tenants.map((tenant) => tenant.tenantId)).toContain('u2')
    } finally {
      await withDatabase(target(), (db) => sql`alter table command_runs_away rename to command_runs`.execute(db))
    }

    // Nothing from that time was recorded, and recording goes on afterwards.
    const report = parseJson<UsageReport>(await run(['usage', 'report', '--json']))
    expect(report.commands.find((row) => row.command === 'tenant tenants create')).toMatchObject({runs: 1})
    const reports = report.commands.find((row) => row.command === 'usage report')?.runs ?? 0
    const again = parseJson<UsageReport>(await run(['usage', 'report', '--json']))
    expect(again.commands.find((row) => row.command === 'usage report')).toMatchObject({runs: reports + 1})
  })
})

describeOnServer('usage analytics on a busy server [server]', () => {
  let url = ''
  let drop: () => Promise<void> = async () => {}

  beforeAll(async () => {
    const server = await createServerDatabase({migrated: true})
    url = server.url
    drop = server.drop
  })

  afterAll(async () => {
    await drop()
  })

  it('does not hold a command up while its run cannot be recorded (command_runs locked)', async () => {
    // Another session holds command_runs (a VACUUM FULL, a migration, a retention job):
    // recording waits for it, and must give up after its short time limit.
    const holder = new pg.Client({connectionString: url})
    await holder.connect()
    await holder.query('begin')
    await holder.query('lock table command_runs in access exclusive mode')
    const release = setTimeout(() => void holder.query('commit'), 15_000)
    try {
      const started = Date.now()
      const listed = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {DATABASE_URL: url}, timeoutMs: 40_000})
      const elapsed = Date.now() - started
      expect(listed.code, listed.stderr).toBe(0)
      expect(parseJson<{tenants: unknown[]}>(listed).tenants).toEqual([])
      expect(elapsed, `tenant tenants list took ${elapsed} ms while command_runs was locked`).toBeLessThan(8000)
    } finally {
      clearTimeout(release)
      await holder.query('commit').catch(() => {})
      await holder.end()
    }
  })
})

describe('DogStatsD for an interrupted command', () => {
  it('reports a command stopped by SIGINT as interrupted, exit code 130', async () => {
    const agent = await udpListener()
    // A database server that accepts and never answers keeps the command busy until the signal.
    const silent = await silentServer()
    const {port} = silent
    try {
      const env = {
        DATABASE_URL: `postgres://synthex@127.0.0.1:${port}/none`,
        DATADOG_AGENT_HOST: '127.0.0.1',
        DD_DOGSTATSD_PORT: String(agent.port),
        SYNTHEX_HOME: await makeHome({fresh: true}),
      }
      const started = startCli(['tenant', 'tenants', 'list'], {env, timeoutMs: 30_000})
      await waitFor(() => (silent.connections > 0 ? true : undefined), 20_000, 'the command to connect')
      started.child.kill('SIGINT')
      const ended = await started.done
      expect(ended.code).toBe(130)
      await waitFor(() => (agent.datagrams.length >= 2 ? true : undefined), 3000, 'the datagrams of the interrupted command').catch(() => {})
      expect(agent.datagrams).toEqual([
        expect.stringMatching(/^synthex\.command\.duration:[\d.]+\|ms\|#command:tenant_tenants_list,outcome:interrupted,exit_code:130$/),
        'synthex.command.runs:1|c|#command:tenant_tenants_list,outcome:interrupted,exit_code:130',
      ])
    } finally {
      await silent.close()
      await agent.close()
    }
  })
})

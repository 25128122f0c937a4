import {createServer, type Server} from 'node:net'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeHome, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

/** The escape that starts every colour or cursor sequence. */
const ESC = String.fromCharCode(27)

describeEachCliBackend('the command-line contract', (target) => {
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, {env: {...target().env, ...env}})

  it('exits 0 on success and prints a table on stdout', async () => {
    const created = await run(['tenant', 'tenants', 'create', '--tenant-id', 'acme-us', '--name', 'Acme US', '--type', 'shopify', '--shopify-shop', 'acme-us.myshopify.com'])
    expect(created.code).toBe(0)
    const listed = await run(['tenant', 'tenants', 'list'])
    expect(listed.code).toBe(0)
    expect(listed.stdout.split('\n')[0]).toMatch(/^TENANT ID\s+NAME\s+TYPE/)
    expect(listed.stdout).toContain('acme-us')
  })

  it('exits 1 for runtime failures: not found, conflict', async () => {
    const missing = await run(['tenant', 'tenants', 'get', 'nobody'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('Tenant "nobody" does not exist in workspace "default".')
    const created = ['tenant', 'tenants', 'create', '--tenant-id', 'dup', '--name', 'Dup', '--type', 'shopify', '--shopify-shop', 'dup.myshopify.com']
    expect((await run(created)).code).toBe(0)
    const conflict = await run(created)
    expect(conflict.code).toBe(1)
    expect(conflict.stderr).toContain('already exists')
  })

  it('exits 2 for usage errors: unknown flag, missing argument, invalid value, unknown command, invalid input', async () => {
    for (const args of [
      ['tenant', 'tenants', 'list', '--no-such-flag'],
      ['tenant', 'tenants', 'get'],
      ['tenant', 'tenants', 'list', '--limit', 'many'],
      ['tenant', 'tenants', 'list', '--type', 'woocommerce'],
      ['tenant', 'tenats', 'list'],
      ['tenant', 'tenants', 'create', '--tenant-id', 'x y', '--type', 'shopify'],
    ]) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(/^Error: /)
      expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /)
    }
  })

  it('suggests the command meant by a typo', async () => {
    const result = await run(['tenant', 'tenats', 'list'])
    expect(result.stderr).toContain('Did you mean `synthex tenant tenants list`?')
  })

  it('prints exactly one JSON document on stdout with --json, for results and for errors', async () => {
    const ok = await run(['tenant', 'tenants', 'list', '--json'])
    expect(ok.code).toBe(0)
    expect(parseJson<{tenants: unknown[]}>(ok).tenants.length).toBeGreaterThan(0)

    const cases: Array<[string[], number, string]> = [
      [['tenant', 'tenants', 'get', 'nobody', '--json'], 1, 'NOT_FOUND'],
      [['tenant', 'tenants', 'list', '--bogus', '--json'], 2, 'USAGE'],
      [['tenant', 'tenats', 'list', '--json'], 2, 'UNKNOWN_COMMAND'],
      [['tenant', 'tenants', 'create', '--tenant-id', 'j', '--json'], 2, 'INVALID_INPUT'],
      [['tenant', 'tenants', 'delete', 'acme-us', '--json'], 2, 'CONFIRMATION_REQUIRED'],
    ]
    for (const [args, exitCode, code] of cases) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(exitCode)
      const body = parseJson<{error: {code: string; exitCode: number; message: string}}>(result)
      expect(body.error, args.join(' ')).toMatchObject({code, exitCode})
      expect(typeof body.error.message).toBe('string')
    }
  })

  it('writes no ANSI escapes when output is not a terminal, even with colour requested by nobody', async () => {
    for (const args of [['tenant', 'tenants', 'list'], ['tenant', 'tenants', 'get', 'nobody'], ['tenant', 'tenats'], ['--help']]) {
      const result = await run(args)
      expect(result.stdout + result.stderr, args.join(' ')).not.toContain(ESC)
    }
  })

  it('prints a stack trace only when DEBUG is set', async () => {
    const quiet = await run(['tenant', 'tenants', 'get', 'nobody'])
    expect(quiet.stderr).not.toMatch(/\n\s+at /)
    const debug = await run(['tenant', 'tenants', 'get', 'nobody'], {DEBUG: 'synthex'})
    expect(debug.stderr).toMatch(/\n\s+at /)
  })

  it('exports CSV that uses the import columns', async () => {
    const result = await run(['tenant', 'tenants', 'list', '--csv', '--search', 'acme-us'])
    expect(result.stdout).toBe('tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status\nacme-us,Acme US,shopify,acme-us.myshopify.com,,,,active\n')
  })
})

describe('commands that never open the database', () => {
  let server: Server
  let port = 0
  let connections = 0

  beforeAll(async () => {
    // A TCP listener posing as Postgres: it counts who connects and answers nothing.
    server = createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as {port: number}).port
  })

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('--help, --version and usage errors neither connect to a server nor create an embedded database', async () => {
    const home = await makeHome({fresh: true})
    const invocations: Array<[string[], number]> = [
      [['--help'], 0],
      [['--version'], 0],
      [['tenant', 'tenants', 'list', '--help'], 0],
      [['help', 'tenant', 'tenants', 'create'], 0],
      [['tenant', 'tenants', 'list', '--bogus'], 2],
      [['tenant', 'tenants', 'get'], 2],
    ]
    for (const [args, code] of invocations) {
      const embedded = await runCli(args, {env: {SYNTHEX_HOME: home}})
      expect(embedded.code, args.join(' ')).toBe(code)
      const remote = await runCli(args, {env: {DATABASE_URL: `postgres://synthex@127.0.0.1:${port}/nowhere`}})
      expect(remote.code, args.join(' ')).toBe(code)
    }

    expect(readdirSync(home)).toEqual([])
    expect(existsSync(join(home, 'pgdata'))).toBe(false)
    expect(connections).toBe(0)
  })

  it('reports an unreachable server as a runtime error naming the host, never the password', async () => {
    const result = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {DATABASE_URL: 'postgres://synthex:s3cret-pw@127.0.0.1:1/fleet'}})
    expect(result.code).toBe(1)
    const body = parseJson<{error: {code: string; message: string}}>(result)
    expect(body.error.code).toBe('DATABASE_UNAVAILABLE')
    expect(body.error.message).toContain('postgres://synthex@127.0.0.1:1/fleet')
    expect(result.stdout + result.stderr).not.toContain('s3cret-pw')
  })

  it('stops on an invalid DATABASE_URL naming the variable (exit 2)', async () => {
    const result = await runCli(['tenant', 'tenants', 'list'], {env: {DATABASE_URL: 'mysql://root:pw@db/app'}})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Invalid DATABASE_URL: expected a postgres:// or postgresql:// URL, got a "mysql:" URL.')
    expect(result.stderr).not.toContain('pw@')
  })
})

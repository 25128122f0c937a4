import {parse} from 'csv-parse/sync'
import {beforeAll, expect, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

interface Event {
  actor: string
  aggregateId: string
  aggregateType: string
  createdAt: string
  data: Record<string, unknown>
  id: number
  source: string
  type: string
  workspace: null | string
}

interface EventPage {
  events: Event[]
  nextCursor: null | number
  workspace: string
}

describeEachCliBackend('events list', (target) => {
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, {env: {...target().env, SYNTHEX_ACTOR: 'ops-bot', ...env}})
  const events = async (args: string[] = []): Promise<EventPage> => {
    const result = await run(['events', 'list', ...args, '--json'])
    expect(result.code).toBe(0)
    return parseJson<EventPage>(result)
  }

  beforeAll(async () => {
    for (const args of [
      ['tenant', 'tenants', 'create', '--tenant-id', 'acme-us', '--name', 'Acme', '--type', 'shopify', '--shopify-shop', 'acme-us.myshopify.com'],
      ['tenant', 'tenants', 'update', 'acme-us', '--name', 'Acme, "US"'],
      ['tenant', 'tenants', 'create', '--tenant-id', 'beta', '--name', 'Beta', '--type', 'google_merchant', '--gmc-merchant-id', '42'],
      ['tenant', 'workspaces', 'create', 'clients'],
      ['tenant', 'tenants', 'create', '--tenant-id', 'acme-us', '--name', 'Client Acme', '--type', 'google_merchant', '--gmc-merchant-id', '7', '-w', 'clients'],
    ]) {
      const result = await run(args, {SYNTHEX_ACTOR: args.includes('beta') ? 'alice' : 'ops-bot'})
      expect(result.code, result.stderr).toBe(0)
    }
  })

  it('--json is one document {events, nextCursor, workspace}, oldest first, with each event\'s data', async () => {
    const result = await run(['events', 'list', '--json'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    const page = parseJson<EventPage>(result)
    expect(Object.keys(page).sort()).toEqual(['events', 'nextCursor', 'workspace'])
    expect(page).toMatchObject({nextCursor: null, workspace: 'default'})
    expect(page.events.map((event) => `${event.type} ${event.aggregateId}`)).toEqual(['tenant.created acme-us', 'tenant.updated acme-us', 'tenant.created beta'])
    expect(Object.keys(page.events[1] ?? {}).sort()).toEqual(['actor', 'aggregateId', 'aggregateType', 'createdAt', 'data', 'id', 'source', 'type', 'workspace'])
    expect(page.events[1]).toMatchObject({
      actor: 'ops-bot',
      aggregateType: 'tenant',
      data: {changes: {name: {from: 'Acme', to: 'Acme, "US"'}}},
      source: 'cli',
      workspace: 'default',
    })
    expect(new Date(page.events[1]?.createdAt ?? '').toISOString()).toBe(page.events[1]?.createdAt)

    // The other workspace has its own trail.
    const clients = await events(['-w', 'clients'])
    expect(clients.workspace).toBe('clients')
    expect(clients.events.map((event) => `${event.type} ${event.aggregateId}`)).toEqual(['workspace.created clients', 'tenant.created acme-us'])
    expect(clients.events[1]?.data).toMatchObject({fields: {name: 'Client Acme'}})
  })

  it('filters by --type, --tenant, --actor and --since, and pages with --after', async () => {
    expect((await events(['--type', 'tenant.created'])).events.map((event) => event.aggregateId)).toEqual(['acme-us', 'beta'])
    expect((await events(['--type', 'tenant.*', '--tenant', 'acme-us'])).events.map((event) => event.type)).toEqual(['tenant.created', 'tenant.updated'])
    expect((await events(['--actor', 'alice'])).events.map((event) => event.aggregateId)).toEqual(['beta'])
    expect((await events(['--since', '1h'])).events).toHaveLength(3)
    expect((await events(['--since', '2000-01-01'])).events).toHaveLength(3)
    const future = await run(['events', 'list', '--since', '2999-01-01T00:00:00Z'])
    expect(future.code).toBe(0)
    expect(future.stdout).toBe('')
    expect(future.stderr).toContain('No events match.')

    const first = await events(['--limit', '2'])
    expect(first.events).toHaveLength(2)
    expect(first.nextCursor).toBe(first.events[1]?.id)
    const second = await events(['--limit', '2', '--after', String(first.nextCursor)])
    expect(second.nextCursor).toBeNull()
    expect([...first.events, ...second.events].map((event) => event.type)).toEqual(['tenant.created', 'tenant.updated', 'tenant.created'])

    const table = await run(['events', 'list', '--limit', '2'])
    expect(table.stderr).toContain(`More events follow: add --after ${String(first.nextCursor)} for the next page.`)
    expect(table.stdout).toMatch(/^ID\s+TIME\s+EVENT\s+AGGREGATE\s+ACTOR\s+SOURCE\s+DATA$/m)
    expect(table.stdout).toMatch(/tenant\.updated\s+tenant acme-us\s+ops-bot\s+cli\s+\{"changes":\{"name":\{"(?:to|from)"/)
  })

  it('--csv has a header row and every field, the data as JSON', async () => {
    const result = await run(['events', 'list', '--csv'])
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[0]).toBe('id,created_at,workspace,type,aggregate_type,aggregate_id,actor,source,data')
    const rows = parse(result.stdout, {columns: true}) as Array<Record<string, string>>
    expect(rows.map((row) => row.type)).toEqual(['tenant.created', 'tenant.updated', 'tenant.created'])
    expect(rows[1]).toMatchObject({actor: 'ops-bot', aggregate_id: 'acme-us', aggregate_type: 'tenant', source: 'cli', workspace: 'default'})
    expect(JSON.parse(rows[1]?.data ?? '')).toEqual({changes: {name: {from: 'Acme', to: 'Acme, "US"'}}})
    expect((await run(['events', 'list', '--csv', '--json'])).code).toBe(2)
  })

  it('refuses a bad --since or --type with exit 2 and says what it expects', async () => {
    const bad = await run(['events', 'list', '--since', 'yesterday'])
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe('')
    expect(bad.stderr).toContain('--since: "yesterday" is not a duration such as 7d, 24h or 30m, nor an ISO-8601 time such as 2025-06-01')

    const asJson = await run(['events', 'list', '--since', '7 days ago', '--json'])
    expect(asJson.code).toBe(2)
    expect(parseJson<{error: {code: string; exitCode: number; message: string}}>(asJson).error).toMatchObject({code: 'USAGE', exitCode: 2, message: expect.stringContaining('--since')})

    const badType = await run(['events', 'list', '--type', 'cred*'])
    expect(badType.code).toBe(2)
    expect(badType.stderr).toContain('a prefix ending in .* such as credential.*')
  })
})

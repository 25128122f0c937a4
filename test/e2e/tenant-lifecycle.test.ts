import {expect, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {seedFleet} from '../helpers/seed-fleet.js'

interface Tenant {
  market: string | null
  name: string
  status: string
  tenantId: string
  type: string
  workspace: string
}

describeEachCliBackend('a tenant from creation to deletion', (target) => {
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, {env: {...target().env, SYNTHEX_ACTOR: 'ops-bot', ...env}})

  it('creates, reads, updates, suspends, deletes and keeps the history', async () => {
    const created = await run(['tenant', 'tenants', 'create', '--tenant-id', 'acme-de', '--name', 'Acme DE', '--type', 'mixed', '--shopify-shop', 'acme-de.myshopify.com', '--gmc-merchant-id', '123456789', '--market', 'de', '--json'])
    expect(created.code).toBe(0)
    expect(parseJson<Tenant>(created)).toMatchObject({market: 'DE', status: 'active', tenantId: 'acme-de', type: 'mixed', workspace: 'default'})

    const got = await run(['tenant', 'tenants', 'get', 'acme-de'])
    expect(got.stdout).toMatch(/^Tenant ID\s+acme-de$/m)
    expect(got.stdout).toMatch(/^Merchant ID\s+123456789$/m)

    const updated = await run(['tenant', 'tenants', 'update', 'acme-de', '--name', 'Acme Deutschland', '--region', 'emea'])
    expect(updated.code).toBe(0)
    expect(updated.stderr).toContain('name: "Acme DE" -> "Acme Deutschland"')

    const badUpdate = await run(['tenant', 'tenants', 'update', 'acme-de', '--type', 'shopify'])
    expect(badUpdate.code).toBe(2)
    expect(badUpdate.stderr).toContain('--gmc-merchant-id: applies only to type google_merchant or mixed')

    const nothing = await run(['tenant', 'tenants', 'update', 'acme-de'])
    expect(nothing.code).toBe(2)

    const suspended = await run(['tenant', 'tenants', 'suspend', 'acme-de', '--json'])
    expect(parseJson<{changed: boolean; previousStatus: string}>(suspended)).toMatchObject({changed: true, previousStatus: 'active'})
    const again = await run(['tenant', 'tenants', 'suspend', 'acme-de', '--json'])
    expect(parseJson<{changed: boolean}>(again).changed).toBe(false)
    expect((await run(['tenant', 'tenants', 'list', '--status', 'suspended', '--json'])).stdout).toContain('acme-de')
    expect((await run(['tenant', 'tenants', 'activate', 'acme-de'])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'deactivate', 'acme-de'])).code).toBe(0)

    const refused = await run(['tenant', 'tenants', 'delete', 'acme-de'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('pass --yes')
    expect((await run(['tenant', 'tenants', 'delete', 'acme-de', '--yes'])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'get', 'acme-de'])).code).toBe(1)

    const history = await run(['tenant', 'tenants', 'history', 'acme-de', '--json'])
    const events = parseJson<{events: Array<{actor: string; source: string; type: string}>}>(history).events
    expect(events.map((event) => event.type)).toEqual([
      'tenant.created',
      'tenant.updated',
      'tenant.suspended',
      'tenant.activated',
      'tenant.deactivated',
      'tenant.deleted',
    ])
    expect(new Set(events.map((event) => `${event.actor}/${event.source}`))).toEqual(new Set(['ops-bot/cli']))

    const table = await run(['tenant', 'tenants', 'history', 'acme-de'])
    expect(table.stdout).toMatch(/tenant\.updated\s+ops-bot\s+cli\s+name: "Acme DE" -> "Acme Deutschland"; region: \(none\) -> "emea"/)
  })

  it('works per workspace', async () => {
    expect((await run(['tenant', 'workspaces', 'create', 'clients', '--name', 'Client shops'])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'create', '--tenant-id', 'c1', '--name', 'C1', '--type', 'google_merchant', '--gmc-merchant-id', '77', '-w', 'clients'])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'create', '--tenant-id', 'c2', '--name', 'C2', '--type', 'google_merchant', '--gmc-merchant-id', '78'], {SYNTHEX_WORKSPACE: 'clients'})).code).toBe(0)

    const inClients = parseJson<{tenants: Tenant[]; workspace: string}>(await run(['tenant', 'tenants', 'list', '-w', 'clients', '--json']))
    expect(inClients.workspace).toBe('clients')
    expect(inClients.tenants.map((tenant) => tenant.tenantId)).toEqual(['c1', 'c2'])
    expect(parseJson<{tenants: Tenant[]}>(await run(['tenant', 'tenants', 'list', '--json'])).tenants.map((tenant) => tenant.tenantId)).not.toContain('c1')

    const workspaces = parseJson<{workspaces: Array<{slug: string; tenantCount: number}>}>(await run(['tenant', 'workspaces', 'list', '--json']))
    expect(workspaces.workspaces).toContainEqual(expect.objectContaining({slug: 'clients', tenantCount: 2}))

    const missing = await run(['tenant', 'tenants', 'list', '-w', 'nowhere'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('synthex tenant workspaces create nowhere')
  })

  it('pages a long list: the hint and nextCursor lead to the next page', async () => {
    // Creating is the first test's subject; here it is setup, without a process per tenant.
    await seedFleet(target(), {tenants: Array.from({length: 5}, (_, index) => ({name: `P${index}`, shopify_shop: `page-${index}.myshopify.com`, tenant_id: `page-${index}`, type: 'shopify'}))})

    const first = await run(['tenant', 'tenants', 'list', '--search', 'page-', '--limit', '2'])
    expect(first.stderr).toContain('add --after page-1 for the next page')
    const second = parseJson<{nextCursor: string | null; tenants: Tenant[]}>(await run(['tenant', 'tenants', 'list', '--search', 'page-', '--limit', '2', '--after', 'page-1', '--json']))
    expect(second.tenants.map((tenant) => tenant.tenantId)).toEqual(['page-2', 'page-3'])
    expect(second.nextCursor).toBe('page-3')
  })
})

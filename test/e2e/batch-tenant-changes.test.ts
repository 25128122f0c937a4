import {randomUUID} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect, inject, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

interface Tenant {
  market: string | null
  name: string
  region: string | null
  status: string
  tenantId: string
}

function file(name: string, content: string): string {
  const path = join(inject('scratch'), `${process.pid}-${randomUUID()}-${name}`)
  writeFileSync(path, content)
  return path
}

describeEachCliBackend('batch tenants update, set-status, delete', (target) => {
  const run = (args: string[], input?: string) => runCli(args, {env: target().env, input})
  const seed = async (prefix: string): Promise<void> => {
    let csv = 'tenant_id,name,type,shopify_shop\n'
    for (let index = 1; index <= 3; index++) csv += `${prefix}-${index},T ${index},shopify,${prefix}-${index}.myshopify.com\n`
    expect((await run(['batch', 'tenants', 'create', '--from-csv', file('seed.csv', csv)])).code).toBe(0)
  }

  const tenants = async (prefix: string): Promise<Tenant[]> =>
    parseJson<{tenants: Tenant[]}>(await run(['tenant', 'tenants', 'list', '--all', '--search', `${prefix}-`, '--json'])).tenants

  it('updates the columns the file has, rejects unknown tenants and bad values with every problem at once, and leaves the rest', async () => {
    await seed('up')
    const rejects = file('rejects.csv', '')
    const csv = 'tenant_id,region,market\nup-1,emea,DE\nup-2,,UK\nup-9,x,\nup-3,apac,\n'
    const result = await run(['batch', 'tenants', 'update', '--from-csv', file('update.csv', csv), '--reject-file', rejects])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/^Applied .*update\.csv in part \(.*\): 4 read, 2 updated, 0 unchanged, 2 rejected\.$/m)
    expect(result.stderr).toContain('line 3: market: must be an ISO 3166-1 alpha-2 country code such as US or DE, got "UK" (the United Kingdom is GB)')
    expect(result.stderr).toContain('line 4: tenant_id: tenant "up-9" does not exist in workspace "default"')
    expect(readFileSync(rejects, 'utf8').split('\n')[0]).toBe('tenant_id,region,market,error')
    expect((await tenants('up')).map((tenant) => [tenant.tenantId, tenant.name, tenant.region, tenant.market])).toEqual([
      ['up-1', 'T 1', 'emea', 'DE'],
      ['up-2', 'T 2', null, null],
      ['up-3', 'T 3', 'apac', null],
    ])

    const again = await run(['batch', 'tenants', 'update', '--from-csv', file('again.csv', 'tenant_id,region,market\nup-1,emea,DE\n'), '--json'])
    expect(again.code).toBe(0)
    expect(parseJson<{changed: number; unchanged: number}>(again)).toMatchObject({changed: 0, unchanged: 1})
    const history = await run(['tenant', 'tenants', 'history', 'up-1'])
    expect(history.stdout).toContain('market: (none) -> "DE"; region: (none) -> "emea"')
  })

  it('sets the status of the tenants an export lists, and says what a dry run would do', async () => {
    await seed('st')
    const exported = await run(['tenant', 'tenants', 'list', '--all', '--csv', '--search', 'st-'])
    const dry = await run(['batch', 'tenants', 'set-status', '--status', 'suspended', '--from-csv', '-', '--dry-run'], exported.stdout)
    expect(dry.code).toBe(0)
    expect(dry.stderr).toMatch(/^Dry run of standard input \(.*\): 3 read, would suspend 3, 0 unchanged, 0 rejected\. Nothing was written\.$/m)
    const done = await run(['batch', 'tenants', 'set-status', '--status', 'suspended', '--from-csv', '-'], exported.stdout)
    expect(done.code).toBe(0)
    expect(done.stderr).toMatch(/✓ Applied standard input in .*: 3 read, 3 suspended, 0 unchanged, 0 rejected\./)
    expect((await tenants('st')).map((tenant) => tenant.status)).toEqual(['suspended', 'suspended', 'suspended'])
    const bad = await run(['batch', 'tenants', 'set-status', '--status', 'paused', '--from-csv', '-'], exported.stdout)
    expect(bad.code).toBe(2)
  })

  it('deletes only with --yes where nobody can confirm, and all or nothing with --atomic', async () => {
    await seed('del')
    const path = file('delete.csv', 'tenant_id,notes\ndel-1,gone\ndel-2,gone\n')
    const refused = await run(['batch', 'tenants', 'delete', '--from-csv', path, '--ignore-unknown-columns'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('Refusing to delete tenants without confirmation.')
    expect(await tenants('del')).toHaveLength(3)

    const atomic = await run(['batch', 'tenants', 'delete', '--from-csv', file('atomic.csv', 'tenant_id\ndel-1\ndel-404\n'), '--yes', '--atomic'])
    expect(atomic.code).toBe(3)
    expect(atomic.stderr).toMatch(/^Rolled back: nothing written from .*atomic\.csv \(--atomic, .*\): 2 read, 1 rejected/m)
    expect(await tenants('del')).toHaveLength(3)

    const deleted = await run(['batch', 'tenants', 'delete', '--from-csv', path, '--ignore-unknown-columns', '--yes'])
    expect(deleted.code).toBe(0)
    expect(deleted.stderr).toContain('Ignored column: notes.')
    expect(deleted.stderr).toMatch(/✓ Applied .*delete\.csv in .*: 2 read, 2 deleted, 0 rejected\./)
    expect((await tenants('del')).map((tenant) => tenant.tenantId)).toEqual(['del-3'])
  })
})

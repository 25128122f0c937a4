import {randomUUID} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect, inject, it} from 'vitest'

import {createServerDatabase} from '../helpers/backends.js'
import {makeHome, parseJson, runCli} from '../helpers/cli.js'
import {type CliTarget, describeEachCliBackend} from '../helpers/cli-backends.js'

function file(name: string, content: string): string {
  const path = join(inject('scratch'), `${process.pid}-${randomUUID()}-${name}`)
  writeFileSync(path, content)
  return path
}

/** Another, empty database of the same backend: where an export is imported again. */
async function freshTarget(backend: CliTarget['backend']): Promise<{drop: () => Promise<void>; env: Record<string, string>}> {
  if (backend === 'embedded') return {drop: async () => {}, env: {SYNTHEX_HOME: await makeHome()}}
  const server = await createServerDatabase()
  const env = {DATABASE_URL: server.url}
  const migrated = await runCli(['db', 'migrate'], {env})
  if (migrated.code !== 0) throw new Error(migrated.stderr)
  return {drop: server.drop, env}
}

const TENANTS = [
  'tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status,workspace',
  'ex-1,"Acme, Inc.",shopify,acme.myshopify.com,,US,emea,active,',
  'ex-2,"Quote ""Q"" Ltd",google_merchant,,123456,DE,,suspended,',
  "ex-3,'=SUM(1;2),mixed,mix.myshopify.com,987,,apac,inactive,",
  'ex-4,Four,shopify,four.myshopify.com,,,,,',
  'ex-5,Five,shopify,five.myshopify.com,,GB,,,',
  'ex-6,Six,shopify,six.myshopify.com,,,,,second',
  'ex-7,Seven,google_merchant,,42,,,,second',
].join('\n')

describeEachCliBackend('tenant tenants list: whole exports', (target) => {
  const run = (args: string[], env: Record<string, string> = target().env) => runCli(args, {env})

  it('says on every --csv page that more follow, exports everything with --all, and round-trips through the import', async () => {
    expect((await run(['tenant', 'workspaces', 'create', 'second'])).code).toBe(0)
    const imported = await run(['batch', 'tenants', 'create', '--from-csv', file('fleet.csv', `${TENANTS}\n`)])
    expect(imported.code, imported.stderr).toBe(0)

    const page = await run(['tenant', 'tenants', 'list', '--csv', '--limit', '3'])
    expect(page.code).toBe(0)
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(4)
    expect(page.stderr).toContain('Only the first 3 tenants were written: more follow. Add --all for every tenant of workspace default (or --after ex-3 for the next page).')

    const whole = await run(['tenant', 'tenants', 'list', '--csv', '--all'])
    expect(whole.code).toBe(0)
    expect(whole.stderr).toBe('')
    const lines = whole.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status')
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['ex-1', 'ex-2', 'ex-3', 'ex-4', 'ex-5'])

    const fleet = await run(['tenant', 'tenants', 'list', '--csv', '--all-workspaces'])
    expect(fleet.code).toBe(0)
    const fleetLines = fleet.stdout.trimEnd().split('\n')
    expect(fleetLines[0]).toBe('tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status,workspace')
    expect(fleetLines).toHaveLength(8)
    expect(fleetLines.at(-1)).toBe('ex-7,Seven,google_merchant,,42,,,active,second')
    expect(fleet.stdout).toContain("ex-3,'=SUM(1;2),mixed")

    // Export -> import into an empty database -> export again: the same file.
    const fresh = await freshTarget(target().backend)
    try {
      expect((await run(['tenant', 'workspaces', 'create', 'second'], fresh.env)).code).toBe(0)
      const reimported = await run(['batch', 'tenants', 'create', '--from-csv', file('export.csv', fleet.stdout), '--json'], fresh.env)
      expect(reimported.code, reimported.stderr).toBe(0)
      expect(parseJson<{created: number}>(reimported).created).toBe(7)
      const exported = await run(['tenant', 'tenants', 'list', '--csv', '--all-workspaces'], fresh.env)
      expect(exported.stdout).toBe(fleet.stdout)
    } finally {
      await fresh.drop()
    }
  })
})

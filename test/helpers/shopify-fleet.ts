import {randomBytes, randomUUID} from 'node:crypto'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect, inject} from 'vitest'

import type {CliResult} from './cli.js'
import type {ShopifyAdminFake, ShopSetup} from '../fakes/shopify-admin-fake.js'

/** A file in the run's scratch directory, readable by its owner only (it may hold tokens). */
export function scratchFile(name: string, content: string): string {
  const path = join(inject('scratch'), `${process.pid}-${randomUUID()}-${name}`)
  writeFileSync(path, content)
  chmodSync(path, 0o600)
  return path
}

export const shopifyToken = (): string => `shpat_${randomBytes(16).toString('hex')}`

export type FleetShops = Record<string, Omit<ShopSetup, 'token'> & {labels?: number}>

/**
 * A workspace of its own with one Shopify tenant per shop (and a credential per label), each
 * shop set up at the stand-in with its token, made through the CLI as a user would
 * (`batch tenants create`, `batch credentials set`).
 */
export async function shopifyFleet(run: (args: string[]) => Promise<CliResult>, fake: ShopifyAdminFake, shops: FleetShops, granted: readonly string[] = ['read_products']): Promise<{tokens: Record<string, string>; workspace: string}> {
  const ok = async (args: string[]): Promise<void> => {
    const result = await run(args)
    expect(result.code, result.stderr).toBe(0)
  }

  const workspace = `vw-${randomUUID().slice(0, 8)}`
  await ok(['tenant', 'workspaces', 'create', workspace])
  let tenants = 'tenant_id,name,type,shopify_shop\n'
  let credentials = 'tenant_id,service,label,value\n'
  const tokens: Record<string, string> = {}
  for (const [name, setup] of Object.entries(shops)) {
    const shop = `${workspace}-${name}.myshopify.com`
    tokens[name] = shopifyToken()
    fake.shop(shop, {scopes: granted, ...setup, token: tokens[name]})
    tenants += `${name},Tenant ${name},shopify,${shop}\n`
    for (let label = 1; label <= (setup.labels ?? 1); label++) credentials += `${name},shopify,${label === 1 ? 'default' : `l${label}`},${tokens[name]}\n`
  }

  await ok(['batch', 'tenants', 'create', '-w', workspace, '--from-csv', scratchFile('tenants.csv', tenants)])
  await ok(['batch', 'credentials', 'set', '-w', workspace, '--from-file', scratchFile('tokens.csv', credentials)])
  return {tokens, workspace}
}

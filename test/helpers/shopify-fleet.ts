import {randomBytes, randomUUID} from 'node:crypto'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {inject} from 'vitest'

import type {TenantFieldsInput} from '../../src/domain/tenant-fields.js'
import type {ShopifyAdminFake, ShopSetup} from '../fakes/shopify-admin-fake.js'
import type {CliTarget} from './cli-backends.js'
import {seedFleet} from './seed-fleet.js'

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
 * shop set up at the stand-in with its token. Made through the services the batch commands
 * call, in one opening of the target's database: the batch commands themselves are the
 * subject of test/e2e/batch-import.test.ts and test/e2e/batch-credentials.test.ts, and a CLI
 * process per setup step costs seconds on the embedded database.
 */
export async function shopifyFleet(target: CliTarget, encryptionKey: string, fake: ShopifyAdminFake, shops: FleetShops, granted: readonly string[] = ['read_products']): Promise<{tokens: Record<string, string>; workspace: string}> {
  const workspace = `vw-${randomUUID().slice(0, 8)}`
  const tenants: TenantFieldsInput[] = []
  const credentials: Array<{label: string; service: 'shopify'; tenantId: string; value: string; workspace: string}> = []
  const tokens: Record<string, string> = {}
  for (const [name, setup] of Object.entries(shops)) {
    const shop = `${workspace}-${name}.myshopify.com`
    const token = shopifyToken()
    tokens[name] = token
    fake.shop(shop, {scopes: granted, ...setup, token})
    tenants.push({name: `Tenant ${name}`, shopify_shop: shop, tenant_id: name, type: 'shopify'})
    for (let label = 1; label <= (setup.labels ?? 1); label++) credentials.push({label: label === 1 ? 'default' : `l${label}`, service: 'shopify', tenantId: name, value: token, workspace})
  }

  await seedFleet(target, {credentials, encryptionKey, tenants: tenants.map((tenant) => ({...tenant, workspace})), workspaces: [workspace]})
  return {tokens, workspace}
}

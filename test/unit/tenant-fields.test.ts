import {describe, expect, it} from 'vitest'

import {parseTenantFields, type TenantFieldsInput} from '../../src/domain/tenant-fields.js'

const shop: TenantFieldsInput = {name: 'Acme US', shopify_shop: 'acme-us.myshopify.com', tenant_id: 'acme-us', type: 'shopify'}

function issuesOf(input: TenantFieldsInput): Record<string, string> {
  const result = parseTenantFields(input)
  if (result.ok) throw new Error('expected issues')
  return Object.fromEntries(result.issues.map((issue) => [issue.field, issue.message]))
}

describe('tenant field rules', () => {
  it('normalises a valid tenant: trims, lower-cases the shop, upper-cases the market, defaults status', () => {
    const result = parseTenantFields({...shop, market: ' us ', name: '  Acme US ', region: '', shopify_shop: 'Acme-US.MyShopify.com'})
    expect(result).toEqual({
      ok: true,
      value: {
        gmc_merchant_id: null,
        market: 'US',
        name: 'Acme US',
        region: null,
        shopify_shop: 'acme-us.myshopify.com',
        status: 'active',
        tenant_id: 'acme-us',
        type: 'shopify',
      },
    })
  })

  it('reports every problem of an input at once, each under its column', () => {
    expect(issuesOf({gmc_merchant_id: 'abc', market: 'UK', tenant_id: 'bad id', type: 'mixed'})).toEqual({
      gmc_merchant_id: 'must be the numeric Merchant Center id (digits only)',
      market: 'must be an ISO 3166-1 alpha-2 country code such as US or DE, got "UK" (the United Kingdom is GB)',
      name: 'is required',
      shopify_shop: 'is required for type mixed',
      tenant_id: 'may contain only letters, digits, "_" and "-"',
    })
  })

  it('bounds tenant ids at 64 characters and names at 200 characters (not bytes)', () => {
    expect(parseTenantFields({...shop, tenant_id: 'a'.repeat(64)}).ok).toBe(true)
    expect(issuesOf({...shop, tenant_id: 'a'.repeat(65)})).toEqual({tenant_id: 'must be at most 64 characters'})
    expect(parseTenantFields({...shop, name: 'é'.repeat(200)}).ok).toBe(true)
    expect(issuesOf({...shop, name: 'é'.repeat(201)})).toEqual({name: 'must be at most 200 characters'})
    expect(issuesOf({...shop, region: 'r'.repeat(65)})).toEqual({region: 'must be at most 64 characters'})
  })

  it('treats blank required values as missing', () => {
    expect(issuesOf({...shop, name: '   ', tenant_id: ''})).toEqual({name: 'is required', tenant_id: 'is required'})
    expect(issuesOf({name: 'x', tenant_id: 'x'})).toEqual({type: 'is required'})
  })

  it('ties the shop and merchant id to the type', () => {
    expect(issuesOf({...shop, shopify_shop: undefined})).toEqual({shopify_shop: 'is required for type shopify'})
    expect(issuesOf({...shop, gmc_merchant_id: '123'})).toEqual({
      gmc_merchant_id: 'applies only to type google_merchant or mixed; leave it empty for type shopify (or use type mixed)',
    })
    expect(issuesOf({gmc_merchant_id: '123', name: 'Feeds', shopify_shop: 'x.myshopify.com', tenant_id: 'f', type: 'google_merchant'})).toEqual({
      shopify_shop: 'applies only to type shopify or mixed; leave it empty for type google_merchant (or use type mixed)',
    })
    expect(parseTenantFields({...shop, gmc_merchant_id: '123', type: 'mixed'}).ok).toBe(true)
  })

  it('accepts type and status in any case but only the known values', () => {
    expect(parseTenantFields({...shop, status: 'Suspended', type: 'SHOPIFY'})).toMatchObject({ok: true, value: {status: 'suspended', type: 'shopify'}})
    expect(issuesOf({...shop, status: 'paused', type: 'woocommerce'})).toEqual({
      status: 'must be one of active, inactive, suspended',
      type: 'must be one of shopify, google_merchant, mixed',
    })
  })

  it('rejects shops that are not a myshopify.com domain', () => {
    for (const bad of ['acme.com', 'https://acme.myshopify.com', '-acme.myshopify.com', 'acme.myshopify.com/admin']) {
      expect(issuesOf({...shop, shopify_shop: bad})).toEqual({shopify_shop: "must be the shop's <name>.myshopify.com domain"})
    }
  })
})

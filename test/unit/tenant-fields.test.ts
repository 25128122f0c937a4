import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {checkTenantFields, parseTenantFields, type TenantFieldsInput, validTenantFields} from '../../src/domain/tenant-fields.js'

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

describe('the fast check of valid tenants', () => {
  /** A field's valid values, its values at or past the rules' edges (case, blanks, whitespace, lengths in characters and in UTF-16 units, look-alikes), or anything. */
  const near = (valid: Array<string | null | undefined>, edges: Array<string | null | undefined>) =>
    fc.oneof({arbitrary: fc.constantFrom(...valid), weight: 6}, {arbitrary: fc.constantFrom(...edges), weight: 2}, {arbitrary: fc.string({maxLength: 30}), weight: 1})
  const input = fc.record(
    {
      gmc_merchant_id: near([undefined, null, '', '123', ' 123 '], ['1'.repeat(20), '1'.repeat(21), '12a', '\u0661\u0662', ' ']),
      market: near([undefined, null, '', 'us', ' DE ', 'gb'], ['UK', 'XX', 'u']),
      name: near(['Acme', ' Acme, Inc. '], [undefined, null, '', '   ', 'é'.repeat(200), 'é'.repeat(201), '🏔'.repeat(100), '🏔'.repeat(101), `${'a'.repeat(200)} `]),
      region: near([undefined, null, '', ' emea '], ['r'.repeat(64), 'r'.repeat(65), '🏔'.repeat(32), '🏔'.repeat(33), '🏔'.repeat(65)]),
      shopify_shop: near([undefined, null, '', 'acme.myshopify.com', ' Acme-US.MyShopify.com '], [' ', '-x.myshopify.com', 'a.myshopify.co', 'é.myshopify.com', '\u212a.myshopify.com']),
      status: near([undefined, null, '', 'active', ' Inactive ', 'SUSPENDED'], ['paused', ' ']),
      tenant_id: near(['acme-us', ' acme_US-2 '], [undefined, null, '', ' ', 'bad id', 'a'.repeat(64), 'a'.repeat(65), ' é ']),
      type: near(['shopify', ' SHOPIFY ', 'google_merchant', 'mixed', 'Mixed'], [undefined, null, '', 'shop']),
    },
    {requiredKeys: []},
  )

  it('accepts only what the rules accept, normalised the same way', () => {
    let accepted = 0
    fc.assert(
      fc.property(input, (fields) => {
        const fast = validTenantFields(fields)
        const rules = checkTenantFields(fields)
        if (fast !== undefined) expect(rules).toEqual({ok: true, value: fast})
        else expect(parseTenantFields(fields)).toEqual(rules)
        if (rules.ok) accepted++
      }),
      {numRuns: 50_000},
    )
    // The generator reaches valid tenants often enough to test the fast path.
    expect(accepted).toBeGreaterThan(500)
  })

  it('accepts the valid tenants of a typical file', () => {
    const rows: TenantFieldsInput[] = [
      {...shop, market: ' us ', name: '  Acme US ', region: '', shopify_shop: 'Acme-US.MyShopify.com', status: ''},
      {gmc_merchant_id: '12345', market: 'DE', name: 'Acme DE', region: 'emea', tenant_id: 'acme-de', type: 'google_merchant'},
      {gmc_merchant_id: '1', name: 'é'.repeat(200), shopify_shop: 'a.myshopify.com', status: 'Suspended', tenant_id: 'a'.repeat(64), type: 'MIXED'},
    ]
    for (const row of rows) expect(validTenantFields(row)).toEqual((checkTenantFields(row) as {value: unknown}).value)
  })
})

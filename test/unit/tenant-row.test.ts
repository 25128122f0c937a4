import {Readable} from 'node:stream'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {parseTenantFields, TENANT_FIELDS} from '../../src/domain/tenant-fields.js'
import {type CsvRow, openTenantCsv} from '../../src/services/import/tenant-csv.js'
import {checkTenantRow, duplicateOf, type ResolvedWorkspace} from '../../src/services/import/tenant-row.js'

const DEFAULT: ResolvedWorkspace = {id: 'ws-default', ok: true, slug: 'default'}
const EU: ResolvedWorkspace = {id: 'ws-eu', ok: true, slug: 'eu'}

/** Resolves blank to the default workspace and `eu`; anything else does not exist. */
function workspaceOf(slug: string | undefined): ResolvedWorkspace {
  if (!slug?.trim()) return DEFAULT
  return slug.trim() === 'eu' ? EU : {ok: false, reason: `workspace "${slug.trim()}" does not exist`}
}

function row(values: CsvRow['values'], line = 2): CsvRow {
  return {line, raw: Object.values(values) as string[], values}
}

const shop = {name: 'Acme US', shopify_shop: 'acme-us.myshopify.com', tenant_id: 'acme-us', type: 'shopify'}

describe('a tenant CSV row, checked', () => {
  it('becomes normalised tenant fields in the workspace its workspace column names, or the default one', () => {
    expect(checkTenantRow(row({...shop, name: ' Acme US ', type: 'Shopify'}), workspaceOf)).toEqual({
      fields: {gmc_merchant_id: null, market: null, name: 'Acme US', region: null, shopify_shop: 'acme-us.myshopify.com', status: 'active', tenant_id: 'acme-us', type: 'shopify'},
      ok: true,
      workspaceId: 'ws-default',
    })
    expect(checkTenantRow(row({...shop, workspace: 'eu'}), workspaceOf)).toMatchObject({ok: true, workspaceId: 'ws-eu'})
    expect(checkTenantRow(row({...shop, workspace: '  '}), workspaceOf)).toMatchObject({ok: true, workspaceId: 'ws-default'})
  })

  it('is rejected for a workspace that does not exist, naming the workspace column', () => {
    const checked = checkTenantRow(row({...shop, workspace: 'mars'}, 9), workspaceOf)
    expect(checked).toEqual({ok: false, rejection: {column: 'workspace', line: 9, raw: Object.values({...shop, workspace: 'mars'}), reason: 'workspace: workspace "mars" does not exist'}})
  })

  it('lists every problem in one reason, in column order and the workspace last, under the first problem\'s column', () => {
    const checked = checkTenantRow(row({market: 'UK', name: '', tenant_id: 'bad id', type: 'shopify', workspace: 'mars'}, 4), workspaceOf)
    expect(checked.ok).toBe(false)
    if (checked.ok) return
    expect(checked.rejection.column).toBe('tenant_id')
    expect(checked.rejection.line).toBe(4)
    expect(checked.rejection.reason.split('; ')).toEqual([
      'tenant_id: may contain only letters, digits, "_" and "-"',
      'name: is required',
      'market: must be an ISO 3166-1 alpha-2 country code such as US or DE, got "UK" (the United Kingdom is GB)',
      'shopify_shop: is required for type shopify',
      'workspace: workspace "mars" does not exist',
    ])
  })

  it('is rejected with the reader\'s own reason for a row it could not read, whatever its values', async () => {
    const csv = await openTenantCsv(Readable.from([Buffer.from('tenant_id,name,type\nacme,Acme\n')]))
    const rows: CsvRow[] = []
    for await (const batch of csv.rows) rows.push(...batch)
    const asked: Array<string | undefined> = []
    const checked = checkTenantRow(rows[0] as CsvRow, (slug) => {
      asked.push(slug)
      return DEFAULT
    })
    expect(checked).toEqual({ok: false, rejection: {column: null, line: 2, raw: ['acme', 'Acme'], reason: 'has 2 fields but the header has 3'}})
    expect(asked).toEqual([])
  })

  it('keeps the fields exactly as they were in the file for the reject file', () => {
    const raw = ['=cmd|x', ' Acme ', 'shopify']
    const checked = checkTenantRow({line: 3, raw, values: {name: ' Acme ', tenant_id: '=cmd|x', type: 'shopify'}}, workspaceOf)
    expect(checked).toMatchObject({ok: false, rejection: {column: 'tenant_id', raw}})
  })

  it('names the first line of a duplicate tenant id', () => {
    expect(duplicateOf(12, ['acme'], 'acme', 3)).toEqual({column: 'tenant_id', line: 12, raw: ['acme'], reason: 'tenant_id: "acme" is a duplicate of line 3'})
  })

  it('gives fields that check again as themselves, so an exported list imports unchanged', () => {
    const choices: Record<string, readonly string[]> = {
      gmc_merchant_id: ['', '123', ' 42 ', 'abc'],
      market: ['', ' us ', 'de', 'UK'],
      name: ['Acme', '  Zürich 🏔 ', '', '=1+1'],
      region: ['', ' emea ', 'r'.repeat(65)],
      shopify_shop: ['', 'x.myshopify.com', ' Y.MyShopify.com ', 'x.com'],
      status: ['', 'Inactive', 'suspended', 'paused'],
      tenant_id: ['acme', ' acme-1 ', 'a_b', 'bad id'],
      type: ['shopify', 'MIXED', 'google_merchant', 'Shopify', 'woo'],
    }
    const values = fc.record(Object.fromEntries(TENANT_FIELDS.map((field) => [field, fc.oneof({arbitrary: fc.constantFrom(...(choices[field] ?? [''])), weight: 9}, {arbitrary: fc.string({maxLength: 8}), weight: 1})])), {requiredKeys: []})
    let accepted = 0
    fc.assert(
      fc.property(values, (generated) => {
        const checked = checkTenantRow(row(generated), workspaceOf)
        if (!checked.ok) {
          expect(checked.rejection.reason).not.toBe('')
          expect([...TENANT_FIELDS, 'workspace']).toContain(checked.rejection.column)
          return
        }

        accepted++
        expect(parseTenantFields(checked.fields)).toEqual({ok: true, value: checked.fields})
      }),
      {numRuns: 500},
    )
    expect(accepted).toBeGreaterThan(0)
  })
})

import {describe, expect, it} from 'vitest'

import {checkCredentialRow} from '../../src/services/import/credential-row.js'

const now = new Date('2026-06-01T00:00:00Z')
const row = (values: Record<string, string>, line = 2) => ({line, raw: [], values})

describe('a row of batch credentials set', () => {
  it('reads which credential, its value and its expiry, as credentials set does', () => {
    const checked = checkCredentialRow(row({expires_in: '90d', label: '', service: 'Shopify', tenant_id: 'acme-us', value: 'shpat_x'}), [], now)
    expect(checked).toMatchObject({candidate: {expiryIsDate: false, label: 'default', service: 'shopify', tenantId: 'acme-us', value: 'shpat_x'}, ok: true})
    expect(checked.ok && checked.candidate.expiresAt?.toISOString()).toBe('2026-08-30T00:00:00.000Z')
    const dated = checkCredentialRow(row({expires_at: '2027-03-01', service: 'gmc', tenant_id: 'acme-us', value: 'v'}), [], now)
    expect(dated).toMatchObject({candidate: {expiresAt: new Date('2027-03-01T00:00:00Z'), expiryIsDate: true}, ok: true})
  })

  it('reports every problem of a row at once, never quoting the value', () => {
    const secret = 'shpat_do_not_print'
    const checked = checkCredentialRow(row({expires_at: '2020-01-01', expires_in: '9', label: 'a b', service: 'shopfy', tenant_id: 'acme us', value: secret}, 7), [], now)
    expect(checked.ok).toBe(false)
    if (checked.ok) return
    expect(checked.rejection).toMatchObject({column: 'tenant_id', line: 7})
    expect(checked.rejection.reason).toBe(
      'tenant_id: may contain only letters, digits, "_" and "-"; service: must be one of shopify, google, gmc; label: must be 1-64 letters, digits, ".", "_" or "-"; expires_at: and expires_in are both given; give one of them',
    )
    expect(JSON.stringify(checked)).not.toContain(secret)
    const past = checkCredentialRow(row({expires_at: '2020-01-01', service: 'google', tenant_id: 'a'}), [], now)
    expect(!past.ok && past.rejection.reason).toBe('value: is required (the secret itself); expires_at: is in the past (2020-01-01T00:00:00.000Z)')
  })
})

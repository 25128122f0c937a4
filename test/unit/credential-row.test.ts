import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {openCredentialFile} from '../../src/services/import/credential-file.js'
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

describe('the file of batch credentials set', () => {
  it('never names a header cell it does not know: a file without a header would show a secret', async () => {
    const secret = 'shpat_first_line_secret'
    const error = await openCredentialFile(Readable.from([`acme-us,shopify,default,${secret},90d\n`]), {}).then(
      () => new Error('opened'),
      (error_: unknown) => error_ as Error,
    )
    expect(error.message).toBe(
      'The header (line 1) is not usable: unknown column 1, column 2, column 3, column 4, column 5 (names not repeated, in case the first line is not a header); missing required columns tenant_id, service, value.',
    )
    expect(JSON.stringify({...error, message: error.message})).not.toContain(secret)
  })

  it('reads JSON lines, and a line that is not JSON without quoting it', async () => {
    const file = await openCredentialFile(Readable.from(['{"tenant_id":"a","service":"gmc","value":"v1"}\n\n', '{"tenant_id":"b","value":"secret-v2"\n']), {})
    const rows = []
    for await (const batch of file.rows) rows.push(...batch)
    expect(file.format).toBe('jsonl')
    expect(rows.map((row) => [row.line, row.values.tenant_id ?? null, row.problem?.reason.slice(0, 18) ?? null])).toEqual([
      [1, 'a', null],
      [3, null, 'is not valid JSON '],
    ])
    expect(JSON.stringify(rows[1])).not.toContain('secret-v2')
  })
})

import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {CopyText, copyTextRow} from '../../src/db/bulk-session.js'
import {CsvFormatError, type CsvRow, normaliseColumnName, openTenantCsv} from '../../src/services/import/tenant-csv.js'

/** A stream that delivers `bytes` in pieces of `size`, to put chunk boundaries anywhere. */
function source(bytes: Buffer | string, size = 7): Readable {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)
  const pieces: Buffer[] = []
  for (let offset = 0; offset < buffer.length; offset += size) pieces.push(buffer.subarray(offset, offset + size))
  return Readable.from(pieces)
}

async function readAll(bytes: Buffer | string, size?: number): Promise<{header: readonly string[]; rows: CsvRow[]}> {
  const csv = await openTenantCsv(source(bytes, size))
  const rows: CsvRow[] = []
  for await (const batch of csv.rows) rows.push(...batch)
  return {header: csv.header, rows}
}

describe('reading a tenant CSV', () => {
  it('numbers rows by their first line in the file, across BOM, CRLF, blank lines and quoted newlines', async () => {
    const text = '\uFEFFtenantId,name,type\r\na,A,shopify\r\n\r\n"b","two\r\nlines",mixed\r\n,,\r\nc,"C, ""quoted""",shopify\r\n'
    for (const size of [1, 3, 64, 1 << 16]) {
      const {header, rows} = await readAll(text, size)
      expect(header).toEqual(['tenantId', 'name', 'type'])
      expect(rows.map((row) => [row.line, row.values.tenant_id, row.values.name])).toEqual([
        [2, 'a', 'A'],
        [4, 'b', 'two\r\nlines'],
        [7, 'c', 'C, "quoted"'],
      ])
    }
  })

  it('accepts snake_case, camelCase and spaced headers in any order', async () => {
    expect(['tenant_id', 'tenantId', 'Tenant ID', 'gmcMerchantId', 'shopify-shop', ' Market '].map(normaliseColumnName)).toEqual([
      'tenant_id',
      'tenant_id',
      'tenant_id',
      'gmc_merchant_id',
      'shopify_shop',
      'market',
    ])
    const {rows} = await readAll('type,Name,tenantId,shopifyShop\nshopify,A,a,a.myshopify.com\n')
    expect(rows[0]?.values).toEqual({name: 'A', shopify_shop: 'a.myshopify.com', tenant_id: 'a', type: 'shopify'})
  })

  it('refuses a header with unknown, duplicate or missing columns before reading any row', async () => {
    const error = await readAll('tenant_id,nmae,tenantId,colour\na,b,c,d\n').catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(CsvFormatError)
    expect((error as Error).message).toBe(
      'The header (line 1) is not usable: unknown columns "nmae" (column 2), "colour" (column 4); column "tenant_id" appears twice (columns 1 and 3); missing required columns name, type.',
    )
    expect((error as CsvFormatError).details).toMatchObject({unknownColumns: ['nmae', 'colour']})
  })

  it('skips unknown columns with ignoreUnknownColumns, and names them', async () => {
    const csv = await openTenantCsv(source('notes,tenant_id,name,type,Owner\nhi,a,A,shopify,ana\n'), {ignoreUnknownColumns: true})
    const rows: CsvRow[] = []
    for await (const batch of csv.rows) rows.push(...batch)
    expect(csv.ignored).toEqual(['notes', 'Owner'])
    expect(rows[0]?.values).toEqual({name: 'A', tenant_id: 'a', type: 'shopify'})
  })

  it('ignores an error column, so a reject file can be fed back', async () => {
    const {rows} = await readAll('tenant_id,name,type,error\na,A,shopify,"line 2: bad"\n')
    expect(rows[0]?.values).toEqual({name: 'A', tenant_id: 'a', type: 'shopify'})
  })

  it('reads a cell synthex quoted against formulas back as the value it was, keeping the raw field for the reject file', async () => {
    const {rows} = await readAll(`tenant_id,name,type,region\na,"'=HYPERLINK(""x"")",shopify,'-1+1\nb,''=text,shopify,-12\nc,'plain,shopify,'@\n`)
    expect(rows.map((row) => [row.values.name, row.values.region])).toEqual([
      ['=HYPERLINK("x")', '-1+1'],
      ["'=text", '-12'],
      ["'plain", '@'],
    ])
    expect(rows[0]?.raw[1]).toBe('\'=HYPERLINK("x")')
  })

  it('reports an empty file', async () => {
    await expect(readAll('')).rejects.toThrow('The file is empty')
    await expect(readAll('\n\n')).rejects.toThrow('The file is empty')
  })

  it('marks ragged rows instead of failing the file', async () => {
    const {rows} = await readAll('tenant_id,name,type\na,A\nb,B,shopify,extra\nc,C,shopify\n')
    expect(rows.map((row) => [row.line, row.problem?.reason ?? 'ok'])).toEqual([
      [2, 'has 2 fields but the header has 3'],
      [3, 'has 4 fields but the header has 3'],
      [4, 'ok'],
    ])
  })

  it('flags the rows of a Windows-1252 file, even with a character split across chunks', async () => {
    const latin1 = Buffer.concat([Buffer.from('tenant_id,name,type\nok,Plain,shopify\ncafe,Caf'), Buffer.from([0xe9]), Buffer.from(',shopify\n')])
    const {rows} = await readAll(latin1, 5)
    expect(rows[0]?.problem).toBeUndefined()
    expect(rows[1]).toMatchObject({line: 3, problem: {column: 'name'}})
    expect(rows[1]?.problem?.reason).toContain('is not valid UTF-8')
    expect(rows[1]?.problem?.reason).toContain('Windows-1252')

    const utf8 = Buffer.from('tenant_id,name,type\nzurich,Zürich 🏔,shopify\n')
    for (const size of [1, 2, 3]) {
      const read = await readAll(utf8, size)
      expect(read.rows[0]?.problem).toBeUndefined()
      expect(read.rows[0]?.values.name).toBe('Zürich 🏔')
    }
  })

  it('reads a UTF-16LE file by its byte order mark, however it is cut', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('tenant_id,name,type\r\nzurich,"Zürich, 🏔",shopify\r\n', 'utf16le')])
    for (const size of [1, 3, 5, 1 << 16]) {
      const read = await readAll(bytes, size)
      expect(read.header).toEqual(['tenant_id', 'name', 'type'])
      expect(read.rows.map((row) => [row.line, row.values.name, row.problem])).toEqual([[2, 'Zürich, 🏔', undefined]])
    }
  })

  it('stops with a clear message at a record over 65,536 characters (an unclosed quote)', async () => {
    const error = await readAll(`tenant_id,name,type\na,A,shopify\nb,"${'x'.repeat(70_000)}",shopify\n`, 4096).catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(CsvFormatError)
    expect((error as Error).message).toMatch(/^Line 3: a record is longer than 65,536 characters/)
  })
})

describe('reading a tenant CSV at its edges', () => {
  it('reads a file with only a header as no rows', async () => {
    expect(await readAll('tenant_id,name,type\n')).toEqual({header: ['tenant_id', 'name', 'type'], rows: []})
    expect((await readAll('\n\ntenant_id,name,type')).rows).toEqual([])
  })

  it('refuses a header column without a name', async () => {
    await expect(readAll('tenant_id,,name,type\na,,A,shopify\n')).rejects.toThrow('The header (line 1) is not usable: column 2 of the header has no name.')
  })

  it('stops at a quote never closed, naming its line, after the rows before it', async () => {
    const csv = await openTenantCsv(source('tenant_id,name,type\na,A,shopify\nb,"B,shopify\n', 1 << 16))
    const read: CsvRow[] = []
    const error = await (async () => {
      for await (const batch of csv.rows) read.push(...batch)
    })().catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(CsvFormatError)
    expect((error as Error).message).toBe('Line 3: a quote opened on this line is never closed (the file ends inside it). Nothing from line 3 on was read.')
    expect((error as CsvFormatError).hint).toContain('a quote inside it is doubled')
    expect(read.map((row) => row.values.tenant_id)).toEqual(['a'])
  })

  it('names the line where an unclosed quote opened, not where the file ends', async () => {
    const text = 'tenant_id,name,type\na,"two\nlines",shopify\n\nb,"B,shopify\nc,C,shopify\nd,D,shopify\n'
    for (const size of [1, 7, 1 << 16]) {
      const error = await readAll(text, size).catch((error_: unknown) => error_)
      expect(error).toBeInstanceOf(CsvFormatError)
      expect((error as Error).message, `chunks of ${size}`).toBe('Line 5: a quote opened on this line is never closed (the file ends inside it). Nothing from line 5 on was read.')
      expect((error as CsvFormatError).details).toEqual({line: 5})
      expect((error as Error).message).not.toMatch(/Quote Not Closed|parsing is finished/)
    }
  })

  it('keeps a stray quote inside a field as text', async () => {
    const {rows} = await readAll('tenant_id,name,type\na,Acme "Shoes,shopify\n')
    expect(rows[0]?.values.name).toBe('Acme "Shoes')
  })
})

describe('COPY text rows', () => {
  it('escapes tabs, newlines, carriage returns and backslashes, and writes null as \\N', () => {
    expect(copyTextRow(['plain', null, 'tab\there', 'new\nline\r', 'back\\slash', 42])).toBe('plain\t\\N\ttab\\there\tnew\\nline\\r\tback\\\\slash\t42\n')
  })

  it('are written as bytes, the same rows as copyTextRow writes, however many and however long', () => {
    const rows: Array<Array<string | null>> = []
    for (let index = 0; index < 3000; index++) rows.push([`row ${index}`, index % 7 === 0 ? null : 'Zürich\t🏔\\', 'x'.repeat(index % 50)])
    const copy = new CopyText()
    for (const row of rows) copy.add([...row])
    expect(Buffer.from(copy.bytes).toString('utf8')).toBe(rows.map((row) => copyTextRow(row)).join(''))
    copy.clear().add(['again', null])
    expect(Buffer.from(copy.bytes).toString('utf8')).toBe('again\t\\N\n')
  })
})

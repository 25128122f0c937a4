import {chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'

import {RejectFile} from '../../src/cli/reject-file.js'
import {openTenantCsv} from '../../src/services/import/tenant-csv.js'
import {restoreFormula} from '../../src/text/spreadsheet-formula.js'

const scratch = mkdtempSync(join(tmpdir(), 'synthex-rejects-'))
afterAll(() => rmSync(scratch, {force: true, recursive: true}))
const directory = (): string => mkdtempSync(join(scratch, 'rejects-'))

async function writeRejects(path: string, rows: string[][], input?: {dev: number; ino: number}): Promise<void> {
  const file = await RejectFile.open(path, {input})
  file.header(['tenant_id', 'name', 'type'])
  for (const [index, raw] of rows.entries()) await file.write({column: 'name', line: index + 2, raw, reason: 'name: is wrong'})
  await file.close()
}

async function usageMessage(work: Promise<unknown>): Promise<string> {
  const error = (await work.then(() => undefined, (error_: unknown) => error_)) as {kind?: string; message?: string} | undefined
  expect(error?.kind).toBe('usage')
  return error?.message ?? ''
}

describe('the reject file', () => {
  it('replaces a symlink at its path instead of writing through it', async () => {
    const dir = directory()
    const victim = join(dir, 'victim.txt')
    writeFileSync(victim, 'precious\n')
    const path = join(dir, 'rejects.csv')
    symlinkSync(victim, path)
    await writeRejects(path, [['a b', 'A', 'shopify']])
    expect(readFileSync(victim, 'utf8')).toBe('precious\n')
    expect(lstatSync(path).isSymbolicLink()).toBe(false)
    expect(readFileSync(path, 'utf8')).toBe('tenant_id,name,type,error\na b,A,shopify,line 2: name: is wrong\n')
    expect(readdirSync(dir).sort()).toEqual(['rejects.csv', 'victim.txt'])
  })

  it('refuses the file being imported, by any path to it, and leaves it as it was', async () => {
    const dir = directory()
    const input = join(dir, 'tenants.csv')
    writeFileSync(input, 'tenant_id,name,type\na,A,shopify\n')
    const identity = statSync(input)
    linkSync(input, join(dir, 'hard-link.csv'))
    symlinkSync(input, join(dir, 'soft-link.csv'))
    for (const path of [input, join(dir, 'hard-link.csv'), join(dir, 'soft-link.csv'), `${dir}/./tenants.csv`]) {
      expect(await usageMessage(RejectFile.open(path, {input: identity}))).toBe(`--reject-file: ${path} is the file being imported; writing the rejected rows there would destroy it. Give another path.`)
    }

    expect(readFileSync(input, 'utf8')).toBe('tenant_id,name,type\na,A,shopify\n')
    expect(readdirSync(dir).sort()).toEqual(['hard-link.csv', 'soft-link.csv', 'tenants.csv'])
  })

  it('refuses a directory, a device or a symlink to one, and a directory it cannot write, before anything is imported', async () => {
    const dir = directory()
    mkdirSync(join(dir, 'sub'))
    symlinkSync('/dev/null', join(dir, 'null-link'))
    expect(await usageMessage(RejectFile.open(join(dir, 'sub')))).toContain('is a directory')
    expect(await usageMessage(RejectFile.open('/dev/null'))).toContain('is not a regular file')
    expect(await usageMessage(RejectFile.open(join(dir, 'null-link')))).toContain('is not a regular file')
    expect(await usageMessage(RejectFile.open(join(dir, 'missing', 'rejects.csv')))).toBe(`--reject-file: ${join(dir, 'missing', 'rejects.csv')} cannot be written (ENOENT).`)
  })

  it('keeps the permissions of a file it replaces', async () => {
    const dir = directory()
    const path = join(dir, 'rejects.csv')
    writeFileSync(path, 'old\n')
    chmodSync(path, 0o600)
    await writeRejects(path, [])
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8')).toBe('tenant_id,name,type,error\n')
  })

  it('writes hostile fields so that a spreadsheet runs none and the import reads them back as it read them first', async () => {
    const dir = directory()
    const cell = fc.oneof(fc.constantFrom('=1+1', "'=x", "''@y", '-5', '-', '+', '@SUM(1)', '\t=1', 'ok', '"', ',', '\n'), fc.string({maxLength: 6}))
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell, cell), {maxLength: 4, minLength: 1}), async (rows) => {
        const path = join(dir, `rejects-${run++}.csv`)
        const raw = rows.map((row) => [...row])
        await writeRejects(path, raw)
        const csv = await openTenantCsv(Readable.from([readFileSync(path)]))
        const read = []
        for await (const batch of csv.rows) read.push(...batch)
        expect(read.map((row) => [row.values.tenant_id, row.values.name, row.values.type])).toEqual(raw.map((row) => row.map((field) => restoreFormula(field))))
        for (const row of read) for (const field of row.raw) expect(/^[=+@\t\r]/.test(field) || /^-(?!\d+(?:\.\d+)?$)/.test(field), field).toBe(false)
      }),
      {numRuns: 60},
    )
  })
})

import {Args, Flags, Parser} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {describeUsageError, type UsageContext} from '../../src/cli/usage-error.js'
import {describeCsvFailure} from '../../src/services/import/csv-failure.js'
import {CsvRecordError} from '../../src/services/import/csv-records.js'

/** A command shaped like `credentials set`: one argument, a service, secret sources, an expiry. */
const flags = {
  'expires-in': Flags.string({exclusive: ['expires-at'], helpValue: '<duration>'}),
  'expires-at': Flags.string({exclusive: ['expires-in'], helpValue: '<date>'}),
  'from-env': Flags.string({exclusive: ['value-stdin'], helpValue: '<NAME>'}),
  json: Flags.boolean({exclusive: ['csv']}),
  csv: Flags.boolean({exclusive: ['json']}),
  service: Flags.string({options: ['shopify', 'google', 'gmc'], required: true}),
  'value-stdin': Flags.boolean({exclusive: ['from-env']}),
  workspace: Flags.string({char: 'w'}),
}
const args = {'tenant-id': Args.string({description: "The tenant's id in its workspace.", required: true})}
const command: UsageContext = {args, bin: 'synthex', flags, id: 'credentials set'}

/** The error oclif's own parser throws for `argv`, as the command would see it. */
async function refused(argv: string[], input: {args?: Parser.ArgInput} = {}): Promise<Error> {
  const error = await Parser.parse(argv, {args: input.args ?? (args as unknown as Parser.ArgInput), flags, strict: true}).then(
    () => undefined,
    (error_: unknown) => error_ as Error,
  )
  if (!error) throw new Error(`${argv.join(' ')} was accepted`)
  return error
}

async function said(argv: string[], context: UsageContext = command) {
  return describeUsageError(await refused(argv, {args: context.args as unknown as Parser.ArgInput}), context)
}

describe('usage errors in synthex\'s words', () => {
  it('names an unknown flag with the closest real one, --json included, and never the value after =', async () => {
    expect((await said(['acme', '--service', 'shopify', '--valu-stdin']))?.message).toBe('Unknown flag --valu-stdin, did you mean --value-stdin?')
    expect((await said(['acme', '--service', 'shopify', '--jsn']))?.message).toBe('Unknown flag --jsn, did you mean --json?')
    const withValue = await said(['acme', '--service', 'shopify', '--token=shpat_secret'])
    expect(withValue?.message).toBe('Unknown flag --token.')
    expect(JSON.stringify(withValue)).not.toContain('shpat_secret')
    expect(withValue?.hint).toBe('Run `synthex credentials set --help` for its arguments, flags and examples.')
    // A "flag" that does not look like one may be a token typed after a stray `--`.
    const token = await said(['acme', '--service', 'shopify', '--shpat_0011223344aabbcc', '--jsn'])
    expect(token?.message).toBe('Unknown flag --jsn, did you mean --json? An unknown flag, not repeated here in case it is a secret.')
    expect(JSON.stringify(token)).not.toContain('shpat')
  })

  it('says which values a flag with options accepts, without repeating the one typed', async () => {
    const shown = await said(['acme', '--service', 'shopfy'])
    expect(shown?.message).toBe('--service must be one of shopify, google, gmc.')
    expect(shown?.details).toEqual({allowed: ['shopify', 'google', 'gmc'], flag: '--service'})
    expect((await said(['acme', '--service']))?.message).toBe('--service needs a value: one of shopify, google, gmc.')
    expect((await said(['acme', '--service', 'gmc', '--expires-in']))?.message).toBe('--expires-in needs a value (<duration>).')
  })

  it('names a missing argument by its usage name and what it is, and a missing required flag with its values', async () => {
    const missing = await said(['--service', 'shopify'])
    expect(missing?.message).toBe("Missing TENANT-ID: the tenant's id in its workspace.")
    expect(missing?.hint).toContain('Usage: synthex credentials set TENANT-ID.')
    expect((await said(['acme']))?.message).toBe('--service is required: one of shopify, google, gmc.')
  })

  it('counts stray arguments but never repeats them (one may be a secret pasted in the wrong place)', async () => {
    const one = await said(['acme', 'shpat_0011223344', '--service', 'shopify'])
    expect(one?.message).toBe('An unexpected argument (not repeated here, in case it is a secret): `synthex credentials set` takes TENANT-ID.')
    const two = await said(['acme', 'shpat_0011223344', 'more', '--service', 'shopify'])
    expect(two?.message).toMatch(/^2 unexpected arguments/)
    const none = await describeUsageError(await refused(['x'], {args: {}}), {...command, args: {}, id: 'metrics'})
    expect(none?.message).toContain('`synthex metrics` takes no arguments.')
    for (const shown of [one, two, none]) expect(JSON.stringify(shown)).not.toMatch(/shpat|more|"x"/)
  })

  it('says which flags exclude each other, by name only, once per pair, and ignores defaults', async () => {
    const shown = await said(['acme', '--service', 'shopify', '--value-stdin', '--from-env', 'MY_SECRET_TOKEN_VAR'])
    expect(shown?.message).toBe('--from-env and --value-stdin cannot be used together: give one of them.')
    expect(JSON.stringify(shown)).not.toContain('MY_SECRET_TOKEN_VAR')
    expect((await said(['acme', '--service', 'shopify', '--json', '--csv']))?.message).toBe('--csv and --json cannot be used together: give one of them.')
  })

  it('says a flag given twice', async () => {
    expect((await said(['acme', '--service', 'shopify', '--from-env', 'A', '--from-env', 'B']))?.message).toBe('--from-env is given more than once: give it once.')
  })

  it('leaves errors it does not know to the caller', () => {
    expect(describeUsageError(new Error('something else'), command)).toBeUndefined()
    expect(describeUsageError('not an error', command)).toBeUndefined()
  })
})

describe('CSV reading failures in words', () => {
  it('names the line the unclosed quote\'s record starts on', () => {
    expect(describeCsvFailure(new CsvRecordError('CSV_QUOTE_NOT_CLOSED', 4), 65_536)).toMatchObject({
      hint: expect.stringContaining('a quote inside it is doubled'),
      line: 4,
      message: 'Line 4: a quote opened on this line is never closed (the file ends inside it). Nothing from line 4 on was read.',
    })
  })

  it('says a record is over the limit, with the limit', () => {
    const shown = describeCsvFailure(new CsvRecordError('CSV_MAX_RECORD_SIZE', 9), 65_536)
    expect(shown.message).toMatch(/^Line 9: a record is longer than 65,536 characters/)
    expect(shown.hint).toContain('65,536 characters')
  })
})

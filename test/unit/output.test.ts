import {describe, expect, it} from 'vitest'

import {toErrorReport} from '../../src/cli/error-report.js'
import {type Column, Output} from '../../src/cli/output.js'
import {closest} from '../../src/cli/suggest.js'
import {DatabaseLockedError} from '../../src/db/database-errors.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../src/services/errors.js'

/** The escape that starts every colour sequence. */
const ESC = String.fromCharCode(27)

function capture(options: {color?: boolean; json?: boolean} = {}) {
  const out = {stderr: '', stdout: ''}
  const output = new Output(
    {json: options.json ?? false, stderrColor: options.color ?? false, stdoutColor: options.color ?? false},
    {write: (chunk: string) => (out.stdout += chunk)},
    {write: (chunk: string) => (out.stderr += chunk)},
  )
  return {out, output}
}

interface Row {
  readonly at: Date | null
  readonly name: string
  readonly n: number
}

const columns: Column<Row>[] = [
  {header: 'Name', key: 'name', value: (row) => row.name},
  {header: 'Count', key: 'n', value: (row) => row.n},
  {header: 'At', key: 'at', value: (row) => row.at},
]
const rows: Row[] = [
  {at: new Date('2026-01-02T03:04:05.678Z'), n: 1, name: 'Acme, "EU"'},
  {at: null, n: 22, name: 'Zürich\nshop'},
]

describe('output', () => {
  it('aligns tables, keeps rows on one line and prints times to the second', () => {
    const {out, output} = capture()
    output.table(rows, columns)
    expect(out.stdout).toBe(
      ['NAME         COUNT  AT', 'Acme, "EU"   1      2026-01-02T03:04:05Z', 'Zürich shop  22'].join('\n') + '\n',
    )
  })

  it('writes CSV with snake_case headers, quoting and full timestamps', () => {
    const {out, output} = capture()
    output.csv(rows, columns)
    expect(out.stdout).toBe('name,n,at\n"Acme, ""EU""",1,2026-01-02T03:04:05.678Z\n"Zürich\nshop",22,\n')
  })

  it('never writes ANSI escapes when colour is off, and does when it is on', () => {
    const plain = capture()
    plain.output.table(rows, columns)
    plain.output.error('boom', {hint: 'try again'})
    plain.output.success('done')
    expect(plain.out.stdout + plain.out.stderr).not.toContain(ESC)

    const coloured = capture({color: true})
    coloured.output.error('boom')
    expect(coloured.out.stderr).toContain(`${ESC}[`)
  })

  it('says an empty list on stderr, leaving stdout empty for scripts', () => {
    const {out, output} = capture()
    output.list([], columns, {empty: 'No rows.'})
    expect(out).toEqual({stderr: 'No rows.\n', stdout: ''})
  })

  it('keeps notices off stderr under --json', () => {
    const {out, output} = capture({json: true})
    output.success('done')
    output.info('note')
    expect(out.stderr).toBe('')
  })
})

describe('error reports', () => {
  it('maps each kind of failure to its CONTRACT exit code', () => {
    expect(toErrorReport(new NotFoundError('gone'))).toMatchObject({code: 'NOT_FOUND', exitCode: 1})
    expect(toErrorReport(new ConflictError('taken'))).toMatchObject({code: 'CONFLICT', exitCode: 1})
    expect(toErrorReport(new InvalidInputError([{field: 'name', message: 'is required'}]))).toMatchObject({code: 'INVALID_INPUT', exitCode: 2})
    expect(toErrorReport(new DatabaseLockedError('busy', {}, 'wait'))).toMatchObject({code: 'DATABASE_LOCKED', exitCode: 1, hint: 'wait'})
    expect(toErrorReport(Object.assign(new Error('Nonexistent flag: --x\nSee more help with --help'), {oclif: {exit: 2}, parse: {}}))).toEqual({
      code: 'USAGE',
      exitCode: 2,
      hint: 'Run the command with --help to see its arguments, flags and examples.',
      message: 'Nonexistent flag: --x',
    })
    expect(toErrorReport(Object.assign(new Error('deadlock detected'), {code: '40P01'}))).toMatchObject({code: 'DATABASE_ERROR', exitCode: 1})
    expect(toErrorReport(new TypeError('x is undefined'))).toMatchObject({code: 'INTERNAL_ERROR', exitCode: 1})
  })
})

describe('suggestions', () => {
  it('suggests the closest command for a typo, and nothing for gibberish', () => {
    const ids = ['tenant:tenants:list', 'tenant:tenants:create', 'tenant:workspaces:list', 'db:migrate']
    expect(closest('tenant:tenats:list', ids)).toBe('tenant:tenants:list')
    expect(closest('db:migrat', ids)).toBe('db:migrate')
    expect(closest('xyzzy', ids)).toBeUndefined()
  })
})

import {describe, expect, it} from 'vitest'

import {toErrorReport} from '../../src/cli/error-report.js'
import {type Column, Output} from '../../src/cli/output.js'
import {closest} from '../../src/cli/suggest.js'
import {DatabaseLockedError} from '../../src/db/database-errors.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../src/errors/input-errors.js'

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

/** What a terminal would obey: C0 but newline and tab, DEL, C1, bidi overrides and isolates, line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const OBEYED = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/

/** The name issue 11 used: clears the screen, turns text red, sets the window title. */
const EVIL = `Evil${ESC}[2J${ESC}[31mRED${ESC}]0;pwned-title\u0007`

describe('hostile text', () => {
  interface Named {
    readonly name: string
  }

  const named: Column<Named>[] = [{header: 'Name', key: 'name', value: (row) => row.name}]

  it('shows control characters escaped in tables, records and messages, so the terminal obeys none of them', () => {
    const {out, output} = capture()
    const name = `${EVIL} \u009B2J \u202Eevil\u202C \u2066x\u2069 a\rb\u0008`
    output.table([{name}, {name: 'Plain'}], named)
    output.record([['Name', name]])
    output.info(`Imported ${name}`)
    output.success(`Created ${name}`)
    output.warn(`About ${name}`)
    output.error(`No tenant ${name}`, {hint: `Try ${name}`, items: [name], stack: name})
    expect(out.stdout + out.stderr).not.toMatch(OBEYED)
    expect(out.stdout).toContain('Evil\\x1b[2J\\x1b[31mRED\\x1b]0;pwned-title\\x07 \\x9b2J \\u202eevil\\u202c \\u2066x\\u2069 a b\\x08')
    // A table row stays one line, and the columns stay aligned on what is shown.
    expect(out.stdout.split('\n')[2]).toBe('Plain')
    expect(out.stderr).toContain('Error: No tenant Evil\\x1b[2J')
  })

  it('keeps the newlines and tabs of messages, and turns a newline in a cell into a space', () => {
    const {out, output} = capture()
    output.info('line one\n\tline two')
    output.table([{name: 'a\nb\tc'}], named)
    expect(out.stderr).toBe('line one\n\tline two\n')
    expect(out.stdout).toBe('NAME\na b c\n')
  })

  it('keeps JSON exact: the same value parses back, with what a terminal would obey as \\u escapes', () => {
    const {out, output} = capture({json: true})
    const value = {name: `${EVIL}\u007F\u0085\u009B\u202E\u2028 ok`}
    output.json(value)
    expect(out.stdout).not.toMatch(OBEYED)
    expect(out.stdout).toContain('\\u009b')
    expect(JSON.parse(out.stdout)).toEqual(value)
  })

  it('turns CSV cells a spreadsheet would run into text, and leaves numbers, negative numbers and JSON alone', () => {
    const {out, output} = capture()
    const rows = ['=HYPERLINK("https://evil.example","Click")', '@SUM(A1:A9)', "+cmd|'/C calc'!A0", '-2+3', '\t=1', '\r=1', "'=already", '-12.5', '-', 'Plain']
    output.csv(
      rows.map((name, index) => ({at: null, n: -index, name})),
      columns,
    )
    expect(out.stdout.trimEnd().split('\n').slice(1)).toEqual([
      `"'=HYPERLINK(""https://evil.example"",""Click"")",0,`,
      "'@SUM(A1:A9),-1,",
      "'+cmd|'/C calc'!A0,-2,",
      "'-2+3,-3,",
      "'\t=1,-4,",
      '"\'\r=1",-5,',
      "''=already,-6,",
      '-12.5,-7,',
      "'-,-8,",
      'Plain,-9,',
    ])
  })

  it('writes CSV exactly to a file or pipe, and escaped when stdout is a terminal', () => {
    const piped = capture()
    piped.output.csv([{name: EVIL}], named)
    expect(piped.out.stdout).toBe(`name\n${EVIL}\n`)

    const out = {stderr: '', stdout: ''}
    const terminal = new Output({json: false, stderrColor: false, stdoutColor: false, stdoutTerminal: true}, {write: (chunk: string) => (out.stdout += chunk)}, {write: () => true})
    terminal.csv([{name: EVIL}], named)
    expect(out.stdout).not.toMatch(OBEYED)
  })

  it('paints a styled column after escaping, so synthex\'s own colour survives and a cell\'s does not', () => {
    const {out, output} = capture({color: true})
    output.table([{name: 'ok'}, {name: `${ESC}[31mred`}], [{header: 'Name', key: 'name', style: () => 'green', value: (row) => row.name}])
    const lines = out.stdout.split('\n')
    expect(lines[1]).toBe(`${ESC}[32mok${ESC}[39m`)
    expect(lines[2]).toBe(`${ESC}[32m\\x1b[31mred${ESC}[39m`)
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

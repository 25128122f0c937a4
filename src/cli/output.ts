import {stringify} from 'csv-stringify/sync'
import {styleText} from 'node:util'

/** A column of a table or CSV export. */
export interface Column<T> {
  /** Header of the table column. */
  readonly header: string
  /** CSV header: the snake_case field name, so an export can be fed back to an import. */
  readonly key: string
  readonly value: (row: T) => unknown
}

export interface OutputOptions {
  /** `--json`: stdout carries exactly one JSON document, written by the command base. */
  readonly json: boolean
  /** Colour on stderr (a TTY, and colour allowed by the environment). */
  readonly stderrColor: boolean
  /** Colour on stdout (a TTY, and colour allowed by the environment). */
  readonly stdoutColor: boolean
}

export interface Writable {
  write(chunk: string): unknown
}

type Style = Parameters<typeof styleText>[0]

/**
 * Everything a command shows goes through here: results (tables, records, CSV) to stdout,
 * everything about the run (notices, warnings, errors) to stderr. Colour only where the
 * stream is a terminal and the user has not opted out.
 */
export class Output {
  constructor(
    readonly options: OutputOptions,
    private readonly stdout: Writable = process.stdout,
    private readonly stderr: Writable = process.stderr,
  ) {}

  /** Results as CSV (header row included), for spreadsheets and re-import. */
  csv<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    const records = rows.map((row) => columns.map((column) => formatCell(column.value(row), 'csv')))
    this.stdout.write(stringify([columns.map((column) => column.key), ...records]))
  }

  /** An error for people; `--json` errors are written by the command base instead. */
  error(message: string, options: {hint?: string; items?: readonly string[]; stack?: string} = {}): void {
    const {hint, items = [], stack} = options
    this.stderr.write(`${this.paint('stderr', ['red', 'bold'], 'Error:')} ${message}\n`)
    for (const item of items) this.stderr.write(`  - ${item}\n`)
    if (hint) this.stderr.write(`${this.paint('stderr', 'dim', 'Hint:')} ${hint}\n`)
    if (stack) this.stderr.write(`${this.paint('stderr', 'dim', stack)}\n`)
  }

  /** A notice about the run (not its result) on stderr; silent under `--json`, where the result says it all. */
  info(message: string): void {
    if (!this.options.json) this.stderr.write(`${message}\n`)
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** A list result: a table, or CSV with `--csv`; `empty` goes to stderr when there are no rows. */
  list<T>(rows: readonly T[], columns: readonly Column<T>[], options: {csv?: boolean; empty: string}): void {
    if (options.csv) {
      this.csv(rows, columns)
      return
    }

    if (rows.length === 0) {
      this.info(options.empty)
      return
    }

    this.table(rows, columns)
  }

  paint(stream: 'stderr' | 'stdout', style: Style, text: string): string {
    const enabled = stream === 'stdout' ? this.options.stdoutColor : this.options.stderrColor
    return enabled ? styleText(style, text) : text
  }

  /** One item as aligned `Label  value` lines. */
  record(pairs: ReadonlyArray<readonly [string, unknown]>): void {
    const width = Math.max(...pairs.map(([label]) => label.length))
    for (const [label, value] of pairs) {
      this.stdout.write(`${this.paint('stdout', 'bold', label.padEnd(width))}  ${formatCell(value, 'table') || '-'}\n`)
    }
  }

  /** A confirmation that something was done, on stderr so stdout keeps only results. */
  success(message: string): void {
    if (!this.options.json) this.stderr.write(`${this.paint('stderr', 'green', '✓')} ${message}\n`)
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    const cells = rows.map((row) => columns.map((column) => formatCell(column.value(row), 'table')))
    const headers = columns.map((column) => column.header.toUpperCase())
    const widths = headers.map((header, index) => Math.max(displayWidth(header), ...cells.map((row) => displayWidth(row[index] ?? ''))))
    const line = (values: readonly string[]): string =>
      values
        .map((value, index) => (index === values.length - 1 ? value : value + ' '.repeat((widths[index] ?? 0) - displayWidth(value))))
        .join('  ')
        .trimEnd()
    this.stdout.write(`${this.paint('stdout', 'bold', line(headers))}\n`)
    for (const row of cells) this.stdout.write(`${line(row)}\n`)
  }

  warn(message: string): void {
    this.stderr.write(`${this.paint('stderr', 'yellow', 'Warning:')} ${message}\n`)
  }
}

/** Cell text: empty for nothing, ISO-8601 for times (to the second in tables). */
export function formatCell(value: unknown, target: 'csv' | 'table'): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return target === 'table' ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : value.toISOString()
  if (typeof value === 'object') return JSON.stringify(value)
  const text = String(value)
  // A table row must stay one line whatever a name contains.
  return target === 'table' ? text.replaceAll(/[\r\n\t]+/g, ' ') : text
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[\d;]*m/g

function displayWidth(text: string): number {
  return [...text.replaceAll(ANSI, '')].length
}

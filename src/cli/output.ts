import {stringify} from 'csv-stringify/sync'
import {styleText} from 'node:util'

import {neutraliseFormula} from '../text/spreadsheet-formula.js'
import {terminalLine, terminalSafeJson, terminalText} from '../text/terminal-text.js'

/** A column of a table or CSV export. */
export interface Column<T> {
  /** Header of the table column. */
  readonly header: string
  /**
   * CSV header: the snake_case field name, so an export can be fed back to an import and
   * every export reads alike (issue 13). Lower case is checked by the type; `_` separates words.
   */
  readonly key: Lowercase<string>
  /** A colour for the cell in a table; the text is made safe first, then painted. */
  readonly style?: (row: T) => Style | undefined
  readonly value: (row: T) => unknown
}

export interface OutputOptions {
  /** `--json`: stdout carries exactly one JSON document, written by the command base. */
  readonly json: boolean
  /** Colour on stderr (a TTY, and colour allowed by the environment). */
  readonly stderrColor: boolean
  /** Colour on stdout (a TTY, and colour allowed by the environment). */
  readonly stdoutColor: boolean
  /** stdout is a terminal: CSV shown there has its control characters escaped like a table's. */
  readonly stdoutTerminal?: boolean
}

export interface Writable {
  write(chunk: string): unknown
}

type Style = Parameters<typeof styleText>[0]

/**
 * Everything a command shows goes through here: results (tables, records, CSV) to stdout,
 * everything about the run (notices, warnings, errors) to stderr. Colour only where the
 * stream is a terminal and the user has not opted out.
 *
 * Whatever a command passes in may hold text from outside (a tenant name, an actor, a
 * provider's answer), so every string is made harmless where it lands, here, rather than
 * by each command: tables, records and messages show control characters escaped
 * (src/text/terminal-text.ts); CSV cells that a spreadsheet would run are turned into text
 * (src/text/spreadsheet-formula.ts); JSON stays exact, with the characters a terminal would
 * obey written as `\uXXXX` escapes.
 */
export class Output {
  #muted = false

  constructor(
    readonly options: OutputOptions,
    private readonly stdout: Writable = process.stdout,
    private readonly stderr: Writable = process.stderr,
  ) {}

  /** Results as CSV (header row included), for spreadsheets and re-import. */
  csv<T>(rows: readonly T[], columns: readonly Column<T>[], options: {header?: boolean} = {}): void {
    const shown = this.options.stdoutTerminal ? terminalText : (text: string) => text
    const records = rows.map((row) => columns.map((column) => shown(csvCell(column.value(row)))))
    this.stdout.write(stringify(options.header === false ? records : [columns.map((column) => column.key), ...records]))
  }

  /** Resolves once stdout has taken what was written, so a long export holds one page in memory, not all of them. */
  async drained(): Promise<void> {
    const stream = this.stdout as Partial<NodeJS.WriteStream>
    if (stream.writableNeedDrain && stream.once) await new Promise<void>((resolve) => stream.once?.('drain', () => resolve()))
  }

  /** An error for people; `--json` errors are written by the command base instead. */
  error(message: string, options: {hint?: string; items?: readonly string[]; stack?: string} = {}): void {
    const {hint, items = [], stack} = options
    this.stderr.write(`${this.paint('stderr', ['red', 'bold'], 'Error:')} ${terminalText(message)}\n`)
    for (const item of items) this.stderr.write(`  - ${terminalText(item)}\n`)
    if (hint) this.stderr.write(`${this.paint('stderr', 'dim', 'Hint:')} ${terminalText(hint)}\n`)
    if (stack) this.stderr.write(`${this.paint('stderr', 'dim', terminalText(stack))}\n`)
  }

  /** A notice about the run (not its result) on stderr; silent under `--json`, where the result says it all. */
  info(message: string): void {
    if (!this.options.json && !this.#muted) this.stderr.write(`${terminalText(message)}\n`)
  }

  /** After an interruption has been reported: notices, confirmations and warnings the unfinished work still sends are dropped. */
  mute(): void {
    this.#muted = true
  }

  json(value: unknown): void {
    this.stdout.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`)
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
    // Whether to colour is decided above, per stream; styleText would otherwise look at process.stdout only.
    return enabled ? styleText(style, text, {validateStream: false}) : text
  }

  /** One item as aligned `Label  value` lines. */
  record(pairs: ReadonlyArray<readonly [string, unknown]>): void {
    const labels = pairs.map(([label]) => terminalLine(label))
    const width = Math.max(...labels.map((label) => displayWidth(label)))
    for (const [index, [, value]] of pairs.entries()) {
      const label = labels[index] ?? ''
      this.stdout.write(`${this.paint('stdout', 'bold', label + ' '.repeat(width - displayWidth(label)))}  ${formatCell(value, 'table') || '-'}\n`)
    }
  }

  /** A confirmation that something was done, on stderr so stdout keeps only results. */
  success(message: string): void {
    if (!this.options.json && !this.#muted) this.stderr.write(`${this.paint('stderr', 'green', '✓')} ${terminalText(message)}\n`)
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    const cells = rows.map((row) => columns.map((column) => formatCell(column.value(row), 'table')))
    const headers = columns.map((column) => terminalLine(column.header.toUpperCase()))
    const widths = headers.map((header, index) => Math.max(displayWidth(header), ...cells.map((row) => displayWidth(row[index] ?? ''))))
    // Padding is measured on the plain text; colour is added to the padded cell.
    const line = (values: readonly string[], styles: ReadonlyArray<Style | undefined> = []): string =>
      values
        .map((value, index) => {
          const padded = index === values.length - 1 ? value : value + ' '.repeat((widths[index] ?? 0) - displayWidth(value))
          const style = styles[index]
          return style && value !== '' ? this.paint('stdout', style, value) + padded.slice(value.length) : padded
        })
        .join('  ')
        .trimEnd()
    this.stdout.write(`${this.paint('stdout', 'bold', line(headers))}\n`)
    for (const [index, row] of cells.entries()) {
      const source = rows[index] as T
      this.stdout.write(`${line(row, columns.map((column) => column.style?.(source)))}\n`)
    }
  }

  warn(message: string): void {
    if (this.#muted) return
    this.stderr.write(`${this.paint('stderr', 'yellow', 'Warning:')} ${terminalText(message)}\n`)
  }
}

/**
 * Cell text: empty for nothing, ISO-8601 for times (to the second in tables). A table cell
 * stays on one line whatever a name contains, and shows control characters escaped.
 */
export function formatCell(value: unknown, target: 'csv' | 'table'): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return target === 'table' ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : value.toISOString()
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return target === 'table' ? terminalLine(text) : text
}

/** A CSV cell: text a spreadsheet would run as a formula is quoted; numbers, times and JSON cannot be formulas. */
function csvCell(value: unknown): string {
  const text = formatCell(value, 'csv')
  return typeof value === 'string' ? neutraliseFormula(text) : text
}

function displayWidth(text: string): number {
  return [...text].length
}

import {pipeline, type Readable} from 'node:stream'

import {type Options, parse} from 'csv-parse'

import {SynthexError} from '../../errors/synthex-error.js'
import {describeCsvFailure} from './csv-failure.js'
import {restoreFormula} from '../../text/spreadsheet-formula.js'
import {TENANT_FIELDS} from '../../domain/tenant-fields.js'
import {Utf8Guard} from '../../text/utf8-guard.js'

/**
 * Reading the CSV format of `batch tenants create` (README, "Bulk provisioning from CSV"): a header row naming the
 * columns in any order, snake_case or camelCase; UTF-8 with or without BOM; CRLF or LF;
 * quoted fields with commas, quotes and newlines; blank lines ignored. A value that starts
 * with a single quote before a formula character (`'=...`, `'+...`) is read without that
 * quote: it is how synthex's own CSV marks such text (src/text/spreadsheet-formula.ts), so
 * `tenant tenants list --csv` fed back gives the same values.
 */

/** The columns a file may have. `error` is ignored, so that a reject file can be fed back as it is. */
export const CSV_COLUMNS = [...TENANT_FIELDS, 'workspace'] as const
export type CsvColumn = (typeof CSV_COLUMNS)[number]
const IGNORED_COLUMNS = new Set(['error'])

/** What a kind of CSV file holds: its columns, those it must have, and how to say so. */
export interface CsvSpec<C extends string> {
  readonly columns: readonly C[]
  /** The hint of a header that is not usable. */
  readonly hint: string
  readonly required: readonly C[]
}

export interface CsvOptions {
  /** Columns the spec does not know are skipped (and listed in `ignored`) instead of refusing the header. */
  readonly ignoreUnknownColumns?: boolean
  /** The file holds secrets: a parse error does not repeat the parser's text, which may quote a field. */
  readonly quiet?: boolean
}

export const TENANT_CSV: CsvSpec<CsvColumn> = {
  columns: CSV_COLUMNS,
  hint: `Columns are ${CSV_COLUMNS.join(', ')} (snake_case or camelCase); tenant_id, name and type are required. Add --ignore-unknown-columns to skip other columns (notes, owner...).`,
  required: ['tenant_id', 'name', 'type'],
}

/** A record can hold a few fields of up to 64 KiB; anything longer is a runaway quote. */
export const MAX_RECORD_BYTES = 64 * 1024

/** A problem with the file itself (not a row): nothing after it can be read. */
export class CsvFormatError extends SynthexError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super(message, {code: 'CSV_INVALID', details, hint, kind: 'usage'})
  }
}

export interface CsvRow<C extends string = CsvColumn> {
  readonly line: number
  /** A reason the row cannot be used whatever its values (ragged, not UTF-8). */
  readonly problem?: {readonly column: string | null; readonly reason: string}
  /** The fields exactly as in the file, for the reject file (which writes them as synthex writes any CSV). */
  readonly raw: readonly string[]
  readonly values: Partial<Record<C, string>>
}

export interface Csv<C extends string> {
  /** The column names as written in the file's header. */
  readonly header: readonly string[]
  /** Known columns present in the header (normalised names). */
  readonly columns: ReadonlySet<C>
  /** Unknown columns skipped under --ignore-unknown-columns, as written. */
  readonly ignored: readonly string[]
  /** The data rows, in batches (one per parser read) so the caller is not paying a promise per row. */
  readonly rows: AsyncIterable<Array<CsvRow<C>>>
}

export type TenantCsv = Csv<CsvColumn>

/** `tenantId`, `Tenant ID`, `tenant-id` -> `tenant_id`. */
export function normaliseColumnName(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .trim()
    .replaceAll(/([a-z\d])([A-Z])/g, '$1_$2')
    .replaceAll(/[\s-]+/g, '_')
    .toLowerCase()
}

const ENCODING_HINT =
  'It looks like Windows-1252 (what Excel saves as "CSV"): save it as "CSV UTF-8", or convert it with `iconv -f WINDOWS-1252 -t UTF-8`.'

/** Opens a tenant CSV: reads and checks its header, then streams its rows. */
export async function openTenantCsv(input: Readable, options: CsvOptions = {}): Promise<TenantCsv> {
  return openCsv(input, TENANT_CSV, options)
}

/** Opens a CSV of the kind `spec` describes: reads and checks its header, then streams its rows. */
export async function openCsv<C extends string>(input: Readable, spec: CsvSpec<C>, options: CsvOptions = {}): Promise<Csv<C>> {
  const guard = new Utf8Guard()
  const parsing: Options = {bom: true, max_record_size: MAX_RECORD_BYTES, relax_column_count: true, relax_quotes: true}
  // A deep object buffer lets parsing run ahead while the previous chunk is being written.
  const parser = parse({...parsing, readableHighWaterMark: 4096} as Options)
  pipeline(input, guard, parser, () => {
    // Errors surface through the parser's reads below.
  })

  const batches = readBatches<string[]>(parser)
  const tracker = {nextLine: 1, records: 0}
  const first = await nextRecord(batches, tracker)
  if (!first) throw new CsvFormatError('The file is empty: a header row naming the columns is required (line 1).', `Columns: ${spec.columns.join(', ')}.`)
  const header = first.record
  const {ignored, positions} = checkHeader(header, spec, options)
  const columns = new Set(positions.filter((column): column is C => column !== null))

  async function* rows(): AsyncGenerator<Array<CsvRow<C>>> {
    if (first?.rest.length) yield toRows(first.rest, tracker, header.length, positions, guard)
    for (;;) {
      const batch = await readBatch(batches, tracker)
      if (!batch) return
      yield toRows(batch, tracker, header.length, positions, guard)
    }
  }

  return {columns, header, ignored, rows: rows()}
}

function checkHeader<C extends string>(header: readonly string[], spec: CsvSpec<C>, options: CsvOptions): {ignored: string[]; positions: Array<C | null>} {
  const problems: string[] = []
  const unknown: string[] = []
  const ignored: string[] = []
  const seen = new Map<string, number>()
  const positions = header.map((name, index) => {
    const column = normaliseColumnName(name)
    if (column === '') {
      problems.push(`column ${index + 1} of the header has no name`)
      return null
    }

    const earlier = seen.get(column)
    if (earlier !== undefined) problems.push(`column ${options.quiet ? '' : `"${column}" `}appears twice (columns ${earlier + 1} and ${index + 1})`)
    seen.set(column, index)
    if (IGNORED_COLUMNS.has(column)) return null
    if (!(spec.columns as readonly string[]).includes(column)) {
      if (options.ignoreUnknownColumns) ignored.push(name.trim())
      else unknown.push(options.quiet ? `column ${index + 1}` : name.trim())
      return null
    }

    return column as C
  })
  // A file of secrets whose first line is not a header would have a secret named here:
  // quietly, unknown columns are given by position only.
  if (unknown.length > 0 && options.quiet) problems.unshift(`unknown ${unknown.join(', ')} (names not repeated, in case the first line is not a header)`)
  else if (unknown.length > 0) problems.unshift(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}" (column ${header.findIndex((written) => written.trim() === name) + 1})`).join(', ')}`)
  const missing = spec.required.filter((column) => !seen.has(column))
  if (missing.length > 0) problems.push(`missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  if (problems.length > 0) {
    throw new CsvFormatError(`The header (line 1) is not usable: ${problems.join('; ')}.`, spec.hint, unknown.length > 0 ? {problems, unknownColumns: unknown} : {problems})
  }

  return {ignored, positions}
}

interface Tracker {
  nextLine: number
  /** Records taken so far, the header included (see describeCsvFailure). */
  records: number
}

/** Line numbers: each record spans one line plus the newlines inside its quoted fields. */
function lineOf(record: readonly string[], tracker: Tracker): number {
  const line = tracker.nextLine
  tracker.records += 1
  let spanned = 1
  for (const field of record) {
    if (field.includes('\n')) spanned += field.split('\n').length - 1
  }

  tracker.nextLine += spanned
  return line
}

function isBlank(record: readonly string[]): boolean {
  return record.every((field) => field.trim() === '')
}

async function nextRecord(batches: AsyncGenerator<string[][]>, tracker: Tracker): Promise<undefined | {record: string[]; rest: string[][]}> {
  for (;;) {
    const batch = await readBatch(batches, tracker)
    if (!batch) return undefined
    const index = batch.findIndex((record) => {
      lineOf(record, tracker)
      return !isBlank(record)
    })
    if (index !== -1) return {record: batch[index] as string[], rest: batch.slice(index + 1)}
  }
}

async function readBatch(batches: AsyncGenerator<string[][]>, tracker: Tracker): Promise<string[][] | undefined> {
  try {
    const {done, value} = await batches.next()
    return done ? undefined : value
  } catch (error) {
    throw parseFailure(error, tracker)
  }
}

function toRows<C extends string>(records: readonly string[][], tracker: Tracker, width: number, positions: ReadonlyArray<C | null>, guard: Utf8Guard): Array<CsvRow<C>> {
  const rows: Array<CsvRow<C>> = []
  for (const record of records) {
    const line = lineOf(record, tracker)
    if (isBlank(record)) continue
    if (record.length !== width) {
      rows.push({line, problem: {column: null, reason: `has ${record.length} field${record.length === 1 ? '' : 's'} but the header has ${width}`}, raw: record, values: {}})
      continue
    }

    const values: Partial<Record<C, string>> = {}
    let problem: CsvRow<C>['problem']
    for (let index = 0; index < width; index++) {
      const column = positions[index]
      if (!column) continue
      const value = record[index] as string
      if (guard.firstInvalidLine !== undefined && value.includes('\uFFFD') && problem === undefined) {
        problem = {column, reason: `is not valid UTF-8. ${ENCODING_HINT}`}
      }

      values[column] = restoreFormula(value)
    }

    rows.push(problem ? {line, problem, raw: record, values} : {line, raw: record, values})
  }

  return rows
}

function parseFailure(error: unknown, tracker: Tracker): Error {
  const failure = describeCsvFailure(error, tracker, MAX_RECORD_BYTES / 1024)
  return failure ? new CsvFormatError(failure.message, failure.hint, {line: failure.line}) : (error as Error)
}

/** Reads everything a stream has buffered at once, waiting only when it is empty. */
async function* readBatches<T>(stream: Readable): AsyncGenerator<T[]> {
  for (;;) {
    const batch: T[] = []
    let item: T | null
    while ((item = stream.read() as T | null) !== null) batch.push(item)
    if (batch.length > 0) {
      yield batch
      continue
    }

    if (stream.errored) throw stream.errored
    if (stream.readableEnded) return
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        stream.off('readable', done)
        stream.off('end', done)
        stream.off('error', failed)
        resolve()
      }

      const failed = (error: Error): void => {
        stream.off('readable', done)
        stream.off('end', done)
        reject(error)
      }

      stream.once('readable', done)
      stream.once('end', done)
      stream.once('error', failed)
    })
  }
}

import {pipeline, type Readable} from 'node:stream'
import {StringDecoder} from 'node:string_decoder'

import {SynthexError} from '../../errors/synthex-error.js'
import {describeCsvFailure} from './csv-failure.js'
import {type CsvRecord, type CsvRecordError, CsvRecordReader} from './csv-records.js'
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

/** A record can hold 64 Ki characters (a few fields of up to that); anything longer is a runaway quote. */
export const MAX_RECORD_CHARACTERS = 64 * 1024

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
  /** The record as written in a CSV file (see CsvFile.rowOf); absent for other formats, and for files of secrets (`quiet`). */
  readonly text?: string
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

/** A CSV file's rows. */
export interface CsvFile<C extends string> extends Csv<C> {
  /**
   * The row a record's text (`CsvRow.text`) reads as, so that a caller holding many rows
   * can keep one string of each rather than its fields (see tenant-import.ts's Chunk).
   */
  rowOf(text: string, line: number): CsvRow<C>
}

export type TenantCsv = CsvFile<CsvColumn>

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
export async function openCsv<C extends string>(input: Readable, spec: CsvSpec<C>, options: CsvOptions = {}): Promise<CsvFile<C>> {
  const guard = new Utf8Guard()
  pipeline(input, guard, () => {
    // Errors surface through the reads below.
  })

  const reader = new CsvRecordReader(MAX_RECORD_CHARACTERS)
  const batches = recordBatches(guard, reader)
  const first = await nextRecord(batches)
  if (!first) throw new CsvFormatError('The file is empty: a header row naming the columns is required (line 1).', `Columns: ${spec.columns.join(', ')}.`)
  const header = first.record.fields
  const {ignored, positions} = checkHeader(header, spec, options)
  const columns = new Set(positions.filter((column): column is C => column !== null))

  async function* rows(): AsyncGenerator<Array<CsvRow<C>>> {
    // A file of secrets keeps no second copy of its records.
    const keepText = !options.quiet
    if (first?.rest.length) yield toRows(first.rest, header.length, positions, guard, keepText)
    for await (const batch of batches) yield toRows(batch, header.length, positions, guard, keepText)
  }

  function rowOf(text: string, line: number): CsvRow<C> {
    const alone = new CsvRecordReader(MAX_RECORD_CHARACTERS, reader.delimiter)
    const [record] = [...alone.push(text), ...alone.end()]
    if (!record || alone.error) throw new Error(`line ${line} does not read again as it did`)
    const [row] = toRows([{...record, line}], header.length, positions, guard, true)
    if (!row) throw new Error(`line ${line} does not read again as it did`)
    return row
  }

  return {columns, header, ignored, rowOf, rows: rows()}
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

function isBlank(record: readonly string[]): boolean {
  return record.every((field) => field.trim() === '')
}

/** The first record that is not blank, and those after it in its batch. (Not `for await`: leaving it would close `batches`.) */
async function nextRecord(batches: AsyncGenerator<CsvRecord[]>): Promise<undefined | {record: CsvRecord; rest: CsvRecord[]}> {
  for (;;) {
    const {done, value: batch} = await batches.next()
    if (done) return undefined
    const index = batch.findIndex((record) => !isBlank(record.fields))
    if (index !== -1) return {record: batch[index] as CsvRecord, rest: batch.slice(index + 1)}
  }
}

/**
 * The records of a stream of bytes, a batch per chunk read. UTF-8, or UTF-16LE when the
 * file starts with its byte order mark (as csv-parse read it); a UTF-8 BOM is skipped.
 */
async function* recordBatches(bytes: AsyncIterable<Buffer>, reader: CsvRecordReader): AsyncGenerator<CsvRecord[]> {
  let decoder: StringDecoder | undefined
  let head: Buffer | undefined = Buffer.alloc(0)
  for await (const chunk of bytes) {
    let data = chunk
    if (head) {
      // The byte order mark is told from the first three bytes, however the file was cut.
      head = Buffer.concat([head, chunk])
      if (head.length < 3) continue
      ;({data, decoder} = byteOrder(head))
      head = undefined
    }

    // A few hundred records at a time: a batch's rows are alive until the caller is done
    // with them, and a garbage collection meanwhile copies the living ones.
    const text = (decoder as StringDecoder).write(data)
    for (let at = 0; at < text.length; at += BATCH_CHARACTERS) {
      const records = reader.push(at === 0 && text.length <= BATCH_CHARACTERS ? text : text.slice(at, at + BATCH_CHARACTERS))
      if (records.length > 0) yield records
      if (reader.error) throw readFailure(reader.error)
    }
  }

  const rest = head ? byteOrder(head) : {data: Buffer.alloc(0), decoder: decoder as StringDecoder}
  const records = [...reader.push(rest.decoder.write(rest.data) + rest.decoder.end()), ...reader.end()]
  if (records.length > 0) yield records
  if (reader.error) throw readFailure(reader.error)
}

const BATCH_CHARACTERS = 16 * 1024

function byteOrder(head: Buffer): {data: Buffer; decoder: StringDecoder} {
  if (head[0] === 0xff && head[1] === 0xfe) return {data: head.subarray(2), decoder: new StringDecoder('utf16le')}
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return {data: head.subarray(3), decoder: new StringDecoder('utf8')}
  return {data: head, decoder: new StringDecoder('utf8')}
}

function toRows<C extends string>(records: readonly CsvRecord[], width: number, positions: ReadonlyArray<C | null>, guard: Utf8Guard, keepText: boolean): Array<CsvRow<C>> {
  const rows: Array<CsvRow<C>> = []
  for (const {fields: record, line, text: recordText} of records) {
    const text = keepText ? recordText : undefined
    if (isBlank(record)) continue
    if (record.length !== width) {
      rows.push({line, problem: {column: null, reason: `has ${record.length} field${record.length === 1 ? '' : 's'} but the header has ${width}`}, raw: record, text, values: {}})
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

    rows.push(problem ? {line, problem, raw: record, text, values} : {line, raw: record, text, values})
  }

  return rows
}

function readFailure(error: CsvRecordError): CsvFormatError {
  const failure = describeCsvFailure(error, MAX_RECORD_CHARACTERS)
  return new CsvFormatError(failure.message, failure.hint, {line: failure.line})
}

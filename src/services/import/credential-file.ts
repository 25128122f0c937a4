import {createInterface} from 'node:readline'
import {Readable} from 'node:stream'

import {type Csv, type CsvOptions, type CsvRow, type CsvSpec, normaliseColumnName, openCsv} from './tenant-csv.js'

/**
 * Reading the file of `batch credentials set`: CSV with a header row, or JSON lines (one
 * object per line), told apart by the first character unless the caller says which. Both
 * give the same rows, so the checks and the writer do not care which it was.
 *
 * The file holds secrets: nothing read from it is ever quoted in a message. A line that is
 * not JSON is reported as such, without the parser's own text (which quotes the line).
 */

export const CREDENTIAL_COLUMNS = ['tenant_id', 'service', 'label', 'value', 'expires_at', 'expires_in'] as const
export type CredentialColumn = (typeof CREDENTIAL_COLUMNS)[number]
/** The column whose cells are secrets: blanked wherever a row is written back (reject files). */
export const SECRET_COLUMN: CredentialColumn = 'value'

export const CREDENTIAL_CSV: CsvSpec<CredentialColumn> = {
  columns: CREDENTIAL_COLUMNS,
  hint: `Columns are ${CREDENTIAL_COLUMNS.join(', ')} (snake_case or camelCase); tenant_id, service and value are required. Add --ignore-unknown-columns to skip other columns.`,
  required: ['tenant_id', 'service', 'value'],
}

export type CredentialFileFormat = 'csv' | 'jsonl'

/** Opens the file as `format`, or as what its first character says (`{`: JSON lines). */
export async function openCredentialFile(input: Readable, options: CsvOptions & {format?: CredentialFileFormat}): Promise<Csv<CredentialColumn> & {format: CredentialFileFormat}> {
  const {first, stream} = await peek(input)
  const format = options.format ?? (/^\uFEFF?\s*\{/.test(first) ? 'jsonl' : 'csv')
  if (format === 'csv') return {...(await openCsv(stream, CREDENTIAL_CSV, {...options, quiet: true})), format}
  return {columns: new Set(CREDENTIAL_COLUMNS), format, header: [...CREDENTIAL_COLUMNS], ignored: [], rows: jsonLines(stream, options)}
}

/** The first chunk of a stream, and a stream that still yields everything. */
async function peek(input: Readable): Promise<{first: string; stream: Readable}> {
  const chunks = input[Symbol.asyncIterator]()
  const head = await chunks.next()
  async function* all(): AsyncGenerator<Buffer> {
    if (head.done) return
    yield Buffer.from(head.value as Buffer | string)
    for (;;) {
      const next = await chunks.next()
      if (next.done) return
      yield Buffer.from(next.value as Buffer | string)
    }
  }

  const first = head.done ? '' : Buffer.from(head.value as Buffer | string).subarray(0, 64).toString('utf8')
  return {first, stream: Readable.from(all(), {objectMode: false})}
}

const LINES_PER_BATCH = 256

async function* jsonLines(stream: Readable, options: CsvOptions): AsyncGenerator<Array<CsvRow<CredentialColumn>>> {
  const lines = createInterface({crlfDelay: Number.POSITIVE_INFINITY, input: stream})
  let batch: Array<CsvRow<CredentialColumn>> = []
  let line = 0
  for await (const text of lines) {
    line++
    if (text.trim() === '') continue
    batch.push(jsonRow(line === 1 ? text.replace(/^\uFEFF/, '') : text, line, options))
    if (batch.length >= LINES_PER_BATCH) {
      yield batch
      batch = []
    }
  }

  if (batch.length > 0) yield batch
}

function jsonRow(text: string, line: number, options: CsvOptions): CsvRow<CredentialColumn> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return {line, problem: {column: null, reason: 'is not valid JSON (one object per line, e.g. {"tenant_id":"acme-us","service":"shopify","value":"..."})'}, raw: [], values: {}}
  }

  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {line, problem: {column: null, reason: 'is not a JSON object'}, raw: [], values: {}}
  }

  const values: Partial<Record<CredentialColumn, string>> = {}
  const unknown: string[] = []
  const notText: string[] = []
  for (const [key, value] of Object.entries(parsed)) {
    const column = normaliseColumnName(key)
    if (!(CREDENTIAL_COLUMNS as readonly string[]).includes(column)) {
      if (!options.ignoreUnknownColumns) unknown.push(key)
      continue
    }

    if (value === null || value === undefined) continue
    if (typeof value === 'string' || typeof value === 'number') values[column as CredentialColumn] = String(value)
    else notText.push(column)
  }

  const raw = CREDENTIAL_COLUMNS.map((column) => values[column] ?? '')
  const problems = [
    ...(unknown.length > 0 ? [`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')} (use --ignore-unknown-columns to skip them)`] : []),
    ...notText.map((column) => `${column}: must be a string`),
  ]
  return problems.length > 0 ? {line, problem: {column: notText[0] ?? null, reason: problems.join('; ')}, raw, values} : {line, raw, values}
}

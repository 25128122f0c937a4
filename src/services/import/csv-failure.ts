import type {CsvRecordError} from './csv-records.js'

export interface CsvFailure {
  readonly hint: string
  readonly line: number
  readonly message: string
}

const QUOTES_HINT = 'A field with a comma, a quote or a line break is quoted ("Acme, EU"), and a quote inside it is doubled ("Acme ""EU"""). Fix the quotes around that line and run the import again.'

/** Why the CSV reader stopped (src/services/import/csv-records.ts), in words. `maxRecordKiB` is its record limit. */
export function describeCsvFailure(error: CsvRecordError, maxRecordKiB: number): CsvFailure {
  const {code, line} = error
  if (code === 'CSV_QUOTE_NOT_CLOSED') {
    return {
      hint: QUOTES_HINT,
      line,
      message: `Line ${line}: a quote opened on this line is never closed (the file ends inside it). Nothing from line ${line} on was read.`,
    }
  }

  return {
    hint: `Fields are limited to ${maxRecordKiB} KiB; check the quotes around that line.`,
    line,
    message: `Line ${line}: a record is longer than ${maxRecordKiB} KiB, so a field is too long or a quote is never closed. Nothing after it was read.`,
  }
}

import type {CsvRecordError} from './csv-records.js'
import {thousands} from '../../text/thousands.js'

export interface CsvFailure {
  readonly hint: string
  readonly line: number
  readonly message: string
}

const QUOTES_HINT = 'A field with a comma, a quote or a line break is quoted ("Acme, EU"), and a quote inside it is doubled ("Acme ""EU"""). Fix the quotes around that line and run the import again.'

/** Why the CSV reader stopped (src/services/import/csv-records.ts), in words. `maxRecord` is its record limit, in characters. */
export function describeCsvFailure(error: CsvRecordError, maxRecord: number): CsvFailure {
  const {code, line} = error
  if (code === 'CSV_QUOTE_NOT_CLOSED') {
    return {
      hint: QUOTES_HINT,
      line,
      message: `Line ${line}: a quote opened on this line is never closed (the file ends inside it). Nothing from line ${line} on was read.`,
    }
  }

  const limit = thousands(maxRecord)
  return {
    hint: `A record (its fields together) is limited to ${limit} characters; check the quotes around that line.`,
    line,
    message: `Line ${line}: a record is longer than ${limit} characters, so a field is too long or a quote is never closed. Nothing after it was read.`,
  }
}

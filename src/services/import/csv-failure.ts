/** Where a CSV reader stood when csv-parse gave up, for naming the line in words. */
export interface CsvPosition {
  /** The line the next record starts on, as far as the reader got. */
  readonly nextLine: number
  /** Records the reader has taken so far (the header included). */
  readonly records: number
}

export interface CsvFailure {
  readonly hint: string
  readonly line: number
  readonly message: string
}

interface CsvParseError {
  code?: unknown
  lines?: unknown
  records?: unknown
}

const QUOTES_HINT = 'A field with a comma, a quote or a line break is quoted ("Acme, EU"), and a quote inside it is doubled ("Acme ""EU"""). Fix the quotes around that line and run the import again.'

/**
 * What a csv-parse error means, in words, by its `code` (csv-parse's own wording speaks of
 * its parser: "Quote Not Closed: the parsing is finished with an opening quote"). `maxRecordKiB`
 * is the reader's record limit. `undefined` for an error that is not csv-parse's.
 */
export function describeCsvFailure(error: unknown, position: CsvPosition, maxRecordKiB: number): CsvFailure | undefined {
  const {code, lines, records} = (error ?? {}) as CsvParseError
  if (typeof code !== 'string' || !code.startsWith('CSV_')) return undefined
  // csv-parse counts the lines it has read; the reader's own count may lag behind it when
  // the stream fails before the last records were taken.
  const line = typeof lines === 'number' && lines > 0 ? lines : position.nextLine
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED': {
      // The unclosed quote belongs to the record after the last one read: its first line is
      // known exactly when the reader has taken every record csv-parse produced.
      const opened = records === position.records ? position.nextLine : undefined
      return {
        hint: QUOTES_HINT,
        line: opened ?? line,
        message:
          opened === undefined
            ? `Line ${line}: the file ends inside a quoted field: a quote opened on this line or before it is never closed. Nothing from that record on was read.`
            : `Line ${opened}: a quote opened on this line is never closed (the file ends inside it). Nothing from line ${opened} on was read.`,
      }
    }

    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE': {
      return {hint: QUOTES_HINT, line, message: `Line ${line}: a quoted field goes on after its closing quote (like "Acme" EU). Nothing from this line on was read.`}
    }

    case 'CSV_MAX_RECORD_SIZE': {
      return {
        hint: `Fields are limited to ${maxRecordKiB} KiB; check the quotes around that line.`,
        line,
        message: `Line ${line}: a record is longer than ${maxRecordKiB} KiB, so a field is too long or a quote is never closed. Nothing after it was read.`,
      }
    }

    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      return {hint: 'Every row has as many fields as the header: check for a missing or extra comma.', line, message: `Line ${line}: the row has a different number of fields from the header. Nothing from this line on was read.`}
    }

    default: {
      return {hint: 'Check that the file is CSV (comma-separated, UTF-8) and that its quotes are balanced.', line, message: `Line ${line}: the file cannot be read as CSV from here on (${code}). Nothing from this line on was read.`}
    }
  }
}

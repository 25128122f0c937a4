/**
 * Splits CSV text into records, for the batch commands' reader (tenant-csv.ts).
 *
 * It reads the format as csv-parse did with the options synthex used (`relax_quotes`,
 * `relax_column_count`, `max_record_size`, comma, double quote doubled inside quotes),
 * corner for corner, so that no file reads differently: the record delimiter is the first
 * of CRLF, LF or CR met outside quotes, and the others are then text; a quote opens a
 * quoted field only as a field's first character, elsewhere it is text; a quoted field
 * whose closing quote is followed by something other than a comma, a record delimiter or
 * the end goes on as text, its opening quote kept (`"Acme" EU` reads `"Acme" EU`). The
 * differences: the record size limit counts characters rather than bytes, errors name the
 * line the record starts on, and every complete record before an error is delivered.
 * test/unit/csv-records.test.ts compares the two on generated files.
 *
 * Why not csv-parse: it looks at every byte through a dozen option checks and decodes each
 * field from its own buffer; on `batch tenants create` that was a third of the CPU time of
 * the whole import. Here a field is one `indexOf` or a short scan and one slice of text
 * already decoded.
 *
 * Records come with the line they start on: lines are counted as records plus the line
 * feeds inside their fields, so a CR-only file still numbers its records.
 */

export interface CsvRecord {
  readonly fields: string[]
  readonly line: number
  /** The record as written, without its delimiter: read alone (see `delimiter`), it gives the same fields (unless empty: an empty line). */
  readonly text: string
}

export type CsvRecordErrorCode = 'CSV_MAX_RECORD_SIZE' | 'CSV_QUOTE_NOT_CLOSED'

/** The text cannot be read on from `line` (the first line of the record that fails). */
export class CsvRecordError extends Error {
  constructor(
    readonly code: CsvRecordErrorCode,
    readonly line: number,
  ) {
    super(code === 'CSV_QUOTE_NOT_CLOSED' ? `a quote opened on line ${line} is never closed` : `the record on line ${line} is too long`)
    this.name = 'CsvRecordError'
  }
}

const COMMA = 44
const CR = 13
const LF = 10
const QUOTE = 34

/** Why a record could not be finished with the text at hand. */
const MORE = -1

export class CsvRecordReader {
  /** The record delimiter once met: `\r\n`, `\n` or `\r` (empty before). */
  #delimiter = ''
  #error: CsvRecordError | undefined
  /** The line of the record that starts `#text`. */
  #line = 1
  readonly #maxRecordSize: number
  /** Text not yet made into records: the start of a record that has not ended yet. */
  #text = ''
  /** `#text` is parsed again only once it is this long, so that a long record arriving in small pieces costs linear time. */
  #waitFor = 0

  // Where the record being read stands (valid during #parse only).
  #at = 0
  /** The end of its last field so far. */
  #end = 0
  #fieldNewlines = 0
  #recordLength = 0

  /**
   * `maxRecordSize`: characters a record may have (its fields together); longer is an error.
   * `delimiter`: the record delimiter of the text, when it is known (a record read again).
   */
  constructor(maxRecordSize: number, delimiter = '') {
    this.#maxRecordSize = maxRecordSize
    this.#delimiter = delimiter
  }

  /** The record delimiter met so far (empty before the first). */
  get delimiter(): string {
    return this.#delimiter
  }

  /** The error that stopped reading; it comes after the records before it were returned. */
  get error(): CsvRecordError | undefined {
    return this.#error
  }

  /** Reads `text` after what came before; returns the records it completes. */
  push(text: string): CsvRecord[] {
    if (this.#error) return []
    this.#text = this.#text.length === 0 ? text : this.#text + text
    if (this.#text.length < this.#waitFor) return []
    return this.#parse(false)
  }

  /** The input has ended: returns the last records. */
  end(): CsvRecord[] {
    if (this.#error) return []
    return this.#parse(true)
  }

  #parse(end: boolean): CsvRecord[] {
    const text = this.#text
    const length = text.length
    const records: CsvRecord[] = []
    let start = 0
    while (start < length) {
      this.#at = start
      this.#fieldNewlines = 0
      this.#recordLength = 0
      const fields: string[] = []
      let complete = false
      for (;;) {
        const field = this.#field(text, end)
        if (field === undefined) break
        fields.push(field)
        this.#recordLength += field.length
        const at = this.#at
        this.#end = at
        // Only the end of the input ends a record without a delimiter (#field waits for more otherwise).
        if (at >= length) {
          complete = true
          break
        }

        if (text.charCodeAt(at) === COMMA) {
          this.#at = at + 1
          continue
        }

        // #field stops only at a comma, a record delimiter or the end of the text.
        this.#at = at + this.#delimiter.length
        complete = true
        break
      }

      if (!complete) break
      records.push({fields, line: this.#line, text: text.slice(start, this.#end)})
      this.#line += 1 + this.#fieldNewlines
      start = this.#at
    }

    this.#text = start >= length ? '' : text.slice(start)
    this.#waitFor = end || this.#text.length === 0 ? 0 : this.#text.length * 2
    // At the end, only a quoted field can be left unfinished.
    if (end && !this.#error && this.#text.length > 0) this.#error = new CsvRecordError('CSV_QUOTE_NOT_CLOSED', this.#line)
    return records
  }

  /**
   * Reads the field at `#at` and leaves `#at` on what ends it (a comma, a record delimiter,
   * or the end of the text). Undefined when the text ends before the field can be known
   * (more is needed), or on an error (`#error` set).
   */
  #field(text: string, end: boolean): string | undefined {
    const from = this.#at
    if (from >= text.length) return end ? '' : undefined // after a comma: an empty last field
    if (text.charCodeAt(from) === QUOTE) return this.#quoted(text, end)
    const stop = this.#unquotedEnd(text, from, end)
    if (stop === MORE) {
      // The last character may be a CR that starts the record delimiter.
      this.#checkSize(text.length - from - 1)
      return undefined
    }

    if (!this.#checkSize(stop - from)) return undefined
    this.#at = stop
    return text.slice(from, stop)
  }

  /** Where an unquoted run of text from `from` ends: its comma, its record delimiter, or the end of the text at the end of the input. */
  #unquotedEnd(text: string, from: number, end: boolean): number {
    const length = text.length
    for (let index = from; index < length; index++) {
      const code = text.charCodeAt(index)
      if (code === COMMA) return index
      if (code !== LF && code !== CR) continue
      const delimiter = this.#delimiterAt(text, index, end)
      if (delimiter === MORE) return MORE
      if (delimiter > 0) return index
      if (code === LF) this.#fieldNewlines++
    }

    return end ? length : MORE
  }

  /**
   * The length of the record delimiter at `index` (0 if there is none there), meeting it
   * first if need be; MORE when the text ends too soon to tell (a CR that may start CRLF).
   */
  #delimiterAt(text: string, index: number, end: boolean): number {
    const code = text.charCodeAt(index)
    let delimiter = this.#delimiter
    if (delimiter === '') {
      if (code === LF) delimiter = '\n'
      else if (code === CR) {
        if (index + 1 >= text.length) return end ? ((this.#delimiter = '\r'), 1) : MORE
        delimiter = text.charCodeAt(index + 1) === LF ? '\r\n' : '\r'
      } else return 0
      this.#delimiter = delimiter
      return delimiter.length
    }

    if (delimiter === '\n') return code === LF ? 1 : 0
    if (delimiter === '\r') return code === CR ? 1 : 0
    if (code !== CR) return 0
    if (index + 1 >= text.length) return end ? 0 : MORE
    return text.charCodeAt(index + 1) === LF ? 2 : 0
  }

  /** A field that starts with a quote (see the file's comment for one that goes on after its closing quote). */
  #quoted(text: string, end: boolean): string | undefined {
    const length = text.length
    let value = ''
    let from = this.#at + 1
    for (;;) {
      const quote = text.indexOf('"', from)
      if (quote === -1) {
        this.#checkSize(value.length + length - from)
        return undefined
      }

      const part = text.slice(from, quote)
      this.#countNewlines(part)
      if (quote + 1 >= length && !end) {
        this.#checkSize(value.length + part.length)
        return undefined
      }

      const next = quote + 1 < length ? text.charCodeAt(quote + 1) : Number.NaN
      if (next === QUOTE) {
        value += `${part}"`
        if (!this.#checkSize(value.length)) return undefined
        from = quote + 2
        continue
      }

      value += part
      if (!this.#checkSize(value.length)) return undefined
      if (quote + 1 >= length || next === COMMA) {
        this.#at = quote + 1
        return value
      }

      if (next === 0) {
        // csv-parse took a NUL after a quote for the end of the input: the quote closes, and the NUL and what follows are text.
        const stop = this.#unquotedEnd(text, quote + 1, end)
        if (stop === MORE) {
          this.#checkSize(value.length + length - quote - 2)
          return undefined
        }

        if (!this.#checkSize(value.length + stop - quote - 1)) return undefined
        this.#at = stop
        return value + text.slice(quote + 1, stop)
      }

      const delimiter = this.#delimiterAt(text, quote + 1, end)
      if (delimiter === MORE) return undefined
      if (delimiter > 0) {
        this.#at = quote + 1
        return value
      }

      // Not a closing quote after all: the field goes on as text, its quotes kept.
      const stop = this.#unquotedEnd(text, quote + 1, end)
      if (stop === MORE) {
        this.#checkSize(value.length + 2 + length - quote - 2)
        return undefined
      }

      if (!this.#checkSize(value.length + 1 + stop - quote)) return undefined
      this.#at = stop
      return `"${value}${text.slice(quote, stop)}`
    }
  }

  #countNewlines(part: string): void {
    let index = part.indexOf('\n')
    while (index !== -1) {
      this.#fieldNewlines++
      index = part.indexOf('\n', index + 1)
    }
  }

  /**
   * Whether a field of `fieldLength` characters (so far) keeps the record within its limit
   * (as csv-parse counted: the limit is passed when a character is added to a record
   * already over it). Sets the error when not.
   */
  #checkSize(fieldLength: number): boolean {
    if (fieldLength <= 0 || this.#recordLength + fieldLength - 1 <= this.#maxRecordSize) return true

    this.#error = new CsvRecordError('CSV_MAX_RECORD_SIZE', this.#line)
    return false
  }
}

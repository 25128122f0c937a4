import {parse} from 'csv-parse/sync'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {type CsvRecord, CsvRecordReader} from '../../src/services/import/csv-records.js'

/**
 * The batch commands read CSV with CsvRecordReader, which replaced csv-parse: it must split
 * every file into the same records, wherever its pieces end.
 */

function read(text: string, pieces: readonly number[] = [], maxRecordSize = 64 * 1024): {error?: string; records: CsvRecord[]} {
  const reader = new CsvRecordReader(maxRecordSize)
  const records: CsvRecord[] = []
  let at = 0
  for (const size of pieces) {
    if (at >= text.length) break
    records.push(...reader.push(text.slice(at, at + size)))
    at += size
  }

  if (at < text.length) records.push(...reader.push(text.slice(at)))
  records.push(...reader.end())
  return {error: reader.error?.code, records}
}

/** What csv-parse made of it, with the options synthex gave it: the records up to its error, if any. */
function csvParse(text: string, maxRecordSize = 64 * 1024): {error?: string; records: string[][]} {
  const records: string[][] = []
  const onRecord = (record: string[]): string[] => {
    records.push(record)
    return record
  }

  try {
    parse(text, {max_record_size: maxRecordSize, on_record: onRecord, relax_column_count: true, relax_quotes: true})
    return {records}
  } catch (error) {
    return {error: (error as {code?: string}).code, records}
  }
}

/** The record delimiter csv-parse would find in `text` (a simplification that holds for these tests: the first CR or LF outside quotes). */
function delimiterOf(text: string): string {
  const reader = new CsvRecordReader(64 * 1024)
  reader.push(text)
  reader.end()
  return reader.delimiter
}

/** A record's line: one per record before it, plus the line feeds inside their fields. */
function linesOf(records: readonly string[][]): number[] {
  let line = 1
  return records.map((record) => {
    const at = line
    line += 1 + record.join('').split('\n').length - 1
    return at
  })
}

/** Text made mostly of CSV's special characters, so that the corners are met often. */
const csvText = fc.string({unit: fc.constantFrom('a', 'b', ' ', ',', ',', '"', '"', '"', '\n', '\n', '\r', 'é', '\u0000'), maxLength: 60})
const pieces = fc.array(fc.integer({max: 8, min: 1}), {maxLength: 20})

describe('CSV records', () => {
  it('are the records csv-parse read, in any pieces', () => {
    fc.assert(
      fc.property(csvText, pieces, (text, sizes) => {
        const expected = csvParse(text)
        const whole = read(text)
        const split = read(text, sizes)
        expect(whole.error).toBe(expected.error)
        expect(whole.records.map((record) => record.fields)).toEqual(expected.records)
        expect(whole.records.map((record) => record.line)).toEqual(linesOf(expected.records))
        expect(split).toEqual(whole)
        for (const record of whole.records.filter((read) => read.text !== '')) {
          const alone = new CsvRecordReader(64 * 1024, delimiterOf(text))
          expect([...alone.push(record.text), ...alone.end()].map((again) => again.fields)).toEqual([record.fields])
        }
      }),
      {numRuns: 20_000},
    )
  })

  it('stop where csv-parse stopped at an over-long record, keeping the records before it', () => {
    const ascii = fc.string({unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r'), maxLength: 60})
    fc.assert(
      fc.property(ascii, pieces, fc.integer({max: 12, min: 1}), (text, sizes, limit) => {
        const expected = csvParse(text, limit)
        const split = read(text, sizes, limit)
        expect(split.error).toBe(expected.error)
        expect(split.records.map((record) => record.fields)).toEqual(expected.records)
      }),
      {numRuns: 20_000},
    )
  })

  it('number records by the line they start on, counting the line feeds inside fields', () => {
    const {records} = read('a,b\r\n"two\r\nlines",x\r\n\r\nc,"d\ne"\r\nlast', [3, 1, 5])
    expect(records.map((record) => [record.line, record.fields, record.text])).toEqual([
      [1, ['a', 'b'], 'a,b'],
      [2, ['two\r\nlines', 'x'], '"two\r\nlines",x'],
      [4, [''], ''],
      [5, ['c', 'd\ne'], 'c,"d\ne"'],
      [7, ['last'], 'last'],
    ])
  })

  it('say where an unclosed quote opened, after the records before it', () => {
    const reader = new CsvRecordReader(1024)
    const records = [...reader.push('a,b\n"c\nd,e\n'), ...reader.end()]
    expect(records.map((record) => record.fields)).toEqual([['a', 'b']])
    expect(reader.error).toMatchObject({code: 'CSV_QUOTE_NOT_CLOSED', line: 2})
  })

  it('read a long record arriving in small pieces in linear time', () => {
    const reader = new CsvRecordReader(1 << 20)
    const field = 'x'.repeat(200_000)
    const records: CsvRecord[] = []
    for (let at = 0; at < field.length; at += 16) records.push(...reader.push(field.slice(at, at + 16)))
    records.push(...reader.push(',y\nz\n'), ...reader.end())
    expect(records.map((record) => record.fields.map((value) => value.length))).toEqual([[200_000, 1], [1]])
  })
})

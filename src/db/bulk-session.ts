import type {PGlite} from '@electric-sql/pglite'
import {Kysely, PostgresDialect} from 'kysely'
import type {Pool} from 'pg'

import type {Db} from './schema.js'
import type {ServerClient} from './server-pool.js'

/**
 * One database connection reserved for a bulk job, with a Kysely handle bound to it and
 * COPY FROM STDIN, the fastest way into Postgres. Queries through `db` and `copyIn` run on
 * the same connection, so they share transactions and savepoints.
 */
export interface BulkSession {
  /**
   * Copies rows in COPY's text format (see `copyTextRow`, `CopyText`) into a table and
   * returns how many were copied. Fails as a whole, like an INSERT, on a constraint violation.
   */
  copyIn(table: string, columns: readonly string[], rows: string | Uint8Array): Promise<number>
  readonly db: Db
}

const SPECIAL = /[\t\n\r\\]/
const ESCAPES: Record<string, string> = {'\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\'}

/** One row of COPY text format: tab-separated, `\N` for null, backslash escapes. */
export function copyTextRow(values: ReadonlyArray<number | string | null>): string {
  let line = ''
  for (let index = 0; index < values.length; index++) {
    const value = values[index]
    if (index > 0) line += '\t'
    line += value === null || value === undefined ? '\\N' : copyTextValue(String(value))
  }

  return `${line}\n`
}

function copyTextValue(text: string): string {
  return SPECIAL.test(text) ? text.replaceAll(/[\t\n\r\\]/g, (character) => ESCAPES[character] as string) : text
}

/**
 * Rows in COPY's text format written into bytes as they come: a chunk of thousands of rows
 * is one growing buffer, outside the JavaScript heap, rather than a string or objects per
 * row that the garbage collector copies until the chunk is written.
 */
export class CopyText {
  #bytes = Buffer.allocUnsafe(1 << 16)
  #length = 0

  /** The rows so far (a view, valid until the next `add`). */
  get bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length)
  }

  /** Forgets the rows, keeping the buffer for the next ones. */
  clear(): this {
    this.#length = 0
    return this
  }

  /**
   * Adds a row. The array is the writer's afterwards (its values are escaped in place):
   * joining it makes one string of the row, where concatenating made one per value.
   */
  add(values: Array<number | string | null>): void {
    let length = values.length
    for (let index = 0; index < values.length; index++) {
      const value = values[index]
      const text = value === null || value === undefined ? '\\N' : copyTextValue(String(value))
      values[index] = text
      length += text.length
    }

    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    const needed = this.#length + length * 3
    if (needed > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#bytes.length * 2))
      this.#bytes.copy(grown, 0, 0, this.#length)
      this.#bytes = grown
    }

    this.#length += this.#bytes.write(values.join('\t'), this.#length)
    this.#bytes[this.#length++] = 10 // \n
  }
}

/** `"tenants" ("a", "b")`: identifiers quoted, so a column named like a keyword still works. */
export function copyTarget(table: string, columns: readonly string[]): string {
  const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`
  return `${quote(table)} (${columns.map((column) => quote(column)).join(', ')})`
}

/** PGlite is one session already: Kysely's queries and COPY share it. */
export function embeddedBulkSession(client: PGlite, db: Db): BulkSession {
  return {
    async copyIn(table, columns, rows) {
      const result = await client.query(`copy ${copyTarget(table, columns)} from '/dev/blob'`, [], {blob: new Blob([rows])})
      return result.affectedRows ?? 0
    },
    db,
  }
}

/**
 * A session on one checked-out client: Kysely sees a "pool" that always hands out that
 * client and never releases it, and COPY streams through pg-copy-streams on it. The caller
 * releases the client and destroys `db` when done.
 */
export function serverBulkSession(client: ServerClient): BulkSession {
  const reserved = new Proxy(client, {
    get(target, property) {
      if (property === 'release') return () => {}
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
  const pool = {connect: async () => reserved, end: async () => {}}
  const db = new Kysely<never>({dialect: new PostgresDialect({pool: pool as unknown as Pool})}) as unknown as Db
  return {
    async copyIn(table, columns, rows) {
      const [copyStreams, {Readable}, {pipeline}] = await Promise.all([import('pg-copy-streams'), import('node:stream'), import('node:stream/promises')])
      // A CommonJS module: its exports arrive as the default export once bundled.
      const {from: copyFrom} = (copyStreams as unknown as {default?: typeof copyStreams}).default ?? copyStreams
      const stream = client.query(copyFrom(`copy ${copyTarget(table, columns)} from stdin`))
      const data = typeof rows === 'string' || Buffer.isBuffer(rows) ? rows : Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength)
      try {
        await pipeline(Readable.from([data]), stream)
      } catch (error) {
        // A COPY is a stream, not a promise: its lost connection is translated here.
        throw client.failure(error)
      }

      return stream.rowCount
    },
    db,
  }
}

import type {Db} from './schema.js'

/**
 * One database connection reserved for a bulk job, with a Kysely handle bound to it and
 * COPY FROM STDIN, the fastest way into Postgres. Queries through `db` and `copyIn` run on
 * the same connection, so they share transactions and savepoints.
 */
export interface BulkSession {
  /**
   * Copies rows in COPY's text format (see `copyTextRow`) into a table and returns how
   * many were copied. Fails as a whole, like an INSERT, on a constraint violation.
   */
  copyIn(table: string, columns: readonly string[], rows: string): Promise<number>
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
    if (value === null || value === undefined) line += '\\N'
    else {
      const text = String(value)
      line += SPECIAL.test(text) ? text.replaceAll(/[\t\n\r\\]/g, (character) => ESCAPES[character] as string) : text
    }
  }

  return `${line}\n`
}

/** `"tenants" ("a", "b")`: identifiers quoted, so a column named like a keyword still works. */
export function copyTarget(table: string, columns: readonly string[]): string {
  const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`
  return `${quote(table)} (${columns.map((column) => quote(column)).join(', ')})`
}

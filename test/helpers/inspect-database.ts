import {PGlite} from '@electric-sql/pglite'
import {Kysely} from 'kysely'
import pg from 'pg'

import {PGliteDialect} from '../../src/db/pglite-dialect.js'
import type {Db} from '../../src/db/schema.js'
import type {CliTarget} from './cli-backends.js'

/**
 * Opens the database a CLI target uses, from the test process, while no CLI runs on it:
 * the embedded directory directly, or the server database by its URL.
 */
export async function withDatabase<T>(target: CliTarget, work: (db: Db) => Promise<T>): Promise<T> {
  if (target.backend === 'embedded') {
    const client = await PGlite.create(`${target.env.SYNTHEX_HOME}/pgdata`)
    const db = new Kysely<never>({dialect: new PGliteDialect(client)}) as unknown as Db
    try {
      return await work(db)
    } finally {
      await db.destroy()
      await client.close()
    }
  }

  const {PostgresDialect} = await import('kysely')
  const pool = new pg.Pool({connectionString: target.env.DATABASE_URL})
  // A connection still closing when a suite drops its database is ended by the server (57P01).
  pool.on('error', () => {})
  const db = new Kysely<never>({dialect: new PostgresDialect({pool})}) as unknown as Db
  try {
    return await work(db)
  } finally {
    await db.destroy()
  }
}

/** Every text, varchar, json and jsonb column of every table, and whether it holds `needle`. */
export async function columnsContaining(db: Db, needle: string): Promise<string[]> {
  const {sql} = await import('kysely')
  const {rows: columns} = await sql<{column_name: string; table_name: string}>`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' and data_type in ('text', 'character varying', 'character', 'json', 'jsonb')
    order by table_name, column_name`.execute(db)
  const found: string[] = []
  for (const {column_name: column, table_name: table} of columns) {
    const {rows} = await sql<{n: number}>`select count(*)::int as n from ${sql.table(table)} where strpos(${sql.ref(column)}::text, ${needle}) > 0`.execute(db)
    if (Number(rows[0]?.n) > 0) found.push(`${table}.${column}`)
  }

  if (columns.length < 10) throw new Error(`only ${columns.length} text columns found: is this the synthex schema?`)
  return found
}

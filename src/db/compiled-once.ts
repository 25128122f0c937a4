import {type Compilable, CompiledQuery} from 'kysely'

import type {Db} from './schema.js'

/**
 * A statement built and compiled once, then run with each call's parameters, given in the
 * order they appear in it. Every synthex database (PGlite, a server, the shared embedded
 * server) is compiled by Kysely's Postgres compiler, so the text is the same for all. For
 * statements on a hot path (`serve` answering GET /api/tenants/{id}): building and compiling
 * a Kysely query each time costs about as much as reading its answer.
 */
export function compiledOnce<Row>(build: (db: Db) => Compilable<Row>): (db: Db, parameters: readonly unknown[]) => Promise<Row[]> {
  let compiled: {count: number; text: string} | undefined
  return async (db, parameters) => {
    if (!compiled) {
      const query = build(db).compile()
      compiled = {count: query.parameters.length, text: query.sql}
    }

    if (parameters.length !== compiled.count) throw new Error(`compiledOnce: the statement takes ${compiled.count} parameters, not ${parameters.length}`)
    const result = await db.executeQuery<Row>(CompiledQuery.raw(compiled.text, [...parameters]))
    return result.rows
  }
}

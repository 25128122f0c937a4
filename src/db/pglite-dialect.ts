import type {PGlite, Results} from '@electric-sql/pglite'
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely'

/**
 * A Kysely dialect over an open PGlite instance.
 *
 * PGlite is one Postgres session, so the driver hands out one connection at a time: a
 * transaction owns the session until it commits or rolls back, exactly as a pg pool of
 * size one would behave.
 *
 * Queries without parameters go through PGlite's `exec` (the simple query protocol) and
 * the others through `query` (the extended protocol): that is what `pg` does too, and it
 * lets a migration file hold several statements on both backends.
 */
export class PGliteDialect implements Dialect {
  readonly #client: PGlite

  constructor(client: PGlite) {
    this.#client = client
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter()
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#client)
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db)
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler()
  }
}

class PGliteDriver implements Driver {
  readonly #connection: PGliteConnection
  #queue: Promise<void> = Promise.resolve()
  #release: (() => void) | undefined

  constructor(client: PGlite) {
    this.#connection = new PGliteConnection(client)
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue
    let release!: () => void
    this.#queue = new Promise<void>((resolve) => {
      release = resolve
    })
    await previous
    this.#release = release
    return this.#connection
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin'
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`
    if (settings.accessMode) statement += ` ${settings.accessMode}`
    await connection.executeQuery(CompiledQuery.raw(statement))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }

  async destroy(): Promise<void> {
    // The PGlite instance belongs to whoever opened it (it also holds the directory lock).
  }

  async init(): Promise<void> {}

  async releaseConnection(): Promise<void> {
    const release = this.#release
    this.#release = undefined
    release?.()
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }
}

const MUTATIONS = new Set(['DELETE', 'INSERT', 'MERGE', 'UPDATE'])

class PGliteConnection implements DatabaseConnection {
  readonly #client: PGlite

  constructor(client: PGlite) {
    this.#client = client
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    let result: Results<R> | undefined
    if (compiledQuery.parameters.length === 0) {
      const results = (await this.#client.exec(compiledQuery.sql)) as Array<Results<R>>
      result = results.at(-1)
    } else {
      result = await this.#client.query<R>(compiledQuery.sql, [...compiledQuery.parameters])
    }

    const command = result?.command ?? ''
    return {
      numAffectedRows: MUTATIONS.has(command) ? BigInt(result?.affectedRows ?? 0) : undefined,
      rows: result?.rows ?? [],
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported on the embedded database.')
  }
}

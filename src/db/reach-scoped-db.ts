import {
  CompiledQuery,
  type ConnectionProvider,
  createQueryId,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  IdentifierNode,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  RawNode,
  sql,
  type TransactionSettings,
} from 'kysely'

import type {Db, Schema} from './schema.js'

/**
 * The second line behind serve's own checks: a database handle whose every use runs in a
 * transaction that first sets, for that transaction only, the settings the row-level
 * security policies of migrations/0016_users_roles.sql read (synthex.reach_role,
 * reach_workspaces, reach_tenants, reach_tenant_keys). A query through it without any filter
 * then sees, and may write, only the rows within the caller's reach, as long as the login is
 * subject to the policies (rowSecurityBinds; `synthex db create-serve-role` makes such a
 * login). For the tables' owner, a superuser or the embedded database the settings change
 * nothing.
 *
 * How: the handle's connection provider takes a connection from the pool of the handle it
 * wraps, and hands its consumer (one query, or a service's `db.transaction()`) a connection
 * on which the first statement is preceded by `begin` and one `set_config` statement, sent
 * together in one round trip; when the consumer is done it commits (or rolls back if it threw). The handle's
 * driver maps Kysely's transaction statements onto that transaction: a service's
 * `db.transaction()` that comes first *is* the transaction (its begin carries the isolation
 * level, its commit is the commit), one that follows other statements on the same connection
 * (`db.connection()`) becomes a savepoint. So a service transaction costs no round trip more
 * than without the handle (the set_config rides with its begin), and a lone query two (begin
 * with set_config, then commit).
 *
 * The settings are local to the transaction, so a connection goes back to the pool without
 * them whatever happened: the next user of the pool (background work through the unscoped
 * handle) sees every row again.
 */

/**
 * What the policies need to know of a caller's reach. `Reach` of
 * src/services/access/reach.ts has this shape (this layer may not import services).
 */
export type RowReach =
  | {readonly kind: 'all'}
  | {readonly kind: 'tenants'; readonly tenants: readonly {readonly id: string; readonly tenantId: string; readonly workspaceId: string}[]}
  | {readonly kind: 'workspaces'; readonly workspaceIds: ReadonlySet<string>}

/** The transaction-local settings a reach stands for, as the policies read them (comma-separated lists). */
export interface ReachSettings {
  readonly role: 'admin' | 'all' | 'client'
  readonly tenantKeys: string
  readonly tenants: string
  readonly workspaces: string
}

/** The settings of `reach`; an empty list reaches nothing. */
export function reachSettings(reach: RowReach): ReachSettings {
  switch (reach.kind) {
    case 'all': {
      return {role: 'all', tenantKeys: '', tenants: '', workspaces: ''}
    }

    case 'workspaces': {
      return {role: 'admin', tenantKeys: '', tenants: '', workspaces: list([...reach.workspaceIds])}
    }

    case 'tenants': {
      return {
        role: 'client',
        tenantKeys: list(reach.tenants.map((tenant) => `${tenant.workspaceId}/${tenant.tenantId}`)),
        tenants: list(reach.tenants.map((tenant) => tenant.id)),
        workspaces: '',
      }
    }
  }
}

/** One id of a reach: a uuid, a tenant id, or <workspace uuid>/<tenant id>. */
const ID = /^[A-Za-z0-9_/-]+$/

/** A setting's comma-separated list of ids. */
function list(items: readonly string[]): string {
  const bad = items.find((item) => !ID.test(item))
  // A comma would split an id in two (synthex_reach_list); a quote or backslash would end
  // the literal the settings are sent as (setReachLiterally). Uuids and tenant ids
  // (migrations/0001: A-Z a-z 0-9 _ -) hold neither.
  if (bad !== undefined) throw new Error('reachScopedDb: a reach id holds a character other than letters, digits, _, - and /')
  return items.join(',')
}

/**
 * `db` limited to `reach` by the row-level policies: every query or transaction through it
 * runs in a transaction of its own with the reach's settings. The handle shares `db`'s pool
 * (destroying it does nothing). A reach of everything needs no settings (unset means `all`
 * to the policies), so for it `db` itself is returned and costs nothing.
 */
export function reachScopedDb(db: Db, reach: RowReach): Db {
  if (db.isTransaction) throw new Error('reachScopedDb: give it the pool\'s handle, not a transaction (its commit would end the transaction)')
  if (reach.kind === 'all') return db
  const settings = reachSettings(reach)
  const driver = new ReachDriver()
  const dialect = reachDialect(driver)
  return new Kysely<Schema>({config: {dialect}, dialect, driver, executor: db.getExecutor().withConnectionProvider(new ReachConnectionProvider(db, settings))})
}

/**
 * Whether the current login is subject to the row-level policies: neither a superuser nor
 * BYPASSRLS nor the tables' owner (nor a member of it). Postgres itself answers, for
 * `tenants`; false on the embedded database (one superuser session) and for the user that
 * ran the migrations, where the settings of reachScopedDb would change nothing.
 */
export async function rowSecurityBinds(db: Db): Promise<boolean> {
  const {rows} = await sql<{binds: boolean | null}>`select row_security_active(to_regclass('tenants')) as binds`.execute(db)
  return rows[0]?.binds === true
}

/** The reach's settings for the transaction, its values as literals (lists of `list`'s ids, or a role's name), to go with `begin` in one round trip. */
function setReachLiterally(values: readonly string[]): string {
  const [role, workspaces, tenants, tenantKeys] = values.map((value) => `'${value}'`)
  return `select set_config('synthex.reach_role', ${role}, true), set_config('synthex.reach_workspaces', ${workspaces}, true), set_config('synthex.reach_tenants', ${tenants}, true), set_config('synthex.reach_tenant_keys', ${tenantKeys}, true)`
}

/** The savepoint a service's transaction becomes when statements ran before it on the same connection. */
const SAVEPOINT = 'synthex_reach_transaction'

class ReachConnectionProvider implements ConnectionProvider {
  readonly #db: Db
  readonly #settings: ReachSettings

  constructor(db: Db, settings: ReachSettings) {
    this.#db = db
    this.#settings = settings
  }

  async provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    return this.#db.getExecutor().provideConnection(async (pooled) => {
      if (pooled instanceof ReachConnection) throw new Error('reachScopedDb: the handle is already limited to a reach')
      const connection = new ReachConnection(pooled, this.#settings)
      let result: T
      try {
        result = await consumer(connection)
      } catch (error) {
        await connection.abandon()
        throw error
      }

      await connection.finish()
      return result
    })
  }
}

/**
 * A pooled connection whose statements run in one transaction with the reach's settings,
 * begun at its first statement (or by a service's transaction) and ended by the provider.
 */
class ReachConnection implements DatabaseConnection {
  /** How the service's Kysely transaction running on this connection, if any, maps onto ours. */
  kyselyTransaction: 'none' | 'outer' | 'savepoint' = 'none'
  /** Our transaction is open on the connection. */
  open = false
  /** The last statement that failed since the transaction was last known healthy. */
  #failure: unknown
  readonly #pooled: DatabaseConnection
  readonly #settings: ReachSettings

  constructor(pooled: DatabaseConnection, settings: ReachSettings) {
    this.#pooled = pooled
    this.#settings = settings
  }

  /** Ends the transaction after the consumer threw: its work is undone. */
  async abandon(): Promise<void> {
    if (!this.open) return
    // The consumer's error is what the caller needs to see; a connection whose rollback
    // fails is broken, and pg's pool does not hand out a broken connection again.
    await this.rollback().catch(() => {})
  }

  /** Opens the transaction and sets the reach for it; on failure nothing is left open. */
  async begin(settings: TransactionSettings = {}): Promise<void> {
    let statement = 'begin'
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`
    if (settings.accessMode) statement += ` ${settings.accessMode}`
    const {role, tenantKeys, tenants, workspaces} = this.#settings
    // One round trip for both: a statement without parameters goes by the simple query
    // protocol, which takes several. The values are ids (uuids, tenant ids, the role's name),
    // checked when the handle was made to hold no quote or backslash: safe as literals.
    try {
      await this.#pooled.executeQuery(CompiledQuery.raw(`${statement}; ${setReachLiterally([role, workspaces, tenants, tenantKeys])}`))
    } catch (error) {
      // The begin may have run: nothing is left open (a rollback without one only warns).
      await this.rollback().catch(() => {})
      throw error
    }

    this.open = true
  }

  async commit(): Promise<void> {
    try {
      await this.#pooled.executeQuery(CompiledQuery.raw('commit'))
    } finally {
      this.#closed()
    }
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.open) await this.begin()
    return this.run(compiledQuery)
  }

  /**
   * Commits what the consumer did. A statement of it that failed, and that the consumer
   * caught and went on from, may have aborted the transaction: then Postgres would turn the
   * commit into a rollback without an error, and work the consumer believes done would be
   * lost in silence. A probe tells; such a use fails instead.
   */
  async finish(): Promise<void> {
    if (!this.open) return
    if (this.#failure !== undefined) {
      const failure = this.#failure
      const aborted = await this.#pooled.executeQuery(CompiledQuery.raw('select 1')).then(
        () => false,
        () => true,
      )
      if (aborted) {
        await this.rollback()
        throw new Error('reachScopedDb: a statement failed and the work after it was not committed', {cause: failure})
      }
    }

    await this.commit()
  }

  async rollback(): Promise<void> {
    try {
      await this.#pooled.executeQuery(CompiledQuery.raw('rollback'))
    } finally {
      this.#closed()
    }
  }

  /** A statement inside the open transaction, its failure noted. */
  async run<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.#pooled.executeQuery<R>(compiledQuery)
    } catch (error) {
      this.#failure = error
      throw error
    }
  }

  /** Back to a healthy transaction: a rollback to a savepoint taken while it was healthy. */
  recovered(): void {
    this.#failure = undefined
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    if (!this.open) await this.begin()
    try {
      yield* this.#pooled.streamQuery<R>(compiledQuery, chunkSize)
    } catch (error) {
      this.#failure = error
      throw error
    }
  }

  #closed(): void {
    this.open = false
    this.kyselyTransaction = 'none'
    this.#failure = undefined
  }
}

function reachConnection(connection: DatabaseConnection): ReachConnection {
  if (!(connection instanceof ReachConnection)) throw new Error('reachScopedDb: a transaction on a connection the handle did not provide')
  return connection
}

/**
 * Kysely's transaction statements on a ReachConnection. Connections come from the provider,
 * never from the driver, and the pool belongs to the wrapped handle.
 */
class ReachDriver implements Driver {
  async acquireConnection(): Promise<DatabaseConnection> {
    throw new Error('reachScopedDb: connections come from the wrapped handle\'s pool')
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const reach = reachConnection(connection)
    if (reach.kyselyTransaction !== 'none') throw new Error('reachScopedDb: a transaction is already running on this connection')
    if (!reach.open) {
      await reach.begin(settings)
      reach.kyselyTransaction = 'outer'
      return
    }

    // Statements ran before it on this connection (`db.connection()`): the isolation level
    // and access mode of a transaction are fixed by then.
    if (settings.isolationLevel || settings.accessMode) throw new Error('reachScopedDb: a transaction with an isolation level or access mode must be the first thing on its connection')
    await reach.run(CompiledQuery.raw(`savepoint ${SAVEPOINT}`))
    reach.kyselyTransaction = 'savepoint'
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const reach = reachConnection(connection)
    if (reach.kyselyTransaction === 'outer') {
      await reach.commit()
      return
    }

    if (reach.kyselyTransaction === 'savepoint') {
      // On failure the savepoint stays, for the rollback Kysely sends next.
      await reach.run(CompiledQuery.raw(`release savepoint ${SAVEPOINT}`))
      reach.kyselyTransaction = 'none'
    }
  }

  async destroy(): Promise<void> {
    // The pool belongs to the wrapped handle.
  }

  async init(): Promise<void> {}

  async releaseConnection(): Promise<void> {}

  async releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await reachConnection(connection).run(compileQuery(savepointCommand('release', name), createQueryId()))
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    const reach = reachConnection(connection)
    await reach.run(compileQuery(savepointCommand('rollback to', name), createQueryId()))
    reach.recovered()
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const reach = reachConnection(connection)
    if (reach.kyselyTransaction === 'outer') {
      await reach.rollback()
      return
    }

    // A commit that failed has already ended the transaction: nothing left to undo.
    if (reach.kyselyTransaction === 'savepoint') {
      await reach.run(CompiledQuery.raw(`rollback to savepoint ${SAVEPOINT}`))
      reach.kyselyTransaction = 'none'
      reach.recovered()
    }
  }

  async savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await reachConnection(connection).run(compileQuery(savepointCommand('savepoint', name), createQueryId()))
  }
}

/** As Kysely's Postgres driver writes them: the name quoted as an identifier. */
function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)])
}

/** Every synthex database speaks Postgres through Kysely's Postgres compiler (see src/db/compiled-once.ts). */
function reachDialect(driver: Driver): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  }
}

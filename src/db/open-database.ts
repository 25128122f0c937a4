import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {setFlagsFromString} from 'node:v8'

import {Kysely, PostgresDialect} from 'kysely'

import {ConfigError} from '../config/config-error.js'
import {storageErrorOf} from '../errors/storage-error.js'
import {DEFAULT_DATABASE_LIMITS, type DatabaseTarget} from '../config/settings.js'
import {type BulkSession, embeddedBulkSession, serverBulkSession} from './bulk-session.js'
import {DatabaseUnavailableError, MigrationsPendingError} from './database-errors.js'
import {embeddedOpenFailure} from './embedded-failures.js'
import {acquireEmbeddedLock, type EmbeddedLock, type LockHolder} from './embedded-lock.js'
import {migrateToLatest, pendingMigrations} from './migrations.js'
import {PGliteDialect} from './pglite-dialect.js'
import {makePrivateDirectory, makeTreePrivate, privateNodeFs} from './private-home.js'
import {redactDatabaseUrl, sslMode} from './postgres-url.js'
import {cannotConnect, type FailureContext, replyTimeoutFor} from './server-failures.js'
import type {Db} from './schema.js'

export type Backend = 'embedded' | 'server'

export interface OpenDatabase {
  readonly backend: Backend
  /** Runs bulk work on one reserved connection (see BulkSession). */
  bulk<T>(work: (session: BulkSession) => Promise<T>): Promise<T>
  /** Closes connections and, for the embedded database, releases its lock. Idempotent. */
  close(): Promise<void>
  readonly db: Db
  /** Where the data lives, safe to print: a directory, or a URL without its password. */
  readonly location: string
  /** Migrations applied while opening (the embedded database migrates itself). */
  readonly migrated: readonly string[]
}

export type OpenProgress =
  | {readonly dataDir: string; readonly type: 'creating'}
  | {readonly holder: LockHolder | undefined; readonly type: 'waiting'}
  | {readonly pending: readonly string[]; readonly type: 'migrating'}

export interface OpenOptions {
  /** The command opening it, recorded in the embedded lock for others to see. */
  readonly command: string
  /** How long to wait for a server to accept a connection (default: the settings' limit). */
  readonly connectTimeoutMs?: number
  /**
   * `auto` (the default): the embedded database migrates itself, a server database must be
   * up to date. `ignore`: open as it is (for `db migrate` and `db status`). `report`: the
   * embedded database migrates itself, a server database opens as it is (for `health check`,
   * which reports pending migrations rather than refusing to run).
   */
  readonly migrations?: 'auto' | 'ignore' | 'report'
  readonly onProgress?: (progress: OpenProgress) => void
  /** Gives up waiting for the embedded database's lock (the command was interrupted). */
  readonly signal?: AbortSignal
  /** Connections to a server database (default 4); a command sending in parallel needs more. */
  readonly poolSize?: number
  /**
   * How long one statement on a server may take: `default` (SYNTHEX_DB_STATEMENT_TIMEOUT),
   * or `bulk` (SYNTHEX_DB_BULK_STATEMENT_TIMEOUT) for commands whose statements write
   * thousands of rows or change the schema.
   */
  readonly statements?: 'bulk' | 'default'
}

/** Opens the database a command works on; see docs/architecture.md, "The embedded database and the server". */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions): Promise<OpenDatabase> {
  return target.kind === 'embedded' ? openEmbedded(target, options) : openServer(target, options)
}

/**
 * Postgres's 128 MB of shared buffers are zeroed in WebAssembly memory at every start: a
 * third of the time an embedded command takes to open its database, and 130 MB of its
 * memory. A CLI command reads and writes far less than that; pages it evicts go to the
 * files it would write at close anyway. Measured on a 2-core machine: opening a home 1.0 s
 * -> 0.72 s and 332 -> 197 MB; a 100,000-row import no slower, with 120 MB less.
 */
const EMBEDDED_SHARED_BUFFERS = '16MB'

async function openEmbedded(target: Extract<DatabaseTarget, {kind: 'embedded'}>, options: OpenOptions): Promise<OpenDatabase> {
  const lock: EmbeddedLock = await acquireEmbeddedLock(target.dataDir, {
    command: options.command,
    onWait: (holder) => options.onProgress?.({holder, type: 'waiting'}),
    signal: options.signal,
    timeoutMs: target.lockTimeoutMs,
  }).catch((error: unknown) => {
    // A full disk or a read-only mount shows first here, where the lock file is written.
    throw storageErrorOf(error) ?? error
  })
  let client: import('@electric-sql/pglite').PGlite | undefined
  try {
    const creating = !existsSync(join(target.dataDir, 'PG_VERSION'))
    if (creating) options.onProgress?.({dataDir: target.dataDir, type: 'creating'})
    // Loaded here, not at the top: commands on a server database never pay for the WASM build.
    // PGlite is 9 MB of WebAssembly. V8 compiles it with its baseline compiler and then,
    // on other threads, optimises what runs hot: work a command that lives a second never
    // profits from, and that halves a 2-core machine. Baseline only: an embedded command's
    // CPU time 0.95 s -> 0.47 s, and a 100,000-row import no slower (measured, 2 cores).
    setFlagsFromString('--liftoff-only')
    const {PGlite} = await import('@electric-sql/pglite')
    try {
      if (creating) makePrivateDirectory(target.dataDir)
      client = await PGlite.create({fs: await privateNodeFs(target.dataDir), startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`]})
      // Should this PGlite build have escaped privateNodeFs, the new directory is made private
      // here, once (a thousand stat calls, next to the seconds that creating it takes).
      if (creating) makeTreePrivate(target.dataDir)
    } catch (error) {
      throw embeddedOpenFailure(error, target.dataDir)
    }

    const db = new Kysely<never>({dialect: new PGliteDialect(client)}) as unknown as Db
    let migrated: string[] = []
    if (options.migrations !== 'ignore') {
      const pending = await pendingMigrations(db)
      if (pending.length > 0) {
        options.onProgress?.({pending, type: 'migrating'})
        migrated = await migrateToLatest(db)
      }
    }

    const opened = client
    let closed: Promise<void> | undefined
    const session = embeddedBulkSession(opened, db)
    return {
      backend: 'embedded',
      bulk: (work) => work(session),
      close() {
        closed ??= (async () => {
          try {
            await db.destroy()
            await opened.close()
          } finally {
            lock.release()
          }
        })()
        return closed
      },
      db,
      location: target.dataDir,
      migrated,
    }
  } catch (error) {
    await client?.close().catch(() => {})
    lock.release()
    throw error
  }
}

async function openServer(target: Extract<DatabaseTarget, {kind: 'server'}>, options: OpenOptions): Promise<OpenDatabase> {
  const location = redactDatabaseUrl(target.url)
  const mode = sslMode(target.url)
  try {
    return await connectServer(target, options, location, undefined)
  } catch (error) {
    // libpq's `prefer` and `allow` fall back to a plain connection when the server has no TLS.
    const cause = error instanceof DatabaseUnavailableError ? error.cause : error
    if ((mode === 'prefer' || mode === 'allow') && /does not support SSL/i.test(describe(cause))) {
      return connectServer(target, options, location, false)
    }

    throw error
  }
}

async function connectServer(
  target: Extract<DatabaseTarget, {kind: 'server'}>,
  options: OpenOptions,
  location: string,
  sslOverride: false | undefined,
): Promise<OpenDatabase> {
  // Loaded here, not at the top: commands on the embedded database never pay for pg.
  const [{parse}, {serverPool}] = await Promise.all([import('pg-connection-string'), import('./server-pool.js')])
  // libpq semantics for sslmode (require = encrypt without verifying, as psql and Supabase's
  // docs mean it); pg's own reading of `require` is verify-full.
  let config: import('pg').PoolConfig
  try {
    config = parse(target.url, {useLibpqCompat: true}) as import('pg').PoolConfig
  } catch (error) {
    // sslrootcert, sslcert and sslkey name files that are read here.
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError(target.setting, code ? `a TLS file it names (sslrootcert, sslcert or sslkey) cannot be read (${code})` : 'it cannot be parsed as a connection URL')
  }

  const limits = target.limits ?? DEFAULT_DATABASE_LIMITS
  const bulk = options.statements === 'bulk'
  const statementTimeoutMs = bulk ? limits.bulkStatementTimeoutMs : limits.statementTimeoutMs
  const context: FailureContext = {
    connectTimeoutMs: options.connectTimeoutMs ?? limits.connectTimeoutMs,
    connectTimeoutSetting: options.connectTimeoutMs === undefined ? 'SYNTHEX_DB_CONNECT_TIMEOUT' : 'the command\'s --timeout',
    location,
    replyTimeoutMs: replyTimeoutFor(statementTimeoutMs),
    setting: target.setting,
    statementTimeoutMs,
    statementTimeoutSetting: bulk ? 'SYNTHEX_DB_BULK_STATEMENT_TIMEOUT' : 'SYNTHEX_DB_STATEMENT_TIMEOUT',
  }
  const pool = serverPool({
    config: {...config, ...(sslOverride === false ? {ssl: false} : {}), application_name: 'synthex'},
    context,
    poolSize: options.poolSize ?? 4,
  })
  const db = new Kysely<never>({dialect: new PostgresDialect({pool: {connect: () => pool.connect(), end: () => pool.end()}})}) as unknown as Db
  const close = async (): Promise<void> => {
    await db.destroy().catch(() => {})
  }

  let pending: string[]
  try {
    pending = await pendingMigrations(db)
  } catch (error) {
    await close()
    if (error instanceof DatabaseUnavailableError) throw error
    throw cannotConnect(error, context)
  }

  if ((options.migrations ?? 'auto') === 'auto' && pending.length > 0) {
    await close()
    throw new MigrationsPendingError(pending)
  }

  let closed: Promise<void> | undefined
  const bulkClients = new Set<import('./server-pool.js').ServerClient>()
  return {
    backend: 'server',
    bulk: async (work) => {
      const client = await pool.connect()
      bulkClients.add(client)
      const session = serverBulkSession(client)
      try {
        return await work(session)
      } finally {
        bulkClients.delete(client)
        await session.db.destroy()
        client.release()
      }
    },
    // A bulk job interrupted mid-chunk still holds its client, and the pool would wait for
    // it: drop those connections (the server rolls their transaction back) and close.
    close: () =>
      (closed ??= (async () => {
        for (const client of bulkClients) client.release(new Error('closing: synthex was interrupted'))
        bulkClients.clear()
        await close()
      })()),
    db,
    location,
    migrated: [],
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

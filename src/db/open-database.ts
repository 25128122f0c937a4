import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {setFlagsFromString} from 'node:v8'

import {Kysely, PostgresDialect} from 'kysely'

import {ConfigError} from '../config/config-error.js'
import {storageErrorOf} from '../errors/storage-error.js'
import {DEFAULT_DATABASE_LIMITS, type DatabaseTarget} from '../config/settings.js'
import {type BulkSession, embeddedBulkSession, serverBulkSession} from './bulk-session.js'
import {DatabaseUnavailableError, MigrationsPendingError} from './database-errors.js'
import {embeddedOpenFailure} from './embedded-failures.js'
import {acquireEmbeddedLock, type EmbeddedLock, type LockHolder} from './embedded-lock.js'
import {embeddedServerAnswers, embeddedSocketDir, embeddedSocketPath, SOCKET_PORT} from './embedded-socket.js'
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
  /** The embedded database reached through the shared server (`db start`) rather than opened here. */
  readonly shared?: true
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

/** How often a command that found a serving holder checks that its socket answers. */
const SERVER_POLL_MS = 50

/**
 * The embedded database: through the shared server on the home's socket when one runs
 * (`db start`, `serve`), else opened here, under the lock, as the only user.
 */
async function openEmbedded(target: Extract<DatabaseTarget, {kind: 'embedded'}>, options: OpenOptions): Promise<OpenDatabase> {
  const deadline = Date.now() + target.lockTimeoutMs
  let announced = false
  for (;;) {
    if (await embeddedServerAnswers(target.home)) return openShared(target, options)
    const lock = await acquireEmbeddedLock(target.dataDir, {
      command: options.command,
      onWait(holder) {
        if (!announced) options.onProgress?.({holder, type: 'waiting'})
        announced = true
      },
      signal: options.signal,
      // A holder that serves the database is connected to rather than waited for.
      stopWaiting: (holder) => holder?.serving === true && existsSync(embeddedSocketPath(target.home)),
      timeoutMs: Math.max(0, deadline - Date.now()),
    }).catch((error: unknown) => {
      // A full disk or a read-only mount shows first here, where the lock file is written.
      throw storageErrorOf(error) ?? error
    })
    if (lock) {
      const held = await holdEmbedded(target, options, lock)
      const session = embeddedBulkSession(held.client, held.db)
      return {backend: 'embedded', bulk: (work) => work(session), close: held.close, db: held.db, location: target.dataDir, migrated: held.migrated}
    }

    // Its socket exists but may not answer yet (the server is still starting).
    await sleep(SERVER_POLL_MS, undefined, {signal: options.signal})
  }
}

/** The embedded database held by this process: PGlite open, migrated, under the lock. */
export interface HeldEmbedded {
  readonly client: import('@electric-sql/pglite').PGlite
  /** Closes PGlite and releases the lock. Idempotent. */
  close(): Promise<void>
  readonly db: Db
  readonly migrated: readonly string[]
}

/**
 * Takes the embedded database to serve it to other processes (`db start`): waits for a
 * command that holds it to finish, like any command; `undefined` if a server already runs.
 */
export async function holdEmbeddedForServing(
  target: Extract<DatabaseTarget, {kind: 'embedded'}>,
  options: OpenOptions,
): Promise<HeldEmbedded | undefined> {
  const lock = await acquireEmbeddedLock(target.dataDir, {
    command: options.command,
    onWait: (holder) => options.onProgress?.({holder, type: 'waiting'}),
    serving: true,
    signal: options.signal,
    stopWaiting: (holder) => holder?.serving === true,
    timeoutMs: target.lockTimeoutMs,
  }).catch((error: unknown) => {
    throw storageErrorOf(error) ?? error
  })
  return lock ? holdEmbedded(target, options, lock) : undefined
}

async function holdEmbedded(target: Extract<DatabaseTarget, {kind: 'embedded'}>, options: OpenOptions, lock: EmbeddedLock): Promise<HeldEmbedded> {
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
    return {
      client: opened,
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
      migrated,
    }
  } catch (error) {
    await client?.close().catch(() => {})
    lock.release()
    throw error
  }
}

/**
 * A client of the shared embedded server: `pg` over the home's socket, as to any Postgres
 * server, except that the session is everyone's. No SETs (they would apply to every client),
 * and the embedded database's own rule for migrations: it migrates itself.
 */
async function openShared(target: Extract<DatabaseTarget, {kind: 'embedded'}>, options: OpenOptions): Promise<OpenDatabase> {
  const location = `${target.dataDir} (shared through ${embeddedSocketPath(target.home)})`
  const opened = await connectServer(
    {kind: 'server', limits: DEFAULT_DATABASE_LIMITS, setting: 'SYNTHEX_HOME', url: 'postgres://postgres@localhost/postgres'},
    {...options, migrations: 'ignore'},
    location,
    false,
    {database: 'postgres', host: embeddedSocketDir(target.home), port: SOCKET_PORT, user: 'postgres'},
  )
  let migrated: string[] = []
  try {
    if (options.migrations !== 'ignore') {
      const pending = await pendingMigrations(opened.db)
      if (pending.length > 0) {
        options.onProgress?.({pending, type: 'migrating'})
        migrated = await migrateToLatest(opened.db)
      }
    }
  } catch (error) {
    await opened.close()
    throw error
  }

  return {...opened, backend: 'embedded', migrated, shared: true}
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
  shared?: import('pg').PoolConfig,
): Promise<OpenDatabase> {
  // Loaded here, not at the top: commands on the embedded database never pay for pg.
  const [{parse}, {serverPool}] = await Promise.all([import('pg-connection-string'), import('./server-pool.js')])
  // libpq semantics for sslmode (require = encrypt without verifying, as psql and Supabase's
  // docs mean it); pg's own reading of `require` is verify-full.
  let config: import('pg').PoolConfig
  try {
    config = shared ?? (parse(target.url, {useLibpqCompat: true}) as import('pg').PoolConfig)
  } catch (error) {
    // sslrootcert, sslcert and sslkey name files that are read here.
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError(target.setting, code ? `a TLS file it names (sslrootcert, sslcert or sslkey) cannot be read (${code})` : 'it cannot be parsed as a connection URL')
  }

  const limits = target.limits ?? DEFAULT_DATABASE_LIMITS
  const bulk = options.statements === 'bulk'
  // On the shared embedded server a statement may wait its turn behind another client's
  // transaction (an import's chunk): every statement gets the bulk allowance there.
  const statementTimeoutMs = bulk || shared ? limits.bulkStatementTimeoutMs : limits.statementTimeoutMs
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
    sessionLimits: !shared,
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

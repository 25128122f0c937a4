import pg from 'pg'

import {DatabaseUnavailableError} from './database-errors.js'
import {cannotConnect, connectionFailure, type FailureContext} from './server-failures.js'

/**
 * pg's pool with every wait bounded, so that a server or network that stops answering ends
 * a command with DatabaseUnavailableError instead of hanging it:
 *
 * - connecting (and waiting for a free connection) gives up after the connect timeout;
 * - each session gets `statement_timeout` (the server cancels a statement that runs too
 *   long) and `idle_in_transaction_session_timeout` (the server ends a session whose
 *   transaction synthex left waiting, say a process stopped mid-import, releasing its locks);
 * - a statement without a reply a little after the statement timeout means the server or
 *   the network is gone: the connection is dropped (pg would otherwise queue every later
 *   statement behind the lost one) and the pool refuses further work at once, so a command
 *   fails in one timeout rather than one per statement it had left;
 * - TCP keepalive lets the kernel notice a dead peer on a connection that is idle;
 * - a connection lost while checked out (a terminated backend, a reset) is an error of the
 *   statement that meets it, never an unhandled 'error' event that crashes the process.
 *
 * The limits are set with a SET on each new connection rather than as startup parameters,
 * which PgBouncer and some hosted poolers refuse.
 */
export interface ServerPoolOptions {
  readonly config: pg.PoolConfig
  readonly context: FailureContext
  readonly poolSize: number
  /**
   * Whether each connection SETs its timeouts (default true). Not on the shared embedded
   * server: there every client shares one session, and one client's SET would be everyone's.
   */
  readonly sessionLimits?: boolean
}

/** A pooled connection; `failure` turns what a statement or COPY on it threw into what to report. */
export interface ServerClient extends pg.PoolClient {
  failure(error: unknown): unknown
}

export interface ServerPool {
  connect(): Promise<ServerClient>
  /** Closes every connection: politely, then by dropping those whose peer does not answer. */
  end(): Promise<void>
}

/** Idle time before the first keepalive probe; the kernel's own settings space the next ones. */
const KEEPALIVE_IDLE_MS = 10_000
/** How long a polite close may take before its connections are dropped. */
const END_GRACE_MS = 1000

export function serverPool(options: ServerPoolOptions): ServerPool {
  const {context} = options
  const clients = new Set<GuardedClient>()
  // Once the server has stopped answering, or a connection was lost, nothing more is tried.
  let broken: DatabaseUnavailableError | undefined
  // The server stopped answering: a polite goodbye would wait for it in vain.
  let silent = false
  const {replyTimeoutMs, statementTimeoutMs} = context

  class GuardedClient extends pg.Client {
    /** The error that ended this connection while no statement was running, if one did. */
    #lost: Error | undefined

    constructor(config: pg.ClientConfig) {
      super(config)
      clients.add(this)
      this.on('error', (error) => {
        this.#lost ??= error
      })
      this.once('end', () => clients.delete(this))
    }

    failure(error: unknown): unknown {
      const translated = connectionFailure(error, context, this.#lost)
      if (!translated) return error
      if (translated.kind === 'slow') return translated.error
      // The lost statement may still be on its way: nothing else can use this connection.
      if (translated.kind === 'silent') {
        silent = true
        this.connection.stream.destroy()
      }

      // What fails after (a rollback on the dead connection, another connection) fails for
      // the same reason: the first failure is the one to report.
      broken ??= translated.error
      return broken
    }

    // pg's query() has a dozen overloads, all wrapped the same way: a promise's failure is
    // translated; a Submittable (COPY) is translated by its caller through failure().
    override query(...args: unknown[]): never {
      const result = (super.query as (...parameters: unknown[]) => unknown)(...args)
      if (result instanceof Promise) {
        return result.catch((error: unknown) => {
          throw this.failure(error)
        }) as never
      }

      return result as never
    }
  }

  const pool = new pg.Pool({
    ...options.config,
    Client: GuardedClient as unknown as new () => pg.ClientBase,
    connectionTimeoutMillis: context.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    max: options.poolSize,
    onConnect: async (client: pg.ClientBase) => {
      if (options.sessionLimits === false) return
      await client.query(`set statement_timeout = ${statementTimeoutMs}; set idle_in_transaction_session_timeout = ${statementTimeoutMs}`)
    },
    query_timeout: replyTimeoutMs,
    types: {
      getTypeParser: ((oid: number, format?: 'binary' | 'text') =>
        // int8 as a number when it fits, as PGlite returns it, so both backends agree.
        oid === 20 ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  })
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {})

  let ended: Promise<void> | undefined
  return {
    async connect() {
      if (broken) throw broken
      try {
        return (await pool.connect()) as ServerClient
      } catch (error) {
        if (error instanceof DatabaseUnavailableError) throw error
        throw cannotConnect(error, context)
      }
    },
    end() {
      ended ??= (async () => {
        const poolEnded = pool.end().catch(() => {})
        if (!silent) {
          await briefly(poolEnded)
          const open = [...clients].filter((client) => !client.connection.stream.destroyed)
          await briefly(Promise.all(open.map((client) => new Promise<void>((resolve) => client.once('end', () => resolve())))))
        }

        for (const client of clients) client.connection.stream.destroy()
        await briefly(poolEnded)
      })()
      return ended
    },
  }
}

/** Waits for `work`, but no longer than END_GRACE_MS, and leaves no timer behind. */
async function briefly(work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, END_GRACE_MS)))])
  } finally {
    clearTimeout(timer)
  }
}

function parseInt8(text: string): bigint | number {
  const value = BigInt(text)
  return value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER) ? value : Number(value)
}

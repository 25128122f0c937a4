import type {PGlite} from '@electric-sql/pglite'

import {
  BackendScanner,
  copyInResponse,
  errorResponse,
  type FrontendMessage,
  FrontendReader,
  GSSENC_REQUEST,
  queryMessage,
  readyForQuery,
  SSL_REQUEST,
  statementText,
  syncMessage,
} from './wire-protocol.js'

/** What the session needs of a client connection. */
export interface SessionPeer {
  /** Ends the connection (after what was written is flushed). */
  end(): void
  write(bytes: Uint8Array): void
}

/**
 * One PGlite (one Postgres backend, one session) shared by many client connections, each
 * speaking the wire protocol as to any Postgres server. See docs/architecture.md, "The
 * shared embedded server".
 *
 * What a client sends is cut into units that the backend runs whole: everything up to a
 * Sync or a simple Query (so one client's unnamed statement is never replaced by another's
 * between its Parse and its Execute). Once a unit leaves the session inside a transaction
 * (ReadyForQuery says `T` or `E`) or mid-exchange (no ReadyForQuery yet), its client owns
 * the session: only its units run until ReadyForQuery says `I` again, so two clients'
 * transactions never interleave. A client that goes away while it owns the session has its
 * transaction rolled back at once; one that owns it and says nothing for `idleInTransactionMs`
 * is disconnected and rolled back, as Postgres's idle_in_transaction_session_timeout does.
 *
 * COPY FROM STDIN needs its rows in the same call as its statement (PGlite reads them from
 * the message it was given, and a COPY without them ends the process), so the client is
 * told to go ahead at once and the whole exchange runs as one unit when CopyDone arrives.
 * Anything else that would leave PGlite waiting for input is refused.
 */
export class SharedSession {
  readonly #db: PGlite
  readonly #idleInTransactionMs: number
  #owner: SessionClient | undefined
  #ownerTimer: NodeJS.Timeout | undefined
  readonly #queue: Unit[] = []
  #running = false
  #current: Unit | undefined
  #idleWaiters: Array<() => void> = []

  constructor(db: PGlite, options: {idleInTransactionMs: number}) {
    this.#db = db
    this.#idleInTransactionMs = options.idleInTransactionMs
  }

  /** A new client connection; feed it what the peer sends with `receive`. */
  connect(peer: SessionPeer): SessionClient {
    return new SessionClient(this, peer)
  }

  /** Resolves when nothing runs, nothing waits and no client owns the session. */
  async settled(): Promise<void> {
    if (!this.#running && this.#queue.length === 0 && !this.#owner) return
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
  }

  /** @internal */
  enqueue(unit: Unit): void {
    this.#queue.push(unit)
    if (unit.client === this.#owner) this.#stopOwnerTimer()
    void this.#pump()
  }

  /** @internal A client went away: drop what it queued; roll back what it left open. */
  disconnected(client: SessionClient): void {
    for (let index = this.#queue.length - 1; index >= 0; index--) {
      if (this.#queue[index]?.client === client) this.#queue.splice(index, 1)
    }

    // While one of its units runs, #run decides once the backend has answered.
    if (this.#owner === client && this.#current?.client !== client) this.#queueCleanup(client)
    void this.#pump()
  }

  #queueCleanup(client: SessionClient): void {
    this.#stopOwnerTimer()
    if (!this.#queue.some((unit) => unit.kind === 'cleanup' && unit.client === client)) this.#queue.unshift({bytes: undefined, client, kind: 'cleanup'})
  }

  async #pump(): Promise<void> {
    if (this.#running) return
    this.#running = true
    try {
      for (;;) {
        const index = this.#owner ? this.#queue.findIndex((unit) => unit.client === this.#owner) : 0
        const unit = index === -1 ? undefined : this.#queue.splice(index, 1)[0]
        if (!unit) break
        this.#current = unit
        try {
          await this.#run(unit)
        } finally {
          this.#current = undefined
        }
      }
    } finally {
      this.#running = false
    }

    if (this.#owner && !this.#owner.closed) this.#startOwnerTimer(this.#owner)
    if (this.#queue.length === 0 && !this.#owner) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  async #run(unit: Unit): Promise<void> {
    const scanner = new BackendScanner()
    if (unit.kind === 'cleanup') {
      await this.#db.runExclusive(async () => {
        // A Sync first ends an extended-protocol exchange left half done; then the
        // transaction it left open, if any, is rolled back.
        await this.#db.execProtocolRaw(syncMessage(), {syncToFs: false})
        await this.#db.execProtocolRaw(queryMessage('ROLLBACK'), {syncToFs: false})
      })
      this.#owner = undefined
      return
    }

    const {client} = unit
    try {
      if (unit.kind === 'copy') {
        // The client was already told CopyInResponse; the backend's own is not sent twice.
        const answer = await this.#db.runExclusive(() => this.#db.execProtocolRaw(unit.bytes))
        const skip = answer[0] === 0x47 ? 1 + Buffer.from(answer.buffer, answer.byteOffset, answer.length).readInt32BE(1) : 0
        const rest = answer.subarray(skip)
        scanner.push(rest)
        client.write(Buffer.from(rest))
      } else {
        await this.#db.runExclusive(() =>
          this.#db.execProtocolRawStream(unit.bytes, {
            onRawData(data) {
              scanner.push(data)
              client.write(Buffer.from(data))
            },
          }),
        )
      }
    } catch (error) {
      // PGlite itself failed (not an SQL error, which is an answer): this client cannot go on.
      client.write(errorResponse('FATAL', 'XX000', `the shared embedded database failed: ${error instanceof Error ? error.message : String(error)}`))
      client.end()
    }

    this.#owner = scanner.idle ? undefined : client
    if (this.#owner === client && client.closed) this.#queueCleanup(client)
  }

  #startOwnerTimer(client: SessionClient): void {
    this.#stopOwnerTimer()
    if (this.#idleInTransactionMs <= 0) return
    this.#ownerTimer = setTimeout(() => {
      if (this.#owner !== client) return
      client.write(errorResponse('FATAL', '25P03', 'terminating connection due to idle-in-transaction timeout (the shared embedded database serves other clients)'))
      client.end()
      client.gone()
    }, this.#idleInTransactionMs)
    this.#ownerTimer.unref()
  }

  #stopOwnerTimer(): void {
    if (this.#ownerTimer) clearTimeout(this.#ownerTimer)
    this.#ownerTimer = undefined
  }

  /** @internal Whether a client owns the session (for answers written without the backend). */
  owns(client: SessionClient): boolean {
    return this.#owner === client
  }
}

type Unit =
  | {readonly bytes: Buffer; readonly client: SessionClient; readonly kind: 'copy' | 'exchange'}
  | {readonly bytes: undefined; readonly client: SessionClient; readonly kind: 'cleanup'}

/** COPY ... FROM STDIN sent alone in a simple query: the only form the session accepts. */
const COPY_FROM_STDIN = /^\s*copy\s[^;]*\sfrom\s+stdin\b[^;]*;?\s*$/i
const MENTIONS_STDIN = /\bfrom\s+stdin\b/i

export class SessionClient {
  closed = false
  readonly #peer: SessionPeer
  readonly #reader = new FrontendReader()
  readonly #session: SharedSession
  #pending: Buffer[] = []
  #copying = false
  /** The exchange being received holds a Parse the session will not run. */
  #refusing = false

  constructor(session: SharedSession, peer: SessionPeer) {
    this.#session = session
    this.#peer = peer
  }

  /** Bytes from the peer. */
  receive(chunk: Buffer): void {
    if (this.closed) return
    let messages: FrontendMessage[]
    try {
      messages = this.#reader.push(chunk)
    } catch (error) {
      this.write(errorResponse('FATAL', '08P01', `invalid message: ${(error as Error).message}`))
      this.end()
      this.gone()
      return
    }

    for (const message of messages) this.#take(message)
  }

  /** The peer went away (or was sent away). */
  gone(): void {
    if (this.closed) return
    this.closed = true
    this.#pending = []
    this.#session.disconnected(this)
  }

  write(bytes: Uint8Array): void {
    if (!this.closed) this.#peer.write(bytes)
  }

  end(): void {
    this.#peer.end()
  }

  #take(message: FrontendMessage): void {
    if (message.kind === 'negotiation') {
      // No TLS on a private socket; a cancel request cannot reach a backend that is shared.
      if (message.code === SSL_REQUEST || message.code === GSSENC_REQUEST) this.write(Buffer.from('N'))
      else {
        this.end()
        this.gone()
      }

      return
    }

    if (message.kind === 'startup') {
      this.#session.enqueue({bytes: message.bytes, client: this, kind: 'exchange'})
      return
    }

    const {bytes, type} = message
    if (this.#copying) {
      this.#pending.push(bytes)
      if (type === 'c' || type === 'f') {
        this.#copying = false
        this.#flush('copy')
      }

      return
    }

    switch (type) {
      case 'X': {
        this.end()
        this.gone()
        return
      }

      case 'Q': {
        const sql = statementText(bytes)
        if (COPY_FROM_STDIN.test(sql) && this.#pending.length === 0) {
          this.#copying = true
          this.#pending.push(bytes)
          this.write(copyInResponse())
          return
        }

        if (MENTIONS_STDIN.test(sql)) return this.#refuse('COPY FROM STDIN must be sent alone, as a simple query, to the shared embedded database', true)
        this.#pending.push(bytes)
        this.#flush('exchange')
        return
      }

      case 'P': {
        this.#pending.push(bytes)
        if (MENTIONS_STDIN.test(statementText(bytes))) this.#refusing = true
        return
      }

      case 'S':
      case 'H': {
        this.#pending.push(bytes)
        if (this.#refusing) {
          this.#refusing = false
          return this.#refuse('COPY FROM STDIN must be sent as a simple query to the shared embedded database', type === 'S')
        }

        this.#flush('exchange')
        return
      }

      default: {
        this.#pending.push(bytes)
      }
    }
  }

  /**
   * Answers an exchange without running it: an error, then (after a Sync or a simple query)
   * ReadyForQuery with the session's state, which nothing has changed.
   */
  #refuse(message: string, ready: boolean): void {
    this.#pending = []
    this.write(errorResponse('ERROR', '0A000', message))
    if (ready) this.write(readyForQuery(this.#session.owns(this) ? 'T' : 'I'))
  }

  #flush(kind: 'copy' | 'exchange'): void {
    const bytes = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending)
    this.#pending = []
    this.#session.enqueue({bytes, client: this, kind})
  }
}

import {chmodSync, rmSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'

import type {PGlite} from '@electric-sql/pglite'

import {embeddedSocketDir, embeddedSocketPath, MAX_SOCKET_PATH} from './embedded-socket.js'
import {makePrivateDirectory} from './private-home.js'
import {SharedSession} from './shared-session.js'

export interface EmbeddedServerOptions {
  /** Stop by itself after this long without a client (0: never). */
  readonly idleTimeoutMs: number
  /** A client that holds a transaction open and says nothing for this long is disconnected. */
  readonly idleInTransactionMs: number
}

export interface EmbeddedServer {
  /** Clients connected now. */
  connections(): number
  readonly socketPath: string
  /**
   * Stops taking connections, lets those connected finish for up to `graceMs`, then
   * disconnects the rest (their open transactions are rolled back). The caller closes PGlite.
   */
  stop(graceMs: number): Promise<void>
  /** Resolves when the server stopped, by `stop` or after its idle timeout. */
  readonly stopped: Promise<'idle' | 'stopped'>
}

/** Serves an open PGlite on the home's socket; see SharedSession for how clients share it. */
export async function startEmbeddedServer(db: PGlite, home: string, options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const socketPath = embeddedSocketPath(home)
  if (socketPath.length > MAX_SOCKET_PATH) {
    throw new Error(`the socket path ${socketPath} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket allows; use a shorter SYNTHEX_HOME`)
  }

  makePrivateDirectory(embeddedSocketDir(home))
  // The caller holds the embedded lock: a socket file here is a dead server's.
  rmSync(socketPath, {force: true})
  const session = new SharedSession(db, {idleInTransactionMs: options.idleInTransactionMs})
  const sockets = new Set<Socket>()
  let idleTimer: NodeJS.Timeout | undefined
  let finish!: (how: 'idle' | 'stopped') => void
  const stopped = new Promise<'idle' | 'stopped'>((resolve) => (finish = resolve))
  let stopping: Promise<void> | undefined

  const server: Server = createServer((socket) => {
    clearTimeout(idleTimer)
    sockets.add(socket)
    socket.setNoDelay(true)
    const client = session.connect({
      end: () => socket.end(),
      write: (bytes) => {
        if (socket.writable) socket.write(bytes)
      },
    })
    socket.on('data', (chunk: Buffer) => client.receive(chunk))
    // A reset or a broken pipe is a client that went away; its work is cleaned up on close.
    socket.on('error', () => {})
    socket.once('close', () => {
      sockets.delete(socket)
      client.gone()
      if (sockets.size === 0 && !stopping) armIdleTimer()
    })
  })

  const armIdleTimer = (): void => {
    if (options.idleTimeoutMs <= 0) return
    clearTimeout(idleTimer)
    idleTimer = setTimeout(() => {
      if (sockets.size > 0) return
      void stop(0).then(() => finish('idle'))
    }, options.idleTimeoutMs)
  }

  const stop = (graceMs: number): Promise<void> =>
    (stopping ??= (async () => {
      clearTimeout(idleTimer)
      // No new clients (they open the database themselves once this process lets go of it);
      // the close callback comes once the connected ones are gone.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(socketPath, {force: true})
      const deadline = Date.now() + graceMs
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      for (const socket of sockets) socket.destroy()
      await closed
      await session.settled()
    })())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => {
      server.off('error', reject)
      resolve()
    })
  })
  chmodSync(socketPath, 0o600)
  armIdleTimer()

  return {
    connections: () => sockets.size,
    socketPath,
    stop: async (graceMs) => {
      await stop(graceMs)
      finish('stopped')
    },
    stopped,
  }
}

import {createConnection, createServer, type Server, type Socket} from 'node:net'

/** What the proxy does to the network when told to. */
export type Fault =
  /** Stop forwarding in both directions; connections stay open, new ones are accepted and ignored. */
  | 'blackhole'
  /** Drop every connection at once (both sides reset), as a restarted server or a broken link does. */
  | 'cut'

export interface TcpProxy {
  /** Breaks the network now. */
  break(fault: Fault): void
  /**
   * Breaks the network when the client sends bytes in which `marker` appears for the
   * `occurrence`-th time (1 by default). The bytes that carry it are not forwarded: the
   * statement holding it is lost on its way, mid-session. Postgres's wire protocol carries
   * SQL text as it is, so a marker can be a word of the statement to stop at.
   */
  breakOn(marker: string, fault: Fault, occurrence?: number): void
  close(): Promise<void>
  /** Connections open through the proxy (client side). */
  readonly connections: number
  readonly port: number
  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string
  /** Resolves when the client has sent `marker` for the `occurrence`-th time; forwarding goes on. */
  when(marker: string, occurrence?: number): Promise<void>
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (the Postgres server of the tests),
 * forwarding both ways until it is told to fail as networks do: stop forwarding without
 * closing anything (a dead peer, a firewall dropping packets), or cut every connection.
 */
export async function tcpProxy(upstream: {host: string; port: number}): Promise<TcpProxy> {
  const pairs = new Set<{client: Socket; server: Socket | undefined}>()
  let blackholed = false
  let trigger: {fault: Fault; marker: string; remaining: number} | undefined
  const watches: Array<{marker: string; remaining: number; resolve: () => void}> = []

  const apply = (fault: Fault): void => {
    if (fault === 'blackhole') {
      blackholed = true
      return
    }

    for (const pair of pairs) {
      pair.client.resetAndDestroy()
      pair.server?.resetAndDestroy()
    }

    pairs.clear()
  }

  const server: Server = createServer((client) => {
    const pair: {client: Socket; server: Socket | undefined} = {client, server: undefined}
    pairs.add(pair)
    client.on('error', () => {})
    client.on('close', () => {
      pairs.delete(pair)
      pair.server?.destroy()
    })
    // A blackholed network: the connection is accepted (the kernel does that) and nothing answers.
    if (blackholed) return

    const toServer = createConnection(upstream)
    pair.server = toServer
    toServer.on('error', () => client.destroy())
    toServer.on('close', () => {
      if (!blackholed) client.destroy()
    })
    client.on('data', (chunk: Buffer) => {
      for (const watch of [...watches]) {
        if (chunk.includes(watch.marker) && --watch.remaining === 0) {
          watches.splice(watches.indexOf(watch), 1)
          watch.resolve()
        }
      }

      if (trigger && chunk.includes(trigger.marker) && --trigger.remaining === 0) {
        const {fault} = trigger
        trigger = undefined
        apply(fault)
        return
      }

      if (!blackholed) toServer.write(chunk)
    })
    toServer.on('data', (chunk: Buffer) => {
      if (!blackholed) client.write(chunk)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}

  return {
    break: apply,
    breakOn(marker, fault, occurrence = 1) {
      trigger = {fault, marker, remaining: occurrence}
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy()
        pair.server?.destroy()
      }

      pairs.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    get connections() {
      return pairs.size
    },
    port,
    through(url) {
      const parsed = new URL(url)
      parsed.hostname = '127.0.0.1'
      parsed.port = String(port)
      return parsed.toString()
    },
    when(marker, occurrence = 1) {
      return new Promise<void>((resolve) => watches.push({marker, remaining: occurrence, resolve}))
    },
  }
}

/** The host and port of a postgres:// URL, for the proxy to forward to. */
export function upstreamOf(url: string): {host: string; port: number} {
  const parsed = new URL(url)
  return {host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432)}
}

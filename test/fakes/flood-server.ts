import {createServer, type Server} from 'node:http'

/**
 * A provider that answers every request with `status` and a body of `bytes` (200 MB by
 * default), streamed as fast as the client reads it: a client that reads it all pays in
 * memory and time; one that stops after a few KiB makes the server stop writing, and
 * `written` tells how far it got.
 */
export class FloodServer {
  /** Requests received. */
  requests = 0
  /** Body bytes the server managed to hand to the connection, over all requests. */
  written = 0
  #server: Server | undefined

  constructor(
    private readonly status: number,
    private readonly bytes = 200 * 1024 * 1024,
    private readonly headers: Record<string, string> = {},
  ) {}

  get url(): string {
    const address = this.#server?.address()
    if (!address || typeof address === 'string') throw new Error('the flood server is not listening')
    return `http://127.0.0.1:${address.port}`
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve()
      this.#server.closeAllConnections()
      this.#server.close(() => resolve())
    })
  }

  async listen(): Promise<this> {
    const chunk = Buffer.alloc(64 * 1024, 'A')
    this.#server = createServer((request, response) => {
      this.requests++
      request.resume()
      response.writeHead(this.status, {'content-length': String(this.bytes), 'content-type': 'text/plain', ...this.headers})
      let left = this.bytes
      const pump = (): void => {
        while (left > 0 && !response.destroyed) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left)
          left -= piece.length
          this.written += piece.length
          if (!response.write(piece)) return void response.once('drain', pump)
        }

        if (left === 0) response.end()
      }

      response.on('error', () => {})
      pump()
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    return this
  }
}

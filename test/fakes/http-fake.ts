import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'

/** A request as the fake received it. */
export interface Received {
  readonly at: number
  readonly body: string
  readonly headers: IncomingMessage['headers']
  readonly json: unknown
  readonly method: string
  readonly path: string
}

/** What the fake answers; `undefined` from a script step means "answer as the provider would". */
export interface Answer {
  readonly body?: string
  readonly delayMs?: number
  readonly headers?: Record<string, string>
  readonly status: number
}

/**
 * A provider on 127.0.0.1: a real HTTP server that validates requests the way the provider
 * documents, answers with its status codes and bodies, and can be told to fail (500, 429
 * with Retry-After) or be slow for its next requests.
 */
export abstract class HttpFake {
  /** Requests answered with success, in order. */
  readonly accepted: Received[] = []
  /** Every request, whatever the answer. */
  readonly received: Received[] = []
  #latencyMs = 0
  #script: Array<Answer | undefined> = []
  #server: Server | undefined

  get url(): string {
    const address = this.#server?.address()
    if (!address || typeof address === 'string') throw new Error('the fake is not listening')
    return `http://127.0.0.1:${address.port}`
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve()
      this.#server.closeAllConnections()
      this.#server.close(() => resolve())
    })
  }

  /** The next requests get these answers, in order (undefined: answer normally). */
  failNext(...answers: Array<Answer | undefined>): void {
    this.#script.push(...answers)
  }

  /** Every answer is delayed by this much (a provider 20 ms away, or a slow one). */
  latency(ms: number): void {
    this.#latencyMs = ms
  }

  async listen(): Promise<this> {
    this.#server = createServer((request, response) => void this.#handle(request, response))
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    return this
  }

  reset(): void {
    this.accepted.length = 0
    this.received.length = 0
    this.#script = []
  }

  /** The provider's own answer to a well-formed or malformed request. */
  protected abstract answer(request: Received): Answer

  /** What a fake does before answering a request it has received (keep it waiting, say). */
  protected async wait(_request: Received): Promise<void> {}

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      json = undefined
    }

    const received: Received = {at: Date.now(), body, headers: request.headers, json, method: request.method ?? 'GET', path: request.url ?? '/'}
    this.received.push(received)
    await this.wait(received)
    const scripted = this.#script.shift()
    const answer = scripted ?? this.answer(received)
    const delay = (answer.delayMs ?? 0) + this.#latencyMs
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    if (answer.status >= 200 && answer.status < 300) this.accepted.push(received)
    response.writeHead(answer.status, answer.headers ?? {})
    response.end(answer.body ?? '')
  }
}

import http, {type IncomingMessage} from 'node:http'
import https from 'node:https'

import type {NetworkPolicy} from './address-policy.js'
import {guardedLookup} from './guarded-lookup.js'
import {networkError, OutboundError} from './outbound-error.js'
import {outboundUrlProblem} from './outbound-url.js'

/**
 * One HTTP request to a provider, on node:http and node:https rather than fetch, for what
 * fetch cannot promise:
 *
 * - redirects are never followed (fetch re-sends the body, a routing key or a signed
 *   payload, to wherever a 307 points): a 3xx is returned as it is, for the caller to refuse;
 * - the answer's body is read up to `maxBodyBytes` and the connection then closed, so a
 *   provider answering 200 MB costs 8 KiB of memory, not a gigabyte;
 * - the address connected to is the address checked against the policy (guarded-lookup.ts);
 * - a connect timeout and a total timeout, headers and body included;
 * - errors carry Node's error code, never the URL or host name (see outbound-error.ts).
 */

export interface OutboundOptions {
  readonly body?: string | Uint8Array
  /** How long to wait for the TCP connection (default 5 s, at most the total). */
  readonly connectTimeoutMs?: number
  readonly headers?: Readonly<Record<string, string>>
  /** How much of the answer's body is kept (default 8 KiB); the rest is never read. */
  readonly maxBodyBytes?: number
  readonly method?: string
  readonly policy: NetworkPolicy
  readonly signal?: AbortSignal
  /** The whole exchange, from connecting to the end of the body (default 10 s). */
  readonly timeoutMs?: number
}

export interface OutboundResponse {
  /** The start of the body, as UTF-8, at most `maxBodyBytes` of it. */
  readonly body: string
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly status: number
  /** The body was longer than what was kept (or the answer stopped half-way). */
  readonly truncated: boolean
}

export const DEFAULT_MAX_BODY_BYTES = 8192
const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_CONNECT_TIMEOUT_MS = 5000

export async function outboundRequest(target: string | URL, options: OutboundOptions): Promise<OutboundResponse> {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw new OutboundError('refused: not a valid URL', 'refused')
  }

  const problem = outboundUrlProblem(url, options.policy)
  if (problem) throw new OutboundError(`refused: the URL ${problem}`, 'refused')
  if (options.signal?.aborted) throw new OutboundError('interrupted', 'interrupted')

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const connectTimeoutMs = Math.min(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs)
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body
  const headers: Record<string, string> = {'user-agent': 'synthex', ...options.headers}
  if (body !== undefined) headers['content-length'] = String(body.byteLength)

  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false
    let response: IncomingMessage | undefined
    const chunks: Buffer[] = []
    let size = 0
    let connectTimer: NodeJS.Timeout | undefined

    const cleanUp = (): void => {
      settled = true
      clearTimeout(totalTimer)
      clearTimeout(connectTimer)
      options.signal?.removeEventListener('abort', onAbort)
      // Whatever is left of the answer is not read: the connection goes.
      request.destroy()
    }

    const answer = (truncated: boolean): void => {
      if (settled || !response) return
      cleanUp()
      resolve({body: Buffer.concat(chunks).toString('utf8'), headers: flatHeaders(response), status: response.statusCode ?? 0, truncated})
    }

    // Once the status has arrived the provider has answered: a timeout or an interruption
    // while the body trickles in keeps what came (a 200 is a 200), it does not turn into a
    // failure that would send the message again.
    const fail = (error: OutboundError): void => {
      if (settled) return
      if (response) return answer(true)
      cleanUp()
      reject(error)
    }

    const onAbort = (): void => fail(new OutboundError('interrupted', 'interrupted'))
    const totalTimer = setTimeout(() => fail(new OutboundError(`no answer within ${seconds(timeoutMs)}`, 'timeout')), timeoutMs)
    options.signal?.addEventListener('abort', onAbort, {once: true})

    let request: http.ClientRequest
    try {
      request = (url.protocol === 'https:' ? https : http).request(
        {
          // A connection of its own: nothing pooled outlives the request or skips the address check.
          agent: false,
          headers,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          lookup: guardedLookup(options.policy),
          method: options.method ?? (body === undefined ? 'GET' : 'POST'),
          path: `${url.pathname}${url.search}`,
          port: url.port === '' ? undefined : Number(url.port),
        },
        (incoming) => {
          response = incoming
          incoming.on('data', (chunk: Buffer) => {
            if (settled) return
            const room = maxBodyBytes - size
            if (chunk.byteLength > room) {
              chunks.push(chunk.subarray(0, room))
              size = maxBodyBytes
              return answer(true)
            }

            chunks.push(chunk)
            size += chunk.byteLength
          })
          incoming.on('end', () => answer(false))
          incoming.on('error', () => answer(true))
          incoming.on('close', () => answer(!incoming.complete))
        },
      )
    } catch (error) {
      // Node refuses to build the request (a header value with a line break, say).
      clearTimeout(totalTimer)
      options.signal?.removeEventListener('abort', onAbort)
      reject(new OutboundError(`refused: ${networkError(error).message.replace('network error: ', '')}`, 'refused'))
      return
    }

    request.on('socket', (socket) => {
      if (!socket.connecting) return
      connectTimer = setTimeout(() => fail(new OutboundError(`could not connect within ${seconds(connectTimeoutMs)}`, 'timeout')), connectTimeoutMs)
      socket.once('connect', () => clearTimeout(connectTimer))
    })
    request.on('error', (error) => fail(networkError(error)))
    request.end(body)
  })
}

/**
 * Where a 3xx answer points, for the error that refuses to follow it: the host only (the
 * path may hold a token), or undefined when there is no readable Location.
 */
export function redirectHost(response: OutboundResponse, from: string | URL): string | undefined {
  const location = response.headers.location
  if (!location || location.includes('@')) return undefined
  try {
    return new URL(location, from).host || undefined
  } catch {
    return undefined
  }
}

function flatHeaders(response: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value
  return headers
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`
}

import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'

import {afterEach, describe, expect, it} from 'vitest'

import {INTERNAL_POLICY, STRICT_POLICY} from '../../src/net/address-policy.js'
import {OutboundError} from '../../src/net/outbound-error.js'
import {outboundRequest} from '../../src/net/outbound-request.js'
import {post} from '../../src/notifiers/http.js'
import {DeliveryError} from '../../src/notifiers/notifier.js'
import {SmtpNotifier} from '../../src/notifiers/smtp.js'
import {FloodServer} from '../fakes/flood-server.js'
import {silentServer} from '../fakes/silent-server.js'
import {SmtpFake} from '../fakes/smtp-fake.js'

/** A server on 127.0.0.1 answering with `handle`, keeping what it was sent. */
async function server(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<{close(): Promise<void>; received: string[]; url: string}> {
  const received: string[] = []
  const http: Server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    request.on('end', () => {
      received.push(`${request.method} ${request.url} ${body}`)
      handle(request, response)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    async close() {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
    received,
    url: `http://127.0.0.1:${(http.address() as {port: number}).port}`,
  }
}

const local = INTERNAL_POLICY
const signal = new AbortController().signal

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`)
  return error
}

describe('outbound requests', () => {
  const closing: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()))
  })

  it('never follow a redirect: the target gets nothing, and the failure names its host only', async () => {
    const elsewhere = await server((_request, response) => response.end('ok'))
    closing.push(elsewhere.close)
    const target = new URL(elsewhere.url)
    for (const status of [301, 302, 303, 307, 308]) {
      const redirecting = await server((_request, response) => {
        response.writeHead(status, {location: `${elsewhere.url}/collect?token=canary-token`})
        response.end()
      })
      closing.push(redirecting.close)
      const error = await failure(post(`${redirecting.url}/v2/enqueue`, '{"routing_key":"canary-key"}', {policy: local, signal}))
      expect(error.message).toBe(`HTTP ${status}: redirect to ${target.host} not followed`)
      expect(error).toMatchObject({retryable: false, status})
      expect(redirecting.received).toHaveLength(1)
    }

    expect(elsewhere.received).toEqual([])
  })

  it('read a few KiB of a 200 MB answer and close the connection, keeping a short excerpt', async () => {
    const flood = await new FloodServer(500).listen()
    closing.push(() => flood.close())
    const response = await outboundRequest(`${flood.url}/hook`, {body: '{}', method: 'POST', policy: local})
    expect(response).toMatchObject({status: 500, truncated: true})
    expect(response.body).toHaveLength(8192)
    const error = await failure(post(`${flood.url}/hook`, '{}', {policy: local, signal}))
    expect(error.message).toBe(`HTTP 500: ${'A'.repeat(500)}...`)
    expect(error.response).toHaveLength(503)
    // The server stopped long before 200 MB: what it wrote went no further than socket buffers.
    expect(flood.written).toBeLessThan(64 * 1024 * 1024)
  })

  it('cap an absurd Retry-After at an hour and say so, in seconds and as a date', async () => {
    for (const [value, note] of [
      ['99999999999999999', 'Retry-After 99999999999999999s capped at 1h'],
      ['Fri, 31 Dec 9999 23:59:59 GMT', 'Retry-After Fri, 31 Dec 9999 23:59:59 GMT capped at 1h'],
      ['-1', 'Retry-After "-1" not understood; ignored'],
    ] as const) {
      const limited = await server((_request, response) => {
        response.writeHead(429, {'retry-after': value})
        response.end('rate_limited')
      })
      closing.push(limited.close)
      const error = await failure(post(limited.url, '{}', {policy: local, signal}))
      expect(error.message).toBe(`HTTP 429: rate_limited (${note})`)
      expect(error.retryAfterMs).toBe(value === '-1' ? undefined : 3_600_000)
      expect(error.retryable).toBe(true)
    }
  })

  it('treat a status no HTTP provider answers as a permanent failure', async () => {
    const odd = await server((_request, response) => {
      response.writeHead(999)
      response.end('<html>')
    })
    closing.push(odd.close)
    expect(await failure(post(odd.url, '{}', {policy: local, signal}))).toMatchObject({message: 'HTTP 999: not an HTTP status', retryable: false})
  })

  it('refuse a name that resolves inside the network, before connecting, naming only the address', async () => {
    const inside = await server((_request, response) => response.end('ok'))
    closing.push(inside.close)
    const port = new URL(inside.url).port
    const error = await failure(post(`http://localhost:${port}/services/T/B/canary`, '{}', {policy: {allowHttp: true, allowPrivateNetwork: false}, signal}))
    expect(error.message).toMatch(/^address (127\.0\.0\.1|::1) is loopback; refused$/)
    expect(error.retryable).toBe(false)
    const literal = await failure(post(`https://[::ffff:169.254.169.254]:${port}/latest`, '{}', {policy: STRICT_POLICY, signal}))
    expect(literal.message).toBe('refused: the URL points to a link-local/metadata address, inside the network')
    expect(inside.received).toEqual([])
    // With the opt-out, the same name is reached.
    expect(await post(`http://localhost:${port}/x`, '{}', {policy: local, signal})).toMatchObject({body: 'ok', status: 200})
  })

  it('refuse a URL with a user name or password, never quoting it', async () => {
    const error = await failure(post('https://ops:canary-pw@hooks.example.com/services/T/B/X', '{}', {policy: local, signal}))
    expect(error.message).toBe('refused: the URL must not hold a user name or password (user:password@)')
    expect(error.retryable).toBe(false)
  })

  it('give up on a server that never answers, and on a connection refused, saying which without a URL', async () => {
    const silent = await silentServer()
    closing.push(() => silent.close())
    const timedOut = await failure(post(`http://127.0.0.1:${silent.port}/services/canary`, '{}', {policy: local, signal, timeoutMs: 300}))
    expect(timedOut).toMatchObject({message: 'no answer within 0.3s', retryable: true})
    const closedPort = silent.port
    await silent.close()
    closing.pop()
    const refused = await failure(post(`http://127.0.0.1:${closedPort}/services/canary`, '{}', {policy: local, signal}))
    expect(refused).toMatchObject({message: 'network error: ECONNREFUSED', retryable: true})
  })

  it('keep what came when the body stalls after the status: a 200 is not sent again', async () => {
    const stalling = await server((_request, response) => {
      response.writeHead(200, {'content-length': '1000'})
      response.write('ok so far')
    })
    closing.push(stalling.close)
    const response = await outboundRequest(stalling.url, {body: '{}', method: 'POST', policy: local, timeoutMs: 300})
    expect(response).toMatchObject({body: 'ok so far', status: 200, truncated: true})
  })

  it('stop when the caller interrupts', async () => {
    const silent = await silentServer()
    closing.push(() => silent.close())
    const controller = new AbortController()
    const pending = outboundRequest(`http://127.0.0.1:${silent.port}/`, {policy: local, signal: controller.signal})
    controller.abort()
    await expect(pending).rejects.toThrow(new OutboundError('interrupted', 'interrupted'))
  })

  it('connect to an SMTP server only at an address the policy allows', async () => {
    const smtp = await new SmtpFake().listen()
    closing.push(() => smtp.close())
    const byName = `${smtp.url.replace('127.0.0.1', 'localhost')}?tls=none`
    const message = {alertId: 1, details: {}, fingerprint: 'f', kind: 'test' as const, rule: 'test', severity: 'info' as const, startedAt: '', summary: 's', tenantId: 't', tenantName: 't', workspace: 'w'}
    const limits = {concurrency: 1, perMinute: 60}
    const strict = new SmtpNotifier({from: 'a@example.com', to: ['b@example.com'], url: byName}, limits)
    const refused = await failure(strict.send({messages: [message], runId: 'r'}, signal))
    expect(refused.message).toMatch(/^address (127\.0\.0\.1|::1) is loopback; refused$/)
    expect(refused.retryable).toBe(false)
    const literal = new SmtpNotifier({from: 'a@example.com', to: ['b@example.com'], url: `${smtp.url}?tls=none`}, limits)
    expect((await failure(literal.send({messages: [message], runId: 'r'}, signal))).message).toBe('refused: the host points to a loopback address, inside the network')
    expect(smtp.logins).toEqual([])
    const allowed = new SmtpNotifier({allowPrivateNetwork: true, from: 'a@example.com', to: ['b@example.com'], url: byName}, limits)
    await allowed.send({messages: [message], runId: 'r'}, signal)
    expect(smtp.mails).toHaveLength(1)
  })
})

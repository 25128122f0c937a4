import type {AddressInfo} from 'node:net'
import type {Server} from 'node:http'

import {serve} from '@hono/node-server'

import {buildApp, type ServeDependencies} from './app.js'
import {activityRoutes} from './routes/activity.js'
import {credentialRoutes} from './routes/credentials.js'
import {systemRoutes} from './routes/system.js'
import {tenantRoutes} from './routes/tenants.js'
import {userRoutes} from './routes/users.js'
import {webhookSubscriptionRoutes} from './routes/webhook-subscriptions.js'
import {webhookRoutes} from './routes/webhooks.js'

export interface HttpServer {
  /** Stops taking connections, lets requests in flight finish for up to `drainMs`, then drops the rest. */
  close(drainMs: number): Promise<void>
  readonly port: number
  readonly url: string
}

/**
 * Timeouts that keep a slow or silent client (slowloris) from holding a connection: the
 * headers must arrive within 10 s and the whole request within 30 s; an idle keep-alive
 * connection is closed after 5 s. Headers over Node's 16 KiB answer 431.
 */
const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 30_000
const KEEP_ALIVE_MS = 5000

export async function serveHttp(options: ServeDependencies & {host: string; port: number}): Promise<HttpServer> {
  const app = buildApp(options, [tenantRoutes, credentialRoutes, activityRoutes, webhookRoutes, webhookSubscriptionRoutes, userRoutes, systemRoutes])
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({fetch: app.fetch, hostname: options.host, port: options.port}, () => resolve(started as Server)) as Server
    started.once('error', reject)
  })
  server.headersTimeout = HEADERS_TIMEOUT_MS
  server.requestTimeout = REQUEST_TIMEOUT_MS
  server.keepAliveTimeout = KEEP_ALIVE_MS
  const {port} = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    async close(drainMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // A keep-alive connection whose request finishes during the drain is idle from then on:
      // closed as soon as it is, not after the keep-alive timeout.
      server.closeIdleConnections()
      const sweeper = setInterval(() => server.closeIdleConnections(), 50)
      const timer = setTimeout(() => server.closeAllConnections(), drainMs)
      await closed
      clearInterval(sweeper)
      clearTimeout(timer)
    },
    port,
    url: `http://${host}:${port}`,
  }
}

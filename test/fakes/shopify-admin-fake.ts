import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'

/**
 * Shopify's Admin API on 127.0.0.1, for many shops at once under `/{shop}/admin/...` (tests
 * set SYNTHEX_SHOPIFY_API_URL=http://127.0.0.1:PORT/{shop}), answering as Shopify documents
 * (https://shopify.dev/docs/api/usage/response-codes, .../api/usage/limits):
 *
 * - `GET /admin/api/<version>/shop.json` -> `{"shop":{...}}`; `GET /admin/oauth/access_scopes.json`
 *   -> `{"access_scopes":[{"handle":"read_products"},...]}`, with `X-Shopify-Access-Token`;
 * - 401 `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`
 *   for a missing or wrong token, and the shop's behaviour otherwise (frozen 402, 403, 404,
 *   locked 423, 429 with Retry-After a number of times, slow);
 * - the REST leaky bucket per shop: 40 requests, leaking 2 a second; a request over it gets
 *   429 with `Retry-After: 1.0`, and every answer says `X-Shopify-Shop-Api-Call-Limit: n/40`.
 *
 * Every request is recorded (method, path, headers) so a test can say where a token went.
 */

export type ShopBehaviour = 'forbidden' | 'frozen' | 'locked' | 'missing' | 'revoked' | 'server_error' | 'slow' | 'throttled' | 'valid'

export interface ShopSetup {
  readonly behaviour?: ShopBehaviour
  /** For `slow`: how long each answer takes. */
  readonly delayMs?: number
  /** Granted access scopes (default read_products). */
  readonly scopes?: readonly string[]
  /** For `throttled`: how many 429s before answering (default 1), and the Retry-After in seconds (default 1). */
  readonly throttleTimes?: number
  readonly retryAfterSeconds?: number
  readonly token: string
}

export interface ShopifyRequest {
  readonly at: number
  readonly headers: IncomingMessage['headers']
  readonly method: string
  readonly path: string
  /** The shop from the path (or X-Shopify-Shop-Domain), undefined when neither names one. */
  readonly shop: string | undefined
  readonly status: number
  /** This 429 came from the bucket (the client went over Shopify's rate), not from the shop's behaviour. */
  readonly overBucket: boolean
}

const INVALID_TOKEN = '[API] Invalid API key or access token (unrecognized login or wrong password)'

export class ShopifyAdminFake {
  readonly requests: ShopifyRequest[] = []
  readonly #shops = new Map<string, ShopSetup & {throttled: number}>()
  readonly #buckets = new Map<string, {at: number; level: number}>()
  #server: Server | undefined
  #delayMs = 0
  readonly bucket: {capacity: number; leakPerSecond: number}

  constructor(options: {bucket?: {capacity: number; leakPerSecond: number}} = {}) {
    this.bucket = options.bucket ?? {capacity: 40, leakPerSecond: 2}
  }

  get url(): string {
    const address = this.#server?.address()
    if (!address || typeof address === 'string') throw new Error('the fake is not listening')
    return `http://127.0.0.1:${address.port}`
  }

  /** SYNTHEX_SHOPIFY_API_URL for this fake. */
  get apiUrl(): string {
    return `${this.url}/{shop}`
  }

  /** Requests that overflowed a shop's bucket. */
  get overBucket(): ShopifyRequest[] {
    return this.requests.filter((request) => request.overBucket)
  }

  /** Every answer takes this long (the bench's provider 50 ms away). */
  answerDelay(ms: number): void {
    this.#delayMs = ms
  }

  shop(domain: string, setup: ShopSetup): void {
    this.#shops.set(domain, {...setup, throttled: 0})
  }

  async listen(): Promise<this> {
    this.#server = createServer((request, response) => void this.#handle(request, response))
    // The bench opens thousands of connections: no keep-alive timers to wait for at close.
    this.#server.keepAliveTimeout = 1000
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', 1024, resolve))
    return this
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve()
      this.#server.closeAllConnections()
      this.#server.close(() => resolve())
    })
  }

  reset(): void {
    this.requests.length = 0
    this.#buckets.clear()
  }

  /** Whether the bucket takes one more request for `shop` now (and counts it). */
  #admit(shop: string, now: number): {admitted: boolean; level: number} {
    const bucket = this.#buckets.get(shop) ?? {at: now, level: 0}
    const level = Math.max(0, bucket.level - ((now - bucket.at) / 1000) * this.bucket.leakPerSecond)
    bucket.at = now
    if (level + 1 > this.bucket.capacity) {
      bucket.level = level
      this.#buckets.set(shop, bucket)
      return {admitted: false, level: Math.ceil(level)}
    }

    bucket.level = level + 1
    this.#buckets.set(shop, bucket)
    return {admitted: true, level: Math.ceil(bucket.level)}
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for await (const chunk of request) void chunk
    const now = Date.now()
    const url = new URL(request.url ?? '/', 'http://fake')
    const match = /^\/([^/]+)(\/admin\/.*)$/.exec(url.pathname)
    const shopHeader = request.headers['x-shopify-shop-domain']
    const shop = match?.[1] ?? (typeof shopHeader === 'string' ? shopHeader : undefined)
    const path = match?.[2] ?? url.pathname
    const setup = shop === undefined ? undefined : this.#shops.get(shop)
    const record = (status: number, overBucket = false): void => {
      this.requests.push({at: now, headers: request.headers, method: request.method ?? 'GET', overBucket, path, shop, status})
    }

    const send = async (status: number, body: unknown, headers: Record<string, string> = {}, delayMs = 0): Promise<void> => {
      const wait = this.#delayMs + delayMs
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      response.writeHead(status, {'content-type': 'application/json; charset=utf-8', ...headers})
      response.end(JSON.stringify(body))
    }

    const isShopJson = request.method === 'GET' && /^\/admin\/api\/\d{4}-\d{2}\/shop\.json$/.test(path)
    const isScopes = request.method === 'GET' && path === '/admin/oauth/access_scopes.json'
    if (!setup || !shop) {
      record(404)
      return send(404, {errors: 'Not Found'})
    }

    const {admitted, level} = this.#admit(shop, now)
    const limit = {'x-shopify-shop-api-call-limit': `${level}/${this.bucket.capacity}`}
    if (!admitted) {
      record(429, true)
      return send(429, {errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.'}, {...limit, 'retry-after': '1.0'})
    }

    if (!isShopJson && !isScopes) {
      record(404)
      return send(404, {errors: 'Not Found'}, limit)
    }

    const token = request.headers['x-shopify-access-token']
    const behaviour = setup.behaviour ?? 'valid'
    const delay = behaviour === 'slow' ? (setup.delayMs ?? 1000) : 0
    if (behaviour === 'missing') {
      record(404)
      return send(404, {errors: 'Not Found'}, limit)
    }

    if (token !== setup.token || behaviour === 'revoked') {
      record(401)
      return send(401, {errors: INVALID_TOKEN}, limit)
    }

    switch (behaviour) {
      case 'frozen': {
        record(402)
        return send(402, {errors: 'Unavailable Shop'}, limit)
      }

      case 'forbidden': {
        record(403)
        return send(403, {errors: 'This action requires merchant approval for read_orders scope.'}, limit)
      }

      case 'locked': {
        record(423)
        return send(423, {errors: 'This shop is unavailable'}, limit)
      }

      case 'server_error': {
        record(500)
        return send(500, {errors: 'Internal Server Error'}, limit)
      }

      case 'throttled': {
        if (setup.throttled < (setup.throttleTimes ?? 1)) {
          setup.throttled++
          record(429)
          return send(429, {errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.'}, {...limit, 'retry-after': `${setup.retryAfterSeconds ?? 1}.0`})
        }

        break
      }

      default: {
        break
      }
    }

    record(200)
    if (isShopJson) {
      return send(200, {shop: {currency: 'USD', domain: shop, id: 548_380_009, myshopify_domain: shop, name: shop.split('.')[0], plan_name: 'basic'}}, limit, delay)
    }

    return send(200, {access_scopes: (setup.scopes ?? ['read_products']).map((handle) => ({handle}))}, limit, delay)
  }
}

import {createHmac, randomBytes} from 'node:crypto'
import {request} from 'node:http'
import {connect} from 'node:net'

import {sql} from 'kysely'
import {afterAll, beforeAll, expect, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {type CliTarget, describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {type ServeProcess, startServe} from '../helpers/serve-process.js'

const ENCRYPTION_KEY = randomBytes(32).toString('base64')
const SHOPIFY_SECRETS = ['old-secret', 'new-secret']

describeEachCliBackend('synthex serve over HTTP', (target) => {
  let serve: ServeProcess
  const keys: Record<string, string> = {}
  const env = (): Record<string, string> => ({...target().env, SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRETS.join(','), SYNTHEX_API_RATE_LIMIT: '100000', SYNTHEX_ENCRYPTION_KEY: ENCRYPTION_KEY})
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, {env: {...env(), ...extra}})
  const makeKey = async (name: string, scopes: string, extra: string[] = []): Promise<string> => {
    const made = await cli(['api-keys', 'create', name, '--scopes', scopes, '--json', ...extra])
    expect(made.code, made.stderr).toBe(0)
    return parseJson<{key: string}>(made).key
  }

  const call = async (method: string, path: string, options: {body?: unknown; headers?: Record<string, string>; key?: string; raw?: string} = {}) => {
    const headers: Record<string, string> = {...options.headers}
    if (options.key) headers.authorization = `Bearer ${options.key}`
    let body: string | undefined = options.raw
    if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      headers['content-type'] ??= 'application/json'
    }

    const response = await fetch(`${serve.url}${path}`, {body, headers, method})
    const text = await response.text()
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read whatever JSON came back
    let json: any
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }

    return {headers: response.headers, json, status: response.status, text}
  }

  beforeAll(async () => {
    keys.all = await makeKey('ops', 'all')
    keys.reader = await makeKey('reader', 'tenants:read')
    keys.revoked = await makeKey('leaver', 'all')
    keys.expired = await makeKey('old-key', 'all', ['--expires-in', '1h'])
    await withDatabase(target() as CliTarget, async (db) => {
      await sql`update api_keys set expires_at = now() - interval '1 minute' where name = 'old-key'`.execute(db)
    })
    serve = await startServe(env())
  })

  afterAll(async () => {
    const stopped = await serve?.stop()
    expect(stopped?.code).toBe(0)
  })

  it('answers 401 with WWW-Authenticate to a missing, malformed, unknown, revoked or expired key, and 403 for a missing scope', async () => {
    const missing = await call('GET', '/api/tenants')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(missing.json.error.code).toBe('UNAUTHENTICATED')
    expect((await call('GET', '/api/tenants', {key: 'not-a-key'})).status).toBe(401)
    const unknown = `sxk_${'A'.repeat(36)}`
    expect((await call('GET', '/api/tenants', {key: unknown})).status).toBe(401)
    expect((await call('GET', '/api/tenants', {key: keys.revoked})).status).toBe(200)
    expect((await cli(['api-keys', 'revoke', 'leaver'])).code).toBe(0)
    const revoked = await call('GET', '/api/tenants', {key: keys.revoked})
    expect([revoked.status, revoked.json.error.message]).toEqual([401, 'The API key has been revoked.'])
    const expired = await call('GET', '/api/tenants', {key: keys.expired})
    expect([expired.status, expired.json.error.message]).toEqual([401, 'The API key has expired.'])
    const forbidden = await call('POST', '/api/tenants', {body: {name: 'x', tenantId: 'x', type: 'shopify'}, key: keys.reader})
    expect([forbidden.status, forbidden.json.error.code]).toEqual([403, 'FORBIDDEN'])
    const listed = parseJson<{keys: Array<{lastUsedAt: string | null; name: string; prefix: string; revokedAt: string | null}>}>(await cli(['api-keys', 'list', '--json']))
    expect(listed.keys.find((key) => key.name === 'leaver')?.revokedAt).not.toBeNull()
    expect(listed.keys.find((key) => key.name === 'reader')?.lastUsedAt).not.toBeNull()
    expect(JSON.stringify(listed)).not.toContain(keys.all)
  })

  it('creates, reads, pages, changes and deletes tenants, with the status codes integrators expect', async () => {
    const created = await call('POST', '/api/tenants', {body: {name: 'Acme US', shopifyShop: 'acme-us.myshopify.com', tenantId: 'acme-us', type: 'shopify'}, key: keys.all})
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe('/api/tenants/acme-us')
    expect(created.json).toMatchObject({shopifyShop: 'acme-us.myshopify.com', status: 'active', tenantId: 'acme-us', workspace: 'default'})
    expect((await call('POST', '/api/tenants', {body: {name: 'Acme US', shopifyShop: 'acme-us.myshopify.com', tenantId: 'acme-us', type: 'shopify'}, key: keys.all})).status).toBe(409)
    const invalid = await call('POST', '/api/tenants', {body: {market: 'UK', name: '', tenantId: 'bad id', type: 'shopify'}, key: keys.all})
    expect(invalid.status).toBe(422)
    expect(invalid.json.error.details.issues.map((issue: {field: string}) => issue.field).sort()).toEqual(['market', 'name', 'shopifyShop', 'tenantId'])
    expect((await call('POST', '/api/tenants', {body: {nickname: 'x'}, key: keys.all})).status).toBe(422)
    for (const index of [1, 2, 3]) {
      expect((await call('POST', '/api/tenants', {body: {gmcMerchantId: String(100 + index), name: `Page ${index}`, tenantId: `page-${index}`, type: 'google_merchant'}, key: keys.all})).status).toBe(201)
    }

    const first = await call('GET', '/api/tenants?type=google_merchant&limit=2', {key: keys.reader})
    expect(first.json.tenants.map((tenant: {tenantId: string}) => tenant.tenantId)).toEqual(['page-1', 'page-2'])
    const second = await call('GET', `/api/tenants?type=google_merchant&limit=2&after=${first.json.nextCursor}`, {key: keys.reader})
    expect([second.json.tenants.map((tenant: {tenantId: string}) => tenant.tenantId), second.json.nextCursor]).toEqual([['page-3'], null])
    expect((await call('GET', '/api/tenants?limit=0', {key: keys.reader})).status).toBe(422)

    const patched = await call('PATCH', '/api/tenants/acme-us', {body: {market: 'us'}, key: keys.all})
    expect([patched.status, patched.json.tenant.market, patched.json.changes]).toEqual([200, 'US', {market: {from: null, to: 'US'}}])
    expect((await call('GET', '/api/tenants/nobody', {key: keys.reader})).status).toBe(404)
    expect((await call('GET', '/api/tenants/acme-us?workspace=elsewhere', {key: keys.reader})).status).toBe(404)
    const history = await call('GET', '/api/tenants/acme-us/events', {key: keys.all})
    expect(history.json.events.map((event: {type: string}) => event.type)).toEqual(['tenant.created', 'tenant.updated'])
    expect(history.json.events.map((event: {actor: string; source: string}) => `${event.actor}/${event.source}`)).toEqual(['ops/api', 'ops/api'])
    expect((await call('DELETE', '/api/tenants/page-3', {key: keys.all})).status).toBe(200)
    expect((await call('GET', '/api/tenants/page-3', {key: keys.reader})).status).toBe(404)
    // The CLI sees what the API did.
    expect((await cli(['tenant', 'tenants', 'get', 'acme-us', '--json'])).stdout).toContain('"market": "US"')
  })

  it('refuses a body that is not JSON, is invalid, or is too large, and stores nothing', async () => {
    const wrongType = await call('POST', '/api/tenants', {headers: {'content-type': 'text/plain'}, key: keys.all, raw: 'tenantId=x'})
    expect([wrongType.status, wrongType.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    const broken = await call('POST', '/api/tenants', {headers: {'content-type': 'application/json'}, key: keys.all, raw: '{"tenantId":'})
    expect([broken.status, broken.json.error.code]).toEqual([400, 'INVALID_JSON'])
    const huge = await call('POST', '/api/tenants', {headers: {'content-type': 'application/json'}, key: keys.all, raw: JSON.stringify({name: 'x'.repeat(2 * 1024 * 1024), tenantId: 'huge', type: 'shopify'})})
    expect(huge.status).toBe(413)
    const nested = await call('POST', '/api/tenants', {headers: {'content-type': 'application/json'}, key: keys.all, raw: `${'['.repeat(10_000)}${']'.repeat(10_000)}`})
    expect(nested.status).toBe(422)
    const header = await fetch(`${serve.url}/api/tenants`, {headers: {authorization: `Bearer ${keys.all}`, 'x-padding': 'x'.repeat(64 * 1024)}}).catch(() => undefined)
    expect(header?.status ?? 431).toBe(431)
    expect((await call('GET', '/api/tenants/huge', {key: keys.reader})).status).toBe(404)
    expect((await call('GET', '/api/tenants', {key: keys.reader})).status).toBe(200)
  })

  it('replays a POST with the same Idempotency-Key and body, and refuses the key with another body', async () => {
    const body = {name: 'Once', shopifyShop: 'once.myshopify.com', tenantId: 'once', type: 'shopify'}
    const first = await call('POST', '/api/tenants', {body, headers: {'idempotency-key': 'create-once-1'}, key: keys.all})
    const again = await call('POST', '/api/tenants', {body, headers: {'idempotency-key': 'create-once-1'}, key: keys.all})
    expect([first.status, again.status]).toEqual([201, 201])
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.json).toEqual(first.json)
    const other = await call('POST', '/api/tenants', {body: {...body, name: 'Other'}, headers: {'idempotency-key': 'create-once-1'}, key: keys.all})
    expect([other.status, other.json.error.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED'])
    const created = (await call('GET', '/api/events?type=tenant.created', {key: keys.all})).json.events.filter((event: {aggregateId: string}) => event.aggregateId === 'once')
    expect(created).toHaveLength(1)
  })

  it('sets and rotates credentials without ever returning or logging the value', async () => {
    const secret = `shpat_${randomBytes(16).toString('hex')}`
    const set = await call('PUT', '/api/tenants/acme-us/credentials/shopify', {body: {expiresIn: '90d', value: secret}, key: keys.all})
    expect([set.status, set.json.version, set.json.daysLeft]).toEqual([201, 1, 90])
    const rotated = await call('PUT', '/api/tenants/acme-us/credentials/shopify', {body: {expiresAt: '2099-01-01', value: `${secret}-2`}, key: keys.all})
    expect([rotated.status, rotated.json.version]).toEqual([200, 2])
    const listed = await call('GET', '/api/tenants/acme-us/credentials', {key: keys.all})
    expect(listed.json.credentials.map((credential: {service: string; version: number}) => `${credential.service}:${credential.version}`)).toEqual(['shopify:2'])
    expect((await call('PUT', '/api/tenants/acme-us/credentials/shopify', {body: {expiresIn: '90', value: 'x'}, key: keys.all})).status).toBe(422)
    expect((await call('GET', '/api/tenants/nobody/credentials', {key: keys.all})).status).toBe(404)
    for (const text of [set.text, rotated.text, listed.text, serve.output().stdout, serve.output().stderr]) expect(text).not.toContain(secret)
    // The CLI decrypts what the API stored.
    const revealed = await cli(['credentials', 'get', 'acme-us', '--service', 'shopify', '--reveal', '--json'])
    expect(revealed.stdout).toContain(`${secret}-2`)
  })

  it('creates tenants from Zapier and Make triggers, and answers 400 to an unknown trigger', async () => {
    const zap = await call('POST', '/api/webhooks/zapier', {body: {data: {name: 'Zap', shopify_shop: 'zap.myshopify.com', tenant_id: 'zap', type: 'shopify'}, trigger: 'new_tenant'}, key: keys.all})
    expect([zap.status, zap.json.tenantId]).toEqual([201, 'zap'])
    const make = await call('POST', '/api/webhooks/make', {body: {data: {gmc_merchant_id: '777', name: 'Made', tenant_id: 'made', type: 'google_merchant'}, trigger: 'new_tenant'}, key: keys.all})
    expect(make.status).toBe(201)
    const unknown = await call('POST', '/api/webhooks/zapier', {body: {data: {}, trigger: 'tenant_deleted'}, key: keys.all})
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'UNKNOWN_TRIGGER'])
    expect((await call('POST', '/api/webhooks/make', {body: {data: {tenant_id: 'x'}, trigger: 'new_tenant'}, key: keys.reader})).status).toBe(403)
  })

  it('verifies Shopify webhooks against either secret, applies each webhook id once, and deactivates an uninstalled shop', async () => {
    const body = JSON.stringify({domain: 'acme-us.myshopify.com', id: 1})
    const sign = (secret: string) => createHmac('sha256', secret).update(body).digest('base64')
    const shopify = (signature: string | undefined, id: string, topic = 'app/uninstalled') =>
      call('POST', '/api/webhooks/shopify', {
        headers: {'content-type': 'application/json', 'x-shopify-shop-domain': 'acme-us.myshopify.com', 'x-shopify-topic': topic, 'x-shopify-webhook-id': id, ...(signature ? {'x-shopify-hmac-sha256': signature} : {})},
        raw: body,
      })
    expect((await shopify(undefined, 'wh-0')).status).toBe(401)
    expect((await shopify(sign('wrong-secret'), 'wh-0')).status).toBe(401)
    expect((await shopify(sign('new-secret'), 'wh-0', 'products/update')).json).toMatchObject({applied: true, effect: 'activity recorded'})
    const uninstalled = await shopify(sign('old-secret'), 'wh-1')
    expect([uninstalled.status, uninstalled.json]).toEqual([200, {applied: true, effect: 'tenant deactivated', tenants: 1}])
    const retried = await shopify(sign('old-secret'), 'wh-1')
    expect([retried.status, retried.json.applied]).toEqual([200, false])
    expect((await call('GET', '/api/tenants/acme-us', {key: keys.reader})).json.status).toBe('inactive')
    const redacted = await shopify(sign('new-secret'), 'wh-2', 'shop/redact')
    expect(redacted.json.effect).toBe('credentials destroyed')
    expect((await call('GET', '/api/tenants/acme-us/credentials', {key: keys.all})).json.credentials).toEqual([])
    expect((await shopify(sign('new-secret'), 'wh-3', 'customers/redact')).json.effect).toBe('no customer data held')
  })

  it('serves health to anyone (reasons with health:read), metrics to metrics:read, and an OpenAPI document of every route', async () => {
    const open = await call('GET', '/api/health')
    expect([200, 503]).toContain(open.status)
    expect(open.json.checks.every((check: Record<string, unknown>) => Object.keys(check).sort().join() === 'name,status')).toBe(true)
    const detailed = await call('GET', '/api/health', {key: keys.all})
    expect(detailed.json.checks.some((check: {reason?: string}) => typeof check.reason === 'string')).toBe(true)
    expect((await call('GET', '/api/metrics')).status).toBe(401)
    const metrics = await call('GET', '/api/metrics', {key: keys.all})
    expect(metrics.status).toBe(200)
    expect(metrics.text).toMatch(/^# HELP synthex_/m)
    const document = (await call('GET', '/api/openapi.json')).json
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/api/alerts', '/api/api-keys', '/api/api-keys/{name}', '/api/events', '/api/health', '/api/me', '/api/metrics', '/api/tenants', '/api/tenants/{tenantId}', '/api/tenants/{tenantId}/credentials', '/api/tenants/{tenantId}/credentials/{service}', '/api/tenants/{tenantId}/events', '/api/webhook-subscriptions', '/api/webhook-subscriptions/{name}', '/api/webhook-subscriptions/{name}/enable', '/api/webhook-subscriptions/{name}/rotate-secret', '/api/users', '/api/webhooks/make', '/api/webhooks/shopify', '/api/webhooks/zapier'].sort(),
    )
    // A key made without a user acts as a superadmin (within its scopes).
    expect((await call('GET', '/api/me', {key: keys.reader})).json).toEqual({
      key: {name: 'reader', prefix: (keys.reader ?? '').slice(0, 10), scopes: ['tenants:read'], workspace: null},
      reach: {all: true},
      role: 'superadmin',
      scopes: ['tenants:read'],
      user: null,
      workspace: null,
    })
    expect((await call('GET', '/api/nowhere', {key: keys.all})).status).toBe(404)
  })

  it('logs one JSON line per request, never a key, a body or a tenant id', () => {
    const log = serve.accessLog()
    expect(log.length).toBeGreaterThan(20)
    expect(log.every((line) => typeof line.method === 'string' && typeof line.status === 'number' && typeof line.durationMs === 'number')).toBe(true)
    const text = serve.output().stdout
    for (const key of Object.values(keys)) expect(text).not.toContain(key)
    expect(text).not.toContain('acme-us')
    expect(log.some((line) => line.key === 'ops' && line.route === '/api/tenants/:tenantId')).toBe(true)
  })

  it('finishes a request in flight when told to stop, then exits 0', async () => {
    const own = await startServe(env())
    const url = new URL('/api/tenants', own.url)
    const answer = new Promise<{body: string; status: number}>((resolve, reject) => {
      const sent = request(url, {headers: {authorization: `Bearer ${keys.all}`, 'content-type': 'application/json'}, method: 'POST'}, (response) => {
        let body = ''
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({body, status: response.statusCode ?? 0}))
      })
      sent.on('error', reject)
      sent.write('{"tenantId":"in-flight","name":"In flight",')
      setTimeout(() => {
        own.child.kill('SIGTERM')
        setTimeout(() => sent.end('"type":"google_merchant","gmcMerchantId":"42"}'), 300)
      }, 200)
    })
    expect((await answer).status).toBe(201)
    const exited = await own.done
    expect(exited.code, exited.stderr).toBe(0)
    expect((await call('GET', '/api/tenants/in-flight', {key: keys.reader})).status).toBe(200)
  })

  it('lets other commands use the database while serve runs', async () => {
    const listed = await cli(['tenant', 'tenants', 'list', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain('"tenantId": "zap"')
  })

  it('keeps answering while 1,000 connections send nothing, and limits each key with 429 and Retry-After', async () => {
    const url = new URL(serve.url)
    const idle = await Promise.all(
      Array.from({length: 1000}, () => new Promise<ReturnType<typeof connect>>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => resolve(socket))
        socket.on('error', reject)
      })),
    )
    try {
      expect((await call('GET', '/api/tenants', {key: keys.reader})).status).toBe(200)
    } finally {
      for (const socket of idle) socket.destroy()
    }

    const limited = await startServe({...env(), SYNTHEX_API_RATE_LIMIT: '60'})
    try {
      const statuses: number[] = []
      let retryAfter: null | string = null
      for (let index = 0; index < 12; index++) {
        const response = await fetch(`${limited.url}/api/me`, {headers: {authorization: `Bearer ${keys.reader}`}})
        statuses.push(response.status)
        if (response.status === 429) retryAfter = response.headers.get('retry-after')
        await response.text()
      }

      expect(statuses.slice(0, 10).every((status) => status === 200)).toBe(true)
      expect(statuses.at(-1)).toBe(429)
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    } finally {
      await limited.stop()
    }
  })
})

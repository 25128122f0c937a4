import {randomBytes, randomUUID} from 'node:crypto'

import {afterAll, beforeAll, expect, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {// Receivers are literal addresses of TEST-NET-3 (203.0.113.0/24, RFC 5737): public to the
// address policy, and never resolved, so no test asks a DNS server beyond this machine.
describeEachCliBackend} from '../helpers/cli-backends.js'
import {type ServeProcess, startServe} from '../helpers/serve-process.js'

const ENCRYPTION_KEY = randomBytes(32).toString('base64')

/** Webhook subscriptions through `serve`: scopes, the secret shown once (never replayed), workspace reach, and no URL or secret in the log. */
describeEachCliBackend('synthex serve: webhook subscriptions', (target) => {
  let serve: ServeProcess
  const keys: Record<string, string> = {}
  const env = (): Record<string, string> => ({...target().env, SYNTHEX_API_RATE_LIMIT: '100000', SYNTHEX_ENCRYPTION_KEY: ENCRYPTION_KEY})
  const cli = (args: string[]) => runCli(args, {env: env()})
  const makeKey = async (name: string, scopes: string, extra: string[] = []): Promise<string> => {
    const made = await cli(['api-keys', 'create', name, '--scopes', scopes, '--json', ...extra])
    expect(made.code, made.stderr).toBe(0)
    return parseJson<{key: string}>(made).key
  }

  const answers: string[] = []
  const call = async (method: string, path: string, options: {body?: unknown; headers?: Record<string, string>; key?: string} = {}) => {
    const headers: Record<string, string> = {...options.headers}
    if (options.key) headers.authorization = `Bearer ${options.key}`
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${serve.url}${path}`, {body: options.body === undefined ? undefined : JSON.stringify(options.body), headers, method})
    const text = await response.text()
    answers.push(text)
    return {headers: response.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined, status: response.status, text} // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  beforeAll(async () => {
    expect((await cli(['tenant', 'workspaces', 'create', 'eu'])).code).toBe(0)
    keys.writer = await makeKey('hooks-admin', 'webhooks:read,webhooks:write')
    keys.reader = await makeKey('hooks-reader', 'webhooks:read')
    keys.tenants = await makeKey('tenants-only', 'tenants:read,tenants:write')
    keys.eu = await makeKey('eu-admin', 'webhooks:read,webhooks:write', ['--workspace', 'eu'])
    // As a server is run: no opt-out of the address policy for the process.
    serve = await startServe({...env(), SYNTHEX_ALLOW_HTTP: undefined, SYNTHEX_ALLOW_PRIVATE_NETWORK: undefined})
  })

  afterAll(async () => {
    expect((await serve?.stop())?.code).toBe(0)
  })

  it('adds, lists, rotates and removes subscriptions with the webhooks scopes; the secret is answered once and never replayed', async () => {
    const canary = `path${randomUUID().replaceAll('-', '')}`
    const url = `https://203.0.113.13/hooks/catch/${canary}`
    const body = {events: ['tenant.created', 'credential.*'], name: 'zapier', url}

    expect((await call('GET', '/api/webhook-subscriptions', {key: keys.tenants})).status).toBe(403)
    const forbidden = await call('POST', '/api/webhook-subscriptions', {body, key: keys.reader})
    expect([forbidden.status, forbidden.json?.error.details.required]).toEqual([403, 'webhooks:write'])
    expect((await call('GET', '/api/webhook-subscriptions')).status).toBe(401)

    const created = await call('POST', '/api/webhook-subscriptions', {body, headers: {'idempotency-key': 'add-zapier-1'}, key: keys.writer})
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe('/api/webhook-subscriptions/zapier')
    expect(created.json).toMatchObject({events: ['tenant.created', 'credential.*'], name: 'zapier', urlHost: '203.0.113.13', workspace: null})
    const secret = created.json?.secret as string
    expect(secret).toMatch(/^whsec_/)
    // A replay says what was created, but not the secret: the idempotency store keeps answers in clear.
    const replayed = await call('POST', '/api/webhook-subscriptions', {body, headers: {'idempotency-key': 'add-zapier-1'}, key: keys.writer})
    expect([replayed.status, replayed.headers.get('idempotent-replayed'), replayed.json?.secret, replayed.json?.name]).toEqual([201, 'true', null, 'zapier'])
    expect((await call('POST', '/api/webhook-subscriptions', {body, key: keys.writer})).status).toBe(409)

    const invalid = await call('POST', '/api/webhook-subscriptions', {body: {events: ['tenant.made'], name: 'Bad!', url: `http://127.0.0.1/${canary}`}, key: keys.writer})
    expect(invalid.status).toBe(422)
    expect(invalid.json?.error.details.issues.map((issue: {field: string}) => issue.field).sort()).toEqual(['events', 'name', 'url'])
    const inside = await call('POST', '/api/webhook-subscriptions', {body: {events: ['*'], name: 'inside', url: `https://169.254.169.254/${canary}`}, key: keys.writer})
    expect([inside.status, inside.json?.error.details.issues[0].message]).toEqual([422, 'points to a link-local/metadata address, inside the network'])
    // Nor may a key open the way into the server's network, unless whoever runs serve opted in.
    const optOut = await call('POST', '/api/webhook-subscriptions', {body: {allowHttp: true, allowPrivateNetwork: true, events: ['*'], name: 'inside', url: `http://169.254.169.254/${canary}`}, key: keys.writer})
    expect([optOut.status, optOut.json?.error.details.issues.map((issue: {field: string}) => issue.field)]).toEqual([422, ['allowHttp', 'allowPrivateNetwork']])

    const listed = await call('GET', '/api/webhook-subscriptions', {key: keys.reader})
    expect(listed.status).toBe(200)
    expect(listed.json?.subscriptions.map((subscription: {deliveries: unknown; name: string; urlHost: string}) => [subscription.name, subscription.urlHost, subscription.deliveries])).toEqual([['zapier', '203.0.113.13', {failed: 0, last: null, pending: 0}]])

    const rotated = await call('POST', '/api/webhook-subscriptions/zapier/rotate-secret', {body: {overlap: '1h'}, headers: {'idempotency-key': 'rotate-1'}, key: keys.writer})
    expect(rotated.status).toBe(200)
    const newSecret = rotated.json?.secret as string
    expect(newSecret).toMatch(/^whsec_/)
    expect(newSecret).not.toBe(secret)
    expect(Date.parse(rotated.json?.previousSecretUntil as string) - Date.now()).toBeGreaterThan(50 * 60_000)
    const rotatedAgain = await call('POST', '/api/webhook-subscriptions/zapier/rotate-secret', {body: {overlap: '1h'}, headers: {'idempotency-key': 'rotate-1'}, key: keys.writer})
    expect([rotatedAgain.json?.secret, rotatedAgain.json?.subscription.name]).toEqual([null, 'zapier'])
    expect((await call('POST', '/api/webhook-subscriptions/zapier/rotate-secret', {body: {overlap: '30d'}, key: keys.writer})).status).toBe(422)
    const enabled = await call('POST', '/api/webhook-subscriptions/zapier/enable', {body: {}, key: keys.writer})
    expect([enabled.status, enabled.json?.wasDisabled]).toEqual([200, false])

    expect((await call('DELETE', '/api/webhook-subscriptions/zapier', {key: keys.reader})).status).toBe(403)
    const removed = await call('DELETE', '/api/webhook-subscriptions/zapier', {key: keys.writer})
    expect([removed.status, removed.text]).toEqual([204, ''])
    expect((await call('DELETE', '/api/webhook-subscriptions/zapier', {key: keys.writer})).status).toBe(404)
    // The inbound Zapier route is another path: untouched.
    expect((await call('POST', '/api/webhooks/zapier', {body: {data: {}, trigger: 'nothing'}, key: keys.tenants})).status).toBe(400)

    // Each secret left in one answer; the URL in none, nor in the log; the CLI agrees.
    for (const shown of [secret, newSecret]) expect(answers.filter((answer) => answer.includes(shown))).toHaveLength(1)
    expect(answers.filter((answer) => answer.includes(canary))).toEqual([])
    const {stderr, stdout} = serve.output()
    for (const needle of [canary, secret, newSecret]) expect(`${stdout}${stderr}`).not.toContain(needle)
    const log = serve.accessLog()
    expect(log.some((line) => line.route === '/api/webhook-subscriptions/:name/rotate-secret' && line.key === 'hooks-admin')).toBe(true)
    const trail = await cli(['events', 'list', '--json'])
    for (const needle of [canary, secret, newSecret]) expect(trail.stdout).not.toContain(needle)
    expect(trail.stdout).toContain('"webhook.secret_rotated"')
  })

  it('limits a key of one workspace to that workspace\'s subscriptions', async () => {
    const everywhere = await call('POST', '/api/webhook-subscriptions', {body: {events: ['*'], name: 'global', url: 'https://203.0.113.16/'}, key: keys.writer})
    expect([everywhere.status, everywhere.json?.workspace]).toEqual([201, null])
    const own = await call('POST', '/api/webhook-subscriptions', {body: {events: ['tenant.*'], name: 'eu-crm', url: 'https://crm.example.eu/'}, key: keys.eu})
    expect([own.status, own.json?.workspace]).toEqual([201, 'eu'])
    expect((await call('POST', '/api/webhook-subscriptions', {body: {events: ['*'], name: 'sneaky', url: 'https://203.0.113.18/', workspace: 'default'}, key: keys.eu})).status).toBe(404)
    const seen = await call('GET', '/api/webhook-subscriptions', {key: keys.eu})
    expect(seen.json?.subscriptions.map((subscription: {name: string}) => subscription.name)).toEqual(['eu-crm'])
    expect((await call('DELETE', '/api/webhook-subscriptions/global', {key: keys.eu})).status).toBe(404)
    expect((await call('POST', '/api/webhook-subscriptions/global/rotate-secret', {body: {}, key: keys.eu})).status).toBe(404)
    const all = await call('GET', '/api/webhook-subscriptions', {key: keys.writer})
    expect(all.json?.subscriptions.map((subscription: {name: string; workspace: null | string}) => `${subscription.name}:${subscription.workspace}`)).toEqual(expect.arrayContaining(['eu-crm:eu', 'global:null']))
  })
})

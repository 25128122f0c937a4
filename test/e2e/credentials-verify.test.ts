import {randomBytes} from 'node:crypto'

import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {type CliResult, parseJson, runCli, startCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {columnsContaining, withDatabase} from '../helpers/inspect-database.js'
import {ShopifyAdminFake} from '../fakes/shopify-admin-fake.js'
import {type FleetShops, shopifyFleet} from '../helpers/shopify-fleet.js'

interface Failure {
  httpStatus: null | number
  label: string
  message: null | string
  outcome: string
  reason: string
  scopesMissing: string[]
  tenantId: string
}

interface Report {
  alreadyVerified: number
  counts: Record<string, number>
  failures: Failure[]
  resumed: boolean
  total: number
  verified: number
}

const key = randomBytes(32).toString('base64')
const REQUIRED = 'read_products,read_orders'
const GRANTED = ['read_products', 'write_orders']
let fake: ShopifyAdminFake

beforeAll(async () => {
  fake = await new ShopifyAdminFake().listen()
})
afterAll(async () => {
  await fake.close()
})
beforeEach(() => {
  fake.reset()
  fake.answerDelay(0)
})

describeEachCliBackend('credentials verify', (target) => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, {env: {...target().env, SHOPIFY_SCOPES: REQUIRED, SYNTHEX_ENCRYPTION_KEY: `k:${key}`, SYNTHEX_SHOPIFY_API_URL: fake.apiUrl, ...env}})
  const fleet = (shops: FleetShops) => shopifyFleet(target(), `k:${key}`, fake, shops, GRANTED)

  it('records each answer of the Admin API as its outcome, exits 3 on a rejected credential, and the token goes only to Shopify', async () => {
    const {tokens, workspace} = await fleet({
      forbidden: {behaviour: 'forbidden'},
      frozen: {behaviour: 'frozen'},
      locked: {behaviour: 'locked'},
      missing: {behaviour: 'missing'},
      revoked: {behaviour: 'revoked'},
      scopeless: {scopes: ['read_products']},
      slow: {behaviour: 'slow', delayMs: 10_000},
      throttled: {behaviour: 'throttled', retryAfterSeconds: 1, throttleTimes: 1},
      valid: {},
    })
    const transcript: CliResult[] = []
    const all = await run(['credentials', 'verify', '--all', '-w', workspace, '--timeout', '5s', '--json'])
    transcript.push(all)
    expect(all.code, all.stderr).toBe(3)
    const report = parseJson<Report>(all)
    expect(report.counts).toEqual({error: 0, rejected: 4, scopes_missing: 2, throttled: 0, timeout: 1, valid: 2})
    expect(report.total).toBe(9)
    const byTenant = Object.fromEntries(report.failures.map((failure) => [failure.tenantId, failure]))
    expect(Object.keys(byTenant).sort()).toEqual(['forbidden', 'frozen', 'locked', 'missing', 'revoked', 'scopeless', 'slow'])
    expect(byTenant.revoked).toMatchObject({httpStatus: 401, message: '[API] Invalid API key or access token (unrecognized login or wrong password)', outcome: 'rejected', reason: 'revoked_or_invalid'})
    expect(byTenant.frozen).toMatchObject({httpStatus: 402, message: 'Unavailable Shop', outcome: 'rejected', reason: 'shop_frozen'})
    expect(byTenant.missing).toMatchObject({httpStatus: 404, outcome: 'rejected', reason: 'not_found'})
    expect(byTenant.locked).toMatchObject({httpStatus: 423, outcome: 'rejected', reason: 'shop_locked'})
    expect(byTenant.forbidden).toMatchObject({httpStatus: 403, outcome: 'scopes_missing', reason: 'forbidden'})
    expect(byTenant.scopeless).toMatchObject({httpStatus: 200, outcome: 'scopes_missing', reason: 'scopes_missing', scopesMissing: ['read_orders']})
    expect(byTenant.slow).toMatchObject({httpStatus: null, outcome: 'timeout', reason: 'timeout'})

    // The throttled shop was answered 429 once, and asked again no sooner than its Retry-After.
    const throttled = fake.requests.filter((request) => request.shop === `${workspace}-throttled.myshopify.com`)
    expect(throttled.map((request) => request.status)).toEqual([429, 200, 200])
    expect((throttled[1]?.at ?? 0) - (throttled[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000)
    expect(fake.overBucket).toEqual([])

    // The token was sent in X-Shopify-Access-Token, and in nothing else that reached Shopify.
    const validRequests = fake.requests.filter((request) => request.shop === `${workspace}-valid.myshopify.com`)
    expect(validRequests.map((request) => request.path)).toEqual([expect.stringMatching(/^\/admin\/api\/\d{4}-\d{2}\/shop\.json$/), '/admin/oauth/access_scopes.json'])
    for (const request of validRequests) {
      expect(request.headers['x-shopify-access-token']).toBe(tokens.valid)
      const {'x-shopify-access-token': sent, ...rest} = request.headers
      expect(JSON.stringify(rest) + request.path).not.toContain(tokens.valid)
      expect(sent).toBeDefined()
    }

    // One tenant: its outcome and exit code, in words.
    const one = await run(['credentials', 'verify', 'valid', '-w', workspace])
    transcript.push(one)
    expect(one.code, one.stderr).toBe(0)
    expect(one.stderr).toContain('✓ Verified 1 credential: all valid.')
    const rejected = await run(['credentials', 'verify', 'revoked', '-w', workspace])
    transcript.push(rejected)
    expect(rejected.code).toBe(3)
    expect(rejected.stdout).toMatch(/revoked\s+shopify\s+default\s+rejected\s+revoked_or_invalid\s+401\s+\[API\] Invalid API key/)
    expect(rejected.stderr).toContain('1 credential is rejected or missing scopes: exit 3.')

    const metrics = await run(['metrics'])
    transcript.push(metrics)
    for (const result of transcript) for (const secret of Object.values(tokens)) expect(result.stdout + result.stderr).not.toContain(secret)
    const stored = await withDatabase(target(), async (db) => Promise.all(Object.values(tokens).map((secret) => columnsContaining(db, secret))))
    expect(stored.flat()).toEqual([])
  })

  it('treats timeouts and provider errors as transient unless --fail-on any, and refuses a tenant id with --all', async () => {
    const {workspace} = await fleet({busy: {behaviour: 'throttled', retryAfterSeconds: 0, throttleTimes: 100}, down: {behaviour: 'server_error'}, fine: {}})
    const lenient = await run(['credentials', 'verify', '--all', '-w', workspace])
    expect(lenient.code, lenient.stderr).toBe(0)
    expect(lenient.stderr).toContain('Verified 3 credentials: 1 valid, 0 scopes_missing, 0 rejected, 1 throttled, 0 timeout, 1 error.')
    expect(lenient.stdout).toMatch(/down\s+shopify\s+default\s+error\s+server_error\s+500\s+Internal Server Error/)
    expect(lenient.stdout).toMatch(/busy\s+shopify\s+default\s+throttled\s+rate_limited\s+429\s+Exceeded 2 calls per second/)
    // Three attempts, then throttled.
    expect(fake.requests.filter((request) => request.shop === `${workspace}-busy.myshopify.com`).map((request) => request.status)).toEqual([429, 429, 429])
    const strict = await run(['credentials', 'verify', '--all', '-w', workspace, '--restart', '--fail-on', 'any', '--json'])
    expect(strict.code).toBe(3)
    expect(parseJson<Report>(strict)).toMatchObject({counts: {error: 1, throttled: 1, valid: 1}, resumed: false})

    const both = await run(['credentials', 'verify', 'fine', '--all'])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('Give a tenant id or --all, not both.')
  })

  it('stops on SIGINT with exit 130 keeping what was answered, and the next --all verifies only the rest', async () => {
    const shops = Object.fromEntries(Array.from({length: 24}, (_, index) => [`t${String(index).padStart(2, '0')}`, {}]))
    const {workspace} = await fleet(shops)
    fake.answerDelay(300)
    const first = startCli(['credentials', 'verify', '--all', '-w', workspace, '--concurrency', '2'], {
      env: {...target().env, SHOPIFY_SCOPES: REQUIRED, SYNTHEX_ENCRYPTION_KEY: `k:${key}`, SYNTHEX_SHOPIFY_API_URL: fake.apiUrl},
    })
    for (let waited = 0; fake.requests.filter((request) => request.status === 200).length < 8 && waited < 600; waited++) await new Promise((resolve) => setTimeout(resolve, 50))
    first.child.kill('SIGINT')
    const stopped = await first.done
    expect(stopped.code, stopped.stderr).toBe(130)
    expect(stopped.stderr).toMatch(/Interrupted: \d+ credentials verified and stored by this run/)
    expect(stopped.stderr).toContain('Run the same `credentials verify --all` again to resume')

    const answeredBefore = new Set(fake.requests.filter((request) => request.path === '/admin/oauth/access_scopes.json' && request.status === 200).map((request) => request.shop))
    fake.reset()
    fake.answerDelay(0)
    const second = await run(['credentials', 'verify', '--all', '-w', workspace, '--json'])
    expect(second.code, second.stderr).toBe(0)
    const report = parseJson<Report>(second)
    expect(report.resumed).toBe(true)
    expect(report.alreadyVerified).toBeGreaterThan(0)
    expect(report.alreadyVerified + report.verified).toBe(24)
    expect(report.counts.valid).toBe(24)
    // Only the credentials without an answer were called again: two requests each, and none
    // of the shops whose answer the first run stored.
    expect(fake.requests.length).toBe(2 * report.verified)
    const calledAgain = new Set(fake.requests.map((request) => request.shop))
    expect(calledAgain.size).toBe(report.verified)
    expect(report.alreadyVerified).toBeLessThanOrEqual(answeredBefore.size)

    // That run finished: the next --all is a new one.
    fake.reset()
    const third = await run(['credentials', 'verify', '--all', '-w', workspace, '--json', '--concurrency', '16'])
    expect(parseJson<Report>(third)).toMatchObject({alreadyVerified: 0, resumed: false, verified: 24})
  })

  it('never overflows a shop\'s bucket of 40, however many credentials share the shop and however many run at once', async () => {
    const {workspace} = await fleet({busy: {labels: 21}})
    const result = await run(['credentials', 'verify', '--all', '-w', workspace, '--concurrency', '32', '--json'])
    expect(result.code, result.stderr).toBe(0)
    expect(parseJson<Report>(result).counts.valid).toBe(21)
    expect(fake.requests).toHaveLength(42)
    expect(fake.overBucket).toEqual([])
    expect(fake.requests.every((request) => request.status === 200)).toBe(true)
  })
})

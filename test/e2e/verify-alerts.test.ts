import {randomBytes, randomUUID} from 'node:crypto'

import {afterAll, beforeAll, expect, it} from 'vitest'

import {CONTENT_SCOPE, GoogleFake, serviceAccountKey} from '../fakes/google-fake.js'
import {ShopifyAdminFake} from '../fakes/shopify-admin-fake.js'
import {type CliResult, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend, ownTarget} from '../helpers/cli-backends.js'
import {seedFleet} from '../helpers/seed-fleet.js'
import {shopifyFleet, shopifyToken} from '../helpers/shopify-fleet.js'

const KEY = `k:${randomBytes(32).toString('base64')}`
const MERCHANT = '5550001'
const CLIENT = {id: '1234-verify.apps.googleusercontent.com', secret: `GOCSPX-canary-${randomUUID()}`}

interface Alert {
  details: Record<string, unknown>
  rule: string
  severity: string
  state: string
  tenantId: string
}

/**
 * From the provider's answer to the page: `credentials verify` against Shopify's and Google's
 * stand-ins, then `alerts check-now`, `alerts list`, `health check` and `metrics`, as an
 * operator's cron would run them. Each dead credential ends as its alert; a rotation
 * resolves it; and no secret given to synthex appears in anything synthex said or stored.
 */
describeEachCliBackend('verification to alerts', (target) => {
  let shopify: ShopifyAdminFake
  let google: GoogleFake
  const key = serviceAccountKey({clientEmail: 'feeds@acme.iam.gserviceaccount.com'})
  const revokedRefresh = `1//0canary-revoked-${randomUUID()}`

  beforeAll(async () => {
    shopify = await new ShopifyAdminFake().listen()
    google = await new GoogleFake().listen()
    google
      .addServiceAccount({accounts: [MERCHANT], clientEmail: 'feeds@acme.iam.gserviceaccount.com', publicKeys: {[key.keyId]: key.publicKey}})
      .addRefreshGrant({accounts: [MERCHANT], clientId: CLIENT.id, clientSecret: CLIENT.secret, refreshToken: revokedRefresh, scopes: [CONTENT_SCOPE]})
    google.revokeRefreshToken(revokedRefresh)
  })

  afterAll(async () => {
    await Promise.all([shopify.close(), google.close()])
  })

  it('a revoked Shopify token, a revoked Google refresh token and a missing scope each end as their alert; rotation resolves; no secret anywhere', async () => {
    const own = await ownTarget(target())
    const env = {
      ...own.env,
      SHOPIFY_SCOPES: 'read_products,read_orders',
      SYNTHEX_ENCRYPTION_KEY: KEY,
      SYNTHEX_GOOGLE_API_URL: google.url,
      SYNTHEX_GOOGLE_TOKEN_URL: google.tokenUrl,
      SYNTHEX_SHOPIFY_API_URL: shopify.apiUrl,
    }
    const transcript: CliResult[] = []
    const run = async (args: string[], input?: string): Promise<CliResult> => {
      const result = await runCli(args, {env, input})
      transcript.push(result)
      return result
    }

    const ok = async (args: string[], input?: string): Promise<CliResult> => {
      const result = await run(args, input)
      expect(result.code, result.stderr).toBe(0)
      return result
    }

    const {tokens, workspace} = await shopifyFleet(own, KEY, shopify, {revoked: {behaviour: 'revoked'}, scopeless: {}, valid: {}}, ['read_products', 'read_orders'])
    // scopeless's token lost read_orders since it was stored.
    shopify.shop(`${workspace}-scopeless.myshopify.com`, {scopes: ['read_products'], token: tokens.scopeless as string})
    const feeds = [
      ['g-key', key.file],
      ['g-revoked', JSON.stringify({client_id: CLIENT.id, client_secret: CLIENT.secret, refresh_token: revokedRefresh, type: 'authorized_user'})],
    ] as const
    await seedFleet(own, {
      credentials: feeds.map(([tenant, value]) => ({service: 'gmc' as const, tenantId: tenant, value, workspace})),
      encryptionKey: KEY,
      tenants: feeds.map(([tenant]) => ({gmc_merchant_id: MERCHANT, name: `Feeds ${tenant}`, tenant_id: tenant, type: 'google_merchant', workspace})),
    })

    const verified = await run(['credentials', 'verify', '--all', '--json'])
    expect(verified.code, verified.stderr).toBe(3)
    expect(parseJson<{counts: Record<string, number>}>(verified).counts).toEqual({error: 0, rejected: 2, scopes_missing: 1, throttled: 0, timeout: 0, valid: 2})

    await ok(['alerts', 'check-now', '--json'])
    const firing = parseJson<{alerts: Alert[]}>(await ok(['alerts', 'list', '--json'])).alerts
    const byTenant = Object.fromEntries(firing.map((alert) => [alert.tenantId, alert]))
    expect(Object.keys(byTenant).sort()).toEqual(['g-revoked', 'revoked', 'scopeless'])
    expect(byTenant.revoked).toMatchObject({details: {httpStatus: 401, reason: 'revoked_or_invalid'}, rule: 'credential_invalid', severity: 'critical'})
    expect(byTenant['g-revoked']).toMatchObject({details: {httpStatus: 400, reason: 'invalid_grant'}, rule: 'credential_invalid', severity: 'critical'})
    expect(byTenant.scopeless).toMatchObject({rule: 'credential_scopes_missing', severity: 'warning'})

    const health = parseJson<{checks: Array<{name: string; status: string}>}>(await run(['health', 'check', '--json']))
    expect(health.checks.find((check) => check.name === 'credential_verification')).toMatchObject({status: 'degraded'})
    const metrics = await ok(['metrics'])
    expect(metrics.stdout).toMatch(new RegExp(`^synthex_tenants_verification_failing\\{workspace="${workspace}"\\} 3$`, 'm'))

    // A new token for the revoked shop: the credential that was rejected is no more, so its alert resolves.
    const fresh = shopifyToken()
    shopify.shop(`${workspace}-revoked.myshopify.com`, {scopes: ['read_products', 'read_orders'], token: fresh})
    await ok(['credentials', 'rotate', 'revoked', '-w', workspace, '--service', 'shopify', '--value-stdin'], fresh)
    await ok(['alerts', 'check-now', '--json'])
    const after = parseJson<{alerts: Alert[]}>(await ok(['alerts', 'list', '--json', '--state', 'all'])).alerts
    expect(after.filter((alert) => alert.tenantId === 'revoked').map((alert) => alert.state)).toEqual(['resolved'])
    expect((await run(['credentials', 'verify', 'revoked', '-w', workspace, '--json'])).code).toBe(0)

    // Every secret synthex was given went to its provider and nowhere else.
    const events = await ok(['events', 'list', '--json', '--limit', '1000'])
    const said = JSON.stringify(transcript.map((result) => [result.stdout, result.stderr])) + events.stdout
    const secrets = [...Object.values(tokens), fresh, CLIENT.secret, revokedRefresh, ...key.privateKeyPem.split('\n').filter((line) => line.length > 20), ...google.issuedTokens]
    for (const secret of secrets) expect(said).not.toContain(secret)
    expect(shopify.requests.some((request) => request.headers['x-shopify-access-token'] === tokens.revoked)).toBe(true)
    expect(google.received.some((request) => request.body.includes(encodeURIComponent(revokedRefresh)))).toBe(true)
  })
})

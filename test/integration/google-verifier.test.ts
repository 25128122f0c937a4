import {randomUUID} from 'node:crypto'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {providerEnvironment} from '../../src/config/environment.js'
import {INTERNAL_POLICY, STRICT_POLICY} from '../../src/net/address-policy.js'
import {verifyGoogle} from '../../src/services/verification/google-verifier.js'
import type {VerificationResult, VerificationTarget} from '../../src/services/verification/verification-result.js'
import type {VerifyOptions} from '../../src/services/verification/verifiers.js'
import {CONTENT_SCOPE, GoogleFake, serviceAccountKey} from '../fakes/google-fake.js'
import {type Answer, HttpFake, type Received} from '../fakes/http-fake.js'
import {silentServer} from '../fakes/silent-server.js'

/**
 * `verifyGoogle` against Google on 127.0.0.1 (test/fakes/google-fake.ts), which checks the
 * service account's JWT with the key's public half. No database: the verifier is handed the
 * opened credential and returns what is stored.
 */

const MERCHANT = '5550001'
const OTHER_MERCHANT = '5550002'
const UNKNOWN_MERCHANT = '5559999'
const EMAIL_SCOPE = 'https://www.googleapis.com/auth/userinfo.email'

const client = {id: '1234-canary.apps.googleusercontent.com', secret: `GOCSPX-canary-secret-${randomUUID()}`}
const refreshToken = `1//0canary-refresh-${randomUUID()}`
const narrowRefreshToken = `1//0canary-narrow-${randomUUID()}`
const revokedRefreshToken = `1//0canary-revoked-${randomUUID()}`

function authorizedUser(token: string, secret = client.secret): string {
  return JSON.stringify({client_id: client.id, client_secret: secret, refresh_token: token, type: 'authorized_user'})
}

function target(value: string, gmcMerchantId: null | string = MERCHANT): VerificationTarget {
  return {credentialId: randomUUID(), gmcMerchantId, label: 'default', service: 'gmc', shopifyShop: null, tenantId: 'acme', tenantUuid: randomUUID(), value, workspaceId: randomUUID()}
}

/** A provider that repeats what it was sent in its error: the worst a proxy or a provider could do. */
class EchoFake extends HttpFake {
  protected answer(request: Received): Answer {
    const echoed = `${request.headers.authorization ?? ''} ${request.body}`
    if (request.path === '/token') return {body: JSON.stringify({error: 'invalid_request', error_description: `Bad request: ${echoed}`}), status: 400}
    return {body: JSON.stringify({error: {code: 500, message: `Internal error for ${echoed}`, status: 'INTERNAL'}}), status: 500}
  }
}

describe('verifyGoogle', () => {
  let google: GoogleFake
  let elsewhere: GoogleFake
  let echo: EchoFake
  const key = serviceAccountKey({clientEmail: 'synthex@acme-feeds.iam.gserviceaccount.com'})
  // Same account, but the key in the file is not one Google has the public half of.
  const wrongKey = serviceAccountKey({clientEmail: 'synthex@acme-feeds.iam.gserviceaccount.com', privateKeyId: key.keyId})

  const options = (overrides: Partial<VerifyOptions> = {}, environment: Record<string, string> = {}): VerifyOptions => ({
    endpoints: providerEnvironment({SYNTHEX_GOOGLE_API_URL: google.url, SYNTHEX_GOOGLE_TOKEN_URL: google.tokenUrl, ...environment}),
    network: INTERNAL_POLICY,
    timeoutMs: 10_000,
    ...overrides,
  })

  const verify = async (value: string, more: {gmcMerchantId?: null | string; options?: VerifyOptions} = {}): Promise<VerificationResult> => {
    return verifyGoogle(target(value, more.gmcMerchantId === undefined ? MERCHANT : more.gmcMerchantId), more.options ?? options())
  }

  beforeAll(async () => {
    google = await new GoogleFake().listen()
    elsewhere = await new GoogleFake().listen()
    echo = await new EchoFake().listen()
    google
      .addServiceAccount({accounts: [MERCHANT], clientEmail: 'synthex@acme-feeds.iam.gserviceaccount.com', publicKeys: {[key.keyId]: key.publicKey}})
      .addRefreshGrant({accounts: [MERCHANT, OTHER_MERCHANT], clientId: client.id, clientSecret: client.secret, refreshToken, scopes: [CONTENT_SCOPE]})
      .addRefreshGrant({accounts: [MERCHANT], clientId: client.id, clientSecret: client.secret, refreshToken: narrowRefreshToken, scopes: [EMAIL_SCOPE]})
      .addRefreshGrant({accounts: [MERCHANT], clientId: client.id, clientSecret: client.secret, refreshToken: revokedRefreshToken, scopes: [CONTENT_SCOPE]})
      .addAccount(OTHER_MERCHANT)
    google.revokeRefreshToken(revokedRefreshToken)
  })

  beforeEach(() => {
    google.reset()
    google.slowAccountReads(0)
    google.throttleAccountReads(0)
  })

  afterAll(async () => {
    await Promise.all([google?.close(), elsewhere?.close(), echo?.close()])
  })

  it('a service account key: its JWT passes Google\'s checks, the token reads the merchant account: valid', async () => {
    const result = await verify(key.file)
    expect(result).toMatchObject({httpStatus: 200, message: null, outcome: 'valid', reason: 'ok', scopesGranted: null, scopesMissing: [], scopesRequired: [CONTENT_SCOPE]})
    expect(result.latencyMs).toBeGreaterThanOrEqual(0)
    expect(google.received.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /token', `GET /accounts/v1/accounts/${MERCHANT}`])
    const form = new URLSearchParams(google.received[0]?.body)
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer')
    expect(google.received[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(google.received[1]?.headers.authorization).toBe(`Bearer ${google.issuedTokens[0]}`)
  })

  it('a key file naming its own token_uri: the assertion still goes to SYNTHEX_GOOGLE_TOKEN_URL only', async () => {
    const hostile = JSON.stringify({...JSON.parse(key.file), token_uri: elsewhere.tokenUrl})
    expect(await verify(hostile)).toMatchObject({outcome: 'valid', reason: 'ok'})
    expect(elsewhere.received).toEqual([])
  })

  it('a key Google does not have the public half of: the signature fails, rejected (invalid_grant), no account read', async () => {
    const result = await verify(wrongKey.file)
    expect(result).toMatchObject({httpStatus: 400, outcome: 'rejected', reason: 'invalid_grant'})
    expect(result.message).toBe('{"error":"invalid_grant","error_description":"Invalid JWT Signature."}')
    expect(google.received.map((request) => request.path)).toEqual(['/token'])
  })

  it('a service account Google does not know: rejected (invalid_grant)', async () => {
    const stranger = serviceAccountKey({clientEmail: 'deleted@acme-feeds.iam.gserviceaccount.com'})
    expect(await verify(stranger.file)).toMatchObject({message: expect.stringContaining('account not found'), outcome: 'rejected', reason: 'invalid_grant'})
  })

  it('a refresh token: exchanged, its granted scopes kept, the account read: valid', async () => {
    const result = await verify(authorizedUser(refreshToken))
    expect(result).toMatchObject({httpStatus: 200, outcome: 'valid', reason: 'ok', scopesGranted: [CONTENT_SCOPE], scopesMissing: []})
    expect(Object.fromEntries(new URLSearchParams(google.received[0]?.body))).toEqual({client_id: client.id, client_secret: client.secret, grant_type: 'refresh_token', refresh_token: refreshToken})
  })

  it('a revoked refresh token: rejected (invalid_grant) with Google\'s words', async () => {
    const result = await verify(authorizedUser(revokedRefreshToken))
    expect(result).toMatchObject({httpStatus: 400, outcome: 'rejected', reason: 'invalid_grant'})
    expect(result.message).toBe('{"error":"invalid_grant","error_description":"Token has been expired or revoked."}')
  })

  it('a wrong client secret: rejected (invalid_client)', async () => {
    expect(await verify(authorizedUser(refreshToken, 'GOCSPX-not-the-secret'))).toMatchObject({httpStatus: 401, outcome: 'rejected', reason: 'invalid_client'})
  })

  it('a token granting fewer scopes than required: scopes_missing, naming the missing one, no account read', async () => {
    const result = await verify(authorizedUser(narrowRefreshToken))
    expect(result).toMatchObject({outcome: 'scopes_missing', reason: 'scope_not_granted', scopesGranted: [EMAIL_SCOPE], scopesMissing: [CONTENT_SCOPE], scopesRequired: [CONTENT_SCOPE]})
    expect(google.received).toHaveLength(1)
  })

  it('required scopes are configurable (SYNTHEX_GOOGLE_SCOPES): every one must be granted', async () => {
    const result = await verify(authorizedUser(refreshToken), {options: options({}, {SYNTHEX_GOOGLE_SCOPES: `${CONTENT_SCOPE},${EMAIL_SCOPE}`})})
    expect(result).toMatchObject({outcome: 'scopes_missing', scopesGranted: [CONTENT_SCOPE], scopesMissing: [EMAIL_SCOPE], scopesRequired: [CONTENT_SCOPE, EMAIL_SCOPE]})
  })

  it('a service account token without the content scope: the Merchant API says 403, scopes_missing', async () => {
    const result = await verify(key.file, {options: options({}, {SYNTHEX_GOOGLE_SCOPES: EMAIL_SCOPE})})
    expect(result).toMatchObject({httpStatus: 403, outcome: 'scopes_missing', reason: 'forbidden'})
    expect(result.message).toContain('ACCESS_TOKEN_SCOPE_INSUFFICIENT')
  })

  it('a merchant account the credential cannot reach: 403 PERMISSION_DENIED, scopes_missing (forbidden)', async () => {
    const result = await verify(key.file, {gmcMerchantId: OTHER_MERCHANT})
    expect(result).toMatchObject({httpStatus: 403, outcome: 'scopes_missing', reason: 'forbidden'})
    expect(result.message).toBe(`{"error":{"code":403,"message":"The caller does not have access to the accounts: [${OTHER_MERCHANT}]","status":"PERMISSION_DENIED"}}`)
  })

  it('no such merchant account: 404, rejected (not_found)', async () => {
    const result = await verify(authorizedUser(refreshToken), {gmcMerchantId: UNKNOWN_MERCHANT})
    expect(result).toMatchObject({httpStatus: 404, outcome: 'rejected', reason: 'not_found'})
    expect(result.message).toContain('NOT_FOUND')
  })

  it('throttled: 429 RESOURCE_EXHAUSTED with Retry-After gives throttled and the wait; once Google answers 200, valid', async () => {
    google.throttleAccountReads(1, '30')
    const throttled = await verify(key.file)
    expect(throttled).toMatchObject({httpStatus: 429, outcome: 'throttled', reason: 'rate_limited', retryAfterMs: 30_000})
    expect(throttled.message).toContain('RESOURCE_EXHAUSTED')
    expect(await verify(key.file)).toMatchObject({httpStatus: 200, outcome: 'valid'})
  })

  it('throttled without Retry-After: no wait is made up', async () => {
    google.throttleAccountReads(1)
    const result = await verify(key.file)
    expect(result).toMatchObject({outcome: 'throttled', reason: 'rate_limited'})
    expect(result).not.toHaveProperty('retryAfterMs')
  })

  it('a Merchant API slower than the per-request timeout: timeout, no status', async () => {
    // Long enough for the token exchange on a busy machine; the read, delayed far beyond it, cannot make it.
    google.slowAccountReads(30_000)
    const result = await verify(key.file, {options: options({timeoutMs: 1000})})
    expect(result).toMatchObject({httpStatus: null, outcome: 'timeout', reason: 'timeout'})
    // The token was issued: it is the account read that did not answer in time.
    expect(google.received.map((request) => request.path)).toEqual(['/token', `/accounts/v1/accounts/${MERCHANT}`])
  })

  it('a token endpoint that accepts the connection and never answers: timeout', async () => {
    const silent = await silentServer()
    try {
      expect(await verify(key.file, {options: options({timeoutMs: 300}, {SYNTHEX_GOOGLE_TOKEN_URL: `http://127.0.0.1:${silent.port}/token`})})).toMatchObject({httpStatus: null, outcome: 'timeout'})
    } finally {
      await silent.close()
    }
  })

  it('Google failing (503): error (server_error); nothing listening: error (network)', async () => {
    google.failNext({body: '{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}', status: 503})
    expect(await verify(key.file)).toMatchObject({httpStatus: 503, outcome: 'error', reason: 'server_error'})
    const closed = await new GoogleFake().listen()
    const url = closed.tokenUrl
    await closed.close()
    expect(await verify(key.file, {options: options({}, {SYNTHEX_GOOGLE_TOKEN_URL: url})})).toMatchObject({httpStatus: null, message: 'network error: ECONNREFUSED', outcome: 'error', reason: 'network'})
  })

  it('plain http or a loopback address without SYNTHEX_ALLOW_HTTP / SYNTHEX_ALLOW_PRIVATE_NETWORK: refused before any request', async () => {
    for (const network of [STRICT_POLICY, {allowHttp: true, allowPrivateNetwork: false}]) {
      const result = await verify(key.file, {options: options({network})})
      expect(result).toMatchObject({httpStatus: null, outcome: 'error', reason: 'refused'})
      expect(result.message).not.toContain('127.0.0.1:')
    }

    expect(google.received).toEqual([])
  })

  it('a tenant without a gmc_merchant_id: the credential is exchanged, nothing else: valid (token_only)', async () => {
    expect(await verify(key.file, {gmcMerchantId: null})).toMatchObject({httpStatus: 200, outcome: 'valid', reason: 'token_only'})
    expect(google.received.map((request) => request.path)).toEqual(['/token'])
  })

  it('a value that is not a Google credential file: rejected (malformed_credential), not one request, the value never quoted', async () => {
    const canary = `canary-${randomUUID()}`
    const pemless = JSON.parse(key.file) as Record<string, unknown>
    const values = [
      canary,
      `{"type":"service_account","private_key":"${canary}"`,
      JSON.stringify([canary]),
      JSON.stringify({api_key: canary}),
      JSON.stringify({refresh_token: canary, type: canary}),
      JSON.stringify({...pemless, private_key: `-----BEGIN PRIVATE KEY-----\n${canary}\n-----END PRIVATE KEY-----\n`}),
      JSON.stringify({...pemless, client_email: undefined, private_key_id: canary}),
      JSON.stringify({...pemless, client_email: `${canary}"}`}),
      JSON.stringify({client_id: client.id, client_secret: canary, type: 'authorized_user'}),
      JSON.stringify({audience: canary, credential_source: {file: '/var/run/token'}, type: 'external_account'}),
    ]
    for (const value of values) {
      const result = await verify(value)
      expect(result, value).toMatchObject({httpStatus: null, outcome: 'rejected', reason: 'malformed_credential', scopesGranted: null})
      expect(result.message).toMatch(/^(not JSON|not a JSON object|no "type"|expected a Google|a credential of type external_account|the (service account key|authorized user file))/)
      expect(JSON.stringify(result)).not.toContain(canary)
    }

    expect(google.received).toEqual([])
  })

  it('Google\'s bodies are bounded to 500 characters', async () => {
    google.failNext({body: JSON.stringify({error: 'invalid_grant', error_description: 'x'.repeat(5000)}), status: 400})
    const result = await verify(key.file)
    expect(result).toMatchObject({outcome: 'rejected', reason: 'invalid_grant'})
    expect([...(result.message ?? '')].length).toBeLessThanOrEqual(500)
  })

  it('a provider echoing the request (body, Authorization) in its error: no secret of it reaches the result', async () => {
    const viaEcho = (environment: Record<string, string>): VerifyOptions => options({}, environment)
    const echoedToken = await verify(key.file, {options: viaEcho({SYNTHEX_GOOGLE_TOKEN_URL: `${echo.url}/token`})})
    const echoedRefresh = await verify(authorizedUser(refreshToken), {options: viaEcho({SYNTHEX_GOOGLE_TOKEN_URL: `${echo.url}/token`})})
    const echoedAccess = await verify(authorizedUser(refreshToken), {options: viaEcho({SYNTHEX_GOOGLE_API_URL: echo.url})})
    expect(echoedToken).toMatchObject({httpStatus: 400, outcome: 'error', reason: 'unexpected_answer'})
    expect(echoedRefresh).toMatchObject({httpStatus: 400, outcome: 'error', reason: 'unexpected_answer'})
    expect(echoedAccess).toMatchObject({httpStatus: 500, outcome: 'error', reason: 'server_error'})
    // What was echoed is still said, without the secrets in it.
    expect(echoedToken.message).toContain('grant_type=urn')
    expect(echoedRefresh.message).toContain(`client_id=${encodeURIComponent(client.id)}`)
    expect(echoedAccess.message).toContain('Internal error for Bearer [redacted]')
    const assertions = echo.received.map((request) => new URLSearchParams(request.body).get('assertion')).filter((value): value is string => Boolean(value))
    expect(assertions).toHaveLength(1)
    for (const secret of [...assertions, client.secret, refreshToken, ...google.issuedTokens]) {
      expect(JSON.stringify([echoedToken, echoedRefresh, echoedAccess])).not.toContain(secret)
    }
  })

  it('canaries (the private key, the client secret, the refresh tokens, the access tokens, the assertions) appear in no result, only in the requests to Google', async () => {
    google.throttleAccountReads(1, '5')
    const results = [
      await verify(key.file),
      await verify(key.file),
      await verify(wrongKey.file),
      await verify(key.file, {gmcMerchantId: OTHER_MERCHANT}),
      await verify(key.file, {gmcMerchantId: UNKNOWN_MERCHANT}),
      await verify(authorizedUser(refreshToken)),
      await verify(authorizedUser(revokedRefreshToken)),
      await verify(authorizedUser(narrowRefreshToken)),
      await verify(authorizedUser(refreshToken, 'GOCSPX-not-the-secret')),
      await verify(authorizedUser(refreshToken), {gmcMerchantId: UNKNOWN_MERCHANT}),
    ]
    google.slowAccountReads(30_000)
    results.push(await verify(authorizedUser(refreshToken), {options: options({timeoutMs: 1000})}))
    expect(results.map((result) => result.outcome)).toEqual(['throttled', 'valid', 'rejected', 'scopes_missing', 'rejected', 'valid', 'rejected', 'scopes_missing', 'rejected', 'rejected', 'timeout'])

    const assertions = google.received.map((request) => new URLSearchParams(request.body).get('assertion')).filter((value): value is string => Boolean(value))
    const pemLines = key.privateKeyPem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'))
    const canaries = [key.privateKeyPem, ...pemLines, wrongKey.privateKeyPem, client.secret, refreshToken, narrowRefreshToken, revokedRefreshToken, ...google.issuedTokens, ...assertions]
    const stored = JSON.stringify(results)
    for (const canary of canaries) expect(stored).not.toContain(canary)

    // They went to Google, where they belong (the private key never leaves: it signs).
    const sent = JSON.stringify(google.received)
    expect(sent).not.toContain(pemLines[1])
    expect(assertions.length).toBeGreaterThanOrEqual(4)
    for (const canary of [...assertions, client.secret, refreshToken, revokedRefreshToken, ...google.issuedTokens.slice(-2)]) {
      expect(sent.includes(canary) || sent.includes(encodeURIComponent(canary))).toBe(true)
    }
  })
})

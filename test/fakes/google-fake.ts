import {createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify} from 'node:crypto'

import {type Answer, HttpFake, type Received} from './http-fake.js'

/** The Merchant API's scope (developers.google.com/merchant/api/reference/rest/accounts_v1/accounts/get). */
export const CONTENT_SCOPE = 'https://www.googleapis.com/auth/content'

/** A service account as Google knows it: its email, its keys' public halves by key id, the accounts it was added to. */
export interface FakeServiceAccount {
  readonly accounts: readonly string[]
  readonly clientEmail: string
  readonly publicKeys: Readonly<Record<string, KeyObject | string>>
}

/** A user's grant to an OAuth client: what its refresh token gives. */
export interface FakeRefreshGrant {
  readonly accounts: readonly string[]
  readonly clientId: string
  readonly clientSecret: string
  readonly refreshToken: string
  /** The scopes the user granted, named in the token answer's `scope`. */
  readonly scopes: readonly string[]
}

interface IssuedToken {
  readonly accounts: ReadonlySet<string>
  readonly scopes: readonly string[]
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  body: JSON.stringify(body, null, 2),
  headers: {'content-type': 'application/json; charset=utf-8', ...headers},
  status,
})

/** The OAuth token endpoint's refusal (RFC 6749, 5.2) in Google's words. */
const oauthError = (status: number, error: string, description: string): Answer => json(status, {error, error_description: description})

/** The Merchant API's error (google.rpc.Status, as every Google REST API answers it). */
const apiError = (code: number, status: string, message: string, reason?: string): Answer =>
  json(code, {error: {code, message, status, ...(reason ? {details: [{'@type': 'type.googleapis.com/google.rpc.ErrorInfo', domain: 'googleapis.com', reason}]} : {})}})

const SHORT_LIVED = 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.'

/**
 * Google on 127.0.0.1: the OAuth 2.0 token endpoint (`POST /token`,
 * developers.google.com/identity/protocols/oauth2/service-account and .../web-server,
 * "Refreshing an access token") and the Merchant API's `accounts.get`
 * (`GET /accounts/v1/accounts/{account}`).
 *
 * A JWT bearer grant is checked as Google checks it: `iss` a known service account, the
 * RS256 signature against that account's public key (the one `kid` names), `aud` this
 * endpoint's own URL, `exp` in the future and at most an hour after `iat`, a `scope`. The
 * token it then issues carries the scopes the assertion asked for, and the Merchant API
 * answers 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT to a token without the content scope, as
 * Google does. A refresh token is exchanged when its client id and secret match; an unknown
 * or revoked one gets `invalid_grant` "Token has been expired or revoked.".
 *
 * Each access token reads the accounts its grant was added to (403 PERMISSION_DENIED for
 * another known account, 404 for an unknown one). `throttleAccountReads` answers the next
 * reads 429 RESOURCE_EXHAUSTED (with Retry-After if given), `slowAccountReads` delays them.
 * Every request is kept in `received` (path, headers, body): tests assert where secrets went.
 */
export class GoogleFake extends HttpFake {
  readonly #accounts = new Set<string>()
  #accountDelayMs = 0
  /** OAuth clients by id, with their secret: they outlive their refresh tokens. */
  readonly #clients = new Map<string, string>()
  readonly #grants = new Map<string, FakeRefreshGrant>()
  readonly #serviceAccounts = new Map<string, FakeServiceAccount>()
  #throttled: {count: number; retryAfter?: string} = {count: 0}
  readonly #tokens = new Map<string, IssuedToken>()

  /** The token endpoint, as SYNTHEX_GOOGLE_TOKEN_URL names it: also the only `aud` it accepts. */
  get tokenUrl(): string {
    return `${this.url}/token`
  }

  /** A Merchant Center account that exists (a read of any other is 404). */
  addAccount(...ids: string[]): this {
    for (const id of ids) this.#accounts.add(id)
    return this
  }

  addRefreshGrant(grant: FakeRefreshGrant): this {
    this.#grants.set(grant.refreshToken, grant)
    this.#clients.set(grant.clientId, grant.clientSecret)
    for (const id of grant.accounts) this.#accounts.add(id)
    return this
  }

  addServiceAccount(account: FakeServiceAccount): this {
    this.#serviceAccounts.set(account.clientEmail, account)
    for (const id of account.accounts) this.#accounts.add(id)
    return this
  }

  /** The access tokens issued so far (canaries for the tests). */
  get issuedTokens(): string[] {
    return [...this.#tokens.keys()]
  }

  /** The user revoked the app: the refresh token and its access tokens stop working. */
  revokeRefreshToken(refreshToken: string): void {
    this.#grants.delete(refreshToken)
  }

  /** The next account reads wait this long before answering. */
  slowAccountReads(ms: number): void {
    this.#accountDelayMs = ms
  }

  /** The next `count` account reads are answered 429, with this Retry-After if given; then normally. */
  throttleAccountReads(count: number, retryAfter?: string): void {
    this.#throttled = {count, retryAfter}
  }

  protected answer(request: Received): Answer {
    const path = request.path.split('?')[0] ?? ''
    if (path === '/token') return request.method === 'POST' ? this.#token(request) : json(405, {error: 'invalid_request', error_description: 'Method not allowed'})
    const account = /^\/accounts\/v1\/accounts\/([^/]+)$/.exec(path)
    if (account && request.method === 'GET') return this.#account(decodeURIComponent(account[1] ?? ''), request)
    return apiError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`)
  }

  #account(id: string, request: Received): Answer {
    const delayMs = this.#accountDelayMs
    const authorization = request.headers.authorization ?? ''
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1]
    const issued = token === undefined ? undefined : this.#tokens.get(token)
    if (!issued) {
      return {
        ...apiError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          'ACCESS_TOKEN_TYPE_UNSUPPORTED',
        ),
        delayMs,
      }
    }

    if (this.#throttled.count > 0) {
      this.#throttled.count--
      const headers: Record<string, string> = this.#throttled.retryAfter === undefined ? {} : {'retry-after': this.#throttled.retryAfter}
      return {...json(429, {error: {code: 429, message: "Quota exceeded for quota metric 'Accounts requests' and limit 'Accounts requests per minute' of service 'merchantapi.googleapis.com'.", status: 'RESOURCE_EXHAUSTED'}}, headers), delayMs}
    }

    if (!issued.scopes.includes(CONTENT_SCOPE)) return {...apiError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'), delayMs}
    if (!this.#accounts.has(id)) return {...apiError(404, 'NOT_FOUND', `Requested entity was not found.`), delayMs}
    if (!issued.accounts.has(id)) return {...apiError(403, 'PERMISSION_DENIED', `The caller does not have access to the accounts: [${id}]`), delayMs}
    return {...json(200, {accountId: id, accountName: `Merchant ${id}`, adultContent: false, languageCode: 'en', name: `accounts/${id}`, timeZone: {id: 'Europe/Berlin'}}), delayMs}
  }

  #token(request: Received): Answer {
    if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '')) return oauthError(400, 'invalid_request', 'Bad Request')
    const form = new URLSearchParams(request.body)
    const grantType = form.get('grant_type')
    if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer') return this.#jwtBearer(form.get('assertion') ?? '')
    if (grantType === 'refresh_token') return this.#refresh(form)
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`)
  }

  #jwtBearer(assertion: string): Answer {
    const parts = assertion.split('.')
    if (parts.length !== 3) return oauthError(400, 'invalid_grant', 'Invalid JWT: Malformed.')
    const [headerPart = '', claimsPart = '', signaturePart = ''] = parts
    const header = decoded(headerPart)
    const claims = decoded(claimsPart)
    if (!header || !claims) return oauthError(400, 'invalid_grant', 'Invalid JWT: Malformed.')
    const account = typeof claims.iss === 'string' ? this.#serviceAccounts.get(claims.iss) : undefined
    if (!account) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found')
    const keys = typeof header.kid === 'string' ? [account.publicKeys[header.kid]].filter((key) => key !== undefined) : Object.values(account.publicKeys)
    const input = Buffer.from(`${headerPart}.${claimsPart}`, 'utf8')
    const signature = Buffer.from(signaturePart, 'base64url')
    const signed = header.alg === 'RS256' && keys.some((key) => verify('sha256', input, typeof key === 'string' ? createPublicKey(key) : key, signature))
    if (!signed) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.')
    if (claims.aud !== this.tokenUrl) return oauthError(400, 'invalid_grant', `Invalid JWT: Failed audience check. The expected value was ${this.tokenUrl}`)
    const now = Math.floor(Date.now() / 1000)
    const {exp, iat} = claims
    if (typeof exp !== 'number' || typeof iat !== 'number' || exp <= now || exp - iat > 3600 || iat > now + 300) return oauthError(400, 'invalid_grant', SHORT_LIVED)
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []
    if (scopes.length === 0) return oauthError(400, 'invalid_scope', 'Empty or missing scope not allowed.')
    // Google names no scope in a service account's token answer.
    return json(200, {access_token: this.#issue({accounts: new Set(account.accounts), scopes}), expires_in: 3599, token_type: 'Bearer'})
  }

  #refresh(form: URLSearchParams): Answer {
    for (const name of ['client_id', 'client_secret', 'refresh_token']) {
      if (!form.get(name)) return oauthError(400, 'invalid_request', `Missing required parameter: ${name}`)
    }

    // The client first (401), then its grant (400), as Google answers.
    const secret = this.#clients.get(form.get('client_id') ?? '')
    if (secret === undefined) return oauthError(401, 'invalid_client', 'The OAuth client was not found.')
    if (secret !== form.get('client_secret')) return oauthError(401, 'invalid_client', 'Unauthorized')
    const grant = this.#grants.get(form.get('refresh_token') ?? '')
    if (!grant || grant.clientId !== form.get('client_id')) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.')
    const accessToken = this.#issue({accounts: new Set(grant.accounts), scopes: grant.scopes})
    return json(200, {access_token: accessToken, expires_in: 3599, scope: grant.scopes.join(' '), token_type: 'Bearer'})
  }

  #issue(token: IssuedToken): string {
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`
    this.#tokens.set(accessToken, token)
    return accessToken
  }
}

function decoded(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** A key pair for a service account, and its key file as the Cloud console downloads it. */
export function serviceAccountKey(options: {clientEmail: string; privateKeyId?: string; tokenUri?: string}): {file: string; keyId: string; privateKeyPem: string; publicKey: KeyObject} {
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const privateKeyPem = privateKey.export({format: 'pem', type: 'pkcs8'}).toString()
  const keyId = options.privateKeyId ?? randomBytes(20).toString('hex')
  const file = JSON.stringify(
    {
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      client_email: options.clientEmail,
      client_id: '104857600000000000000',
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(options.clientEmail)}`,
      private_key: privateKeyPem,
      private_key_id: keyId,
      project_id: 'synthex-test',
      token_uri: options.tokenUri ?? 'https://oauth2.googleapis.com/token',
      type: 'service_account',
      universe_domain: 'googleapis.com',
    },
    null,
    2,
  )
  return {file, keyId, privateKeyPem, publicKey}
}

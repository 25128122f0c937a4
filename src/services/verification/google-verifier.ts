import {performance} from 'node:perf_hooks'

import {OutboundError} from '../../net/outbound-error.js'
import {outboundRequest, type OutboundResponse} from '../../net/outbound-request.js'
import {parseRetryAfter} from '../../net/retry-after.js'
import {signedAssertion} from './google-assertion.js'
import {type GoogleCredential, parseGoogleCredential} from './google-credential.js'
import {providerMessage} from '../../net/provider-message.js'
import type {VerificationResult} from './verification-result.js'
import type {Verifier, VerifyOptions} from './verifiers.js'

/**
 * A Google credential (`google` or `gmc`), verified the way the Merchant API uses it: the
 * credential becomes an access token at the OAuth token endpoint (a service account key
 * signs a JWT, google-assertion.ts; an authorized user's refresh token is exchanged), and
 * the token reads the tenant's Merchant Center account once (Merchant API `accounts.get`,
 * `GET /accounts/v1/accounts/{account}`). Both calls are read-only; each has the run's
 * per-request timeout; latencyMs covers the two.
 *
 * What each answer becomes (migrations/0013_credential_verification.sql):
 * - token endpoint `invalid_grant` (a deleted key, a bad signature, a revoked refresh
 *   token), `invalid_client`, `unauthorized_client`: rejected, with that reason;
 * - a token whose `scope` lacks a required scope (SYNTHEX_GOOGLE_SCOPES): scopes_missing;
 * - Merchant API 200 valid; 401 rejected (revoked_or_invalid); 403 scopes_missing
 *   (forbidden: the account is not reachable with this credential); 404 rejected
 *   (not_found); 429 throttled, with the Retry-After if Google sent one; 5xx error;
 * - no answer within the timeout: timeout; a network failure: error;
 * - a value that is not a Google credential file: rejected (malformed_credential), with
 *   no call at all.
 * A tenant without a gmc_merchant_id has no account to read: its credential is still
 * exchanged for a token, which is what says whether it is alive, and a token is `valid`
 * with the reason `token_only`.
 */
export const verifyGoogle: Verifier = async (target, options) => {
  const started = performance.now()
  const required = options.endpoints.googleScopes
  const result = (fields: Partial<VerificationResult> & Pick<VerificationResult, 'outcome' | 'reason'>): VerificationResult => ({
    httpStatus: null,
    latencyMs: Math.round(performance.now() - started),
    message: null,
    scopesGranted: null,
    scopesMissing: [],
    scopesRequired: required,
    ...fields,
  })

  const credential = parseGoogleCredential(target.value)
  if ('problem' in credential) return result({message: credential.problem, outcome: 'rejected', reason: 'malformed_credential'})

  // Everything of the exchange that must never be kept: the value, its parts, the
  // assertion and the tokens Google answers with (added as they come).
  const secrets = [target.value, ...secretParts(credential)]
  let tokenBody: string
  try {
    tokenBody = tokenRequest(credential, options, secrets)
  } catch {
    // A key node:crypto reads but cannot sign RS256 with (too short for a SHA-256 digest).
    return result({message: 'the service account key\'s private_key cannot sign RS256', outcome: 'rejected', reason: 'malformed_credential'})
  }

  const token = await call(options.endpoints.googleTokenUrl, {body: tokenBody, headers: {'content-type': 'application/x-www-form-urlencoded'}, method: 'POST'}, options)
  if (token instanceof OutboundError) return result(unanswered(token))

  const tokenFailure = tokenError(token, secrets)
  if (tokenFailure) return result(tokenFailure)
  const answer = parsedObject(token.body)
  const accessToken = answer?.access_token
  if (typeof accessToken !== 'string' || accessToken === '') {
    return result({httpStatus: token.status, message: `the token endpoint answered ${token.status} without an access token`, outcome: 'error', reason: 'unexpected_answer'})
  }

  for (const field of ['access_token', 'id_token', 'refresh_token']) if (typeof answer?.[field] === 'string') secrets.push(answer[field] as string)
  // A service account's token answer names no scope (it has what its assertion asked for);
  // a refresh token's names what the user granted.
  const scopesGranted = typeof answer?.scope === 'string' ? answer.scope.split(/\s+/).filter(Boolean) : null
  const scopesMissing = scopesGranted === null ? [] : required.filter((scope) => !scopesGranted.includes(scope))
  const scopes = {scopesGranted, scopesMissing}
  if (scopesMissing.length > 0) return result({...scopes, httpStatus: token.status, outcome: 'scopes_missing', reason: 'scope_not_granted'})
  if (target.gmcMerchantId === null || target.gmcMerchantId.trim() === '') return result({...scopes, httpStatus: token.status, outcome: 'valid', reason: 'token_only'})

  const accountUrl = `${options.endpoints.googleApiUrl.replace(/\/+$/, '')}/accounts/v1/accounts/${encodeURIComponent(target.gmcMerchantId.trim())}`
  const account = await call(accountUrl, {headers: {authorization: `Bearer ${accessToken}`}, method: 'GET'}, options)
  if (account instanceof OutboundError) return result({...scopes, ...unanswered(account)})
  return result({...scopes, ...accountAnswer(account, secrets)})
}

type Decided = Partial<VerificationResult> & Pick<VerificationResult, 'outcome' | 'reason'>

function secretParts(credential: GoogleCredential): string[] {
  return credential.kind === 'service_account' ? [credential.privateKeyPem] : [credential.clientSecret, credential.refreshToken]
}

function tokenRequest(credential: GoogleCredential, options: VerifyOptions, secrets: string[]): string {
  if (credential.kind === 'authorized_user') {
    return new URLSearchParams({client_id: credential.clientId, client_secret: credential.clientSecret, grant_type: 'refresh_token', refresh_token: credential.refreshToken}).toString()
  }

  const assertion = signedAssertion(credential, {audience: options.endpoints.googleTokenUrl, scopes: options.endpoints.googleScopes})
  secrets.push(assertion)
  return new URLSearchParams({assertion, grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer'}).toString()
}

/** One request through src/net/outbound-request.ts (address policy, timeouts, bounded body), or why it got no answer. */
async function call(url: string, request: {body?: string; headers: Record<string, string>; method: string}, options: VerifyOptions): Promise<OutboundError | OutboundResponse> {
  try {
    return await outboundRequest(url, {
      body: request.body,
      headers: {accept: 'application/json', ...request.headers},
      method: request.method,
      policy: options.network,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    })
  } catch (error) {
    if (error instanceof OutboundError) return error
    // outboundRequest rejects with OutboundError only; anything else is a bug to hear about.
    throw error
  }
}

/** No answer: the message is outbound-request's, which names no URL and no host. */
function unanswered(error: OutboundError): Decided {
  if (error.reason === 'timeout') return {message: error.message, outcome: 'timeout', reason: 'timeout'}
  return {message: error.message, outcome: 'error', reason: error.reason}
}

/** The OAuth errors (RFC 6749, 5.2) that mean the credential itself is refused. */
const REJECTING_GRANT_ERRORS = new Set(['invalid_client', 'invalid_grant', 'unauthorized_client'])

/** What a token endpoint's answer other than 200 says, or undefined for a 200. */
function tokenError(response: OutboundResponse, secrets: readonly string[]): Decided | undefined {
  const {status} = response
  if (status === 200) return undefined
  const common = {httpStatus: status, message: providerMessage(response.body, secrets)}
  const shared = sharedStatus(response, common)
  if (shared) return shared
  const error = parsedObject(response.body)?.error
  if (typeof error === 'string' && REJECTING_GRANT_ERRORS.has(error)) return {...common, outcome: 'rejected', reason: error}
  // A 401 from a token endpoint is about the client (RFC 6749, 5.2), whatever its body says.
  if (status === 401) return {...common, outcome: 'rejected', reason: 'invalid_client'}
  // invalid_scope says SYNTHEX_GOOGLE_SCOPES asks for something Google does not know: the
  // configuration, not this credential, is what to fix.
  if (error === 'invalid_scope') return {...common, outcome: 'error', reason: 'invalid_scope'}
  return {...common, outcome: 'error', reason: 'unexpected_answer'}
}

/** What the Merchant API's answer to `accounts.get` says. */
function accountAnswer(response: OutboundResponse, secrets: readonly string[]): Decided {
  const {status} = response
  if (status === 200) {
    // A 200 that is not an account (a captive portal, a proxy's page) proves nothing.
    // (An account longer than the body kept, src/net/outbound-request.ts, is still an account.)
    const account = parsedObject(response.body) !== undefined || (response.truncated && response.body.trimStart().startsWith('{'))
    return account ? {httpStatus: status, outcome: 'valid', reason: 'ok'} : {httpStatus: status, message: 'the Merchant API answered 200 with something other than an account', outcome: 'error', reason: 'unexpected_answer'}
  }

  const common = {httpStatus: status, message: providerMessage(response.body, secrets)}
  const shared = sharedStatus(response, common)
  if (shared) return shared
  if (status === 401) return {...common, outcome: 'rejected', reason: 'revoked_or_invalid'}
  if (status === 403) return {...common, outcome: 'scopes_missing', reason: 'forbidden'}
  if (status === 404) return {...common, outcome: 'rejected', reason: 'not_found'}
  return {...common, outcome: 'error', reason: 'unexpected_answer'}
}

/** The statuses that mean the same from either endpoint: a redirect, 429, 5xx. */
function sharedStatus(response: OutboundResponse, common: {httpStatus: number; message: null | string}): Decided | undefined {
  const {status} = response
  // Never followed (src/net/outbound-request.ts): it would carry the assertion or the token elsewhere.
  if (status >= 300 && status < 400) return {...common, message: `HTTP ${status}: redirect not followed`, outcome: 'error', reason: 'unexpected_answer'}
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']).ms
    return {...common, outcome: 'throttled', reason: 'rate_limited', ...(retryAfterMs === undefined ? {} : {retryAfterMs})}
  }

  if (status >= 500 && status < 600) return {...common, outcome: 'error', reason: 'server_error'}
  return undefined
}

function parsedObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

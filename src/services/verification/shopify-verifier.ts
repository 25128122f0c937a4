import {OutboundError} from '../../net/outbound-error.js'
import {outboundRequest, type OutboundResponse} from '../../net/outbound-request.js'
import {parseRetryAfter} from '../../net/retry-after.js'
import {providerMessage} from '../../net/provider-message.js'
import type {VerificationResult} from './verification-result.js'
import type {Verifier, VerifyOptions} from './verifiers.js'

/**
 * A Shopify access token checked against the Admin API, read-only: `GET shop.json` (is the
 * token accepted, is the shop open) then `GET /admin/oauth/access_scopes.json` (what was
 * granted, against SHOPIFY_SCOPES). The token goes in `X-Shopify-Access-Token` and nowhere
 * else; Shopify's own error text (`{"errors": "..."}`) is kept verbatim but scrubbed.
 */

/** A shop's domain as Shopify names it; anything else never reaches a URL. */
const SHOP_DOMAIN = /^[a-z\d][a-z\d-]{0,99}\.myshopify\.com$/
/** What an HTTP header value may hold: a token with a line break would be a header of its own. */
const HEADER_SAFE = /^[\x21-\x7e]+$/

/** Each answer's status, when it is not 200: the outcome and reason (migrations/0013_credential_verification.sql). */
const REFUSALS: Readonly<Record<number, Pick<VerificationResult, 'outcome' | 'reason'>>> = {
  401: {outcome: 'rejected', reason: 'revoked_or_invalid'},
  402: {outcome: 'rejected', reason: 'shop_frozen'},
  403: {outcome: 'scopes_missing', reason: 'forbidden'},
  404: {outcome: 'rejected', reason: 'not_found'},
  423: {outcome: 'rejected', reason: 'shop_locked'},
}

export const verifyShopify: Verifier = async (target, options) => {
  const started = performance.now()
  const required = options.endpoints.shopifyScopes
  const result = (fields: Partial<VerificationResult> & Pick<VerificationResult, 'outcome' | 'reason'>): VerificationResult => ({
    httpStatus: null,
    latencyMs: performance.now() - started,
    message: null,
    scopesGranted: null,
    scopesMissing: [],
    scopesRequired: required,
    ...fields,
  })

  const shop = target.shopifyShop?.trim().toLowerCase() ?? ''
  if (!SHOP_DOMAIN.test(shop)) {
    return result({message: shop === '' ? 'The tenant has no Shopify shop (shopify_shop) to call.' : 'The tenant\'s shopify_shop is not a <name>.myshopify.com domain.', outcome: 'error', reason: 'no_shop'})
  }

  const token = target.value.trim()
  // A value that can never work is the credential's fault, as a malformed Google file is.
  if (!HEADER_SAFE.test(token)) return result({message: 'The stored value is not an access token (empty, or with spaces or control characters).', outcome: 'rejected', reason: 'malformed_credential'})

  const base = shopBase(options, shop)
  const headers: Record<string, string> = {accept: 'application/json', 'x-shopify-access-token': token}
  if (!options.endpoints.shopifyApiUrl.includes('{shop}')) headers['x-shopify-shop-domain'] = shop
  const get = async (path: string): Promise<OutboundResponse | VerificationResult> => {
    try {
      return await outboundRequest(`${base}${path}`, {headers, policy: options.network, signal: options.signal, timeoutMs: options.timeoutMs})
    } catch (error) {
      const failure = error instanceof OutboundError ? error : undefined
      const message = providerMessage(failure?.message ?? 'the request failed', [token])
      if (failure?.reason === 'timeout') return result({message, outcome: 'timeout', reason: 'timeout'})
      return result({message, outcome: 'error', reason: failure?.reason ?? 'network'})
    }
  }

  const shopAnswer = await get(`/admin/api/${encodeURIComponent(options.endpoints.shopifyApiVersion)}/shop.json`)
  if (!isResponse(shopAnswer)) return shopAnswer
  if (shopAnswer.status !== 200) return refused(shopAnswer, token, result)
  if (!isRecord(jsonOf(shopAnswer.body)?.shop)) return unexpected(shopAnswer, token, result)

  const scopesAnswer = await get('/admin/oauth/access_scopes.json')
  if (!isResponse(scopesAnswer)) return scopesAnswer
  if (scopesAnswer.status !== 200) return refused(scopesAnswer, token, result)
  const granted = grantedScopes(jsonOf(scopesAnswer.body))
  if (!granted) return unexpected(scopesAnswer, token, result)
  const missing = required.filter((scope) => !implied(scope, granted))
  return result({
    httpStatus: 200,
    message: missing.length > 0 ? `Not granted: ${missing.join(', ')}.` : null,
    outcome: missing.length > 0 ? 'scopes_missing' : 'valid',
    reason: missing.length > 0 ? 'scopes_missing' : 'ok',
    scopesGranted: granted,
    scopesMissing: missing,
  })
}

/** The Admin API's base for a shop: SYNTHEX_SHOPIFY_API_URL with `{shop}` replaced, without a trailing slash. */
function shopBase(options: VerifyOptions, shop: string): string {
  return options.endpoints.shopifyApiUrl.replaceAll('{shop}', shop).replace(/\/+$/, '')
}

type Result = (fields: Partial<VerificationResult> & Pick<VerificationResult, 'outcome' | 'reason'>) => VerificationResult

/** An answer other than 200: what Shopify's status means, with its error text. */
function refused(answer: OutboundResponse, token: string, result: Result): VerificationResult {
  const known = REFUSALS[answer.status]
  const message = errorText(answer, token)
  if (known) return result({...known, httpStatus: answer.status, message})
  if (answer.status === 429) {
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after']).ms
    return result({httpStatus: 429, message, outcome: 'throttled', reason: 'rate_limited', ...(retryAfterMs === undefined ? {} : {retryAfterMs})})
  }

  if (answer.status >= 500) return result({httpStatus: answer.status, message, outcome: 'error', reason: 'server_error'})
  return unexpected(answer, token, result)
}

/** A 200 that is not Shopify's, a redirect, a status Shopify does not send here. */
function unexpected(answer: OutboundResponse, token: string, result: Result): VerificationResult {
  const type = answer.headers['content-type']?.split(';')[0]?.trim()
  const said = errorText(answer, token)
  const message = said ?? `HTTP ${answer.status}${type ? ` (${(providerMessage(type, [token]) ?? '').slice(0, 60)})` : ''} is not an answer of the Shopify Admin API.`
  return result({httpStatus: answer.status, message, outcome: 'error', reason: 'unexpected_answer'})
}

/** Shopify's `errors` (a string, a list or an object of lists), verbatim but scrubbed; null when the body has none. */
function errorText(answer: OutboundResponse, token: string): null | string {
  const json = jsonOf(answer.body)
  const errors = json?.errors ?? json?.error
  if (errors === undefined || errors === null) return null
  return providerMessage(typeof errors === 'string' ? errors : JSON.stringify(errors), [token])
}

/** `{"access_scopes":[{"handle":"read_products"},...]}` as the handles, or undefined if it is not that. */
function grantedScopes(json: Record<string, unknown> | undefined): string[] | undefined {
  const list = json?.access_scopes
  if (!Array.isArray(list)) return undefined
  const handles = list.map((entry) => (isRecord(entry) && typeof entry.handle === 'string' ? entry.handle : undefined))
  return handles.every((handle) => handle !== undefined) ? (handles as string[]) : undefined
}

/** Shopify grants `write_x` with `read_x` implied (the access scopes list may name only write_x). */
function implied(scope: string, granted: readonly string[]): boolean {
  if (granted.includes(scope)) return true
  const read = /^(unauthenticated_)?read_(.+)$/.exec(scope)
  return read !== null && granted.includes(`${read[1] ?? ''}write_${read[2]}`)
}

function jsonOf(body: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(body) as unknown
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isResponse(value: OutboundResponse | VerificationResult): value is OutboundResponse {
  return 'status' in value
}

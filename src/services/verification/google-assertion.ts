import {sign} from 'node:crypto'

import type {ServiceAccountKey} from './google-credential.js'

/**
 * The signed JWT a service account exchanges for an access token (RFC 7523; Google's
 * "Using OAuth 2.0 for Server to Server Applications"): RS256, `iss` the account's email,
 * `scope` the scopes asked for, space-separated, `aud` the token endpoint, valid one hour.
 * node:crypto signs it: a JWT library would be one more dependency for three lines.
 *
 * `aud` is the token endpoint synthex calls (SYNTHEX_GOOGLE_TOKEN_URL), never the key's
 * own `token_uri`: the key file is input like any other, and a hostile one naming its own
 * server would otherwise receive an assertion it could exchange at Google for an hour.
 */

/** Google accepts assertions valid for at most an hour. */
export const ASSERTION_LIFETIME_SECONDS = 3600

export interface AssertionClaims {
  readonly aud: string
  readonly exp: number
  readonly iat: number
  readonly iss: string
  readonly scope: string
}

export function signedAssertion(key: ServiceAccountKey, options: {audience: string; now?: number; scopes: readonly string[]}): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000)
  const header = key.privateKeyId === undefined ? {alg: 'RS256', typ: 'JWT'} : {alg: 'RS256', kid: key.privateKeyId, typ: 'JWT'}
  const claims: AssertionClaims = {aud: options.audience, exp: iat + ASSERTION_LIFETIME_SECONDS, iat, iss: key.clientEmail, scope: options.scopes.join(' ')}
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signature = sign('sha256', Buffer.from(input, 'utf8'), key.privateKey).toString('base64url')
  return `${input}.${signature}`
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

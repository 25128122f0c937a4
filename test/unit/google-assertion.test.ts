import {generateKeyPairSync, verify} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {ASSERTION_LIFETIME_SECONDS, signedAssertion} from '../../src/services/verification/google-assertion.js'
import {parseGoogleCredential, type ServiceAccountKey} from '../../src/services/verification/google-credential.js'

/**
 * The service account's JWT as synthex builds it. Google's stand-in (test/fakes/google-fake.ts)
 * is the proof that Google would accept it; this says what it claims.
 */

const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
const privateKeyPem = privateKey.export({format: 'pem', type: 'pkcs8'}).toString()
const keyFile = (fields: Record<string, unknown> = {}): string =>
  JSON.stringify({client_email: 'feeds@acme.iam.gserviceaccount.com', private_key: privateKeyPem, private_key_id: 'abc123', token_uri: 'https://evil.example/token', type: 'service_account', ...fields})

function key(fields: Record<string, unknown> = {}): ServiceAccountKey {
  const parsed = parseGoogleCredential(keyFile(fields))
  if ('problem' in parsed || parsed.kind !== 'service_account') throw new Error('expected a service account key')
  return parsed
}

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>

describe('the service account assertion', () => {
  const now = Date.UTC(2026, 4, 1, 12, 0, 0, 750)
  const scopes = ['https://www.googleapis.com/auth/content', 'https://www.googleapis.com/auth/userinfo.email']
  const jwt = signedAssertion(key(), {audience: 'http://127.0.0.1:9/token', now, scopes})
  const [header, claims, signature] = jwt.split('.')

  it('claims: iss the account, scope the scopes space-separated, aud the configured endpoint (not the key\'s token_uri), one hour', () => {
    expect(decode(claims)).toEqual({
      aud: 'http://127.0.0.1:9/token',
      exp: Math.floor(now / 1000) + 3600,
      iat: Math.floor(now / 1000),
      iss: 'feeds@acme.iam.gserviceaccount.com',
      scope: scopes.join(' '),
    })
    expect(ASSERTION_LIFETIME_SECONDS).toBe(3600)
  })

  it('header: RS256 with the key id as kid; signed by the key', () => {
    expect(decode(header)).toEqual({alg: 'RS256', kid: 'abc123', typ: 'JWT'})
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature ?? '', 'base64url'))).toBe(true)
  })

  it('a key file without private_key_id: no kid', () => {
    const [bare] = signedAssertion(key({private_key_id: undefined}), {audience: 'a', scopes}).split('.')
    expect(decode(bare)).toEqual({alg: 'RS256', typ: 'JWT'})
  })
})

describe('Google credential files', () => {
  it('reads a service account key and an authorized user file', () => {
    expect(parseGoogleCredential(keyFile())).toMatchObject({clientEmail: 'feeds@acme.iam.gserviceaccount.com', kind: 'service_account', privateKeyId: 'abc123'})
    expect(parseGoogleCredential(JSON.stringify({client_id: 'id', client_secret: 'secret', refresh_token: 'token', type: 'authorized_user'}))).toEqual({
      clientId: 'id',
      clientSecret: 'secret',
      kind: 'authorized_user',
      refreshToken: 'token',
    })
  })

  it('refuses what Google would not sign with, never quoting the value', () => {
    const ec = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({format: 'pem', type: 'pkcs8'}).toString()
    const cases: Array<[string, RegExp]> = [
      ['SECRET', /^not JSON/],
      ['"SECRET"', /^not a JSON object/],
      ['{"private_key":"SECRET"}', /^no "type"/],
      [keyFile({private_key: 'SECRET'}), /private_key is not a private key in PEM/],
      [keyFile({private_key: ec}), /not an RSA key/],
      [keyFile({client_email: 'SECRET'}), /client_email is not an email address/],
      [keyFile({private_key_id: 'SECRET"}'}), /private_key_id is not a key id/],
      [JSON.stringify({client_id: 'id', client_secret: 'SECRET', type: 'authorized_user'}), /has no refresh_token/],
      [JSON.stringify({type: 'impersonated_service_account', source_credentials: 'SECRET'}), /type impersonated_service_account is not supported/],
    ]
    for (const [value, problem] of cases) {
      const parsed = parseGoogleCredential(value)
      expect('problem' in parsed && parsed.problem, value).toMatch(problem)
      expect(JSON.stringify(parsed)).not.toContain('SECRET')
    }
  })
})

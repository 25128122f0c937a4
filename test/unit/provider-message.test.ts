import {generateKeyPairSync} from 'node:crypto'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {providerMessage, scrubSecrets} from '../../src/net/provider-message.js'

/** What a verification keeps of a provider's answer: verbatim, and never a secret. */

const privateKeyPem = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({format: 'pem', type: 'pkcs8'}).toString()

describe('a provider\'s message', () => {
  it('keeps Shopify\'s text verbatim but never the token, any token-shaped text, or a URL\'s path', () => {
    const token = 'shpat_0123456789abcdef0123456789abcdef'
    expect(providerMessage('[API] Invalid API key or access token (unrecognized login or wrong password)', [token])).toBe(
      '[API] Invalid API key or access token (unrecognized login or wrong password)',
    )
    const echoed = providerMessage(`token ${token} refused; try shpca_ffff0000 or Bearer abc.def at https://shop.example/admin?token=${token}`, [token])
    expect(echoed).not.toContain(token)
    expect(echoed).not.toContain('shpca_ffff0000')
    expect(echoed).not.toContain('abc.def')
    expect(echoed).toContain('https://shop.example/...')
    expect(providerMessage('x'.repeat(2000), [token])).toHaveLength(500)
  })

  it('never contains a secret of eight characters or more, whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({minLength: 8}), fc.string(), (before, secret, after) => {
        expect(providerMessage(`${before}${secret}${after}`.slice(0, 400), [secret])).not.toContain(secret)
      }),
    )
  })
})

describe('Google\'s messages', () => {
  it('one line, secrets taken out however encoded, URLs to their host', () => {
    const body = `{\n  "error": "invalid_request",\n  "error_description": "Bad request: refresh_token=1%2F%2F0abc-def-ghi&client_secret=GOCSPX-x1y2z3w4 ${JSON.stringify(privateKeyPem).slice(1, -1)} see https://accounts.google.com/o/oauth2/revoke?token=abc"\n}`
    const message = providerMessage(body, ['GOCSPX-x1y2z3w4', '1//0abc-def-ghi', privateKeyPem]) ?? ''
    expect(message).toBe('{"error":"invalid_request","error_description":"Bad request: refresh_token=[redacted]&client_secret=[redacted] [redacted] see https://accounts.google.com/..."}')
  })

  it('tokens of Google\'s shapes are taken out even when nobody said they were secrets', () => {
    expect(scrubSecrets('a ya29.a0AfH6SMB-x_y.z and eyJhbGciOi.eyJpc3MiOi.c2lnbmF0dXJl and 1//0gLmNoPqRsT', [])).toBe('a [redacted] and [redacted] and [redacted]')
  })

  it('a body cut in the middle of a secret loses the piece too', () => {
    const secret = 'GOCSPX-0123456789abcdef'
    expect(scrubSecrets(`echo: ${secret.slice(0, 12)}`, [secret])).toBe('echo: [redacted]')
  })

  it('at most 500 characters; an empty body is no message', () => {
    expect([...(providerMessage('é'.repeat(2000), []) ?? '')]).toHaveLength(500)
    expect(providerMessage(' \n ', [])).toBeNull()
  })
})

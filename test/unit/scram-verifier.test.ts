import {createHash, createHmac} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {scramSha256Verifier} from '../../src/crypto/scram-verifier.js'

/**
 * RFC 7677's example exchange (user "user", password "pencil"): a server holding only the
 * verifier must accept the client's proof and answer with the server signature the RFC gives.
 */
describe('the SCRAM-SHA-256 verifier of create-readonly-role', () => {
  it('lets a server check RFC 7677\'s client proof and sign its answer, knowing only the verifier', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')
    const verifier = scramSha256Verifier('pencil', {iterations: 4096, salt})
    const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier)
    expect(match?.[1]).toBe('W22ZaJ0SNY7soEsUEjb6gQ==')
    const storedKey = Buffer.from(match?.[2] ?? '', 'base64')
    const serverKey = Buffer.from(match?.[3] ?? '', 'base64')

    const authMessage =
      'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0'
    const clientProof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64')
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest()
    const clientKey = Buffer.from(clientProof.map((byte, index) => byte ^ (clientSignature[index] as number)))
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true)
    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')
  })

  it('salts every verifier anew, and holds nothing of the password', () => {
    const first = scramSha256Verifier('canary-password-3141')
    expect(first).not.toBe(scramSha256Verifier('canary-password-3141'))
    expect(first).not.toContain('canary')
    expect(first).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/)
  })
})

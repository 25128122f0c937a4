import {randomBytes} from 'node:crypto'
import {mkdtempSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ConfigError} from '../../src/config/config-error.js'
import {UnsealError} from '../../src/crypto/crypto-errors.js'
import {fingerprint, seal, unseal} from '../../src/crypto/envelope.js'
import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import {loadKeyring} from '../../src/crypto/load-keyring.js'
import {keyEnvironment} from '../../src/config/environment.js'

const keyA = randomBytes(32)
const keyB = randomBytes(32)
const aad = 'synthex:credential:v1|workspace=w|tenant=t|service=shopify|label=default'
const subject = 'tenant acme-us, service shopify'

function unsealError(run: () => unknown): UnsealError {
  try {
    run()
  } catch (error) {
    if (error instanceof UnsealError) return error
    throw error
  }

  throw new Error('expected an UnsealError')
}

describe('sealing', () => {
  it('round-trips a value in the v1:<keyId>:<base64url> form, with a fresh nonce each time', () => {
    const keyring = new Keyring({id: 'a', key: keyA})
    const first = seal(keyring, 'shpat_secret', aad)
    const second = seal(keyring, 'shpat_secret', aad)
    expect(first.value).toMatch(/^v1:a:[\w-]+$/)
    expect(first.value).not.toBe(second.value)
    expect(first.value).not.toContain('shpat')
    expect(unseal(keyring, first.value, aad, subject)).toBe('shpat_secret')
    // 12-byte nonce + 12-byte ciphertext + 16-byte tag
    expect(Buffer.from(first.value.split(':')[2] as string, 'base64url')).toHaveLength(12 + 12 + 16)
  })

  it('refuses a value bound to another row, a flipped byte and an unknown key, naming the credential', () => {
    const keyring = new Keyring({id: 'a', key: keyA})
    const {value} = seal(keyring, 'secret', aad)

    const moved = unsealError(() => unseal(keyring, value, aad.replace('tenant=t', 'tenant=u'), subject))
    expect(moved.message).toBe('Cannot decrypt the credential of tenant acme-us, service shopify: authentication failed: the stored value was altered, or belongs to another credential.')

    const packed = Buffer.from(value.split(':')[2] as string, 'base64url')
    packed[20] = (packed[20] as number) ^ 0x01
    expect(unsealError(() => unseal(keyring, `v1:a:${packed.toString('base64url')}`, aad, subject)).message).toContain('authentication failed')

    const unknown = unsealError(() => unseal(keyring, value.replace('v1:a:', 'v1:zz:'), aad, subject))
    expect(unknown.message).toBe('Cannot decrypt the credential of tenant acme-us, service shopify: it was encrypted with key zz, which is not configured.')
    expect(unknown.hint).toContain('SYNTHEX_ENCRYPTION_KEYS')

    expect(unsealError(() => unseal(keyring, 'plaintext', aad, subject)).message).toContain('not in a format')
    for (const error of [moved, unknown]) expect(`${error.message} ${error.hint}`).not.toContain('secret')
  })

  it('opens with an older key kept for decryption, under its explicit or its derived id', () => {
    const old = seal(new Keyring({id: 'old', key: keyA}), 'secret', aad)
    const derived = seal(new Keyring({id: derivedKeyId(keyA), key: keyA}), 'secret', aad)
    const rotated = new Keyring({id: 'new', key: keyB}, [{id: 'old', key: keyA}])
    expect(unseal(rotated, old.value, aad, subject)).toBe('secret')
    expect(unseal(rotated, derived.value, aad, subject)).toBe('secret')
    expect(seal(rotated, 'secret', aad).keyId).toBe('new')
  })

  it('fingerprints are short, keyed, and not a part of the secret', () => {
    const a = new Keyring({id: 'a', key: keyA})
    const b = new Keyring({id: 'b', key: keyB})
    expect(fingerprint(a, 'abcdef0123456789')).toMatch(/^[0-9a-f]{12}$/)
    expect(fingerprint(a, 'x')).toBe(fingerprint(a, 'x'))
    expect(fingerprint(a, 'x')).not.toBe(fingerprint(b, 'x'))
    expect('abcdef0123456789').not.toContain(fingerprint(a, 'abcdef0123456789'))
  })
})

describe('loading keys', () => {
  const embedded = () => {
    const home = mkdtempSync(join(tmpdir(), 'synthex-keys-'))
    return {dataDir: join(home, 'pgdata'), home, kind: 'embedded' as const, lockTimeoutMs: 1000}
  }

  const server = {kind: 'server' as const, setting: 'DATABASE_URL', url: 'postgres://db/x'}

  it('creates the embedded key file with mode 0600 only when about to encrypt', () => {
    const target = embedded()
    expect(loadKeyring({}, target, {createKeyFile: false}).keyring.active).toBeUndefined()
    const created = loadKeyring({}, target, {createKeyFile: true})
    expect(created.keyring.active).toBeDefined()
    expect(created.notices[0]).toContain('Created the encryption key')
    expect(statSync(join(target.home, 'encryption.key')).mode & 0o777).toBe(0o600)
    const again = loadKeyring({}, target, {createKeyFile: true})
    expect(again.keyring.active?.id).toBe(created.keyring.active?.id)
    expect(again.notices).toEqual([])
  })

  it('prefers SYNTHEX_ENCRYPTION_KEY and keeps the key file for decryption', () => {
    const target = embedded()
    const fileKey = loadKeyring({}, target, {createKeyFile: true}).keyring.active
    const {keyring} = loadKeyring(keyEnvironment({SYNTHEX_ENCRYPTION_KEY: `main:${keyB.toString('base64')}`}), target, {createKeyFile: true})
    expect(keyring.active?.id).toBe('main')
    expect(keyring.has(fileKey?.id as string)).toBe(true)
  })

  it('never creates a key for a server database', () => {
    expect(loadKeyring({}, server, {createKeyFile: true}).keyring.active).toBeUndefined()
    expect(loadKeyring(keyEnvironment({SYNTHEX_ENCRYPTION_KEY: keyA.toString('base64')}), server, {createKeyFile: true}).keyring.active?.id).toBe(derivedKeyId(keyA))
  })

  it('names the variable of a malformed key without echoing it', () => {
    for (const [name, value] of [
      ['SYNTHEX_ENCRYPTION_KEY', 'dG9vIHNob3J0'],
      ['SYNTHEX_ENCRYPTION_KEY', 'not base64 at all!!'],
      ['SYNTHEX_ENCRYPTION_KEYS', keyA.toString('base64')],
    ] as const) {
      let caught: unknown
      try {
        loadKeyring(keyEnvironment({[name]: value}), server, {createKeyFile: false})
      } catch (error) {
        caught = error
      }

      expect(caught).toBeInstanceOf(ConfigError)
      expect((caught as ConfigError).setting).toBe(name)
      expect((caught as Error).message).not.toContain(value)
    }
  })

  it('refuses one id for two different keys, which would seal under the wrong one', () => {
    const env = {SYNTHEX_ENCRYPTION_KEY: `primary:${keyB.toString('base64')}`, SYNTHEX_ENCRYPTION_KEYS: `primary:${keyA.toString('base64')}`}
    expect(() => loadKeyring(keyEnvironment(env), server, {createKeyFile: false})).toThrow('the key id "primary" is used for two different keys')
    // Even if built directly, the active key keeps its id.
    const keyring = new Keyring({id: 'primary', key: keyB}, [{id: 'primary', key: keyA}])
    const sealed = seal(keyring, 'x', aad)
    expect(unseal(new Keyring({id: 'primary', key: keyB}), sealed.value, aad, subject)).toBe('x')
  })

  it('warns when the key file can be read by others', () => {
    const target = embedded()
    writeFileSync(join(target.home, 'encryption.key'), `k1:${keyA.toString('base64')}\n`, {mode: 0o644})
    expect(loadKeyring({}, target, {createKeyFile: false}).notices[0]).toContain('chmod 600')
  })
})

import {createCipheriv, createDecipheriv, createHmac, randomBytes} from 'node:crypto'

import {MissingKeyError, UnsealError} from './crypto-errors.js'
import type {Keyring, MasterKey} from './keyring.js'

/**
 * Sealing secrets: AES-256-GCM with a 12-byte random nonce and a 16-byte tag, under a key
 * derived per purpose from the active master key. Stored form:
 *
 *     v1:<keyId>:<base64url(nonce | ciphertext | tag)>
 *
 * The additional authenticated data names what the secret belongs to (for credentials: its
 * workspace, tenant, service and label). It is rebuilt by the reader, never stored, so a
 * sealed value copied onto another row does not open.
 */

const VERSION = 'v1'
const NONCE_BYTES = 12
const TAG_BYTES = 16
const SEAL_PURPOSE = 'credentials:seal:v1'
const FINGERPRINT_PURPOSE = 'credentials:fingerprint:v1'

export interface Sealed {
  readonly keyId: string
  readonly value: string
}

export function seal(keyring: Keyring, plaintext: string, aad: string): Sealed {
  const {id} = activeKey(keyring)
  const key = keyring.derive(id, SEAL_PURPOSE) as Buffer
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, nonce, {authTagLength: TAG_BYTES})
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const packed = Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')
  return {keyId: id, value: `${VERSION}:${id}:${packed}`}
}

/**
 * Opens a sealed value. `subject` names its owner in errors (e.g. "tenant acme-us, service
 * shopify"); a failure never says anything about the plaintext.
 */
export function unseal(keyring: Keyring, sealed: string, aad: string, subject: string): string {
  const [version, keyId, packed, ...rest] = sealed.split(':')
  if (version !== VERSION || !keyId || packed === undefined || rest.length > 0) {
    throw new UnsealError(subject, 'the stored value is not in a format this synthex knows (expected v1:<keyId>:<data>)', 'Restore the credential from a backup, or set it again with `synthex credentials rotate`.')
  }

  const key = keyring.derive(keyId, SEAL_PURPOSE)
  if (!key) {
    throw new UnsealError(
      subject,
      `it was encrypted with key ${keyId}, which is not configured`,
      `Add that key to SYNTHEX_ENCRYPTION_KEYS (as ${keyId}:<base64>), or make it SYNTHEX_ENCRYPTION_KEY.`,
      {keyId},
    )
  }

  const bytes = Buffer.from(packed, 'base64url')
  if (bytes.length < NONCE_BYTES + TAG_BYTES) {
    throw new UnsealError(subject, 'the stored value is truncated', 'Restore the credential from a backup, or set it again with `synthex credentials rotate`.')
  }

  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES), {authTagLength: TAG_BYTES})
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    throw new UnsealError(
      subject,
      'authentication failed: the stored value was altered, or belongs to another credential',
      'Someone or something changed the database row. Restore it from a backup, or set the credential again with `synthex credentials rotate`.',
      {keyId},
    )
  }
}

/**
 * A short, keyed fingerprint of a secret (HMAC-SHA256 under a key derived from the master
 * key), to tell versions apart and spot a reused secret. Keyed, so that a copy of the
 * database alone cannot be used to guess weak secrets from their fingerprints.
 */
export function fingerprint(keyring: Keyring, plaintext: string): string {
  const key = keyring.derive(activeKey(keyring).id, FINGERPRINT_PURPOSE) as Buffer
  return createHmac('sha256', key).update(plaintext, 'utf8').digest('hex').slice(0, 12)
}

function activeKey(keyring: Keyring): MasterKey {
  if (!keyring.active) {
    throw new MissingKeyError(
      'No active encryption key is configured (SYNTHEX_ENCRYPTION_KEY), so nothing can be encrypted.',
      'Older keys in SYNTHEX_ENCRYPTION_KEYS only decrypt; set SYNTHEX_ENCRYPTION_KEY to the key to encrypt with.',
    )
  }

  return keyring.active
}

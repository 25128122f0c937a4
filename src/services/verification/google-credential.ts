import {createPrivateKey, type KeyObject} from 'node:crypto'

/**
 * The Google credential files `credentials set --service google|gmc --from-file` stores
 * (docs/google-credentials.md): a service account key, as the Cloud console downloads it,
 * or an authorized user's file, as `gcloud auth application-default login` writes it.
 * Read here once, before anything goes on the network: a value that is neither is refused
 * without a call, and the reason never quotes the value.
 */

export interface ServiceAccountKey {
  readonly clientEmail: string
  readonly kind: 'service_account'
  readonly privateKey: KeyObject
  /** The PEM as stored: a secret to keep out of every message. */
  readonly privateKeyPem: string
  /** The key's id, sent as the JWT's `kid` so that Google picks the right public key. */
  readonly privateKeyId: string | undefined
}

export interface AuthorizedUser {
  readonly clientId: string
  readonly clientSecret: string
  readonly kind: 'authorized_user'
  readonly refreshToken: string
}

export type GoogleCredential = AuthorizedUser | ServiceAccountKey

/** Google's other credential files: named when refused, so that the operator knows why. */
const UNSUPPORTED_TYPES = new Set(['external_account', 'external_account_authorized_user', 'impersonated_service_account', 'gdch_service_account'])

const EXPECTED = 'expected a Google service account key ("type": "service_account") or an authorized user file ("type": "authorized_user")'

/** The credential, or why it is not one Google would accept (never quoting the value). */
export function parseGoogleCredential(value: string): GoogleCredential | {problem: string} {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return {problem: `not JSON: ${EXPECTED}`}
  }

  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {problem: `not a JSON object: ${EXPECTED}`}
  const fields = parsed as Record<string, unknown>
  const text = (name: string): string | undefined => (typeof fields[name] === 'string' && (fields[name] as string).trim() !== '' ? (fields[name] as string) : undefined)
  const type = fields.type
  if (typeof type === 'string' && UNSUPPORTED_TYPES.has(type)) return {problem: `a credential of type ${type} is not supported: ${EXPECTED}`}

  if (type === 'service_account') {
    const missing = ['client_email', 'private_key'].filter((name) => text(name) === undefined)
    if (missing.length > 0) return {problem: `the service account key has no ${missing.join(' and no ')}`}
    const clientEmail = text('client_email') as string
    // It becomes the JWT's issuer: an address, nothing that could bend the JSON or a header.
    if (!/^[^\s@"\\]{1,200}@[^\s@"\\]{1,200}$/.test(clientEmail)) return {problem: 'the service account key\'s client_email is not an email address'}
    const privateKeyPem = text('private_key') as string
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey({format: 'pem', key: privateKeyPem})
    } catch {
      return {problem: 'the service account key\'s private_key is not a private key in PEM'}
    }

    if (privateKey.asymmetricKeyType !== 'rsa') return {problem: 'the service account key\'s private_key is not an RSA key (Google signs with RS256)'}
    const privateKeyId = text('private_key_id')
    if (privateKeyId !== undefined && !/^[\w-]{1,200}$/.test(privateKeyId)) return {problem: 'the service account key\'s private_key_id is not a key id'}
    return {clientEmail, kind: 'service_account', privateKey, privateKeyId, privateKeyPem}
  }

  if (type === 'authorized_user') {
    const missing = ['client_id', 'client_secret', 'refresh_token'].filter((name) => text(name) === undefined)
    if (missing.length > 0) return {problem: `the authorized user file has no ${missing.join(', no ')}`}
    return {clientId: text('client_id') as string, clientSecret: text('client_secret') as string, kind: 'authorized_user', refreshToken: text('refresh_token') as string}
  }

  return {problem: type === undefined ? `no "type": ${EXPECTED}` : EXPECTED}
}

import {createHmac, timingSafeEqual} from 'node:crypto'

/**
 * The signatures of a delivery (the Standard Webhooks specification, and the older
 * `sha256=` scheme many receivers verify):
 *
 * - `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
 *   secret's bytes (a `whsec_` secret is base64 after its prefix), one per valid secret,
 *   space-separated during a rotation's overlap;
 * - `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>`, keyed with the newest secret
 *   as written (`whsec_...`, the whole string), as GitHub-style receivers use theirs.
 */

export const SECRET_PREFIX = 'whsec_'

/** The key bytes of a `whsec_` secret (base64 after the prefix). */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a signing secret starts with whsec_')
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
}

export interface SignedHeaders {
  readonly 'webhook-id': string
  readonly 'webhook-signature': string
  readonly 'webhook-timestamp': string
  readonly 'x-webhook-signature': string
}

/** The headers of one attempt: `secrets` newest first (the previous one during an overlap). */
export function signDelivery(messageId: string, timestampSeconds: number, body: string, secrets: readonly string[]): SignedHeaders {
  const [newest] = secrets
  if (newest === undefined) throw new Error('a delivery is signed with at least one secret')
  const signed = `${messageId}.${timestampSeconds}.${body}`
  return {
    'webhook-id': messageId,
    'webhook-signature': secrets.map((secret) => `v1,${createHmac('sha256', secretKey(secret)).update(signed).digest('base64')}`).join(' '),
    'webhook-timestamp': String(timestampSeconds),
    'x-webhook-signature': `sha256=${createHmac('sha256', newest).update(body).digest('hex')}`,
  }
}

/** Whether a `sha256=` signature is the body's under `secret` (for the README's example and tests). */
export function verifyLegacySignature(body: string, header: string, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(header)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

import {scrubUrls} from '../../net/scrub.js'

/** At most this much of a provider's message is kept (migrations/0013_credential_verification.sql). */
export const MAX_MESSAGE_LENGTH = 500

/**
 * Token shapes that must never be stored even when they are not the credential being
 * verified (a provider echoing another token): Shopify's access tokens and secrets
 * (shpat_, shpca_, shppa_, shpss_), Google's access tokens (ya29.) and refresh tokens (1//),
 * and whatever follows "Bearer".
 */
const TOKEN_SHAPES = /\b(?:shp(?:at|ca|pa|ss)_[\w-]+|ya29\.[\w.-]+|1\/\/[\w.-]{10,})|(\bBearer\s+)[\w.~+/=-]+/gi

/**
 * A provider's answer as it may be stored and shown: verbatim, but with the credential (and
 * anything shaped like a token) replaced by [redacted], URLs reduced to their host
 * (src/net/scrub.ts), and at most 500 characters. `secrets` are the values the provider was
 * sent; a provider that echoes one gets it taken out here, whatever else it wrote.
 */
export function providerMessage(text: string, secrets: readonly string[]): string {
  let scrubbed = text
  for (const secret of secrets) {
    // A secret of a character or two would shred the message; no credential is that short.
    if (secret.length >= 8) scrubbed = scrubbed.split(secret).join('[redacted]')
  }

  scrubbed = scrubUrls(scrubbed).replaceAll(TOKEN_SHAPES, (_match, bearer: string | undefined) => (bearer ? `${bearer}[redacted]` : '[redacted]'))
  return scrubbed.length > MAX_MESSAGE_LENGTH ? `${scrubbed.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : scrubbed
}
